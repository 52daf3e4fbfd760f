// Helpers the op rules share.
import { DataType } from '../../dtype';
import type { Dim } from '../dims';
import type { NodeContext, ValueShape } from '../types';

/** Values whose contents shape inference keeps (a shape being computed is a handful of int64s). */
export const MAX_VALUE_ELEMENTS = 64;

export const shapeOf = (dtype: number | undefined, shape: Dim[] | null, value?: Dim[]): ValueShape => (value ? { dtype, shape, value } : { dtype, shape });

/** Input `i`'s facts as the output's (unary ops). */
export function sameAs(cx: NodeContext, i = 0, dtype?: number): ValueShape {
  const x = cx.input(i);
  return { dtype: dtype ?? x?.dtype, shape: x?.shape ?? null };
}

/** A 1-D value's known entries, or undefined. */
export function valueOf(cx: NodeContext, i: number): Dim[] | undefined {
  return cx.input(i)?.value;
}

/** The dtype of a TensorProto type attribute (`to`, `dtype`), or the fallback. */
export const INT64 = DataType.INT64;
export const BOOL = DataType.BOOL;
export const FLOAT = DataType.FLOAT;
