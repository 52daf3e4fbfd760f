// Static QDQ, step 1: what gets quantized. The registry's classes mark nodes (ops/qdq.ts); the plan turns
// the marks into the set of activation tensors that get a QuantizeLinear/DequantizeLinear pair:
//  - the activation inputs and the outputs of compute and elementwise nodes, each with its own range
//    (these are the calibration targets);
//  - the outputs of ops that only move data, when their input is quantized: they share the input's
//    parameters (an alias, no calibration);
//  - a compute output read only by a Relu or a Clip with constant bounds takes the activation's range and
//    the Relu/Clip is removed (asymmetric activations only: the QuantizeLinear's saturation at the zero
//    point does the clipping; the emitter checks that this is exact before it removes the node).
import type { GraphInfo, Model } from '../../onnx/model';
import type { NodeProto } from '../../onnx/proto';
import { valueKey, type CalibrationTarget } from '../calibrate/calibrator';
import { floatAttr, type ModelEditor } from '../graph';
import { QUANTIZED_LAYERS, QUANTIZED_OPS } from '../opTypes';
import type { QdqMark } from '../ops/qdq';
import type { ResolvedOptions } from '../options';
import { assertPatternsMatch, globMatch, nodeLabel } from '../pass';
import { qdqQuantizersFor } from '../registry';
import type { SkippedNode } from '../../protocol/quantize';
import { ValueFactsIndex } from '../types';

export interface PlannedNode {
  node: NodeProto; graph: GraphInfo; mark: QdqMark; label: string;
  /**
   * Keys of the planned tensors it reads (its activation inputs) and writes (its quantized outputs), known
   * once the plan is made (the emitter then renames the node's inputs).
   */
  reads: string[];
  writes: string[];
}

/** Nodes to leave in float besides the options' (the accuracy target's choice), by label, and why. */
export interface KeepInFloat { labels: ReadonlySet<string>; reason: string }

export interface PlannedTensor {
  key: string;
  /** The value's name (for a folded Relu/Clip: the Relu/Clip's output, which the producer will write). */
  name: string;
  /** The graph that defines the value. */
  home: GraphInfo;
  /** The node of `home` that produces it (undefined for graph inputs and values from enclosing graphs). */
  producer?: NodeProto;
  /** Key of the tensor whose parameters this one shares (outputs of ops that only move data). */
  alias?: string;
  /** A Relu or Clip merged into the producer's quantization: `from` is the producer's own output. */
  fold?: { node: NodeProto; from: string; min: number; max: number };
  /**
   * Bounds past which the readers cannot tell values apart (HardSwish is 0 below -3, HardSigmoid saturates),
   * so the range is clamped to them: finer steps, the same results.
   */
  clamp?: { min: number; max: number; why: string };
}

export interface QdqPlan {
  nodes: PlannedNode[];
  tensors: Map<string, PlannedTensor>;
  skipped: SkippedNode[];
  facts: ValueFactsIndex;
  /** The key of `name` as read by a node of `info`. */
  keyOf(name: string, info: GraphInfo): string;
  /** The tensors whose range calibration must find. */
  targets(): CalibrationTarget[];
  /** The root (non-alias) tensor of `key`. */
  root(key: string): PlannedTensor | undefined;
}

/** What the planning steps share. */
interface PlanContext {
  model: Model;
  editor: ModelEditor;
  options: ResolvedOptions;
  facts: ValueFactsIndex;
  uses: Map<string, number>;
  skip(n: NodeProto, g: GraphInfo, reason: string): void;
  keyOf(name: string, info: GraphInfo): string;
}

