// Weights a model stores quantized, and the values they stand for: the scale, zero point and axis (or
// blocks) of an integer weight come from the op that reads it: DequantizeLinear, QLinearConv,
// QLinearMatMul, QGemm, DynamicQuantizeLSTM, MatMulNBits, or ConvInteger/MatMulInteger (whose weight
// scale is the constant the DynamicQuantizeLinear scale of their input is multiplied by).
import { DataType } from './dtype';
import type { GraphInfo } from './model';
import { intAttr } from './nodeAttributes';
import type { GraphProto, NodeProto } from './proto';
import type { TensorRef } from './tensor';
import type { StoredQuantization } from '../protocol/graph';

export interface Dequantized {
  info: StoredQuantization;
  /** The values the codes stand for, row-major over `info.dims`, in chunks. */
  chunks(): Iterable<Float32Array>;
  /** The output-channel axis of those values, where the consumer has one. */
  channelAxis?: number;
}

/** How a consumer names its inputs' constants: a weight's tensor by name, in its graph or an enclosing one. */
export type ConstantLookup = (name: string, graph: GraphInfo) => TensorRef | undefined;

const INTEGER = new Set<number>([DataType.INT8, DataType.UINT8, DataType.INT16, DataType.UINT16, DataType.INT32, DataType.INT4, DataType.UINT4, DataType.INT2, DataType.UINT2]);

interface Params {
  via: string;
  scale: Float64Array;
  zeroPoint: Float64Array | number;
  /** Which scale (and zero point) element the i-th value uses. */
  index: (i: number) => number;
  scheme: string;
  dims: number[];
  channelAxis?: number;
  /** MatMulNBits: codes packed `bits` to a byte, low bits first. */
  unpack?: { bits: number; n: number; k: number; blocks: number; blob: number };
}

/** Per-axis parameters: element i uses scale floor(i / inner) % dims[axis]. */
function perAxis(dims: number[], axis: number): (i: number) => number {
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1), n = dims[axis];
  return (i) => Math.floor(i / inner) % n;
}

/** Blocks of `block` along `axis` (DequantizeLinear's block_size): the scale tensor has ceil(dim / block) there. */
function blocked(dims: number[], axis: number, block: number): (i: number) => number {
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1), n = dims[axis], nb = Math.ceil(n / block);
  return (i) => {
    const o = Math.floor(i / (n * inner)), c = Math.floor(i / inner) % n, r = i % inner;
    return (o * nb + Math.floor(c / block)) * inner + r;
  };
}

function values(t: TensorRef | undefined): Float64Array | undefined {
  if (!t || !t.numeric) return undefined;
  return Float64Array.from(t.values());
}

/** Scale and zero point given as consumer inputs, per tensor or per channel along `axis`. */
function axisParams(via: string, w: TensorRef, scale: TensorRef | undefined, zp: TensorRef | undefined, axis: number): Params | undefined {
  const s = values(scale);
  if (!s || !s.length) return undefined;
  const z = values(zp) ?? 0;
  // Per tensor: the consumer's channel axis still draws per-channel ranges, where the weight has it.
  if (s.length === 1) return { via, scale: s, zeroPoint: z, index: () => 0, scheme: 'per tensor', dims: w.dims, ...(axis >= 0 && axis < w.dims.length ? { channelAxis: axis } : {}) };
  if (w.dims[axis] !== s.length) return undefined;
  return { via, scale: s, zeroPoint: z, index: perAxis(w.dims, axis), scheme: `per channel (axis ${axis})`, dims: w.dims, channelAxis: axis };
}

