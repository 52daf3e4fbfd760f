// `npm run sample`: the main job, end to end, on the sample model the repository ships, with no VS Code:
// inspect it, quantize it (static int8, calibrated on seeded random samples), compare the int8 copy with
// the FP32 model per output, and benchmark the two side by side; then a short summary. Runs the CLI
// (dist/cli.js, built by the npm script) as a user would; the quantized model is left in a temporary
// folder whose path is printed. Exit code: non-zero when any step fails.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli.js');
const sample = path.join(root, 'samples', 'mnist-8.onnx');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-sample-'));
const int8 = path.join(out, 'mnist-8.int8.onnx');

/** Runs `onnxq ARGS`, echoing the command; returns its stdout (parsed when --json). */
function onnxq(title, args, { show = true } = {}) {
  if (title) console.log(`\n== ${title}\n$ onnxq ${args.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ')}`);
  const text = execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
  if (show) process.stdout.write(text);
  return args.includes('--json') ? JSON.parse(text) : text;
}

try {
  const rel = (f) => path.relative(process.cwd(), f) || f;
  onnxq('Inspect: what is in the model', ['inspect', rel(sample)]);
  const q = onnxq('Quantize: static int8, calibrated on 32 seeded random samples (a real model wants real samples: --calib-data DIR)',
    ['quantize', rel(sample), '-o', int8, '--mode', 'static', '--calib-random', '32', '--json'], { show: false });
  console.log(`${q.quantized.length} nodes quantized; ${q.sizeBefore} -> ${q.sizeAfter} bytes`);
  onnxq('Compare: the int8 copy against the FP32 model, each output on its own', ['compare', rel(sample), int8, '--min-cosine', '0.99', '--top-k', '1']);
  // The same seeded samples again, for the summary's figures.
  const c = onnxq(null, ['compare', rel(sample), int8, '--top-k', '1', '--json'], { show: false });
  const b = onnxq('Benchmark: both models interleaved, each in its own process (onnxq bench without --json prints a table)', ['bench', rel(sample), int8, '--iterations', '50', '--json'], { show: false });
  for (const r of b.runs) console.log(`${r.label}: p50 ${r.latencyMs.p50.toFixed(3)} ms, p99 ${r.latencyMs.p99.toFixed(3)} ms, ${r.throughput.inferencesPerSec.toFixed(0)} inferences/s, session ${r.sessionMs.toFixed(1)} ms, peak RSS ${r.peakRssMb.toFixed(0)} MiB`);
  for (const d of b.diagnostics) console.log(`${d.level === 'warning' ? '!' : '-'} ${d.text}`);
  const o = c.outputs[0];
  const [fp32, q8] = b.runs;
  const ratio = b.ratios[0];
  console.log([
    '',
    '== Summary',
    `model     ${path.basename(sample)}: ${fs.statSync(sample).size} bytes -> ${path.basename(int8)}: ${fs.statSync(int8).size} bytes (${(fs.statSync(int8).size / fs.statSync(sample).size).toFixed(2)}x)`,
    `accuracy  ${o.name}: cosine ${o.worst.cosine.toFixed(5)} (worst of ${o.samples.length} samples), top-1 agreement ${(100 * o.topK.agreement).toFixed(0)}%`,
    `speed     p50 ${fp32.latencyMs.p50.toFixed(3)} ms -> ${q8.latencyMs.p50.toFixed(3)} ms: ratio ${ratio.p50.toFixed(2)} (95% ${ratio.ci[0].toFixed(2)}-${ratio.ci[1].toFixed(2)}, ${ratio.verdict === 'same' ? 'no measurable difference' : ratio.verdict}; mnist runs in well under a millisecond, where fixed per-run costs dominate: try a larger model)`,
    `output    ${int8}`,
  ].join('\n'));
} catch (e) {
  console.error(`\nsample: a step failed (${e.status !== undefined ? `exit code ${e.status}` : e.message}); the output folder is ${out}`);
  process.exit(1);
}