export function planStatic(model: Model, editor: ModelEditor, options: ResolvedOptions, keep?: KeepInFloat): QdqPlan {
  const skipped: SkippedNode[] = [];
  const cx: PlanContext = {
    model, editor, options, facts: new ValueFactsIndex(model), uses: editor.useCounts(),
    skip: (n, g, reason) => skipped.push({ name: nodeLabel(n), opType: n.op_type ?? '', graph: g.path, reason }),
    keyOf: (name, info) => valueKey(editor.home(name, info).path, name),
  };
  assertPatternsMatch(model, options);
  const marked = markNodes(cx, keep);
  const { nodes, tensors, rootKey } = planTensors(cx, marked);
  // Ranges the readers make narrower.
  for (const t of tensors.values()) {
    if (t.alias || t.fold || editor.isGraphOutput(t.name, t.home)) continue;
    const clamp = saturatingReaders(t.name, t.home, cx.uses, editor);
    if (clamp) t.clamp = clamp;
  }
  return {
    nodes, tensors, skipped, facts: cx.facts, keyOf: cx.keyOf,
    root: (key) => tensors.get(rootKey(key)),
    targets: () => [...tensors.values()].filter((t) => !t.alias).map((t) => ({ key: t.key, name: t.name, graph: t.home })),
  };
}

/** Step 1: the registry's marks, less the nodes the options (and `keep`) leave in float. */
function markNodes(cx: PlanContext, keep?: KeepInFloat): PlannedNode[] {
  const { model, editor, options, facts, uses, skip } = cx;
  const quantizers = qdqQuantizersFor(options.opTypes);
  const nodes: PlannedNode[] = [];
  for (const info of model.graphs()) {
    const inGraph: PlannedNode[] = [];
    for (const n of info.graph.node ?? []) {
      const op = n.op_type ?? '';
      if ((n.domain ?? '') !== '' && n.domain !== 'ai.onnx') {
        if (QUANTIZED_LAYERS.has(op)) skip(n, info, `already quantized (${op}); left as it is`);
        continue;
      }
      if (QUANTIZED_LAYERS.has(op)) { skip(n, info, `already quantized (${op}); left as it is`); continue; }
      if (QUANTIZED_OPS.has(op)) continue;
      const q = quantizers.get(op);
      if (!q) continue;
      const verdict = q.mark({ node: n, graph: info, editor, options, facts, uses });
      if ('ignore' in verdict) continue;
      if ('skip' in verdict) { if (q.kind !== 'passthrough') skip(n, info, verdict.skip); continue; }
      inGraph.push({ node: n, graph: info, mark: verdict.qdq, label: nodeLabel(n), reads: [], writes: [] });
    }
    for (const c of leftToQuantize(cx, info, inGraph, keep)) nodes.push(c); // a graph may hold more nodes than a call takes arguments
  }
  return nodes;
}

/** The marked nodes of one graph that the options (first/last layer, --exclude, --include) and `keep` leave to quantize. */
function leftToQuantize({ options, skip }: PlanContext, info: GraphInfo, inGraph: PlannedNode[], keep?: KeepInFloat): PlannedNode[] {
  const compute = inGraph.filter((c) => c.mark.kind === 'compute');
  const dropped = new Set<PlannedNode>();
  if (options.keepFirstLayer && compute.length) {
    dropped.add(compute[0]);
    skip(compute[0].node, info, 'kept in float: the first quantizable node of its graph (keep first layer)');
  }
  if (options.keepLastLayer && compute.length > (options.keepFirstLayer ? 1 : 0)) {
    const last = compute[compute.length - 1];
    dropped.add(last);
    skip(last.node, info, 'kept in float: the last quantizable node of its graph (keep last layer)');
  }
  const out: PlannedNode[] = [];
  for (const c of inGraph) {
    if (dropped.has(c)) continue;
    if (keep?.labels.has(c.label)) { if (c.mark.kind !== 'passthrough') skip(c.node, info, keep.reason); continue; }
    const ex = options.exclude.find((p) => globMatch(p, c.label));
    if (ex !== undefined) { skip(c.node, info, `excluded by --exclude "${ex}"`); continue; }
    if (options.include.length && !options.include.some((p) => globMatch(p, c.label))) {
      if (c.mark.kind !== 'passthrough') skip(c.node, info, 'not matched by --include');
      continue;
    }
    out.push(c);
  }
  return out;
}

/**
 * Step 2: the tensors, in graph and node order (a passthrough op sees whether its input is quantized yet),
 * and what each node reads and writes. Returns the nodes kept (a passthrough op whose input is not
 * quantized has nothing to propagate).
 */
