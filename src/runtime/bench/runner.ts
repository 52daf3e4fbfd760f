// `onnxq bench` and "Benchmark Model…": each model on each execution provider in a child process of its own
// (worker.ts), opened one after the other, then run in interleaved rounds (rounds.ts); the figures come
// from stats.ts, the reasons for a disappointment from fusion.ts, profile.ts, cpu.ts and diagnostics.ts.
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel } from '../../onnx/load';
import type { BenchOptions, BenchRatio, BenchResult, BenchRun, FromWorker, ToWorker, WorkerFinished, WorkerOpened } from '../../protocol/bench';
import type { DefaultedDim, Provider } from '../../protocol/compare';
import { makeTempDir } from '../../quantize/tempDir';
import { resolveInputSpec } from '../inputSpec';
import { modelInputs } from '../modelIo';
import { providerStatus } from '../providers';
import { RuntimeError, type RuntimeErrorKind } from '../errors';
import { cpuInt8 } from './cpu';
import { benchDiagnostics } from './diagnostics';
import { fusionSummary } from './fusion';
import { readProfile, type SourceGraph } from './profile';
import { DEFAULT_ROUNDS, plannedIterations, REWARM_RUNS, runRounds, type RoundProgress, type RoundTarget } from './rounds';
import { latencyStats, NOISY_CV, p50Ratio } from './stats';

export const DEFAULT_WARMUP = 5;
/** Runs profiled per model (after the timed ones, in a session of their own). */
export const PROFILE_RUNS = 10;

export type BenchProgress =
  | { phase: 'open'; label: string; done: number; total: number }
  | ({ phase: 'rounds' } & RoundProgress)
  | { phase: 'profile'; label: string; done: number; total: number };

export interface BenchRunOptions extends BenchOptions {
  signal?: AbortSignal;
  onProgress?: (p: BenchProgress) => void;
}

const cancelled = () => new RuntimeError('cancelled', 'the benchmark was cancelled');

/** The worker's entry: the bundle beside this one (dist/benchWorker.js), or its source under tsx (tests, bench scripts). */
function workerEntry(): { file: string; execArgv: string[] } {
  const js = path.join(__dirname, 'benchWorker.js');
  if (fs.existsSync(js)) return { file: js, execArgv: [] };
  const ts = path.join(__dirname, 'worker.ts');
  if (fs.existsSync(ts)) return { file: ts, execArgv: ['--import', 'tsx'] };
  throw new RuntimeError('run-failed', `internal error: the benchmark's worker (benchWorker.js) is missing beside ${__dirname}; rebuild (npm run build) or reinstall`);
}

/** One model on one provider, in its own process. */
class Worker implements RoundTarget {
  private readonly proc: ChildProcess;
  private stderr = '';
  private pending?: { resolve: (m: FromWorker) => void; reject: (e: Error) => void };
  private exited?: Error;

