// Model -> file, atomically (temporary file in the target folder, then rename), streaming big tensors:
// each message is encoded without its large children, which follow as separately written pieces, so no
// buffer of the whole model is ever built. Tensors move to an external data file when asked, and always
// when the protobuf would pass the 2 GiB limit.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs/light';
import { rawByteLength } from './dtype';
import { OnnxError } from './errors';
import type { Model } from './model';
import {
  AttributeProtoType, EXTERNAL, GraphProtoType, int64, ModelProtoType, NodeProtoType, TensorProtoType,
  type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto,
} from './proto';
import { typedFieldBytes, type ExternalLocation } from './tensor';

/** The highest IR version the bundled onnxruntime (1.30 and 1.31) accepts. */
export const MAX_IR_VERSION = 13;
const PROTO_LIMIT = 2 ** 31 - 1;
/** onnx's own default: smaller tensors stay inline even in external-data mode. */
const DEFAULT_THRESHOLD = 1024;

export interface WriteOptions {
  /** Move tensors of at least `threshold` bytes into `location` (default `<file name>.data`). */
  externalData?: boolean | { location?: string; threshold?: number };
}

export interface WriteResult { file: string; bytes: number; externalData?: { file: string; bytes: number; tensors: number } }

/** An IR version to stamp on a model that needs features of `needed`, never above what onnxruntime loads. */
export function stampIrVersion(current: number, needed: number): number {
  return Math.min(Math.max(current, needed), MAX_IR_VERSION);
}

/** Bytes that are written later: a view, or a range of the source model's external data file. */
type Piece = Uint8Array | { ext: ExternalLocation; length: number };
interface Encoded { size: number; pieces: Piece[] }

interface DataSink { location: string; threshold: number; offset: number; pieces: { at: number; piece: Piece }[] }

class Encoder {
  constructor(private readonly externals: (t: TensorProto) => ExternalLocation | undefined, private readonly sink?: DataSink) {}

  model(m: ModelProto): Encoded {
    const { graph, ...rest } = m;
    const out = whole(ModelProtoType.encode(rest).finish());
    if (graph) field(out, 7, this.graph(graph));
    return out;
  }

  graph(g: GraphProto): Encoded {
    const { node, initializer, ...rest } = g;
    const out = whole(GraphProtoType.encode(rest).finish());
    for (const n of node ?? []) field(out, 1, this.node(n));
    for (const t of initializer ?? []) field(out, 5, this.tensor(t));
    return out;
  }

  node(n: NodeProto): Encoded {
    const { attribute, ...rest } = n;
    const out = whole(NodeProtoType.encode(rest).finish());
    for (const a of attribute ?? []) field(out, 5, this.attribute(a));
    return out;
  }

  attribute(a: AttributeProto): Encoded {
    const { t, g, tensors, graphs, ...rest } = a;
    const out = whole(AttributeProtoType.encode(rest).finish());
    if (t) field(out, 5, this.tensor(t));
    if (g) field(out, 6, this.graph(g));
    for (const x of tensors ?? []) field(out, 10, this.tensor(x));
    for (const x of graphs ?? []) field(out, 11, this.graph(x));
    return out;
  }

  tensor(t: TensorProto): Encoded {
    const source = this.externals(t);
    const raw = t.raw_data && t.raw_data.length > 0 ? t.raw_data : undefined;
    const count = (t.dims ?? []).map(int64).reduce((a, b) => a * b, 1);
    const bytes = source ? source.length : raw ? raw.length : rawByteLength(t.data_type ?? 0, count) ?? 0;
    const typed = !source && !raw && bytes > 0 && t.data_type !== 8;
    if (this.sink && bytes >= this.sink.threshold && (source || raw || typed)) {
      const data: Piece = source ? { ext: source, length: source.length } : raw ?? typedFieldBytes(t, t.data_type ?? 0, count);
      const at = align(this.sink.offset, bytes >= 1 << 20 ? 4096 : 64);
      this.sink.pieces.push({ at, piece: data });
      this.sink.offset = at + bytes;
      const { raw_data: _r, float_data: _f, int32_data: _i, int64_data: _l, double_data: _d, uint64_data: _u, ...keep } = t;
      return whole(TensorProtoType.encode({
        ...keep, data_location: EXTERNAL,
        external_data: [{ key: 'location', value: this.sink.location }, { key: 'offset', value: String(at) }, { key: 'length', value: String(bytes) }],
      }).finish());
    }
    if (source) {
      const { external_data: _e, data_location: _l, ...keep } = t;
      const out = whole(TensorProtoType.encode(keep).finish());
      field(out, 9, { size: source.length, pieces: [{ ext: source, length: source.length }] });
      return out;
    }
    if (!raw) return whole(TensorProtoType.encode(t).finish());
    const { raw_data: _r, ...keep } = t;
    const out = whole(TensorProtoType.encode(keep).finish());
    field(out, 9, { size: raw.length, pieces: [raw] });
    return out;
  }
}

function whole(bytes: Uint8Array): Encoded {
  return { size: bytes.length, pieces: bytes.length ? [bytes] : [] };
}

