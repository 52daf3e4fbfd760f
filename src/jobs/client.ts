// The extension's side of the background job process (src/jobs/child.ts, bundled to dist/jobChild.js).
//
// - One child at a time, forked lazily with `serialization: 'advanced'`; requests run in it concurrently.
// - Each request gets progress callbacks, then resolves with its result or rejects with a `JobError`.
// - Cancellation (an AbortSignal) and timeouts kill the child with SIGKILL: the request rejects with
//   `cancelled` / `timeout`, and the child's other pending requests are sent again to a fresh child.
// - A crash of the child (an exit or a signal nobody asked for) rejects every pending request with
//   `crashed`, naming the exit code or signal and the end of its stderr; the next request forks anew.
// - The child is shut down after a while without work, and never keeps a Node process alive when idle.
//
// No vscode import: everything it needs is passed in, so it can be unit-tested with plain Node.
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InspectReport } from '../protocol/inspect';
import { assertNever } from '../protocol/common';
import {
  isChildMessage,
  type ChildMessage,
  type JobKind,
  type JobParams,
  type JobProgressMessage,
  type JobRequest,
  type JobResults,
} from '../protocol/jobs';
import { JobError } from './errors';

export { JobError, isCancelled } from './errors';

export type LogLevel = 'info' | 'warn' | 'error';

export interface JobClientOptions {
  /** Absolute path of the bundled child entry (dist/jobChild.js). */
  childPath: string;
  /** Timeout of a request when its call gives none (ms). Default 10 minutes; 0 disables. */
  defaultTimeoutMs?: number;
  /** Shut the child down after this long without pending requests (ms). Default 2 minutes; 0 keeps it. */
  idleShutdownMs?: number;
  /** Node options for the child. Default none (the parent's, e.g. --inspect, are not inherited). */
  execArgv?: string[];
  /** The child's environment. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Where log lines go (the child's stderr, lifecycle events). */
  log?: (level: LogLevel, message: string) => void;
}

export type JobProgress = Omit<JobProgressMessage, 'type' | 'id'>;

export interface JobCallOptions {
  /** Aborting kills the child and rejects with a `cancelled` JobError. */
  signal?: AbortSignal;
  /** Overrides the client's default timeout for this request (ms); 0 disables. */
  timeoutMs?: number;
  onProgress?: (progress: JobProgress) => void;
}

interface Pending {
  id: number;
  request: JobRequest;
  resolve: (value: unknown) => void;
  reject: (error: JobError) => void;
  onProgress?: (progress: JobProgress) => void;
  cleanup: () => void;
  worker?: Worker;
}

/** One forked child and what is known about it. */
interface Worker {
  proc: ChildProcess;
  /** Set when the parent ends the child on purpose: its exit is then not a crash. */
  ending: boolean;
  ready: boolean;
  stderrTail: string[];
  pending: Set<Pending>;
  /** Settles when the process has exited (and been reaped). */
  exited: Promise<void>;
}

const STDERR_LINES = 20;

export class JobClient {
  private readonly options: Required<Omit<JobClientOptions, 'env' | 'log'>> & Pick<JobClientOptions, 'env' | 'log'>;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  /** Processes killed or shut down that have not exited yet. */
  private readonly ending = new Set<Worker>();

  constructor(options: JobClientOptions) {
    this.options = {
      defaultTimeoutMs: 10 * 60_000,
      idleShutdownMs: 2 * 60_000,
      execArgv: [],
      ...options,
    };
  }

  /** Read a model and summarise it in the background. */
  inspect(params: JobParams<'inspect'>, options?: JobCallOptions): Promise<InspectReport> {
    return this.request('inspect', params, options);
  }

  /** Read a model for the editor: the summary and the main graph in one go. */
  openModel(params: JobParams<'openModel'>, options?: JobCallOptions): Promise<JobResults['openModel']> {
    return this.request('openModel', params, options);
  }

  /** One graph of a model (`main` or a subgraph path). */
  graph(params: JobParams<'graph'>, options?: JobCallOptions): Promise<JobResults['graph']> {
    return this.request('graph', params, options);
  }

  /** The nodes of every graph of a model that match a query. */
  find(params: JobParams<'find'>, options?: JobCallOptions): Promise<JobResults['find']> {
    return this.request('find', params, options);
  }

  /** Every weight of a model, without statistics (as JSON text). */
  weightList(params: JobParams<'weightList'>, options?: JobCallOptions): Promise<JobResults['weightList']> {
    return this.request('weightList', params, options);
  }

