// The extension's settings (declared in package.json), read where they are used.
import * as vscode from 'vscode';

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

function clampInt(value: unknown, min: number, max: number, fallback: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, Math.round(value)));
}
