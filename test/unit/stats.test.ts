import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { floatTensor } from '../../src/onnx/builder';
import { loadModel } from '../../src/onnx/load';
import { histogramPercentiles, perChannelMinMax, perChannelOfChunks, statsOfArray, statsOfChunks, tensorStats } from '../../src/onnx/stats';
import { TensorRef } from '../../src/onnx/tensor';
import { seededRandom } from '../../src/runtime/random';
import { modelsDir, noModels, sampleModel } from './helpers/models';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

describe('statistics', () => {
  it('min, max, mean, std, sparsity of a known array', () => {
    const s = statsOfArray(Float64Array.from([0, 0, 1, 2, 3, 4, -4, 10]), { bins: 7 });
    assert.equal(s.min, -4); assert.equal(s.max, 10);
    close(s.mean, 2);
    const variance = [0, 0, 1, 2, 3, 4, -4, 10].reduce((a, x) => a + (x - 2) ** 2, 0) / 8;
    close(s.std, Math.sqrt(variance));
    assert.equal(s.zeros, 2); close(s.sparsity, 0.25);
    // bins of width 2 over [-4, 10]: -4 | 0 0 1 | 2 3 | 4 | | | 10
    assert.deepEqual(s.histogram.counts, [1, 0, 3, 2, 1, 0, 1]);
  });

  it('counts NaN and Inf and leaves them out of everything else', () => {
    const s = statsOfArray(Float32Array.from([1, NaN, 2, Infinity, -Infinity, 3]), { bins: 2 });
    assert.equal(s.nan, 1); assert.equal(s.inf, 2); assert.equal(s.count, 3);
    assert.equal(s.min, 1); assert.equal(s.max, 3); close(s.mean, 2);
    assert.equal(s.histogram.counts.reduce((a, b) => a + b), 3);
  });

  it('keeps precision for values far from zero', () => {
    const s = statsOfArray(Float64Array.from({ length: 1000 }, (_, i) => 1e8 + (i % 2)));
    close(s.mean, 1e8 + 0.5); close(s.std, 0.5, 1e-6);
  });

  it('is the same whether the data comes in one piece or in chunks', () => {
    const rand = seededRandom(3);
    const a = Float32Array.from({ length: 100_003 }, () => rand() * 2 - 1);
    const whole = statsOfArray(a, { bins: 128 });
    const chunked = statsOfChunks(() => [a.subarray(0, 777), a.subarray(777, 50_000), a.subarray(50_000)], { bins: 128 });
    assert.deepEqual(chunked.histogram, whole.histogram);
    close(chunked.mean, whole.mean, 1e-12);
  });

  it('estimates percentiles from the histogram', () => {
    const a = Float64Array.from({ length: 10_001 }, (_, i) => i / 10_000); // uniform on [0, 1]
    const s = statsOfArray(a, { bins: 1000, percentiles: [1, 50, 99] });
    close(s.percentiles.p1, 0.01, 2e-3); close(s.percentiles.p50, 0.5, 2e-3); close(s.percentiles.p99, 0.99, 2e-3);
    assert.deepEqual(histogramPercentiles([0, 10, 0, 0], 0, 4, [50]), { p50: 1.5 });
  });

  it('handles a constant tensor and an empty one', () => {
    const c = statsOfArray(Float32Array.from([5, 5, 5]), { bins: 4 });
    assert.equal(c.min, 5); assert.equal(c.max, 5); assert.equal(c.std, 0);
    assert.equal(c.histogram.counts.reduce((a, b) => a + b), 3);
    const e = statsOfArray(new Float32Array(0));
    assert.ok(Number.isNaN(e.min)); assert.equal(e.count, 0);
  });

  it('per-channel min/max along any axis, across chunk boundaries', () => {
    // shape [2, 3, 2]: value = 100*i + 10*j + k
    const dims = [2, 3, 2];
    const a = Float64Array.from({ length: 12 }, (_, n) => 100 * Math.floor(n / 6) + 10 * (Math.floor(n / 2) % 3) + (n % 2));
    const chunks = () => [a.subarray(0, 5), a.subarray(5, 7), a.subarray(7)];
    const ax0 = perChannelOfChunks(chunks, dims, 0);
    assert.deepEqual(Array.from(ax0.min), [0, 100]); assert.deepEqual(Array.from(ax0.max), [21, 121]);
    const ax1 = perChannelOfChunks(chunks, dims, 1);
    assert.deepEqual(Array.from(ax1.min), [0, 10, 20]); assert.deepEqual(Array.from(ax1.max), [101, 111, 121]);
    const last = perChannelOfChunks(chunks, dims, -1);
    assert.deepEqual(Array.from(last.min), [0, 1]); assert.deepEqual(Array.from(last.max), [120, 121]);
  });

  it('on a real Conv weight: per-output-channel ranges bound the tensor range', () => {
    const w = loadModel(sampleModel).weights().find((t) => t.name === 'Parameter87')!;
    const s = tensorStats(w);
    const ch = perChannelMinMax(w, 0);
    assert.equal(ch.channels, 16);
    assert.equal(Math.min(...ch.min), s.min);
    assert.equal(Math.max(...ch.max), s.max);
    assert.equal(s.count, 16 * 8 * 5 * 5);
  });

  it('a tensor of float values decoded lazily gives the same numbers as its source', () => {
    const t = new TensorRef(floatTensor('x', [4], [1, -1, 0.5, 0]), 'initializer', 'main');
    const s = tensorStats(t, { bins: 4 });
    assert.equal(s.zeros, 1); assert.equal(s.min, -1); assert.equal(s.max, 1);
  });

  it('covers every weight of the IS-Net model (uint8, float, int64)', { skip: noModels }, () => {
    const m = loadModel(path.join(modelsDir, 'imgly/isnet_quint8_dynamic_small.onnx'));
    let elements = 0;
    for (const w of m.weights()) { const s = tensorStats(w); elements += s.count + s.nan + s.inf; if (w.dtypeName === 'uint8') assert.ok(s.min >= 0 && s.max <= 255); }
    assert.equal(elements, 44_018_860);
  });
});

describe('statistics with non-finite chunks', () => {
  it('a chunk of only NaN before finite data counts correctly', () => {
    const s = statsOfChunks(() => [Float32Array.from([NaN, NaN]), Float32Array.from([1, 3]), Float32Array.from([Infinity])], { bins: 2 });
    assert.equal(s.nan, 2); assert.equal(s.inf, 1); assert.equal(s.count, 2);
    assert.equal(s.mean, 2); assert.deepEqual(s.histogram.counts, [1, 1]);
  });
});
