// What the quantizer needs to know about a model's graphs, and the edits it makes to them: unique names,
// constants (initializers or Constant-node tensors, in the node's graph or any enclosing one, optionally
// behind an Identity or a Reshape with a constant shape), value use counts, and the clean-up of
// weights nobody reads any more.
import { DataType } from '../onnx/dtype';
import { constantTensor, type GraphInfo, type Model } from '../onnx/model';
import { AttrType, int64, int64Exact, type AttributeProto, type GraphProto, type NodeProto, type TensorProto } from '../onnx/proto';
import { TensorRef } from '../onnx/tensor';
import { QUANTIZED_OPS } from './opTypes';

/** A constant value as a node input sees it. */
export interface ConstRef {
  /** The name the node reads. */
  name: string;
  /** The stored tensor (an initializer or a Constant node's value). */
  tensor: TensorProto;
  /** Lazy handle on the stored bytes. */
  ref: TensorRef;
  /** Name of the stored tensor (differs from `name` when it is read through Identity/Reshape). */
  sourceName: string;
  /** The graph that defines the stored tensor: new tensors derived from it go there too. */
  owner: GraphInfo;
  kind: 'initializer' | 'constant';
  /** The dims as the node sees them (after a Reshape). */
  dims: number[];
  /** Identity/Reshape nodes between the stored tensor and `name`, nearest first. */
  via: NodeProto[];
}

interface GraphIndex {
  initializers: Map<string, TensorProto>;
  sparse: Set<string>;
  constants: Map<string, NodeProto>;
  producers: Map<string, NodeProto>;
  inputs: Set<string>;
}

/** Reads an attribute by name, by its declared type (protobuf leaves defaults in the other fields). */
export function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  if (!a) return fallback;
  return a.type === AttrType.INT || a.type === undefined ? int64(a.i) : fallback;
}

export function floatAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  if (!a) return fallback;
  return a.type === AttrType.FLOAT || a.type === undefined ? a.f ?? fallback : fallback;
}

export function intsAttr(node: NodeProto, name: string): number[] | undefined {
  return intsAttrExact(node, name)?.map(Number);
}

/** The values exactly: INT64_MAX and INT64_MIN (old Slice `ends`/`starts`) must reach the new inputs as they were. */
export function intsAttrExact(node: NodeProto, name: string): bigint[] | undefined {
  const a = attr(node, name);
  return a && (a.type === AttrType.INTS || a.type === undefined) ? (a.ints ?? []).map(int64Exact) : undefined;
}

export class ModelEditor {
  private readonly indexes = new Map<GraphProto, GraphIndex>();
  private readonly taken = new Set<string>();

  constructor(readonly model: Model) {
    for (const g of model.graphs()) {
      for (const v of [...(g.graph.input ?? []), ...(g.graph.output ?? []), ...(g.graph.value_info ?? [])]) this.taken.add(v.name ?? '');
      for (const t of g.graph.initializer ?? []) this.taken.add(t.name ?? '');
      for (const n of g.graph.node ?? []) {
        this.taken.add(n.name ?? '');
        for (const x of [...(n.input ?? []), ...(n.output ?? [])]) this.taken.add(x);
      }
    }
  }

  /** A value or node name not used anywhere in the model (`base`, else `base_1`, `base_2`, ...). */
  uniqueName(base: string): string {
    let name = base, i = 0;
    while (this.taken.has(name)) name = `${base}_${++i}`;
    this.taken.add(name);
    return name;
  }

  private index(g: GraphProto): GraphIndex {
    let ix = this.indexes.get(g);
    if (!ix) {
      ix = { initializers: new Map(), sparse: new Set(), constants: new Map(), producers: new Map(), inputs: new Set() };
      for (const t of g.initializer ?? []) ix.initializers.set(t.name ?? '', t);
      for (const t of g.sparse_initializer ?? []) ix.sparse.add(t.values?.name ?? '');
      for (const v of g.input ?? []) ix.inputs.add(v.name ?? '');
      for (const n of g.node ?? []) {
        for (const o of n.output ?? []) if (o) ix.producers.set(o, n);
        if (constantTensor(n) && n.output?.[0]) {
          if ((n.attribute ?? []).some((a) => a.name === 'sparse_value')) ix.sparse.add(n.output[0]);
          else ix.constants.set(n.output[0], n);
        }
      }
      this.indexes.set(g, ix);
    }
    return ix;
  }

  /** The node that produces `name` in `info` or an enclosing graph. */
  producer(name: string, info: GraphInfo): NodeProto | undefined {
    for (let g: GraphInfo | undefined = info; g; g = g.parent) {
      const p = this.index(g.graph).producers.get(name);
      if (p) return p;
      if (this.index(g.graph).initializers.has(name) || this.isRealInput(g, name)) return undefined;
    }
    return undefined;
  }

