// Input feeds for onnxruntime: seeded random tensors shaped from a model's inputs, and tensors read
// from ONNX TensorProto `.pb` files (the test_data_set_N/input_M.pb layout of the ONNX test suites).
import * as fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { dtypeName } from '../onnx/dtype';
import { OnnxError } from '../onnx/errors';
import { float16Bits } from '../onnx/minifloat';
import { TensorProtoType, type TensorProto } from '../onnx/proto';
import type { ValueInfo } from '../onnx/report';
import { TensorRef } from '../onnx/tensor';
import { seededRandom } from './random';

export interface RandomFeedOptions {
  seed?: number;
  /** Sizes for symbolic or unknown dims, by dim name (`batch`) or by `input:axis` (`x:2`); default 1. */
  dims?: Record<string, number>;
  /** Fixed values for some inputs (e.g. a sample rate the model branches on). */
  values?: Record<string, ort.Tensor>;
  /** Range of random floats (default [-1, 1)). */
  range?: [number, number];
}

const ORT_TYPES: Record<string, ort.Tensor.Type> = {
  float: 'float32', double: 'float64', int8: 'int8', uint8: 'uint8', int16: 'int16', uint16: 'uint16',
  int32: 'int32', uint32: 'uint32', int64: 'int64', uint64: 'uint64', bool: 'bool', float16: 'float16',
};

export function randomFeeds(inputs: ValueInfo[], options: RandomFeedOptions = {}): Record<string, ort.Tensor> {
  const rand = seededRandom(options.seed ?? 1);
  const [lo, hi] = options.range ?? [-1, 1];
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) {
    const fixed = options.values?.[input.name];
    if (fixed) { feeds[input.name] = fixed; continue; }
    const type = ORT_TYPES[input.dtype];
    if (!type) throw new OnnxError('unsupported', `input "${input.name}" has type ${input.dtype}, which random inputs do not support; give it a value`);
    const shape = (input.shape ?? []).map((d, axis) =>
      typeof d === 'number' ? d : options.dims?.[`${input.name}:${axis}`] ?? (d !== null ? options.dims?.[d] : undefined) ?? 1);
    const n = shape.reduce((a, b) => a * b, 1);
    feeds[input.name] = new ort.Tensor(type, fill(type, n, () => lo + (hi - lo) * rand()), shape);
  }
  return feeds;
}

function fill(type: ort.Tensor.Type, n: number, next: () => number): ort.Tensor.DataType {
  switch (type) {
    case 'float32': return Float32Array.from({ length: n }, next);
    case 'float64': return Float64Array.from({ length: n }, next);
    case 'int64': return BigInt64Array.from({ length: n }, () => BigInt(Math.floor(next() * 10)));
    case 'uint64': return BigUint64Array.from({ length: n }, () => BigInt(Math.floor(Math.abs(next()) * 10)));
    case 'bool': return Uint8Array.from({ length: n }, () => (next() > 0 ? 1 : 0));
    case 'float16': return Uint16Array.from({ length: n }, () => float16Bits(next()));
    default: {
      const Ctor = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array }[type as 'int8'];
      return Ctor.from({ length: n }, () => Math.floor(Math.abs(next()) * 100));
    }
  }
}

/** Reads an ONNX TensorProto file (`input_0.pb`) as an onnxruntime tensor. */
export function readTensorFile(file: string): { name: string; tensor: ort.Tensor } {
  let proto: TensorProto;
  try { proto = TensorProtoType.decode(fs.readFileSync(file)) as unknown as TensorProto; } catch (e) {
    throw new OnnxError('not-onnx', `is not an ONNX TensorProto file (${(e as Error).message})`, file);
  }
  const ref = new TensorRef(proto, 'initializer', 'file');
  const type = ORT_TYPES[ref.dtypeName];
  if (!type) throw new OnnxError('unsupported', `holds a ${dtypeName(ref.dtype)} tensor, which is not supported as an input`, file);
  return { name: ref.name, tensor: new ort.Tensor(type, typedCopy(type, ref.readBytes()), ref.dims) };
}

function typedCopy(type: ort.Tensor.Type, b: Uint8Array): ort.Tensor.DataType {
  const copy = new Uint8Array(b).buffer; // fresh and aligned, unlike a view into the file
  switch (type) {
    case 'float32': return new Float32Array(copy);
    case 'float64': return new Float64Array(copy);
    case 'int8': return new Int8Array(copy);
    case 'uint8': case 'bool': return new Uint8Array(copy);
    case 'int16': return new Int16Array(copy);
    case 'uint16': case 'float16': return new Uint16Array(copy);
    case 'int32': return new Int32Array(copy);
    case 'uint32': return new Uint32Array(copy);
    case 'int64': return new BigInt64Array(copy);
    case 'uint64': return new BigUint64Array(copy);
    default: throw new OnnxError('unsupported', `tensor type ${type} is not supported`);
  }
}
