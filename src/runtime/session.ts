// Sessions on onnxruntime-node: a model opened on an ordered list of execution providers with session
// options, and the one error type of the runtime. A provider that cannot start is never replaced
// silently: the next one in the user's list is tried, the CPU only where the user allowed it
// (`allowCpuFallback`), and the result says which provider ran and why the others did not.
// onnxruntime's own log lines (ANSI-coloured `[E:onnxruntime...]`) are silenced; its messages become
// one clean line in a RuntimeError.
import * as fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../onnx/load';
import type { ValueInfo } from '../protocol/inspect';
import { modelInputs, modelOutputs } from './modelIo';
import type { ProviderOutcome } from '../protocol/compare';
import { describeValue, RuntimeError } from './errors';
import { firstLine, providerStatus, type Provider } from './providers';

export { describeValue, RuntimeError, type RuntimeErrorKind } from './errors';

export type { ProviderOutcome } from '../protocol/compare';

// Set before the first session: onnxruntime's default logger writes errors to stderr, raw.
ort.env.logLevel = 'fatal';

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  /** Tried in order (default: the CPU). */
  providers?: Provider[];
  /** Use the CPU when none of `providers` can start (the result says so). */
  allowCpuFallback?: boolean;
  /** Intra-op threads (default: onnxruntime's, one per core). */
  threads?: number;
  /** Graph optimization level (default "all", as the model will be deployed). */
  optimization?: OptimizationLevel;
  /** The model's inputs and outputs when the caller has read them (the file is then not read again). */
  io?: { inputs: ValueInfo[]; outputs: ValueInfo[] };
}


/** Errors come back as exceptions; onnxruntime's log would print them a second time, raw. */
const RUN_OPTIONS: ort.InferenceSession.RunOptions = { logSeverityLevel: 4 };

const OOM = /out of memory|bad_alloc|failed to allocate|cudaErrorMemoryAllocation|OOM/i;

function describeProviders(skipped: ProviderOutcome['skipped']): string {
  return skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ');
}

/** An onnxruntime session and what it was opened with. */
export class ModelSession {
  private constructor(
    readonly file: string,
    private readonly session: ort.InferenceSession,
    readonly provider: ProviderOutcome,
    readonly inputs: ValueInfo[],
    readonly outputs: ValueInfo[],
  ) {}

  /** Opens `file` (from its path: onnxruntime then needs about 1.25x the file size, from bytes 2.5x). */
  static async open(file: string, options: SessionOptions = {}): Promise<ModelSession> {
    if (!fs.existsSync(file)) throw new RuntimeError('model-rejected', 'no such file', file);
    const io = options.io ?? (() => { const model = loadModel(file); return { inputs: modelInputs(model), outputs: modelOutputs(model) }; })();
    const { inputs, outputs } = io;
    const requested = options.providers?.length ? [...new Set(options.providers)] : ['cpu' as Provider];
    const skipped: ProviderOutcome['skipped'] = [];
    const base: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: options.optimization ?? 'all', logSeverityLevel: 4,
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    };
    const attempt = async (list: Provider[], cpuFallback: boolean): Promise<ModelSession | undefined> => {
      for (let i = 0; i < list.length; i++) {
        const p = list[i];
        const status = await providerStatus(p);
        if (!status.available) { skipped.push({ provider: p, reason: status.reason ?? 'cannot start' }); continue; }
        try {
          const session = await ort.InferenceSession.create(file, { ...base, executionProviders: list.slice(i) });
          return new ModelSession(file, session, { requested, used: p, skipped: [...skipped], cpuFallback }, inputs, outputs);
        } catch (e) {
          const msg = (e as Error).message;
          if (OOM.test(msg)) throw new RuntimeError('out-of-memory', `onnxruntime ran out of memory loading the model on ${p} (${firstLine(msg)}); close other programs or use a smaller model or batch`, file);
          // A provider that starts on a tiny model but not on this one: the model's fault only on the CPU.
          if (p === 'cpu') throw new RuntimeError('model-rejected', `onnxruntime cannot load the model: ${firstLine(msg)}`, file);
          skipped.push({ provider: p, reason: `could not load this model: ${firstLine(msg)}` });
        }
      }
      return undefined;
    };
    const opened = await attempt(requested, false);
    if (opened) return opened;
    if (options.allowCpuFallback && !requested.includes('cpu')) {
      const cpu = await attempt(['cpu'], true);
      if (cpu) return cpu;
    }
    throw new RuntimeError('provider-unavailable', `no requested execution provider can run the model (${describeProviders(skipped)})${requested.includes('cpu') ? '' : '; to run on the CPU instead, allow it (--allow-cpu-fallback, or the onnxqs.runtime.allowCpuFallback setting) or add cpu to the list'}`, file);
  }

  /** Runs one sample; `fetches` defaults to every output. Errors name the cause (inputs, memory). */
  async run(feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<Record<string, ort.Tensor>> {
    const names = new Set(this.inputs.map((v) => v.name));
    const missing = this.inputs.filter((v) => !(v.name in feeds)).map((v) => `"${v.name}"`);
    const extra = Object.keys(feeds).filter((k) => !names.has(k)).map((k) => `"${k}"`);
    if (missing.length || extra.length) {
      throw new RuntimeError('input-mismatch', `${missing.length ? `no value for input ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `${extra.join(', ')} ${extra.length === 1 ? 'is not an input' : 'are not inputs'} of the model` : ''}; its inputs are ${this.inputs.map(describeValue).join(', ')}`, this.file);
    }
    try {
      return fetches ? await this.session.run(feeds, fetches, RUN_OPTIONS) : await this.session.run(feeds, RUN_OPTIONS);
    } catch (e) {
      const msg = firstLine((e as Error).message);
      if (OOM.test(msg)) throw new RuntimeError('out-of-memory', `onnxruntime ran out of memory running the model on ${this.provider.used} (${msg}); use smaller inputs (--dims) or a provider with more memory`, this.file);
      if (/invalid dimensions|invalid rank|Unexpected input data type|input .*type|data type/i.test(msg)) {
        throw new RuntimeError('input-mismatch', `the inputs do not fit the model: ${msg}; its inputs are ${this.inputs.map(describeValue).join(', ')}`, this.file);
      }
      throw new RuntimeError('run-failed', `onnxruntime could not run the model on ${this.provider.used}: ${msg}`, this.file);
    }
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