function paramsFor(n: NodeProto, input: number, w: TensorRef, graph: GraphInfo, lookup: ConstantLookup): Params | undefined {
  const op = n.op_type ?? '';
  const ins = n.input ?? [];
  const get = (i: number) => (ins[i] ? lookup(ins[i], graph) : undefined);
  const rank = w.dims.length;
  switch (op) {
    case 'DequantizeLinear': {
      if (input !== 0) return undefined;
      const s = values(get(1));
      if (!s) return undefined;
      const block = intAttr(n, 'block_size', 0);
      const a0 = intAttr(n, 'axis', 1);
      const axis = a0 < 0 ? a0 + rank : a0;
      if (block > 0) return { via: op, scale: s, zeroPoint: values(get(2)) ?? 0, index: blocked(w.dims, axis, block), scheme: `blocks of ${block} along axis ${axis}`, dims: w.dims };
      return axisParams(op, w, get(1), get(2), axis);
    }
    case 'QLinearConv': return input === 3 ? axisParams(op, w, get(4), get(5), 0) : undefined;
    case 'QLinearMatMul': return input === 3 ? axisParams(op, w, get(4), get(5), rank - 1) : undefined;
    case 'QGemm': return input === 3 ? axisParams(op, w, get(4), get(5), intAttr(n, 'transB', 0) ? 0 : 1) : undefined;
    case 'DynamicQuantizeLSTM': {
      if (input !== 1 && input !== 2) return undefined;
      const s = values(get(input === 1 ? 8 : 10));
      if (!s || rank !== 3) return undefined;
      const z = values(get(input === 1 ? 9 : 11)) ?? 0;
      const [d, rows, cols] = w.dims;
      if (s.length === d) return { via: op, scale: s, zeroPoint: z, index: (i) => Math.floor(i / (rows * cols)), scheme: 'per direction', dims: w.dims };
      if (s.length !== d * cols) return undefined;
      return { via: op, scale: s, zeroPoint: z, index: (i) => Math.floor(i / (rows * cols)) * cols + (i % cols), scheme: 'per gate row (the last axis, per direction)', dims: w.dims, channelAxis: 2 };
    }
    case 'MatMulNBits': {
      if (input !== 1 || rank !== 3) return undefined;
      const bits = intAttr(n, 'bits', 4), block = intAttr(n, 'block_size', 0), N = intAttr(n, 'N', 0), K = intAttr(n, 'K', 0);
      const s = values(get(2));
      const [n0, blocks, blob] = w.dims;
      if (!s || !block || n0 !== N || s.length !== N * blocks || (8 / bits) * blob !== block) return undefined;
      // Zero points: packed like the codes (uint8), or absent (the middle code).
      const zpRef = get(3);
      let zp: Float64Array | number = 2 ** (bits - 1);
      if (zpRef) {
        if (zpRef.dtype !== DataType.UINT8) return undefined; // float zero points: not a code
        const packed = zpRef.values(), per = 8 / bits, rowBytes = Math.ceil(blocks / per);
        zp = new Float64Array(N * blocks);
        for (let r = 0; r < N; r++) for (let b = 0; b < blocks; b++) zp[r * blocks + b] = (packed[r * rowBytes + Math.floor(b / per)] >> ((b % per) * bits)) & ((1 << bits) - 1);
      }
      return {
        via: op, scale: s, zeroPoint: zp, index: (i) => Math.floor(i / K) * blocks + Math.floor((i % K) / block),
        scheme: `${bits}-bit, blocks of ${block} along K`, dims: [N, K], channelAxis: 0, unpack: { bits, n: N, k: K, blocks, blob },
      };
    }
    case 'ConvInteger':
    case 'MatMulInteger': {
      if (input !== 1) return undefined;
      const s = integerKernelScale(n, graph, lookup);
      return s ? axisParams(op, w, s, get(3), op === 'ConvInteger' ? 0 : rank - 1) : undefined;
    }
  }
  return undefined;
}

/**
 * The weight scale of a dynamic integer kernel, followed from the kernel's own output as onnxruntime and
 * our quantizer write it: kernel -> Cast -> Mul(cast, S), S = Mul(x_scale, w_scale). (An input quantized
 * once for several kernels, as BERT's Q, K and V, has one Mul per kernel on the same x_scale.)
 */
