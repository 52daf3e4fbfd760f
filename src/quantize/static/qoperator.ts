// Static quantization in QOperator form: a rewrite of the QDQ model that static/emit.ts produced. Each
// DequantizeLinear -> op -> QuantizeLinear pattern becomes one quantized operator reading the int8/uint8
// tensors and their scales and zero points directly:
//  - Conv -> QLinearConv (int32 bias), MatMul -> QLinearMatMul (per-column B scales allowed),
//  - Gemm -> com.microsoft QGemm (int32 bias; float output, or quantized when a QuantizeLinear follows),
//  - Add/Mul -> com.microsoft QLinearAdd/QLinearMul, Concat -> QLinearConcat, GlobalAveragePool/AveragePool
//    -> QLinearGlobalAveragePool/QLinearAveragePool, Sigmoid -> QLinearSigmoid, LeakyRelu -> QLinearLeakyRelu,
//  - ops that only move data (Reshape, Transpose, MaxPool, ...) run on the quantized tensor when the
//    DequantizeLinear before them and the QuantizeLinear after them share a scale and zero point.
// QuantizeLinear at the graph inputs and DequantizeLinear at the outputs (and in front of every op that
// stays in float) remain; DequantizeLinear nodes nothing reads any more are removed. A pattern that does
// not match exactly (Softmax, a float bias, a node whose output is read by more than its QuantizeLinear, a
// Gemm with alpha != 1 and a bias) stays in QDQ form, which onnxruntime runs as well.
import { DataType } from '../../onnx/dtype';
import { node as makeNode } from '../../onnx/builder';
import type { GraphInfo, Model } from '../../onnx/model';
import type { AttributeProto, NodeProto } from '../../onnx/proto';
import { floatAttr, intAttr, type ConstRef, type ModelEditor } from '../graph';
import { ensureDomain } from '../opset';
import { PASSTHROUGH_OPS } from '../opTypes';
import { nodeLabel, removeUnused } from '../pass';

export interface QOperatorResult {
  /** Float op type -> quantized op type, with counts (`Conv -> QLinearConv`). */
  converted: Record<string, number>;
  /** Nodes between DequantizeLinear and QuantizeLinear that stayed in QDQ form, and why. */
  kept: { name: string; opType: string; reason: string }[];
  /** DequantizeLinear/QuantizeLinear nodes removed. */
  removed: number;
}

/** What a DequantizeLinear holds: the quantized tensor, its scale and zero point. */
interface Dq { node: NodeProto; q: string; scale: string; zp: string | undefined; axis: number | null }

const MS = 'com.microsoft';

const isStd = (n: NodeProto | undefined, op: string): n is NodeProto => !!n && n.op_type === op && (n.domain ?? '') === '';

/** A node's QOperator replacement, the QuantizeLinear nodes it absorbs and the DequantizeLinear outputs it no longer reads. */
interface Conversion { node: NodeProto; drop: NodeProto[]; reads: string[] }

/** What the converters ask about one graph's QDQ patterns. */
class Patterns {
  private readonly uses: Map<string, number>;
  constructor(private readonly editor: ModelEditor, private readonly info: GraphInfo) {
    this.uses = editor.useCounts();
  }

  /** A constant of the graph (or above) with its element type and dims. */
  constOf(name: string | undefined): ConstRef | undefined {
    if (!name) return undefined;
    const c = this.editor.constant(name, this.info);
    return 'reason' in c ? undefined : c;
  }

  private eightBit(zp: string | undefined): boolean {
    const c = this.constOf(zp);
    return !!c && (c.ref.dtype === DataType.UINT8 || c.ref.dtype === DataType.INT8);
  }

  producedByDq(name: string | undefined): boolean {
    return isStd(this.editor.producerIn(name ?? '', this.info), 'DequantizeLinear');
  }

  writesQ(n: NodeProto): boolean {
    return (n.output ?? []).some((o) => this.editor.readersIn(o, this.info).some((r) => isStd(r, 'QuantizeLinear')));
  }

