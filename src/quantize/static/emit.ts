// Static QDQ, step 2: the rewrite, once every quantized tensor has its scale and zero point.
//  - Activations: one QuantizeLinear after the producer (or at the top of the graph for inputs) and one
//    DequantizeLinear; every reader in the defining graph and below reads the DequantizeLinear (so that a
//    compute node's output feeds only the QuantizeLinear, which onnxruntime's fusions require); a subgraph
//    whose quantized nodes read the value gets its own DequantizeLinear, so that the fusion can happen there.
//    A quantized graph output is the DequantizeLinear's output (its producer writes a new name).
//  - Weights: int8 (or uint8/int16/uint16) initializers, per tensor or per output channel, behind a
//    DequantizeLinear in front of each node that reads them.
//  - Biases: int32 with scale = x_scale * w_scale (per channel), behind a DequantizeLinear; Gemm's beta is
//    folded into them.
//  - Constant inputs of elementwise ops: quantized per tensor like activations.
//  - A folded Relu/Clip is removed when the QuantizeLinear's saturation reproduces it exactly.
import { DataType } from '../../onnx/dtype';
import { node as makeNode, tensor } from '../../onnx/builder';
import type { GraphInfo, Model } from '../../onnx/model';
import type { GraphProto, NodeProto, TensorProto } from '../../onnx/proto';
import type { TensorRange } from '../calibrate/calibrator';
import type { ConstRef, ModelEditor } from '../graph';
import { axisLayout, channelParams, quantizeTensor, quantizeValue, quantRange, roundHalfEven, scaleZeroPoint } from '../math';
import { defaultOpset, ensureDomain } from '../opset';
import type { ActivationType, ResolvedOptions, WeightType } from '../options';
import { nodeLabel, removeUnused } from '../pass';
import type { QuantizedWeight, SkippedNode } from '../../protocol/quantize';
import type { PlannedNode, PlannedTensor, QdqPlan } from './plan';
import { sqnrFromEnergy } from '../../runtime/compare';

/** A tensor's scale and zero point, and its type when it differs from the activation type (--activations16). */
export interface ActivationParams { scale: number; zeroPoint: number; type?: ActivationType }

export interface EmitResult {
  quantized: string[];
  skipped: SkippedNode[];
  weights: QuantizedWeight[];
  emitted: Record<string, number>;
  notes: string[];
  /** Activation tensors that got a QuantizeLinear/DequantizeLinear pair. */
  activations: number;
  /** Relu/Clip nodes merged into the quantization of their input. */
  foldedActivations: string[];
  weightBytesBefore: number;
  weightBytesAfter: number;
  /** Tensor key -> the name its readers read after the rewrite (the DequantizeLinear's output). */
  dequantized: Map<string, string>;
}

type IntType = ActivationType | WeightType;

const DTYPE: Record<string, number> = { int8: DataType.INT8, uint8: DataType.UINT8, int16: DataType.INT16, uint16: DataType.UINT16 };

function typedArray(type: IntType, n: number): Int8Array | Uint8Array | Int16Array | Uint16Array {
  switch (type) {
    case 'int8': return new Int8Array(n);
    case 'uint8': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'uint16': return new Uint16Array(n);
    default: throw new Error(`no ${type} QDQ tensors`);
  }
}

/** Activation parameters from a calibrated range. */
export function activationParams(range: TensorRange, type: ActivationType, symmetric: boolean): ActivationParams {
  return { ...scaleZeroPoint(range.min, range.max, quantRange(type, { symmetric }), symmetric), type };
}

export function emitQdq(model: Model, editor: ModelEditor, plan: QdqPlan, params: Map<string, ActivationParams>, o: ResolvedOptions): EmitResult {
  return new QdqEmitter(model, editor, plan, params, o).run();
}

interface QuantizedWeightNames { names: string[]; scales: Float32Array; axis: number | null; entry: QuantizedWeight }