  constructor(readonly label: string, readonly file: string, readonly provider: Provider) {
    const entry = workerEntry();
    const env = { ...process.env };
    if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
    this.proc = fork(entry.file, [], { execArgv: entry.execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env });
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-2000); });
    this.proc.on('message', (m: FromWorker) => {
      const p = this.pending;
      this.pending = undefined;
      if (!p) return;
      if (m.type === 'error') p.reject(new RuntimeError(m.kind as RuntimeErrorKind, m.kind === 'internal' ? `internal error in the benchmark process of ${label}: ${m.message}` : m.message));
      else p.resolve(m);
    });
    // A failed fork or a message to a process that just died: the pending request fails with the cause.
    this.proc.on('error', (e) => {
      this.exited ??= new RuntimeError('run-failed', `the benchmark process of ${label} on ${provider} failed: ${e.message}`);
      this.pending?.reject(this.exited);
      this.pending = undefined;
    });
    this.proc.on('exit', (code, signal) => {
      const tail = this.stderr.trim().split('\n').slice(-3).join(' | ');
      this.exited ??= new RuntimeError(signal === 'SIGKILL' || code === 137 ? 'out-of-memory' : 'run-failed',
        `the benchmark process of ${label} on ${provider} ended (${signal ?? `exit code ${code}`})${signal === 'SIGKILL' ? ', perhaps out of memory' : ''}${tail ? `: ${tail}` : ''}`);
      this.pending?.reject(this.exited);
      this.pending = undefined;
    });
  }

  private ask<T extends FromWorker>(m: ToWorker): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise<T>((resolve, reject) => {
      this.pending = { resolve: resolve as (m: FromWorker) => void, reject };
      this.proc.send(m);
    });
  }

  open(m: Omit<Extract<ToWorker, { type: 'open' }>, 'type' | 'file' | 'provider'>): Promise<WorkerOpened> {
    return this.ask({ type: 'open', file: this.file, provider: this.provider, ...m });
  }

  async round(runs: number): Promise<number[]> {
    return (await this.ask<Extract<FromWorker, { type: 'round' }>>({ type: 'round', runs, rewarm: REWARM_RUNS })).times;
  }

  finish(profileRuns: number, tempDir: string): Promise<WorkerFinished> {
    return this.ask({ type: 'finish', profileRuns, optimizedGraph: true, tempDir });
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

/** File names for tables, made unique (a folder added where two files share a name). */
export function runLabels(files: string[]): string[] {
  const base = files.map((f) => path.basename(f));
  const named = files.map((f, i) => (base.filter((b) => b === base[i]).length > 1 ? path.join(path.basename(path.dirname(f)), base[i]) : base[i]));
  // Still the same (the same file twice, or a/x/m.onnx beside b/x/m.onnx): numbered from the second on.
  return named.map((n, i) => { const k = named.slice(0, i).filter((x) => x === n).length; return k ? `${n} #${k + 1}` : n; });
}

/** Benchmarks `files` on each of `options.providers` (default the CPU). */
export async function benchmark(files: string[], options: BenchRunOptions = {}): Promise<BenchResult> {
  const t0 = performance.now();
  if (!files.length) throw new RuntimeError('bad-input-spec', 'no model to benchmark');
  const providers: Provider[] = options.providers?.length ? [...new Set(options.providers)] : ['cpu'];
  for (const f of files) if (!fs.existsSync(f)) throw new RuntimeError('model-rejected', 'no such file', f);
  // Every provider must start here, or nothing runs: a benchmark that silently moved to the CPU would lie.
  for (const p of providers) {
    const s = await providerStatus(p);
    if (!s.available) throw new RuntimeError('provider-unavailable', `${p} cannot run here: ${s.reason}; benchmark on the providers that can (onnxq providers lists them)`);
  }
  // Each model read once here: its inputs (the input spec is checked against every model before any
  // process starts), its size, and its graph's names for the profile.
  const spec = options.spec ?? {};
  const facts = new Map(files.map((f) => [f, modelFacts(f)]));
  for (const f of files) resolveInputSpec(spec, facts.get(f)!.inputs);
  const warmup = options.warmup ?? DEFAULT_WARMUP;
  const rounds = options.rounds ?? DEFAULT_ROUNDS;
  const profile = options.profile ?? true;
  const labels = runLabels(files);
  const targets = providers.flatMap((provider) => files.map((file, i) => ({ file, label: labels[i], provider })));
  const workers: Worker[] = [];
  const tempDir = makeTempDir('bench');
  const abort = () => workers.forEach((w) => w.kill());
  options.signal?.addEventListener('abort', abort);
  try {
    const opened: WorkerOpened[] = [];
    for (const [i, t] of targets.entries()) {
      if (options.signal?.aborted) throw cancelled();
      options.onProgress?.({ phase: 'open', label: t.label, done: i, total: targets.length });
      const w = new Worker(t.label, t.file, t.provider);
      workers.push(w);
      opened.push(await w.open({ threads: options.threads, spec, warmup }));
    }
    const iterations = opened.map((o) => plannedIterations(latencyStats(o.warmMs.length ? o.warmMs : [o.firstRunMs]).p50, rounds, options));
    const times = await runRounds(workers, iterations, rounds, {
      signal: options.signal, cancelled, onRound: (p) => options.onProgress?.({ phase: 'rounds', ...p }),
    });
    const runs: BenchRun[] = [];
    for (const [i, w] of workers.entries()) {
      if (options.signal?.aborted) throw cancelled();
      options.onProgress?.({ phase: 'profile', label: w.label, done: i, total: workers.length });
      const fin = await w.finish(profile ? PROFILE_RUNS : 0, tempDir);
      w.kill();
      runs.push(makeRun(targets[i], facts.get(targets[i].file)!, opened[i], fin, times[i], warmup));
    }
    const ratios = benchRatios(runs);
    const cpu = cpuInt8();
    const defaulted = uniqueDefaulted(opened.flatMap((o) => o.inputs.defaulted));
    return {
      // The first model's samples; the dims left at 1 of every model.
      runs, ratios, cpu, inputs: { ...opened[0].inputs, defaulted },
      settings: { warmup, iterations: options.iterations ?? null, durationS: options.durationS ?? null, rounds, threads: options.threads ?? null, providers, profile },
      slowestNodes: slowestNodes(runs),
      diagnostics: benchDiagnostics(runs, ratios, cpu, defaulted), runtime: ortVersion(), date: new Date().toISOString(), seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    if (options.signal?.aborted) throw cancelled();
    throw e;
  } finally {
    options.signal?.removeEventListener('abort', abort);
    abort();
    // A killed worker may still hold a file there for a moment (Windows): retry, and never hide the real error.
    try { fs.rmSync(tempDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }); } catch { /* left in the temp folder */ }
  }
}

function makeRun(t: { file: string; label: string; provider: Provider }, model: ModelFacts, o: WorkerOpened, fin: WorkerFinished, roundsMs: number[][], warmup: number): BenchRun {
  const all = roundsMs.flat();
  const latencyMs = latencyStats(all);
  const first = Object.values(o.inputs.shapes)[0];
  const batch = first && first.length >= 2 && first[0] > 1 ? first[0] : null;
  const inferencesPerSec = 1000 / latencyMs.mean;
  let graph: BenchRun['graph'] = null, prof: BenchRun['profile'] = null;
  try { if (fin.optimizedFile) graph = fusionSummary(loadModel(fin.optimizedFile)); } catch { /* left null: not readable */ }
  try {
    if (fin.profileFile) prof = readProfile(fin.profileFile, fin.profileRuns, t.provider, model.graph);
  } catch { /* left null */ }
  return {
    label: t.label, file: t.file, sizeBytes: model.sizeBytes, provider: o.provider, sessionMs: o.sessionMs, firstRunMs: o.firstRunMs,
    warmup, iterations: all.length, latencyMs,
    throughput: { inferencesPerSec, batch, samplesPerSec: batch ? inferencesPerSec * batch : null },
    peakRssMb: fin.peakRssMb, baseRssMb: o.baseRssMb, roundsMs, noisy: latencyMs.cv > NOISY_CV, nonFinite: o.nonFinite, graph, profile: prof,
  };
}

/** Nodes shown side by side: the slowest of any run. */
export const SLOWEST_NODES = 12;

/** The slowest nodes of the models' graphs (the largest time of any run first), each with its time in every run. */
export function slowestNodes(runs: Pick<BenchRun, 'profile'>[], top = SLOWEST_NODES): BenchResult['slowestNodes'] {
  const worst = new Map<string, number>();
  for (const r of runs) for (const s of r.profile?.bySource ?? []) worst.set(s.node, Math.max(worst.get(s.node) ?? 0, s.ms));
  return [...worst].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([node]) => ({ node, ms: runs.map((r) => r.profile?.bySource.find((s) => s.node === node)?.ms ?? null) }));
}