  /** The DequantizeLinear in this graph that produces `name`, 8-bit with a zero point (`int32`: a bias). */
  dqOf(name: string | undefined, opts: { scalar?: boolean; int32?: boolean } = {}): Dq | string {
    const p = name ? this.editor.producerIn(name, this.info) : undefined;
    if (!isStd(p, 'DequantizeLinear')) return `input "${name}" does not come from a DequantizeLinear`;
    const [q, scale, zp] = p.input ?? [];
    const s = this.constOf(scale);
    if (!s) return `the scale of "${name}" is not a constant`;
    if (opts.scalar !== false && s.dims.length !== 0 && !(s.dims.length === 1 && s.dims[0] === 1)) return `"${name}" is quantized per channel`;
    if (opts.int32) {
      const b = this.constOf(q);
      if (!b || b.ref.dtype !== DataType.INT32) return `bias "${name}" is not an int32 constant`;
    } else if (!this.eightBit(zp)) return `"${name}" is not 8-bit with a zero point`;
    const axisAttr = (p.attribute ?? []).some((a) => a.name === 'axis');
    return { node: p, q, scale, zp, axis: axisAttr ? intAttr(p, 'axis', 1) : null };
  }

  /** The one QuantizeLinear that reads output `index` of `n`, if that is its only reader. */
  qAfter(n: NodeProto, index = 0): NodeProto | string {
    const out = n.output?.[index];
    if (!out) return 'has no output';
    if (this.editor.isGraphOutput(out, this.info)) return 'its output is a graph output';
    const r = this.editor.readersIn(out, this.info);
    if (r.length !== 1 || (this.uses.get(out) ?? 0) !== 1 || !isStd(r[0], 'QuantizeLinear')) return `its output "${out}" is read by more than its QuantizeLinear`;
    if (!this.constOf(r[0].input?.[1]) || !this.eightBit(r[0].input?.[2])) return `the QuantizeLinear after it is not 8-bit with constant parameters`;
    return r[0];
  }

  /** Whether the DequantizeLinear before a node and the QuantizeLinear after it use equal parameters. */
  sameParams(a: Dq, q: NodeProto): boolean {
    return this.sameConst(a.scale, q.input![1]) && this.sameConst(a.zp, q.input![2]);
  }

  private sameConst(x: string | undefined, y: string | undefined): boolean {
    if (x === y) return true;
    const [a, b] = [this.constOf(x), this.constOf(y)];
    if (!a || !b || a.ref.dtype !== b.ref.dtype) return false;
    const [va, vb] = [a.ref.values(), b.ref.values()];
    return va.length === vb.length && Array.from(va).every((v, i) => v === vb[i]);
  }
}

/** A converter's view of one node: its inputs and the helpers that build the replacement. */
interface NodeContext {
  n: NodeProto;
  op: string;
  ins: string[];
  p: Patterns;
  make(type: string, inputs: string[], outputs: string[], domain: string, attribute: AttributeProto[]): NodeProto;
  /** The node's attributes, only those named when a list is given. */
  attrs(keepNames?: string[]): AttributeProto[];
}

type Converter = (c: NodeContext) => Conversion | string;

/** A DequantizeLinear's three inputs, as the QLinear ops take them. */
const x = (dq: Dq) => [dq.q, dq.scale, dq.zp ?? ''];
const reads = (...dqs: (Dq | undefined)[]) => dqs.flatMap((d) => (d ? (d.node.output ?? []) : []));

/** An op that only moves data runs on the quantized tensor when its QuantizeLinear keeps the input's parameters. */
const passthrough: Converter = ({ n, op, ins, p, make, attrs }) => {
  const a = p.dqOf(ins[0]);
  if (typeof a === 'string') return a;
  const qs: NodeProto[] = [];
  for (let i = 0; i < (n.output ?? []).length; i++) {
    const q = p.qAfter(n, i);
    if (typeof q === 'string') return q;
    if (!p.sameParams(a, q)) return 'the QuantizeLinear after it has other parameters than the DequantizeLinear before it';
    qs.push(q);
  }
  return { node: make(op, [a.q, ...ins.slice(1)], qs.map((q) => q.output![0]), '', attrs()), drop: qs, reads: reads(a) };
};