/** One rewrite: the insertions it collects while it walks the plan, applied at the end (`rebuild`). */
class QdqEmitter {
  private readonly actType: ActivationType;
  private readonly actRange: ReturnType<typeof quantRange>;
  private readonly opset: number;
  private readonly skipped: SkippedNode[] = [];
  private readonly notes: string[] = [];
  private readonly emitted: Record<string, number> = {};
  // Insertions per graph: before a node, after a node, at the top; new initializers; nodes removed.
  private readonly before = new Map<NodeProto, NodeProto[]>();
  private readonly after = new Map<NodeProto, NodeProto[]>();
  private readonly top = new Map<GraphProto, NodeProto[]>();
  private readonly newInits = new Map<GraphProto, TensorProto[]>();
  private readonly removed = new Set<NodeProto>();
  /** Readers to point at the DequantizeLinear outputs, once the node lists are rebuilt. */
  private readonly renames: Rename[] = [];
  /** Names of the float tensors replaced (their initializers go when nothing reads them). */
  private readonly touched = new Set<string>();
  private readonly weightCache = new Map<string, QuantizedWeightNames>();
  private readonly constCache = new Map<string, string[]>();
  private readonly counts = { raisedScales: 0, floatBiases: 0, clampedBiases: 0 };

  constructor(private readonly model: Model, private readonly editor: ModelEditor, private readonly plan: QdqPlan,
    private readonly params: Map<string, ActivationParams>, private readonly o: ResolvedOptions) {
    this.actType = o.activationType;
    this.actRange = quantRange(this.actType, { symmetric: o.symmetricActivations });
    this.opset = defaultOpset(model);
  }

  run(): EmitResult {
    const nodes = this.emittable();
    const quantized = nodes.map((c) => { this.rewriteNode(c); return c.label; });
    this.noteCounts();
    const { activations, folded, dequantized } = this.insertActivations(nodes);
    this.rebuild();
    const weights = [...new Set([...this.weightCache.values()].map((w) => w.entry))];
    if (!nodes.length) this.notes.push(this.plan.skipped.length || this.skipped.length ? 'nothing was quantized: every candidate node was skipped (see skipped)' : `nothing was quantized: the model has no ${this.o.opTypes.join('/')} node`);
    return {
      quantized, skipped: this.skipped, weights, emitted: this.emitted, notes: this.notes, activations, foldedActivations: folded, dequantized,
      weightBytesBefore: weights.reduce((a, w) => a + w.bytesBefore, 0),
      weightBytesAfter: weights.reduce((a, w) => a + w.bytesAfter, 0),
    };
  }

  private paramsOf(key: string): ActivationParams | undefined {
    const root = this.plan.root(key);
    return root ? this.params.get(root.key) : undefined;
  }

  /** QuantizeLinear/DequantizeLinear take 16-bit types from opset 21; before that onnxruntime's own do. */
  private domainFor(type: IntType): string {
    return type.endsWith('16') && this.opset < 21 ? 'com.microsoft' : '';
  }

  private count(op: string): void {
    this.emitted[op] = (this.emitted[op] ?? 0) + 1;
  }

  private push<K>(m: Map<K, NodeProto[]>, k: K, n: NodeProto): void {
    const l = m.get(k) ?? [];
    l.push(n);
    m.set(k, l);
  }

  private addInit(g: GraphInfo, t: TensorProto): string {
    const l = this.newInits.get(g.graph) ?? [];
    l.push(t);
    this.newInits.set(g.graph, l);
    return t.name!;
  }

  private dq(inputs: string[], out: string, type: IntType | 'int32', axis: number | null, label: string): NodeProto {
    this.count('DequantizeLinear');
    return makeNode('DequantizeLinear', inputs, [out], axis === null ? {} : { axis }, this.editor.uniqueName(`${label}_DequantizeLinear`), type === 'int32' ? '' : this.domainFor(type));
  }

