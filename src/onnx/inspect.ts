// Model -> InspectReport: what `onnxq inspect` prints and what the editor shows first.
import * as path from 'node:path';
import { dtypeName } from './dtype';
import { loadModel, loadModelAsync } from './load';
import type { Model } from './model';
import { inferShapes } from './shapes/infer';
import { valueInfo } from './valueInfo';
import { int64 } from './proto';
import type { InspectReport, TensorSummary, ValueInfo } from '../protocol/inspect';
import { tensorStats } from './stats';

export interface InspectOptions {
  /** How many of the largest tensors to list (default 20). */
  largest?: number;
  /** Compute statistics for the listed tensors. */
  stats?: boolean;
  /** Histogram bins when computing statistics (default 64). */
  bins?: number;
  /** List every main-graph value with its dtype and shape (declared or inferred). */
  shapes?: boolean;
}

export async function inspectFile(file: string, options: InspectOptions = {}): Promise<InspectReport> {
  return inspectModel(await loadModelAsync(file), options);
}

export function inspectFileSync(file: string, options: InspectOptions = {}): InspectReport {
  return inspectModel(loadModel(file), options);
}

export function inspectModel(model: Model, options: InspectOptions = {}): InspectReport {
  const p = model.proto;
  const main = p.graph!;
  const initializerNames = new Set((main.initializer ?? []).map((t) => t.name ?? ''));
  for (const s of main.sparse_initializer ?? []) initializerNames.add(s.values?.name ?? '');

  const opHistogram: Record<string, number> = {};
  let nodeCount = 0;
  for (const { node } of model.nodes()) {
    nodeCount++;
    const op = node.op_type ?? '';
    opHistogram[op] = (opHistogram[op] ?? 0) + 1;
  }

  const weights = model.weights();
  const byDtype: Record<string, { count: number; bytes: number }> = {};
  let count = 0, bytes = 0;
  const external = new Map<string, { location: string; bytes: number; tensors: number }>();
  for (const w of weights) {
    const entry = (byDtype[w.dtypeName] ??= { count: 0, bytes: 0 });
    entry.count += w.elements; entry.bytes += w.byteLength;
    count += w.elements; bytes += w.byteLength;
    if (w.external) {
      const e = external.get(w.external.location) ?? { location: w.external.location, bytes: 0, tensors: 0 };
      e.bytes += w.external.length; e.tensors++;
      external.set(w.external.location, e);
    }
  }

  const largest = [...weights].sort((a, b) => b.byteLength - a.byteLength).slice(0, options.largest ?? 20);
  const tensors: TensorSummary[] = largest.map((w) => ({
    name: w.name, dtype: w.dtypeName, shape: w.dims, elements: w.elements, bytes: w.byteLength,
    origin: w.origin, graph: w.graph,
    ...(w.external ? { external: { location: w.external.location, offset: w.external.offset, length: w.external.length } } : {}),
    ...(options.stats && w.numeric && w.elements > 0 ? { stats: tensorStats(w, { bins: options.bins }) } : {}),
  }));

  return {
    file: model.source.file ? path.basename(model.source.file) : '',
    fileBytes: model.source.fileBytes,
    irVersion: model.irVersion,
    opsets: model.opsets,
    producer: p.producer_name ?? '',
    producerVersion: p.producer_version ?? '',
    domain: p.domain ?? '',
    modelVersion: int64(p.model_version),
    docString: p.doc_string ?? '',
    metadata: model.metadata,
    inputs: (main.input ?? []).filter((v) => !initializerNames.has(v.name ?? '')).map(valueInfo),
    outputs: (main.output ?? []).map(valueInfo),
    nodeCount,
    opHistogram,
    subgraphCount: model.graphs().length - 1,
    functions: (p.functions ?? []).map((f) => ({ domain: f.domain ?? '', name: f.name ?? '', nodeCount: f.node?.length ?? 0 })),
    parameters: { count, bytes, byDtype },
    externalData: [...external.values()],
    tensors,
    ...(options.shapes ? { valueInfo: mainGraphValues(model) } : {}),
  };
}

/** Every value the main graph defines, with what shape inference knows of it. */
export function mainGraphValues(model: Model): ValueInfo[] {
  const main = model.graphs()[0];
  if (!main) return [];
  const shapes = inferShapes(model);
  return [...shapes.graph(main)].map(([name, f]) => ({ name, dtype: f.dtype !== undefined ? dtypeName(f.dtype) : 'unknown', shape: f.shape }));
}
