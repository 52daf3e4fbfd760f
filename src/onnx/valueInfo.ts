// A ValueInfoProto as plain JSON: name, dtype name, dims (a number, a symbolic name, or null).
import { dtypeName } from './dtype';
import type { DimensionProto, TypeProto, ValueInfoProto } from './proto';
import { int64 } from './proto';
import type { Dim, ValueInfo } from '../protocol/inspect';

export function valueInfo(v: ValueInfoProto): ValueInfo {
  const { dtype, shape } = describeType(v.type ?? undefined);
  return { name: v.name ?? '', dtype, shape };
}

function describeType(t: TypeProto | undefined): { dtype: string; shape: Dim[] | null } {
  const tensor = t?.tensor_type ?? t?.sparse_tensor_type;
  if (tensor) {
    const shape = tensor.shape ? (tensor.shape.dim ?? []).map(dim) : null;
    return { dtype: dtypeName(tensor.elem_type ?? 0), shape };
  }
  if (t?.sequence_type) return { dtype: 'sequence', shape: null };
  if (t?.map_type) return { dtype: 'map', shape: null };
  if (t?.optional_type) return { dtype: 'optional', shape: null };
  return { dtype: 'unknown', shape: null };
}

function dim(d: DimensionProto): Dim {
  if (d.dim_param) return d.dim_param;
  // dim_value is in a oneof: the decoder sets it as an own property only when present.
  return Object.prototype.hasOwnProperty.call(d, 'dim_value') ? int64(d.dim_value) : null;
}
