// `npm run bench:quantize`: the quantizer's figures, written to bench/quantize-results.json.
//
// 1. Quantizer speed: dynamic int8 of the generated ~400 MB fp32 transformer (bench/transformer.ts, cached
//    in ONNXQ_BENCH_CACHE, default bench/.cache), end to end (read, quantize, write), against a plain read
//    + write of the same file (loadModel + writeModel), interleaved, each in a fresh process (peak RSS).
//    MB/s counts the fp32 bytes of the weights that were quantized.
// 2. Latency int8 / fp32 in onnxruntime-node (CPU, optimization "all"), the models run interleaved in one
//    process, >= 20 timed runs each after warm-up; ratio of best times (the target) and of medians:
//    an FFN block 768 -> 3072 -> 768 at 1024 tokens, dynamic int8 (target <= 0.45), and one linear layer
//    4096 -> 11008 at one token, MatMulNBits int4 block 32 with accuracy_level 4 (target <= 0.3).
// 3. Static QDQ (calibrated, Q/DQ around Conv/MatMul/Gemm and on their outputs) latency int8 / fp32, the same
//    way: the FFN block (target <= 0.55), dense 3x3 Conv layers (8 of 64 -> 64 at 56 x 56, a ResNet stage; target <= 0.3), and the
//    PP-OCRv4 recognizer (48 x 320) and detector (320 x 320) and Silero VAD (if-less, 512 samples), calibrated
//    on synthetic inputs like their training data (src/runtime/synthetic.ts); the two PP-OCRv4 models also
//    with the accuracy targets of the tests (the layers kept in float, and what that costs in latency).
// 3b. Static QOperator (the QDQ model rewritten into QLinearConv/QLinearMatMul/...) against fp32 and QDQ, the
//    three interleaved: the FFN block and the dense 3x3 Conv layers (ONNXQ_BENCH_ONLY=qoperator: this only,
//    written to bench/quantize-qoperator-results.json).
// 4. Sizes and cosine similarity of the outputs on the same seeded inputs.
//
// Environment: ONNXQ_BENCH_RUNS (quantizer runs, default 3), ONNXQ_BENCH_LATENCY_RUNS (default 30),
// ONNXQ_BENCH_STRICT=1 (exit 1 when a target is missed), ONNXQ_BENCH_ONLY=static (section 3 only, written to
// bench/quantize-static-results.json), ONNXQ_BENCH_SMOKE=1 (every section once on tiny models, two timed
// runs, no shared models, results in a temporary folder, no targets). MB = 10^6 bytes.
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../src/onnx/load';
import { modelFromProto } from '../src/onnx/builder';
import type { ModelProto } from '../src/onnx/proto';
import { writeModel } from '../src/onnx/write';
import { quantizeFile, type QuantizeOptions, type QuantizeReport } from '../src/quantize/index';
import { checkSession, optimizedOpCounts } from '../src/runtime/check';
import { seededRandom } from '../src/runtime/random';
import { convModel, ffnModel, matmulModel } from './quantize-models';
import { OutputComparer } from '../src/runtime/compare';
import { ortCalibrationRunner } from '../src/runtime/calibration';
import { IMAGENET_MEAN, IMAGENET_STD, speechSignal, textLine, textPage, toRgbTensor } from './synthetic';
import { ensureTransformer, SMOKE_SPEC } from './transformer';
import { cacheDir, resultsFile, SMOKE } from './util';

