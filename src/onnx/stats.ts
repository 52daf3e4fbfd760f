// Weight statistics: per-tensor moments, sparsity, NaN/Inf counts, histograms and percentiles, and
// per-channel ranges. Two passes over bounded chunks (range, then histogram) so memory stays flat
// whatever the tensor size; the inner loops are kept simple so V8 compiles them tight.
import type { TensorStats } from '../protocol/inspect';
import type { TensorRef } from './tensor';

type Chunk = Float32Array | Float64Array;

export interface StatsOptions {
  /** Histogram bins (default 64). */
  bins?: number;
  /** Percentiles to estimate from the histogram, in percent (default 0.1, 1, 5, 25, 50, 75, 95, 99, 99.9). */
  percentiles?: number[];
}

export const DEFAULT_PERCENTILES = [0.1, 1, 5, 25, 50, 75, 95, 99, 99.9];

interface Moments { min: number; max: number; shift: number; sum: number; sumSq: number; zeros: number; nan: number; inf: number; n: number }

function momentsPass(chunks: Iterable<Chunk>): Moments {
  const m: Moments = { min: Infinity, max: -Infinity, shift: NaN, sum: 0, sumSq: 0, zeros: 0, nan: 0, inf: 0, n: 0 };
  for (const a of chunks) accumulate(a, m);
  return m;
}

function accumulate(a: Chunk, m: Moments): void {
  if (m.shift !== m.shift) {
    // Moments are taken around the first finite value, which keeps the variance precise far from zero.
    for (let i = 0; i < a.length; i++) if (a[i] - a[i] === 0) { m.shift = a[i]; break; }
    if (m.shift !== m.shift) { m.n += a.length; countNonFinite(a, m); return; }
  }
  const shift = m.shift;
  let min = m.min, max = m.max, sum = 0, sumSq = 0, zeros = 0;
  const n = a.length;
  // Math.min/Math.max compile branch-free; a NaN or ±Inf anywhere poisons `sum`, and only then do we
  // take the slow path for this chunk.
  for (let i = 0; i < n; i++) {
    const x = a[i];
    min = Math.min(min, x);
    max = Math.max(max, x);
    const d = x - shift;
    sum += d;
    sumSq += d * d;
    zeros += x === 0 ? 1 : 0;
  }
  if (sum - sum !== 0) {
    min = m.min; max = m.max; sum = 0; sumSq = 0; zeros = 0;
    for (let i = 0; i < n; i++) {
      const x = a[i];
      if (x - x !== 0) continue;
      min = Math.min(min, x);
      max = Math.max(max, x);
      const d = x - shift;
      sum += d;
      sumSq += d * d;
      zeros += x === 0 ? 1 : 0;
    }
    countNonFinite(a, m);
  }
  m.min = min; m.max = max; m.sum += sum; m.sumSq += sumSq; m.zeros += zeros;
  m.n += n;
}

/** Counts NaN and ±Inf of a chunk (they are then subtracted from the finite count). */
function countNonFinite(a: Chunk, m: Moments): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (x !== x) { m.nan++; m.n--; } else if (x - x !== 0) { m.inf++; m.n--; }
  }
}

function histogramPass(chunks: Iterable<Chunk>, min: number, max: number, bins: number, finiteOnly: boolean): Float64Array {
  const counts = new Float64Array(bins);
  const scale = max > min ? bins / (max - min) : 0;
  // Four interleaved sets of int32 counters: consecutive values often fall in the same bin, and
  // separate counters keep those increments from waiting on each other. Each set has one extra slot
  // for x == max (index == bins). Counters are flushed every 2^29 elements, before they could overflow.
  const stride = bins + 1;
  const local = new Int32Array(4 * stride);
  const flush = () => {
    for (let k = 0; k < 4; k++) {
      for (let b = 0; b < bins; b++) counts[b] += local[k * stride + b];
      counts[bins - 1] += local[k * stride + bins];
    }
    local.fill(0);
  };
  const s1 = stride, s2 = 2 * stride, s3 = 3 * stride;
  for (const chunk of chunks) {
    for (let start = 0; start < chunk.length; start += 2 ** 29) {
      const a = chunk.subarray(start, Math.min(chunk.length, start + 2 ** 29));
      const n = a.length;
      if (!finiteOnly) {
        const n4 = n - (n % 4);
        for (let i = 0; i < n4; i += 4) {
          local[((a[i] - min) * scale) | 0]++;
          local[s1 + (((a[i + 1] - min) * scale) | 0)]++;
          local[s2 + (((a[i + 2] - min) * scale) | 0)]++;
          local[s3 + (((a[i + 3] - min) * scale) | 0)]++;
        }
        for (let i = n4; i < n; i++) local[((a[i] - min) * scale) | 0]++;
      } else {
        for (let i = 0; i < n; i++) {
          const x = a[i];
          if (x - x === 0) local[((x - min) * scale) | 0]++;
        }
      }
      flush();
    }
  }
  return counts;
}

