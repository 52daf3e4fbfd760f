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
import type { Model } from '../../onnx/model';
import type { AttributeProto, NodeProto } from '../../onnx/proto';
import { floatAttr, intAttr, type ModelEditor } from '../graph';
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
const PASSTHROUGH = new Set(PASSTHROUGH_OPS);
const UNARY: Record<string, string> = { Sigmoid: 'QLinearSigmoid', LeakyRelu: 'QLinearLeakyRelu', GlobalAveragePool: 'QLinearGlobalAveragePool', AveragePool: 'QLinearAveragePool' };
const BINARY: Record<string, string> = { Add: 'QLinearAdd', Mul: 'QLinearMul' };
const CANDIDATES = new Set(['Conv', 'MatMul', 'Gemm', 'Concat', 'Softmax', ...Object.keys(UNARY), ...Object.keys(BINARY), ...PASSTHROUGH]);

const isStd = (n: NodeProto | undefined, op: string): n is NodeProto => !!n && n.op_type === op && (n.domain ?? '') === '';

export function qdqToQOperator(model: Model, editor: ModelEditor): QOperatorResult {
  const converted: Record<string, number> = {};
  const kept: QOperatorResult['kept'] = [];
  let removed = 0;
  const touched = new Set<string>();

  for (const info of model.graphs()) {
    const g = info.graph;
    const uses = editor.useCounts();
    const producers = new Map<string, NodeProto>();
    const readers = new Map<string, NodeProto[]>();
    for (const n of g.node ?? []) {
      for (const o of n.output ?? []) if (o) producers.set(o, n);
      for (const i of n.input ?? []) if (i) { const l = readers.get(i) ?? []; l.push(n); readers.set(i, l); }
    }
    const outputs = new Set((g.output ?? []).map((v) => v.name ?? ''));

    /** A constant of `info` (or above) with its element type and dims. */
    const constOf = (name: string | undefined) => {
      if (!name) return undefined;
      const c = editor.constant(name, info);
      return 'reason' in c ? undefined : c;
    };
    const eightBit = (zp: string | undefined) => {
      const c = constOf(zp);
      return !!c && (c.ref.dtype === DataType.UINT8 || c.ref.dtype === DataType.INT8);
    };
    /** The DequantizeLinear in this graph that produces `name`, 8-bit with a zero point. */
    const dqOf = (name: string | undefined, opts: { scalar?: boolean; int32?: boolean } = {}): Dq | string => {
      const p = name ? producers.get(name) : undefined;
      if (!isStd(p, 'DequantizeLinear')) return `input "${name}" does not come from a DequantizeLinear`;
      const [q, scale, zp] = p.input ?? [];
      const s = constOf(scale);
      if (!s) return `the scale of "${name}" is not a constant`;
      if (opts.scalar !== false && s.dims.length !== 0 && !(s.dims.length === 1 && s.dims[0] === 1)) return `"${name}" is quantized per channel`;
      if (opts.int32) {
        const b = constOf(q);
        if (!b || b.ref.dtype !== DataType.INT32) return `bias "${name}" is not an int32 constant`;
      } else if (!eightBit(zp)) return `"${name}" is not 8-bit with a zero point`;
      const axisAttr = (p.attribute ?? []).some((a) => a.name === 'axis');
      return { node: p, q, scale, zp, axis: axisAttr ? intAttr(p, 'axis', 1) : null };
    };
    /** The one QuantizeLinear that reads output `index` of `n`, if that is its only reader. */
    const qAfter = (n: NodeProto, index = 0): NodeProto | string => {
      const out = n.output?.[index];
      if (!out) return 'has no output';
      if (outputs.has(out)) return 'its output is a graph output';
      const r = readers.get(out) ?? [];
      if (r.length !== 1 || (uses.get(out) ?? 0) !== 1 || !isStd(r[0], 'QuantizeLinear')) return `its output "${out}" is read by more than its QuantizeLinear`;
      if (!constOf(r[0].input?.[1]) || !eightBit(r[0].input?.[2])) return `the QuantizeLinear after it is not 8-bit with constant parameters`;
      return r[0];
    };
    const sameParams = (a: Dq, q: NodeProto) => sameConst(a.scale, q.input![1]) && sameConst(a.zp, q.input![2]);
    const sameConst = (x: string | undefined, y: string | undefined) => {
      if (x === y) return true;
      const [a, b] = [constOf(x), constOf(y)];
      if (!a || !b || a.ref.dtype !== b.ref.dtype) return false;
      const [va, vb] = [a.ref.values(), b.ref.values()];
      return va.length === vb.length && Array.from(va).every((v, i) => v === vb[i]);
    };

    const replace = new Map<NodeProto, NodeProto>();
    const drop = new Set<NodeProto>();
    for (const n of g.node ?? []) {
      const op = n.op_type ?? '';
      if ((n.domain ?? '') !== '' || !CANDIDATES.has(op)) continue;
      // Quantized nodes read their data inputs from DequantizeLinear nodes and write a QuantizeLinear (Gemm: a
      // float output is allowed); other nodes next to quantized ones are float ops.
      const data = PASSTHROUGH.has(op) || op in UNARY || op === 'Softmax' ? [0] : op === 'Concat' ? (n.input ?? []).map((_, i) => i) : [0, 1];
      if (!data.every((i) => isStd(producers.get(n.input?.[i] ?? ''), 'DequantizeLinear'))) continue;
      const writesQ = (n.output ?? []).some((o) => (readers.get(o) ?? []).some((r) => isStd(r, 'QuantizeLinear')));
      if (!writesQ && op !== 'Gemm') continue;
      const r = convert(n, op);
      if (typeof r === 'string') { kept.push({ name: nodeLabel(n), opType: op, reason: r }); continue; }
      replace.set(n, r.node);
      for (const q of r.drop) drop.add(q);
      for (const d of r.reads) touched.add(d);
      const key = r.node.op_type === op ? `${op} on the quantized tensor` : `${op} -> ${r.node.domain ? `${r.node.domain}:` : ''}${r.node.op_type}`;
      converted[key] = (converted[key] ?? 0) + 1;
    }

    function convert(n: NodeProto, op: string): { node: NodeProto; drop: NodeProto[]; reads: string[] } | string {
      const ins = n.input ?? [];
      const name = editor.uniqueName(`${n.name || op}_quant`);
      const attrs = (keepNames?: string[]): AttributeProto[] => (n.attribute ?? []).filter((a) => !keepNames || keepNames.includes(a.name ?? ''));
      const make = (type: string, inputs: string[], outputs: string[], domain: string, attribute: AttributeProto[]) => {
        const m = makeNode(type, inputs, outputs, {}, name, domain);
        m.attribute = attribute;
        return m;
      };
      const x = (dq: Dq) => [dq.q, dq.scale, dq.zp ?? ''];
      const reads = (...dqs: (Dq | undefined)[]) => dqs.flatMap((d) => (d ? (d.node.output ?? []) : []));

      if (PASSTHROUGH.has(op)) {
        const a = dqOf(ins[0]);
        if (typeof a === 'string') return a;
        const qs: NodeProto[] = [];
        for (let i = 0; i < (n.output ?? []).length; i++) {
          const q = qAfter(n, i);
          if (typeof q === 'string') return q;
          if (!sameParams(a, q)) return 'the QuantizeLinear after it has other parameters than the DequantizeLinear before it';
          qs.push(q);
        }
        return { node: make(op, [a.q, ...ins.slice(1)], qs.map((q) => q.output![0]), '', attrs()), drop: qs, reads: reads(a) };
      }
      if (op === 'Softmax') return 'com.microsoft QLinearSoftmax is not emitted by this build';

      if (op === 'Gemm') {
        const a = dqOf(ins[0]);
        if (typeof a === 'string') return a;
        const b = dqOf(ins[1], { scalar: false });
        if (typeof b === 'string') return b;
        const transB = intAttr(n, 'transB', 0);
        if (b.axis !== null && constOf(b.scale)!.dims[0] > 1 && b.axis !== (transB ? 0 : 1)) return 'its weight is quantized along an axis other than the output features';
        let c: Dq | undefined;
        if (ins[2]) {
          const d = dqOf(ins[2], { scalar: false, int32: true });
          if (typeof d === 'string') return `its bias "${ins[2]}" is not int32 behind a DequantizeLinear (QGemm takes an int32 bias)`;
          if (floatAttr(n, 'alpha', 1) !== 1 || floatAttr(n, 'beta', 1) !== 1) return 'it has alpha or beta other than 1 with a bias';
          c = d;
        }
        const q = qAfter(n);
        const yq = typeof q === 'string' ? undefined : q;
        const inputs = [...x(a), ...x(b), c?.q ?? '', ...(yq ? [yq.input![1], yq.input![2]] : [])];
        while (inputs[inputs.length - 1] === '') inputs.pop();
        const attribute = attrs(['alpha', 'transA', 'transB']);
        return { node: make('QGemm', inputs, [yq ? yq.output![0] : n.output![0]], MS, attribute), drop: yq ? [yq] : [], reads: reads(a, b, c) };
      }

      const q = qAfter(n);
      if (typeof q === 'string') return q;
      const y = [q.input![1], q.input![2]];
      const out = [q.output![0]];
      if (op === 'Conv') {
        const a = dqOf(ins[0]);
        if (typeof a === 'string') return a;
        const w = dqOf(ins[1], { scalar: false });
        if (typeof w === 'string') return w;
        if (w.axis !== null && w.axis !== 0 && constOf(w.scale)!.dims[0] > 1) return 'its weight is quantized along an axis other than 0';
        let b: Dq | undefined;
        if (ins[2]) {
          const d = dqOf(ins[2], { scalar: false, int32: true });
          if (typeof d === 'string') return `its bias "${ins[2]}" is not int32 behind a DequantizeLinear (QLinearConv takes an int32 bias)`;
          b = d;
        }
        return { node: make('QLinearConv', [...x(a), ...x(w), ...y, ...(b ? [b.q] : [])], out, '', attrs()), drop: [q], reads: reads(a, w, b) };
      }
      if (op === 'MatMul') {
        const a = dqOf(ins[0]);
        if (typeof a === 'string') return a;
        const b = dqOf(ins[1], { scalar: false });
        if (typeof b === 'string') return b;
        const bc = constOf(b.q);
        if (constOf(b.scale)!.dims[0] > 1 && (!bc || bc.dims.length !== 2 || b.axis !== 1)) return 'its B is quantized per channel but is not a 2-D constant quantized per column';
        return { node: make('QLinearMatMul', [...x(a), ...x(b), ...y], out, '', []), drop: [q], reads: reads(a, b) };
      }
      if (op in BINARY) {
        const a = dqOf(ins[0]);
        if (typeof a === 'string') return a;
        const b = dqOf(ins[1]);
        if (typeof b === 'string') return b;
        return { node: make(BINARY[op], [...x(a), ...x(b), ...y], out, MS, []), drop: [q], reads: reads(a, b) };
      }
      if (op in UNARY) {
        const a = dqOf(ins[0]);
        if (typeof a === 'string') return a;
        const keep = op === 'LeakyRelu' ? ['alpha'] : op === 'AveragePool' ? ['auto_pad', 'ceil_mode', 'count_include_pad', 'kernel_shape', 'pads', 'strides'] : [];
        if (op === 'AveragePool' && (n.attribute ?? []).some((t) => t.name === 'dilations')) return 'QLinearAveragePool has no dilations';
        return { node: make(UNARY[op], [...x(a), ...y], out, MS, attrs(keep)), drop: [q], reads: reads(a) };
      }
      if (op === 'Concat') {
        const dqs: Dq[] = [];
        for (const i of ins) {
          const d = dqOf(i);
          if (typeof d === 'string') return d;
          dqs.push(d);
        }
        return { node: make('QLinearConcat', [...y, ...dqs.flatMap(x)], out, MS, attrs(['axis'])), drop: [q], reads: reads(...dqs) };
      }
      return `${op} has no QOperator form here`;
    }

    if (!replace.size) continue;
    g.node = (g.node ?? []).filter((n) => !drop.has(n)).map((n) => replace.get(n) ?? n);
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