const ROOT = path.join(__dirname, '..');
const CACHE_DIR = cacheDir();
const RESULTS = resultsFile('quantize-results.json');
const RUNS = SMOKE ? 1 : Math.max(1, Number(process.env.ONNXQ_BENCH_RUNS ?? 3) || 3);
const LAT_RUNS = SMOKE ? 2 : Math.max(20, Number(process.env.ONNXQ_BENCH_LATENCY_RUNS ?? 30) || 30);
// The generated models' shapes; a smoke run takes the same sections on tiny ones.
const FFN = SMOKE ? { hidden: 32, ffn: 64, tokens: 16, calibTokens: 8 } : { hidden: 768, ffn: 3072, tokens: 1024, calibTokens: 64 };
const CONV = SMOKE ? { channels: 8, size: 8, layers: 2 } : { channels: 64, size: 56, layers: 8 };
const LINEAR = SMOKE ? { K: 64, N: 96 } : { K: 4096, N: 11008 };
const ffnSource = () => ffnModel({ hidden: FFN.hidden, ffn: FFN.ffn, seed: 11 });
const convSource = () => convModel({ ...CONV, seed: 4 });
const ffnInput = (tokens: number, seed: number) => ({ x: randomInput([1, tokens, FFN.hidden], seed) });
const convInput = (seed: number) => ({ x: randomInput([1, CONV.channels, CONV.size, CONV.size], seed) });
/** ONNXQ_BENCH_ONLY=static: only the static QDQ figures (section 3). */
const ONLY = process.env.ONNXQ_BENCH_ONLY;
const MB = 1e6;

type ChildTask = { kind: 'copy'; file: string; out: string } | { kind: 'quantize'; file: string; out: string; options: QuantizeOptions };
interface ChildResult { seconds: number; maxRssBytes: number; report?: QuantizeReport }

// ---- child side ---------------------------------------------------------------------------------
async function child(task: ChildTask): Promise<ChildResult> {
  const t = performance.now();
  let report: QuantizeReport | undefined;
  if (task.kind === 'copy') writeModel(loadModel(task.file), task.out);
  else report = await quantizeFile(task.file, task.out, task.options);
  const seconds = (performance.now() - t) / 1000;
  return { seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024, report };
}

function runChild(task: ChildTask): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = fork(__filename, ['--child', JSON.stringify(task)], {
      execArgv: ['--max-old-space-size=8192', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: ChildResult | undefined;
    p.on('message', (m) => { result = m as ChildResult; });
    p.on('error', reject);
    p.on('exit', (code) => (result ? resolve(result) : reject(new Error(`child ${task.kind} exited with ${code}`))));
  });
}

// ---- helpers -------------------------------------------------------------------------------------
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const r3 = (x: number) => Math.round(x * 1000) / 1000;

function randomInput(shape: number[], seed: number): ort.Tensor {
  const rand = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new ort.Tensor('float32', Float32Array.from({ length: n }, () => rand() * 2 - 1), shape);
}

async function session(file: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
}

/** Runs the sessions interleaved: warm-up, then `runs` timed runs each. Milliseconds per run. */
async function interleaved(sessions: Record<string, ort.InferenceSession>, feeds: Record<string, ort.Tensor>, runs: number): Promise<Record<string, { bestMs: number; medianMs: number; samples: number[] }>> {
  const names = Object.keys(sessions);
  for (let w = 0; w < 3; w++) for (const n of names) await sessions[n].run(feeds);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < runs; r++) {
    for (const n of names) {
      const t = performance.now();
      await sessions[n].run(feeds);
      samples[n].push(performance.now() - t);
    }
  }
  return Object.fromEntries(names.map((n) => [n, { bestMs: r3(Math.min(...samples[n])), medianMs: r3(median(samples[n])), samples: samples[n].map(r3) }]));
}

/** The cosine of the worst output of `b` against `a`, each output pooled over `n` inputs (runtime/compare). */
async function worstOutputCosine(a: ort.InferenceSession, b: ort.InferenceSession, feeds: (i: number) => Record<string, ort.Tensor>, n: number): Promise<number> {
  const comparer = new OutputComparer([...a.outputNames]);
  for (let i = 0; i < n; i++) {
    const f = feeds(i);
    comparer.add(await a.run(f), await b.run(f));
  }
  return Number(Math.min(...comparer.results().map((o) => o.pooled.cosine)).toFixed(6));
}

function outputsCosine(a: ort.InferenceSession, b: ort.InferenceSession, shape: number[], inputs: number): Promise<number> {
  return worstOutputCosine(a, b, (i) => ({ x: randomInput(shape, 1000 + i) }), inputs);
}

function writeProto(proto: ModelProto, file: string): number {
  return writeModel(modelFromProto(proto), file).bytes;
}

