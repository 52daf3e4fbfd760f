// The one implementation of output-difference figures. Everything that says how far two models' outputs
// are apart (compare, the accuracy target, SmoothQuant's check, the quantize report, the bench's output
// check) computes it here, per output: a figure that joins all outputs lets a large output hide a small
// one that collapsed.
//
// Conventions (the same everywhere): A is the reference (FP32), B the candidate.
//   cosine: 1 when both are all zeros, 0 when only one is (never NaN);
//   sqnrDb: 10 log10(sum a^2 / sum (a - b)^2); +Infinity when B equals A, -Infinity when A is all zeros and
//           B is not (JSON writes both as null; `identical` and `cosine` tell them apart);
//   non-finite values: an element where A and B are the same NaN or infinity adds nothing; one where they
//           differ is counted in `nonFiniteMismatch` and makes maxAbs Infinity, cosine 0 and SQNR -Infinity
//           (it fails any tolerance and any target).

import type { ComparePolicy, DiffFigures, OutputComparison, OutputPlot, Tolerance } from '../protocol/compare';
import { seededRandom } from './random';

export type { ComparePolicy, DiffFigures, OutputComparison, Tolerance, TopKAgreement } from '../protocol/compare';

/** A tensor as onnxruntime returns it (or a plain typed array with its dims). */
export interface TensorLike { readonly type: string; readonly data: unknown; readonly dims: readonly number[] }



/** Running sums for the figures of one comparison; add chunks (samples) to pool them. */
export class DiffAccumulator {
  private n = 0;
  private sumAbs = 0;
  private maxAbs = 0;
  private ee = 0;
  private aa = 0;
  private bb = 0;
  private ab = 0;
  private mismatch = 0;
  /** Elements outside the tolerance, when one was given. */
  outside = 0;
  /** The largest |a - b| / (atol + rtol |a|) seen (1 is the edge of the tolerance). */
  worstRatio = 0;

  constructor(private readonly tolerance?: Tolerance) {}

  add(a: ArrayLike<number>, b: ArrayLike<number>): void {
    if (a.length !== b.length) throw new Error(`cannot compare ${a.length} values with ${b.length}`);
    const tol = this.tolerance;
    let { n, sumAbs, maxAbs, ee, aa, bb, ab, mismatch, outside, worstRatio } = this;
    for (let i = 0; i < a.length; i++) {
      const x = a[i], y = b[i];
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
        mismatch++; outside++; maxAbs = Infinity; worstRatio = Infinity;
        continue;
      }
      const d = x - y, e = Math.abs(d);
      n++; sumAbs += e; ee += d * d; aa += x * x; bb += y * y; ab += x * y;
      if (e > maxAbs) maxAbs = e;
      if (tol) {
        const r = e / (tol.atol + tol.rtol * Math.abs(x));
        if (r > 1) outside++;
        if (r > worstRatio) worstRatio = r;
      }
    }
    Object.assign(this, { n, sumAbs, maxAbs, ee, aa, bb, ab, mismatch, outside, worstRatio });
  }

  figures(): DiffFigures {
    const { n, ee, aa, bb, ab } = this;
    const broken = this.mismatch > 0;
    const cosine = broken ? 0 : aa === 0 && bb === 0 ? 1 : aa === 0 || bb === 0 ? 0 : Math.max(-1, Math.min(1, ab / Math.sqrt(aa * bb)));
    const sqnrDb = broken ? -Infinity : sqnrFromEnergy(aa, ee);
    return {
      count: n, maxAbs: this.maxAbs, meanAbs: n ? this.sumAbs / n : 0, rmse: n ? Math.sqrt(ee / n) : 0,
      cosine, sqnrDb, identical: ee === 0 && this.mismatch === 0, nonFiniteMismatch: this.mismatch,
    };
  }
}

/** SQNR in dB from the signal and noise energies: +Infinity without noise, -Infinity for noise on no signal. */
export function sqnrFromEnergy(signal: number, noise: number): number {
  return noise === 0 ? Infinity : signal === 0 ? -Infinity : 10 * Math.log10(signal / noise);
}

/** The figures of two arrays. */
export function diffFigures(a: ArrayLike<number>, b: ArrayLike<number>): DiffFigures {
  const acc = new DiffAccumulator();
  acc.add(a, b);
  return acc.figures();
}

