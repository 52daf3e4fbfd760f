// The extension's settings (declared in package.json), read where they are used.
import * as vscode from 'vscode';
import { isProvider, type Provider } from '../protocol/compare';

export const SECTION = 'onnxqs';
export const LARGEST_TENSORS = 'inspect.largestTensors';
export const HISTOGRAM_BINS = 'statistics.histogramBins';

export interface InspectSettings {
  /** `onnxqs.inspect.largestTensors` (1..1000). */
  largest: number;
  /** `onnxqs.statistics.histogramBins` (4..4096). */
  bins: number;
}

export function inspectSettings(scope?: vscode.Uri): InspectSettings {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  return {
    largest: clampInt(config.get<number>(LARGEST_TENSORS), 1, 1000, 20),
    bins: clampInt(config.get<number>(HISTOGRAM_BINS), 4, 4096, 64),
  };
}

/** True when a configuration change affects what the model summary shows. */
export function affectsInspect(event: vscode.ConfigurationChangeEvent, scope?: vscode.Uri): boolean {
  return event.affectsConfiguration(`${SECTION}.${LARGEST_TENSORS}`, scope);
}

export interface RuntimeSettings {
  /** `onnxqs.runtime.executionProviders`: tried in order. */
  providers: Provider[];
  /** `onnxqs.runtime.allowCpuFallback`: run on the CPU when none of them can start (the result says so). */
  allowCpuFallback: boolean;
  /** `onnxqs.compare.minCosine`: every output of every sample must reach it to pass. */
  minCosine: number;
}

/** Machine-wide choices (not per folder): read without a resource. */
export function runtimeSettings(): RuntimeSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const listed = config.get<unknown>('runtime.executionProviders');
  const providers = Array.isArray(listed) ? listed.filter(isProvider) : [];
  const min = config.get<number>('compare.minCosine');
  return {
    providers: providers.length ? providers : ['cpu'],
    allowCpuFallback: config.get<boolean>('runtime.allowCpuFallback') === true,
    minCosine: typeof min === 'number' && min > -1 && min <= 1 ? min : 0.99,
  };
}

function clampInt(value: unknown, min: number, max: number, fallback: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, Math.round(value)));
}

export interface BenchSettings {
  /** `onnxqs.bench.executionProviders`: each is benchmarked on its own. */
  providers: Provider[];
  /** `onnxqs.bench.warmup`: untimed runs after the first. */
  warmup: number;
  /** `onnxqs.bench.iterations`: timed runs per model; undefined (setting 0): 100, fewer for slow models. */
  iterations: number | undefined;
  /** `onnxqs.bench.threads`: intra-op threads; undefined (setting 0): onnxruntime's default. */
  threads: number | undefined;
}

/** Machine-wide, like the runtime's settings. */
export function benchSettings(): BenchSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const listed = config.get<unknown>('bench.executionProviders');
  const providers = Array.isArray(listed) ? [...new Set(listed.filter(isProvider))] : [];
  const iterations = clampInt(config.get<number>('bench.iterations'), 0, 100_000, 0);
  const threads = clampInt(config.get<number>('bench.threads'), 0, 1024, 0);
  return {
    providers: providers.length ? providers : ['cpu'],
    warmup: clampInt(config.get<number>('bench.warmup'), 0, 10_000, 5),
    iterations: iterations || undefined,
    threads: threads || undefined,
  };
}
