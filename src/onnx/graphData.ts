// Model -> what the model editor's webview draws (src/protocol/graph.ts): one graph at a time as compact
// plain JSON (nodes, the values between them with dtype and shape, formatted attributes), the weight table,
// and per-weight histograms on request. Never protobuf, never whole tensors.
import { formatAttribute } from './attributes';
import { dtypeName } from './dtype';
import { OnnxError } from './errors';
import { inferShapes, type InferredShapes } from './shapes/infer';
import type { ValueShape } from './shapes/types';
import { valueInfo } from './valueInfo';
import { constantTensor, type GraphInfo, type Model } from './model';
import { opCategory } from './opCategory';
import { int64, type AttributeProto, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto';
import type { Dim } from '../protocol/inspect';
import { perChannelMinMax, perChannelOfChunks, statsOfChunks, tensorStats } from './stats';
import { dequantize, type Dequantized } from './dequantize';
import type { TensorRef } from './tensor';
import type { GraphData, GraphNodeData, GraphValueData, ValueKind, WeightDetail, WeightSummary } from '../protocol/graph';

interface TypeInfo { dtype: string | null; shape: Dim[] | null }

/** What defines a name inside one graph. */
interface Def { kind: 'input' | 'node' | 'weight'; weight?: number; scope: Scope }

interface Scope {
  info: GraphInfo;
  defs: Map<string, Def>;
  /** What the model says of a value: the tensor of a weight or Constant, else value_info, inputs, outputs. */
  declared: Map<string, TypeInfo>;
  /** What shape inference found (it fills in what the model does not declare). */
  inferred: ReadonlyMap<string, ValueShape> | undefined;
}

/** Indexes over a model, built once per Model (the Model is immutable once loaded). */
interface ModelIndex {
  byPath: Map<string, GraphInfo>;
  byProto: Map<GraphProto, GraphInfo>;
  scopes: Map<GraphInfo, Scope>;
  consumers?: WeightSummary['consumers'][];
}

const cache = new WeakMap<Model, ModelIndex>();

function index(model: Model): ModelIndex {
  let idx = cache.get(model);
  if (idx) return idx;
  const byPath = new Map<string, GraphInfo>();
  const byProto = new Map<GraphProto, GraphInfo>();
  for (const g of model.graphs()) {
    if (!byPath.has(g.path)) byPath.set(g.path, g);
    byProto.set(g.graph, g);
  }
  // Weight numbers follow Model.weights(): graph by graph, initializers, sparse initializers, Constant nodes.
  const scopes = new Map<GraphInfo, Scope>();
  const inferred = inferredOrNothing(model);
  let w = 0;
  for (const info of model.graphs()) {
    const defs = new Map<string, Def>();
    const declared = new Map<string, TypeInfo>();
    const scope: Scope = { info, defs, declared, inferred: inferred?.graph(info) };
    // One definition object for every input and every node output of the graph (there are 100,000s).
    const inputDef: Def = { kind: 'input', scope };
    const nodeDef: Def = { kind: 'node', scope };
    const g = info.graph;
    const describe = (v: ValueInfoProto) => {
      const name = v.name ?? '';
      if (!name || declared.has(name)) return;
      const d = valueInfo(v);
      declared.set(name, { dtype: d.dtype === 'unknown' ? null : d.dtype, shape: d.shape });
    };
    const tensorType = (name: string, t: TensorProto) => {
      if (name) declared.set(name, { dtype: dtypeName(t.data_type ?? 0), shape: (t.dims ?? []).map(int64) });
    };
    for (const v of g.input ?? []) if (v.name) defs.set(v.name, inputDef);
    for (const t of g.initializer ?? []) { const n = t.name ?? ''; defs.set(n, { kind: 'weight', weight: w++, scope }); tensorType(n, t); }
    for (const s of g.sparse_initializer ?? []) {
      if (!s.values) continue;
      const n = s.values.name ?? '';
      defs.set(n, { kind: 'weight', weight: w++, scope });
      declared.set(n, { dtype: dtypeName(s.values.data_type ?? 0), shape: (s.dims ?? []).map(int64) });
    }
    for (const node of g.node ?? []) {
      const t = constantTensor(node);
      const outs = node.output ?? [];
      if (t) {
        // Model.weights() names a Constant's tensor by the node's first output.
        const n = outs[0] ?? t.name ?? '';
        const shape = node.attribute?.some((a) => a.name === 'sparse_value') ? sparseDims(node) : (t.dims ?? []).map(int64);
        defs.set(n, { kind: 'weight', weight: w++, scope });
        declared.set(n, { dtype: dtypeName(t.data_type ?? 0), shape });
        for (const o of outs.slice(1)) if (o) defs.set(o, nodeDef);
      } else {
        for (const o of outs) if (o) defs.set(o, nodeDef);
        if (node.op_type === 'Constant' && outs[0] && !(node.domain && node.domain !== 'ai.onnx')) {
          const ct = constantAttributeType(node.attribute ?? []);
          if (ct) declared.set(outs[0], ct);
        }
      }
    }
    for (const v of g.value_info ?? []) describe(v);
    for (const v of g.input ?? []) describe(v);
    for (const v of g.output ?? []) describe(v);
    scopes.set(info, scope);
  }
  const total = model.weights().length;
  if (w !== total) throw new Error(`internal: weight numbering (${w}) disagrees with Model.weights() (${total})`);
  idx = { byPath, byProto, scopes };
  cache.set(model, idx);
  return idx;
}

/**
 * dtype and shape of `name` in `scope`: what the model declares, filled in by shape inference where the
 * declaration lacks a dtype or a dim (exporters such as PyTorch at opset 9 and paddle2onnx write no value_info).
 */
function typeIn(scope: Scope, name: string): TypeInfo | undefined {
  const t = scope.declared.get(name);
  if (t?.dtype && t.shape && !t.shape.includes(null)) return t;
  const f = scope.inferred?.get(name);
  if (!f) return t;
  return { dtype: t?.dtype ?? (f.dtype !== undefined ? dtypeName(f.dtype) : null), shape: f.shape ?? t?.shape ?? null };
}

/** Shape inference for the edge labels; a model it cannot take is drawn with what it declares. */
function inferredOrNothing(model: Model): InferredShapes | undefined {
  try {
    return inferShapes(model);
  } catch {
    return undefined;
  }
}

function sparseDims(node: NodeProto): Dim[] {
  const a = node.attribute?.find((x) => x.name === 'sparse_value');
  return (a?.sparse_tensor?.dims ?? []).map(int64);
}

/** dtype and shape of a Constant given as value_float(s), value_int(s) or value_string(s). */
function constantAttributeType(attrs: AttributeProto[]): TypeInfo | undefined {
  for (const a of attrs) {
    switch (a.name) {
      case 'value_float': return { dtype: 'float', shape: [] };
      case 'value_floats': return { dtype: 'float', shape: [a.floats?.length ?? 0] };
      case 'value_int': return { dtype: 'int64', shape: [] };
      case 'value_ints': return { dtype: 'int64', shape: [a.ints?.length ?? 0] };
      case 'value_string': return { dtype: 'string', shape: [] };
      case 'value_strings': return { dtype: 'string', shape: [a.strings?.length ?? 0] };
    }
  }
  return undefined;
}

/** How `name` is defined as `info` reads it: in this graph or an enclosing one (nearest first; Def.scope says which). */
function resolve(idx: ModelIndex, info: GraphInfo, name: string): Def | undefined {
  for (let g: GraphInfo | undefined = info; g; g = g.parent) {
    const def = idx.scopes.get(g)!.defs.get(name);
    if (def) return def;
  }
  return undefined;
}

function graphInfo(model: Model, path: string): GraphInfo {
  const info = index(model).byPath.get(path);
  if (!info) throw new OnnxError('not-found', `the model has no graph "${path}"`);
  return info;
}

/** The breadcrumb label of a graph: the main graph's name, or `<node>.<attribute>` for a subgraph. */
function label(info: GraphInfo): string {
  if (!info.parent) return info.graph.name || 'main';
  return info.path.startsWith(`${info.parent.path}/`) ? info.path.slice(info.parent.path.length + 1) : info.path;
}

/**
 * One graph of the model, for the graph view: every node (Constant nodes included, names as they are:
 * unnamed nodes stay unnamed), every value a node or the graph uses (dtype and shape from value_info,
 * graph inputs and outputs, initializer dims and Constant tensors; null when unknown), formatted attributes
 * and the paths of subgraphs. `path` as Model.graphs() names it (`main`, `main/If_0.then_branch`).
 */
export function buildGraphData(model: Model, path = 'main'): GraphData {
  const idx = index(model);
  const info = graphInfo(model, path);
  const scope = idx.scopes.get(info)!;
  const g = info.graph;
  const outputNames = new Set<string>();
  for (const o of g.output ?? []) if (o.name) outputNames.add(o.name);

  const values: GraphValueData[] = [];
  const ids = new Map<string, number>();
  const id = (name: string | undefined): number => {
    if (!name) return -1;
    let i = ids.get(name);
    if (i !== undefined) return i;
    i = values.length;
    ids.set(name, i);
    values.push(makeValue(name));
    return i;
  };
  const makeValue = (name: string): GraphValueData => {
    const found = resolve(idx, info, name);
    let kind: ValueKind;
    let weight: number | undefined;
    let type: TypeInfo | undefined;
    if (!found) {
      kind = outputNames.has(name) ? 'output' : 'intermediate';
      type = typeIn(scope, name);
    } else {
      type = typeIn(scope, name) ?? typeIn(found.scope, name);
      weight = found.weight;
      if (found.scope !== scope) kind = 'outer';
      else if (found.kind === 'weight') kind = 'weight';
      else if (found.kind === 'input') kind = 'input';
      else kind = outputNames.has(name) ? 'output' : 'intermediate';
    }
    const v: GraphValueData = { name, dtype: type?.dtype ?? null, shape: type?.shape ?? null, kind };
    if (weight !== undefined) v.weight = weight;
    return v;
  };

  const inputs: number[] = [];
  for (const v of g.input ?? []) {
    const name = v.name ?? '';
    if (name && scope.defs.get(name)?.kind === 'input') inputs.push(id(name));
  }
  const externalOf = (t: TensorProto) => model.externalOf(t);
  const nodes: GraphNodeData[] = (g.node ?? []).map((node) => {
    const op = node.op_type ?? '';
    const domain = node.domain === 'ai.onnx' ? '' : node.domain ?? '';
    const subgraphs: GraphNodeData['subgraphs'] = [];
    for (const a of node.attribute ?? []) {
      if (a.g) { const sub = idx.byProto.get(a.g); if (sub) subgraphs.push({ attribute: a.name ?? '', path: sub.path }); }
      for (const sg of a.graphs ?? []) { const sub = idx.byProto.get(sg); if (sub) subgraphs.push({ attribute: a.name ?? '', path: sub.path }); }
    }
    return {
      op, domain, name: node.name ?? '',
      category: opCategory(op, domain),
      inputs: (node.input ?? []).map(id),
      outputs: (node.output ?? []).map(id),
      attributes: (node.attribute ?? []).map((a) => formatAttribute(a, externalOf)),
      subgraphs,
    };
  });
  const outputs = (g.output ?? []).map((o) => id(o.name)).filter((i) => i >= 0);

  const ancestors: GraphData['ancestors'] = [];
  for (let p = info.parent; p; p = p.parent) ancestors.unshift({ path: p.path, label: label(p) });
  return { path: info.path, name: g.name ?? '', label: label(info), ancestors, nodes, values, inputs, outputs };
}

/** Who consumes each weight (by Model.weights() index), in every graph that can see it. */
function weightConsumers(model: Model): WeightSummary['consumers'][] {
  const idx = index(model);
  if (idx.consumers) return idx.consumers;
  const out: WeightSummary['consumers'][] = model.weights().map(() => []);
  for (const info of model.graphs()) {
    (info.graph.node ?? []).forEach((node, k) => {
      (node.input ?? []).forEach((name, input) => {
        if (!name) return;
        const w = resolve(idx, info, name)?.weight;
        if (w !== undefined) out[w].push({ node: node.name ?? '', op: node.op_type ?? '', input, graph: info.path, index: k });
      });
    });
  }
  return (idx.consumers = out);
}

/** Weight `weight` as the values its codes stand for, when the model stores it quantized. */
export function storedQuantization(model: Model, weight: number): Dequantized | undefined {
  const idx = index(model);
  const w = model.weights()[weight];
  const weights = model.weights();
  const lookup = (name: string, graph: GraphInfo) => {
    const def = resolve(idx, graph, name);
    return def?.weight !== undefined ? weights[def.weight] : undefined;
  };
  const consumers = weightConsumers(model)[weight].map((c) => {
    const graph = idx.byPath.get(c.graph)!;
    return { graph, node: graph.graph.node![c.index], input: c.input };
  });
  return dequantize(w, consumers, lookup);
}

export interface WeightSummaryOptions {
  /** Compute min, max, mean, std, sparsity and the outlier score (reads every weight's bytes). */
  stats: boolean;
}

/**
 * Every weight of the model (initializers, sparse initializers and Constant-node tensors of every graph),
 * in Model.weights() order: GraphValueData.weight indexes this list.
 */
export function buildWeightSummaries(model: Model, options: WeightSummaryOptions = { stats: false }): WeightSummary[] {
  const consumers = weightConsumers(model);
  return model.weights().map((w, i) => {
    const s: WeightSummary = {
      name: w.name, dtype: w.dtypeName, shape: w.dims, elements: w.elements, bytes: w.byteLength,
      origin: w.origin, graph: w.graph, consumers: consumers[i],
    };
    const stored = storedQuantization(model, i);
    if (stored) s.stored = stored.info;
    if (options.stats && w.numeric && w.elements > 0) {
      try {
        const statsOptions = { bins: 1, percentiles: [] };
        const { histogram: _h, percentiles: _p, ...rest } = stored ? statsOfChunks(stored.chunks, statsOptions) : tensorStats(w, statsOptions);
        const absMax = Math.max(Math.abs(rest.min), Math.abs(rest.max));
        s.stats = { ...rest, outlierScore: rest.std > 0 ? absMax / rest.std : 0 };
      } catch (e) {
        s.statsError = (e as Error).message;
      }
    }
    return s;
  });
}

/**
 * The per-output-channel axis of a weight, from how it is consumed: Conv / ConvInteger W (axis 0),
 * ConvTranspose W (axis 1), MatMul / MatMulInteger B (the last axis), Gemm B (axis 0 with transB, else 1).
 * Undefined when no consumer says (or the rank does not fit).
 */
export function channelAxis(model: Model, weight: number): number | undefined {
  const w = model.weights()[weight];
  const rank = w?.dims.length ?? 0;
  for (const c of weightConsumers(model)[weight] ?? []) {
    if (c.input !== 1) continue;
    let axis: number | undefined;
    switch (c.op) {
      case 'Conv': case 'ConvInteger': axis = rank >= 3 ? 0 : undefined; break;
      case 'ConvTranspose': axis = rank >= 3 ? 1 : undefined; break;
      case 'MatMul': case 'MatMulInteger': axis = rank >= 2 ? rank - 1 : undefined; break;
      case 'Gemm': {
        if (rank !== 2) break;
        const node = graphInfo(model, c.graph).graph.node?.[c.index];
        const transB = node?.attribute?.find((a) => a.name === 'transB');
        axis = transB && int64(transB.i) !== 0 ? 0 : 1;
        break;
      }
    }
    if (axis !== undefined) return axis;
  }
  return undefined;
}

function findWeight(model: Model, nameOrIndex: string | number): { ref: TensorRef; index: number } {
  const weights = model.weights();
  if (typeof nameOrIndex === 'number') {
    const ref = weights[nameOrIndex];
    if (!ref) throw new OnnxError('not-found', `the model has no weight number ${nameOrIndex}`);
    return { ref, index: nameOrIndex };
  }
  const index = weights.findIndex((w) => w.name === nameOrIndex);
  if (index < 0) throw new OnnxError('not-found', `the model has no weight "${nameOrIndex}"`);
  return { ref: weights[index], index };
}

/**
 * The histogram (`bins` bins over [min, max], finite values only) and percentiles of one weight, given by
 * name (the first weight of that name) or by its index in Model.weights() (unambiguous), plus per-output-
 * channel min/max for Conv, ConvTranspose, MatMul and Gemm weights (see channelAxis).
 */
export function weightDetail(model: Model, nameOrIndex: string | number, bins = 64, codes = false): WeightDetail {
  const { ref, index } = findWeight(model, nameOrIndex);
  if (!ref.numeric) throw new OnnxError('unsupported', `weight "${ref.name}" of type ${ref.dtypeName} has no numeric values`);
  const n = Math.max(1, Math.min(1 << 16, Math.floor(bins) || 64));
  const stored = storedQuantization(model, index);
  if (stored && !codes) {
    // The values the codes stand for, with the stored scheme's channel axis.
    const s = statsOfChunks(stored.chunks, { bins: n });
    const detail: WeightDetail = { name: ref.name, index, bins: n, histogram: s.histogram, percentiles: s.percentiles, values: 'dequantized' };
    if (stored.channelAxis !== undefined && ref.elements > 0) {
      const r = perChannelOfChunks(stored.chunks, stored.info.dims, stored.channelAxis);
      detail.channels = { axis: r.axis, min: Array.from(r.min), max: Array.from(r.max) };
    }
    return detail;
  }
  const s = tensorStats(ref, { bins: n });
  const detail: WeightDetail = { name: ref.name, index, bins: n, histogram: s.histogram, percentiles: s.percentiles, ...(stored ? { values: 'codes' as const } : {}) };
  const axis = channelAxis(model, index);
  if (axis !== undefined && ref.elements > 0) {
    const r = perChannelMinMax(ref, axis);
    detail.channels = { axis: r.axis, min: Array.from(r.min), max: Array.from(r.max) };
  }
  return detail;
}
