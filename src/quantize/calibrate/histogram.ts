// Running statistics of one activation tensor over the calibration samples, in memory that does not grow
// with the sample count: the minimum and maximum, and a histogram of fixed size over [-R, R] whose
// half-width R doubles (merging pairs of bins, which is exact) whenever a sample falls outside it. From
// it: percentile ranges and the entropy (KL-divergence) threshold search of TensorRT and onnxruntime.
// Hot loops are plain and monomorphic (see design.md: a 2048-bin histogram runs at about 0.9 GB/s).

/** Minimum and maximum of the finite values of `data` (NaN and infinities are ignored). */
export function finiteMinMax(data: Float32Array): { min: number; max: number } {
  let lo = Infinity, hi = -Infinity;
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (Number.isFinite(lo) && Number.isFinite(hi)) return { min: lo, max: hi };
  // A NaN or an infinity poisoned the fast scan: the branchy one skips them.
  lo = Infinity; hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (v - v !== 0) continue; // NaN or +-Infinity
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { min: lo, max: hi };
}

export class RunningHistogram {
  /** Counts of bins over [-halfWidth, halfWidth], bin i covering [-R + i w, -R + (i + 1) w), w = 2R / bins. */
  readonly counts: Float64Array;
  /** R; 0 until a sample with a non-zero value arrives. */
  halfWidth = 0;
  min = Infinity;
  max = -Infinity;
  /** Finite values seen. */
  total = 0;
  /**
   * Exact zeros, kept out of `counts`: every range of static quantization represents 0 exactly, so they
   * never contribute error (and the zero spike after a Relu would otherwise dominate the entropy search).
   */
  zeros = 0;

  /** `bins` must be a multiple of 4 (growth merges pairs of bins around the centre). */
  constructor(readonly bins = 4096) {
    if (bins < 8 || bins % 4 !== 0) throw new Error(`histogram bins must be a multiple of 4 and at least 8; got ${bins}`);
    this.counts = new Float64Array(bins);
  }

  add(data: Float32Array): void {
    if (data.length === 0) return;
    const { min, max } = finiteMinMax(data);
    if (!(min <= max)) return; // nothing finite
    this.min = Math.min(this.min, min);
    this.max = Math.max(this.max, max);
    const absmax = Math.max(-min, max);
    if (absmax === 0) {
      let zeros = 0;
      for (let i = 0; i < data.length; i++) if (data[i] === 0) zeros++;
      this.total += zeros;
      this.zeros += zeros;
      return;
    }
    if (this.halfWidth === 0) this.halfWidth = absmax;
    while (absmax > this.halfWidth) this.grow();
    const counted = binInto(data, this.counts, this.halfWidth, this.bins);
    this.total += counted.values;
    this.zeros += counted.zeros;
  }

  /** The counts with the exact zeros put back into the bin that holds 0 (for quantiles). */
  countsWithZeros(): Float64Array {
    const c = this.counts.slice();
    c[this.bins >> 1] += this.zeros;
    return c;
  }

  /** Doubles the half-width: the old bins map exactly onto the middle half of the new ones. */
  private grow(): void {
    const B = this.bins, c = this.counts;
    const merged = new Float64Array(B);
    for (let i = 0; i < B; i++) merged[(B >> 2) + (i >> 1)] += c[i];
    c.set(merged);
    this.halfWidth *= 2;
  }

  /** Bin width. */
  get width(): number { return (2 * this.halfWidth) / this.bins; }

  /**
   * Counts of |x| over [0, R) in bins/2 bins (bin k covering [k w, (k + 1) w)). The bin just below zero,
   * [-w, 0), folds onto bin 0 with the bin above it.
   */
  absCounts(withZeros = false): Float64Array {
    const half = this.bins >> 1;
    const out = new Float64Array(half);
    for (let k = 0; k < half; k++) out[k] = this.counts[half + k] + this.counts[half - 1 - k];
    if (withZeros) out[0] += this.zeros;
    return out;
  }

  /** Counts of x > 0 (bins/2 bins over [0, R)); negative values and exact zeros are left out. */
  positiveCounts(): Float64Array {
    return this.counts.slice(this.bins >> 1);
  }
}

/** Adds the finite non-zero values of `data` into `counts` (bins over [-R, R]); counts them and the zeros. */
function binInto(data: Float32Array, counts: Float64Array, R: number, bins: number): { values: number; zeros: number } {
  const scale = bins / (2 * R), last = bins - 1;
  let counted = 0, zeros = 0;
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (v - v !== 0) continue;
    counted++;
    if (v === 0) { zeros++; continue; }
    let b = Math.floor((v + R) * scale);
    b = b < 0 ? 0 : b > last ? last : b;
    counts[b]++;
  }
  return { values: counted, zeros };
}

/** The smallest x such that at least `fraction` of the counts lie at or below x, at bin edges. */
function quantileEdge(counts: Float64Array, start: number, width: number, fraction: number, fromTop: boolean): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return start;
  const target = fraction * total;
  let cum = 0;
  if (!fromTop) {
    for (let i = 0; i < counts.length; i++) {
      cum += counts[i];
      if (cum >= target) return start + (i + 1) * width;
    }
    return start + counts.length * width;
  }
  for (let i = counts.length - 1; i >= 0; i--) {
    cum += counts[i];
    if (cum >= target) return start + i * width;
  }
  return start;
}

