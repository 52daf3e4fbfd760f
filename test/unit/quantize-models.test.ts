// The quantizer on real models: every model of the shared folder in every mode (dynamic int8 per tensor,
// dynamic int8 per channel, weight-only int4) is quantized through quantizeFile with the onnxruntime check,
// and each output keeps its cosine with the float model (or the mode is refused as finding nothing).
// Then the accuracy and size targets: dynamic int8 of MatMul/Gemm models keeps each output's cosine >= 0.999
// over 64 seeded inputs; int8 <= 0.27x and int4 (block 32) <= 0.17x for weight-dominated generated models.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { modelFromProto } from '../../src/onnx/builder';
import { inspectFileSync } from '../../src/onnx/inspect';
import { loadModel } from '../../src/onnx/load';
import type { ModelProto } from '../../src/onnx/proto';
import { writeModel } from '../../src/onnx/write';
import { QuantizeError, quantizeFile, type QuantizeOptions } from '../../src/quantize/index';
import { checkSession } from '../../src/runtime/check';
import { randomFeeds, readTensorFile } from '../../src/runtime/inputs';
import { ffnModel, gemmMlpModel, matmulModel, speechLike } from '../../bench/quantize-models';
import { cosineSimilarity as cosine } from '../../src/runtime/compare';
import { modelsDir, noModels, runHints, sharedModels } from './helpers/models';
import { assertSameOutputShapes, worstOutputCosine } from './helpers/quantize';

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-qmodels-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const MODES: [string, QuantizeOptions][] = [
  ['dynamic', { mode: 'dynamic' }],
  ['dynamic with Conv', { mode: 'dynamic', opTypes: ['MatMul', 'Gemm', 'Conv'] }],
  ['dynamic per-channel with Conv', { mode: 'dynamic', perChannel: true, opTypes: ['MatMul', 'Gemm', 'Conv'] }],
  ['weight-only int4', { mode: 'weight-only' }],
];

async function session(file: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
}

/** Seeded feeds for a shared model (the models README's dims and fixed values), or a conformance case's own inputs. */
function feedsFor(rel: string, file: string, seed: number): Record<string, ort.Tensor> {
  const data = path.join(path.dirname(file), 'test_data_set_0');
  if (rel.startsWith('conformance/') && fs.existsSync(data)) {
    const names = (loadModel(file).proto.graph!.input ?? []).map((v) => v.name ?? '');
    const feeds: Record<string, ort.Tensor> = {};
    for (let i = 0; fs.existsSync(path.join(data, `input_${i}.pb`)); i++) {
      const t = readTensorFile(path.join(data, `input_${i}.pb`));
      feeds[t.name || names[i]] = t.tensor;
    }
    return feeds;
  }
  const hints = runHints[rel] ?? {};
  const values = Object.fromEntries(Object.entries(hints.int64 ?? {}).map(([k, v]) => [k, new ort.Tensor('int64', BigInt64Array.from([v]), [])]));
  return randomFeeds(inspectFileSync(file).inputs, { seed, dims: hints.dims, values });
}

