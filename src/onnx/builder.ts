// Small constructors for ONNX messages, for models made in code (tests, benchmarks, the quantizer's
// new nodes). They produce the same plain shapes the decoder gives, so the writer treats them alike.
import { DataType } from './dtype';
import { Model } from './model';
import { AttrType, longLike, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto';
import type { Dim } from '../protocol/inspect';

type AttrValue = number | bigint | string | number[] | bigint[] | string[] | TensorProto | GraphProto | { ints: (number | bigint)[] } | { floats: number[] };

/** A tensor with raw little-endian data (a typed array's bytes are used as they are). */
export function tensor(name: string, dataType: number, dims: number[], data: ArrayBufferView): TensorProto {
  return { name, data_type: dataType, dims, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorProto {
  return tensor(name, DataType.FLOAT, dims, Float32Array.from(values));
}

/** Values as bigint where they may pass 2^53 (an old Slice's INT64_MAX). */
export function int64Tensor(name: string, dims: number[], values: readonly (number | bigint)[]): TensorProto {
  return tensor(name, DataType.INT64, dims, BigInt64Array.from(values, (v) => BigInt(v)));
}

export function attribute(name: string, value: AttrValue): AttributeProto {
  if (typeof value === 'bigint') return { name, type: AttrType.INT, i: longLike(value) };
  if (typeof value === 'number') return Number.isInteger(value) ? { name, type: AttrType.INT, i: value } : { name, type: AttrType.FLOAT, f: value };
  if (typeof value === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) return { name, type: AttrType.STRINGS, strings: (value as string[]).map((v) => new TextEncoder().encode(v)) };
    if (value.some((v) => typeof v === 'bigint')) return { name, type: AttrType.INTS, ints: (value as (number | bigint)[]).map((v) => longLike(BigInt(v))) };
    return (value as number[]).every(Number.isInteger) ? { name, type: AttrType.INTS, ints: value as number[] } : { name, type: AttrType.FLOATS, floats: value as number[] };
  }
  if ('ints' in value) return { name, type: AttrType.INTS, ints: value.ints.map((v) => (typeof v === 'bigint' ? longLike(v) : v)) };
  if ('floats' in value) return { name, type: AttrType.FLOATS, floats: value.floats };
  if ('node' in value || 'output' in value) return { name, type: AttrType.GRAPH, g: value as GraphProto };
  return { name, type: AttrType.TENSOR, t: value as TensorProto };
}

export function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, name = '', domain = ''): NodeProto {
  return {
    op_type: opType, input: inputs, output: outputs, name, ...(domain ? { domain } : {}),
    attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
  };
}

export function valueInfo(name: string, elemType: number, shape: Dim[] | null): ValueInfoProto {
  const dim = (shape ?? []).map((d) => (typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {}));
  return { name, type: { tensor_type: { elem_type: elemType, ...(shape ? { shape: { dim } } : {}) } } };
}

export interface ModelSpec {
  graph: GraphProto;
  opset?: number;
  irVersion?: number;
  extraOpsets?: Record<string, number>;
  producer?: string;
}

export function makeModel(spec: ModelSpec): ModelProto {
  return {
    ir_version: spec.irVersion ?? 8,
    producer_name: spec.producer ?? 'onnx-quantization-studio',
    opset_import: [{ domain: '', version: spec.opset ?? 17 }, ...Object.entries(spec.extraOpsets ?? {}).map(([domain, version]) => ({ domain, version }))],
    graph: spec.graph,
  };
}

/** Wraps a ModelProto made in memory (no file, no external data) as a Model. */
export function modelFromProto(proto: ModelProto): Model {
  return new Model(proto, { fileBytes: 0 }, new Map());
}
