// The quantizer's scale / zero-point math against ONNX semantics: round half to even, saturation, per-axis
// parameters, DynamicQuantizeLinear, and the integer ops the dynamic pattern runs (MatMulInteger,
// ConvInteger), checked against the ONNX backend conformance cases' expected outputs; then the block-wise
// 4/8-bit packing of MatMulNBits.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/onnx/load';
import type { NodeProto } from '../../src/onnx/proto';
import { intsAttr } from '../../src/quantize/graph';
import {
  axisLayout, channelParams, dequantizeBlockwise, dequantizeLinear, dequantizeValue, dynamicQuantizeLinear, quantizeBlockwise,
  quantizeLinear, quantizeTensor, quantizeValue, quantRange, roundHalfEven, scaleZeroPoint, transpose2d,
} from '../../src/quantize/math';
import { readTensorFile } from '../../src/runtime/inputs';
import { seededRandom } from '../../src/runtime/random';
import { modelsDir, noModels } from './helpers/models';
import { sqnrFromEnergy } from '../../src/runtime/compare';

const sqnr = (e: { signal: number; noise: number }) => sqnrFromEnergy(e.signal, e.noise);

const INT8 = quantRange('int8'), UINT8 = quantRange('uint8');

describe('quantize math: rounding and saturation', () => {
  it('rounds half to even (not half up like Math.round)', () => {
    const cases: [number, number][] = [[0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, 0], [-1.5, -2], [-2.5, -2], [2.4999999, 2], [2.5000001, 3], [-7.5, -8], [1e9 + 0.5, 1e9]];
    for (const [x, want] of cases) assert.equal(roundHalfEven(x), want, `round(${x})`);
    assert.ok(Number.isNaN(roundHalfEven(NaN)));
  });

  it('saturates instead of wrapping', () => {
    assert.equal(quantizeValue(1000, 1, 0, INT8), 127);
    assert.equal(quantizeValue(-1000, 1, 0, INT8), -128);
    assert.equal(quantizeValue(1000, 2, 128, UINT8), 255);
    assert.equal(quantizeValue(-1000, 2, 128, UINT8), 0);
    const out = new Int8Array(2);
    quantizeTensor(Float32Array.of(500, -500), axisLayout([2], null), { scales: Float32Array.of(1), zeroPoints: Int32Array.of(0), range: INT8 }, out);
    assert.deepEqual([...out], [127, -128]);
  });

  it('divides in float32 as QuantizeLinear does (x / scale, then round)', () => {
    // 2.5 / 0.019607843... is -127.49999 in float32 (not the -127.5 of exact arithmetic): it rounds to -127.
    const s = Math.fround(5 / 255);
    assert.equal(quantizeValue(-2.5, s, 153, UINT8), 26);
  });
});