/** QGemm: its output may stay float (no QuantizeLinear after it). */
const gemm: Converter = ({ n, ins, p, make, attrs }) => {
  const a = p.dqOf(ins[0]);
  if (typeof a === 'string') return a;
  const b = p.dqOf(ins[1], { scalar: false });
  if (typeof b === 'string') return b;
  const transB = intAttr(n, 'transB', 0);
  if (b.axis !== null && p.constOf(b.scale)!.dims[0] > 1 && b.axis !== (transB ? 0 : 1)) return 'its weight is quantized along an axis other than the output features';
  let c: Dq | undefined;
  if (ins[2]) {
    const d = p.dqOf(ins[2], { scalar: false, int32: true });
    if (typeof d === 'string') return `its bias "${ins[2]}" is not int32 behind a DequantizeLinear (QGemm takes an int32 bias)`;
    if (floatAttr(n, 'alpha', 1) !== 1 || floatAttr(n, 'beta', 1) !== 1) return 'it has alpha or beta other than 1 with a bias';
    c = d;
  }
  const q = p.qAfter(n);
  const yq = typeof q === 'string' ? undefined : q;
  const inputs = [...x(a), ...x(b), c?.q ?? '', ...(yq ? [yq.input![1], yq.input![2]] : [])];
  while (inputs[inputs.length - 1] === '') inputs.pop();
  return { node: make('QGemm', inputs, [yq ? yq.output![0] : n.output![0]], MS, attrs(['alpha', 'transA', 'transB'])), drop: yq ? [yq] : [], reads: reads(a, b, c) };
};

/** The ops whose output must be quantized: `f` gets the QuantizeLinear's scale/zero point and output. */
const quantizedOutput = (f: (c: NodeContext, y: string[], out: string[]) => Omit<Conversion, 'drop'> | string): Converter => (c) => {
  const q = c.p.qAfter(c.n);
  if (typeof q === 'string') return q;
  const r = f(c, [q.input![1], q.input![2]], [q.output![0]]);
  return typeof r === 'string' ? r : { ...r, drop: [q] };
};

const conv = quantizedOutput(({ ins, p, make, attrs }, y, out) => {
  const a = p.dqOf(ins[0]);
  if (typeof a === 'string') return a;
  const w = p.dqOf(ins[1], { scalar: false });
  if (typeof w === 'string') return w;
  if (w.axis !== null && w.axis !== 0 && p.constOf(w.scale)!.dims[0] > 1) return 'its weight is quantized along an axis other than 0';
  let b: Dq | undefined;
  if (ins[2]) {
    const d = p.dqOf(ins[2], { scalar: false, int32: true });
    if (typeof d === 'string') return `its bias "${ins[2]}" is not int32 behind a DequantizeLinear (QLinearConv takes an int32 bias)`;
    b = d;
  }
  return { node: make('QLinearConv', [...x(a), ...x(w), ...y, ...(b ? [b.q] : [])], out, '', attrs()), reads: reads(a, w, b) };
});

const matmul = quantizedOutput(({ ins, p, make }, y, out) => {
  const a = p.dqOf(ins[0]);
  if (typeof a === 'string') return a;
  const b = p.dqOf(ins[1], { scalar: false });
  if (typeof b === 'string') return b;
  const bc = p.constOf(b.q);
  if (p.constOf(b.scale)!.dims[0] > 1 && (!bc || bc.dims.length !== 2 || b.axis !== 1)) return 'its B is quantized per channel but is not a 2-D constant quantized per column';
  return { node: make('QLinearMatMul', [...x(a), ...x(b), ...y], out, '', []), reads: reads(a, b) };
});

const binary = (type: string) => quantizedOutput(({ ins, p, make }, y, out) => {
  const a = p.dqOf(ins[0]);
  if (typeof a === 'string') return a;
  const b = p.dqOf(ins[1]);
  if (typeof b === 'string') return b;
  return { node: make(type, [...x(a), ...x(b), ...y], out, MS, []), reads: reads(a, b) };
});

const unary = (type: string, keep: string[] = []) => quantizedOutput(({ ins, p, make, attrs }, y, out) => {
  const a = p.dqOf(ins[0]);
  if (typeof a === 'string') return a;
  return { node: make(type, [...x(a), ...y], out, MS, attrs(keep)), reads: reads(a) };
});

const averagePool = unary('QLinearAveragePool', ['auto_pad', 'ceil_mode', 'count_include_pad', 'kernel_shape', 'pads', 'strides']);

const concat = quantizedOutput(({ ins, p, make, attrs }, y, out) => {
  const dqs: Dq[] = [];
  for (const i of ins) {
    const d = p.dqOf(i);
    if (typeof d === 'string') return d;
    dqs.push(d);
  }
  return { node: make('QLinearConcat', [...y, ...dqs.flatMap(x)], out, MS, attrs(['axis'])), reads: reads(...dqs) };
});

