// Which tensor of a quantized model approximates which tensor of its FP32 source. Our quantizer and
// onnxruntime's Python tool name things the same way: a quantized activation is `X_QuantizeLinear_Output`
// (QDQ) or `X_quantized` (QOperator), produced by a QuantizeLinear whose input is the float `X`, with its
// scale `X_scale` and zero point `X_zero_point`; tensors left in float keep their names. So the match is
// by structure first (the QuantizeLinear's input), then by name (as is, then less those suffixes), and an
// integer tensor is compared dequantized with the parameters the graph gives it. A tensor with no match
// is listed with the reason, never dropped. Tensors our quantizer rescaled per channel (equalization,
// SmoothQuant) are matched by the factors it records in the model's metadata, and the factors undone;
// activations whose range it narrowed to what their readers tell apart are compared within those bounds.
//
// Only the main graph's activations are measured (a subgraph's values cannot be fetched), and a float
// tensor that a QuantizeLinear reads is not: onnxruntime computes it inside a fused int8 kernel, and
// fetching it would unfuse the kernel and measure another model; its quantized copy stands for it.
import { DataType } from '../onnx/dtype';
import type { GraphInfo, Model } from '../onnx/model';
import type { NodeProto } from '../onnx/proto';
import type { LayerMatch, UnmappedTensor } from '../protocol/layers';
import { ModelEditor } from '../quantize/graph';
import { nodeLabel } from '../quantize/pass';
import { readClamped, readOptions, readRescaled } from '../quantize/records';
import type { QuantizeOptions } from '../protocol/quantize';
import { ValueFactsIndex } from '../quantize/types';

/** A tensor of the quantized model to fetch, and the FP32 tensor to compare it with. */
export interface MappedTensor {
  tensor: string;
  fp32Tensor: string;
  node: string;
  opType: string;
  fp32Node: string | null;
  fp32OpType: string | null;
  match: LayerMatch;
  /** An integer tensor: value = (q - zeroPoint) x scale. */
  quant: { scale: number; zeroPoint: number } | null;
  /** Rescaled per channel by our quantizer (its metadata): value = FP32 value x factors[c] along axis. */
  rescaled: { axis: number; factors: number[] } | null;
  /** Bounds past which the readers cannot tell values apart (our quantizer's metadata): both sides clamped. */
  clamp: { min: number; max: number } | null;
  /** The FP32 node --exclude names to keep this layer in float; null when it is not a quantized layer. */
  floatNode: string | null;
}

export interface LayerMap {
  mapped: MappedTensor[];
  unmapped: UnmappedTensor[];
  /** FP32 graph: for each compared FP32 tensor, the nearest compared tensors (or graph inputs) upstream. */
  upstream: Map<string, string[]>;
  /** The options our quantizer recorded in the quantized model, if it wrote it. */
  quantizedWith: QuantizeOptions | null;
}

/** Suffixes onnxruntime's tool (and ours) appends to the name of the float tensor a value quantizes. */
const SUFFIXES = ['_QuantizeLinear_Output', '_DequantizeLinear_Output', '_output_quantized', '_quantized'];

