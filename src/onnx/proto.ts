// The ONNX protobuf schema as protobufjs types, and TypeScript shapes for the decoded messages.
// Decoding keeps `bytes` fields (raw_data) as zero-copy views into the file's buffer.
import * as protobuf from 'protobufjs/light';
import { onnxDescriptor } from './schema/descriptor';

const root = protobuf.Root.fromJSON(onnxDescriptor as unknown as protobuf.INamespace);
export const ModelProtoType = root.lookupType('onnx.ModelProto');
export const GraphProtoType = root.lookupType('onnx.GraphProto');
export const NodeProtoType = root.lookupType('onnx.NodeProto');
export const TensorProtoType = root.lookupType('onnx.TensorProto');
export const AttributeProtoType = root.lookupType('onnx.AttributeProto');

/** int64 fields decode as long.js objects (or plain numbers when we built them ourselves). */
export interface LongLike { low: number; high: number; unsigned?: boolean }
export type Int64 = number | LongLike;

/** Converts an int64 field to a number; NaN when it does not fit exactly in a double. */
export function int64(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  const high = v.unsigned ? v.high >>> 0 : v.high | 0;
  const n = high * 4294967296 + (v.low >>> 0);
  return Number.isSafeInteger(n) ? n : NaN;
}

/** An int64 field exactly (INT64_MAX in an old Slice's `ends` does not fit a double). */
export function int64Exact(v: Int64 | bigint | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  const n = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return v.unsigned ? n : BigInt.asIntN(64, n);
}

/** A bigint as the low/high pair protobufjs encodes int64 fields from. */
export function longLike(v: bigint): LongLike {
  const n = BigInt.asUintN(64, v);
  return { low: Number(n & 0xffffffffn) | 0, high: Number(n >> 32n) | 0, unsigned: false };
}

export interface StringStringEntry { key?: string; value?: string }

export interface TensorProto {
  dims?: Int64[];
  data_type?: number;
  segment?: { begin?: Int64; end?: Int64 } | null;
  float_data?: number[];
  int32_data?: number[];
  string_data?: Uint8Array[];
  int64_data?: Int64[];
  name?: string;
  doc_string?: string;
  raw_data?: Uint8Array;
  external_data?: StringStringEntry[];
  data_location?: number;
  double_data?: number[];
  uint64_data?: Int64[];
  metadata_props?: StringStringEntry[];
}

export interface SparseTensorProto { values?: TensorProto | null; indices?: TensorProto | null; dims?: Int64[] }

export interface DimensionProto { dim_value?: Int64; dim_param?: string; denotation?: string; value?: string }
export interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: { dim?: DimensionProto[] } | null } | null;
  sparse_tensor_type?: { elem_type?: number; shape?: { dim?: DimensionProto[] } | null } | null;
  sequence_type?: { elem_type?: TypeProto | null } | null;
  map_type?: { key_type?: number; value_type?: TypeProto | null } | null;
  optional_type?: { elem_type?: TypeProto | null } | null;
  opaque_type?: { domain?: string; name?: string } | null;
  value?: string;
}
export interface ValueInfoProto { name?: string; type?: TypeProto | null; doc_string?: string }

export interface AttributeProto {
  name?: string;
  ref_attr_name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto | null;
  g?: GraphProto | null;
  sparse_tensor?: SparseTensorProto | null;
  tp?: TypeProto | null;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  sparse_tensors?: SparseTensorProto[];
  type_protos?: TypeProto[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  overload?: string;
  attribute?: AttributeProto[];
  doc_string?: string;
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  sparse_initializer?: SparseTensorProto[];
  doc_string?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
  metadata_props?: StringStringEntry[];
}

export interface OperatorSetId { domain?: string; version?: Int64 }

export interface FunctionProto {
  name?: string;
  domain?: string;
  overload?: string;
  input?: string[];
  output?: string[];
  attribute?: string[];
  node?: NodeProto[];
  opset_import?: OperatorSetId[];
}

export interface ModelProto {
  ir_version?: Int64;
  opset_import?: OperatorSetId[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  doc_string?: string;
  graph?: GraphProto | null;
  metadata_props?: StringStringEntry[];
  functions?: FunctionProto[];
}

/** AttributeProto.AttributeType values used by the reader. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10, SPARSE_TENSOR: 11 } as const;

/** TensorProto.DataLocation.EXTERNAL */
export const EXTERNAL = 1;
