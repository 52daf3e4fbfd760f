// Weights a model stores quantized: the weights view shows the values their codes stand for. Each of our
// quantizer's forms is read back and compared with the FP32 weight it came from (at most half a
// quantization step apart); a quantized model from the wild (IS-Net, onnxruntime's dynamic ConvInteger)
// shows values centred on zero where its raw uint8 codes sit around 130.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { makeModel, modelFromProto, node, tensor, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { buildWeightSummaries, storedQuantization, weightDetail } from '../../src/onnx/graphData';
import { loadModel } from '../../src/onnx/load';
import type { Model } from '../../src/onnx/model';
import type { ModelProto } from '../../src/onnx/proto';
import { writeModel } from '../../src/onnx/write';
import { quantizeFile, type QuantizeOptions } from '../../src/quantize/index';
import { resolveOptions } from '../../src/quantize/options';
import { calibrationFor } from '../../src/runtime/calibration';
import { convModel, ffnModel } from '../../bench/quantize-models';
import { modelsDir, noModels } from './helpers/models';
import { randn } from './helpers/quantize';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-dequantize-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A Conv layer and an FFN behind it (Conv -> flatten -> MatMul), so that every mode finds something. */
function convAndMatMul(): ModelProto {
  const conv = convModel({ channels: 8, size: 6, layers: 1, seed: 11, batch: 1 });
  const ffn = ffnModel({ hidden: 8 * 36, ffn: 64, seed: 12, tokens: 1 });
  const g = conv.graph!;
  g.node!.push(node('Reshape', ['y', 'flat_shape'], ['x_ffn'], {}, 'flatten'), ...ffn.graph!.node!.map((n) => ({ ...n, input: n.input!.map((i) => (i === 'x' ? 'x_ffn' : i)), output: n.output!.map((o) => (o === 'y' ? 'out' : o)) })));
  g.initializer!.push(tensor('flat_shape', DataType.INT64, [3], BigInt64Array.of(1n, 1n, BigInt(8 * 36))), ...ffn.graph!.initializer!);
  g.output = [valueInfo('out', DataType.FLOAT, [1, 1, 8 * 36])];
  return makeModel({ graph: g, opset: 17 });
}

async function quantized(name: string, options: QuantizeOptions): Promise<{ fp32: Model; q: Model }> {
  const src = path.join(tmp, `${name}.fp32.onnx`), dst = path.join(tmp, `${name}.q.onnx`);
  writeModel(modelFromProto(convAndMatMul()), src);
  const calibration = options.mode === 'static' ? calibrationFor(resolveOptions({ ...options, calibration: { randomSamples: 4 } })) : undefined;
  await quantizeFile(src, dst, options, calibration ? { calibration } : {});
  return { fp32: loadModel(src), q: loadModel(dst) };
}

/**
 * Every stored-quantized weight of `q` against its FP32 source (the source weight whose name begins the
 * quantized one's): the values its codes stand for are at most one step from the source's (half a step of
 * rounding, and up to half a step more where a rounded zero point shifts the grid), a step being at most
 * 2 max|w| / (levels - 2) (a symmetric grid leaves one code unused).
 */
function assertReadBack(fp32: Model, q: Model, levels: number, expectVia: string[]): void {
  const sources = fp32.weights();
  const summaries = buildWeightSummaries(q);
  const seen = new Set<string>();
  summaries.forEach((s, i) => {
    if (!s.stored) return;
    seen.add(s.stored.via);
    const source = sources.filter((w) => s.name.startsWith(w.name)).sort((a, b) => b.name.length - a.name.length)[0];
    assert.ok(source, `the source of ${s.name}`);
    const want = source.values();
    const got = new Float32Array(want.length);
    let at = 0;
    for (const chunk of storedQuantization(q, i)!.chunks()) { got.set(chunk, at); at += chunk.length; }
    assert.equal(at, want.length, `${s.name}: ${at} values for ${want.length}`);
    // MatMulNBits holds W transposed ([N, K] for the source's [K, N]).
    const [K, N] = source.dims;
    const sourceAt = s.stored.via === 'MatMulNBits' ? (k: number) => want[(k % K) * N + Math.floor(k / K)] : (k: number) => want[k];
    let absMax = 0, worst = 0;
    for (let k = 0; k < want.length; k++) { absMax = Math.max(absMax, Math.abs(want[k])); worst = Math.max(worst, Math.abs(got[k] - sourceAt(k))); }
    const step = (2 * absMax) / (levels - 2);
    assert.ok(worst <= step * 1.001, `${s.name} (${s.stored.via}, ${s.stored.scheme}): ${worst} from the source, a step is at most ${step}`);
  });
  assert.deepEqual([...seen].sort(), [...expectVia].sort());
}