/** Cosine similarity of two arrays (1 when both are all zeros, 0 when only one is). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return diffFigures(a, b).cosine;
}

/** The worst of each figure over several comparisons (lowest cosine and SQNR, largest errors). */
export function worstOf(list: DiffFigures[]): DiffFigures {
  if (!list.length) throw new Error('no figures to take the worst of');
  return {
    count: list.reduce((s, f) => s + f.count, 0),
    maxAbs: Math.max(...list.map((f) => f.maxAbs)),
    meanAbs: Math.max(...list.map((f) => f.meanAbs)),
    rmse: Math.max(...list.map((f) => f.rmse)),
    cosine: Math.min(...list.map((f) => f.cosine)),
    sqnrDb: Math.min(...list.map((f) => f.sqnrDb)),
    identical: list.every((f) => f.identical),
    nonFiniteMismatch: list.reduce((s, f) => s + f.nonFiniteMismatch, 0),
  };
}

/**
 * The mean of each figure over several comparisons (maxAbs stays the largest). SQNR is averaged in dB over
 * the samples where it is finite; -Infinity when any sample has it (an all-zero reference or a NaN), and
 * +Infinity only when every sample is exact.
 */
export function meanOf(list: DiffFigures[]): DiffFigures {
  if (!list.length) throw new Error('no figures to average');
  const mean = (f: (d: DiffFigures) => number) => list.reduce((s, d) => s + f(d), 0) / list.length;
  const finite = list.map((f) => f.sqnrDb).filter(Number.isFinite);
  const sqnrDb = list.some((f) => f.sqnrDb === -Infinity) ? -Infinity : finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : Infinity;
  return {
    count: list.reduce((s, f) => s + f.count, 0),
    maxAbs: Math.max(...list.map((f) => f.maxAbs)),
    meanAbs: mean((f) => f.meanAbs),
    rmse: mean((f) => f.rmse),
    cosine: mean((f) => f.cosine),
    sqnrDb,
    identical: list.every((f) => f.identical),
    nonFiniteMismatch: list.reduce((s, f) => s + f.nonFiniteMismatch, 0),
  };
}

/** The numbers of a tensor as doubles (int64 as numbers, bool as 0/1); undefined for strings. */
export function numericValues(t: TensorLike): ArrayLike<number> | undefined {
  const d = t.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float64Array.from(d as BigInt64Array, (v) => Number(v));
  if (t.type === 'float16' && d instanceof Uint16Array) return Float32Array.from(d, halfToFloat);
  if (ArrayBuffer.isView(d) && !(d instanceof DataView)) return d as unknown as ArrayLike<number>;
  return undefined;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

// ---- per output --------------------------------------------------------------------------------------




/** Collects the outputs of both models sample by sample, then gives per output figures. */
export class OutputComparer {
  private readonly perOutput = new Map<string, { type: string; dims: number[]; samples: DiffFigures[]; pooled: DiffAccumulator; topK?: { k: number; rows: number; hits: number }; plot?: Reservoir }>();

  /** `plotPoints`: keep that many (reference, candidate) pairs per output, sampled evenly, for plots. */
  constructor(private readonly names: string[], private readonly policy: ComparePolicy = {}, plotPoints = 0) {
    for (const name of names) {
      const k = policy.topK?.[name];
      this.perOutput.set(name, {
        type: '', dims: [], samples: [], pooled: new DiffAccumulator(policy.tolerance),
        ...(k ? { topK: { k, rows: 0, hits: 0 } } : {}), ...(plotPoints > 0 ? { plot: new Reservoir(plotPoints) } : {}),
      });
    }
  }

  /** Adds one sample: the reference's outputs and the candidate's, by name. */
  add(reference: Record<string, TensorLike>, candidate: Record<string, TensorLike>): void {
    for (const name of this.names) {
      const o = this.perOutput.get(name)!;
      const a = reference[name], b = candidate[name];
      if (!a || !b) throw new Error(`output "${name}" is missing from ${a ? 'the second' : 'the first'} model's results`);
      const dimsA = [...a.dims], dimsB = [...b.dims];
      if (dimsA.join() !== dimsB.join()) {
        throw new Error(`output "${name}" has shape [${dimsA.join(', ')}] in the first model and [${dimsB.join(', ')}] in the second`);
      }
      const x = numericValues(a), y = numericValues(b);
      if (!x || !y) throw new Error(`output "${name}" holds ${a.type} values, which cannot be compared numerically`);
      if (!o.type) { o.type = a.type; o.dims = dimsA; }
      const one = new DiffAccumulator();
      one.add(x, y);
      o.samples.push(one.figures());
      o.pooled.add(x, y);
      o.plot?.add(x, y);
      if (o.topK) {
        const classes = dimsA[dimsA.length - 1] ?? 1;
        for (let r = 0; r + classes <= x.length && classes > 0; r += classes) {
          o.topK.rows++;
          if (topKHit(x, y, r, classes, o.topK.k)) o.topK.hits++;
        }
      }
    }
  }

  results(): OutputComparison[] {
    return this.names.map((name) => {
      const o = this.perOutput.get(name)!;
      if (!o.samples.length) throw new Error('no samples were compared');
      return {
        name, type: o.type, dims: o.dims, samples: o.samples, worst: worstOf(o.samples), mean: meanOf(o.samples), pooled: o.pooled.figures(),
        ...(o.topK ? { topK: { k: o.topK.k, rows: o.topK.rows, agreement: o.topK.rows ? o.topK.hits / o.topK.rows : 1 } } : {}),
        ...(this.policy.tolerance ? { outside: o.pooled.outside } : {}),
        ...(o.plot ? { plot: o.plot.plot() } : {}),
      };
    });
  }
}

/** Bins of the error histogram of the plots. */
const ERROR_BINS = 40;

/** A uniform sample of (a, b) pairs over everything added (reservoir sampling, seeded: the same every run). */
class Reservoir {
  private readonly a: number[] = [];
  private readonly b: number[] = [];
  private seen = 0;
  private readonly rand = seededRandom(12345);
  constructor(private readonly size: number) {}

  add(x: ArrayLike<number>, y: ArrayLike<number>): void {
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) continue;
      this.seen++;
      if (this.a.length < this.size) { this.a.push(x[i]); this.b.push(y[i]); continue; }
      const j = Math.floor(this.rand() * this.seen);
      if (j < this.size) { this.a[j] = x[i]; this.b[j] = y[i]; }
    }
  }

  plot(): OutputPlot {
    const err = this.a.map((v, i) => this.b[i] - v);
    let min = Math.min(0, ...err), max = Math.max(0, ...err);
    if (min === max) { min -= 0.5; max += 0.5; }
    const counts = new Array<number>(ERROR_BINS).fill(0);
    for (const e of err) counts[Math.min(ERROR_BINS - 1, Math.floor(((e - min) / (max - min)) * ERROR_BINS))]++;
    return { a: this.a, b: this.b, errorHistogram: { min, max, counts } };
  }
}