/** Percentile estimates from a histogram, interpolating linearly inside a bin. */
export function histogramPercentiles(counts: ArrayLike<number>, min: number, max: number, percentiles: number[]): Record<string, number> {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  const width = (max - min) / counts.length;
  const out: Record<string, number> = {};
  for (const p of percentiles) {
    const target = (p / 100) * total;
    let cum = 0;
    let value = max;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] > 0 && cum + counts[i] >= target) {
        value = min + width * (i + (target - cum) / counts[i]);
        break;
      }
      cum += counts[i];
    }
    out[`p${p}`] = total === 0 ? NaN : Math.min(max, Math.max(min, value));
  }
  return out;
}

/** Statistics over values given as chunks; `chunks` is called twice (range first, then histogram). */
export function statsOfChunks(chunks: () => Iterable<Chunk>, options: StatsOptions = {}): TensorStats {
  const bins = Math.max(1, Math.floor(options.bins ?? 64));
  const m = momentsPass(chunks());
  const count = m.n;
  const empty = count === 0;
  const min = empty ? NaN : m.min;
  const max = empty ? NaN : m.max;
  const counts = empty ? new Float64Array(bins) : histogramPass(chunks(), min, max, bins, m.nan + m.inf > 0);
  const mean = empty ? NaN : m.shift + m.sum / count;
  const variance = empty ? NaN : Math.max(0, m.sumSq / count - (m.sum / count) ** 2);
  const total = count + m.nan + m.inf;
  return {
    min, max, mean, std: Math.sqrt(variance),
    sparsity: total === 0 ? 0 : m.zeros / total,
    zeros: m.zeros, nan: m.nan, inf: m.inf, count,
    histogram: { min, max, counts: Array.from(counts) },
    percentiles: histogramPercentiles(counts, min, max, options.percentiles ?? DEFAULT_PERCENTILES),
  };
}

export function statsOfArray(values: Chunk, options: StatsOptions = {}): TensorStats {
  return statsOfChunks(() => [values], options);
}

export function tensorStats(tensor: TensorRef, options: StatsOptions = {}): TensorStats {
  return statsOfChunks(() => tensor.chunks(), options);
}

export interface ChannelRanges { axis: number; channels: number; min: Float64Array; max: Float64Array }

/** Min and max of each slice along `axis` (for example axis 0 of a Conv weight: each output channel). NaN and ±Inf are ignored. */
export function perChannelMinMax(tensor: TensorRef, axis: number): ChannelRanges {
  return perChannelOfChunks(() => tensor.chunks(), tensor.dims, axis);
}

export function perChannelOfChunks(chunks: () => Iterable<Chunk>, dims: number[], axis: number): ChannelRanges {
  const rank = dims.length;
  const ax = axis < 0 ? axis + rank : axis;
  if (ax < 0 || ax >= rank) throw new RangeError(`axis ${axis} is out of range for a tensor of rank ${rank}`);
  const channels = dims[ax];
  const inner = dims.slice(ax + 1).reduce((a, b) => a * b, 1);
  const min = new Float64Array(channels).fill(Infinity);
  const max = new Float64Array(channels).fill(-Infinity);
  let g = 0; // global element index
  for (const a of chunks()) {
    let i = 0;
    while (i < a.length) {
      const c = Math.floor(g / inner) % channels;
      const run = Math.min(a.length - i, inner - (g % inner)); // elements left in this channel's run
      let lo = min[c], hi = max[c];
      for (let k = i; k < i + run; k++) {
        const x = a[k];
        if (x - x !== 0) continue;
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
      }
      min[c] = lo; max[c] = hi;
      i += run; g += run;
    }
  }
  for (let c = 0; c < channels; c++) if (min[c] > max[c]) { min[c] = NaN; max[c] = NaN; }
  return { axis: ax, channels, min, max };
}