function integerKernelScale(n: NodeProto, graph: GraphInfo, lookup: ConstantLookup): TensorRef | undefined {
  const { producer, readers } = nodeIndex(graph);
  const isOp = (p: NodeProto | undefined, op: string): p is NodeProto => !!p && p.op_type === op && !(p.domain && p.domain !== 'ai.onnx');
  const dql = producer.get(n.input?.[0] ?? '');
  const xScale = isOp(dql, 'DynamicQuantizeLinear') ? dql.output?.[1] : undefined;
  const cast = (readers.get(n.output?.[0] ?? '') ?? []).find((p) => isOp(p, 'Cast'));
  const castOut = cast?.output?.[0];
  if (!xScale || !castOut) return undefined;
  const product = (readers.get(castOut) ?? []).find((p) => isOp(p, 'Mul'));
  const s = product?.input?.find((x) => x !== castOut);
  const scales = s ? producer.get(s) : undefined;
  if (!isOp(scales, 'Mul') || !scales.input?.includes(xScale)) return undefined;
  const w = scales.input.find((x) => x !== xScale);
  const t = w ? lookup(w, graph) : undefined;
  return t && t.dtype === DataType.FLOAT ? t : undefined;
}

/** Producers and readers of one graph's values, built once per graph: every kernel of a big model asks. */
const indexes = new WeakMap<GraphProto, { producer: Map<string, NodeProto>; readers: Map<string, NodeProto[]> }>();

function nodeIndex(graph: GraphInfo): { producer: Map<string, NodeProto>; readers: Map<string, NodeProto[]> } {
  let ix = indexes.get(graph.graph);
  if (!ix) {
    ix = { producer: new Map(), readers: new Map() };
    for (const p of graph.graph.node ?? []) {
      for (const o of p.output ?? []) if (o) ix.producer.set(o, p);
      for (const i of p.input ?? []) {
        if (!i) continue;
        const list = ix.readers.get(i);
        if (list) list.push(p); else ix.readers.set(i, [p]);
      }
    }
    indexes.set(graph.graph, ix);
  }
  return ix;
}

/** The codes of `w` as the values they stand for. */
function dequantizedChunks(w: TensorRef, p: Params): () => Iterable<Float32Array> {
  // One zero point may serve every channel (ConvInteger takes a scalar one beside per-channel scales).
  const zp = p.zeroPoint;
  const zpAt = typeof zp === 'number' ? () => zp : zp.length === 1 ? () => zp[0] : (j: number) => zp[j] ?? 0;
  if (p.unpack) {
    const { bits, n, k, blob } = p.unpack;
    const mask = (1 << bits) - 1, per = 8 / bits, rowBytes = p.unpack.blocks * blob;
    return function* () {
      const bytes = w.values();
      const row = new Float32Array(k);
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < k; c++) {
          // Row r holds its blocks one after another, `blob` bytes each, `per` codes to a byte.
          const code = (bytes[r * rowBytes + Math.floor(c / per)] >> ((c % per) * bits)) & mask;
          const j = p.index(r * k + c);
          row[c] = (code - zpAt(j)) * p.scale[j];
        }
        yield row;
      }
    };
  }
  return function* () {
    let i = 0;
    for (const chunk of w.chunks()) {
      const out = new Float32Array(chunk.length);
      for (let k = 0; k < chunk.length; k++, i++) {
        const j = p.index(i);
        out[k] = (chunk[k] - zpAt(j)) * p.scale[j];
      }
      yield out;
    }
  };
}

/**
 * The stored quantization of weight `w` (an integer tensor), from the first consumer that gives its scale;
 * undefined for a weight no quantized op reads.
 */
export function dequantize(w: TensorRef, consumers: { graph: GraphInfo; node: NodeProto; input: number }[], lookup: ConstantLookup): Dequantized | undefined {
  if (!INTEGER.has(w.dtype)) return undefined;
  for (const c of consumers) {
    let p: Params | undefined;
    try {
      p = paramsFor(c.node, c.input, w, c.graph, lookup);
    } catch {
      p = undefined; // a scale that cannot be read: the codes are shown as they are
    }
    if (!p) continue;
    return {
      info: { via: p.via, scheme: p.scheme, scales: p.scale.length, dims: p.dims },
      chunks: dequantizedChunks(w, p),
      ...(p.channelAxis !== undefined ? { channelAxis: p.channelAxis } : {}),
    };
  }
  return undefined;
}