describe('stored-quantized weights read back as the values their codes stand for', () => {
  it('static QDQ: DequantizeLinear, per channel', async () => {
    const { fp32, q } = await quantized('qdq', { mode: 'static' });
    assertReadBack(fp32, q, 256, ['DequantizeLinear']);
    const w = buildWeightSummaries(q).find((s) => s.stored?.via === 'DequantizeLinear' && s.shape.length === 4)!;
    assert.equal(w.stored!.scheme, 'per channel (axis 0)');
    assert.equal(w.stored!.scales, 8);
  });

  it('static QOperator: QLinearConv and QLinearMatMul', async () => {
    const { fp32, q } = await quantized('qop', { mode: 'static', format: 'qoperator' });
    assertReadBack(fp32, q, 256, ['QLinearConv', 'QLinearMatMul']);
  });

  it('dynamic: ConvInteger and MatMulInteger, their weight scale found through the Mul by the input scale', async () => {
    const { fp32, q } = await quantized('dyn', { mode: 'dynamic', opTypes: ['MatMul', 'Conv'] });
    assertReadBack(fp32, q, 256, ['ConvInteger', 'MatMulInteger']);
  });

  it('weight-only int4: MatMulNBits, blocks of 32 along K', async () => {
    const { fp32, q } = await quantized('int4', { mode: 'weight-only' });
    assertReadBack(fp32, q, 16, ['MatMulNBits']);
    const w = buildWeightSummaries(q).find((s) => s.stored)!;
    assert.match(w.stored!.scheme, /^4-bit, blocks of 32 along K$/);
  });

  it('the detail: a histogram of the values by default, of the codes when asked; the per-channel ranges of the values', async () => {
    const { q } = await quantized('detail', { mode: 'static' });
    const i = buildWeightSummaries(q).findIndex((s) => s.stored && s.shape.length === 4);
    const values = weightDetail(q, i, 32), codes = weightDetail(q, i, 32, true);
    assert.equal(values.values, 'dequantized');
    assert.equal(codes.values, 'codes');
    assert.ok(values.histogram.max < 2 && codes.histogram.max >= 64, `values up to ${values.histogram.max}, codes up to ${codes.histogram.max}`);
    assert.equal(values.channels?.axis, 0);
    assert.equal(values.channels?.min.length, 8);
    // A float weight has neither.
    const f = buildWeightSummaries(q).findIndex((s) => s.dtype === 'float' && s.elements > 1);
    assert.equal(weightDetail(q, f, 32).values, undefined);
  });

  it('DynamicQuantizeLSTM: W and R per gate row', async () => {
    const H = 4, I = 3;
    const src = path.join(tmp, 'lstm.onnx'), dst = path.join(tmp, 'lstm.q.onnx');
    writeModel(modelFromProto(makeModel({
      opset: 17,
      graph: {
        name: 'lstm', node: [node('LSTM', ['x', 'W', 'R'], ['y'], { hidden_size: H }, 'lstm')],
        initializer: [tensor('W', DataType.FLOAT, [1, 4 * H, I], randn(21, 4 * H * I, 0.5)), tensor('R', DataType.FLOAT, [1, 4 * H, H], randn(22, 16 * H, 0.5))],
        input: [valueInfo('x', DataType.FLOAT, [5, 1, I])], output: [valueInfo('y', DataType.FLOAT, [5, 1, 1, H])],
      },
    })), src);
    await quantizeFile(src, dst, { mode: 'dynamic' });
    const stored = buildWeightSummaries(loadModel(dst)).filter((s) => s.stored);
    assert.deepEqual(stored.map((s) => [s.stored!.via, s.stored!.scheme, s.stored!.scales]), [
      ['DynamicQuantizeLSTM', 'per gate row (the last axis, per direction)', 4 * H],
      ['DynamicQuantizeLSTM', 'per gate row (the last axis, per direction)', 4 * H],
    ]);
  });
});