  /** The planned nodes whose every activation input has parameters; the others are skipped with the reason. */
  private emittable(): PlannedNode[] {
    const nodes: PlannedNode[] = [];
    for (const c of this.plan.nodes) {
      const missing = c.mark.activations.map((i) => c.node.input![i]).find((x) => !this.paramsOf(this.plan.keyOf(x, c.graph)));
      if (missing !== undefined) {
        if (c.mark.kind !== 'passthrough') this.skipped.push({ name: c.label, opType: c.node.op_type ?? '', graph: c.graph.path, reason: `not reached by the calibration inputs: no sample reached its input "${missing}" (the branch that holds it never ran); give calibration inputs that take it` });
        continue;
      }
      nodes.push(c);
    }
    return nodes;
  }

  /** A weight's quantized tensor, scales and zero points, once per weight and axis however many nodes read it. */
  private quantizeWeight(w: ConstRef, axis: number, nodeLabel: string, minScales?: Float64Array): QuantizedWeightNames {
    const { o, editor } = this;
    const wType = o.weightType as IntType;
    const perChannel = o.perChannel && w.dims[axis] > 1;
    const key = `${w.owner.path}|${w.name}|${perChannel ? axis : 'tensor'}`;
    const hit = this.weightCache.get(key);
    if (hit) { hit.entry.nodes.push(nodeLabel); return hit; }
    const data = w.ref.values() as Float32Array;
    const range = quantRange(wType, { symmetric: o.symmetricWeights, reduceRange: o.reduceRange });
    const layout = axisLayout(w.dims, perChannel ? axis : null);
    const p = channelParams(data, layout, range, o.symmetricWeights);
    if (minScales) {
      // A scale so small that the bias (at x_scale * w_scale) would overflow int32 is raised to fit it.
      for (let c = 0; c < p.scales.length; c++) {
        const need = perChannel ? minScales[c] : Math.max(...minScales);
        if (p.scales[c] < need) { p.scales[c] = Math.fround(need * (1 + 2 ** -20)); this.counts.raisedScales++; }
      }
    }
    const q = typedArray(wType, data.length);
    const energy = quantizeTensor(data, layout, p, q);
    const pdims = perChannel ? [w.dims[axis]] : [];
    const zp = typedArray(wType, p.zeroPoints.length);
    zp.set(p.zeroPoints);
    const names = [
      this.addInit(w.owner, tensor(editor.uniqueName(`${w.name}_quantized`), DTYPE[wType], w.dims, q)),
      this.addInit(w.owner, tensor(editor.uniqueName(`${w.name}_scale`), DataType.FLOAT, pdims, p.scales)),
      this.addInit(w.owner, tensor(editor.uniqueName(`${w.name}_zero_point`), DTYPE[wType], pdims, zp)),
    ];
    const s = sqnrFromEnergy(energy.signal, energy.noise);
    const entry: QuantizedWeight = {
      name: w.sourceName, nodes: [nodeLabel], shape: w.dims,
      scheme: `${wType} ${o.symmetricWeights ? 'symmetric' : 'asymmetric'} ${perChannel ? `per-channel (axis ${axis})` : 'per-tensor'}${o.reduceRange ? ' reduced-range' : ''}`,
      sqnr: Number.isFinite(s) ? Math.round(s * 100) / 100 : null, bytesBefore: w.ref.byteLength, bytesAfter: q.byteLength + p.scales.byteLength + zp.byteLength,
    };
    const r = { names, scales: p.scales, axis: perChannel ? axis : null, entry };
    this.weightCache.set(key, r);
    this.touched.add(w.name);
    return r;
  }