  /** Every weight of a model with statistics. */
  weightStats(params: JobParams<'weightStats'>, options?: JobCallOptions): Promise<JobResults['weightStats']> {
    return this.request('weightStats', params, options);
  }

  /**
   * Resolves when every process this client killed or shut down has exited: then what they left behind
   * (src/jobs/staleTemps.ts) can be told from what live processes use.
   */
  async stopped(): Promise<void> {
    const ending = [...this.ending];
    // Killed processes are unref'd (they must not hold this process open); a caller who waits for them does.
    for (const w of ending) w.proc.ref();
    await Promise.all(ending.map((w) => w.exited));
  }

  /** Quantize a model into a new file; resolves with the report. */
  quantize(params: JobParams<'quantize'>, options?: JobCallOptions): Promise<JobResults['quantize']> {
    return this.request('quantize', params, options);
  }

  /** Which kinds of quantization suit a model, in order, and what each would quantize. */
  advise(params: JobParams<'advise'>, options?: JobCallOptions): Promise<JobResults['advise']> {
    return this.request('advise', params, options);
  }

  /** Benchmark models, each on each provider. */
  bench(params: JobParams<'bench'>, options?: JobCallOptions): Promise<JobResults['bench']> {
    return this.request('bench', params, options);
  }

  /** Run two models (or one against saved outputs) and compare every output. */
  compare(params: JobParams<'compare'>, options?: JobCallOptions): Promise<JobResults['compare']> {
    return this.request('compare', params, options);
  }

  /** The execution providers onnxruntime-node offers here, and whether each can start. */
  providers(options?: JobCallOptions): Promise<JobResults['providers']> {
    return this.request('providers', { path: '' }, options);
  }

  /** One weight's histogram and per-channel ranges. */
  weightDetail(params: JobParams<'weightDetail'>, options?: JobCallOptions): Promise<JobResults['weightDetail']> {
    return this.request('weightDetail', params, options);
  }

  /** Any request of the job protocol; `inspect()` and friends are typed shortcuts. */
  request<K extends JobKind>(kind: K, params: JobParams<K>, options: JobCallOptions = {}): Promise<JobResults[K]> {
    return new Promise<JobResults[K]>((resolve, reject) => {
      if (this.disposed) {
        reject(new JobError('disposed', 'The ONNX job process client was shut down.'));
        return;
      }
      const { signal, onProgress } = options;
      if (signal?.aborted) {
        reject(new JobError('cancelled', `Cancelled: ${describe(kind, params)}.`));
        return;
      }
      const id = this.nextId++;
      const request = { ...params, type: kind, id } as JobRequest;
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => this.interrupt(entry, new JobError('cancelled', `Cancelled: ${describe(kind, params)}.`));
      const entry: Pending = {
        id,
        request,
        resolve: resolve as (value: unknown) => void,
        reject,
        onProgress,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs;
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.interrupt(
            entry,
            new JobError('timeout', `Timed out after ${formatMs(timeoutMs)}: ${describe(kind, params)}.`, fileOf(request)),
          );
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, entry);
      this.dispatch(entry);
    });
  }

  /** The pid of the current child, if one runs (for tests and diagnostics). */
  get childPid(): number | undefined {
    return this.worker?.proc.pid;
  }

