// The benchmark's figures, each computed here and nowhere else: percentiles and moments of run times,
// and the ratio of two models' p50 with its bootstrap confidence interval.
import type { BenchRatio, LatencyStats } from '../../protocol/bench';
import { seededRandom } from '../random';

/** A coefficient of variation above this flags a run as noisy (the machine was busy, or the model's time varies). */
export const NOISY_CV = 0.1;

/** Bootstrap resamples for a ratio's interval: enough that the 2.5% and 97.5% ends move by well under 1% between seeds. */
export const BOOTSTRAP_RESAMPLES = 2000;

/** The q-quantile (0..1) of sorted values, interpolated linearly between the closest ranks (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (!n) return NaN;
  const h = (n - 1) * q, lo = Math.floor(h), hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

const sortedCopy = (xs: ArrayLike<number>) => Float64Array.from(xs).sort();

/** p50/p90/p99, mean, min, max, sample standard deviation and its ratio to the mean, of run times in ms. */
export function latencyStats(times: readonly number[]): LatencyStats {
  const s = sortedCopy(times), n = s.length;
  let sum = 0;
  for (const t of s) sum += t;
  const mean = sum / n;
  let ss = 0;
  for (const t of s) ss += (t - mean) ** 2;
  const stddev = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  return {
    p50: quantileSorted(s, 0.5), p90: quantileSorted(s, 0.9), p99: quantileSorted(s, 0.99),
    mean, min: s[0], max: s[n - 1], stddev, cv: mean > 0 ? stddev / mean : 0,
  };
}

/**
 * p50(run) / p50(reference) over all their timed runs, and its 95% interval by a percentile bootstrap over
 * rounds: each resample draws R round indices with replacement and takes THE SAME rounds of both models
 * (the two ran side by side in each round, so a slow round of the machine slows both), pools their times
 * and takes the ratio of the pooled p50s; the interval is the 2.5% and 97.5% quantiles of those ratios.
 * Verdict: faster when the interval lies below 1, slower when above, else "same".
 */
export function p50Ratio(run: readonly number[][], reference: readonly number[][], seed = 1, resamples = BOOTSTRAP_RESAMPLES): Pick<BenchRatio, 'p50' | 'ci' | 'verdict'> {
  const rounds = Math.min(run.length, reference.length);
  if (!rounds) throw new Error('p50Ratio needs at least one round of each');
  const pooledP50 = (xs: readonly number[][], picks: ArrayLike<number>) => {
    const all: number[] = [];
    for (let i = 0; i < picks.length; i++) for (const t of xs[picks[i]]) all.push(t);
    return quantileSorted(sortedCopy(all), 0.5);
  };
  const every = Array.from({ length: rounds }, (_, i) => i);
  const p50 = pooledP50(run, every) / pooledP50(reference, every);
  const rand = seededRandom(seed);
  const ratios = new Float64Array(resamples);
  const picks = new Int32Array(rounds);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < rounds; i++) picks[i] = Math.floor(rand() * rounds);
    ratios[b] = pooledP50(run, picks) / pooledP50(reference, picks);
  }
  ratios.sort();
  const ci: [number, number] = [quantileSorted(ratios, 0.025), quantileSorted(ratios, 0.975)];
  return { p50, ci, verdict: ci[1] < 1 ? 'faster' : ci[0] > 1 ? 'slower' : 'same' };
}