/** Output scale and zero point of the quantized ops (input positions). */
const OUTPUT_PARAMS: Record<string, [number, number]> = {
  QLinearConv: [6, 7], QLinearMatMul: [6, 7], QLinearAdd: [6, 7], QLinearMul: [6, 7], QGemm: [7, 8], QLinearConcat: [0, 1],
  QLinearAveragePool: [3, 4], QLinearGlobalAveragePool: [3, 4], QLinearSigmoid: [3, 4], QLinearLeakyRelu: [3, 4],
  QLinearSoftmax: [3, 4], QLinearReduceMean: [3, 4],
};
/** Per quantized input position of these ops, where its scale and zero point are. */
const INPUT_PARAMS: Record<string, Record<number, [number, number]>> = {
  QLinearConv: { 0: [1, 2], 3: [4, 5] }, QLinearMatMul: { 0: [1, 2], 3: [4, 5] }, QLinearAdd: { 0: [1, 2], 3: [4, 5] },
  QLinearMul: { 0: [1, 2], 3: [4, 5] }, QGemm: { 0: [1, 2], 3: [4, 5] }, QLinearAveragePool: { 0: [1, 2] },
  QLinearGlobalAveragePool: { 0: [1, 2] }, QLinearSigmoid: { 0: [1, 2] }, QLinearLeakyRelu: { 0: [1, 2] },
  QLinearSoftmax: { 0: [1, 2] }, QLinearReduceMean: { 0: [1, 2] },
};
/** Ops that move quantized values without changing their scale. */
const SAME_SCALE = new Set(['Reshape', 'Transpose', 'MaxPool', 'Flatten', 'Squeeze', 'Unsqueeze', 'Slice', 'Gather', 'Split', 'Resize',
  'DepthToSpace', 'SpaceToDepth', 'Identity', 'Expand', 'Tile', 'GlobalMaxPool', 'Pad']);
/** FP32 ops that are layers a quantizer computes in int8 (what --exclude leaves in float). */
export const LAYER_OPS: ReadonlySet<string> = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);
/** Quantized kernels of the quantized model. */
const INT_KERNELS = new Set(['QLinearConv', 'QLinearMatMul', 'QGemm', 'MatMulInteger', 'ConvInteger', 'MatMulNBits', 'DynamicQuantizeMatMul', 'QAttention']);
const FLOATS: ReadonlySet<number> = new Set([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16]);
const INTEGERS: ReadonlySet<number> = new Set([DataType.UINT8, DataType.INT8, DataType.UINT16, DataType.INT16, DataType.INT32]);

const label = nodeLabel;

export interface GraphView {
  info: GraphInfo;
  editor: ModelEditor;
  facts: ValueFactsIndex;
  producers: Map<string, NodeProto>;
  readers: Map<string, NodeProto[]>;
  inputs: Set<string>;
  /** Values computed from constants only (shape arithmetic, folded weights). */
  constant: Set<string>;
  nodesByName: Map<string, NodeProto>;
}

