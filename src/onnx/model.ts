// The in-memory model: the decoded ModelProto plus indexes over it (every graph, including subgraphs at
// any depth, and every weight). Tensor bytes stay where the decoder left them: views into the file.
import { int64, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from './proto';
import { TensorRef, type ExternalLocation, type TensorOrigin } from './tensor';

/** A graph of the model: the main graph or a subgraph held in a node attribute (If/Loop/Scan bodies). */
export interface GraphInfo {
  graph: GraphProto;
  /** `main`, or the parent's path plus `/<node>.<attribute>`, e.g. `main/If_3.then_branch`. */
  path: string;
  depth: number;
  parent?: GraphInfo;
  /** The node that owns this subgraph, in the parent graph. */
  ownerNode?: NodeProto;
}

export interface ModelSource {
  /** Absolute path of the .onnx file, when it came from a file. */
  file?: string;
  /** Folder external data locations are relative to. */
  baseDir?: string;
  fileBytes: number;
}

export class Model {
  private graphList?: GraphInfo[];
  private weightList?: TensorRef[];

  constructor(readonly proto: ModelProto, readonly source: ModelSource,
    private readonly externals: Map<TensorProto, ExternalLocation>) {}

  /** Where an external tensor's bytes are (undefined for tensors stored in the file). */
  externalOf(t: TensorProto): ExternalLocation | undefined { return this.externals.get(t); }

  /** This model's tensors under another structure (a copy or an edit of the graphs that shares the tensors). */
  withProto(proto: ModelProto): Model { return new Model(proto, this.source, this.externals); }

  get irVersion(): number { return int64(this.proto.ir_version); }

  /** Opset version per domain, the default domain named `ai.onnx`. */
  get opsets(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const o of this.proto.opset_import ?? []) out[o.domain || 'ai.onnx'] = int64(o.version);
    return out;
  }

  get metadata(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const p of this.proto.metadata_props ?? []) out[p.key ?? ''] = p.value ?? '';
    return out;
  }

  /** The main graph and every subgraph, parents before children (iterative: deep nesting cannot overflow the stack). */
  graphs(): GraphInfo[] {
    if (this.graphList) return this.graphList;
    const list: GraphInfo[] = [];
    const used = new Set<string>();
    // Paths address graphs (the editor's breadcrumb, graph requests): node names may repeat in broken
    // or hostile models, so a repeated path gets a ~2, ~3, ... suffix to stay unique.
    const add = (info: GraphInfo) => {
      let path = info.path;
      for (let n = 2; used.has(path); n++) path = `${info.path}~${n}`;
      used.add(path);
      list.push({ ...info, path });
    };
    if (this.proto.graph) add({ graph: this.proto.graph, path: 'main', depth: 0 });
    for (let i = 0; i < list.length; i++) {
      const parent = list[i];
      (parent.graph.node ?? []).forEach((node, index) => {
        for (const attr of node.attribute ?? []) {
          const owner = `${parent.path}/${node.name || `${node.op_type ?? 'node'}#${index}`}.${attr.name ?? ''}`;
          if (attr.g) add({ graph: attr.g, path: owner, depth: parent.depth + 1, parent, ownerNode: node });
          (attr.graphs ?? []).forEach((g, k) => add({ graph: g, path: `${owner}[${k}]`, depth: parent.depth + 1, parent, ownerNode: node }));
        }
      });
    }
    return (this.graphList = list);
  }

  /** Every node of every graph (function bodies excluded). */
  *nodes(): Generator<{ node: NodeProto; graph: GraphInfo }> {
    for (const graph of this.graphs()) for (const node of graph.graph.node ?? []) yield { node, graph };
  }

  /** Initializers, sparse initializers and Constant-node tensors of every graph. */
  weights(): TensorRef[] {
    if (this.weightList) return this.weightList;
    const list: TensorRef[] = [];
    const add = (t: TensorProto, origin: TensorOrigin, graph: string, name?: string) =>
      list.push(new TensorRef(t, origin, graph, this.externals.get(t), name));
    for (const g of this.graphs()) {
      for (const t of g.graph.initializer ?? []) add(t, 'initializer', g.path);
      for (const s of g.graph.sparse_initializer ?? []) if (s.values) add(s.values, 'sparse-initializer', g.path);
      for (const node of g.graph.node ?? []) {
        const t = constantTensor(node);
        if (t) add(t, 'constant', g.path, node.output?.[0] ?? t.name);
      }
    }
    return (this.weightList = list);
  }

  /** Names a graph's nodes use but the graph itself does not define: values captured from outer graphs. */
  outerScopeReferences(info: GraphInfo): string[] {
    const defined = new Set<string>();
    for (const v of info.graph.input ?? []) defined.add(v.name ?? '');
    for (const t of info.graph.initializer ?? []) defined.add(t.name ?? '');
    for (const s of info.graph.sparse_initializer ?? []) defined.add(s.values?.name ?? '');
    for (const n of info.graph.node ?? []) for (const o of n.output ?? []) defined.add(o);
    const outer = new Set<string>();
    const use = (name: string) => { if (name && !defined.has(name)) outer.add(name); };
    for (const n of info.graph.node ?? []) for (const i of n.input ?? []) use(i);
    for (const o of info.graph.output ?? []) use(o.name ?? '');
    // Values that nested subgraphs capture from beyond this graph pass through it too.
    for (const child of this.graphs()) if (child.parent === info) for (const name of this.outerScopeReferences(child)) use(name);
    return [...outer];
  }
}

/** The tensor a Constant node produces, when it is given as a tensor (`value`, or a `sparse_value`'s values). */
export function constantTensor(node: NodeProto): TensorProto | undefined {
  if (node.op_type !== 'Constant' || (node.domain && node.domain !== 'ai.onnx')) return undefined;
  for (const a of node.attribute ?? []) {
    if (a.name === 'value' && a.t) return a.t;
    if (a.name === 'sparse_value' && a.sparse_tensor?.values) return a.sparse_tensor.values;
  }
  return undefined;
}

/** Every TensorProto held in an attribute (t, tensors, sparse tensors). */
export function attributeTensors(a: AttributeProto): TensorProto[] {
  const out: TensorProto[] = [];
  if (a.t) out.push(a.t);
  for (const t of a.tensors ?? []) out.push(t);
  for (const s of [a.sparse_tensor, ...(a.sparse_tensors ?? [])]) {
    if (s?.values) out.push(s.values);
    if (s?.indices) out.push(s.indices);
  }
  return out;
}
