// Calibration's statistics: the running histogram (growth by merging is exact, memory is fixed), the
// percentile and entropy (KL-divergence) ranges on distributions whose answer is known, and the MinMax /
// Percentile / Entropy calibrators fed sample by sample.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EntropyCalibrator, MinMaxCalibrator, PercentileCalibrator } from '../../src/quantize/calibrate/calibrator';
import { entropyRange, entropyThreshold, finiteMinMax, percentileRange, RunningHistogram } from '../../src/quantize/calibrate/histogram';
import { seededRandom } from '../../src/runtime/random';

const gaussian = (seed: number) => {
  const r = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
};

/** Feeds `batches` batches of `n` values into a histogram (and returns the values for reference). */
function fill(h: RunningHistogram, batches: number, n: number, next: () => number): Float32Array {
  const all = new Float32Array(batches * n);
  for (let b = 0; b < batches; b++) {
    const d = Float32Array.from({ length: n }, next);
    all.set(d, b * n);
    h.add(d);
  }
  return all;
}

function exactQuantile(values: Float32Array, q: number): number {
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

describe('running histogram', () => {
  it('counts every finite value once, ignores NaN and infinities, and keeps exact zeros apart', () => {
    const h = new RunningHistogram(64);
    h.add(Float32Array.of(0, 0, 1, -2, NaN, Infinity, -Infinity, 0.5));
    assert.equal(h.total, 5);
    assert.equal(h.zeros, 2);
    assert.equal(h.counts.reduce((a, b) => a + b, 0), 3);
    assert.deepEqual([h.min, h.max], [-2, 1]);
    assert.deepEqual(finiteMinMax(Float32Array.of(NaN, 3, -1)), { min: -1, max: 3 });
  });

  it('grows by doubling and merging pairs of bins: the counts match a histogram made at the final width', () => {
    const h = new RunningHistogram(256);
    const r = seededRandom(5);
    const all: number[] = [];
    for (const scale of [0.1, 1, 3, 40, 7]) {
      const d = Float32Array.from({ length: 2000 }, () => (r() * 2 - 1) * scale);
      all.push(...d);
      h.add(d);
    }
    const R = h.halfWidth, w = (2 * R) / 256;
    const direct = new Float64Array(256);
    for (const v of all) if (v !== 0) direct[Math.min(255, Math.floor((v + R) / w))]++;
    assert.ok(R >= 40 * 0.99 && R <= 40 * 2.5, `half-width ${R}`);
    assert.deepEqual(Array.from(h.counts), Array.from(direct));
    assert.equal(h.counts.length, 256, 'memory does not grow');
  });

  it('refuses a bin count that cannot be merged in pairs around zero', () => {
    assert.throws(() => new RunningHistogram(30), /multiple of 4/);
  });
});

describe('percentile ranges', () => {
  const h = new RunningHistogram(4096);
  const values = fill(h, 10, 20000, gaussian(1));

  it('asymmetric: the (100 - p)-th and p-th percentiles, within a bin of the exact ones', () => {
    const r = percentileRange(h, 99.9, false);
    const w = h.width;
    assert.ok(Math.abs(r.max - exactQuantile(values, 0.999)) <= 2 * w, `${r.max} vs ${exactQuantile(values, 0.999)}`);
    assert.ok(Math.abs(r.min - exactQuantile(values, 0.001)) <= 2 * w, `${r.min} vs ${exactQuantile(values, 0.001)}`);
  });

  it('symmetric: the percentile of |x|; 100 gives the observed extremes', () => {
    const r = percentileRange(h, 99.99, true);
    assert.equal(r.min, -r.max);
    const abs = values.map(Math.abs);
    assert.ok(Math.abs(r.max - exactQuantile(abs, 0.9999)) <= 2 * h.width);
    const all = percentileRange(h, 100, false);
    assert.ok(all.max <= h.max && all.max >= h.max - h.width * 1.01);
    assert.ok(all.min >= h.min && all.min <= h.min + h.width * 1.01);
  });

  it('the calibrator keeps one histogram per tensor and its ranges clip outliers', () => {
    const c = new PercentileCalibrator(99.9);
    const g = gaussian(2);
    for (let s = 0; s < 8; s++) {
      const d = Float32Array.from({ length: 5000 }, g);
      if (s === 3) d[0] = 1000; // one outlier
      (c as unknown as { observe(k: string, d: Float32Array): void }).observe('t', d);
    }
    const r = c.ranges().get('t')!;
    assert.ok(r.max < 5, `max ${r.max}: the outlier is clipped`);
    assert.ok(r.max > 2.5, `max ${r.max}`);
    assert.equal(c.histogram('t')!.max, 1000);
  });
});

describe('entropy (KL divergence) ranges', () => {
  it('leaves a distribution that already fits the levels alone', () => {
    const hist = new Float64Array(1024);
    for (let i = 0; i < 100; i++) hist[i] = 10;
    assert.equal(entropyThreshold(hist, 0.01, 128), 100 * 0.01);
  });

  it('clips a long sparse tail, and keeps a Gaussian at 3.5 to 5 sigma with 8 bits', () => {
    const hist = new Float64Array(2048);
    for (let i = 0; i < 300; i++) hist[i] = 1000;
    for (let i = 300; i < 2048; i += 97) hist[i] = 1; // sparse outliers up to 20x the body
    const t = entropyThreshold(hist, 1, 128);
    assert.ok(t >= 290 && t < 700, `threshold ${t}`);

    const h = new RunningHistogram(4096);
    fill(h, 10, 20000, gaussian(3));
    const r = entropyRange(h, 256, true);
    assert.ok(r.max >= 3.5 && r.max <= 5, `${r.max}`);
    assert.equal(r.min, -r.max);
  });

  it('a Relu output (half of it exact zeros) keeps its body: zeros do not drive the threshold', () => {
    const h = new RunningHistogram(4096);
    const g = gaussian(4);
    fill(h, 10, 20000, () => Math.max(0, g()));
    const r = entropyRange(h, 256, false);
    assert.equal(r.min, 0);
    assert.ok(r.max >= 3 && r.max <= h.max, `${r.max} of ${h.max}`);
  });

  it('the calibrator: asymmetric ranges stay inside what was observed', () => {
    const c = new EntropyCalibrator(256, false);
    const g = gaussian(6);
    for (let s = 0; s < 4; s++) (c as unknown as { observe(k: string, d: Float32Array): void }).observe('x', Float32Array.from({ length: 10000 }, () => 2 + g()));
    const r = c.ranges().get('x')!;
    const h = c.histogram('x')!;
    assert.ok(r.min >= h.min && r.max <= h.max && r.max > 4, JSON.stringify(r));
  });
});

describe('MinMax calibrator', () => {
  it('keeps running extremes per tensor', () => {
    const c = new MinMaxCalibrator();
    const observe = (k: string, d: number[]) => (c as unknown as { observe(k: string, d: Float32Array): void }).observe(k, Float32Array.from(d));
    observe('a', [1, 2, 3]);
    observe('a', [-4, 0.5]);
    observe('b', [NaN, 7]);
    assert.deepEqual(Object.fromEntries(c.ranges()), { a: { min: -4, max: 3 }, b: { min: 7, max: 7 } });
  });
});
