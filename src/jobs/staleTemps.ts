// A job process killed while it works (cancelled, crashed) cannot clean up after itself. What it leaves
// is named after its pid: `.onnxq-<pid>-output-XXXXXX/` beside the output (where the model is written
// before it is renamed into place), `onnxq-<pid>-<what>-XXXXXX/` in the system's temporary folder
// (calibration, comparisons; src/quantize/tempDir.ts), and `.<name>.<pid>.<stamp>.tmp` files
// (src/onnx/write.ts). The parent removes those of processes that are gone.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
};

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function removeMatching(dir: string, pattern: RegExp): string[] {
  const removed: string[] = [];
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return removed; }
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    try {
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
      removed.push(path.join(dir, name));
    } catch {
      // Not ours to remove (another user's), or gone meanwhile: leave it.
    }
  }
  return removed;
}

/**
 * Removes what dead job processes left beside `output` (their output folders, temporary copies of it and
 * of its external data file) and in `tmpDir`; returns the paths removed.
 */
export function removeStaleTemps(output: string, tmpDir: string = os.tmpdir()): string[] {
  const dir = path.dirname(output);
  return [
    ...removeMatching(dir, /^\.onnxq-(\d+)-output-.+$/),
    ...removeMatching(dir, new RegExp(`^\\.${escape(path.basename(output))}(?:\\.data)?\\.(\\d+)\\.[0-9a-z]+\\.tmp$`)),
    ...removeMatching(tmpDir, /^onnxq-(\d+)-[a-z]+-.+$/),
  ];
}
