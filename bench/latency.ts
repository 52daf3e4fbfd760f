// `npm run bench:latency` (part of `npm run bench`): int8 / FP32 latency measured by `onnxq bench` itself,
// as a user runs it (dist/cli.js, each model in its own process, interleaved rounds, the p50 ratio with its
// 95% bootstrap interval), written to bench/latency-results.json beside the ideals measured on this kind of
// machine by the best-of-N loop of bench/quantize.ts (../shared/docs/design.md):
//   the FFN block 768 -> 3072 -> 768 at 1024 tokens, dynamic int8 (ideal 0.35) and static QDQ (0.41-0.43);
//   8 dense 3x3 Conv layers 64 -> 64 at 56 x 56, static QDQ (0.17-0.19);
//   PP-OCRv4 det (320 x 320) and rec (48 x 320), static QDQ (from ../shared/models; skipped without them).
// Models are quantized with `onnxq quantize` on seeded random calibration samples: enough for speed, which
// does not depend on the ranges. Environment: ONNXQ_BENCH_ONLY (regular expression over the case names),
// ONNXQ_BENCH_SMOKE=1 (tiny FFN and Conv blocks, a few runs each, no shared models, results in a temporary folder).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelProtoType, type ModelProto } from '../src/onnx/proto';
import type { BenchResult } from '../src/protocol/bench';
import { convModel, ffnModel } from './quantize-models';
import { resultsFile, SMOKE } from './util';

const ROOT = path.join(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const RESULTS = resultsFile('latency-results.json');
const MODELS = path.resolve(ROOT, process.env.ONNXQ_MODELS ?? '../shared/models');
const ONLY = process.env.ONNXQ_BENCH_ONLY ? new RegExp(process.env.ONNXQ_BENCH_ONLY) : undefined;

interface Case {
  name: string;
  fp32: () => string;
  /** Extra `onnxq quantize` arguments, one list per quantized variant. */
  variants: Record<string, string[]>;
  /** The input spec for the benchmark and calibration. */
  dims: string;
  calibDims?: string;
  /** The ratio measured on this kind of machine by bench/quantize.ts (best of N), [low, high]. */
  ideal: Record<string, [number, number]>;
}

/** A smoke run goes through the same commands with the smallest counts `onnxq bench` takes. */
const BENCH_ARGS = SMOKE ? ['--warmup', '0', '--iterations', '5', '--rounds', '5'] : [];
const CALIB = SMOKE ? '2' : '8';

const onnxq = (args: string[]) => execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });

function main(): void {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run npm run build first (npm run bench does)');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-latency-'));
  const write = (proto: ModelProto, name: string) => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, ModelProtoType.encode(proto as never).finish());
    return file;
  };
  const shared = (rel: string) => () => {
    if (SMOKE) throw new Skip('smoke run: the shared models are not used');
    const file = path.join(MODELS, rel);
    if (!fs.existsSync(file)) throw new Skip(`${file} is not here (../shared/models, or ONNXQ_MODELS)`);
    return file;
  };
  const cases: Case[] = [
    {
      name: 'ffn', fp32: () => write(ffnModel(SMOKE ? { hidden: 32, ffn: 64, seed: 11 } : { hidden: 768, ffn: 3072, seed: 11 }), 'ffn.onnx'),
      dims: SMOKE ? 'tokens=16' : 'tokens=1024', calibDims: SMOKE ? 'tokens=8' : 'tokens=64',
      variants: { dynamic: ['--mode', 'dynamic'], static: ['--mode', 'static', '--calib-random', CALIB] },
      ideal: { dynamic: [0.35, 0.35], static: [0.41, 0.43] },
    },
    {
      name: 'conv3x3', fp32: () => write(convModel(SMOKE ? { channels: 8, size: 8, layers: 2, seed: 4 } : { channels: 64, size: 56, layers: 8, seed: 4 }), 'conv3x3.onnx'),
      dims: 'batch=1', variants: { static: ['--mode', 'static', '--calib-random', CALIB] }, ideal: { static: [0.17, 0.19] },
    },
    {
      name: 'ppocr-det', fp32: shared('ppocr/ch_PP-OCRv4_det_infer.onnx'), dims: 'x:0=1,x:2=320,x:3=320',
      variants: { static: ['--mode', 'static', '--calib-random', '8'] }, ideal: {},
    },
    {
      name: 'ppocr-rec', fp32: shared('ppocr/ch_PP-OCRv4_rec_infer.onnx'), dims: 'x:0=1,x:2=48,x:3=320',
      variants: { static: ['--mode', 'static', '--calib-random', '8'] }, ideal: {},
    },
  ];
  const out: Record<string, unknown> = {};
  try {
    for (const c of cases) {
      if (ONLY && !ONLY.test(c.name)) continue;
      let fp32: string;
      try { fp32 = c.fp32(); } catch (e) {
        if (!(e instanceof Skip)) throw e;
        console.log(`${c.name}: skipped: ${e.message}`);
        out[c.name] = { skipped: e.message };
        continue;
      }
      const files = [fp32];
      for (const [variant, args] of Object.entries(c.variants)) {
        const file = path.join(tmp, `${c.name}.${variant}.onnx`);
        onnxq(['quantize', fp32, '-o', file, ...args, '--dims', c.calibDims ?? c.dims, '--check-samples', '0', '--json']);
        files.push(file);
      }
      const t0 = performance.now();
      const result = JSON.parse(onnxq(['bench', ...files, '--dims', c.dims, ...BENCH_ARGS, '--json'])) as BenchResult;
      const seconds = (performance.now() - t0) / 1000;
      const variants = Object.keys(c.variants);
      const rows = result.ratios.map((q) => {
        const variant = variants[q.run - 1];
        return {
          variant, p50Ratio: round(q.p50), ci: q.ci.map(round), verdict: q.verdict, ideal: SMOKE ? null : c.ideal[variant] ?? null,
          p50Ms: round(result.runs[q.run].latencyMs.p50), fp32P50Ms: round(result.runs[0].latencyMs.p50),
          cv: round(result.runs[q.run].latencyMs.cv), fp32Cv: round(result.runs[0].latencyMs.cv),
          fused: result.runs[q.run].graph?.fused ?? null, unfused: result.runs[q.run].graph?.unfused.length ?? null,
          sizeRatio: round(result.runs[q.run].sizeBytes / result.runs[0].sizeBytes),
        };
      });
      for (const r of rows) {
        console.log(`${c.name} ${r.variant}: int8/fp32 p50 ${r.p50Ratio} (95% ${r.ci[0]}-${r.ci[1]}, ${r.verdict}); ${r.p50Ms} vs ${r.fp32P50Ms} ms; cv ${r.cv}/${r.fp32Cv}${r.ideal ? `; ideal ${r.ideal[0]}-${r.ideal[1]}` : ''}`);
      }
      out[c.name] = { dims: c.dims, seconds: round(seconds), iterations: result.runs.map((r) => r.iterations), cpu: result.cpu.best, ratios: rows, diagnostics: result.diagnostics.map((d) => d.text) };
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  fs.writeFileSync(RESULTS, `${JSON.stringify({ date: new Date().toISOString(), machine: `${os.cpus()[0]?.model} x ${os.cpus().length}`, cases: out }, null, 2)}\n`);
  console.log(`written ${path.relative(ROOT, RESULTS)}`);
}

class Skip extends Error {}
const round = (x: number) => Math.round(x * 1000) / 1000;

main();
