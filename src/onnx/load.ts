// Bytes (and external data files) -> Model. Decoding is zero-copy for tensor bytes; every tensor is then
// checked against its dims so that later reads cannot run past the data or allocate absurd amounts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dtypeBits, dtypeName, rawByteLength } from './dtype';
import { OnnxError } from './errors';
import { attributeTensors, Model } from './model';
import { EXTERNAL, int64, ModelProtoType, type ModelProto, type NodeProto, type TensorProto } from './proto';
import type { ExternalLocation } from './tensor';

/** protobuf messages cannot exceed 2 GiB; bigger models keep their weights in external data files. */
const MAX_PROTO_BYTES = 2 ** 31 - 1;

export interface LoadOptions {
  /** Folder external data locations are relative to (default: the model file's folder). */
  baseDir?: string;
  /** Name used in error messages (default: the file path). */
  label?: string;
}

/** Reads and decodes an .onnx file. External tensors are located and checked, not read. */
export function loadModel(file: string, options: LoadOptions = {}): Model {
  const abs = path.resolve(file);
  const label = options.label ?? file;
  let stat: fs.Stats;
  try { stat = fs.statSync(abs); } catch {
    throw new OnnxError('not-found', 'file not found; check the path', label);
  }
  if (stat.isDirectory()) throw new OnnxError('not-onnx', 'is a folder, not an .onnx file', label);
  if (stat.size > MAX_PROTO_BYTES) {
    throw new OnnxError('too-large', `is ${stat.size} bytes; an ONNX protobuf file cannot exceed 2 GiB (large models keep weights in external data files)`, label);
  }
  const bytes = fs.readFileSync(abs);
  return parseModel(bytes, { baseDir: options.baseDir ?? path.dirname(abs), label, file: abs });
}

/** Async variant for callers that must not block (the file read is the only slow part). */
export async function loadModelAsync(file: string, options: LoadOptions = {}): Promise<Model> {
  const abs = path.resolve(file);
  const label = options.label ?? file;
  const stat = await fs.promises.stat(abs).catch(() => { throw new OnnxError('not-found', 'file not found; check the path', label); });
  if (stat.size > MAX_PROTO_BYTES) throw new OnnxError('too-large', `is ${stat.size} bytes; an ONNX protobuf file cannot exceed 2 GiB`, label);
  const bytes = await fs.promises.readFile(abs);
  return parseModel(bytes, { baseDir: options.baseDir ?? path.dirname(abs), label, file: abs });
}

export function parseModel(bytes: Uint8Array, options: LoadOptions & { file?: string } = {}): Model {
  const label = options.label ?? options.file ?? '<bytes>';
  if (bytes.length === 0) throw new OnnxError('empty-file', 'the file is empty (0 bytes), not an ONNX model', label);
  let proto: ModelProto;
  try {
    proto = ModelProtoType.decode(bytes) as unknown as ModelProto;
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (e instanceof RangeError && /call stack/i.test(msg)) {
      throw new OnnxError('not-onnx', 'is not a valid ONNX model: messages are nested too deeply', label);
    }
    if (/index out of range/.test(msg)) {
      throw new OnnxError('truncated', `is truncated or corrupt: a field runs past the end of the file (${msg}); re-export or re-download the model`, label);
    }
    throw new OnnxError('not-onnx', `is not an ONNX model (protobuf decoding failed: ${msg})`, label);
  }
  if (!proto.graph || int64(proto.ir_version) <= 0) {
    throw new OnnxError('not-onnx', `is not an ONNX model: it has no ${proto.graph ? 'ir_version' : 'graph'}`, label);
  }
  const externals = new Map<TensorProto, ExternalLocation>();
  const baseDir = options.baseDir ?? (options.file ? path.dirname(options.file) : undefined);
  const model = new Model(proto, { file: options.file, baseDir, fileBytes: bytes.length }, externals);
  forEachTensor(model, (t, where) => {
    checkTensor(t, where, label);
    if (t.data_location === EXTERNAL) externals.set(t, resolveExternal(t, where(), baseDir, label));
  });
  return model;
}

/** Visits every TensorProto of the model: initializers, sparse ones and attribute tensors, in every
 *  graph and function. `where` describes the place, built only when a message needs it. */
function forEachTensor(model: Model, visit: (t: TensorProto, where: () => string) => void): void {
  const nodeLists: { nodes: NodeProto[]; path: string }[] = [];
  for (const { graph, path: p } of model.graphs()) {
    const where = () => p;
    for (const t of graph.initializer ?? []) visit(t, where);
    for (const s of graph.sparse_initializer ?? []) { if (s.values) visit(s.values, where); if (s.indices) visit(s.indices, where); }
    nodeLists.push({ nodes: graph.node ?? [], path: p });
  }
  for (const f of model.proto.functions ?? []) nodeLists.push({ nodes: f.node ?? [], path: `function ${f.domain ?? ''}.${f.name ?? ''}` });
  for (const { nodes, path: p } of nodeLists) for (const node of nodes) for (const a of node.attribute ?? []) {
    if (!a.t && !a.tensors?.length && !a.sparse_tensor && !a.sparse_tensors?.length) continue;
    const where = () => `${p}, node "${node.name || node.op_type}" attribute "${a.name}"`;
    for (const t of attributeTensors(a)) visit(t, where);
  }
}

