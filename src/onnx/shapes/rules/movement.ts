// Ops that move, select or make data: the output shape comes from attributes and from constant inputs
// (or shapes the graph computed: Shape -> Gather -> Concat -> Reshape), whose contents are carried along.
import { DataType } from '../../dtype';
import { constantTensor } from '../../model';
import { attr, intAttr, intsAttr } from '../../nodeAttributes';
import { int64 } from '../../proto';
import { broadcast, dimAdd, dimDiv, dimMul, isKnown, normalizeAxis, product, unifyDim, type Dim } from '../dims';
import type { NodeContext, ShapeRule, ValueShape } from '../types';
import { INT64, MAX_VALUE_ELEMENTS, shapeOf } from './common';
import { concatValue, gatherValue, sliceValue, tensorValue, transposeValue } from '../values';

/** The axes (or pads, sizes...) of an op: an attribute before `fromOpset`, input `input` from it on. */
function intsParam(cx: NodeContext, name: string, input: number, fromOpset: number): number[] | undefined {
  return cx.opset >= fromOpset ? (cx.has(input) ? cx.numbers(input) : undefined) : intsAttr(cx.node, name);
}
const given = (cx: NodeContext, name: string, input: number, fromOpset: number) => (cx.opset >= fromOpset ? cx.has(input) : attr(cx.node, name) !== undefined);

/** A value's dims when all are numbers and its contents are known (the contents' ops need both). */
function known(x: ValueShape | undefined): { value: Dim[]; dims: number[] } | undefined {
  if (!x?.value || !x.shape || !x.shape.every(isKnown)) return undefined;
  const dims = x.shape as number[];
  return dims.reduce((a, b) => a * b, 1) === x.value.length ? { value: x.value, dims } : undefined;
}

/** `num` / `den` as dims multiply: names cancel; null where it cannot be told. */
function quotient(num: Dim[], den: Dim[]): Dim {
  if (num.some((d) => d === null) || den.some((d) => d === null)) return null;
  const names = num.filter((d): d is string => typeof d === 'string');
  for (const d of den) {
    if (typeof d !== 'string') continue;
    const at = names.indexOf(d);
    if (at < 0) return null;
    names.splice(at, 1);
  }
  const pn = num.filter(isKnown).reduce((a, b) => a * b, 1), pd = den.filter(isKnown).reduce((a, b) => a * b, 1);
  if (!names.length) return pd !== 0 && pn % pd === 0 ? pn / pd : null;
  return names.length === 1 && pn === pd ? names[0] : null;
}

export function reshapeDims(x: Dim[] | null | undefined, target: Dim[], allowZero: boolean): Dim[] {
  const out = target.map((d, i) => (d === 0 && !allowZero ? x?.[i] ?? null : d));
  const at = out.indexOf(-1);
  if (at >= 0) out[at] = x ? quotient(x, out.filter((_, i) => i !== at)) : null;
  return out;
}

function reshape(cx: NodeContext): ValueShape {
  const x = cx.input(0);
  const target = cx.input(1)?.value;
  const rank = cx.input(1)?.shape?.[0];
  const shape = target ? reshapeDims(x?.shape, target, intAttr(cx.node, 'allowzero', 0) === 1) : isKnown(rank ?? null) ? Array(rank as number).fill(null) : null;
  // Contents keep their row-major order.
  return shapeOf(x?.dtype, shape, x?.value);
}

function flatten(cx: NodeContext): ValueShape {
  const x = cx.input(0);
  if (!x?.shape) return shapeOf(x?.dtype, [null, null]);
  const axis = intAttr(cx.node, 'axis', 1);
  const a = axis < 0 ? axis + x.shape.length : axis;
  return shapeOf(x.dtype, [product(x.shape.slice(0, a)), product(x.shape.slice(a))], x.value);
}