export function view(m: Model): GraphView {
  const info = m.graphs().find((g) => g.depth === 0);
  if (!info) throw new Error('the model has no graph');
  const editor = new ModelEditor(m);
  const producers = new Map<string, NodeProto>(), readers = new Map<string, NodeProto[]>();
  const inits = new Set((info.graph.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = new Set((info.graph.input ?? []).map((v) => v.name ?? '').filter((n) => !inits.has(n)));
  const constant = new Set(inits);
  for (const n of info.graph.node ?? []) {
    for (const o of n.output ?? []) if (o) producers.set(o, n);
    for (const i of n.input ?? []) if (i) { const l = readers.get(i) ?? []; l.push(n); readers.set(i, l); }
    const ins = (n.input ?? []).filter(Boolean);
    // A node with subgraphs may read outer values through them: never counted as constant.
    const hasBody = (n.attribute ?? []).some((a) => a.g || a.graphs?.length);
    if (!hasBody && ins.every((i) => constant.has(i))) for (const o of n.output ?? []) if (o) constant.add(o);
  }
  const nodesByName = new Map<string, NodeProto>();
  for (const n of info.graph.node ?? []) if (n.name && !nodesByName.has(n.name)) nodesByName.set(n.name, n);
  return { info, editor, facts: new ValueFactsIndex(m), producers, readers, inputs, constant, nodesByName };
}

/** The value of a constant scalar, or undefined. */
function scalar(v: GraphView, name: string | undefined): number | undefined {
  if (!name) return undefined;
  const c = v.editor.constant(name, v.info);
  if ('reason' in c || c.ref.elements !== 1) return undefined;
  for (const chunk of c.ref.chunks()) return chunk[0];
  return undefined;
}

/** The scale and zero point of an integer activation of the quantized model, from the graph around it. */
function quantParams(q: GraphView, t: string, seen = new Set<string>()): { scale: number; zeroPoint: number } | undefined {
  if (seen.has(t)) return undefined;
  seen.add(t);
  const pair = (n: NodeProto, at: [number, number]) => {
    const scale = scalar(q, n.input?.[at[0]]);
    if (scale === undefined) return undefined;
    const zp = n.input?.[at[1]] ? scalar(q, n.input[at[1]]) : 0;
    return zp === undefined ? undefined : { scale, zeroPoint: zp };
  };
  const p = q.producers.get(t);
  if (p?.op_type === 'QuantizeLinear') return pair(p, [1, 2]);
  if (p && OUTPUT_PARAMS[p.op_type ?? '']) return pair(p, OUTPUT_PARAMS[p.op_type!]);
  for (const r of q.readers.get(t) ?? []) {
    const at = r.op_type === 'DequantizeLinear' && r.input?.[0] === t ? [1, 2] as [number, number]
      : r.op_type === 'QLinearConcat' ? concatParams(r, t)
        : INPUT_PARAMS[r.op_type ?? '']?.[(r.input ?? []).indexOf(t)];
    const got = at && pair(r, at);
    if (got) return got;
  }
  const base = stripSuffix(t);
  if (base !== t) {
    const scale = scalar(q, `${base}_scale`);
    const zp = q.editor.constant(`${base}_zero_point`, q.info);
    if (scale !== undefined) return { scale, zeroPoint: 'reason' in zp ? 0 : scalar(q, `${base}_zero_point`) ?? 0 };
  }
  if (p && SAME_SCALE.has(p.op_type ?? '') && p.input?.[0]) return quantParams(q, p.input[0], seen);
  return undefined;
}

/** QLinearConcat reads (Y_scale, Y_zero_point, then X, X_scale, X_zero_point for each input). */
function concatParams(n: NodeProto, t: string): [number, number] | undefined {
  const ins = n.input ?? [];
  for (let i = 2; i + 2 < ins.length + 1; i += 3) if (ins[i] === t) return [i + 1, i + 2];
  return undefined;
}

function stripSuffix(name: string): string {
  for (const s of SUFFIXES) if (name.endsWith(s) && name.length > s.length) return name.slice(0, -s.length);
  return name;
}

/**
 * The node computes in int8: a quantized kernel; a Conv/MatMul/Gemm reading a dequantized weight (QDQ); an
 * op between a DequantizeLinear and a QuantizeLinear (QDQ: onnxruntime runs the group in int8); or the
 * Cast -> Mul (-> Add) that scales a MatMulInteger's or ConvInteger's result back (dynamic quantization).
 */
export function quantizedCompute(q: GraphView, n: NodeProto): boolean {
  const op = n.op_type ?? '';
  if (INT_KERNELS.has(op)) return true;
  const dq = (i: string) => q.producers.get(i)?.op_type === 'DequantizeLinear';
  const ins = (n.input ?? []).filter(Boolean);
  if (LAYER_OPS.has(op)) return ins.some((i) => dq(i) && q.constant.has(i));
  if (ins.some((i) => dq(i) && !q.constant.has(i)) && (n.output ?? []).some((o) => (q.readers.get(o) ?? []).some((r) => r.op_type === 'QuantizeLinear'))) return true;
  const stack: { n: NodeProto; d: number }[] = [{ n, d: 0 }];
  while (stack.length) {
    const { n: x, d } = stack.pop()!;
    if (INT_KERNELS.has(x.op_type ?? '')) return true;
    if (d >= 4 || !['Mul', 'Cast', 'Add'].includes(x.op_type ?? '')) continue;
    for (const i of x.input ?? []) { const p = q.producers.get(i); if (p) stack.push({ n: p, d: d + 1 }); }
  }
  return false;
}

/** An integer value: by its type where that is known, else by the op that makes it. */
function isInteger(q: GraphView, t: string, depth = 0): boolean {
  const type = q.facts.get(t, q.info).type;
  if (type !== undefined) return INTEGERS.has(type);
  const p = q.producers.get(t);
  if (!p || depth > 64) return false;
  if (p.op_type === 'QuantizeLinear' || OUTPUT_PARAMS[p.op_type ?? '']) return true;
  return SAME_SCALE.has(p.op_type ?? '') && !!p.input?.[0] && isInteger(q, p.input[0], depth + 1);
}

/** Maps the main-graph activations of `quantized` to those of `fp32` (`only`: to these FP32 tensors). */
export function mapLayers(fp32: Model, quantized: Model, only?: ReadonlySet<string>): LayerMap {
  const a = view(fp32), q = view(quantized);
  const aType = (name: string) => a.facts.get(name, a.info).type;
  const known = (name: string) => a.producers.has(name) || a.inputs.has(name);
  const mapped: MappedTensor[] = [];
  const unmapped: UnmappedTensor[] = [];
  // A record the FP32 model carries too (both made from the same prepared model) is no difference.
  const shared = new Set(readRescaled(fp32.proto).map((r) => JSON.stringify(r)));
  const rescaled = new Map(readRescaled(quantized.proto).filter((r) => !shared.has(JSON.stringify(r))).map((r) => [r.tensor, r]));
  const clamped = carryClamps(a, new Map(readClamped(quantized.proto).map((c) => [c.tensor, { min: c.min ?? -Infinity, max: c.max ?? Infinity }])));
  for (const n of q.info.graph.node ?? []) {
    const op = n.op_type ?? '';
    if (op === 'DequantizeLinear' || op === 'Constant') continue; // a dequantized copy, a weight, a constant
    for (const t of n.output ?? []) {
      if (!t || q.constant.has(t)) continue;
      if (op !== 'QuantizeLinear' && (q.readers.get(t) ?? []).some((r) => r.op_type === 'QuantizeLinear')) continue;
      const integer = isInteger(q, t);
      // The node that computes it: the op before its QuantizeLinear.
      const src = op === 'QuantizeLinear' ? q.producers.get(n.input?.[0] ?? '') ?? n : n;
      const where = { tensor: t, node: label(src), opType: src.op_type ?? '' };
      let fp32Tensor: string | undefined, match: LayerMatch = 'name';
      // The float value it holds (a QuantizeLinear's input), and whether our quantizer rescaled that.
      const float = op === 'QuantizeLinear' ? n.input?.[0] ?? '' : t;
      const r = rescaled.get(float);
      if (r && known(r.fp32Tensor)) { fp32Tensor = r.fp32Tensor; match = 'metadata'; }
      else if (op === 'QuantizeLinear' && known(float)) { fp32Tensor = float; match = 'quantize-input'; }
      else if (known(t)) fp32Tensor = t;
      else if (known(stripSuffix(t))) { fp32Tensor = stripSuffix(t); match = 'suffix'; }
      if (fp32Tensor === undefined) {
        // Integer tensors no FP32 value stands for (indices, shapes) are not activations.
        if (!integer || op === 'QuantizeLinear' || OUTPUT_PARAMS[op]) unmapped.push({ ...where, reason: integer ? 'no FP32 tensor of its name, of its name less the quantizer\'s suffix, or that its QuantizeLinear reads' : 'no FP32 tensor of that name' });
        continue;
      }
      if (only && !only.has(fp32Tensor)) continue;
      const ft = aType(fp32Tensor);
      if (ft !== undefined && !FLOATS.has(ft)) continue; // an index or a shape: not a layer's activation
      let quant: MappedTensor['quant'] = null;
      if (integer) {
        const p = quantParams(q, t);
        if (!p) { unmapped.push({ ...where, reason: `an integer tensor standing for "${fp32Tensor}" whose scale and zero point are not constants the graph gives` }); continue; }
        quant = p;
      }
      const fp = a.producers.get(fp32Tensor);
      // The FP32 layer behind it: the node of the same name (QDQ; QOperator's less `_quant`), else the
      // producer of the FP32 tensor (dynamic quantization's Mul writes the MatMul's output).
      const floatNode = quantizedCompute(q, src)
        ? [src.name?.replace(/_quant$/, ''), fp?.name].find((x) => !!x && LAYER_OPS.has(a.nodesByName.get(x)?.op_type ?? '')) ?? null
        : null;
      mapped.push({ ...where, fp32Tensor, fp32Node: fp ? label(fp) : null, fp32OpType: fp?.op_type ?? null, match, quant, rescaled: r ? { axis: r.axis, factors: r.factors } : null, clamp: clamped.get(float) ?? null, floatNode });
    }
  }
  // Quantized values inside If/Loop/Scan bodies cannot be fetched as outputs: listed, not measured.
  for (const g of quantized.graphs()) {
    if (g.depth === 0) continue;
    for (const n of g.graph.node ?? []) {
      if (n.op_type !== 'QuantizeLinear' || !n.output?.[0]) continue;
      unmapped.push({ tensor: n.output[0], node: label(n), opType: n.op_type, reason: `inside the ${g.ownerNode?.op_type ?? 'subgraph'} body ${g.path}: a subgraph's values cannot be fetched, so it is not measured` });
    }
  }
  return { mapped, unmapped, upstream: upstreamOf(a, new Set(mapped.map((m) => m.fp32Tensor))), quantizedWith: readOptions(quantized.proto) ?? null };
}

/**
 * The quantizer clamps a value whose readers saturate, looking through affine maps by constant scalars
 * (x -> Mul -> Add -> HardSwish): the values between are past their own bounds exactly when the clamped one
 * is, so the bounds are carried forward through such readers (FP32 graph, names shared with the quantized one).
 */
function carryClamps(a: GraphView, clamps: Map<string, { min: number; max: number }>): Map<string, { min: number; max: number }> {
  const out = new Map(clamps);
  const stack = [...clamps.keys()].map((t) => ({ t, depth: 0 }));
  while (stack.length) {
    const { t, depth } = stack.pop()!;
    const b = out.get(t)!;
    if (depth >= 4) continue;
    for (const r of a.readers.get(t) ?? []) {
      const y = r.output?.[0];
      if ((r.domain ?? '') !== '' || !y || out.has(y) || (r.input ?? []).length !== 2) continue;
      const side = r.input![0] === t ? 0 : 1;
      if (r.input![1 - side] === t) continue;
      const k = scalar(a, r.input![1 - side]);
      if (k === undefined || !Number.isFinite(k)) continue;
      const map = (lo: number, hi: number) => (lo <= hi ? { min: lo, max: hi } : { min: hi, max: lo });
      const next = r.op_type === 'Add' ? map(b.min + k, b.max + k)
        : r.op_type === 'Sub' ? (side === 0 ? map(b.min - k, b.max - k) : map(k - b.max, k - b.min))
          : r.op_type === 'Mul' && k !== 0 ? map(b.min * k, b.max * k)
            : r.op_type === 'Div' && side === 0 && k !== 0 ? map(b.min / k, b.max / k) : undefined;
      if (!next) continue;
      out.set(y, next);
      stack.push({ t: y, depth: depth + 1 });
    }
  }
  return out;
}

/**
 * For each compared FP32 tensor, the nearest compared tensors and graph inputs upstream of its producer
 * (through nodes whose outputs are not compared; weights and constants are not inputs).
 */
function upstreamOf(a: GraphView, compared: Set<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of compared) {
    const found = new Set<string>();
    const seen = new Set<string>();
    const stack = [...(a.producers.get(t)?.input ?? [])];
    while (stack.length) {
      const x = stack.pop()!;
      if (!x || seen.has(x) || a.constant.has(x)) continue;
      seen.add(x);
      if (compared.has(x) || a.inputs.has(x)) { found.add(x); continue; }
      if (seen.size > 4096) break; // a long uncompared stretch: what was found is enough to rank by
      stack.push(...(a.producers.get(x)?.input ?? []));
    }
    out.set(t, [...found]);
  }
  return out;
}
