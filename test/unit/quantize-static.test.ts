// Static QDQ quantization on models made in code, run in onnxruntime-node: the emitted Q/DQ (weights per
// channel, int32 biases at x_scale * w_scale, outputs quantized so that onnxruntime fuses QLinearConv /
// QLinearMatMul / QGemm, ranges shared through data-movement ops, Relu/Clip and BatchNormalization folded),
// calibration through If branches, the opset upgrade to 13, every activation type, and the refusals.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { floatTensor, int64Tensor, makeModel, modelFromProto, node, tensor, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { loadModel } from '../../src/onnx/load';
import type { Model } from '../../src/onnx/model';
import type { GraphProto, ModelProto, NodeProto } from '../../src/onnx/proto';
import { int64 } from '../../src/onnx/proto';
import { writeModel } from '../../src/onnx/write';
import { MinMaxCalibrator, valueKey } from '../../src/quantize/calibrate/calibrator';
import { ModelEditor } from '../../src/quantize/graph';
import { upgradeOpset } from '../../src/quantize/opset';
import { ValueFactsIndex } from '../../src/quantize/types';
import { equalizeDepthwise } from '../../src/quantize/static/equalize';
import { QuantizeError } from '../../src/quantize/errors';
import { quantizeFile, quantizeModel, resolveOptions, type QuantizeOptions, type QuantizeReport } from '../../src/quantize/index';
import { quantizeValue, roundHalfEven } from '../../src/quantize/math';
import { calibrationFor, ortCalibrationRunner } from '../../src/runtime/calibration';
import { checkSession, optimizedOpCounts } from '../../src/runtime/check';
import { randomFeeds } from '../../src/runtime/inputs';
import { seededRandom } from '../../src/runtime/random';
import { convModel, ffnModel } from '../../bench/quantize-models';
import { randn, worstOutputCosine } from './helpers/quantize';

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-qstatic-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const F = DataType.FLOAT;
let counter = 0;

type Feeds = Record<string, ort.Tensor>;

/** Writes `proto`, quantizes it statically on `samples` (seeded random by default) and returns both files. */
async function staticQuantize(proto: ModelProto, options: QuantizeOptions = {}, samples?: (i: number) => Feeds, n = 8): Promise<{ fp32: string; q: string; report: QuantizeReport; model: Model }> {
  const base = path.join(tmp, `s${counter++}`);
  writeModel(modelFromProto(proto), `${base}.fp32.onnx`);
  const o = { mode: 'static' as const, ...options };
  const calibration = samples
    ? { runner: ortCalibrationRunner, random: false, source: 'test samples', feeds: function* () { for (let i = 0; i < n; i++) yield samples(i); } }
    : calibrationFor(resolveOptions({ ...o, calibration: { randomSamples: n, ...o.calibration } }), { dims: { tokens: 8 } });
  const report = await quantizeFile(`${base}.fp32.onnx`, `${base}.q.onnx`, o, { verify: checkSession, calibration });
  return { fp32: `${base}.fp32.onnx`, q: `${base}.q.onnx`, report, model: loadModel(`${base}.q.onnx`) };
}

async function run(file: string, feeds: Feeds): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  try { return await s.run(feeds); } finally { await s.release(); }
}

const nodesOf = (m: Model, op: string) => [...m.nodes()].map((x) => x.node).filter((n) => n.op_type === op);
const init = (m: Model, name: string) => m.weights().find((w) => w.name === name)!;
const attrInt = (n: NodeProto, name: string) => { const a = (n.attribute ?? []).find((x) => x.name === name); return a ? int64(a.i) : undefined; };
const uniform = (dims: number[], seed: number, name = 'x'): Feeds => randomFeeds([{ name, dtype: 'float', shape: dims }], { seed });