/** Appends `child` to `parent` as a length-delimited field. */
function field(parent: Encoded, id: number, child: Encoded): void {
  const header = protobuf.Writer.create().uint32((id << 3) | 2).uint32(child.size).finish();
  // One by one: a graph of tens of thousands of nodes has more pieces than a call takes arguments.
  parent.pieces.push(header);
  for (const piece of child.pieces) parent.pieces.push(piece);
  parent.size += header.length + child.size;
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** Writes a model to `file`. The target must not be the model's own source file. */
export function writeModel(model: Model, file: string, options: WriteOptions = {}): WriteResult {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  if (model.source.file && sameFile(model.source.file, target)) {
    throw new OnnxError('write-failed', 'refusing to overwrite the source model; choose another output path', target);
  }
  const externals = (t: TensorProto) => model.externalOf(t);
  const forced = options.externalData;
  const makeSink = (): DataSink => ({
    location: (typeof forced === 'object' && forced.location) || `${path.basename(target)}.data`,
    threshold: (typeof forced === 'object' && forced.threshold) || DEFAULT_THRESHOLD, offset: 0, pieces: [],
  });
  let sink = forced ? makeSink() : undefined;
  let encoded = new Encoder(externals, sink).model(model.proto);
  if (!sink && encoded.size > PROTO_LIMIT) {
    sink = makeSink();
    encoded = new Encoder(externals, sink).model(model.proto);
  }
  if (encoded.size > PROTO_LIMIT) {
    throw new OnnxError('too-large', `the model's structure alone is ${encoded.size} bytes, over protobuf's 2 GiB limit`, target);
  }
  let dataFile: string | undefined;
  if (sink) {
    const rel = path.relative(dir, path.resolve(dir, sink.location));
    if (path.isAbsolute(sink.location) || rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new OnnxError('unsafe-path', `external data location "${sink.location}" must be a file name in the model's folder`, target);
    }
    dataFile = path.resolve(dir, sink.location);
    for (const w of model.weights()) {
      if (w.external && sameFile(w.external.path, dataFile)) {
        throw new OnnxError('write-failed', `would overwrite "${sink.location}", which the source model reads its weights from; choose another output name`, target);
      }
    }
  }

  const tmpModel = tempName(target);
  const tmpData = dataFile ? tempName(dataFile) : undefined;
  try {
    if (sink && tmpData) writePieces(tmpData, sink.pieces);
    writePieces(tmpModel, sequential(encoded.pieces));
    if (tmpData && dataFile) fs.renameSync(tmpData, dataFile);
    fs.renameSync(tmpModel, target);
  } catch (e) {
    for (const f of [tmpModel, tmpData]) if (f) fs.rmSync(f, { force: true });
    if (e instanceof OnnxError) throw e;
    throw new OnnxError('write-failed', `could not write the model: ${(e as Error).message}`, target);
  }
  return {
    file: target, bytes: encoded.size,
    ...(sink && dataFile ? { externalData: { file: dataFile, bytes: sink.offset, tensors: sink.pieces.length } } : {}),
  };
}

function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try { return fs.realpathSync(a) === fs.realpathSync(b); } catch { return false; }
}

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

function sequential(pieces: Piece[]): { at: number; piece: Piece }[] {
  let at = 0;
  return pieces.map((piece) => { const p = { at, piece }; at += piece instanceof Uint8Array ? piece.length : piece.length; return p; });
}

/** Writes pieces at their offsets, gathering small ones into one buffer to keep system calls few. */
function writePieces(file: string, pieces: { at: number; piece: Piece }[]): void {
  const fd = fs.openSync(file, 'w');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let used = 0, bufferAt = 0;
    const flush = () => { if (used) writeAll(fd, buffer.subarray(0, used), bufferAt); used = 0; };
    for (const { at, piece } of pieces) {
      if (piece instanceof Uint8Array && piece.length <= 64 * 1024) {
        if (used && bufferAt + used !== at) flush();
        if (used + piece.length > buffer.length) flush();
        if (!used) bufferAt = at;
        buffer.set(piece, used); used += piece.length;
        continue;
      }
      flush();
      if (piece instanceof Uint8Array) writeAll(fd, piece, at);
      else copyRange(piece.ext, fd, at);
    }
    flush();
    fs.fsyncSync(fd);
  } finally { fs.closeSync(fd); }
}

function writeAll(fd: number, bytes: Uint8Array, at: number): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, at + done);
}

/** Copies an external tensor's bytes from the source data file, 16 MiB at a time. */
function copyRange(ext: ExternalLocation, fd: number, at: number): void {
  const src = fs.openSync(ext.path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(Math.min(ext.length, 16 << 20));
    for (let done = 0; done < ext.length;) {
      const n = fs.readSync(src, chunk, 0, Math.min(chunk.length, ext.length - done), ext.offset + done);
      if (n === 0) throw new OnnxError('external-data', `external data file "${ext.location}" ended early while copying`);
      writeAll(fd, chunk.subarray(0, n), at + done);
      done += n;
    }
  } finally { fs.closeSync(src); }
}