/**
 * The range that keeps `percentile` percent of the values. Symmetric: [-t, t] with t the percentile of
 * |x|. Asymmetric: the (100 - p)-th and p-th percentiles of x. Both are clamped to the observed range.
 */
export function percentileRange(h: RunningHistogram, percentile: number, symmetric: boolean): { min: number; max: number } {
  if (h.total === 0 || h.halfWidth === 0) return { min: Math.min(0, finiteOr(h.min)), max: Math.max(0, finiteOr(h.max)) };
  const p = percentile / 100;
  if (symmetric) {
    const t = Math.min(quantileEdge(h.absCounts(true), 0, h.width, p, false), Math.max(-h.min, h.max));
    return { min: -t, max: t };
  }
  const tail = 1 - p;
  const counts = h.countsWithZeros();
  const lo = Math.max(h.min, quantileEdge(counts, -h.halfWidth, h.width, tail, false) - h.width);
  const hi = Math.min(h.max, quantileEdge(counts, -h.halfWidth, h.width, tail, true) + h.width);
  return { min: Math.min(lo, hi), max: Math.max(lo, hi) };
}

const finiteOr = (x: number) => (Number.isFinite(x) ? x : 0);

/**
 * The threshold t in (0, R] over a one-sided histogram (bin k = [k w, (k + 1) w)) that minimises the
 * KL divergence between the reference distribution P (the histogram cut at t, the values beyond t added
 * to its last bin) and its quantization Q into `levels` levels (TensorRT's entropy calibration, as
 * onnxruntime's calibrate.py does it). Candidates are every bin edge from `levels` bins up.
 */
export function entropyThreshold(hist: Float64Array, width: number, levels: number): number {
  const n = hist.length;
  let last = n;
  while (last > 0 && hist[last - 1] === 0) last--;
  if (last === 0) return width;
  if (last <= levels) return last * width; // every bin gets its own level: no clipping needed
  const suffix = new Float64Array(n + 1);
  for (let i = n - 1; i >= 0; i--) suffix[i] = suffix[i + 1] + hist[i];
  const p = new Float64Array(n), q = new Float64Array(n);
  let bestKl = Infinity, best = last;
  // Above `last` every candidate is the same (no outliers), so the search stops there.
  for (let i = levels; i <= last; i++) {
    // Reference: the first i bins, with the outliers folded into the last.
    let pSum = 0;
    for (let k = 0; k < i; k++) { p[k] = hist[k]; pSum += hist[k]; }
    p[i - 1] += suffix[i];
    pSum += suffix[i];
    // Candidate: the first i bins merged into `levels` groups, each group's count spread evenly over its
    // non-empty bins.
    const perLevel = i / levels;
    let qSum = 0;
    for (let j = 0; j < levels; j++) {
      const start = Math.floor(j * perLevel), end = j === levels - 1 ? i : Math.floor((j + 1) * perLevel);
      let sum = 0, nonzero = 0;
      for (let k = start; k < end; k++) { sum += hist[k]; if (hist[k] !== 0) nonzero++; }
      const share = nonzero ? sum / nonzero : 0;
      for (let k = start; k < end; k++) { q[k] = hist[k] !== 0 ? share : 0; qSum += q[k]; }
    }
    if (qSum === 0 || pSum === 0) continue;
    let kl = 0;
    for (let k = 0; k < i; k++) {
      const pk = p[k] / pSum;
      if (pk === 0) continue;
      // A level that P has and Q lacks (the outlier bin over an empty bin) is smoothed, as onnxruntime does.
      const qk = q[k] !== 0 ? q[k] / qSum : 1e-10;
      kl += pk * Math.log(pk / qk);
    }
    if (kl < bestKl) { bestKl = kl; best = i; }
  }
  return best * width;
}

/**
 * The entropy-calibrated range. A tensor without negative values is searched over its positive side with
 * all of the type's levels; any other over |x| with half of them, and the threshold is clamped to the
 * observed range.
 */
export function entropyRange(h: RunningHistogram, levels: number, symmetric: boolean): { min: number; max: number } {
  if (h.total === h.zeros || h.halfWidth === 0) return { min: Math.min(0, finiteOr(h.min)), max: Math.max(0, finiteOr(h.max)) };
  const half = h.bins >> 1;
  const nonNegative = h.min >= 0;
  if (nonNegative && !symmetric) {
    const t = Math.min(entropyThreshold(h.positiveCounts(), h.width, Math.min(levels, half)), h.max);
    return { min: 0, max: t };
  }
  const t = entropyThreshold(h.absCounts(), h.width, Math.min(Math.max(2, Math.floor(levels / 2)), half));
  if (symmetric) {
    const c = Math.min(t, Math.max(-h.min, h.max));
    return { min: -c, max: c };
  }
  return { min: Math.max(h.min, -t), max: Math.min(h.max, t) };
}