describe('static QDQ: compute ops, fused by onnxruntime', () => {
  it('an FFN block: Q/DQ on the MatMul inputs and outputs, fused to QLinearMatMul; cosine >= 0.999', async () => {
    const { fp32, q, report } = await staticQuantize(ffnModel({ hidden: 64, ffn: 256, seed: 3 }), {}, (i) => uniform([1, 8, 64], 100 + i));
    assert.deepEqual(report.quantized, ['ffn.up.MatMul', 'ffn.down.MatMul']);
    assert.equal(report.mode, 'static');
    assert.equal(report.format, 'qdq');
    assert.equal(report.perChannel, true);
    assert.deepEqual(report.emitted, { DequantizeLinear: 6, QuantizeLinear: 4 });
    assert.equal(report.calibration?.samples, 8);
    assert.equal(report.calibration?.random, false);
    for (const phase of ['load', 'prepare', 'calibrate', 'quantize', 'write', 'check', 'total']) assert.equal(typeof report.seconds[phase], 'number', phase);
    for (const w of report.weights) assert.ok(w.sqnr! > 30 && /int8 symmetric per-channel \(axis 1\)/.test(w.scheme), `${w.name} ${w.sqnr} ${w.scheme}`);
    const ops = await optimizedOpCounts(q);
    assert.equal(ops.QLinearMatMul, 2, JSON.stringify(ops));
    const c = await worstOutputCosine(fp32, q, 64, (i) => uniform([1, 8, 64], 500 + i));
    assert.ok(c >= 0.999, `cosine ${c}`);
  });

  it('Conv layers: per-channel int8 weights (axis 0), int32 biases at x_scale * w_scale, Relu folded, QLinearConv', async () => {
    const proto = convModel({ channels: 8, size: 12, layers: 3, seed: 9 });
    const feeds = (i: number) => uniform([1, 8, 12, 12], 200 + i);
    const { fp32, q, report, model } = await staticQuantize(proto, {}, feeds);
    assert.deepEqual(report.quantized, ['conv0', 'conv1', 'conv2']);
    // The last Relu's output is the graph output: it is folded too, and the output is the DequantizeLinear's.
    assert.deepEqual(report.calibration!.foldedActivations, ['relu0', 'relu1', 'relu2']);
    assert.deepEqual(nodesOf(model, 'Relu'), []);
    assert.equal(nodesOf(model, 'DequantizeLinear').filter((n) => n.output![0] === 'y').length, 1);
    const ops = await optimizedOpCounts(q);
    assert.equal(ops['com.microsoft:QLinearConv'], 3, JSON.stringify(ops));

    // The second Conv: its weight DQ is per channel on axis 0, its bias is int32 with scale x_scale * w_scale.
    const conv1 = nodesOf(model, 'Conv').find((n) => n.name === 'conv1')!;
    const byOutput = new Map([...model.nodes()].flatMap(({ node: n }) => (n.output ?? []).map((o) => [o, n] as const)));
    const wDq = byOutput.get(conv1.input![1])!, bDq = byOutput.get(conv1.input![2])!, xDq = byOutput.get(conv1.input![0])!;
    assert.equal(attrInt(wDq, 'axis'), 0);
    const wScale = init(model, wDq.input![1]).values(), xScale = init(model, xDq.input![1]).values()[0];
    const bScale = init(model, bDq.input![1]).values(), bQ = init(model, bDq.input![0]);
    assert.equal(bQ.dtype, DataType.INT32);
    assert.equal(wScale.length, 8);
    for (let c = 0; c < 8; c++) assert.equal(bScale[c], Math.fround(xScale * wScale[c]));
    // Weights: round half to even of w / scale, symmetric int8 in [-127, 127].
    const src = loadModel(fp32);
    const w = init(src, 'conv1.weight').values(), wq = init(model, wDq.input![0]);
    assert.equal(wq.dtype, DataType.INT8);
    const qv = wq.values();
    const per = w.length / 8;
    for (let i = 0; i < w.length; i += 7) assert.equal(qv[i], quantizeValue(w[i], wScale[Math.floor(i / per)], 0, { qmin: -127, qmax: 127 }));
    const b = init(src, 'conv1.bias').values(), bv = bQ.values();
    for (let c = 0; c < 8; c++) assert.equal(bv[c], roundHalfEven(Math.fround(b[c] / bScale[c])));
    const c = await worstOutputCosine(fp32, q, 32, (i) => feeds(900 + i));
    assert.ok(c >= 0.999, `cosine ${c}`);
  });

  it('Gemm: QGemm with a float output (no Q on it), beta folded into the int32 bias', async () => {
    const r = seededRandom(4);
    const proto = makeModel({
      opset: 13,
      graph: {
        name: 'gemm', node: [node('Gemm', ['x', 'w', 'c'], ['y'], { transB: 1, beta: 0.5 }, 'fc')],
        initializer: [tensor('w', F, [16, 32], randn(5, 512, 0.2)), tensor('c', F, [16], Float32Array.from({ length: 16 }, () => r()))],
        input: [valueInfo('x', F, ['batch', 32])], output: [valueInfo('y', F, ['batch', 16])],
      },
    });
    const { fp32, q, report, model } = await staticQuantize(proto, {}, (i) => uniform([4, 32], 300 + i));
    assert.deepEqual(report.quantized, ['fc']);
    assert.deepEqual(report.emitted, { DequantizeLinear: 3, QuantizeLinear: 1 });
    const fc = nodesOf(model, 'Gemm')[0];
    assert.equal((fc.attribute ?? []).find((a) => a.name === 'beta')?.f, 1);
    const ops = await optimizedOpCounts(q);
    assert.equal(ops['com.microsoft:QGemm'], 1, JSON.stringify(ops));
    const c = await worstOutputCosine(fp32, q, 32, (i) => uniform([4, 32], 700 + i));
    assert.ok(c >= 0.999, `cosine ${c}`);
  });
});

