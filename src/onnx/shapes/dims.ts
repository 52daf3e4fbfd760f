// Dimension arithmetic for shape inference. A dim is a number, the name of a symbolic dim (`batch`), or
// null where it cannot be told. Names are carried where the result is the same dim (x * 1, a broadcast
// of `batch` with 1); anything else computed from a name is null, as ONNX's reference inference leaves it.
import type { Dim } from '../../protocol/inspect';

export type { Dim };

export const isKnown = (d: Dim): d is number => typeof d === 'number';

export function dimMul(a: Dim, b: Dim): Dim {
  if (isKnown(a) && isKnown(b)) return a * b;
  if (a === 1) return b;
  if (b === 1) return a;
  if (a === 0 || b === 0) return 0;
  return null;
}

export function dimAdd(a: Dim, b: Dim): Dim {
  if (isKnown(a) && isKnown(b)) return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  return null;
}

export function dimSub(a: Dim, b: Dim): Dim {
  if (isKnown(a) && isKnown(b)) return a - b;
  if (b === 0) return a;
  return null;
}

/** Integer division as ONNX Div does on int64 (truncating); a name divided by 1 stays the name. */
export function dimDiv(a: Dim, b: Dim): Dim {
  if (isKnown(a) && isKnown(b)) return b === 0 ? null : Math.trunc(a / b);
  if (b === 1) return a;
  return null;
}

export function product(dims: readonly Dim[]): Dim {
  return dims.reduce<Dim>((p, d) => dimMul(p, d), 1);
}

/** The same dim seen in two places (an If's branches, a Concat's other axes): kept when they agree. */
export function unifyDim(a: Dim, b: Dim): Dim {
  if (a === b) return a;
  if (a === null) return b;
  if (b === null) return a;
  // A number beats a name for the same dim (the name was a placeholder the other side resolved).
  if (isKnown(a) && !isKnown(b)) return a;
  if (isKnown(b) && !isKnown(a)) return b;
  return null;
}

/** Two shapes of one value (a declared one and an inferred one; two branches): dim by dim where ranks agree. */
export function unifyShapes(a: Dim[] | null, b: Dim[] | null, conflict: 'first' | 'unknown' = 'unknown'): Dim[] | null {
  if (!a) return b;
  if (!b) return a;
  if (a.length !== b.length) return conflict === 'first' ? a : null;
  return a.map((d, i) => (conflict === 'first' && d !== null ? d : unifyDim(d, b[i])));
}

/** Multidirectional (numpy) broadcasting; null when a shape is unknown or the dims cannot broadcast. */
export function broadcast(shapes: readonly (Dim[] | null | undefined)[]): Dim[] | null {
  if (shapes.some((s) => !s)) return null;
  const list = shapes as Dim[][];
  const rank = Math.max(0, ...list.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = list.map((s) => s[s.length - rank + i]).filter((d) => d !== undefined && d !== 1) as Dim[];
    if (!dims.length) { out.push(1); continue; }
    const numbers = dims.filter(isKnown);
    if (numbers.length) {
      if (numbers.some((n) => n !== numbers[0])) return null;
      out.push(numbers[0]);
      continue;
    }
    // Names only: one name for all, else unknown (each may be 1 at run time).
    out.push(dims.every((d) => d !== null && d === dims[0]) ? dims[0] : null);
  }
  return out;
}

/** A negative axis counted from the end; undefined when outside the rank. */
export function normalizeAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : undefined;
}
