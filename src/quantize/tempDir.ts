// Temporary folders of a quantization job, named after the process (`onnxq-<pid>-<what>-XXXXXX`), so that
// when a job process is killed (cancelled, crashed) its parent can tell which ones are left over
// (src/jobs/staleTemps.ts).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A new empty folder in `parent` (default: the system's temporary folder); `hidden` starts its name with a dot. */
export function makeTempDir(what: string, parent: string = os.tmpdir(), hidden = false): string {
  return fs.mkdtempSync(path.join(parent, `${hidden ? '.' : ''}onnxq-${process.pid}-${what}-`));
}