function squeeze(cx: NodeContext): ValueShape {
  const x = cx.input(0);
  const axes = intsParam(cx, 'axes', 1, 13);
  if (!x?.shape) return shapeOf(x?.dtype, null);
  let shape: Dim[] | null;
  if (axes && axes.length) {
    const drop = new Set(axes.map((a) => normalizeAxis(a, x.shape!.length)));
    shape = x.shape.filter((_, i) => !drop.has(i));
  } else if (given(cx, 'axes', 1, 13) && !axes) shape = null; // axes computed at run time
  else shape = x.shape.every(isKnown) ? x.shape.filter((d) => d !== 1) : null;
  return shapeOf(x.dtype, shape, x.value);
}

function unsqueeze(cx: NodeContext): ValueShape {
  const x = cx.input(0);
  const axes = intsParam(cx, 'axes', 1, 13);
  if (!x?.shape || !axes) return shapeOf(x?.dtype, null);
  const rank = x.shape.length + axes.length;
  const at = new Set(axes.map((a) => normalizeAxis(a, rank)));
  const out: Dim[] = [];
  for (let i = 0, j = 0; i < rank; i++) out.push(at.has(i) ? 1 : x.shape[j++]);
  return shapeOf(x.dtype, out, x.value);
}

function transpose(cx: NodeContext): ValueShape {
  const x = cx.input(0);
  if (!x?.shape) return shapeOf(x?.dtype, null);
  const perm = intsAttr(cx.node, 'perm') ?? x.shape.map((_, i) => x.shape!.length - 1 - i);
  const k = known(x);
  return shapeOf(x.dtype, perm.map((p) => x.shape![p] ?? null), k && perm.length === k.dims.length ? transposeValue(k.value, k.dims, perm) : undefined);
}

function concat(cx: NodeContext, first = 0, step = 1): ValueShape {
  const xs: (ValueShape | undefined)[] = [];
  for (let i = first; i < (cx.node.input ?? []).length; i += step) xs.push(cx.input(i));
  const dtype = xs.find((x) => x?.dtype !== undefined)?.dtype;
  const shapes = xs.map((x) => x?.shape);
  const known0 = shapes.find((s) => s) ?? null;
  if (!known0) return shapeOf(dtype, null);
  const a = normalizeAxis(intAttr(cx.node, 'axis', 0), known0.length);
  if (a === undefined) return shapeOf(dtype, null);
  const out = known0.map((_, i) => {
    if (i === a) return shapes.every((s) => s) ? (shapes as Dim[][]).map((s) => s[i]).reduce<Dim>((p, d) => dimAdd(p, d), 0) : null;
    return shapes.reduce<Dim>((p, s) => (s ? unifyDim(p, s[i]) : p), known0[i]);
  });
  const contents = xs.map(known);
  const value = contents.every((c) => c && c.dims.length === known0.length) ? concatValue(contents.map((c) => c!.value), contents.map((c) => c!.dims), a) : undefined;
  return shapeOf(dtype, out, value && value.length <= MAX_VALUE_ELEMENTS ? value : undefined);
}

function split(cx: NodeContext): ValueShape[] {
  const x = cx.input(0);
  const n = (cx.node.output ?? []).length;
  if (!x?.shape) return Array.from({ length: n }, () => shapeOf(x?.dtype, null));
  const a = normalizeAxis(intAttr(cx.node, 'axis', 0), x.shape.length);
  if (a === undefined) return Array.from({ length: n }, () => shapeOf(x.dtype, null));
  const sizes = intsParam(cx, 'split', 1, 13);
  const d = x.shape[a];
  // Sizes computed at run time: the split axis is unknown in every part.
  if (!sizes && given(cx, 'split', 1, 13)) return Array.from({ length: n }, () => shapeOf(x.dtype, x.shape!.map((v, i) => (i === a ? null : v))));
  const parts: Dim[] = sizes ?? (isKnown(d)
    ? Array.from({ length: n }, (_, i) => { const each = Math.ceil(d / n); return Math.max(0, Math.min(each, d - each * i)); })
    : Array(n).fill(null));
  return parts.map((p) => shapeOf(x.dtype, x.shape!.map((v, i) => (i === a ? p : v))));
}