// ---- parent ---------------------------------------------------------------------------------------
async function quantizerSpeed(tmp: string) {
  console.log(`generating / reusing the ${SMOKE ? 'tiny' : '~400 MB'} transformer ...`);
  const gen = ensureTransformer(CACHE_DIR, SMOKE ? SMOKE_SPEC : undefined);
  const copies: ChildResult[] = [], quants: ChildResult[] = [];
  for (let r = 0; r < RUNS; r++) {
    copies.push(await runChild({ kind: 'copy', file: gen.file, out: path.join(tmp, 'copy.onnx') }));
    quants.push(await runChild({ kind: 'quantize', file: gen.file, out: path.join(tmp, 'transformer.int8.onnx'), options: { mode: 'dynamic' } }));
    console.log(`  run ${r + 1}: read+write ${copies[r].seconds.toFixed(2)} s, read+quantize+write ${quants[r].seconds.toFixed(2)} s`);
  }
  const report = quants[0].report!;
  const weightBytes = report.weightBytesBefore;
  const best = Math.min(...quants.map((q) => q.seconds)), bestCopy = Math.min(...copies.map((c) => c.seconds));
  const out = path.join(tmp, 'transformer.int8.onnx');
  await checkSession(out);
  const ops = await optimizedOpCounts(out);
  return {
    file: path.relative(ROOT, gen.file), fileBytes: gen.bytes, quantizedFp32WeightBytes: weightBytes,
    quantizedNodes: report.quantized.length, sizeAfter: report.sizeAfter, sizeRatio: r3(report.sizeAfter / report.sizeBefore),
    quantize: {
      bestSeconds: r3(best), medianSeconds: r3(median(quants.map((q) => q.seconds))),
      weightMBps: r3(weightBytes / MB / best), medianWeightMBps: r3(weightBytes / MB / median(quants.map((q) => q.seconds))),
      phases: quants.map((q) => q.report!.seconds),
      peakRssBytes: Math.max(...quants.map((q) => q.maxRssBytes)), peakRssOverFile: r3(Math.max(...quants.map((q) => q.maxRssBytes)) / gen.bytes),
    },
    readWrite: {
      bestSeconds: r3(bestCopy), medianSeconds: r3(median(copies.map((c) => c.seconds))), fileMBps: r3(gen.bytes / MB / bestCopy),
      peakRssBytes: Math.max(...copies.map((c) => c.maxRssBytes)),
    },
    quantizeOverReadWrite: r3(best / bestCopy),
    onnxruntime: { loads: true, optimizedOps: ops },
  };
}

/** Quantizes `fp32` once per variant (to `<prefix>.<variant>.onnx`) and opens a session on each file
 *  and on the original: size ratios, the ops onnxruntime fused them into, and the sessions. */
async function quantizeVariants(fp32: string, fileBytes: number, variants: Record<string, QuantizeOptions>, prefix: string) {
  const files: Record<string, string> = { fp32 };
  const sizes: Record<string, number> = {};
  const fused: Record<string, Record<string, number>> = {};
  for (const [name, options] of Object.entries(variants)) {
    files[name] = `${prefix}.${name}.onnx`;
    const r = await quantizeFile(fp32, files[name], options, { verify: checkSession });
    sizes[name] = r3(r.sizeAfter / fileBytes);
    fused[name] = await optimizedOpCounts(files[name]);
  }
  const sessions = Object.fromEntries(await Promise.all(Object.entries(files).map(async ([n, f]) => [n, await session(f)] as const)));
  return { sizes, fused, sessions };
}

/** Per variant: its times, ratios to fp32, size ratio, output cosine over 64 inputs and fused ops; releases the sessions. */
async function variantFigures(names: string[], times: Awaited<ReturnType<typeof interleaved>>,
  q: Awaited<ReturnType<typeof quantizeVariants>>, shape: number[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    out[name] = {
      ...times[name], ratioBest: r3(times[name].bestMs / times.fp32.bestMs), ratioMedian: r3(times[name].medianMs / times.fp32.medianMs),
      sizeRatio: q.sizes[name], cosine64: Number((await outputsCosine(q.sessions.fp32, q.sessions[name], shape, 64)).toFixed(6)),
      optimizedOps: q.fused[name],
    };
  }
  for (const s of Object.values(q.sessions)) await s.release();
  return out;
}