function joined(outputs: Record<string, ort.Tensor>[]): Float32Array {
  const parts = outputs.flatMap((o) => Object.values(o).filter((t) => t.type === 'float32').map((t) => t.data as Float32Array));
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/**
 * Nodes of `opTypes` in any graph of `file` whose weight input (and an LSTM's R) is a constant: an
 * initializer, a Constant node's output, or what ops that only move data (Reshape, Unsqueeze, Slice,
 * Concat, ...) make of constants alone, as CNTK writes mnist's last weight and spox Silero's LSTM weights.
 * What a weight quantizer can find, counted here without the quantizer's code.
 */
function constWeightNodes(file: string, opTypes: readonly string[]): number {
  const m = loadModel(file);
  const constants = new Set<string>();
  const moves = new Set(['Identity', 'Reshape', 'Unsqueeze', 'Squeeze', 'Concat', 'Slice', 'Transpose']);
  for (const g of m.graphs()) for (const t of g.graph.initializer ?? []) constants.add(t.name ?? '');
  for (let grew = true; grew;) {
    grew = false;
    for (const { node: n } of m.nodes()) {
      const out = n.output?.[0] ?? '';
      if (constants.has(out)) continue;
      const isConst = n.op_type === 'Constant' || (moves.has(n.op_type ?? '') && (n.input ?? []).every((i) => !i || constants.has(i)));
      if (isConst) { constants.add(out); grew = true; }
    }
  }
  return [...m.nodes()].filter(({ node: n }) => opTypes.includes(n.op_type ?? '') && !n.domain && constants.has(n.input?.[1] ?? '')
    && (n.op_type !== 'LSTM' || constants.has(n.input?.[2] ?? ''))).length;
}

/**
 * The worst output's cosine a quantized model must keep, per mode. The reason: 8-bit weights with a scale
 * per tensor or per channel have a weight SQNR of 30-45 dB; a few dozen such layers in a row keep each
 * output's cosine above 0.99 unless one layer is badly served by its scheme, which is the failure this test
 * exists to catch (PP-OCRv4 det's Conv weights with one scale for all filters gave 0.46). 4-bit weights in
 * blocks of 32 are near 20 dB per layer, so their floor is lower: 0.95. Models whose output is a hard
 * function of small differences are named with the reason instead (the melspectrogram's log of the power
 * spectrum amplifies the error where the power is near zero).
 */
const MIN_COSINE: Record<string, number> = { dynamic: 0.99, 'dynamic with Conv': 0.99, 'dynamic per-channel with Conv': 0.99, 'weight-only int4': 0.95 };
const LOOSER: Record<string, { cosine: number; why: string }> = {
  'openwakeword/melspectrogram.onnx': { cosine: 0.9, why: 'log of the power spectrum: near-zero bins amplify any error' },
  'external/melspectrogram_external.onnx': { cosine: 0.9, why: 'the same model, external data' },
};

/**
 * Failures this test found that are not fixed yet: run and reported as TODO (node:test prints them, and
 * their failure does not fail the suite), with what was measured, until issue 13 fixes them.
 */
const OPEN: Record<string, string> = {
  'ppocr/ch_PP-OCRv4_det_infer.onnx: dynamic with Conv': 'dynamic ConvInteger on PP-OCRv4 det: output cosine 0.83 on random 320x320 inputs, per-channel or not',
  'ppocr/ch_PP-OCRv4_det_infer.onnx: dynamic per-channel with Conv': 'dynamic ConvInteger on PP-OCRv4 det: output cosine 0.83 on random 320x320 inputs, per-channel or not',
  'silero/silero_vad_op18_ifless.onnx: dynamic': 'the unrolled LSTM state "stateN": cosine 0.964 with per-tensor Gemm weights',
  'silero/silero_vad_op18_ifless.onnx: dynamic with Conv': 'the unrolled LSTM state "stateN": cosine 0.964 with per-tensor Gemm weights',
  'silero/silero_vad_op18_ifless.onnx: dynamic per-channel with Conv': 'the unrolled LSTM state "stateN": cosine 0.989 with per-channel Gemm weights',
  'silero/silero_vad_op18_ifless.onnx: weight-only int4': 'the unrolled LSTM state "stateN": cosine 0.929 with int4 Gemm weights',
};

describe('quantize every shared model in every mode: each output keeps its cosine, or the mode is refused as finding nothing', { skip: noModels }, () => {
  for (const rel of sharedModels()) {
    for (const [label, options] of MODES) {
      it(`${rel}: ${label}`, { todo: OPEN[`${rel}: ${label}`] }, async (t) => {
        const src = path.join(modelsDir, rel);
        const out = path.join(tmp, `${rel.replace(/[/\\]/g, '_')}.${label.replace(/\W+/g, '-')}.onnx`);
        const opTypes = options.opTypes ?? (options.mode === 'dynamic' ? ['MatMul', 'Gemm', 'LSTM'] : ['MatMul', 'Gemm']);
        if (constWeightNodes(src, opTypes) === 0) {
          // Nothing the mode quantizes: refused before any work, and nothing written.
          await assert.rejects(quantizeFile(src, out, options, { verify: checkSession }), (e: unknown) => e instanceof QuantizeError && e.code === 'nothing-to-quantize');
          assert.equal(fs.existsSync(out), false);
          return;
        }
        const report = await quantizeFile(src, out, options, { verify: checkSession });
        assert.ok(report.quantized.length > 0 && report.sizeAfter > 0 && report.sizeBefore > 0);
        const feeds = [feedsFor(rel, src, 7), feedsFor(rel, src, 8)];
        const floor = LOOSER[rel]?.cosine ?? MIN_COSINE[label];
        const [a, b] = [await session(src), await session(out)];
        try {
          const ya: Record<string, ort.Tensor>[] = [], yb: Record<string, ort.Tensor>[] = [];
          for (const f of feeds) { ya.push(await a.run(f)); yb.push(await b.run(f)); }
          assertSameOutputShapes(ya[0], yb[0]);
          const lines: string[] = [];
          // Each float output on its own: a small output that collapses is not hidden by a large one.
          for (const k of Object.keys(ya[0]).filter((k) => ya[0][k].type === 'float32')) {
            const c = cosine(joined(ya.map((y) => ({ [k]: y[k] }))), joined(yb.map((y) => ({ [k]: y[k] }))));
            lines.push(`${k} ${c.toFixed(5)}`);
            assert.ok(c >= floor, `${rel} ${label}: output "${k}" cosine ${c} < ${floor}${LOOSER[rel] ? ` (${LOOSER[rel].why})` : ''}`);
          }
          t.diagnostic(`quantized ${report.quantized.length}, size ${(report.sizeAfter / report.sizeBefore).toFixed(3)}x, cosine per output: ${lines.join(', ')}`);
        } finally {
          await a.release(); await b.release();
        }
      });
    }
  }
});

/** Writes a generated model and quantizes it; returns both paths and the report. */
async function generated(name: string, proto: ModelProto, options: QuantizeOptions) {
  const fp32 = path.join(tmp, `${name}.onnx`), q = path.join(tmp, `${name}.q.onnx`);
  if (!fs.existsSync(fp32)) writeModel(modelFromProto(proto), fp32);
  const report = await quantizeFile(fp32, q, options, { verify: checkSession });
  return { fp32, q, report };
}

const uniform = (dims: number[], seed: number) => randomFeeds([{ name: 'x', dtype: 'float', shape: dims }], { seed });

describe('quantize accuracy: dynamic int8 of MatMul/Gemm models, each output cosine >= 0.999 over 64 inputs', () => {
  for (const [label, options] of [['per tensor', {}], ['per channel', { perChannel: true }]] as [string, QuantizeOptions][]) {
    it(`generated FFN 256 -> 1024 -> 256, 16 tokens (${label})`, async (t) => {
      const { fp32, q, report } = await generated('ffn', ffnModel({ hidden: 256, ffn: 1024, seed: 5 }), options);
      assert.deepEqual(report.quantized, ['ffn.up.MatMul', 'ffn.down.MatMul']);
      const c = await worstOutputCosine(fp32, q, 64, (i) => uniform([1, 16, 256], 100 + i));
      t.diagnostic(`cosine ${c.toFixed(6)}`);
      assert.ok(c >= 0.999, `cosine ${c}`);
    });

    it(`generated linear 512 -> 512 (${label})`, async (t) => {
      const { fp32, q } = await generated('linear', matmulModel({ K: 512, N: 512, seed: 6 }), options);
      const c = await worstOutputCosine(fp32, q, 64, (i) => uniform([4, 512], 200 + i));
      t.diagnostic(`cosine ${c.toFixed(6)}`);
      assert.ok(c >= 0.999, `cosine ${c}`);
    });

    it(`generated Gemm MLP: transB, alpha, beta (${label})`, async (t) => {
      const { fp32, q } = await generated('gemm-mlp', gemmMlpModel(7), options);
      const c = await worstOutputCosine(fp32, q, 64, (i) => uniform([2, 64], 300 + i));
      t.diagnostic(`cosine ${c.toFixed(6)}`);
      assert.ok(c >= 0.999, `cosine ${c}`);
    });

    it(`hey_jarvis (6 Gemm, 3 of them in an If branch), 64 random embeddings (${label})`, { skip: noModels }, async (t) => {
      const src = path.join(modelsDir, 'openwakeword/hey_jarvis_v0.1.onnx');
      const q = path.join(tmp, `hey_jarvis.${label.replace(' ', '-')}.onnx`);
      const report = await quantizeFile(src, q, options, { verify: checkSession });
      assert.equal(report.quantized.length, 6);
      const c = await worstOutputCosine(src, q, 64, (i) => feedsFor('openwakeword/hey_jarvis_v0.1.onnx', src, 400 + i));
      t.diagnostic(`cosine ${c.toFixed(6)}`);
      assert.ok(c >= 0.999, `cosine ${c}`);
    });

    // Joined with the state, the speech probability looked fine (0.9997); on its own it is not: an open failure.
    it(`silero if-less (4 Gemm in If branches), 64 consecutive speech-like chunks with the state carried (${label})`, {
      skip: noModels, todo: `the speech probability "output" falls to a cosine of ${label === 'per tensor' ? '0.91' : '0.95'} over 64 chunks (joined with the state it read 0.9997)`,
    }, async (t) => {
      const src = path.join(modelsDir, 'silero/silero_vad_op18_ifless.onnx');
      const q = path.join(tmp, `silero.${label.replace(' ', '-')}.onnx`);
      const report = await quantizeFile(src, q, { ...options, opTypes: ['MatMul', 'Gemm'] }, { verify: checkSession });
      assert.equal(report.quantized.length, 4);
      const [a, b] = [await session(src), await session(q)];
      try {
        const sr = new ort.Tensor('int64', BigInt64Array.of(16000n), []);
        let sa: ort.Tensor = new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]), sb: ort.Tensor = sa;
        const ya: Record<string, ort.Tensor>[] = [], yb: Record<string, ort.Tensor>[] = [];
        for (let i = 0; i < 64; i++) {
          const x = new ort.Tensor('float32', speechLike(512, i * 512, 500 + i), [1, 512]);
          const [oa, ob] = [await a.run({ input: x, sr, state: sa }), await b.run({ input: x, sr, state: sb })];
          ya.push(oa); yb.push(ob);
          sa = oa.stateN; sb = ob.stateN;
        }
        // Each output on its own: the speech probability and the state it carries.
        const per = Object.keys(ya[0]).map((k) => [k, cosine(joined(ya.map((y) => ({ [k]: y[k] }))), joined(yb.map((y) => ({ [k]: y[k] }))))] as const);
        // White noise at full scale (not what the model hears) is reported, not asserted.
        const noise = await worstOutputCosine(src, q, 64, (i) => feedsFor('silero/silero_vad_op18_ifless.onnx', src, 600 + i));
        t.diagnostic(`cosine ${per.map(([k, c]) => `${k} ${c.toFixed(6)}`).join(', ')} on speech-like input (worst ${noise.toFixed(4)} on full-scale white noise with random states)`);
        for (const [k, c] of per) assert.ok(c >= 0.999, `output "${k}": cosine ${c}`);
      } finally { await a.release(); await b.release(); }
    });
  }
});

