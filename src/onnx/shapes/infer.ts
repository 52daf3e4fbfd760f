// Shape and type inference: one forward pass over each graph in node order (ONNX graphs are stored
// topologically sorted), with a rule per op (rules/), into the bodies of If/Loop/Scan with the facts their
// owner gives them. What a model declares (value_info, graph inputs and outputs) is merged in: a declared
// number stands; a number computed here fills a declared name or gap; a declared name beats a computed one.
import type { GraphInfo, Model } from '../model';
import type { GraphProto, NodeProto, TensorProto, ValueInfoProto } from '../proto';
import { int64 } from '../proto';
import { valueInfo } from '../valueInfo';
import { isKnown, type Dim } from './dims';
import { ruleFor } from './rules';
import type { NodeContext, ValueShape } from './types';
import { smallEnough, tensorValue } from './values';
import type { ExternalLocation } from '../tensor';

export interface ShapeOptions {
  /** Shapes for the main graph's inputs (those of a run), in place of the declared ones. */
  inputShapes?: Record<string, Dim[]>;
  /** Contents of small main-graph inputs fixed by the input spec (`--value sr=16000`): an If they decide takes one branch. */
  inputValues?: Record<string, number[]>;
}

/** The facts of every value of every graph. */
export class InferredShapes {
  constructor(private readonly byGraph: Map<GraphProto, Map<string, ValueShape>>) {}

  /** The facts of `name` as a node of `info` reads it (its graph or an enclosing one). */
  get(name: string, info: GraphInfo): ValueShape | undefined {
    for (let g: GraphInfo | undefined = info; g; g = g.parent) {
      const f = this.byGraph.get(g.graph)?.get(name);
      if (f) return f;
    }
    return undefined;
  }

  /** The values `info` defines (inputs, initializers, node outputs), in that order. */
  graph(info: GraphInfo): ReadonlyMap<string, ValueShape> {
    return this.byGraph.get(info.graph) ?? new Map();
  }
}

export function inferShapes(model: Model, options: ShapeOptions = {}): InferredShapes {
  return new Inference(model, options).run();
}

/** A dim of the declared shape and of the computed one: a declared number, a computed one, a declared name. */
function mergeDim(declared: Dim, computed: Dim): Dim {
  if (isKnown(declared)) return declared;
  if (isKnown(computed)) return computed;
  if (declared !== null) return declared;
  return computed;
}

function merge(declared: ValueShape | undefined, computed: ValueShape | undefined): ValueShape {
  if (!declared) return computed ?? { shape: null };
  if (!computed) return declared;
  const a = declared.shape, b = computed.shape;
  const shape = !a ? b : !b || a.length !== b.length ? a : a.map((d, i) => mergeDim(d, b[i]));
  const out: ValueShape = { dtype: declared.dtype ?? computed.dtype, shape };
  const value = computed.value ?? declared.value;
  if (value) out.value = value;
  return out;
}

function declaredFacts(v: ValueInfoProto): ValueShape | undefined {
  const d = valueInfo(v);
  const tensor = v.type?.tensor_type ?? v.type?.sparse_tensor_type;
  if (!tensor) return d.dtype === 'unknown' ? undefined : { shape: null };
  return { dtype: tensor.elem_type || undefined, shape: d.shape };
}

class Inference {
  private readonly byGraph = new Map<GraphProto, Map<string, ValueShape>>();
  readonly infos = new Map<GraphProto, GraphInfo>();
  private readonly opsets: Record<string, number>;

  constructor(private readonly model: Model, private readonly options: ShapeOptions) {
    for (const g of model.graphs()) this.infos.set(g.graph, g);
    this.opsets = model.opsets;
  }

  run(): InferredShapes {
    for (const info of this.model.graphs()) {
      // Bodies are inferred by their owner's rule; a body no rule took (an op without one) with what it declares.
      if (!this.byGraph.has(info.graph) && (!info.parent || this.byGraph.has(info.parent.graph))) this.inferGraph(info);
    }
    return new InferredShapes(this.byGraph);
  }

  lookup(name: string, info: GraphInfo): ValueShape | undefined {
    for (let g: GraphInfo | undefined = info; g; g = g.parent) {
      const f = this.byGraph.get(g.graph)?.get(name);
      if (f) return f;
    }
    return undefined;
  }