  /** Requests sent and not yet settled. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Kills the child and rejects everything pending with `disposed`. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clearIdle();
    const error = new JobError('disposed', 'The ONNX job process client was shut down.');
    for (const entry of [...this.pending.values()]) this.settle(entry, error);
    const worker = this.worker;
    this.worker = undefined;
    if (worker) this.end(worker, 'SIGKILL');
  }

  // -------------------------------------------------------------------------------------------------

  private dispatch(entry: Pending): void {
    this.clearIdle();
    let worker: Worker;
    try {
      worker = this.worker ?? this.spawn();
    } catch (err) {
      this.settle(entry, err instanceof JobError ? err : new JobError('spawn-failed', `Could not start the ONNX job process: ${messageOf(err)}`));
      return;
    }
    entry.worker = worker;
    worker.pending.add(entry);
    ref(worker.proc, true);
    try {
      worker.proc.send(entry.request, (err) => {
        // A failed send means the channel is gone; the exit handler settles the request.
        if (err) this.log('warn', `Could not send request ${entry.id} to the job process: ${err.message}`);
      });
    } catch (err) {
      this.log('warn', `Could not send request ${entry.id} to the job process: ${messageOf(err)}`);
    }
  }

  private spawn(): Worker {
    const childPath = this.options.childPath;
    if (!fs.existsSync(childPath)) {
      throw new JobError(
        'spawn-failed',
        `The ONNX job process entry ${childPath} is missing; build the extension (npm run build) and try again.`,
      );
    }
    const env = { ...(this.options.env ?? process.env) };
    // Inside VS Code's Electron-based extension host, process.execPath is Electron: run it as Node.
    if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
    const proc = fork(childPath, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: this.options.execArgv,
      env,
      cwd: path.dirname(childPath),
    });
    const worker: Worker = { proc, ending: false, ready: false, stderrTail: [], pending: new Set(), exited: new Promise((resolve) => proc.once('exit', () => resolve())) };
    this.worker = worker;
    this.log('info', `Started the ONNX job process (pid ${proc.pid ?? '?'}).`);

    const onOutput = (stream: 'stdout' | 'stderr') => {
      let partial = '';
      return (chunk: Buffer): void => {
        const lines = (partial + chunk.toString('utf8')).split(/\r?\n/);
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (!line) continue;
          if (stream === 'stderr') {
            worker.stderrTail.push(line);
            if (worker.stderrTail.length > STDERR_LINES) worker.stderrTail.shift();
          }
          this.log(stream === 'stderr' ? 'warn' : 'info', `[job ${proc.pid ?? '?'}] ${line}`);
        }
      };
    };
    proc.stdout?.on('data', onOutput('stdout'));
    proc.stderr?.on('data', onOutput('stderr'));
    proc.on('message', (message: unknown) => this.onMessage(worker, message));
    proc.on('error', (err) => {
      // Fork failed (no pid), or a kill/send failed on a live child.
      this.log('error', `Job process error: ${err.message}`);
      if (proc.pid === undefined) {
        this.fail(worker, new JobError('spawn-failed', `Could not start the ONNX job process: ${err.message}`));
      }
    });
    proc.on('exit', (code, signal) => this.onExit(worker, code, signal));
    return worker;
  }

  private onMessage(worker: Worker, message: unknown): void {
    if (!isChildMessage(message)) {
      this.log('warn', `Ignored a message from the job process that is not in the protocol: ${safeJson(message)}`);
      return;
    }
    const msg: ChildMessage = message;
    switch (msg.type) {
      case 'ready':
        worker.ready = true;
        this.log('info', `Job process ${msg.pid} ready (node ${msg.node}, protocol ${msg.protocol}).`);
        return;
      case 'log':
        this.log(msg.level, `[job ${worker.proc.pid ?? '?'}] ${msg.message}`);
        return;
      case 'progress': {
        const entry = this.pending.get(msg.id);
        if (!entry || entry.worker !== worker || !entry.onProgress) return;
        const { type: _type, id: _id, ...progress } = msg;
        try {
          entry.onProgress(progress);
        } catch (err) {
          this.log('warn', `A progress callback threw: ${messageOf(err)}`);
        }
        return;
      }
      case 'result': {
        const entry = this.pending.get(msg.id);
        if (entry && entry.worker === worker) this.settle(entry, undefined, msg.result);
        return;
      }
      case 'error': {
        // A bug's trace goes to the log only; the message people see is one line.
        if (msg.error.trace) this.log('error', `[job ${worker.proc.pid ?? '?'}] ${msg.error.trace}`);
        const entry = this.pending.get(msg.id);
        if (entry && entry.worker === worker) this.settle(entry, JobError.fromData(msg.error));
        return;
      }
      default:
        assertNever(msg, 'job process message');
    }
  }

  private onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.worker === worker) this.worker = undefined;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code ?? '?'}`;
    if (worker.ending) {
      this.log('info', `Job process ${worker.proc.pid ?? '?'} ${how} (shut down on purpose).`);
      return;
    }
    this.log(worker.pending.size > 0 ? 'error' : 'warn', `Job process ${worker.proc.pid ?? '?'} ${how} unexpectedly.`);
    if (worker.pending.size === 0) return;
    const started = worker.ready ? '' : ' before it was ready';
    const tail = worker.stderrTail.length > 0 ? ` Its last output: ${worker.stderrTail.slice(-5).join(' | ')}` : '';
    for (const entry of [...worker.pending]) {
      const hint = signal === 'SIGKILL' ? ' (possibly out of memory)' : '';
      this.settle(
        entry,
        new JobError(
          'crashed',
          `The ONNX job process ${how}${hint}${started} while ${describe(entry.request.type, entry.request)}.${tail}`,
          fileOf(entry.request),
        ),
      );
    }
  }

  /**
   * Cancel or time out one request: reject it, kill its child, and send that child's other requests
   * to a fresh child (they did nothing wrong).
   */
  private interrupt(entry: Pending, error: JobError): void {
    if (!this.pending.has(entry.id)) return;
    const worker = entry.worker;
    this.settle(entry, error);
    if (!worker) return;
    const others = [...worker.pending];
    worker.pending.clear();
    if (this.worker === worker) this.worker = undefined;
    this.end(worker, 'SIGKILL');
    this.log('info', `Killed job process ${worker.proc.pid ?? '?'}: ${error.message}`);
    for (const other of others) {
      other.worker = undefined;
      this.dispatch(other);
    }
  }