/** What the parent needs of a model: its inputs, its bytes on disk, its graph's names for the profile. */
interface ModelFacts { inputs: ReturnType<typeof modelInputs>; sizeBytes: number; graph: SourceGraph }

function modelFacts(file: string): ModelFacts {
  const model = loadModel(file);
  // The main graph's node names and the producer of each tensor.
  const nodes = model.proto.graph?.node ?? [];
  const producer = new Map<string, { name: string; opType: string; input: string }>();
  for (const n of nodes) for (const o of n.output ?? []) if (n.name) producer.set(o, { name: n.name, opType: n.op_type ?? '', input: n.input?.[0] ?? '' });
  // The file and the external data files it names.
  let sizeBytes = fs.statSync(file).size;
  const seen = new Set<string>();
  for (const w of model.weights()) {
    const p = w.external?.path;
    if (p && !seen.has(p)) { seen.add(p); sizeBytes += fs.statSync(p).size; }
  }
  return { inputs: modelInputs(model), sizeBytes, graph: { names: new Set(nodes.map((n) => n.name ?? '').filter(Boolean)), producer } };
}

const uniqueDefaulted = (ds: DefaultedDim[]) => [...new Map(ds.map((d) => [`${d.input}:${d.axis}`, d])).values()];

/** Within each provider, every model against the first; with one model, every provider against the first. */
export function benchRatios(runs: Pick<BenchRun, 'file' | 'provider' | 'roundsMs'>[]): BenchRatio[] {
  const out: BenchRatio[] = [];
  const files = [...new Set(runs.map((r) => r.file))];
  if (files.length > 1) {
    const providers = [...new Set(runs.map((r) => r.provider.used))];
    for (const p of providers) {
      const idx = runs.map((r, i) => (r.provider.used === p ? i : -1)).filter((i) => i >= 0);
      for (const i of idx.slice(1)) out.push({ run: i, reference: idx[0], ...p50Ratio(runs[i].roundsMs, runs[idx[0]].roundsMs) });
    }
  } else {
    for (let i = 1; i < runs.length; i++) out.push({ run: i, reference: 0, ...p50Ratio(runs[i].roundsMs, runs[0].roundsMs) });
  }
  return out;
}

function ortVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch { return 'unknown'; }
}