describe('static QDQ: ranges through data movement, folds', () => {
  /** Conv -> BatchNormalization -> Relu -> MaxPool -> Reshape -> MatMul -> y. */
  function cnn(): ModelProto {
    return makeModel({
      opset: 11,
      graph: {
        name: 'cnn',
        node: [
          node('Conv', ['x', 'cw'], ['c'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 'conv'),
          node('BatchNormalization', ['c', 'g', 'b', 'm', 'v'], ['bn'], { epsilon: 1e-5 }, 'bn'),
          node('Relu', ['bn'], ['r'], {}, 'relu'),
          node('MaxPool', ['r'], ['p'], { kernel_shape: [2, 2], strides: [2, 2] }, 'pool'),
          node('Reshape', ['p', 'shape'], ['flat'], {}, 'flatten'),
          node('MatMul', ['flat', 'fw'], ['y'], {}, 'fc'),
        ],
        initializer: [
          tensor('cw', F, [4, 2, 3, 3], randn(1, 72, 0.4)), tensor('g', F, [4], Float32Array.of(1, 0.5, 2, 1.5)),
          tensor('b', F, [4], Float32Array.of(0.1, -0.2, 0.3, 0)), tensor('m', F, [4], Float32Array.of(0.05, 0, -0.1, 0.2)),
          tensor('v', F, [4], Float32Array.of(1, 0.5, 2, 0.25)), int64Tensor('shape', [2], [1, 64]), tensor('fw', F, [64, 10], randn(2, 640, 0.2)),
        ],
        input: [valueInfo('x', F, [1, 2, 8, 8])], output: [valueInfo('y', F, [1, 10])],
      },
    });
  }

  it('BatchNormalization folds into the Conv, the Relu into its range, MaxPool and Reshape share it', async () => {
    const feeds = (i: number) => uniform([1, 2, 8, 8], 400 + i);
    const { fp32, q, report, model } = await staticQuantize(cnn(), {}, feeds, 32);
    assert.deepEqual(report.calibration!.foldedIntoConv, ['bn']);
    assert.deepEqual(report.calibration!.foldedActivations, ['relu']);
    assert.deepEqual(report.opsetUpgrade, { from: 11, to: 13, rewritten: [] });
    assert.deepEqual(report.quantized, ['conv', 'pool', 'flatten', 'fc']);
    assert.deepEqual(nodesOf(model, 'BatchNormalization'), []);
    assert.deepEqual(nodesOf(model, 'Relu'), []);
    // The Q after MaxPool and after Reshape use the Relu output's scale and zero point.
    const qs = nodesOf(model, 'QuantizeLinear');
    const scaleOf = (x: string) => init(model, qs.find((n) => n.input![0] === x)!.input![1]).values()[0];
    const zpOf = (x: string) => init(model, qs.find((n) => n.input![0] === x)!.input![2]).values()[0];
    assert.equal(scaleOf('p'), scaleOf('r'));
    assert.equal(scaleOf('flat'), scaleOf('r'));
    assert.equal(zpOf('p'), zpOf('r'));
    assert.equal(zpOf('r'), 0, 'a folded Relu: the zero point sits at the bottom of uint8');
    assert.equal(report.calibration!.tensors, 3, 'x, the Relu output and y: the MaxPool and Reshape outputs need no range of their own');
    const ops = await optimizedOpCounts(q);
    assert.equal(ops['com.microsoft:QLinearConv'], 1, JSON.stringify(ops));
    assert.equal(ops.QLinearMatMul, 1, JSON.stringify(ops));
    // The pool runs on the uint8 tensor: onnxruntime's NHWC uint8 MaxPool, no float MaxPool, and the only
    // Q/DQ left are the model's input and output.
    assert.equal(ops['com.microsoft:NhwcMaxPool'], 1, JSON.stringify(ops));
    assert.equal(ops.MaxPool, undefined, JSON.stringify(ops));
    assert.deepEqual([ops.QuantizeLinear, ops.DequantizeLinear], [1, 1], JSON.stringify(ops));
    // The graph output is quantized too (its producer must feed only a QuantizeLinear to be fused).
    assert.equal(nodesOf(model, 'DequantizeLinear').find((n) => n.output![0] === 'y')?.op_type, 'DequantizeLinear');
    const c = await worstOutputCosine(fp32, q, 32, (i) => feeds(800 + i));
    assert.ok(c >= 0.995, `cosine ${c}`);
  });

  it('symmetric activations keep the Relu (its zero point is in the middle) and still run', async () => {
    const { report, model, fp32, q } = await staticQuantize(cnn(), { symmetricActivations: true, activationType: 'int8' }, (i) => uniform([1, 2, 8, 8], 400 + i), 32);
    assert.deepEqual(report.calibration!.foldedActivations, []);
    assert.equal(nodesOf(model, 'Relu').length, 1);
    for (const n of nodesOf(model, 'QuantizeLinear')) assert.equal(init(model, n.input![2]).values()[0], 0);
    assert.equal(init(model, nodesOf(model, 'QuantizeLinear')[0].input![2]).dtype, DataType.INT8);
    const c = await worstOutputCosine(fp32, q, 16, (i) => uniform([1, 2, 8, 8], 800 + i));
    assert.ok(c >= 0.99, `cosine ${c}`);
  });

  it('a HardSwish spelled out (Add 3, Clip 0..6, Mul, Div 6) narrows the range of its input to [-3, max]', async () => {
    const proto = makeModel({
      opset: 13,
      graph: {
        name: 'hswish',
        node: [
          node('Conv', ['x', 'w'], ['c'], { kernel_shape: [1, 1] }, 'conv'),
          node('Add', ['c', 'three'], ['c3'], {}, 'add3'), node('Clip', ['c3', 'zero', 'six'], ['clip'], {}, 'clip'),
          node('Mul', ['c', 'clip'], ['m'], {}, 'mul'), node('Div', ['m', 'six'], ['h'], {}, 'div'),
          node('Conv', ['h', 'w2'], ['y'], { kernel_shape: [1, 1] }, 'conv2'),
        ],
        initializer: [tensor('w', F, [4, 3, 1, 1], randn(3, 12, 3)), tensor('w2', F, [2, 4, 1, 1], randn(4, 8, 0.5)), floatTensor('three', [], [3]), floatTensor('zero', [], [0]), floatTensor('six', [], [6])],
        input: [valueInfo('x', F, [1, 3, 4, 4])], output: [valueInfo('y', F, [1, 2, 4, 4])],
      },
    });
    const { report, model } = await staticQuantize(proto, {}, (i) => uniform([1, 3, 4, 4], 10 + i));
    assert.ok(report.notes.some((n) => /narrowed/.test(n)), report.notes.join('; '));
    const qc = nodesOf(model, 'QuantizeLinear').find((n) => n.input![0] === 'c')!;
    const s = init(model, qc.input![1]).values()[0], z = init(model, qc.input![2]).values()[0];
    assert.ok(Math.abs(-z * s + 3) <= s, `the range starts at -3: zero point ${z}, scale ${s}`);
  });
});

describe('static QDQ: Conv -> depthwise Conv channel equalization', () => {
  it('leaves the float model unchanged and evens the channel ranges of the activation between them', async () => {
    // Output channel c of the first Conv is scaled by 10^(c - 2): ranges 100:1 apart.
    const w1 = randn(11, 4 * 3 * 9, 0.3).map((v, i) => v * 10 ** (Math.floor(i / 27) - 2));
    const proto = makeModel({
      opset: 13,
      graph: {
        name: 'dw',
        node: [
          node('Conv', ['x', 'w1', 'b1'], ['c1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 'conv'),
          node('Relu', ['c1'], ['r1'], {}, 'relu'),
          node('Conv', ['r1', 'w2'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 4 }, 'depthwise'),
        ],
        initializer: [tensor('w1', F, [4, 3, 3, 3], w1), tensor('b1', F, [4], Float32Array.of(0.01, 0.1, 1, 10)), tensor('w2', F, [8, 1, 3, 3], randn(12, 72, 0.3))],
        input: [valueInfo('x', F, [1, 3, 8, 8])], output: [valueInfo('y', F, [1, 8, 8, 8])],
      },
    });
    const feeds = (i: number) => uniform([1, 3, 8, 8], 70 + i);
    const on = await staticQuantize(proto, {}, feeds, 16);
    assert.ok(on.report.notes.some((n) => /1 Conv -> depthwise Conv pair was equalized .*conv -> depthwise/.test(n)), on.report.notes.join('; '));
    const off = await staticQuantize(proto, { equalize: false }, feeds, 16);
    const [cOn, cOff] = [await worstOutputCosine(on.fp32, on.q, 16, (i) => feeds(40 + i)), await worstOutputCosine(off.fp32, off.q, 16, (i) => feeds(40 + i))];
    assert.ok(cOn > cOff && cOn >= 0.999, `equalized ${cOn}, not ${cOff}`);
    // Its gain was measured on the calibration samples, and it was kept.
    const eq = on.report.equalization!;
    assert.deepEqual(eq.pairs, ['conv -> depthwise']);
    assert.equal(eq.kept, true);
    assert.equal(eq.comparison!.samples, 16);
    assert.ok(eq.comparison!.cosineWith > eq.comparison!.cosineWithout, JSON.stringify(eq.comparison));
    assert.equal(off.report.equalization, undefined);
    // In float, the equalized weights give the same outputs: dequantize nothing, compare the fp32 models.
    const m = modelFromProto(proto);
    const r = await equalizeDepthwise(m, new ModelEditor(m), ortCalibrationRunner, [feeds(0), feeds(1)], 2);
    assert.deepEqual(r.pairs, ['conv -> depthwise']);
    const f = path.join(tmp, 'equalized.onnx');
    writeModel(m, f);
    const [a, b] = [await run(on.fp32, feeds(5)), await run(f, feeds(5))];
    const x = a.y.data as Float32Array, y = b.y.data as Float32Array;
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= 1e-4 * Math.max(1, Math.abs(x[i])), `${i}: ${x[i]} vs ${y[i]}`);
  });

  it('a model with no float output (class ids only): equalization is done, its gain cannot be measured and is not', async () => {
    const proto = makeModel({
      opset: 13,
      graph: {
        name: 'ids',
        node: [
          node('Conv', ['x', 'w1'], ['c1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 'conv'),
          node('Relu', ['c1'], ['r1'], {}, 'relu'),
          node('Conv', ['r1', 'w2'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 4 }, 'depthwise'),
          node('ArgMax', ['y'], ['ids'], { axis: 1, keepdims: 0 }, 'argmax'),
        ],
        initializer: [tensor('w1', F, [4, 3, 3, 3], randn(31, 108, 0.3).map((v, i) => v * 10 ** (Math.floor(i / 27) - 2))), tensor('w2', F, [8, 1, 3, 3], randn(32, 72, 0.3))],
        input: [valueInfo('x', F, [1, 3, 8, 8])], output: [valueInfo('ids', DataType.INT64, [1, 8, 8])],
      },
    });
    const r = await staticQuantize(proto, {}, (i) => uniform([1, 3, 8, 8], 300 + i), 8);
    assert.deepEqual(r.report.equalization, { pairs: ['conv -> depthwise'], comparison: null, kept: true });
  });

  it('kept only where it helps: scales that fit the probe\'s samples and not the others are dropped, and the model is written without them', async () => {
    // Output channel c of the first Conv reads input channel c only (channel 3 reads all three). The first 8
    // samples, which the equalization probe sees, are loud in input channel 0, the next 8 in channel 1: the
    // scales that even channel 0 out make channel 1's range wider still on the rest of the calibration data.
    const r = randn(21, 4 * 3 * 9, 0.3);
    const w1 = Float32Array.from(r, (v, i) => { const c = Math.floor(i / 27), from = Math.floor(i / 9) % 3; return c === 3 || c === from ? v : 0; });
    const proto = makeModel({
      opset: 13,
      graph: {
        name: 'dw-shift',
        node: [
          node('Conv', ['x', 'w1'], ['c1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 'conv'),
          node('Conv', ['c1', 'w2'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 4 }, 'depthwise'),
        ],
        initializer: [tensor('w1', F, [4, 3, 3, 3], w1), tensor('w2', F, [8, 1, 3, 3], randn(22, 72, 0.3))],
        input: [valueInfo('x', F, [1, 3, 8, 8])], output: [valueInfo('y', F, [1, 8, 8, 8])],
      },
    });
    const feeds = (i: number): Feeds => {
      const d = randn(90 + i, 192, 1);
      const loud = i % 16 < 8 ? 0 : 1;
      for (let j = loud * 64; j < (loud + 1) * 64; j++) d[j] *= 30;
      return { x: new ort.Tensor('float32', d, [1, 3, 8, 8]) };
    };
    const on = await staticQuantize(proto, {}, feeds, 16);
    const eq = on.report.equalization!;
    assert.deepEqual(eq.pairs, ['conv -> depthwise']);
    assert.ok(eq.comparison!.cosineWith < eq.comparison!.cosineWithout, JSON.stringify(eq.comparison));
    assert.equal(eq.kept, false);
    assert.ok(on.report.notes.some((n) => /^Conv -> depthwise Conv equalization \(1 pair\) was dropped: it made the worst output worse/.test(n)), on.report.notes.join('\n'));
    assert.ok(!on.report.notes.some((n) => /pair was equalized/.test(n)), 'the report is the one of the model written');
    // The file written is the model without it: the outputs of a quantization with --no-equalize, value for value.
    const off = await staticQuantize(proto, { equalize: false }, feeds, 16);
    for (let i = 0; i < 4; i++) assert.deepEqual((await run(on.q, feeds(200 + i))).y.data, (await run(off.q, feeds(200 + i))).y.data);
  });
});

describe('static QDQ: If branches, activation types, options', () => {
  /** y = If(cond) then Conv(x, w1) else Conv(x, w2): the branches hold the weights' readers. */
  function branchy(): ModelProto {
    const branch = (w: string): GraphProto => ({
      name: `b_${w}`,
      node: [node('Sigmoid', ['x'], [`s_${w}`], {}, `sigmoid_${w}`), node('Conv', [`s_${w}`, w], [`y_${w}`], { kernel_shape: [1, 1] }, `conv_${w}`)],
      output: [valueInfo(`y_${w}`, F, null)],
    });
    return makeModel({
      opset: 13,
      graph: {
        name: 'branchy', node: [node('If', ['cond'], ['y'], { then_branch: branch('w1'), else_branch: branch('w2') }, 'if')],
        initializer: [tensor('w1', F, [4, 3, 1, 1], randn(7, 12)), tensor('w2', F, [4, 3, 1, 1], randn(8, 12))],
        input: [valueInfo('cond', DataType.BOOL, []), valueInfo('x', F, [1, 3, 4, 4])], output: [valueInfo('y', F, [1, 4, 4, 4])],
      },
    });
  }
  const cond = (v: boolean) => new ort.Tensor('bool', Uint8Array.of(v ? 1 : 0), []);

  it('calibration exposes tensors inside If branches; the empty other branch is ignored', async () => {
    const m = modelFromProto(branchy());
    const g = m.graphs().find((x) => x.path.endsWith('then_branch'))!;
    const c = new MinMaxCalibrator();
    c.select([{ key: valueKey(g.path, 'y_w1'), name: 'y_w1', graph: g }]);
    const aug = c.augment(m);
    assert.equal(aug.fetches.size, 1);
    assert.equal(m.proto.graph!.output!.length, 1, 'the original is not modified');
    const file = path.join(tmp, 'augmented.onnx');
    writeModel(aug.model, file);
    const n = await c.collect(ortCalibrationRunner, file, aug.fetches, [
      { cond: cond(true), x: uniform([1, 3, 4, 4], 1).x }, { cond: cond(false), x: uniform([1, 3, 4, 4], 2).x },
    ]);
    assert.equal(n, 2);
    assert.equal(c.seen.get(valueKey(g.path, 'y_w1')), 1, 'seen only in the sample that took the branch');
  });

  it('a branch no sample reaches stays in float, with the reason; both branches still run', async () => {
    const { q, report } = await staticQuantize(branchy(), {}, (i) => ({ cond: cond(true), x: uniform([1, 3, 4, 4], 20 + i).x }), 4);
    assert.deepEqual(report.quantized, ['conv_w1']);
    const skipped = report.skipped.find((s) => s.name === 'conv_w2')!;
    assert.match(skipped.reason, /^not reached by the calibration inputs: no sample reached its input "s_w2" .*; give calibration inputs that take it$/);
    assert.match(skipped.graph, /else_branch/);
    assert.deepEqual(report.calibration!.unreached, ['s_w2', 'y_w2']);
    for (const v of [true, false]) {
      const y = await run(q, { cond: cond(v), x: uniform([1, 3, 4, 4], 3).x });
      assert.deepEqual(y.y.dims, [1, 4, 4, 4]);
    }
  });

  for (const activationType of ['uint16', 'int16', 'int8'] as const) {
    it(`${activationType} activations load with optimization "all" and run`, async () => {
      const { fp32, q, model } = await staticQuantize(ffnModel({ hidden: 32, ffn: 64, seed: 2 }), { activationType }, (i) => uniform([1, 4, 32], 60 + i), 4);
      const qn = nodesOf(model, 'QuantizeLinear');
      assert.ok(qn.length > 0);
      if (activationType.endsWith('16')) assert.ok(qn.every((n) => n.domain === 'com.microsoft'), '16-bit Q/DQ before opset 21 are onnxruntime\'s');
      const c = await worstOutputCosine(fp32, q, 8, (i) => uniform([1, 4, 32], 90 + i));
      assert.ok(c >= (activationType.endsWith('16') ? 0.9999 : 0.999), `cosine ${c}`);
    });
  }

  it('percentile and entropy calibration, exclude, keep first layer, float biases', async () => {
    const proto = convModel({ channels: 4, size: 8, layers: 3, seed: 2 });
    const feeds = (i: number) => uniform([1, 4, 8, 8], 30 + i);
    for (const method of ['percentile', 'entropy'] as const) {
      const { report } = await staticQuantize(proto, { calibration: { method } }, feeds, 4);
      assert.equal(report.calibration!.method, method);
      assert.equal(report.calibration!.percentile, method === 'percentile' ? 99.999 : null);
      assert.equal(report.quantized.length, 3);
    }
    const ex = await staticQuantize(proto, { exclude: ['conv1'], keepFirstLayer: true }, feeds, 4);
    assert.deepEqual(ex.report.quantized, ['conv2']);
    assert.deepEqual(ex.report.skipped.map((s) => s.name), ['conv0', 'conv1']);
    const fb = await staticQuantize(proto, { quantizeBias: false }, feeds, 4);
    assert.ok(fb.report.notes.some((n) => /keep their float bias/.test(n)));
    assert.equal(nodesOf(fb.model, 'DequantizeLinear').filter((n) => init(fb.model, n.input![0])?.dtype === DataType.INT32).length, 0);
  });

  it('accuracy target: the nodes around an activation one int8 scale cannot hold stay in float, and only those', async () => {
    // conv1 scales channel 0 by 1000 and conv2 scales it back: between them one per-tensor scale leaves
    // channels 1-3 a few steps, so the output loses them; conv0 and conv3 quantize well.
    const rand = seededRandom(7);
    const w = (o: number, i: number, k: number) => Float32Array.from({ length: o * i * k * k }, () => (rand() - 0.5) * 0.6);
    const diag = (d: number[]) => { const a = new Float32Array(16); d.forEach((v, i) => { a[i * 5] = v; }); return a; };
    const proto = makeModel({
      opset: 17,
      graph: {
        name: 'outlier_channel',
        node: [
          node('Conv', ['x', 'w0'], ['c0'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 'conv0'),
          node('Relu', ['c0'], ['r0'], {}, 'relu0'),
          node('Conv', ['r0', 'w1'], ['c1'], { kernel_shape: [1, 1] }, 'conv1'),
          node('Conv', ['c1', 'w2'], ['c2'], { kernel_shape: [1, 1] }, 'conv2'),
          node('Conv', ['c2', 'w3'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 'conv3'),
        ],
        initializer: [
          tensor('w0', F, [4, 4, 3, 3], w(4, 4, 3)), tensor('w1', F, [4, 4, 1, 1], diag([1000, 1, 1, 1])),
          tensor('w2', F, [4, 4, 1, 1], diag([0.001, 1, 1, 1])), tensor('w3', F, [4, 4, 3, 3], w(4, 4, 3)),
        ],
        input: [valueInfo('x', F, [1, 4, 8, 8])], output: [valueInfo('y', F, [1, 4, 8, 8])],
      },
    });
    const feeds = (i: number) => uniform([1, 4, 8, 8], 700 + i);
    const plain = await staticQuantize(proto, {}, feeds, 16);
    const plainCos = await worstOutputCosine(plain.fp32, plain.q, 16, (i) => feeds(100 + i));
    assert.ok(plainCos < 0.99, `every node in int8: cosine ${plainCos}`);

    const { fp32, q, report } = await staticQuantize(proto, { accuracyTarget: 0.999 }, feeds, 16);
    const a = report.accuracy!;
    assert.equal(a.target, 0.999);
    assert.equal(a.samples, 16);
    assert.ok(a.cosineBefore < 0.99, `before ${a.cosineBefore}`);
    assert.ok(a.met && a.cosineAfter >= 0.999, JSON.stringify(a));
    assert.deepEqual([...a.inFloat].sort(), ['conv1', 'conv2']);
    assert.deepEqual(report.quantized, ['conv0', 'conv3']);
    for (const name of ['conv1', 'conv2']) {
      assert.match(report.skipped.find((s) => s.name === name)!.reason, /kept in float for the accuracy target 0\.999: it reads or writes an activation whose quantization costs accuracy/);
    }
    assert.equal(a.evaluations, a.steps.length + 1);
    assert.ok(a.steps.every((s) => ['measure', 'prefix', 'prune'].includes(s.phase) && s.nodes > 0 && s.cosine <= 1));
    assert.equal(typeof report.seconds.quantize, 'number');
    const kept = await worstOutputCosine(fp32, q, 16, (i) => feeds(100 + i));
    assert.ok(kept >= 0.999, `on other inputs: cosine ${kept}`);

    // A limit of one node cannot keep both: the target is not met and the report says why.
    const limited = await staticQuantize(proto, { accuracyTarget: 0.999, maxFloatNodes: 1 }, feeds, 16);
    assert.equal(limited.report.accuracy!.met, false);
    assert.ok(limited.report.accuracy!.inFloat.length <= 1);
    assert.equal(limited.report.accuracy!.maxNodes, 1);
    assert.ok(limited.report.notes.some((n) => /accuracy target 0\.999 was not reached: .* \(at most 1 node in float by --max-float-nodes\)/.test(n)), limited.report.notes.join('\n'));

    // A target already met: one comparison, nothing in float.
    const easy = await staticQuantize(convModel({ channels: 4, size: 8, layers: 2, seed: 2 }), { accuracyTarget: 0.9 }, (i) => uniform([1, 4, 8, 8], 30 + i), 8);
    assert.deepEqual([easy.report.accuracy!.inFloat, easy.report.accuracy!.evaluations, easy.report.accuracy!.met], [[], 1, true]);
    assert.equal(easy.report.quantized.length, 2);
  });

  it('random calibration is flagged in the report', async () => {
    const { report } = await staticQuantize(ffnModel({ hidden: 16, ffn: 32, seed: 1 }), {}, undefined, 3);
    assert.equal(report.calibration!.random, true);
    assert.match(report.calibration!.source, /random \(3 samples, seeds 1\.\.3\)/);
    assert.ok(report.notes.some((n) => /not representative/.test(n)));
  });

  it('refusals: static (also with SmoothQuant) through the synchronous quantizeModel, no samples', async () => {
    const m = modelFromProto(ffnModel({ hidden: 16, ffn: 32 }));
    assert.throws(() => quantizeModel(m, { mode: 'static', format: 'qoperator' }), /calibrates by running the model: use quantizeStatic/);
    assert.throws(() => quantizeModel(m, { mode: 'static', smoothQuant: 0.5 }), /calibrates by running the model: use quantizeStatic/);
    assert.throws(() => quantizeModel(m, { mode: 'static' }), /calibrates by running the model: use quantizeStatic/);
    const f = path.join(tmp, 'refuse.onnx');
    writeModel(m, f);
    await assert.rejects(quantizeFile(f, path.join(tmp, 'refuse.q.onnx'), { mode: 'static' }), /needs calibration samples/);
    await assert.rejects(quantizeFile(f, path.join(tmp, 'refuse.q.onnx'), { mode: 'static' }, {
      calibration: { runner: ortCalibrationRunner, random: false, source: 'none', feeds: () => [] },
    }), (e: unknown) => e instanceof QuantizeError && e.code === 'calibration-data' && /no samples/.test(e.message));
    assert.equal(fs.existsSync(path.join(tmp, 'refuse.q.onnx')), false);
  });
});

describe('opset upgrade to 13 keeps the meaning of the ops that changed', () => {
  it('Softmax (flatten at axis before 13), Squeeze/Unsqueeze/Split/ReduceSum axes: same outputs at opset 13', async () => {
    const proto = makeModel({
      opset: 11,
      graph: {
        name: 'old',
        node: [
          node('Conv', ['x', 'w'], ['c'], { kernel_shape: [1, 1] }, 'conv'),
          node('Softmax', ['c'], ['s1'], { axis: 1 }, 'softmax_mid'),
          node('Softmax', ['c'], ['s3'], { axis: 3 }, 'softmax_last'),
          node('Unsqueeze', ['s1'], ['u'], { axes: [0] }, 'unsqueeze'),
          node('Squeeze', ['u'], ['sq'], { axes: [0] }, 'squeeze'),
          node('Split', ['sq'], ['p0', 'p1'], { axis: 1, split: [1, 3] }, 'split'),
          node('ReduceSum', ['p1'], ['rs'], { axes: [1], keepdims: 1 }, 'reducesum'),
          node('Add', ['rs', 's3'], ['y0'], {}, 'add'),
          node('Concat', ['y0', 'p0'], ['y'], { axis: 1 }, 'concat'),
        ],
        initializer: [tensor('w', F, [4, 3, 1, 1], randn(9, 12))],
        input: [valueInfo('x', F, [1, 3, 2, 5])], output: [valueInfo('y', F, null)],
      },
    });
    // The upgrade alone (static quantization would change the outputs): the rewritten ops must compute
    // exactly what the old ones did.
    const fp32 = path.join(tmp, 'opset11.onnx'), up = path.join(tmp, 'opset13.onnx');
    writeModel(modelFromProto(proto), fp32);
    const m = loadModel(fp32);
    const editor = new ModelEditor(m);
    const facts = new ValueFactsIndex(m);
    const upgrade = upgradeOpset(m, editor, 13, 'a test', (name, info) => facts.get(name, info).rank);
    assert.equal(upgrade?.to, 13);
    for (const n of ['softmax_mid', 'softmax_last', 'unsqueeze', 'squeeze', 'split', 'reducesum']) assert.ok(upgrade!.rewritten.includes(n), n);
    writeModel(m, up);
    assert.equal(loadModel(up).opsets['ai.onnx'], 13);
    const feeds = (i: number) => uniform([1, 3, 2, 5], 40 + i);
    for (let i = 0; i < 3; i++) {
      const [a, b] = [await run(fp32, feeds(i)), await run(up, feeds(i))];
      assert.deepEqual(b.y.dims, a.y.dims);
      const x = a.y.data as Float32Array, y = b.y.data as Float32Array;
      for (let j = 0; j < x.length; j++) assert.ok(Math.abs(x[j] - y[j]) <= 1e-6, `${j}: ${x[j]} vs ${y[j]}`);
    }
  });
});
