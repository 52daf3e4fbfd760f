// Weights that exporters compute from constants at run time: spox and PyTorch reorder an LSTM's gates with
// Slice + Concat of a Constant and add the direction axis with Unsqueeze (Silero VAD v5), others Transpose
// a stored matrix. A weight quantizer sees "computed by Unsqueeze, not a constant" and leaves the layer in
// float. Before marking, each such chain that feeds a weight input is evaluated here and replaced by one
// initializer: the same values, computed once; the chain is then unused and removed.
import { DataType } from '../onnx/dtype';
import type { GraphInfo, Model } from '../onnx/model';
import type { NodeProto } from '../onnx/proto';
import { tensor } from '../onnx/builder';
import { strides } from '../onnx/shapes/values';
import { intAttr, intsAttr, reshapeDims, type ModelEditor } from './graph';
import { FOLDABLE_OPS } from './opTypes';


/** Largest folded tensor (elements): a weight, not an activation-sized table. */
const MAX_ELEMENTS = 1 << 26;

interface Value { dtype: number; dims: number[]; data: Float32Array | BigInt64Array }

/** Weight inputs per op type: what the quantizers read as constants. */
const WEIGHT_INPUTS: Record<string, number[]> = { MatMul: [1], Gemm: [1], Conv: [1], LSTM: [1, 2] };

/**
 * Replaces every computed weight input of the nodes of `opTypes` whose chain is foldable. Returns the
 * folded inputs' names (as the nodes read them before).
 */
export function foldWeightInputs(model: Model, editor: ModelEditor, opTypes: readonly string[], opset: number): string[] {
  const folded: string[] = [];
  for (const info of model.graphs()) {
    for (const n of info.graph.node ?? []) {
      if ((n.domain ?? '') !== '' || !opTypes.includes(n.op_type ?? '')) continue;
      for (const i of WEIGHT_INPUTS[n.op_type ?? ''] ?? []) {
        const name = n.input?.[i];
        if (!name || !('reason' in editor.constant(name, info))) continue;
        const v = evaluate(name, info, editor, opset, 0);
        if (!v || v.dtype !== DataType.FLOAT) continue;
        const init = editor.uniqueName(`${name}_folded`);
        (info.graph.initializer ??= []).push(tensor(init, DataType.FLOAT, v.dims, v.data));
        n.input![i] = init;
        folded.push(name);
        editor.invalidate();
      }
    }
  }
  return folded;
}

/** The value of `name` as read in `info`, when it is a constant or a foldable chain of constants. */
function evaluate(name: string, info: GraphInfo, editor: ModelEditor, opset: number, depth: number): Value | undefined {
  if (depth > 16) return undefined;
  const c = editor.constant(name, info);
  if (!('reason' in c)) {
    if (c.ref.elements > MAX_ELEMENTS) return undefined;
    if (c.ref.dtype === DataType.FLOAT) return { dtype: DataType.FLOAT, dims: c.dims, data: Float32Array.from(c.ref.values()) };
    if (c.ref.dtype === DataType.INT64) {
      const bytes = c.ref.readBytes();
      return { dtype: DataType.INT64, dims: c.dims, data: new BigInt64Array(Uint8Array.from(bytes).buffer) };
    }
    return undefined;
  }
  const found = producerOf(name, info, editor);
  if (!found || (found.node.domain ?? '') !== '' || !FOLDABLE_OPS.has(found.node.op_type ?? '')) return undefined;
  const { node: p, graph } = found;
  const inputs: (Value | undefined)[] = (p.input ?? []).map((x) => (x ? evaluate(x, graph, editor, opset, depth + 1) : undefined));
  const x = inputs[0];
  if (!x) return undefined;
  const ints = (v: Value | undefined) => (v && v.dtype === DataType.INT64 ? [...(v.data as BigInt64Array)].map(Number) : undefined);
  switch (p.op_type) {
    case 'Identity': return x;
    case 'Reshape': {
      const want = ints(inputs[1]);
      const dims = want && reshapeDims(x.dims, want, intAttr(p, 'allowzero', 0) === 1);
      return dims ? { ...x, dims } : undefined;
    }
    case 'Unsqueeze': {
      const axes = opset >= 13 ? ints(inputs[1]) : intsAttr(p, 'axes');
      if (!axes) return undefined;
      const rank = x.dims.length + axes.length;
      const norm = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
      const dims: number[] = [];
      for (let i = 0, j = 0; i < rank; i++) dims.push(norm.has(i) ? 1 : x.dims[j++]);
      return { ...x, dims };
    }
    case 'Squeeze': {
      const axes = opset >= 13 ? (p.input?.[1] ? ints(inputs[1]) : []) : intsAttr(p, 'axes') ?? [];
      if (!axes) return undefined;
      const norm = new Set(axes.map((a) => (a < 0 ? a + x.dims.length : a)));
      return { ...x, dims: x.dims.filter((d, i) => (norm.size ? !norm.has(i) : d !== 1)) };
    }
    case 'Transpose': {
      const perm = intsAttr(p, 'perm') ?? x.dims.map((_, i) => x.dims.length - 1 - i);
      return transpose(x, perm);
    }
    case 'Concat': {
      if (inputs.some((v) => !v || v.dtype !== x.dtype)) return undefined;
      return concat(inputs as Value[], intAttr(p, 'axis', 0));
    }
    case 'Slice': {
      const get = (attrName: string, index: number) => (opset >= 10 ? (p.input?.[index] ? ints(inputs[index]) : undefined) : intsAttr(p, attrName));
      const starts = get('starts', 1), ends = get('ends', 2);
      if (!starts || !ends) return undefined;
      // An axes input that cannot be evaluated is not "no axes": the default would slice other axes.
      if (opset >= 10 && p.input?.[3] && !ints(inputs[3])) return undefined;
      const axes = get('axes', 3) ?? starts.map((_, i) => i);
      const steps = opset >= 10 && p.input?.[4] ? ints(inputs[4]) : starts.map(() => 1);
      if (!steps) return undefined;
      // INT64_MAX/MIN bounds arrive as doubles near +-9.2e18: clamped to the axis, they are exact again.
      return slice(x, starts, ends, axes, steps);
    }
    default: return undefined;
  }
}