describe('quantize math: scales and zero points', () => {
  it('int8 symmetric: range [-127, 127], zero point 0, scale = absmax / 127', () => {
    const { scale, zeroPoint } = scaleZeroPoint(-0.5, 1.27, quantRange('int8', { symmetric: true }), true);
    assert.equal(zeroPoint, 0);
    assert.equal(scale, Math.fround(1.27 / 127));
    assert.equal(quantizeValue(1.27, scale, 0, quantRange('int8', { symmetric: true })), 127);
    assert.equal(quantizeValue(-1.27, scale, 0, quantRange('int8', { symmetric: true })), -127);
  });

  it('uint8 asymmetric: 0.0 is exactly representable and the range is covered', () => {
    for (const [lo, hi] of [[-1, 3], [0.5, 2], [-4, -1], [-0.3, 0.7]]) {
      const { scale, zeroPoint } = scaleZeroPoint(lo, hi, UINT8, false);
      assert.ok(Number.isInteger(zeroPoint) && zeroPoint >= 0 && zeroPoint <= 255);
      assert.equal(dequantizeValue(quantizeValue(0, scale, zeroPoint, UINT8), scale, zeroPoint), 0, `[${lo}, ${hi}]`);
      assert.ok(Math.abs(dequantizeValue(quantizeValue(Math.min(lo, 0), scale, zeroPoint, UINT8), scale, zeroPoint) - Math.min(lo, 0)) <= scale / 2 + 1e-7);
      assert.ok(Math.abs(dequantizeValue(quantizeValue(Math.max(hi, 0), scale, zeroPoint, UINT8), scale, zeroPoint) - Math.max(hi, 0)) <= scale / 2 + 1e-7);
    }
  });

  it('uint8 symmetric is int8 symmetric shifted by 128; reduce_range follows onnxruntime', () => {
    const u = scaleZeroPoint(-2, 1, quantRange('uint8', { symmetric: true }), true);
    assert.deepEqual(u, { scale: Math.fround(2 / 127), zeroPoint: 128 });
    assert.deepEqual(quantRange('int8', { reduceRange: true }), { qmin: -64, qmax: 64 });
    assert.deepEqual(quantRange('uint8', { reduceRange: true }), { qmin: 0, qmax: 127 });
    assert.equal(scaleZeroPoint(-2, 1, quantRange('int8', { symmetric: true, reduceRange: true }), true).scale, Math.fround(2 / 64));
  });

  it('an all-zero tensor gets scale 1 (never 0 or NaN)', () => {
    assert.deepEqual(scaleZeroPoint(0, 0, quantRange('int8', { symmetric: true }), true), { scale: 1, zeroPoint: 0 });
    assert.deepEqual(scaleZeroPoint(0, 0, UINT8, false), { scale: 1, zeroPoint: 0 });
  });

  it('per-channel along the output axis: MatMul B [K, N] axis 1, Conv [M, C, kH, kW] axis 0', () => {
    const K = 3, N = 4;
    const w = Float32Array.from({ length: K * N }, (_, i) => ((i % N) + 1) * (i % 2 ? -1 : 1) * (1 + Math.floor(i / N)));
    const p = channelParams(w, axisLayout([K, N], 1), quantRange('int8', { symmetric: true }), true);
    for (let n = 0; n < N; n++) {
      let absmax = 0;
      for (let k = 0; k < K; k++) absmax = Math.max(absmax, Math.abs(w[k * N + n]));
      assert.equal(p.scales[n], Math.fround(absmax / 127), `column ${n}`);
    }
    const conv = Float32Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => (i < 12 ? 0.1 : 10) * Math.sin(i + 1));
    const pc = channelParams(conv, axisLayout([2, 3, 2, 2], 0), quantRange('int8', { symmetric: true }), true);
    assert.equal(pc.scales.length, 2);
    assert.ok(pc.scales[1] > 50 * pc.scales[0]);
    // quantizeTensor agrees element by element with QuantizeLinear of the element's channel.
    const q = new Int8Array(conv.length);
    quantizeTensor(conv, axisLayout([2, 3, 2, 2], 0), pc, q);
    conv.forEach((x, i) => assert.equal(q[i], quantizeValue(x, pc.scales[i < 12 ? 0 : 1], 0, pc.range)));
    const qm = new Int8Array(w.length);
    quantizeTensor(w, axisLayout([K, N], 1), p, qm);
    w.forEach((x, i) => assert.equal(qm[i], quantizeValue(x, p.scales[i % N], 0, p.range)));
  });

  it('SQNR in dB: 10 log10(signal / noise); exact gives Infinity', () => {
    assert.equal(sqnr({ signal: 100, noise: 1 }), 20);
    assert.equal(sqnr({ signal: 1, noise: 0 }), Infinity);
    const x = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i * 0.37));
    const p = channelParams(x, axisLayout([4096], null), quantRange('int8', { symmetric: true }), true);
    const e = quantizeTensor(x, axisLayout([4096], null), p, new Int8Array(4096));
    // A full-scale sine through a uniform quantizer of 255 levels: about 6.02 * 8 + 1.76 = 49.9 dB.
    assert.ok(sqnr(e) > 48.5 && sqnr(e) < 51, `SQNR ${sqnr(e)}`);
  });
});

/** Inputs and expected outputs of one conformance case. */
function conformance(name: string): { node: NodeProto; inputs: ReturnType<typeof readTensorFile>[]; outputs: ReturnType<typeof readTensorFile>[] } {
  const dir = path.join(modelsDir, 'conformance', name);
  const node = loadModel(path.join(dir, 'model.onnx')).proto.graph!.node![0];
  const read = (prefix: string) => {
    const out = [];
    for (let i = 0; fs.existsSync(path.join(dir, 'test_data_set_0', `${prefix}_${i}.pb`)); i++) out.push(readTensorFile(path.join(dir, 'test_data_set_0', `${prefix}_${i}.pb`)));
    return out;
  };
  return { node, inputs: read('input'), outputs: read('output') };
}

