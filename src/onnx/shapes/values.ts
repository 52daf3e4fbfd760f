// The contents of small constant tensors, which shape computations read (Reshape's shape, Slice's bounds).
import { DataType } from '../dtype';
import { TensorRef, type ExternalLocation } from '../tensor';
import { int64, type TensorProto } from '../proto';
import type { Dim } from './dims';
import { MAX_VALUE_ELEMENTS } from './rules/common';

const READABLE = new Set<number>([DataType.INT64, DataType.INT32, DataType.INT16, DataType.INT8, DataType.UINT8, DataType.UINT16,
  DataType.UINT32, DataType.UINT64, DataType.FLOAT, DataType.DOUBLE, DataType.BOOL]);

/** Whether a tensor is small and numeric: contents shape rules may read. */
export function smallEnough(t: TensorProto): boolean {
  let elements = 1;
  for (const d of t.dims ?? []) elements *= int64(d);
  return elements <= MAX_VALUE_ELEMENTS && READABLE.has(t.data_type ?? 0);
}

/** A small numeric tensor's values; undefined for large, string or unreadable ones. */
export function tensorValue(t: TensorProto, external?: ExternalLocation): Dim[] | undefined {
  if (!smallEnough(t)) return undefined;
  try {
    return Array.from(new TensorRef(t, 'initializer', '', external).values());
  } catch {
    return undefined; // unreadable data is the loader's to report, not shape inference's
  }
}

// The data-movement ops on such contents (row-major, `dims` all numbers), for shapes a graph computes in
// more than one dimension (PyTorch's pad export: Concat -> Reshape [-1, 2] -> Slice(step -1) -> Transpose).

/** Row-major strides of `dims` (elements to step over per index of each axis). */
export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** Every index of `dims`, row-major, as the flat offsets of `from` (a source with its own strides). */
function gatherOffsets(dims: readonly number[], offset: (index: number[]) => number): number[] {
  const n = dims.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  const index = new Array<number>(dims.length).fill(0);
  for (let k = 0; k < n; k++) {
    out.push(offset(index));
    for (let i = dims.length - 1; i >= 0; i--) { if (++index[i] < dims[i]) break; index[i] = 0; }
  }
  return out;
}

export function transposeValue(value: Dim[], dims: number[], perm: number[]): Dim[] {
  const s = strides(dims);
  const outDims = perm.map((p) => dims[p]);
  return gatherOffsets(outDims, (idx) => idx.reduce((a, v, i) => a + v * s[perm[i]], 0)).map((o) => value[o]);
}

/** `value[..., start + k * step, ...]` along each axis; `ranges` per axis of `dims` ([0, dim, 1] where not sliced). */
export function sliceValue(value: Dim[], dims: number[], ranges: { start: number; count: number; step: number }[]): Dim[] {
  const s = strides(dims);
  return gatherOffsets(ranges.map((r) => r.count), (idx) => idx.reduce((a, v, i) => a + (ranges[i].start + v * ranges[i].step) * s[i], 0)).map((o) => value[o]);
}

export function concatValue(values: Dim[][], dims: number[][], axis: number): Dim[] {
  const outer = dims[0].slice(0, axis).reduce((a, b) => a * b, 1);
  const out: Dim[] = [];
  for (let o = 0; o < outer; o++) {
    values.forEach((v, i) => {
      const inner = dims[i].slice(axis).reduce((a, b) => a * b, 1);
      out.push(...v.slice(o * inner, (o + 1) * inner));
    });
  }
  return out;
}

export function gatherValue(value: Dim[], dims: number[], axis: number, indices: number[]): Dim[] {
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1), inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out: Dim[] = [];
  for (let o = 0; o < outer; o++) {
    for (const i0 of indices) {
      const i = i0 < 0 ? i0 + dims[axis] : i0;
      const at = (o * dims[axis] + i) * inner;
      out.push(...value.slice(at, at + inner));
    }
  }
  return out;
}