function planTensors(cx: PlanContext, marked: PlannedNode[]): { nodes: PlannedNode[]; tensors: Map<string, PlannedTensor>; rootKey: (key: string) => string } {
  const { editor, options, facts, uses, keyOf } = cx;
  const tensors = new Map<string, PlannedTensor>();
  const addTensor = (name: string, info: GraphInfo, extra: Partial<PlannedTensor> = {}): PlannedTensor => {
    const home = editor.home(name, info);
    const key = valueKey(home.path, name);
    const existing = tensors.get(key);
    if (existing) return existing;
    const t: PlannedTensor = { key, name, home, producer: editor.producerIn(name, home), ...extra };
    tensors.set(key, t);
    return t;
  };
  /** The output of a compute/elementwise node: through a single Relu/Clip consumer when it can fold. */
  const addOutput = (name: string, producer: NodeProto, info: GraphInfo) => {
    const readers = editor.readersIn(name, info);
    const r = readers[0];
    if (!options.symmetricActivations && readers.length === 1 && (uses.get(name) ?? 0) === 1 && !editor.isGraphOutput(name, info)
      && (r.op_type === 'Relu' || r.op_type === 'Clip') && (r.domain ?? '') === '' && r.output?.[0]
      && (r.output ?? []).filter(Boolean).length === 1 && !tensors.has(valueKey(info.path, r.output[0]))) {
      const bounds = clipBounds(r, info, editor);
      if (bounds && bounds.min <= 0 && bounds.max > 0) {
        addTensor(r.output[0], info, { producer, fold: { node: r, from: name, ...bounds } });
        return;
      }
    }
    addTensor(name, info);
  };
  const rootKey = (key: string): string => {
    let k = key;
    for (let i = 0; i < 64; i++) { const t = tensors.get(k); if (!t?.alias) return k; k = t.alias; }
    return k;
  };
  const nodes: PlannedNode[] = [];
  for (const c of marked) {
    const { node: n, graph: info, mark } = c;
    if (mark.kind === 'passthrough') {
      const inKey = keyOf(n.input![0], info);
      if (!tensors.has(inKey)) continue; // its input is not quantized: nothing to propagate
      const alias = rootKey(inKey);
      for (const i of mark.outputs) {
        const t = addTensor(n.output![i], info);
        if (!t.alias && t.key !== alias && !t.fold) t.alias = alias;
      }
      nodes.push(c);
      continue;
    }
    for (const i of mark.activations) addTensor(n.input![i], info);
    for (const i of mark.outputs) if (n.output?.[i] && facts.isFloat(n.output[i], info)) addOutput(n.output[i], n, info);
    nodes.push(c);
  }
  // What each node reads and writes: the tensors of its graph named like its outputs (a folded Relu/Clip's
  // tensor also by the producer's own output).
  const byName = new Map<GraphInfo, Map<string, string[]>>();
  const index = (g: GraphInfo, name: string, key: string) => {
    const m = byName.get(g) ?? new Map<string, string[]>();
    m.set(name, [...(m.get(name) ?? []), key]);
    byName.set(g, m);
  };
  for (const t of tensors.values()) { index(t.home, t.name, t.key); if (t.fold && t.fold.from !== t.name) index(t.home, t.fold.from, t.key); }
  for (const c of nodes) {
    c.reads = c.mark.activations.map((i) => keyOf(c.node.input![i], c.graph));
    c.writes = c.mark.outputs.flatMap((i) => { const out = c.node.output?.[i]; return out ? byName.get(c.graph)?.get(out) ?? [] : []; });
  }
  return { nodes, tensors, rootKey };
}

/** A Relu's or a Clip's bounds (Clip's when they are constant scalars). */
function clipBounds(r: NodeProto, info: GraphInfo, editor: ModelEditor): { min: number; max: number } | undefined {
  if (r.op_type === 'Relu') return { min: 0, max: Infinity };
  const bound = (i: number, fallback: number) => {
    const name = r.input?.[i];
    if (!name) return fallback;
    const c = editor.constant(name, info);
    if ('reason' in c || c.ref.elements !== 1) return undefined;
    return c.ref.values()[0];
  };
  const min = bound(1, -Infinity), max = bound(2, Infinity);
  return min === undefined || max === undefined ? undefined : { min, max };
}