function producerOf(name: string, info: GraphInfo, editor: ModelEditor): { node: NodeProto; graph: GraphInfo } | undefined {
  for (let g: GraphInfo | undefined = info; g; g = g.parent) {
    const p = editor.producer(name, g);
    if (p) return { node: p, graph: g };
  }
  return undefined;
}

function alloc(x: Value, n: number): Float32Array | BigInt64Array {
  return x.data instanceof BigInt64Array ? new BigInt64Array(n) : new Float32Array(n);
}

function transpose(x: Value, perm: number[]): Value | undefined {
  if (perm.length !== x.dims.length) return undefined;
  const dims = perm.map((p) => x.dims[p]);
  const inStrides = strides(x.dims), n = x.data.length;
  const out = alloc(x, n);
  const idx = new Array<number>(dims.length).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = 0; k < dims.length; k++) src += idx[k] * inStrides[perm[k]];
    out[o] = x.data[src];
    for (let k = dims.length - 1; k >= 0; k--) { if (++idx[k] < dims[k]) break; idx[k] = 0; }
  }
  return { ...x, dims, data: out };
}

function concat(xs: Value[], axis: number): Value | undefined {
  const rank = xs[0].dims.length;
  const a = axis < 0 ? axis + rank : axis;
  if (xs.some((v) => v.dims.length !== rank || v.dims.some((d, i) => i !== a && d !== xs[0].dims[i]))) return undefined;
  const dims = [...xs[0].dims];
  dims[a] = xs.reduce((s, v) => s + v.dims[a], 0);
  const outer = dims.slice(0, a).reduce((p, d) => p * d, 1);
  const out = alloc(xs[0], dims.reduce((p, d) => p * d, 1));
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const v of xs) {
      const chunk = v.data.length / outer;
      (out as Float32Array).set((v.data as Float32Array).subarray(o * chunk, (o + 1) * chunk), at);
      at += chunk;
    }
  }
  return { dtype: xs[0].dtype, dims, data: out };
}

function slice(x: Value, starts: number[], ends: number[], axes: number[], steps: number[]): Value | undefined {
  const rank = x.dims.length;
  const begin = x.dims.map(() => 0), step = x.dims.map(() => 1), dims = [...x.dims];
  for (let k = 0; k < axes.length; k++) {
    const a = axes[k] < 0 ? axes[k] + rank : axes[k];
    const d = x.dims[a], st = steps[k];
    if (a < 0 || a >= rank || st === 0) return undefined;
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let s = starts[k] < 0 ? starts[k] + d : starts[k];
    let e = ends[k] < 0 ? ends[k] + d : ends[k];
    if (st > 0) { s = clamp(s, 0, d); e = clamp(e, 0, d); } else { s = clamp(s, 0, d - 1); e = clamp(e, -1, d - 1); }
    begin[a] = s; step[a] = st;
    dims[a] = Math.max(0, Math.ceil((e - s) / st));
  }
  const inStrides = strides(x.dims), n = dims.reduce((p, d) => p * d, 1);
  const out = alloc(x, n);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += (begin[k] + idx[k] * step[k]) * inStrides[k];
    out[o] = x.data[src];
    for (let k = rank - 1; k >= 0; k--) { if (++idx[k] < dims[k]) break; idx[k] = 0; }
  }
  return { ...x, dims, data: out };
}
