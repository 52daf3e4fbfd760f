// Lazy tensor handles. A TensorRef knows where a tensor's bytes are (raw_data view, a typed field, or
// an external file) and its dtype and shape; bytes are read only when asked, in bounded chunks, so a
// tensor larger than memory or than 2 GiB can still be scanned.
import * as fs from 'node:fs';
import { DataType, dtypeBits, dtypeName, isNumeric, rawByteLength } from './dtype';
import { OnnxError } from './errors';
import { floatTable } from './minifloat';
import { EXTERNAL, int64, type Int64, type TensorProto } from './proto';

export type TensorOrigin = 'initializer' | 'constant' | 'sparse-initializer';

/** Where an external tensor's bytes are: an absolute path already checked to stay in the model's folder. */
export interface ExternalLocation { location: string; path: string; offset: number; length: number }

export class TensorRef {
  readonly name: string;
  readonly dtype: number;
  readonly dims: number[];
  readonly elements: number;
  /** Bytes the data takes in little-endian raw form. */
  readonly byteLength: number;
  private typedBytes?: Uint8Array;

  constructor(readonly proto: TensorProto, readonly origin: TensorOrigin, readonly graph: string,
    readonly external?: ExternalLocation, name?: string) {
    this.name = name ?? proto.name ?? '';
    this.dtype = proto.data_type ?? 0;
    this.dims = (proto.dims ?? []).map(int64);
    this.elements = this.dims.reduce((a, b) => a * b, 1);
    this.byteLength = external ? external.length : rawByteLength(this.dtype, this.elements) ?? 0;
  }

  get dtypeName(): string { return dtypeName(this.dtype); }
  get numeric(): boolean { return isNumeric(this.dtype); }

  /** `length` bytes of the raw little-endian data starting at `offset` (a view where possible). */
  readBytes(offset = 0, length = this.byteLength - offset): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.byteLength) {
      throw new OnnxError('invalid-tensor', `read of bytes ${offset}..${offset + length} is outside tensor "${this.name}" (${this.byteLength} bytes)`);
    }
    if (this.external) return readExternal(this.external, offset, length);
    const raw = this.proto.raw_data;
    if (raw && raw.length > 0) return raw.subarray(offset, offset + length);
    // Typed fields are converted once: chunked reads would otherwise convert the whole tensor per chunk.
    this.typedBytes ??= typedFieldBytes(this.proto, this.dtype, this.elements);
    return this.typedBytes.subarray(offset, offset + length);
  }

  /**
   * The values as numbers, in chunks of at most `chunkElements`: Float64Array for types a float32 cannot
   * hold exactly (double, 32- and 64-bit integers), Float32Array otherwise. Chunks may be views into a
   * buffer reused by the next chunk: copy what you keep.
   */
  *chunks(chunkElements = 1 << 20): Generator<Float32Array | Float64Array> {
    if (!this.numeric) throw new OnnxError('unsupported', `tensor "${this.name}" of type ${this.dtypeName} has no numeric values`);
    const bits = dtypeBits(this.dtype)!;
    const perByte = bits < 8 ? 8 / bits : 1;
    const step = Math.max(perByte, Math.floor(chunkElements / perByte) * perByte);
    const size = Math.min(step, this.elements);
    let scratch: Float32Array | Float64Array | undefined; // only allocated when a chunk needs decoding
    const target = (n: number) => (scratch ??= isWide(this.dtype) ? new Float64Array(size) : new Float32Array(size)).subarray(0, n);
    for (let start = 0; start < this.elements; start += step) {
      const n = Math.min(step, this.elements - start);
      const bytes = this.readBytes(Math.floor((start * bits) / 8), Math.ceil((n * bits) / 8));
      yield decodeInto(this.dtype, bytes, n, target);
    }
  }

  /** All values at once (for tensors small enough to hold; scans of big ones should use chunks()). */
  values(): Float32Array | Float64Array {
    const out = isWide(this.dtype) ? new Float64Array(this.elements) : new Float32Array(this.elements);
    let at = 0;
    for (const chunk of this.chunks()) { out.set(chunk, at); at += chunk.length; }
    return out;
  }
}

function isWide(dtype: number): boolean {
  return dtype === DataType.DOUBLE || dtype === DataType.INT64 || dtype === DataType.UINT64
    || dtype === DataType.INT32 || dtype === DataType.UINT32;
}

function readExternal(ext: ExternalLocation, offset: number, length: number): Uint8Array {
  const out = Buffer.allocUnsafe(length);
  let fd: number;
  try { fd = fs.openSync(ext.path, 'r'); } catch (e) {
    throw new OnnxError('external-data', `cannot open external data file "${ext.location}": ${(e as Error).message}`);
  }
  try {
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, out, done, length - done, ext.offset + offset + done);
      if (n === 0) throw new OnnxError('external-data', `external data file "${ext.location}" ends before byte ${ext.offset + offset + length}`);
      done += n;
    }
  } finally { fs.closeSync(fd); }
  return out;
}