/**
 * When every reader of `name` ignores its value past a bound, those bounds: a HardSwish (x * min(max(x + 3,
 * 0), 6) / 6, as an op or spelled out as Add c -> Clip 0.. -> Mul x) is 0 for x <= -3; HardSigmoid is 0
 * below -beta/alpha and 1 above (1 - beta)/alpha. Through a single reader that adds, subtracts, multiplies
 * or divides by a constant scalar (the learnable affine blocks of PP-LCNet), the bounds are carried back.
 */
function saturatingReaders(name: string, info: GraphInfo, uses: Map<string, number>, editor: ModelEditor, depth = 0): { min: number; max: number; why: string } | undefined {
  const readers = editor.readersIn(name, info);
  if (!readers.length || readers.length !== (uses.get(name) ?? 0)) return undefined; // read elsewhere too (a subgraph, an output)
  const scalar = (x: string | undefined): number | undefined => {
    if (!x) return undefined;
    const c = editor.constant(x, info);
    return 'reason' in c || c.ref.elements !== 1 || c.ref.dtype !== 1 ? undefined : c.ref.values()[0];
  };
  const op = (n: NodeProto) => ((n.domain ?? '') === '' ? n.op_type : undefined);
  if (readers.every((r) => op(r) === 'HardSwish')) return { min: -3, max: Infinity, why: 'HardSwish' };
  if (readers.every((r) => op(r) === 'HardSigmoid')) {
    const a = readers.map((r) => floatAttr(r, 'alpha', 0.2)), b = readers.map((r) => floatAttr(r, 'beta', 0.5));
    if (a.every((x) => x === a[0] && x > 0) && b.every((x) => x === b[0])) return { min: -b[0] / a[0], max: (1 - b[0]) / a[0], why: 'HardSigmoid' };
    return undefined;
  }
  if (readers.length === 2) {
    // x -> Add(x, c) -> Clip(0, k) or Relu -> Mul(x, .): zero for x <= -c.
    const add = readers.find((r) => op(r) === 'Add'), mul = readers.find((r) => op(r) === 'Mul');
    if (!add || !mul || add === mul) return undefined;
    const c = scalar(add.input?.find((x) => x !== name));
    if (c === undefined || !(c > 0) || editor.readersIn(add.output![0], info).length !== 1 || (uses.get(add.output![0]) ?? 0) !== 1) return undefined;
    const clip = editor.readersIn(add.output![0], info)[0];
    if (op(clip) !== 'Clip' && op(clip) !== 'Relu') return undefined;
    if (op(clip) === 'Clip' && (scalar(clip.input?.[1]) ?? -Infinity) !== 0) return undefined;
    if ((uses.get(clip.output![0]) ?? 0) !== 1 || !mul.input?.includes(clip.output![0]) || !mul.input.includes(name)) return undefined;
    return { min: -c, max: Infinity, why: 'HardSwish' };
  }
  // One reader that is an affine map by a constant scalar: carry its output's bounds back.
  const r = readers[0];
  const kind = op(r);
  if (depth >= 4 || !kind || !['Add', 'Sub', 'Mul', 'Div'].includes(kind) || (r.input ?? []).length !== 2 || !r.output?.[0]) return undefined;
  const side = r.input![0] === name ? 0 : 1;
  if (r.input![1 - side] === name) return undefined;
  const k = scalar(r.input![1 - side]);
  if (k === undefined || !Number.isFinite(k)) return undefined;
  const out = saturatingReaders(r.output[0], info, uses, editor, depth + 1);
  if (!out) return undefined;
  const map = (lo: number, hi: number) => (lo <= hi ? { min: lo, max: hi, why: out.why } : { min: hi, max: lo, why: out.why });
  switch (kind) {
    case 'Add': return map(out.min - k, out.max - k);
    case 'Sub': return side === 0 ? map(out.min + k, out.max + k) : map(k - out.max, k - out.min);
    case 'Mul': return k === 0 ? undefined : map(out.min / k, out.max / k);
    case 'Div': return side === 1 || k === 0 ? undefined : map(out.min * k, out.max * k);
  }
  return undefined;
}