async function ffnLatency(tmp: string) {
  const fp32 = path.join(tmp, 'ffn.onnx');
  const fileBytes = writeProto(ffnSource(), fp32);
  const variants: Record<string, QuantizeOptions> = { int8: { mode: 'dynamic' }, int8PerChannel: { mode: 'dynamic', perChannel: true } };
  const { sizes, fused, sessions } = await quantizeVariants(fp32, fileBytes, variants, path.join(tmp, 'ffn'));
  const shape = [1, FFN.tokens, FFN.hidden];
  const times = await interleaved(sessions, { x: randomInput(shape, 7) }, LAT_RUNS);
  const result: Record<string, unknown> = { shape, runsEach: LAT_RUNS, fp32: times.fp32 };
  Object.assign(result, await variantFigures(Object.keys(variants), times, { sizes, fused, sessions }, shape));
  return result;
}

async function int4Latency(tmp: string) {
  const fp32 = path.join(tmp, 'linear.onnx');
  const fileBytes = writeProto(matmulModel({ ...LINEAR, seed: 12 }), fp32);
  const variants: Record<string, QuantizeOptions> = {
    int4Level4: { mode: 'weight-only', weightType: 'int4', blockSize: 32, accuracyLevel: 4 },
    int4Level0: { mode: 'weight-only', weightType: 'int4', blockSize: 32, accuracyLevel: 0 },
    int8Dynamic: { mode: 'dynamic' },
  };
  const { sizes, fused, sessions } = await quantizeVariants(fp32, fileBytes, variants, path.join(tmp, 'linear'));
  const shape = [1, LINEAR.K];
  const times = await interleaved(sessions, { x: randomInput(shape, 8) }, Math.max(LAT_RUNS, 40));
  const result: Record<string, unknown> = { shape: [1, LINEAR.K, LINEAR.N], fp32: times.fp32, fp32Bytes: fileBytes };
  Object.assign(result, await variantFigures(Object.keys(variants), times, { sizes, fused, sessions }, shape));
  return result;
}

type Feeds = Record<string, ort.Tensor>;

/** Static QDQ of `fp32` calibrated on `calibrate(i)`, then fp32 and int8 interleaved on `feeds`; cosine over `evalFeeds`. */
async function staticLatency(name: string, fp32: string, tmp: string, calibrate: (i: number) => Feeds, samples: number, feeds: Feeds, evalFeeds: (i: number) => Feeds, options: QuantizeOptions = {}) {
  const q = path.join(tmp, `${name}.static.onnx`);
  const report = await quantizeFile(fp32, q, { mode: 'static', ...options }, {
    verify: checkSession,
    calibration: { runner: ortCalibrationRunner, random: false, source: 'synthetic', feeds: function* () { for (let i = 0; i < samples; i++) yield calibrate(i); } },
  });
  const fused = await optimizedOpCounts(q);
  const sessions = { fp32: await session(fp32), int8: await session(q) };
  const times = await interleaved(sessions, feeds, LAT_RUNS);
  const cosine16 = await worstOutputCosine(sessions.fp32, sessions.int8, evalFeeds, 16);
  for (const s of Object.values(sessions)) await s.release();
  const result = {
    fp32: { bestMs: times.fp32.bestMs, medianMs: times.fp32.medianMs }, int8: { bestMs: times.int8.bestMs, medianMs: times.int8.medianMs },
    runsEach: LAT_RUNS, ratioBest: r3(times.int8.bestMs / times.fp32.bestMs), ratioMedian: r3(times.int8.medianMs / times.fp32.medianMs),
    sizeRatio: r3(report.sizeAfter / report.sizeBefore), cosine16,
    quantizedNodes: report.quantized.length, calibrateSeconds: report.seconds.calibrate, optimizedOps: fused,
    ...(report.accuracy ? { accuracyTarget: { ...report.accuracy, steps: report.accuracy.steps.length } } : {}),
  };
  const kept = report.accuracy ? `; ${report.accuracy.inFloat.length} nodes kept in float (cosine on the calibration samples ${report.accuracy.cosineBefore} -> ${report.accuracy.cosineAfter}, ${report.accuracy.evaluations} models compared in ${report.accuracy.seconds} s)` : '';
  console.log(`static QDQ ${name}: int8/fp32 best ${result.ratioBest} (${result.int8.bestMs} / ${result.fp32.bestMs} ms), median ${result.ratioMedian}; cosine ${result.cosine16}; size ${result.sizeRatio}x${kept}`);
  return result;
}

