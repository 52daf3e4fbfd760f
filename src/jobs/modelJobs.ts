// What the job process computes for the model editor, on a parsed model: the first paint (summary, main
// graph), the weight list, a subgraph, every weight's statistics, one weight's histogram. Pure functions of
// the core, shared by the job process (child.ts) and the editor benchmark (bench/editor.ts), so the
// benchmark times exactly what the extension runs.
import { buildGraphData, buildWeightSummaries, weightDetail } from '../onnx/graphData';
import { inspectModel } from '../onnx/inspect';
import type { Model } from '../onnx/model';
import type { GraphData, WeightDetail, WeightSummary } from '../protocol/graph';
import type { OpenModelResult } from '../protocol/jobs';
import { toJsonText, type JsonText } from '../protocol/common';
import type { LoadedModel } from './modelCache';

/** Histogram bins the weights view accepts (the webview offers a few values inside this range). */
export const MIN_BINS = 4;
export const MAX_BINS = 4096;

export function openModelData(loaded: LoadedModel, largest: number): OpenModelResult {
  const { model } = loaded;
  const t0 = performance.now();
  const report = inspectModel(model, { largest, stats: false });
  const t1 = performance.now();
  const graph = buildGraphData(model, 'main');
  const t2 = performance.now();
  const graphText = toJsonText(graph);
  const t3 = performance.now();
  return {
    report,
    graph: graphText,
    weightCount: model.weights().length,
    timings: { readMs: loaded.readMs, parseMs: loaded.parseMs, reportMs: t1 - t0, graphMs: t2 - t1, encodeMs: t3 - t2 },
  };
}

/** Every weight without statistics, as the webview receives it. */
export function weightList(model: Model): JsonText<WeightSummary[]> {
  return toJsonText(buildWeightSummaries(model, { stats: false }));
}

export function graphData(model: Model, graph: string): GraphData {
  return buildGraphData(model, graph);
}

export function weightStats(model: Model): WeightSummary[] {
  return buildWeightSummaries(model, { stats: true });
}

export function weightDetailData(model: Model, weight: number, bins: number, codes = false): WeightDetail {
  const b = Math.min(MAX_BINS, Math.max(MIN_BINS, Math.round(Number.isFinite(bins) ? bins : 64)));
  return weightDetail(model, weight, b, codes);
}