/** Float op type -> its converter, and which inputs carry data (the ones that must come from a DequantizeLinear). */
const CONVERTERS: Record<string, { data: 'first' | 'two' | 'all'; convert: Converter }> = {
  Conv: { data: 'two', convert: conv },
  MatMul: { data: 'two', convert: matmul },
  Gemm: { data: 'two', convert: gemm },
  Add: { data: 'two', convert: binary('QLinearAdd') },
  Mul: { data: 'two', convert: binary('QLinearMul') },
  Sigmoid: { data: 'first', convert: unary('QLinearSigmoid') },
  LeakyRelu: { data: 'first', convert: unary('QLinearLeakyRelu', ['alpha']) },
  GlobalAveragePool: { data: 'first', convert: unary('QLinearGlobalAveragePool') },
  AveragePool: { data: 'first', convert: (c) => ((c.n.attribute ?? []).some((t) => t.name === 'dilations') ? 'QLinearAveragePool has no dilations' : averagePool(c)) },
  Concat: { data: 'all', convert: concat },
  Softmax: { data: 'first', convert: () => 'com.microsoft QLinearSoftmax is not emitted by this build' },
  ...Object.fromEntries(PASSTHROUGH_OPS.map((op) => [op, { data: 'first' as const, convert: passthrough }])),
};

export function qdqToQOperator(model: Model, editor: ModelEditor): QOperatorResult {
  const converted: Record<string, number> = {};
  const kept: QOperatorResult['kept'] = [];
  let removed = 0;
  const touched = new Set<string>();

  for (const info of model.graphs()) {
    const g = info.graph;
    const p = new Patterns(editor, info);
    const replace = new Map<NodeProto, NodeProto>();
    const drop = new Set<NodeProto>();
    for (const n of g.node ?? []) {
      const op = n.op_type ?? '';
      const entry = (n.domain ?? '') === '' ? CONVERTERS[op] : undefined;
      if (!entry) continue;
      // Quantized nodes read their data inputs from DequantizeLinear nodes and write a QuantizeLinear (Gemm: a
      // float output is allowed); other nodes next to quantized ones are float ops.
      const ins = n.input ?? [];
      const data = entry.data === 'first' ? [0] : entry.data === 'two' ? [0, 1] : ins.map((_, i) => i);
      if (!data.every((i) => p.producedByDq(ins[i]))) continue;
      if (!p.writesQ(n) && op !== 'Gemm') continue;
      const name = editor.uniqueName(`${n.name || op}_quant`);
      const r = entry.convert({
        n, op, ins: [...ins], p,
        make: (type, inputs, outputs, domain, attribute) => { const m = makeNode(type, inputs, outputs, {}, name, domain); m.attribute = attribute; return m; },
        attrs: (keepNames) => (n.attribute ?? []).filter((a) => !keepNames || keepNames.includes(a.name ?? '')),
      });
      if (typeof r === 'string') { kept.push({ name: nodeLabel(n), opType: op, reason: r }); continue; }
      replace.set(n, r.node);
      for (const q of r.drop) drop.add(q);
      for (const d of r.reads) touched.add(d);
      const key = r.node.op_type === op ? `${op} on the quantized tensor` : `${op} -> ${r.node.domain ? `${r.node.domain}:` : ''}${r.node.op_type}`;
      converted[key] = (converted[key] ?? 0) + 1;
    }
    if (!replace.size) continue;
    g.node = (g.node ?? []).filter((n) => !drop.has(n)).map((n) => replace.get(n) ?? n);
    editor.invalidate(info);
    removed += drop.size;
  }

  // DequantizeLinear (and QuantizeLinear) nodes that nothing reads any more, then their initializers.
  for (let changed = true; changed;) {
    changed = false;
    const uses = editor.useCounts();
    for (const info of model.graphs()) {
      const g = info.graph;
      const dead = (g.node ?? []).filter((n) => (isStd(n, 'DequantizeLinear') || isStd(n, 'QuantizeLinear')) && (n.output ?? []).every((o) => (uses.get(o) ?? 0) === 0));
      if (!dead.length) continue;
      g.node = g.node!.filter((n) => !dead.includes(n));
      for (const n of dead) for (const i of n.input ?? []) touched.add(i);
      removed += dead.length;
      changed = true;
    }
  }
  if (Object.keys(converted).some((k) => k.includes(`${MS}:`))) ensureDomain(model, MS, 1);
  editor.invalidate();
  removeUnused(model, editor, touched);
  return { converted, kept, removed };
}

/** Op types of every graph with counts (`domain:op` outside the default domain). */
export function opCounts(model: Model): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { node } of model.nodes()) {
    const key = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}:${node.op_type}` : node.op_type ?? '';
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
