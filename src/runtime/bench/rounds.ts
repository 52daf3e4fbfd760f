// The benchmark's schedule: every model (and provider) runs in each round, one after the other, so that a
// change in the machine's load (another program, the CPU's clock, heat) hits them alike; the order rotates
// from round to round so that none always runs first (right after another model flushed the caches).
// How many timed runs each model gets: asked for (--iterations), from a time per model (--duration), or by
// default 100, fewer for slow models.

/**
 * A pause before each model's round when several run: onnxruntime's intra-op threads keep spinning after
 * a run before they sleep (measured: a process that ran PP-OCRv4 det burns about one core for 40-60 ms
 * after its last run), and on a small machine the previous model's spinning threads slow the next one
 * (det at 320 x 320 beside a copy of itself: 26 ms at p50 with no pause, 13-16 ms alone). Each round
 * also starts with one untimed run (worker.ts): without it the same pair still varied by 11-17%, with it
 * 6-10%.
 */
export const SETTLE_MS = 100;
/** Untimed runs at the start of each round. */
export const REWARM_RUNS = 1;

/** A model that runs `runs` times when asked and gives each run's time in milliseconds. */
export interface RoundTarget {
  round(runs: number): Promise<number[]>;
}

export const DEFAULT_ITERATIONS = 100;
export const DEFAULT_ROUNDS = 10;
/** The default's time budget per model: a model whose warm run takes longer than DEFAULT_BUDGET_MS / 100 gets fewer runs. */
export const DEFAULT_BUDGET_MS = 20_000;
/** Fewest timed runs per model (without --iterations): ten rounds of one run. */
export const MIN_ITERATIONS = 10;

/** Round `round`'s order of `count` targets: 0..count-1 rotated left by `round`. */
export function roundOrder(count: number, round: number): number[] {
  return Array.from({ length: count }, (_, i) => (i + round) % count);
}

/** `runs` split into `rounds` rounds as evenly as whole runs allow (the first rounds take the remainder). */
export function splitRuns(runs: number, rounds: number): number[] {
  const base = Math.floor(runs / rounds), extra = runs % rounds;
  return Array.from({ length: rounds }, (_, r) => base + (r < extra ? 1 : 0));
}

/**
 * Timed runs of one model: `iterations` when given; with `durationS`, enough runs of `warmMs` (its warm
 * run time) to fill it; else DEFAULT_ITERATIONS, or fewer for a model too slow to fit DEFAULT_BUDGET_MS.
 * Never fewer than the rounds (one run each) nor, unless asked, than MIN_ITERATIONS.
 */
export function plannedIterations(warmMs: number, rounds: number, ask: { iterations?: number; durationS?: number }): number {
  if (ask.iterations !== undefined) return Math.max(ask.iterations, rounds);
  const t = Math.max(warmMs, 1e-3);
  const n = ask.durationS !== undefined ? Math.ceil((ask.durationS * 1000) / t) : Math.min(DEFAULT_ITERATIONS, Math.floor(DEFAULT_BUDGET_MS / t));
  return Math.max(n, MIN_ITERATIONS, rounds);
}

export interface RoundProgress { round: number; rounds: number; elapsedMs: number; estimateMs: number }

/**
 * Runs the rounds: in round r, target roundOrder(n, r)[k] runs its r-th share of `iterations[k]`. Gives
 * each target's times per round: result[target][round] = times.
 */
export async function runRounds(targets: RoundTarget[], iterations: number[], rounds: number,
  options: { signal?: AbortSignal; onRound?: (p: RoundProgress) => void; cancelled?: () => Error; settleMs?: number } = {}): Promise<number[][][]> {
  const settleMs = options.settleMs ?? SETTLE_MS;
  const shares = iterations.map((n) => splitRuns(n, rounds));
  const out: number[][][] = targets.map(() => []);
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const k of roundOrder(targets.length, r)) {
      if (options.signal?.aborted) throw options.cancelled?.() ?? new Error('cancelled');
      if (targets.length > 1 && settleMs > 0) await new Promise((res) => setTimeout(res, settleMs));
      out[k].push(shares[k][r] ? await targets[k].round(shares[k][r]) : []);
    }
    const elapsedMs = performance.now() - t0;
    options.onRound?.({ round: r + 1, rounds, elapsedMs, estimateMs: (elapsedMs / (r + 1)) * rounds });
  }
  return out;
}