describe('stored quantization, harder cases', () => {
  it('one DynamicQuantizeLinear for two MatMulIntegers (Q and K of an attention): each weight with its own scale', () => {
    const mmi = (k: string, scale: number) => [
      node('Mul', ['xs', `${k}_scale`], [`${k}_s`]),
      node('MatMulInteger', ['xq', `${k}_q`, 'xz', `${k}_zp`], [`${k}_i`]),
      node('Cast', [`${k}_i`], [`${k}_f`], { to: DataType.FLOAT }),
      node('Mul', [`${k}_f`, `${k}_s`], [`${k}_out`]),
      tensor(`${k}_scale`, DataType.FLOAT, [], Float32Array.of(scale)),
    ];
    const q = mmi('wq', 0.1), k = mmi('wk', 0.5);
    const m = modelFromProto(makeModel({
      graph: {
        name: 'qk', input: [valueInfo('x', DataType.FLOAT, [1, 2])], output: [valueInfo('wq_out', DataType.FLOAT, [1, 2]), valueInfo('wk_out', DataType.FLOAT, [1, 2])],
        node: [node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz']), ...[...q, ...k].filter((n) => 'op_type' in n) as ReturnType<typeof node>[]],
        initializer: [
          ...[q[4], k[4]] as ReturnType<typeof tensor>[],
          tensor('wq_q', DataType.UINT8, [2, 2], Uint8Array.of(130, 132, 134, 136)), tensor('wq_zp', DataType.UINT8, [], Uint8Array.of(128)),
          tensor('wk_q', DataType.UINT8, [2, 2], Uint8Array.of(130, 131, 132, 133)), tensor('wk_zp', DataType.UINT8, [], Uint8Array.of(128)),
        ],
      },
    }));
    const weights = m.weights();
    const read = (name: string) => { const i = weights.findIndex((w) => w.name === name); return Array.from([...storedQuantization(m, i)!.chunks()][0]); };
    assert.deepEqual(read('wq_q').map((v) => +v.toFixed(4)), [0.2, 0.4, 0.6, 0.8]);
    assert.deepEqual(read('wk_q').map((v) => +v.toFixed(4)), [1, 1.5, 2, 2.5]);
  });

  it('per-tensor QDQ: the detail of every stored weight draws (a 1-D int32 bias behind a scalar scale too)', async () => {
    const { q } = await quantized('per-tensor', { mode: 'static', perChannel: false });
    const summaries = buildWeightSummaries(q);
    const stored = summaries.map((s, i) => [s, i] as const).filter(([s]) => s.stored);
    assert.ok(stored.some(([s]) => s.dtype === 'int32'), 'a bias among them');
    for (const [s, i] of stored) assert.ok(weightDetail(q, i, 16).histogram.counts.length === 16, s.name);
  });
});

describe('a quantized model from the wild', { skip: noModels }, () => {
  it('IS-Net (onnxruntime dynamic ConvInteger): every uint8 weight read by a ConvInteger shows values centred on zero, its codes around 130', () => {
    const m = loadModel(path.join(modelsDir, 'imgly/isnet_quint8_dynamic_small.onnx'));
    const summaries = buildWeightSummaries(m, { stats: true });
    const kernels = summaries.filter((s) => s.consumers.some((c) => c.op === 'ConvInteger' && c.input === 1));
    assert.equal(kernels.length, 119);
    for (const s of kernels) {
      assert.equal(s.stored?.via, 'ConvInteger', s.name);
      // Trained conv weights: a mean well inside one standard deviation of zero (the codes' mean is ~130).
      assert.ok(Math.abs(s.stats!.mean) < s.stats!.std, `${s.name}: mean ${s.stats!.mean}, std ${s.stats!.std}`);
    }
    const i = summaries.indexOf(kernels[0]);
    const codes = weightDetail(m, i, 64, true);
    assert.ok(codes.percentiles.p50 > 100, `the codes' median ${codes.percentiles.p50}`);
  });
});