const arr = (t: { tensor: { data: unknown } }) => Array.from(t.tensor.data as ArrayLike<number>, Number);

/** MatMulInteger reference: (A - a_zp) x (B - b_zp) in int32 (2-D). */
function matMulInteger(A: number[], B: number[], M: number, K: number, N: number, azp: number, bzp: number): number[] {
  const y: number[] = [];
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let acc = 0;
    for (let k = 0; k < K; k++) acc += (A[i * K + k] - azp) * (B[k * N + j] - bzp);
    y.push(acc);
  }
  return y;
}

/** ConvInteger reference (2-D, one group, stride 1): padded positions hold x_zero_point, i.e. add 0. */
function convInteger(x: number[], [C, H, W]: number[], w: number[], [M, kH, kW]: number[], xzp: number, pads: number[]): { y: number[]; dims: number[] } {
  const [pt, pl, pb, pr] = pads;
  const oH = H + pt + pb - kH + 1, oW = W + pl + pr - kW + 1;
  const y: number[] = [];
  for (let m = 0; m < M; m++) for (let oy = 0; oy < oH; oy++) for (let ox = 0; ox < oW; ox++) {
    let acc = 0;
    for (let c = 0; c < C; c++) for (let ky = 0; ky < kH; ky++) for (let kx = 0; kx < kW; kx++) {
      const iy = oy + ky - pt, ix = ox + kx - pl;
      if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
      acc += (x[(c * H + iy) * W + ix] - xzp) * w[((m * C + c) * kH + ky) * kW + kx];
    }
    y.push(acc);
  }
  return { y, dims: [1, M, oH, oW] };
}

describe('quantize math: ONNX conformance cases', { skip: noModels }, () => {
  it('QuantizeLinear (per tensor, uint8, saturating)', () => {
    const { inputs: [x, s, z], outputs: [y] } = conformance('test_quantizelinear');
    const got = quantizeLinear(Float32Array.from(arr(x)), x.tensor.dims as number[], arr(s), arr(z), 1, UINT8);
    assert.deepEqual([...got], arr(y));
  });

  it('QuantizeLinear per axis', () => {
    const { node, inputs: [x, s, z], outputs: [y] } = conformance('test_quantizelinear_axis');
    const axis = node.attribute?.find((a) => a.name === 'axis') ? Number(node.attribute.find((a) => a.name === 'axis')!.i) : 1;
    const got = quantizeLinear(Float32Array.from(arr(x)), x.tensor.dims as number[], arr(s), arr(z), axis, UINT8);
    assert.deepEqual([...got], arr(y));
  });

  it('DequantizeLinear (per tensor and per axis)', () => {
    for (const name of ['test_dequantizelinear', 'test_dequantizelinear_axis']) {
      const { inputs: [x, s, z], outputs: [y] } = conformance(name);
      assert.deepEqual([...dequantizeLinear(arr(x), x.tensor.dims as number[], arr(s), arr(z), 1)], arr(y), name);
    }
  });

  it('DynamicQuantizeLinear: y, scale and zero point', () => {
    const { inputs: [x], outputs: [y, s, z] } = conformance('test_dynamicquantizelinear');
    const got = dynamicQuantizeLinear(Float32Array.from(arr(x)));
    assert.deepEqual([...got.y], arr(y));
    assert.equal(got.scale, arr(s)[0]);
    assert.equal(got.zeroPoint, arr(z)[0]);
  });

  it('MatMulInteger: (A - a_zp) x (B - b_zp) in int32', () => {
    const { inputs: [A, B, az, bz], outputs: [y] } = conformance('test_matmulinteger');
    const [M, K] = A.tensor.dims as number[], N = (B.tensor.dims as number[])[1];
    assert.deepEqual(matMulInteger(arr(A), arr(B), M, K, N, arr(az)[0], arr(bz)[0]), arr(y));
  });

  it('ConvInteger: padding contributes x_zero_point (adds nothing)', () => {
    for (const name of ['test_basic_convinteger', 'test_convinteger_with_padding']) {
      const { node, inputs: [x, w, xz], outputs: [y] } = conformance(name);
      const [, C, H, W] = x.tensor.dims as number[], [M, , kH, kW] = w.tensor.dims as number[];
      const got = convInteger(arr(x), [C, H, W], arr(w), [M, kH, kW], arr(xz)[0], intsAttr(node, 'pads') ?? [0, 0, 0, 0]);
      assert.deepEqual(got.dims, y.tensor.dims, name);
      assert.deepEqual(got.y, arr(y), name);
    }
  });
});