const INT64_MAX = 2 ** 63 - 1;

/** The [start, end) and step a Slice takes on a dim of size `d` (onnxruntime's clamping). */
function sliceLength(d: Dim, start: number, end: number, step: number): Dim {
  if (!isKnown(d)) {
    // A whole axis of unknown size: the same dim.
    return start === 0 && step === 1 && end >= INT64_MAX / 2 ? d : null;
  }
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + d : start, e = end < 0 ? end + d : end;
  if (step > 0) { s = clamp(s, 0, d); e = clamp(e, 0, d); return Math.max(0, Math.ceil((e - s) / step)); }
  // A negative step: start within [0, d - 1], end within [-1, d - 1] (the ONNX specification).
  s = clamp(s, 0, d - 1); e = clamp(e, -1, d - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

/** The first index a Slice reads on a dim of size `d` (clamped as onnxruntime does). */
function sliceStart(d: number, start: number, step: number): number {
  const s = start < 0 ? start + d : start;
  return step > 0 ? Math.min(Math.max(s, 0), d) : Math.min(Math.max(s, 0), d - 1);
}

function slice(cx: NodeContext): ValueShape {
  const x = cx.input(0);
  if (!x?.shape) return shapeOf(x?.dtype, null);
  const old = cx.opset < 10;
  const starts = old ? intsAttr(cx.node, 'starts') : cx.numbers(1);
  const ends = old ? intsAttr(cx.node, 'ends') : cx.numbers(2);
  const axes = old ? intsAttr(cx.node, 'axes') : cx.has(3) ? cx.numbers(3) : undefined;
  const steps = old ? undefined : cx.has(4) ? cx.numbers(4) : undefined;
  const axesGiven = old ? attr(cx.node, 'axes') !== undefined : cx.has(3);
  if (!starts || !ends || (axesGiven && !axes) || (!old && cx.has(4) && !steps)) {
    // Bounds computed at run time: the sliced axes are unknown (all of them where the axes are too).
    const sliced = axes ? new Set(axes.map((a) => normalizeAxis(a, x.shape!.length))) : undefined;
    return shapeOf(x.dtype, x.shape.map((d, i) => (sliced && !sliced.has(i) ? d : null)));
  }
  const shape = [...x.shape];
  const ax = axes ?? starts.map((_, i) => i);
  const k = known(x);
  const ranges = k?.dims.map((d) => ({ start: 0, count: d, step: 1 }));
  ax.forEach((a0, i) => {
    const a = normalizeAxis(a0, shape.length);
    if (a === undefined) return;
    const step = steps?.[i] ?? 1;
    shape[a] = sliceLength(x.shape![a], starts[i], ends[i], step);
    if (ranges && isKnown(shape[a])) ranges[a] = { start: sliceStart(k!.dims[a], starts[i], step), count: shape[a] as number, step };
  });
  return shapeOf(x.dtype, shape, k && ranges ? sliceValue(k.value, k.dims, ranges) : undefined);
}

function gather(cx: NodeContext): ValueShape {
  const x = cx.input(0), idx = cx.input(1);
  if (!x?.shape || !idx?.shape) return shapeOf(x?.dtype, null);
  const a = normalizeAxis(intAttr(cx.node, 'axis', 0), x.shape.length);
  if (a === undefined) return shapeOf(x.dtype, null);
  const shape = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
  const at = cx.numbers(1), k = known(x);
  const value = k && at ? gatherValue(k.value, k.dims, a, at) : undefined;
  return shapeOf(x.dtype, shape, value && value.every((d) => d !== undefined) ? value : undefined);
}

function gatherND(cx: NodeContext): ValueShape {
  const x = cx.input(0), idx = cx.input(1)?.shape;
  const b = intAttr(cx.node, 'batch_dims', 0);
  const last = idx?.[idx.length - 1];
  if (!x?.shape || !idx || !isKnown(last ?? null)) return shapeOf(x?.dtype, null);
  return shapeOf(x.dtype, [...idx.slice(0, -1), ...x.shape.slice(b + (last as number))]);
}

function expand(cx: NodeContext): ValueShape {
  const x = cx.input(0);
  const target = cx.input(1)?.value;
  const n = cx.input(1)?.shape?.[0];
  if (!target) return shapeOf(x?.dtype, isKnown(n ?? null) && x?.shape ? Array(Math.max(n as number, x.shape.length)).fill(null) : null);
  // A -1 or 1 in the target keeps the input's dim.
  const t = target.map((d) => (d === -1 ? 1 : d));
  return shapeOf(x?.dtype, broadcast([x?.shape, t]));
}

function tile(cx: NodeContext): ValueShape {
  const x = cx.input(0);
  const r = cx.input(1)?.value;
  if (!x?.shape) return shapeOf(x?.dtype, null);
  return shapeOf(x.dtype, r && r.length === x.shape.length ? x.shape.map((d, i) => dimMul(d, r[i])) : x.shape.map(() => null));
}

function pad(cx: NodeContext): ValueShape {
  const x = cx.input(0);
  if (!x?.shape) return shapeOf(x?.dtype, null);
  const pads = cx.opset < 11 ? intsAttr(cx.node, 'pads') : cx.numbers(1);
  const rank = x.shape.length;
  const axes = cx.opset >= 18 && cx.has(3) ? cx.numbers(3) : x.shape.map((_, i) => i);
  if (!pads || !axes) return shapeOf(x.dtype, x.shape.map(() => null));
  const out = [...x.shape];
  axes.forEach((a0, i) => {
    const a = normalizeAxis(a0, rank);
    if (a !== undefined) out[a] = dimAdd(dimAdd(out[a], pads[i]), pads[i + axes.length]);
  });
  return shapeOf(x.dtype, out);
}

function resize(cx: NodeContext): ValueShape {
  const x = cx.input(0);
  if (!x?.shape) return shapeOf(x?.dtype, null);
  const rank = x.shape.length;
  let scales: number[] | undefined, sizes: number[] | undefined;
  if (cx.node.op_type === 'Upsample') scales = cx.opset < 9 ? attr(cx.node, 'scales')?.floats : cx.numbers(1);
  else if (cx.opset < 11) scales = cx.numbers(1);
  else {
    if (cx.has(3)) sizes = cx.numbers(3);
    else if (cx.has(2)) scales = cx.numbers(2);
  }
  const axes = intsAttr(cx.node, 'axes')?.map((a) => normalizeAxis(a, rank)) ?? x.shape.map((_, i) => i);
  const out: Dim[] = [...x.shape];
  if (sizes && sizes.length === axes.length) axes.forEach((a, i) => { if (a !== undefined) out[a] = sizes![i]; });
  else if (scales && scales.length === axes.length) axes.forEach((a, i) => { if (a !== undefined) { const d = x.shape![a]; out[a] = isKnown(d) ? Math.floor(d * scales![i] + 1e-9) : scales![i] === 1 ? d : null; } });
  else return shapeOf(x.dtype, x.shape.map(() => null));
  return shapeOf(x.dtype, out);
}

function depthToSpace(cx: NodeContext, inverse: boolean): ValueShape {
  const x = cx.input(0);
  const b = intAttr(cx.node, 'blocksize', 1);
  if (!x?.shape || x.shape.length !== 4) return shapeOf(x?.dtype, null);
  const [n, c, h, w] = x.shape;
  return shapeOf(x.dtype, inverse ? [n, dimMul(c, b * b), dimDiv(h, b), dimDiv(w, b)] : [n, dimDiv(c, b * b), dimMul(h, b), dimMul(w, b)]);
}

function shape(cx: NodeContext): ValueShape {
  const x = cx.input(0)?.shape;
  if (!x) return shapeOf(INT64, [null]);
  const start = intAttr(cx.node, 'start', 0), end = intAttr(cx.node, 'end', x.length);
  const s = Math.max(0, Math.min(x.length, start < 0 ? start + x.length : start));
  const e = Math.max(0, Math.min(x.length, end < 0 ? end + x.length : end));
  const dims = x.slice(s, Math.max(s, e));
  return shapeOf(INT64, [dims.length], dims);
}

function constantOfShape(cx: NodeContext): ValueShape {
  const t = attr(cx.node, 'value')?.t;
  const dtype = t?.data_type ?? DataType.FLOAT;
  const target = cx.input(0)?.value;
  const n = cx.input(0)?.shape?.[0];
  const out = shapeOf(dtype, target ?? (isKnown(n ?? null) ? Array(n as number).fill(null) : null));
  if (target && target.every(isKnown) && t) {
    const count = (target as number[]).reduce((a, b) => a * b, 1);
    const fill = tensorValue(t);
    if (fill && fill.length === 1 && count <= MAX_VALUE_ELEMENTS) out.value = Array(count).fill(fill[0]);
  }
  return out;
}

function range(cx: NodeContext): ValueShape {
  const [start, limit, delta] = [0, 1, 2].map((i) => cx.numbers(i)?.[0]);
  const dtype = cx.input(0)?.dtype;
  if (start === undefined || limit === undefined || !delta) return shapeOf(dtype, [null]);
  const n = Math.max(0, Math.ceil((limit - start) / delta));
  return shapeOf(dtype, [n], n <= MAX_VALUE_ELEMENTS ? Array.from({ length: n }, (_, i) => start + i * delta) : undefined);
}

function constant(cx: NodeContext): ValueShape {
  const t = constantTensor(cx.node);
  if (t) return shapeOf(t.data_type, (t.dims ?? []).map(int64), tensorValue(t));
  const a = (cx.node.attribute ?? [])[0];
  switch (a?.name) {
    case 'value_float': return shapeOf(DataType.FLOAT, [], [a.f ?? 0]);
    case 'value_floats': return shapeOf(DataType.FLOAT, [a.floats?.length ?? 0], (a.floats?.length ?? 0) <= MAX_VALUE_ELEMENTS ? [...(a.floats ?? [])] : undefined);
    case 'value_int': return shapeOf(INT64, [], [int64(a.i)]);
    case 'value_ints': return shapeOf(INT64, [a.ints?.length ?? 0], (a.ints?.length ?? 0) <= MAX_VALUE_ELEMENTS ? (a.ints ?? []).map(int64) : undefined);
    case 'value_string': return shapeOf(DataType.STRING, []);
    case 'value_strings': return shapeOf(DataType.STRING, [a.strings?.length ?? 0]);
    case 'sparse_value': return shapeOf(a.sparse_tensor?.values?.data_type, (a.sparse_tensor?.dims ?? []).map(int64));
  }
  return shapeOf(undefined, null);
}

function topK(cx: NodeContext): ValueShape[] {
  const x = cx.input(0);
  const k = cx.opset >= 10 ? cx.numbers(1)?.[0] : intAttr(cx.node, 'k', -1);
  if (!x?.shape) return [shapeOf(x?.dtype, null), shapeOf(INT64, null)];
  const a = normalizeAxis(intAttr(cx.node, 'axis', -1), x.shape.length);
  const s = x.shape.map((d, i) => (i === a ? (k !== undefined && k >= 0 ? k : null) : d));
  return [shapeOf(x.dtype, s), shapeOf(INT64, s)];
}

function oneHot(cx: NodeContext): ValueShape {
  const idx = cx.input(0)?.shape;
  const depth = cx.numbers(1)?.[0];
  const dtype = cx.input(2)?.dtype;
  if (!idx) return shapeOf(dtype, null);
  const rank = idx.length + 1;
  const a = normalizeAxis(intAttr(cx.node, 'axis', -1), rank) ?? rank - 1;
  const out = [...idx];
  out.splice(a, 0, depth ?? null);
  return shapeOf(dtype, out);
}

function einsum(cx: NodeContext): ValueShape {
  const eq = attr(cx.node, 'equation')?.s;
  const dtype = cx.input(0)?.dtype;
  if (!eq) return shapeOf(dtype, null);
  const text = new TextDecoder().decode(eq).replace(/\s+/g, '');
  const [lhs, rhs] = text.split('->');
  const terms = lhs.split(',');
  if (text.includes('...')) return shapeOf(dtype, null);
  const sizes = new Map<string, Dim>();
  for (const [i, term] of terms.entries()) {
    const s = cx.input(i)?.shape;
    if (!s || s.length !== term.length) return shapeOf(dtype, null);
    [...term].forEach((l, j) => sizes.set(l, sizes.has(l) ? unifyDim(sizes.get(l)!, s[j]) : s[j]));
  }
  // Implicit output: the letters seen once, in alphabetical order.
  const out = rhs ?? [...sizes.keys()].filter((l) => terms.join('').split(l).length === 2).sort().join('');
  return shapeOf(dtype, [...out].map((l) => sizes.get(l) ?? null));
}

export const movementRules: Record<string, ShapeRule> = {
  Reshape: (cx) => [reshape(cx)],
  Flatten: (cx) => [flatten(cx)],
  Squeeze: (cx) => [squeeze(cx)],
  Unsqueeze: (cx) => [unsqueeze(cx)],
  Transpose: (cx) => [transpose(cx)],
  Concat: (cx) => [concat(cx)],
  Split: split,
  Slice: (cx) => [slice(cx)],
  Gather: (cx) => [gather(cx)],
  GatherElements: (cx) => [shapeOf(cx.input(0)?.dtype, cx.input(1)?.shape ?? null)],
  GatherND: (cx) => [gatherND(cx)],
  Expand: (cx) => [expand(cx)],
  Tile: (cx) => [tile(cx)],
  Pad: (cx) => [pad(cx)],
  Resize: (cx) => [resize(cx)],
  Upsample: (cx) => [resize(cx)],
  DepthToSpace: (cx) => [depthToSpace(cx, false)],
  SpaceToDepth: (cx) => [depthToSpace(cx, true)],
  Shape: (cx) => [shape(cx)],
  Size: (cx) => { const x = cx.input(0)?.shape; const n = x ? product(x) : null; return [shapeOf(INT64, [], n !== null ? [n] : undefined)]; },
  ConstantOfShape: (cx) => [constantOfShape(cx)],
  Range: (cx) => [range(cx)],
  Constant: (cx) => [constant(cx)],
  NonZero: (cx) => { const x = cx.input(0)?.shape; return [shapeOf(INT64, [x ? x.length : null, null])]; },
  TopK: topK,
  OneHot: (cx) => [oneHot(cx)],
  Compress: (cx) => {
    const x = cx.input(0);
    const a = attr(cx.node, 'axis') && x?.shape ? normalizeAxis(intAttr(cx.node, 'axis', 0), x.shape.length) : undefined;
    return [shapeOf(x?.dtype, a !== undefined && x?.shape ? x.shape.map((d, i) => (i === a ? null : d)) : [null])];
  },
  NonMaxSuppression: () => [shapeOf(INT64, [null, 3])],
  RoiAlign: (cx) => {
    const x = cx.input(0)?.shape, rois = cx.input(1)?.shape;
    return [shapeOf(cx.input(0)?.dtype, [rois?.[0] ?? null, x?.[1] ?? null, intAttr(cx.node, 'output_height', 1), intAttr(cx.node, 'output_width', 1)])];
  },
  GridSample: (cx) => {
    const x = cx.input(0)?.shape, g = cx.input(1)?.shape;
    return [shapeOf(cx.input(0)?.dtype, x && g && g.length === x.length ? [x[0], x[1], ...g.slice(1, -1)] : null)];
  },
  Einsum: (cx) => [einsum(cx)],
};

/** QLinearConcat(y_scale, y_zero_point, (x, x_scale, x_zero_point)...). */
export const microsoftMovementRules: Record<string, ShapeRule> = {
  QLinearConcat: (cx) => [concat(cx, 2, 3)],
};