/** The reference's top-1 class of row [start, start + n) is among the candidate's k largest. */
function topKHit(a: ArrayLike<number>, b: ArrayLike<number>, start: number, n: number, k: number): boolean {
  let top = start;
  for (let i = start + 1; i < start + n; i++) if (a[i] > a[top]) top = i;
  const v = b[top];
  if (!Number.isFinite(v)) return false;
  let larger = 0;
  for (let i = start; i < start + n; i++) if (b[i] > v || (b[i] === v && i < top)) larger++;
  return larger < k;
}

/**
 * The cosine an output is judged by: its worst sample and its samples pooled, the lower; for an output of one
 * value per sample the samples pooled only (alone, one value's cosine is just its sign).
 */
export function judgedCosine(o: OutputComparison): number {
  return isOneValue(o) ? o.pooled.cosine : Math.min(o.worst.cosine, o.pooled.cosine);
}

/** Every sample of the output holds one value. */
export function isOneValue(o: OutputComparison): boolean {
  return o.samples.every((f) => f.count + f.nonFiniteMismatch <= 1);
}

/** Why an output fails the policy (empty: it passes). */
export function failures(o: OutputComparison, policy: ComparePolicy): string[] {
  const out: string[] = [];
  if (o.pooled.nonFiniteMismatch) out.push(`${o.pooled.nonFiniteMismatch} NaN or infinite value${o.pooled.nonFiniteMismatch === 1 ? '' : 's'} not in the reference`);
  const cosine = judgedCosine(o);
  if (policy.minCosine !== undefined && cosine < policy.minCosine) out.push(`cosine ${formatFigure(cosine, 'cosine')} < ${policy.minCosine}`);
  if (policy.tolerance && (o.outside ?? 0) > 0) {
    out.push(`${o.outside} of ${o.pooled.count + o.pooled.nonFiniteMismatch} values outside atol ${policy.tolerance.atol} + rtol ${policy.tolerance.rtol} x |reference| (max abs error ${formatFigure(o.worst.maxAbs, 'maxAbs')})`);
  }
  return out;
}

/** A figure as people read it: cosines to 6 places, SQNR to 0.01 dB, errors to 4 significant digits. */
export function formatFigure(v: number, kind: 'cosine' | 'sqnrDb' | 'maxAbs' | 'meanAbs' | 'rmse'): string {
  if (kind === 'sqnrDb') return v === Infinity ? 'exact' : v === -Infinity ? '-inf' : `${v.toFixed(2)} dB`;
  if (kind === 'cosine') return v === 1 ? '1' : v.toFixed(6);
  if (!Number.isFinite(v)) return 'inf';
  return v === 0 ? '0' : Number(v.toPrecision(4)).toString();
}