  /** A graph input that is not also an initializer (an IR < 4 model lists its initializers as inputs too). */
  private isRealInput(g: GraphInfo, name: string): boolean {
    const ix = this.index(g.graph);
    return ix.inputs.has(name) && !ix.initializers.has(name);
  }

  /**
   * Resolves `name`, read by a node of `info`, to a constant tensor; or says why it is not one. Follows
   * Identity, and Reshape with a constant shape, back to an initializer or a Constant node.
   */
  constant(name: string, info: GraphInfo): ConstRef | { reason: string } {
    const via: NodeProto[] = [];
    let current = name;
    for (let hops = 0; hops < 8; hops++) {
      for (let g: GraphInfo | undefined = info; g; g = g.parent) {
        const ix = this.index(g.graph);
        const init = ix.initializers.get(current);
        if (init) return this.finish(name, init, current, g, 'initializer', via);
        const cnode = ix.constants.get(current);
        if (cnode) return this.finish(name, constantTensor(cnode)!, current, g, 'constant', via);
        if (ix.sparse.has(current)) return { reason: 'is a sparse tensor; only dense weights are quantized' };
        if (this.isRealInput(g, current)) return { reason: `is a graph input, not a constant` };
        const p = ix.producers.get(current);
        if (p) {
          if ((p.domain ?? '') === '' && (p.op_type === 'Identity' || p.op_type === 'Reshape')) {
            if (p.op_type === 'Reshape') {
              const shape = p.input?.[1] ? this.constant(p.input[1], g) : { reason: 'has no shape' };
              if ('reason' in shape) return { reason: `is computed by Reshape "${p.name || current}" whose shape ${shape.reason}` };
            }
            via.push(p);
            current = p.input?.[0] ?? '';
            info = g;
            break;
          }
          if (p.op_type === 'Constant' && (p.domain ?? '') === '') return { reason: 'is a Constant given as a list of numbers (value_floats/value_ints), not a weight tensor' };
          return { reason: `is computed by ${p.op_type}${p.name ? ` "${p.name}"` : ''}, not a constant${QUANTIZED_OPS.has(p.op_type ?? '') ? ' (already quantized)' : ''}` };
        }
      }
      if (via.length === hops) return { reason: 'is not defined in the graph' };
    }
    return { reason: 'is behind too many Identity/Reshape nodes' };
  }

  private finish(name: string, tensor: TensorProto, sourceName: string, owner: GraphInfo, kind: 'initializer' | 'constant', via: NodeProto[]): ConstRef | { reason: string } {
    const ref = new TensorRef(tensor, kind, owner.path, this.model.externalOf(tensor), sourceName);
    let dims = ref.dims;
    for (let i = via.length - 1; i >= 0; i--) {
      const p = via[i];
      if (p.op_type !== 'Reshape') continue;
      const shape = this.constant(p.input![1], owner) as ConstRef;
      if (shape.ref.dtype !== DataType.INT64) return { reason: `is computed by Reshape "${p.name}" with a non-int64 shape` };
      const want = Array.from(shape.ref.values(), Number);
      const out = reshapeDims(dims, want, intAttr(p, 'allowzero', 0) === 1);
      if (!out) return { reason: `is computed by Reshape "${p.name}" with shape [${want}] that does not fit [${dims}]` };
      dims = out;
    }
    return { name, tensor, ref, sourceName, owner, kind, dims, via };
  }

  /** How many node inputs (in every graph) and graph outputs read each value name. */
  useCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    const add = (n: string) => { if (n) counts.set(n, (counts.get(n) ?? 0) + 1); };
    for (const g of this.model.graphs()) {
      for (const n of g.graph.node ?? []) for (const i of n.input ?? []) add(i);
      for (const o of g.graph.output ?? []) add(o.name ?? '');
    }
    return counts;
  }

  /** Forgets cached indexes (after node lists changed). */
  invalidate(): void {
    this.indexes.clear();
  }
}

/** Reshape's output dims (0 copies the input dim unless allowzero, one -1 is inferred); undefined when impossible. */
export function reshapeDims(input: number[], shape: number[], allowZero: boolean): number[] | undefined {
  const total = input.reduce((a, b) => a * b, 1);
  const out = shape.map((d, i) => (d === 0 && !allowZero ? input[i] : d));
  if (out.some((d) => d === undefined || d < -1) || out.filter((d) => d === -1).length > 1) return undefined;
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const at = out.indexOf(-1);
  if (at >= 0) {
    if (known === 0 || total % known !== 0) return undefined;
    out[at] = total / known;
  }
  return out.reduce((a, b) => a * b, 1) === total ? out : undefined;
}