describe('quantize math: MatMulNBits block quantization', () => {
  const rand = seededRandom(42);
  const K = 70, N = 3;
  const w = Float32Array.from({ length: K * N }, () => rand() * 2 - 1);

  it('packs codes low nibble first along K, blocks per output column, padding the last block with zero codes', () => {
    const q = quantizeBlockwise(w, K, N, 32, 4, true);
    assert.equal(q.blocks, 3);
    assert.equal(q.blobSize, 16);
    assert.equal(q.packed.length, N * 3 * 16);
    assert.equal(q.scales.length, N * 3);
    assert.equal(q.zeroPoints, null);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
      const b = Math.floor(k / 32), i = k % 32;
      const code = (q.packed[(n * 3 + b) * 16 + (i >> 1)] >> ((i & 1) * 4)) & 15;
      assert.equal(code, quantizeValue(w[k * N + n], q.scales[n * 3 + b], 8, { qmin: 0, qmax: 15 }), `k ${k} n ${n}`);
    }
    // K = 70: elements 70..95 of the last block are padding, quantized zeros (code 8 = the default zero point).
    for (let n = 0; n < N; n++) for (let i = 70 - 64; i < 32; i++) assert.equal((q.packed[(n * 3 + 2) * 16 + (i >> 1)] >> ((i & 1) * 4)) & 15, 8);
  });

  it('symmetric: the largest-magnitude element of a block maps to -8 exactly (scale = it / -8)', () => {
    const q = quantizeBlockwise(w, K, N, 16, 4, true);
    for (let n = 0; n < N; n++) for (let b = 0; b < q.blocks; b++) {
      let extreme = 0;
      for (let k = b * 16; k < Math.min(K, b * 16 + 16); k++) if (Math.abs(w[k * N + n]) > Math.abs(extreme)) extreme = w[k * N + n];
      assert.equal(q.scales[n * q.blocks + b], Math.fround(extreme / -8));
    }
    // Round to nearest everywhere, except that the opposite extreme may clip at code 15 (+7): one step at most.
    const d = dequantizeBlockwise(q, K, N, 16, 4);
    for (let i = 0; i < K * N; i++) {
      const s = Math.abs(q.scales[(i % N) * q.blocks + Math.floor(Math.floor(i / N) / 16)]);
      const k = Math.floor(i / N), n = i % N, b = Math.floor(k / 16), j = k % 16;
      const code = (q.packed[(n * q.blocks + b) * 8 + (j >> 1)] >> ((j & 1) * 4)) & 15;
      assert.ok(Math.abs(d[i] - w[i]) <= (code === 15 ? s : s / 2) + 1e-6, `element ${i}`);
    }
  });

  it('asymmetric: zero points per block, packed per output column (ceil(blocks / 2) bytes each)', () => {
    const q = quantizeBlockwise(w, K, N, 16, 4, false);
    assert.equal(q.blocks, 5);
    assert.equal(q.zeroPoints!.length, N * 3);
    const d = dequantizeBlockwise(q, K, N, 16, 4);
    for (let i = 0; i < K * N; i++) {
      const s = q.scales[(i % N) * q.blocks + Math.floor(Math.floor(i / N) / 16)];
      assert.ok(Math.abs(d[i] - w[i]) <= s / 2 + 1e-6, `element ${i}`);
    }
    const q8 = quantizeBlockwise(w, K, N, 32, 8, false);
    assert.equal(q8.zeroPoints!.length, N * q8.blocks);
    assert.ok(sqnr(q8.energy) > sqnr(q.energy) + 15, '8 bits are far better than 4');
  });

  it('transpose2d', () => {
    const t = transpose2d(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3);
    assert.deepEqual([...t], [1, 4, 2, 5, 3, 6]);
  });
});