describe('quantize sizes of weight-dominated generated models', () => {
  it('dynamic int8 <= 0.27x fp32', async (t) => {
    const { report } = await generated('ffn-size', ffnModel({ hidden: 512, ffn: 2048, seed: 8 }), {});
    const ratio = report.sizeAfter / report.sizeBefore;
    t.diagnostic(`${report.sizeBefore} -> ${report.sizeAfter} bytes: ${ratio.toFixed(4)}x`);
    assert.ok(ratio <= 0.27, `${ratio}`);
  });

  it('weight-only int4 block 32 <= 0.17x fp32, and accurate', async (t) => {
    const { fp32, q, report } = await generated('linear-int4', matmulModel({ K: 1024, N: 1024, seed: 9 }), { mode: 'weight-only', blockSize: 32 });
    const ratio = report.sizeAfter / report.sizeBefore;
    const c = await worstOutputCosine(fp32, q, 64, (i) => uniform([1, 1024], 700 + i));
    t.diagnostic(`${report.sizeBefore} -> ${report.sizeAfter} bytes: ${ratio.toFixed(4)}x; cosine ${c.toFixed(5)}`);
    assert.ok(ratio <= 0.17, `${ratio}`);
    assert.ok(c >= 0.99, `cosine ${c}`);
  });
});