  /** Infers `info` (again, for a body inferred with other inputs); returns its outputs' facts. */
  inferGraph(info: GraphInfo, formal?: (ValueShape | undefined)[]): ValueShape[] {
    const g = info.graph;
    const map = new Map<string, ValueShape>();
    this.byGraph.set(g, map);
    const declared = new Map<string, ValueShape>();
    for (const v of [...(g.value_info ?? []), ...(g.output ?? [])]) {
      const f = declaredFacts(v);
      // A graph output may be declared again in value_info: what either says.
      if (f && v.name) declared.set(v.name, merge(declared.get(v.name), f));
    }
    (g.input ?? []).forEach((v, i) => {
      const name = v.name ?? '';
      let f = declaredFacts(v) ?? { shape: null };
      const given = info.depth === 0 ? this.options.inputShapes?.[name] : undefined;
      if (given) f = { dtype: f.dtype, shape: [...given] };
      else if (formal?.[i]) f = merge(formal[i], f.shape ? { ...f } : undefined);
      const value = info.depth === 0 ? this.options.inputValues?.[name] : undefined;
      if (value) f = { ...f, value: [...value] };
      if (name) map.set(name, f);
    });
    for (const t of g.initializer ?? []) {
      // An IR < 4 model lists its initializers among the inputs too: the tensor's own facts count.
      map.set(t.name ?? '', initializerFacts(t, this.model.externalOf(t)));
    }
    for (const s of g.sparse_initializer ?? []) {
      const name = s.values?.name ?? '';
      if (name) map.set(name, { dtype: s.values?.data_type || undefined, shape: (s.dims ?? []).map(int64) });
    }
    for (const n of g.node ?? []) {
      const outs = this.inferNode(n, info);
      (n.output ?? []).forEach((o, i) => { if (o) map.set(o, merge(declared.get(o), outs[i])); });
    }
    return (g.output ?? []).map((v) => this.lookup(v.name ?? '', info) ?? declared.get(v.name ?? '') ?? { shape: null });
  }

  private inferNode(n: NodeProto, info: GraphInfo): (ValueShape | undefined)[] {
    const domain = n.domain ?? '';
    const rule = ruleFor(domain, n.op_type ?? '');
    if (!rule) return [];
    const cx = new Context(n, this.opsets[domain === '' ? 'ai.onnx' : domain] ?? (domain === 'com.microsoft' ? 1 : 0), info, this);
    try {
      return rule(cx);
    } catch {
      // A malformed node (an attribute of the wrong kind) has no facts; the model's loader reports it.
      return [];
    }
  }
}

/**
 * An initializer's facts; its contents (small tensors only) decoded when a rule first reads them: a model of
 * 100,000 nodes has tens of thousands of small biases nobody asks about.
 */
function initializerFacts(t: TensorProto, external: ExternalLocation | undefined): ValueShape {
  const facts: ValueShape = { dtype: t.data_type || undefined, shape: (t.dims ?? []).map(int64) };
  if (!smallEnough(t)) return facts;
  Object.defineProperty(facts, 'value', {
    configurable: true,
    enumerable: true,
    get(this: ValueShape) {
      const value = tensorValue(t, external);
      Object.defineProperty(this, 'value', { value, configurable: true, enumerable: true, writable: true });
      return value;
    },
  });
  return facts;
}

/** A rule's view of one node (a class, not closures: one is made per node of graphs of 100,000 nodes). */
class Context implements NodeContext {
  private readonly inputs: string[];
  constructor(readonly node: NodeProto, readonly opset: number, private readonly info: GraphInfo, private readonly inference: Inference) {
    this.inputs = node.input ?? [];
  }

  input(i: number): ValueShape | undefined {
    return this.inputs[i] ? this.inference.lookup(this.inputs[i], this.info) : undefined;
  }

  has(i: number): boolean {
    return !!this.inputs[i];
  }

  numbers(i: number): number[] | undefined {
    const v = this.input(i)?.value;
    return v && v.every(isKnown) ? (v as number[]) : undefined;
  }

  subgraph(name: string, formal?: (ValueShape | undefined)[]): ValueShape[] | undefined {
    const a = (this.node.attribute ?? []).find((x) => x.name === name);
    const sub = a?.g ? this.inference.infos.get(a.g) : undefined;
    return sub ? this.inference.inferGraph(sub, formal) : undefined;
  }
}
