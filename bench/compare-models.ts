// Per-output accuracy of every shared model quantized dynamically and statically (int8, QDQ, calibrated on
// 16 seeded random samples), compared with its FP32 source by runtime/compareModels on 8 other seeded
// samples: what `onnxq compare` prints, for each model, as one JSON file (bench/compare-results.json).
//   npm run bench:compare        (needs ../shared/models, or ONNXQ_MODELS)
// ONNXQ_BENCH_SMOKE=1: the sample only, 2 calibration and 2 compared samples, results in a temporary folder,
// and a mode that fails is an error.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InputSpec } from '../src/protocol/inputSpec';
import { quantizeFile, resolveOptions, type QuantizeOptions } from '../src/quantize/index';
import { calibrationFor } from '../src/runtime/calibration';
import { checkSession } from '../src/runtime/check';
import { compareModels } from '../src/runtime/compareModels';
import { resultsFile, SMOKE } from './util';

const root = path.resolve(__dirname, '..');
const modelsDir = path.resolve(process.env.ONNXQ_MODELS ?? path.join(root, '..', 'shared', 'models'));

/** The inputs each model needs (symbolic dims, a sample rate), as the shared models' README gives them. */
const SPECS: Record<string, InputSpec> = {
  'openwakeword/melspectrogram.onnx': { dims: { batch_size: 1, samples: 1280 } },
  'external/melspectrogram_external.onnx': { dims: { batch_size: 1, samples: 1280 } },
  'ppocr/ch_PP-OCRv4_det_infer.onnx': { dims: { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 64, 'p2o.DynamicDimension.2': 64 } },
  'ppocr/ch_PP-OCRv4_rec_infer.onnx': { dims: { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 96 } },
  'ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx': { dims: { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 48, 'p2o.DynamicDimension.2': 192 } },
  'silero/silero_vad_op18_ifless.onnx': { dims: { batch: 1, sequence: 512 }, values: { sr: 16000 } },
  'silero/silero_vad_v5.onnx': { dims: { 'input:0': 1, 'input:1': 512, 'state:1': 1 }, values: { sr: 16000 } },
};
/** The 1024 x 1024 background remover is already quantized and takes 8 s a run: left out. */
const SKIP = new Set(['imgly/isnet_quint8_dynamic_small.onnx']);

function sharedModels(): string[] {
  const out: string[] = [];
  for (const dir of ['cntk', 'external', 'openwakeword', 'ppocr', 'silero']) {
    const d = path.join(modelsDir, dir);
    if (fs.existsSync(d)) for (const f of fs.readdirSync(d).sort()) if (f.endsWith('.onnx')) out.push(`${dir}/${f}`);
  }
  return out.filter((m) => !SKIP.has(m));
}

async function main(): Promise<void> {
  // The sample is in every clone; the shared models are not.
  const models = SMOKE ? [{ rel: 'samples/mnist-8.onnx', src: path.join(root, 'samples', 'mnist-8.onnx') }]
    : sharedModels().map((rel) => ({ rel, src: path.join(modelsDir, rel) }));
  const calibrationSamples = SMOKE ? 2 : 16, samples = SMOKE ? 2 : 8;
  if (!SMOKE && !fs.existsSync(modelsDir)) {
    console.log(`no shared models at ${modelsDir}: nothing to measure`);
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-bench-compare-'));
  const results: Record<string, unknown> = {};
  let failed = false;
  try {
    for (const { rel, src } of models) {
      const spec = SPECS[rel] ?? {};
      const row: Record<string, unknown> = {};
      for (const mode of ['dynamic', 'static'] as const) {
        const out = path.join(tmp, `${rel.replace(/\W/g, '_')}.${mode}.onnx`);
        const options: QuantizeOptions = mode === 'static' ? { mode, calibration: { randomSamples: calibrationSamples } } : { mode };
        try {
          const report = await quantizeFile(src, out, options, {
            verify: checkSession, ...(mode === 'static' ? { calibration: calibrationFor(resolveOptions(options), spec) } : {}),
          });
          // Seeds after the calibration's 1..16: samples it never saw.
          const r = await compareModels(src, out, { spec: { ...spec, samples, seed: 101 } });
          row[mode] = {
            quantized: report.quantized.length, sizeRatio: Number((report.sizeAfter / report.sizeBefore).toFixed(3)),
            outputs: r.outputs.map((o) => ({
              name: o.name, cosineWorst: Number(o.worst.cosine.toFixed(6)), cosineMean: Number(o.mean.cosine.toFixed(6)), cosinePooled: Number(o.pooled.cosine.toFixed(6)),
              sqnrDbMean: Number.isFinite(o.mean.sqnrDb) ? Number(o.mean.sqnrDb.toFixed(2)) : null, maxAbs: Number(o.worst.maxAbs.toPrecision(4)),
            })),
          };
        } catch (e) {
          row[mode] = { error: (e as Error).message.split('\n')[0] };
          failed = true;
        }
        console.log(`${rel} ${mode}: ${JSON.stringify(row[mode])}`);
      }
      results[rel] = row;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const file = resultsFile('compare-results.json');
  fs.writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), machine: `${os.cpus()[0]?.model} x ${os.cpus().length}`, inputs: `seeded random (seeds 101..${100 + samples}); static calibrated on seeds 1..${calibrationSamples}`, results }, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
  if (SMOKE && failed) {
    console.error('smoke run: FAILED (errors above)');
    process.exitCode = 1;
  }
}

void main();
