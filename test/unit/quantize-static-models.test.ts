// Static QDQ on the real shared models. Every model that static quantization applies to gives a model that
// loads in onnxruntime-node with optimization "all" and runs. Then accuracy against fp32, calibrated on
// inputs like those each model was trained on (src/runtime/synthetic.ts: text lines and pages drawn from a
// stroke font for the PP-OCR models, handwritten-like digits for MNIST, speech-like audio for Silero and
// the melspectrogram) and evaluated on other inputs of the same generator: each output's cosine similarity
// over 64 inputs, and for the classifiers the same top-1 class on at least 99% of 256 inputs.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { inspectFileSync } from '../../src/onnx/inspect';
import { loadModel } from '../../src/onnx/load';
import { QuantizeError, quantizeFile, resolveOptions, type QuantizeOptions, type QuantizeReport } from '../../src/quantize/index';
import { calibrationFor, ortCalibrationRunner } from '../../src/runtime/calibration';
import { checkSession, optimizedOpCounts } from '../../src/runtime/check';
import { randomFeeds } from '../../src/runtime/inputs';
import { MAX_EVALUATIONS } from '../../src/quantize/static/fallback';
import { digitImage, IMAGENET_MEAN, IMAGENET_STD, speechSignal, textLine, textPage, toRgbTensor } from '../../bench/synthetic';
import { modelsDir, noModels, runHints, sharedModels } from './helpers/models';
import { assertSameOutputShapes } from './helpers/quantize';

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-qstatic-models-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Feeds = Record<string, ort.Tensor>;
const session = (f: string) => ort.InferenceSession.create(f, { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
const out = (rel: string, label: string) => path.join(tmp, `${rel.replace(/[/\\]/g, '_')}.${label}.onnx`);

describe('static QDQ of every shared model: the output loads with optimization "all" and runs', { skip: noModels }, () => {
  for (const rel of sharedModels()) {
    it(rel, async (t) => {
      const src = path.join(modelsDir, rel);
      const dst = out(rel, 'static-random');
      const hints = runHints[rel] ?? {};
            // The conformance cases calibrate on their own test_data_set folders; the others on seeded random samples.
      const dataDir = rel.startsWith('conformance/') ? path.dirname(src) : undefined;
      const options: QuantizeOptions = { mode: 'static', calibration: dataDir ? { dataDir } : { randomSamples: 2 } };
      const values = Object.fromEntries(Object.entries(hints.int64 ?? {}).map(([k, v]) => [k, new ort.Tensor('int64', BigInt64Array.of(v), [])]));
      const calibration = calibrationFor(resolveOptions(options), { dims: hints.dims, values: Object.fromEntries(Object.entries(hints.int64 ?? {}).map(([k, v]) => [k, Number(v)])) });
      // Static QDQ quantizes MatMul whatever feeds it, Conv and Gemm with a constant weight: a model with none
      // (the recurrent, already-quantized and weights-as-inputs conformance cases, IS-Net) is refused first.
      const m = loadModel(src);
      const constants = new Set([...m.weights()].map((w) => w.name));
      const compute = [...m.nodes()].filter(({ node: n }) => !n.domain && (n.op_type === 'MatMul' || (['Conv', 'Gemm'].includes(n.op_type ?? '') && constants.has(n.input?.[1] ?? '')))).length;
      if (compute === 0) {
        await assert.rejects(quantizeFile(src, dst, options, { verify: checkSession, calibration }), (e: unknown) => e instanceof QuantizeError && e.code === 'nothing-to-quantize');
        assert.equal(fs.existsSync(dst), false);
        return;
      }
      const report = await quantizeFile(src, dst, options, { verify: checkSession, calibration });
      assert.ok(fs.existsSync(dst));
      assert.ok(report.quantized.length > 0);
      const feeds = dataDir ? undefined : randomFeeds(inspectFileSync(src).inputs, { seed: 9, dims: hints.dims, values });
      if (!feeds) return; // the conformance cases ran in the calibration itself and loaded in the check
      const [a, b] = [await session(src), await session(dst)];
      try {
        const [ya, yb] = [await a.run(feeds), await b.run(feeds)];
        assertSameOutputShapes(ya, yb);
      } finally { await a.release(); await b.release(); }
      t.diagnostic(`quantized ${report.quantized.length}, skipped ${report.skipped.length}, size ${(report.sizeAfter / report.sizeBefore).toFixed(3)}x, emitted ${JSON.stringify(report.emitted)}`);
    });
  }
});

interface Case {
  rel: string;
  /** Told apart from another case of the same model. */
  label?: string;
  feeds: (seed: number) => Feeds;
  options?: QuantizeOptions;
  calibrate?: number;
  /**
   * Below the requirement (every output's cosine >= 0.99) as measured, with why: the case runs and reports
   * as a TODO (node:test prints it; it does not fail the suite) until the quantizer reaches 0.99 there.
   */
  open?: string;
  /** Ops onnxruntime must have fused the model into. */
  fused: string[];
  classes?: boolean;
  /** Consecutive chunks of utterances with the recurrent state carried (Silero). */
  stateful?: boolean;
  /** With an accuracy target: at most this many nodes may stay in float. */
  maxFloat?: number;
}

const T = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
const sr = new ort.Tensor('int64', BigInt64Array.of(16000n), []);
const zeroState = () => T(new Float32Array(256), [2, 1, 128]);
/**
 * The accuracy targets the PP-OCRv4 cases ask for, on the calibration samples: above the issue's 0.99,
 * because the cosine on the calibration samples runs 0.002 to 0.004 above the one on other inputs.
 */
const DET_TARGET = 0.995;
const REC_TARGET = 0.996;
/**
 * What the search that measured every group in float one by one left in float for these targets (156 and
 * 227 models compared): the ranked search may compare at most MAX_EVALUATIONS models and must not leave more.
 */
const DET_FLOAT_BEFORE = 6;
const REC_FLOAT_BEFORE = 26;

const CASES: Case[] = [
  {
    rel: 'cntk/mnist-8_cntk.onnx', classes: true, fused: ['com.microsoft:QLinearConv', 'QLinearMatMul'],
    feeds: (s) => ({ Input3: T(digitImage(s).pixels.map((v) => v * 255), [1, 1, 28, 28]) }),
  },
  {
    rel: 'ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx', classes: true, calibrate: 64, fused: ['com.microsoft:QLinearConv', 'QLinearMatMul'],
    feeds: (s) => ({ x: T(toRgbTensor(textLine(192, 48, s, { rotate180: s % 2 === 1, cjk: 0, fill: 0.9 })), [1, 3, 48, 192]) }),
  },
  {
    rel: 'ppocr/ch_PP-OCRv4_det_infer.onnx', label: 'every Conv in int8', fused: ['com.microsoft:QLinearConv'],
    open: 'measured 0.896: the stem\'s activations spread over channels by up to 100:1 through hardswish, which one per-tensor int8 scale cannot hold (the accuracy target case below reaches 0.99)',
    options: { calibration: { method: 'percentile' } },
    feeds: (s) => ({ x: T(toRgbTensor(textPage(128, 128, s), IMAGENET_MEAN, IMAGENET_STD), [1, 3, 128, 128]) }),
  },
  {
    // The accuracy target finds the stem by itself (measured: 6 of 62 Conv in float, Conv.0-4 and Conv.6;
    // 0.9953 on the calibration samples, 0.9935 on these; 28 models compared).
    rel: 'ppocr/ch_PP-OCRv4_det_infer.onnx', label: `accuracy target ${DET_TARGET}`, fused: ['com.microsoft:QLinearConv'],
    options: { calibration: { method: 'percentile' }, accuracyTarget: DET_TARGET }, maxFloat: DET_FLOAT_BEFORE,
    feeds: (s) => ({ x: T(toRgbTensor(textPage(128, 128, s), IMAGENET_MEAN, IMAGENET_STD), [1, 3, 128, 128]) }),
  },
  {
    rel: 'ppocr/ch_PP-OCRv4_rec_infer.onnx', open: 'measured 0.971 with the defaults, 0.982 with percentile calibration: per-tensor int8 activations of PP-LCNetV3\'s hardswish blocks lose 2-4 dB per block',
    fused: ['com.microsoft:QLinearConv', 'QLinearMatMul'],
    options: { calibration: { method: 'percentile' } },
    feeds: (s) => ({ x: T(toRgbTensor(textLine(320, 48, s)), [1, 3, 48, 320]) }),
  },
  {
    // No few layers carry the error (it is spread over the backbone): the accuracy target needs many in
    // float (measured: 22 of its 51 Conv/MatMul, 40 models compared; 0.9964 on the calibration samples).
    rel: 'ppocr/ch_PP-OCRv4_rec_infer.onnx', label: `accuracy target ${REC_TARGET}`, fused: ['com.microsoft:QLinearConv'],
    options: { calibration: { method: 'percentile' }, accuracyTarget: REC_TARGET }, maxFloat: REC_FLOAT_BEFORE,
    feeds: (s) => ({ x: T(toRgbTensor(textLine(320, 48, s)), [1, 3, 48, 320]) }),
  },
  {
    // SmoothQuant on the recognizer's 13 MatMul inputs (the SVTR neck; 7 activations smoothed): no gain to
    // speak of (measured 0.98225 against 0.98235 without, on these inputs; 0.9794 -> 0.9797 on the calibration
    // samples, as the report says). Its error arises in the conv stem (layer by layer, the output SQNR falls
    // from 37 dB after p2o.Conv.1 to 16 dB by p2o.Conv.5 and stays there), not in outlier channels of the MatMuls.
    rel: 'ppocr/ch_PP-OCRv4_rec_infer.onnx', label: 'SmoothQuant 0.5', open: 'measured 0.98225 (0.98235 without SmoothQuant): the error is in the conv stem, not in outlier channels of the MatMuls',
    fused: ['com.microsoft:QLinearConv', 'QLinearMatMul'],
    options: { calibration: { method: 'percentile' }, smoothQuant: 0.5 },
    feeds: (s) => ({ x: T(toRgbTensor(textLine(320, 48, s)), [1, 3, 48, 320]) }),
  },
  {
    rel: 'silero/silero_vad_op18_ifless.onnx', stateful: true,
    open: 'measured: the speech probability "output" 0.9515, the state "stateN" 0.9975 (joined, as this test used to measure, they read above 0.99)', fused: ['com.microsoft:QLinearConv', 'com.microsoft:QGemm'],
    feeds: (s) => ({ input: T(speechSignal(512, s >> 4, { t0: (s & 15) * 512 }), [1, 512]), sr, state: zeroState() }),
  },
  {
    rel: 'openwakeword/melspectrogram.onnx', open: 'measured about 0.95: STFT as Conv, power and log-mel (the accuracy target case below reaches 0.99)',
    fused: ['com.microsoft:QLinearConv', 'QLinearMatMul'],
    feeds: (s) => ({ input: T(speechSignal(1280 * 4, s), [1, 1280 * 4]) }),
  },
  {
    // With the accuracy target: measured, 0.99 needs two of its three compute nodes (an STFT Conv and the
    // mel MatMul) in float (7 models compared).
    rel: 'openwakeword/melspectrogram.onnx', label: 'accuracy target 0.99', fused: [],
    options: { accuracyTarget: 0.99 },
    feeds: (s) => ({ input: T(speechSignal(1280 * 4, s), [1, 1280 * 4]) }),
  },
];

/** The requirement: each output's cosine with the float model, over 64 inputs, at least this. */
const MIN_COSINE = 0.99;

describe('static int8 accuracy on synthetic inputs like the training data (each output on its own, over 64 inputs)', { skip: noModels }, () => {
  for (const c of CASES) {
    it(`${c.rel}${c.label ? ` (${c.label})` : ''}: each output's cosine >= ${MIN_COSINE}${c.classes ? ', same top-1 on >= 99% of 256' : ''}`, { todo: c.open }, async (t) => {
      const src = path.join(modelsDir, c.rel);
      const dst = out(c.rel, 'static-accuracy');
      const n = c.calibrate ?? 32;
      const report: QuantizeReport = await quantizeFile(src, dst, { mode: 'static', ...c.options }, {
        verify: checkSession,
        calibration: { runner: ortCalibrationRunner, random: false, source: 'synthetic', feeds: function* () { for (let i = 0; i < n; i++) yield c.feeds(10000 + i); } },
      });
      assert.equal(report.calibration!.samples, n);
      const ops = await optimizedOpCounts(dst);
      for (const op of c.fused) assert.ok(ops[op] > 0, `${op} in ${JSON.stringify(ops)}`);
      const [a, b] = [await session(src), await session(dst)];
      // Each output on its own (Silero's state beside its probability: a small output that collapses
      // beside a large one fails), pooled over the inputs.
      const sums = new Map<string, { ab: number; aa: number; bb: number }>();
      const add = (ya: Record<string, ort.Tensor>, yb: Record<string, ort.Tensor>) => {
        for (const k of Object.keys(ya)) {
          const x = ya[k].data as Float32Array, y = yb[k].data as Float32Array;
          const acc = sums.get(k) ?? { ab: 0, aa: 0, bb: 0 };
          for (let i = 0; i < x.length; i++) { acc.ab += x[i] * y[i]; acc.aa += x[i] * x[i]; acc.bb += y[i] * y[i]; }
          sums.set(k, acc);
        }
      };
      try {
        if (c.stateful) {
          for (let u = 0; u < 4; u++) {
            let [sa, sb]: ort.Tensor[] = [zeroState(), zeroState()];
            for (let k = 0; k < 16; k++) {
              const x = T(speechSignal(512, 500 + u, { t0: k * 512 }), [1, 512]);
              const [ya, yb] = [await a.run({ input: x, sr, state: sa }), await b.run({ input: x, sr, state: sb })];
              add(ya, yb);
              [sa, sb] = [ya.stateN, yb.stateN];
            }
          }
        } else {
          for (let i = 0; i < 64; i++) { const f = c.feeds(50000 + i); add(await a.run(f), await b.run(f)); }
        }
        const cosines = [...sums].map(([k, v]) => [k, v.ab / Math.sqrt(v.aa * v.bb)] as const);
        let top1 = '';
        if (c.classes) {
          let same = 0;
          const N = 256;
          for (let i = 0; i < N; i++) {
            const f = c.feeds(50000 + i);
            const [ya, yb] = [Object.values(await a.run(f))[0].data as Float32Array, Object.values(await b.run(f))[0].data as Float32Array];
            if (ya.indexOf(Math.max(...ya)) === yb.indexOf(Math.max(...yb))) same++;
          }
          top1 = `, top-1 ${same}/${N}`;
          assert.ok(same >= 0.99 * N, `same top-1 on ${same} of ${N}`);
        }
        const acc = report.accuracy;
        if (c.options?.accuracyTarget !== undefined) {
          assert.ok(acc?.met, JSON.stringify(acc));
          if (c.maxFloat !== undefined) assert.ok(acc!.inFloat.length <= c.maxFloat, `${acc!.inFloat.length} nodes in float: ${acc!.inFloat.join(', ')}`);
          assert.ok(acc!.evaluations <= MAX_EVALUATIONS, `${acc!.evaluations} models compared`);
          t.diagnostic(`accuracy target ${acc!.target}: cosine on ${acc!.samples} calibration samples ${acc!.cosineBefore} -> ${acc!.cosineAfter}, ${acc!.inFloat.length} nodes in float (${acc!.inFloat.join(', ')}), ${acc!.evaluations} models compared in ${acc!.seconds} s`);
        }
        const sq = report.smoothQuant?.comparison;
        if (sq) t.diagnostic(`SmoothQuant ${report.smoothQuant!.smoothed.length} activations; on ${sq.samples} calibration samples cosine ${sq.cosineWithout} -> ${sq.cosineWith}, SQNR ${sq.sqnrWithout} -> ${sq.sqnrWith} dB`);
        t.diagnostic(`cosine ${cosines.map(([k, v]) => `${k} ${v.toFixed(5)}`).join(', ')}${top1}; quantized ${report.quantized.length}, size ${(report.sizeAfter / report.sizeBefore).toFixed(3)}x; fused ${c.fused.map((op) => `${op} ${ops[op]}`).join(', ')}`);
        for (const [k, v] of cosines) assert.ok(v >= MIN_COSINE, `output "${k}": cosine ${v}`);
      } finally { await a.release(); await b.release(); }
    });
  }
});