async function staticQdq(tmp: string) {
  const T = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
  const ffn = path.join(tmp, 'ffn.static-src.onnx');
  writeProto(ffnSource(), ffn);
  const conv = path.join(tmp, 'conv3x3.onnx');
  writeProto(convSource(), conv);
  const out: Record<string, unknown> = {
    ffn: await staticLatency('ffn', ffn, tmp, (i) => ffnInput(FFN.calibTokens, 100 + i), 8, ffnInput(FFN.tokens, 7), (i) => ffnInput(FFN.calibTokens, 300 + i)),
    conv3x3: await staticLatency('conv3x3', conv, tmp, (i) => convInput(100 + i), 8, convInput(7), (i) => convInput(300 + i)),
  };
  const models = process.env.ONNXQ_MODELS ?? path.join(ROOT, '..', 'shared', 'models');
  if (SMOKE) { console.log('(smoke run: skipping the PP-OCR and Silero figures of the shared models)'); return out; }
  if (!fs.existsSync(models)) { console.log(`(no ${models}: skipping the PP-OCR and Silero figures)`); return out; }
  const rec = (s: number) => ({ x: T(toRgbTensor(textLine(320, 48, s)), [1, 3, 48, 320]) });
  const det = (s: number) => ({ x: T(toRgbTensor(textPage(320, 320, s), IMAGENET_MEAN, IMAGENET_STD), [1, 3, 320, 320]) });
  const sr = new ort.Tensor('int64', BigInt64Array.of(16000n), []);
  const silero = (s: number) => ({ input: T(speechSignal(512, s >> 4, { t0: (s & 15) * 512 }), [1, 512]), sr, state: T(new Float32Array(256), [2, 1, 128]) });
  out.ppocrRec = await staticLatency('PP-OCRv4 rec 48x320', path.join(models, 'ppocr/ch_PP-OCRv4_rec_infer.onnx'), tmp, (i) => rec(10000 + i), 32, rec(7), (i) => rec(50000 + i));
  out.ppocrDet = await staticLatency('PP-OCRv4 det 320x320', path.join(models, 'ppocr/ch_PP-OCRv4_det_infer.onnx'), tmp, (i) => det(10000 + i), 16, det(7), (i) => det(50000 + i));
  // With the accuracy targets the tests use (on the calibration samples): the nodes kept in float and what that costs.
  const target = (accuracyTarget: number) => ({ calibration: { method: 'percentile' as const }, accuracyTarget });
  out.ppocrRecTarget = await staticLatency('PP-OCRv4 rec 48x320 (accuracy target 0.996)', path.join(models, 'ppocr/ch_PP-OCRv4_rec_infer.onnx'), tmp, (i) => rec(10000 + i), 32, rec(7), (i) => rec(50000 + i), target(0.996));
  out.ppocrDetTarget = await staticLatency('PP-OCRv4 det 320x320 (accuracy target 0.995)', path.join(models, 'ppocr/ch_PP-OCRv4_det_infer.onnx'), tmp, (i) => det(10000 + i), 16, det(7), (i) => det(50000 + i), target(0.995));
  out.silero = await staticLatency('Silero VAD if-less', path.join(models, 'silero/silero_vad_op18_ifless.onnx'), tmp, (i) => silero(10000 + i), 32, silero(7), (i) => silero(50000 + i));
  return out;
}

/**
 * Static QOperator vs QDQ vs fp32 on the same model and calibration: the three run interleaved on `feeds`;
 * cosine of QOperator against QDQ and against fp32 over `evalFeeds`.
 */