/** The raw little-endian bytes of a tensor stored in a typed field (float_data, int32_data, ...). */
export function typedFieldBytes(t: TensorProto, dtype: number, elements: number): Uint8Array {
  const bytes = rawByteLength(dtype, elements);
  if (bytes === undefined) throw new OnnxError('unsupported', `tensor "${t.name ?? ''}" of type ${dtypeName(dtype)} has no raw form`);
  const out = Buffer.alloc(bytes);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const bits = dtypeBits(dtype)!;
  if (t.float_data?.length) t.float_data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else if (t.double_data?.length) t.double_data.forEach((v, i) => view.setFloat64(i * 8, v, true));
  else if (t.int64_data?.length || t.uint64_data?.length) {
    (t.int64_data?.length ? t.int64_data : t.uint64_data!).forEach((v: Int64, i) => {
      const low = typeof v === 'number' ? v % 4294967296 : v.low;
      const high = typeof v === 'number' ? Math.floor(v / 4294967296) : v.high;
      view.setUint32(i * 8, low >>> 0, true);
      view.setUint32(i * 8 + 4, high >>> 0, true);
    });
  } else if (t.int32_data?.length) {
    if (bits >= 8) {
      const size = bits / 8;
      t.int32_data.forEach((v, i) => {
        if (size === 1) view.setUint8(i, v & 0xff);
        else if (size === 2) view.setUint16(i * 2, v & 0xffff, true);
        else view.setInt32(i * 4, v, true);
      });
    } else {
      // 4- and 2-bit types: each int32 holds one already packed byte.
      t.int32_data.forEach((v, i) => { if (i < out.length) out[i] = v & 0xff; });
    }
  }
  return out;
}

/** Decodes `n` elements of raw little-endian `bytes` into `out` (or returns a view when no decode is needed). */
function decodeInto(dtype: number, bytes: Uint8Array, n: number, target: (n: number) => Float32Array | Float64Array): Float32Array | Float64Array {
  const aligned = (size: number) => bytes.byteOffset % size === 0;
  if (dtype === DataType.FLOAT && aligned(4)) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
  if (dtype === DataType.DOUBLE && aligned(8)) return new Float64Array(bytes.buffer, bytes.byteOffset, n);
  const out = target(n);
  switch (dtype) {
    case DataType.FLOAT: case DataType.DOUBLE:
      new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
      return out;
    case DataType.UINT8: case DataType.BOOL: out.set(bytes.subarray(0, n)); return out;
    case DataType.INT8: out.set(new Int8Array(bytes.buffer, bytes.byteOffset, n)); return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case DataType.UINT16: for (let i = 0; i < n; i++) out[i] = view.getUint16(i * 2, true); return out;
    case DataType.INT16: for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true); return out;
    case DataType.INT32: for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true); return out;
    case DataType.UINT32: for (let i = 0; i < n; i++) out[i] = view.getUint32(i * 4, true); return out;
    case DataType.INT64:
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 8 + 4, true) * 4294967296 + view.getUint32(i * 8, true);
      return out;
    case DataType.UINT64:
      for (let i = 0; i < n; i++) out[i] = view.getUint32(i * 8 + 4, true) * 4294967296 + view.getUint32(i * 8, true);
      return out;
    case DataType.BFLOAT16: {
      const word = new Uint32Array(1); const f = new Float32Array(word.buffer);
      for (let i = 0; i < n; i++) { word[0] = view.getUint16(i * 2, true) << 16; out[i] = f[0]; }
      return out;
    }
    case DataType.FLOAT16: {
      const t = floatTable(dtype)!;
      for (let i = 0; i < n; i++) out[i] = t[view.getUint16(i * 2, true)];
      return out;
    }
    case DataType.UINT4: for (let i = 0; i < n; i++) out[i] = (bytes[i >> 1] >> ((i & 1) * 4)) & 15; return out;
    case DataType.INT4: for (let i = 0; i < n; i++) out[i] = ((bytes[i >> 1] >> ((i & 1) * 4)) << 28) >> 28; return out;
    case DataType.UINT2: for (let i = 0; i < n; i++) out[i] = (bytes[i >> 2] >> ((i & 3) * 2)) & 3; return out;
    case DataType.INT2: for (let i = 0; i < n; i++) out[i] = ((bytes[i >> 2] >> ((i & 3) * 2)) << 30) >> 30; return out;
    case DataType.FLOAT4E2M1: {
      const t = floatTable(dtype)!;
      for (let i = 0; i < n; i++) out[i] = t[(bytes[i >> 1] >> ((i & 1) * 4)) & 15];
      return out;
    }
  }
  const t = floatTable(dtype);
  if (t) { for (let i = 0; i < n; i++) out[i] = t[bytes[i]]; return out; } // the float8 family
  throw new OnnxError('unsupported', `cannot decode tensors of type ${dtypeName(dtype)}`);
}

/** Data location of a tensor proto, for validation and writing. */
export function isExternal(t: TensorProto): boolean {
  return t.data_location === EXTERNAL;
}