function tensorLabel(t: TensorProto, where: string): string {
  return `tensor "${t.name ?? ''}" (${where})`;
}

/** Dims must be non-negative exact integers and the data present must match them exactly. */
function checkTensor(t: TensorProto, where: () => string, label: string): void {
  const bad = (msg: string) => new OnnxError('invalid-tensor', `${tensorLabel(t, where())} ${msg}`, label);
  const type = t.data_type ?? 0;
  let count = 1;
  for (const d of t.dims ?? []) {
    const n = int64(d);
    if (!Number.isSafeInteger(n) || n < 0) throw bad(`has an invalid dimension ${Number.isNaN(n) ? '(too large)' : n}; dims must be non-negative`);
    count *= n;
  }
  if (!Number.isSafeInteger(count)) throw bad(`has dims [${(t.dims ?? []).map(int64).join(', ')}] whose element count overflows`);
  if (type === 0) { if (count > 0) throw bad('has no data type (UNDEFINED)'); return; }
  if (t.data_location === EXTERNAL) return; // checked against the data file by resolveExternal
  const raw = t.raw_data;
  if (raw && raw.length > 0) {
    const want = rawByteLength(type, count);
    if (want === undefined) throw bad(`has raw_data but type ${dtypeName(type)} cannot be stored raw`);
    if (raw.length !== want) {
      throw bad(`has ${raw.length} bytes of raw_data but its dims [${(t.dims ?? []).map(int64).join(', ')}] of ${dtypeName(type)} need ${want}; the model is corrupt`);
    }
    return;
  }
  const bits = dtypeBits(type) ?? 0;
  const fields: [string, number | undefined, number][] = [
    ['float_data', t.float_data?.length, type === 14 ? 2 * count : count],
    ['double_data', t.double_data?.length, type === 15 ? 2 * count : count],
    ['int32_data', t.int32_data?.length, bits >= 8 ? count : Math.ceil((count * bits) / 8)],
    ['int64_data', t.int64_data?.length, count],
    ['uint64_data', t.uint64_data?.length, count],
    ['string_data', t.string_data?.length, count],
  ];
  const present = fields.filter(([, len]) => len);
  if (present.length === 0) {
    if (count > 0) throw bad(`has dims [${(t.dims ?? []).map(int64).join(', ')}] but no data`);
    return;
  }
  for (const [field, len, want] of present) {
    if (len !== want) throw bad(`has ${len} values in ${field} but its dims need ${want}; the model is corrupt`);
  }
}

/** Locates an external tensor's file, refusing locations that leave the model's folder (symlinks included). */
function resolveExternal(t: TensorProto, where: string, baseDir: string | undefined, label: string): ExternalLocation {
  const fail = (code: 'external-data' | 'unsafe-path', msg: string) => new OnnxError(code, `${tensorLabel(t, where)}: ${msg}`, label);
  const entries = new Map((t.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) throw fail('external-data', 'is marked external but has no "location"');
  if (!baseDir) throw fail('external-data', `uses external data "${location}" but the model was not loaded from a file; load it by path`);
  if (path.isAbsolute(location) || location.includes('\0')) throw fail('unsafe-path', `external data location "${location}" must be a path relative to the model's folder`);
  const base = fs.realpathSync(baseDir);
  const target = path.resolve(base, location);
  const inside = (p: string) => p === base || p.startsWith(base + path.sep);
  if (!inside(target)) throw fail('unsafe-path', `external data location "${location}" points outside the model's folder; refusing to read it`);
  let real: string;
  try { real = fs.realpathSync(target); } catch {
    throw fail('external-data', `external data file "${location}" was not found next to the model; copy it into ${baseDir}`);
  }
  if (!inside(real)) throw fail('unsafe-path', `external data location "${location}" is a link that leads outside the model's folder; refusing to read it`);
  const size = fs.statSync(real).size;
  const offset = entries.has('offset') ? Number(entries.get('offset')) : 0;
  const type = t.data_type ?? 0;
  const count = (t.dims ?? []).map(int64).reduce((a, b) => a * b, 1);
  const expected = rawByteLength(type, count);
  const length = entries.has('length') ? Number(entries.get('length')) : expected ?? size - offset;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw fail('external-data', `has an invalid offset/length (${entries.get('offset')}/${entries.get('length')})`);
  }
  if (offset + length > size) throw fail('external-data', `needs bytes ${offset}..${offset + length} of "${location}" but the file has ${size}; it is truncated`);
  if (expected !== undefined && length !== expected) throw fail('external-data', `has ${length} bytes of external data but its dims need ${expected}`);
  return { location, path: real, offset, length };
}

/** Decodes a tiny model once, so that protobufjs builds its decoders before the first real open
 *  (the first decode in a process costs 30-60 ms of code generation). */
export function warmUpDecoder(): void {
  const tiny = ModelProtoType.encode({
    ir_version: 8, opset_import: [{ domain: '', version: 17 }],
    graph: { name: 'warm-up', node: [{ op_type: 'Identity', input: ['x'], output: ['y'], attribute: [{ name: 'a', type: 2, i: 1 }] }],
      initializer: [{ name: 'w', data_type: 1, dims: [1], raw_data: new Uint8Array(4) }],
      input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 1 }, { dim_param: 'n' }] } } } }],
      output: [{ name: 'y', type: { tensor_type: { elem_type: 1 } } }] },
  } as never).finish();
  parseModel(tiny);
}