  /** A constant input of an elementwise op, quantized per tensor like an activation. */
  private quantizeConstant(c: ConstRef): string[] {
    const { actType, actRange, o, editor } = this;
    const key = `${c.owner.path}|${c.name}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const data = c.ref.values() as Float32Array;
    let lo = 0, hi = 0;
    for (let i = 0; i < data.length; i++) { const v = data[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
    const { scale, zeroPoint } = scaleZeroPoint(lo, hi, actRange, o.symmetricActivations);
    const q = typedArray(actType, data.length);
    for (let i = 0; i < data.length; i++) q[i] = quantizeValue(data[i], scale, zeroPoint, actRange);
    const names = [
      this.addInit(c.owner, tensor(editor.uniqueName(`${c.name}_quantized`), DTYPE[actType], c.dims, q)),
      this.addInit(c.owner, tensor(editor.uniqueName(`${c.name}_scale`), DataType.FLOAT, [], Float32Array.of(scale))),
      this.addInit(c.owner, tensor(editor.uniqueName(`${c.name}_zero_point`), DTYPE[actType], [], typedArrayOf(actType, zeroPoint))),
    ];
    this.constCache.set(key, names);
    this.touched.add(c.name);
    return names;
  }

  /** The bias as int32 at scale x_scale * w_scale (per channel with the weight), behind a DequantizeLinear; returns the name the node reads. */
  private quantizeBias(c: PlannedNode, w: QuantizedWeightNames): string {
    const { node: n, graph: g, mark, label } = c;
    const bias = mark.bias!;
    const x = this.paramsOf(this.plan.keyOf(n.input![mark.activations[0]], g))!;
    const values = bias.const.ref.values();
    const M = values.length;
    const perChannel = w.axis !== null;
    const scales = new Float32Array(perChannel ? M : 1);
    for (let i = 0; i < scales.length; i++) scales[i] = Math.fround(x.scale * w.scales[perChannel ? i : 0]);
    const q = new Int32Array(M);
    for (let i = 0; i < M; i++) {
      const s = scales[perChannel ? i : 0];
      let v = roundHalfEven(Math.fround(Math.fround(values[i] * bias.factor) / s));
      if (v > 2147483647) { v = 2147483647; this.counts.clampedBiases++; } else if (v < -2147483648) { v = -2147483648; this.counts.clampedBiases++; }
      q[i] = v;
    }
    const name = bias.const.name;
    const bq = this.addInit(g, tensor(this.editor.uniqueName(`${name}_quantized`), DataType.INT32, [M], q));
    const bs = this.addInit(g, tensor(this.editor.uniqueName(`${name}_scale`), DataType.FLOAT, perChannel ? [M] : [], scales));
    const out = this.editor.uniqueName(`${name}_dequantized`);
    this.push(this.before, n, this.dq([bq, bs], out, 'int32', perChannel ? 0 : null, `${label}_bias`));
    this.touched.add(name);
    // Gemm's beta is folded into the bias.
    if (bias.factor !== 1) n.attribute = [...(n.attribute ?? []).filter((a) => a.name !== 'beta'), { name: 'beta', type: 1, f: 1 }];
    return out;
  }

  /** A node's weight, bias and constant inputs go to their DequantizeLinear outputs. */
  private rewriteNode(c: PlannedNode): void {
    const { node: n, graph: g, mark, label } = c;
    const { o } = this;
    const inputs = [...(n.input ?? [])];
    if (mark.weight) {
      let minScales: Float64Array | undefined;
      if (mark.bias && o.quantizeBias) {
        const xs = this.paramsOf(this.plan.keyOf(n.input![mark.activations[0]], g))!.scale;
        const bv = mark.bias.const.ref.values();
        minScales = Float64Array.from(bv, (b) => Math.abs(b * mark.bias!.factor) / (xs * 2147483000));
      }
      const w = this.quantizeWeight(mark.weight.const, mark.weight.axis, label, minScales);
      const out = this.editor.uniqueName(`${w.names[0]}_dequantized`);
      this.push(this.before, n, this.dq(w.names, out, o.weightType as IntType, w.axis, `${label}_weight`));
      inputs[mark.weight.index] = out;
      if (mark.bias) {
        if (o.quantizeBias) inputs[mark.bias.index] = this.quantizeBias(c, w);
        else this.counts.floatBiases++;
      }
    }
    for (const k of mark.constants) {
      const names = this.quantizeConstant(k.const);
      const out = this.editor.uniqueName(`${names[0]}_dequantized`);
      this.push(this.before, n, this.dq(names, out, this.actType, null, `${label}_constant${k.index}`));
      inputs[k.index] = out;
    }
    n.input = inputs;
  }

  private noteCounts(): void {
    const { floatBiases, raisedScales, clampedBiases } = this.counts;
    if (floatBiases) this.notes.push(`${floatBiases} node${floatBiases === 1 ? ' keeps its' : 's keep their'} float bias (bias quantization is off): onnxruntime fuses Conv and Gemm into QLinearConv/QGemm only with int32 biases`);
    if (raisedScales) this.notes.push(`${raisedScales} weight scale${raisedScales === 1 ? ' was' : 's were'} raised so that the bias fits int32 at x_scale * w_scale (channels whose weights are nearly zero)`);
    if (clampedBiases) this.notes.push(`${clampedBiases} bias value${clampedBiases === 1 ? '' : 's'} did not fit int32 at scale x_scale * w_scale and ${clampedBiases === 1 ? 'was' : 'were'} saturated`);
  }

  /** A QuantizeLinear/DequantizeLinear pair on every tensor the emitted nodes read and write. */
  private insertActivations(nodes: PlannedNode[]): { activations: number; folded: string[]; dequantized: Map<string, string> } {
    const needed = new Set(nodes.flatMap((c) => [...c.reads, ...c.writes]));
    // Which graphs hold emitted nodes that read each tensor (for subgraph-local DequantizeLinear nodes).
    const readersIn = new Map<string, Set<GraphInfo>>();
    for (const c of nodes) for (const key of c.reads) {
      const s = readersIn.get(key) ?? new Set();
      s.add(c.graph);
      readersIn.set(key, s);
    }
    const graphs = this.model.graphs();
    const descendants = (g: GraphInfo) => graphs.filter((x) => { for (let p: GraphInfo | undefined = x; p; p = p.parent) if (p === g) return true; return false; });
    const folded: string[] = [];
    const dequantized = new Map<string, string>();
    const renames = this.renames;
    let activations = 0;
    for (const key of needed) {
      const t = this.plan.tensors.get(key);
      const p = this.paramsOf(key);
      if (!t || !p) continue;
      const { qOut, dqOut, q, foldedNode } = this.insertPair(t, p);
      if (foldedNode) folded.push(nodeLabel(foldedNode));
      dequantized.set(key, dqOut);
      if (dqOut !== t.name) renames.push({ graphs: descendants(t.home), from: t.name, to: dqOut, except: q.qNode });
      for (const g of [...(readersIn.get(key) ?? [])].filter((x) => x !== t.home).sort((a, b) => a.depth - b.depth)) {
        const local = this.editor.uniqueName(`${t.name}_DequantizeLinear_Output`);
        this.push(this.top, g.graph, this.dq([qOut, q.scale, q.zeroPoint], local, q.type, null, `${t.name}_local`));
        renames.push({ graphs: descendants(g), from: dqOut, to: local, except: q.qNode });
      }
      activations++;
    }
    return { activations, folded, dequantized };
  }

  /**
   * The pair after the tensor's producer (at the top of its graph for an input): a folded Relu/Clip goes when
   * the QuantizeLinear's saturation reproduces it exactly; a graph output keeps its name on the DequantizeLinear.
   */
  private insertPair(t: PlannedTensor, p: ActivationParams): { qOut: string; dqOut: string; q: { qNode: NodeProto; scale: string; zeroPoint: string; type: IntType }; foldedNode?: NodeProto } {
    const { editor } = this;
    const home = t.home;
    // This tensor's own type (16 bits for the nodes of --activations16).
    const aType = p.type ?? this.actType, aRange = aType === this.actType ? this.actRange : quantRange(aType, { symmetric: this.o.symmetricActivations });
    let producer = t.producer;
    let foldedNode: NodeProto | undefined;
    if (t.fold) {
      const { node: r, from } = t.fold;
      const exact = quantizeValue(t.fold.min, p.scale, p.zeroPoint, aRange) === aRange.qmin
        && (t.fold.max === Infinity || quantizeValue(t.fold.max, p.scale, p.zeroPoint, aRange) === aRange.qmax);
      const src = t.producer!;
      if (exact && src.output?.includes(from)) {
        src.output = src.output.map((x) => (x === from ? t.name : x));
        this.removed.add(r);
        foldedNode = r;
        producer = src;
      } else {
        producer = r;
      }
    }
    const zeroPoint = this.addInit(home, tensor(editor.uniqueName(`${t.name}_zero_point`), DTYPE[aType], [], typedArrayOf(aType, p.zeroPoint)));
    const scale = this.addInit(home, tensor(editor.uniqueName(`${t.name}_scale`), DataType.FLOAT, [], Float32Array.of(p.scale)));
    const qOut = editor.uniqueName(`${t.name}_QuantizeLinear_Output`);
    // A graph output: the producer writes a new name and the DequantizeLinear writes the output's, so that
    // the producer feeds only the QuantizeLinear (onnxruntime fuses nothing that produces a graph output).
    const isOutput = !!producer && (home.graph.output ?? []).some((v) => v.name === t.name);
    let qIn = t.name;
    if (isOutput) {
      qIn = editor.uniqueName(`${t.name}_QuantizeInput`);
      producer!.output = producer!.output!.map((x) => (x === t.name ? qIn : x));
    }
    const dqOut = isOutput ? t.name : editor.uniqueName(`${t.name}_DequantizeLinear_Output`);
    const qNode = makeNode('QuantizeLinear', [qIn, scale, zeroPoint], [qOut], {}, editor.uniqueName(`${t.name}_QuantizeLinear`), this.domainFor(aType));
    this.count('QuantizeLinear');
    const dqNode = this.dq([qOut, scale, zeroPoint], dqOut, aType, null, t.name);
    if (producer) { this.push(this.after, producer, qNode); this.push(this.after, producer, dqNode); } else { this.push(this.top, home.graph, qNode); this.push(this.top, home.graph, dqNode); }
    return { qOut, dqOut, q: { qNode, scale, zeroPoint, type: aType }, foldedNode };
  }

  /** Applies the insertions to the node lists, then renames the readers; drops the float tensors nothing reads. */
  private rebuild(): void {
    const graphs = this.model.graphs();
    for (const info of graphs) {
      const g = info.graph;
      const list: NodeProto[] = [...(this.top.get(g) ?? [])];
      for (const n of g.node ?? []) {
        if (this.removed.has(n)) continue;
        list.push(...(this.before.get(n) ?? []), n, ...(this.after.get(n) ?? []));
      }
      g.node = list;
      const inits = this.newInits.get(g);
      if (inits) for (const t of inits) (g.initializer ??= []).push(t); // one by one: there may be more than a call takes
    }
    for (const r of this.renames) {
      for (const info of r.graphs) for (const n of info.graph.node ?? []) {
        if (n === r.except || !n.input?.includes(r.from)) continue;
        n.input = n.input.map((x) => (x === r.from ? r.to : x));
      }
    }
    if (graphs.some((g) => g.graph.node?.some((n) => n.domain === 'com.microsoft'))) ensureDomain(this.model, 'com.microsoft', 1);
    this.editor.invalidate();
    removeUnused(this.model, this.editor, this.touched);
  }
}

/** Readers of `from` in `graphs` (all but the QuantizeLinear) read `to` instead. */
interface Rename { graphs: GraphInfo[]; from: string; to: string; except: NodeProto }

function typedArrayOf(type: IntType, v: number): Int8Array | Uint8Array | Int16Array | Uint16Array {
  const a = typedArray(type, 1);
  a[0] = v;
  return a;
}