  /** Reject every request of a worker that died before it could answer. */
  private fail(worker: Worker, error: JobError): void {
    if (this.worker === worker) this.worker = undefined;
    worker.ending = true;
    for (const entry of [...worker.pending]) this.settle(entry, error);
  }

  private settle(entry: Pending, error: JobError | undefined, value?: unknown): void {
    if (!this.pending.delete(entry.id)) return;
    entry.cleanup();
    const worker = entry.worker;
    if (worker) {
      worker.pending.delete(entry);
      if (worker.pending.size === 0 && worker === this.worker) {
        ref(worker.proc, false);
        this.scheduleIdle();
      }
    }
    if (error) entry.reject(error);
    else entry.resolve(value);
  }

  private end(worker: Worker, signal: NodeJS.Signals): void {
    worker.ending = true;
    this.ending.add(worker);
    void worker.exited.then(() => this.ending.delete(worker));
    ref(worker.proc, false);
    if (worker.proc.exitCode === null && worker.proc.signalCode === null) {
      try {
        worker.proc.kill(signal);
      } catch (err) {
        this.log('warn', `Could not kill job process ${worker.proc.pid ?? '?'}: ${messageOf(err)}`);
      }
    }
  }

  private scheduleIdle(): void {
    this.clearIdle();
    const ms = this.options.idleShutdownMs;
    if (ms <= 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      const worker = this.worker;
      if (!worker || worker.pending.size > 0) return;
      this.worker = undefined;
      this.end(worker, 'SIGTERM');
    }, ms);
    this.idleTimer.unref();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private log(level: LogLevel, message: string): void {
    try {
      this.options.log?.(level, message);
    } catch {
      // A logger must never break the job machinery.
    }
  }
}

/** Keep the event loop alive for the child only while it has work. */
function ref(proc: ChildProcess, on: boolean): void {
  const handles: ({ ref?: () => void; unref?: () => void } | null | undefined)[] = [
    proc,
    proc.channel,
    proc.stdout as unknown as { ref?: () => void; unref?: () => void } | null,
    proc.stderr as unknown as { ref?: () => void; unref?: () => void } | null,
  ];
  for (const handle of handles) {
    if (on) handle?.ref?.();
    else handle?.unref?.();
  }
}

function describe(kind: JobKind, params: object): string {
  switch (kind) {
    case 'inspect':
    case 'openModel':
      return `reading ${path.basename((params as JobParams<'inspect'>).path)}`;
    case 'graph':
      return `building the graph ${(params as JobParams<'graph'>).graph} of ${path.basename((params as JobParams<'graph'>).path)}`;
    case 'find':
      return `finding "${(params as JobParams<'find'>).query}" in ${path.basename((params as JobParams<'find'>).path)}`;
    case 'weightList':
      return `listing the weights of ${path.basename((params as JobParams<'weightList'>).path)}`;
    case 'weightStats':
      return `computing weight statistics of ${path.basename((params as JobParams<'weightStats'>).path)}`;
    case 'weightDetail':
      return `computing the histogram of weight ${(params as JobParams<'weightDetail'>).weight} in ${path.basename((params as JobParams<'weightDetail'>).path)}`;
    case 'quantize':
      return `quantizing ${path.basename((params as JobParams<'quantize'>).path)}`;
    case 'advise':
      return `looking at what ${path.basename((params as JobParams<'advise'>).path)} contains`;
    case 'providers':
      return 'trying the execution providers';
    case 'bench':
      return `benchmarking ${(params as JobParams<'bench'>).files.map((f) => path.basename(f)).join(', ')}`;
    case 'compare': {
      const p = params as JobParams<'compare'>;
      return `comparing ${path.basename(p.path)} with ${p.other ? path.basename(p.other) : 'its saved outputs'}`;
    }
    default:
      return assertNever(kind, 'job kind');
  }
}

function fileOf(request: JobRequest): string | undefined {
  return request.path;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}