async function qoperatorLatency(name: string, fp32: string, tmp: string, calibrate: (i: number) => Feeds, samples: number, feeds: Feeds, evalFeeds: (i: number) => Feeds) {
  const files: Record<string, string> = { qdq: path.join(tmp, `${name}.qop-bench.qdq.onnx`), qoperator: path.join(tmp, `${name}.qop-bench.qop.onnx`) };
  let report: QuantizeReport | undefined;
  for (const format of ['qdq', 'qoperator'] as const) {
    report = await quantizeFile(fp32, files[format], { mode: 'static', format }, {
      verify: checkSession,
      calibration: { runner: ortCalibrationRunner, random: false, source: 'synthetic', feeds: function* () { for (let i = 0; i < samples; i++) yield calibrate(i); } },
    });
  }
  const sessions = { fp32: await session(fp32), qdq: await session(files.qdq), qoperator: await session(files.qoperator) };
  const times = await interleaved(sessions, feeds, LAT_RUNS);
  const vsQdq = await worstOutputCosine(sessions.qdq, sessions.qoperator, evalFeeds, 16);
  const vsFp32 = await worstOutputCosine(sessions.fp32, sessions.qoperator, evalFeeds, 16);
  for (const s of Object.values(sessions)) await s.release();
  const result = {
    fp32: { bestMs: times.fp32.bestMs, medianMs: times.fp32.medianMs },
    qdq: { bestMs: times.qdq.bestMs, medianMs: times.qdq.medianMs },
    qoperator: { bestMs: times.qoperator.bestMs, medianMs: times.qoperator.medianMs },
    runsEach: LAT_RUNS,
    qoperatorOverFp32: { best: r3(times.qoperator.bestMs / times.fp32.bestMs), median: r3(times.qoperator.medianMs / times.fp32.medianMs) },
    qdqOverFp32: { best: r3(times.qdq.bestMs / times.fp32.bestMs), median: r3(times.qdq.medianMs / times.fp32.medianMs) },
    cosineQoperatorVsQdq16: vsQdq, cosineQoperatorVsFp32_16: vsFp32,
    emitted: report!.emitted,
  };
  console.log(`static QOperator ${name}: QOperator/fp32 best ${result.qoperatorOverFp32.best} (${result.qoperator.bestMs} / ${result.fp32.bestMs} ms), median ${result.qoperatorOverFp32.median}; QDQ/fp32 best ${result.qdqOverFp32.best}, median ${result.qdqOverFp32.median}; cosine vs QDQ ${result.cosineQoperatorVsQdq16}, vs fp32 ${result.cosineQoperatorVsFp32_16}`);
  return result;
}

