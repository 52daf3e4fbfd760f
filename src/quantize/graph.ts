// What the quantizer needs to know about a model's graphs, and the edits it makes to them: unique names,
// constants (initializers or Constant-node tensors, in the node's graph or any enclosing one, optionally
// behind an Identity or a Reshape with a constant shape), value use counts, and the clean-up of
// weights nobody reads any more.
import { DataType } from '../onnx/dtype';
import { constantTensor, type GraphInfo, type Model } from '../onnx/model';
import { type GraphProto, type NodeProto, type TensorProto } from '../onnx/proto';
import { intAttr } from '../onnx/nodeAttributes';
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

/** One graph's names, built once and kept until the graph's node list changes (`invalidate`). */
interface GraphIndex {
  initializers: Map<string, TensorProto>;
  sparse: Set<string>;
  constants: Map<string, NodeProto>;
  producers: Map<string, NodeProto>;
  /** The nodes of this graph (not of its subgraphs) that read each value, in node order, each once. */
  readers: Map<string, NodeProto[]>;
  inputs: Set<string>;
  outputs: Set<string>;
}

export { attr, floatAttr, intAttr, intsAttr, intsAttrExact } from '../onnx/nodeAttributes';

export class ModelEditor {
  private readonly indexes = new Map<GraphProto, GraphIndex>();
  /** Every name in the model, gathered on the first `uniqueName` (readers of the index never need it). */
  private taken: Set<string> | undefined;

  constructor(readonly model: Model) {}

  private takenNames(): Set<string> {
    if (this.taken) return this.taken;
    const taken = new Set<string>();
    for (const g of this.model.graphs()) {
      for (const v of [...(g.graph.input ?? []), ...(g.graph.output ?? []), ...(g.graph.value_info ?? [])]) taken.add(v.name ?? '');
      for (const t of g.graph.initializer ?? []) taken.add(t.name ?? '');
      for (const n of g.graph.node ?? []) {
        taken.add(n.name ?? '');
        for (const x of [...(n.input ?? []), ...(n.output ?? [])]) taken.add(x);
      }
    }
    return (this.taken = taken);
  }

  /** A value or node name not used anywhere in the model (`base`, else `base_1`, `base_2`, ...). */
  uniqueName(base: string): string {
    const taken = this.takenNames();
    let name = base, i = 0;
    while (taken.has(name)) name = `${base}_${++i}`;
    taken.add(name);
    return name;
  }

  private index(g: GraphProto): GraphIndex {
    let ix = this.indexes.get(g);
    if (!ix) {
      ix = { initializers: new Map(), sparse: new Set(), constants: new Map(), producers: new Map(), readers: new Map(), inputs: new Set(), outputs: new Set() };
      for (const t of g.initializer ?? []) ix.initializers.set(t.name ?? '', t);
      for (const t of g.sparse_initializer ?? []) ix.sparse.add(t.values?.name ?? '');
      for (const v of g.input ?? []) ix.inputs.add(v.name ?? '');
      for (const v of g.output ?? []) ix.outputs.add(v.name ?? '');
      for (const n of g.node ?? []) {
        for (const o of n.output ?? []) if (o) ix.producers.set(o, n);
        for (const i of new Set(n.input ?? [])) {
          if (!i) continue;
          const l = ix.readers.get(i);
          if (l) l.push(n); else ix.readers.set(i, [n]);
        }
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

  /** The node of `info` itself (not an enclosing graph) that writes `name`. */
  producerIn(name: string, info: GraphInfo): NodeProto | undefined {
    return this.index(info.graph).producers.get(name);
  }

  /** The nodes of `info` itself (not its subgraphs) that read `name`, in node order. */
  readersIn(name: string, info: GraphInfo): readonly NodeProto[] {
    return this.index(info.graph).readers.get(name) ?? [];
  }

  /** The values of `info` read by at least one of its nodes, with their readers. */
  readMap(info: GraphInfo): ReadonlyMap<string, readonly NodeProto[]> {
    return this.index(info.graph).readers;
  }

  isGraphOutput(name: string, info: GraphInfo): boolean {
    return this.index(info.graph).outputs.has(name);
  }

  /** The graph that defines `name` as a node of `info` reads it: `info` or an enclosing graph (`info` when none does). */
  home(name: string, info: GraphInfo): GraphInfo {
    for (let g: GraphInfo | undefined = info; g; g = g.parent) {
      const ix = this.index(g.graph);
      if (ix.producers.has(name) || ix.initializers.has(name) || ix.inputs.has(name)) return g;
    }
    return info;
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

  /** Forgets cached indexes after node lists or node inputs/outputs changed: `info`'s only, or every graph's. */
  invalidate(info?: GraphInfo): void {
    if (info) this.indexes.delete(info.graph);
    else this.indexes.clear();
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

