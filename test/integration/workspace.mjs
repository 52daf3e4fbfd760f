// Builds the throw-away workspace folder the integration and UI tests open:
//   mnist-8.onnx          the repo's sample (samples/mnist-8.onnx)
//   garbage.onnx          4 KiB of (seeded) random bytes: must open with an error, not a crash
//   models/<rel path>     every .onnx of the shared model folder, with its external-data files
//   .onnxqs-test.json     the manifest the suites read (test/integration/suite/helpers.cjs)
// The shared models folder is ONNXQ_MODELS, else ../shared/models beside the repo; when absent the
// model table is skipped with the reason printed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function listModels(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.onnx')) out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

/** Seeded xorshift32 bytes: the same "garbage" on every run. */
function garbageBytes(n, seed = 0x9e3779b9) {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; b[i] = x & 0xff; }
  return b;
}

/**
 * @param {{ shared?: boolean, only?: string[], log?: (s: string) => void }} [o] shared: copy the shared models
 *   (default true); only: copy just these of them (paths relative to the models folder; missing ones skipped)
 * @returns {{ dir: string, manifest: object, cleanup: () => void }}
 */
export function makeWorkspace(o = {}) {
  const log = o.log || ((s) => console.log(`[workspace] ${s}`));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxqs-ws-'));
  const manifest = { sample: null, garbage: 'garbage.onnx', models: [], modelsDir: null, modelsSkipped: null };

  const sample = path.join(repoRoot, 'samples', 'mnist-8.onnx');
  if (fs.existsSync(sample)) {
    fs.copyFileSync(sample, path.join(dir, 'mnist-8.onnx'));
    manifest.sample = 'mnist-8.onnx';
  } else {
    manifest.sampleMissing = `${path.relative(repoRoot, sample)} is missing`;
    log(`WARNING: ${manifest.sampleMissing}`);
  }
  fs.writeFileSync(path.join(dir, manifest.garbage), garbageBytes(4096));

  if (o.shared !== false) {
    const modelsDir = path.resolve(repoRoot, process.env.ONNXQ_MODELS || path.join('..', 'shared', 'models'));
    if (!fs.existsSync(modelsDir)) {
      manifest.modelsSkipped = `skipped: no models folder at ${modelsDir} (set ONNXQ_MODELS)`;
      log(`shared models ${manifest.modelsSkipped}`);
    } else {
      manifest.modelsDir = modelsDir;
      let bytes = 0;
      const wanted = o.only ? new Set(o.only.map((r) => r.split('/').join(path.sep))) : undefined;
      for (const rel of listModels(modelsDir).filter((r) => !wanted || wanted.has(r))) {
        const src = path.join(modelsDir, rel);
        const dst = path.join(dir, 'models', rel);
        fs.mkdirSync(path.dirname(dst), { recursive: true });
        fs.copyFileSync(src, dst);
        bytes += fs.statSync(src).size;
        // external data lives beside the model (mnist_external.onnx.data, ...): copy what is not
        // another model, a test vector or a document.
        for (const f of fs.readdirSync(path.dirname(src))) {
          const p = path.join(path.dirname(src), f);
          if (/\.(onnx|pb|md|txt|json)$/i.test(f) || f.startsWith('.') || !fs.statSync(p).isFile()) continue;
          const d = path.join(path.dirname(dst), f);
          if (!fs.existsSync(d)) { fs.copyFileSync(p, d); bytes += fs.statSync(p).size; }
        }
        manifest.models.push(`models/${rel.split(path.sep).join('/')}`);
      }
      log(`${manifest.models.length} shared models from ${modelsDir} (${(bytes / 1e6).toFixed(1)} MB)`);
    }
  }
  fs.writeFileSync(path.join(dir, '.onnxqs-test.json'), JSON.stringify(manifest, null, 2));
  return { dir, manifest, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
