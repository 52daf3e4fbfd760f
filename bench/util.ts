// Small helpers shared by the benchmark's parent (run.ts) and its child processes (worker.ts), and the
// smoke mode of every bench script.
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const MB = 1e6;

/**
 * ONNXQ_BENCH_SMOKE=1 (`npm run bench:smoke`, a step of `npm test`): each script runs its real code path
 * once on the smallest input it has (the sample, a tiny generated model; never ../shared/models), so the
 * scripts cannot rot unnoticed. Nothing it prints is a measurement.
 */
export const SMOKE = process.env.ONNXQ_BENCH_SMOKE === '1';

/** The smoke mode's folder, reused by every run: its results and tiny generated models. */
function smokeDir(sub = ''): string {
  const dir = path.join(os.tmpdir(), 'onnxq-bench-smoke', sub);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Where a script writes its results file `name`: bench/, or in smoke mode the temporary folder (a smoke run leaves the real results alone). */
export function resultsFile(name: string): string {
  return SMOKE ? path.join(smokeDir(), name) : path.join(__dirname, name);
}

/** The cache of generated models: ONNXQ_BENCH_CACHE (default bench/.cache), or in smoke mode the temporary folder. */
export function cacheDir(): string {
  return SMOKE ? smokeDir('cache') : path.resolve(__dirname, '..', process.env.ONNXQ_BENCH_CACHE ?? 'bench/.cache');
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run node with --expose-gc (npm run bench does)');
  g(); g();
}

export interface Timing {
  /** Median wall-clock milliseconds per call. */
  ms: number;
  /** Median CPU milliseconds (user + system) per call: less sensitive to other processes on a busy machine. */
  cpuMs: number;
  /** Wall-clock milliseconds per call of every sample. */
  samples: number[];
  /** Calls per sample (more than 1 for operations too quick to time once). */
  reps: number;
}

/**
 * Times several operations with their samples interleaved (a, b, a, b, ...), so that a change in machine
 * load hits each alike. Each operation is first called untimed until it has had `minWarmups` calls and
 * about 300 ms (at most 20 calls): page cache, JIT. Then at least `runs` samples each (more for quick
 * operations, up to 25, to fill about a second). An operation faster than `minSampleMs` is repeated within
 * a sample and the per-call time reported.
 *
 * `gcBetween`: force a full GC before each sample: always (true), never (false), or 'auto' (default):
 * only for operations whose warm call takes 100 ms or more. A forced full GC shrinks the heap, and the
 * next sample then pays to grow it again, which is unfair to quick allocation-heavy operations (it adds
 * about 10 ms to IS-Net's 35 ms open); for slow ones it keeps the release of the previous call's
 * garbage (a 400 MB buffer) out of the next sample.
 */
export function timeAll<K extends string>(fns: Record<K, () => unknown>, runs: number,
  { minWarmups = 3, minSampleMs = 25, gcBetween = 'auto' }: { minWarmups?: number; minSampleMs?: number; gcBetween?: boolean | 'auto' } = {}): Record<K, Timing> {
  const names = Object.keys(fns) as K[];
  const reps = {} as Record<K, number>;
  const collect = {} as Record<K, boolean>;
  let pairMs = 0;
  for (const name of names) {
    let best = Infinity, spent = 0;
    for (let w = 0; w < 20 && (w < minWarmups || spent < 300); w++) {
      if (gcBetween === true) gc();
      const t = performance.now();
      fns[name]();
      const ms = performance.now() - t;
      best = Math.min(best, ms);
      spent += ms;
    }
    reps[name] = best >= minSampleMs ? 1 : Math.min(100_000, Math.ceil(minSampleMs / Math.max(best, 1e-3)));
    collect[name] = gcBetween === 'auto' ? best >= 100 : gcBetween;
    pairMs += best * reps[name];
  }
  const samplesEach = Math.max(runs, Math.min(25, Math.floor(1000 / Math.max(pairMs, 1e-3))));
  const wall = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  const cpu = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < samplesEach; r++) {
    for (const name of names) {
      const fn = fns[name], k = reps[name];
      if (collect[name]) gc();
      const c = process.cpuUsage();
      const t = performance.now();
      for (let i = 0; i < k; i++) fn();
      wall[name].push((performance.now() - t) / k);
      const used = process.cpuUsage(c);
      cpu[name].push((used.user + used.system) / 1000 / k);
    }
  }
  return Object.fromEntries(names.map((n) => [n, { ms: median(wall[n]), cpuMs: median(cpu[n]), samples: wall[n], reps: reps[n] }])) as Record<K, Timing>;
}

export function time(fn: () => unknown, runs: number, options: Parameters<typeof timeAll>[2] = {}): Timing {
  return timeAll({ op: fn }, runs, options).op;
}

/** Node options every child gets: the same as `npm run bench` gives the parent. */
const CHILD_EXEC_ARGV = ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx'];

/** Runs one task of worker.ts in a fresh process and returns what it sends back. */
export function runInChild<T>(task: object, timeoutMs = 15 * 60_000): Promise<T> {
  const worker = path.join(__dirname, 'worker.ts');
  return new Promise((resolve, reject) => {
    const child = fork(worker, [JSON.stringify(task)], {
      execArgv: CHILD_EXEC_ARGV,
      cwd: path.join(__dirname, '..'),
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    let stderr = '';
    let result: { ok: true; value: T } | { ok: false; error: string } | undefined;
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('message', (m) => { result = m as typeof result; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result?.ok) resolve(result.value);
      else if (result) reject(new Error(result.error));
      else reject(new Error(`child for ${JSON.stringify(task)} exited with ${signal ?? code} and no result${stderr ? `:\n${stderr.trim()}` : ''}`));
    });
  });
}

export function fmt(n: number | undefined | null, digits = 1): string {
  if (n === undefined || n === null || Number.isNaN(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A plain-text table with right-aligned numeric columns. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+0-9.,x%<>= ]*$|^(pass|FAIL|n\/a)$/.test(r[i] ?? '')) && i > 0);
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