async function staticQOperator(tmp: string) {
  const ffn = path.join(tmp, 'ffn.qop-src.onnx');
  writeProto(ffnSource(), ffn);
  const conv = path.join(tmp, 'conv3x3.qop-src.onnx');
  writeProto(convSource(), conv);
  return {
    ffn: await qoperatorLatency('ffn', ffn, tmp, (i) => ffnInput(FFN.calibTokens, 100 + i), 8, ffnInput(FFN.tokens, 7), (i) => ffnInput(FFN.calibTokens, 300 + i)),
    conv3x3: await qoperatorLatency('conv3x3', conv, tmp, (i) => convInput(100 + i), 8, convInput(7), (i) => convInput(300 + i)),
  };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-qbench-'));
  try {
    const started = new Date().toISOString();
    if (ONLY === 'static') {
      const qdq = await staticQdq(tmp);
      const file = resultsFile('quantize-static-results.json');
      fs.writeFileSync(file, `${JSON.stringify({ started, finished: new Date().toISOString(), machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version }, staticQdq: qdq }, null, 2)}\n`);
      console.log(`\nwrote ${path.relative(ROOT, file)}`);
      return;
    }
    if (ONLY === 'qoperator') {
      const qop = await staticQOperator(tmp);
      const file = resultsFile('quantize-qoperator-results.json');
      fs.writeFileSync(file, `${JSON.stringify({ started, finished: new Date().toISOString(), machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, onnxruntime: ort.env.versions?.common }, staticQOperator: qop }, null, 2)}\n`);
      console.log(`\nwrote ${path.relative(ROOT, file)}`);
      return;
    }
    const speed = await quantizerSpeed(tmp);
    console.log(`quantizer: ${speed.quantize.weightMBps} MB/s of fp32 weights (best of ${RUNS}); read+write ${speed.readWrite.bestSeconds} s, quantize ${speed.quantize.bestSeconds} s; peak RSS ${(speed.quantize.peakRssOverFile)}x the file`);
    const ffn = await ffnLatency(tmp);
    const int8 = ffn.int8 as { ratioBest: number; ratioMedian: number; cosine64: number; sizeRatio: number };
    console.log(`FFN ${FFN.hidden}-${FFN.ffn}-${FFN.hidden} x ${FFN.tokens} tokens: int8/fp32 best ${int8.ratioBest}, median ${int8.ratioMedian}; cosine ${int8.cosine64}; size ${int8.sizeRatio}x`);
    const lin = await int4Latency(tmp);
    const qdq = await staticQdq(tmp);
    const qop = await staticQOperator(tmp);
    const sFfn = qdq.ffn as { ratioBest: number; cosine16: number }, sConv = qdq.conv3x3 as { ratioBest: number; cosine16: number };
    const int4 = lin.int4Level4 as { ratioBest: number; ratioMedian: number; cosine64: number; sizeRatio: number };
    console.log(`linear ${LINEAR.K}->${LINEAR.N} x 1 token: int4 (level 4)/fp32 best ${int4.ratioBest}, median ${int4.ratioMedian}; cosine ${int4.cosine64}; size ${int4.sizeRatio}x`);
    const targets = [
      { name: 'quantizer >= 200 MB/s of fp32 weights', value: speed.quantize.weightMBps, pass: speed.quantize.weightMBps >= 200 },
      { name: 'quantizer peak RSS <= 2x model size', value: speed.quantize.peakRssOverFile, pass: speed.quantize.peakRssOverFile <= 2 },
      { name: 'FFN dynamic int8 / fp32 <= 0.45 (best)', value: int8.ratioBest, pass: int8.ratioBest <= 0.45 },
      { name: 'int4 MatMulNBits level 4 / fp32 <= 0.3 (best, one token)', value: int4.ratioBest, pass: int4.ratioBest <= 0.3 },
      { name: 'FFN int8 size <= 0.27x', value: int8.sizeRatio, pass: int8.sizeRatio <= 0.27 },
      { name: 'linear int4 block 32 size <= 0.17x', value: int4.sizeRatio, pass: int4.sizeRatio <= 0.17 },
      { name: 'FFN int8 cosine >= 0.999', value: int8.cosine64, pass: int8.cosine64 >= 0.999 },
      { name: 'FFN static QDQ / fp32 <= 0.55 (best)', value: sFfn.ratioBest, pass: sFfn.ratioBest <= 0.55 },
      { name: 'dense 3x3 Conv static QDQ / fp32 <= 0.3 (best)', value: sConv.ratioBest, pass: sConv.ratioBest <= 0.3 },
    ];
    const results = {
      started, finished: new Date().toISOString(), machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, onnxruntime: ort.env.versions?.common },
      quantizer: speed, ffn, linearOneToken: lin, staticQdq: qdq, staticQOperator: qop, targets,
    };
    fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    console.log('');
    // The targets are set for the full-size models: a smoke run's tiny ones say nothing about them.
    if (SMOKE) console.log('smoke run: targets not judged');
    else for (const t of targets) console.log(`${t.pass ? 'pass' : 'FAIL'}  ${t.name}: ${t.value}`);
    console.log(`\nwrote ${path.relative(ROOT, RESULTS)}`);
    if (!SMOKE && process.env.ONNXQ_BENCH_STRICT === '1' && targets.some((t) => !t.pass)) process.exitCode = 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3]) as ChildTask).then((r) => { process.send!(r); }, (e) => { console.error(e); process.exitCode = 1; });
} else {
  main().catch((e) => { console.error(e); process.exitCode = 1; });
}
