// Input feeds for onnxruntime: seeded random tensors shaped from a model's inputs, tensors read from ONNX
// TensorProto `.pb` files (the test_data_set_N/input_M.pb layout of the ONNX test suites) and NumPy
// `.npy`/`.npz` files, and calibration samples from a folder of them, checked against the model's inputs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { dtypeName } from '../onnx/dtype';
import { OnnxError } from '../onnx/errors';
import { float16Bits } from '../onnx/minifloat';
import { TensorProtoType, type TensorProto } from '../onnx/proto';
import type { ValueInfo } from '../protocol/inspect';
import { TensorRef } from '../onnx/tensor';
import { QuantizeError } from '../quantize/errors';
import { describeValue } from './errors';
import { readNpy, readNpz, type NpyArray } from './npy';
import { seededRandom } from './random';
import { viewAs, type ElementType } from './typedArrays';

export interface RandomFeedOptions {
  seed?: number;
  /** Sizes for symbolic or unknown dims, by dim name (`batch`) or by `input:axis` (`x:2`); default 1. */
  dims?: Record<string, number>;
  /** Fixed values for some inputs (e.g. a sample rate the model branches on). */
  values?: Record<string, ort.Tensor>;
  /** Range [lo, hi) of random values for every input (default: floats [-1, 1), integers 0..9). */
  range?: [number, number];
  /** Range per input name, over `range`. */
  ranges?: Record<string, [number, number]>;
}

const ORT_TYPES: Record<string, ort.Tensor.Type> = {
  float: 'float32', double: 'float64', int8: 'int8', uint8: 'uint8', int16: 'int16', uint16: 'uint16',
  int32: 'int32', uint32: 'uint32', int64: 'int64', uint64: 'uint64', bool: 'bool', float16: 'float16',
};
const INTEGER_TYPES = new Set<ort.Tensor.Type>(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);

/** Seeded random inputs, drawn from one stream in input order. */
export function randomFeeds(inputs: ValueInfo[], options: RandomFeedOptions = {}): Record<string, ort.Tensor> {
  const rand = seededRandom(options.seed ?? 1);
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) {
    const fixed = options.values?.[input.name];
    if (fixed) { feeds[input.name] = fixed; continue; }
    const type = ORT_TYPES[input.dtype];
    if (!type) throw new OnnxError('unsupported', `input "${input.name}" has type ${input.dtype}, which random inputs do not support; give it a value`);
    const [lo, hi] = options.ranges?.[input.name] ?? options.range ?? (INTEGER_TYPES.has(type) ? [0, 10] : [-1, 1]);
    const shape = (input.shape ?? []).map((d, axis) =>
      typeof d === 'number' ? d : options.dims?.[`${input.name}:${axis}`] ?? (d !== null ? options.dims?.[d] : undefined) ?? 1);
    const n = shape.reduce((a, b) => a * b, 1);
    feeds[input.name] = new ort.Tensor(type, fill(type, n, () => lo + (hi - lo) * rand()), shape);
  }
  return feeds;
}

/** A tensor of the input's type and `shape` with every element `value`; undefined for types without numbers. */
export function constantTensor(dtype: string, shape: number[], value: number): ort.Tensor | undefined {
  const type = ORT_TYPES[dtype];
  return type ? new ort.Tensor(type, fill(type, shape.reduce((a, b) => a * b, 1), () => value), shape) : undefined;
}

/** `n` values of `type` from `next` (integers: rounded down, so a range [lo, hi) gives lo..hi-1). */
function fill(type: ort.Tensor.Type, n: number, next: () => number): ort.Tensor.DataType {
  switch (type) {
    case 'float32': return Float32Array.from({ length: n }, next);
    case 'float64': return Float64Array.from({ length: n }, next);
    case 'int64': return BigInt64Array.from({ length: n }, () => BigInt(Math.floor(next())));
    case 'uint64': return BigUint64Array.from({ length: n }, () => BigInt(Math.max(0, Math.floor(next()))));
    case 'bool': return Uint8Array.from({ length: n }, () => (next() > 0 ? 1 : 0));
    case 'float16': return Uint16Array.from({ length: n }, () => float16Bits(next()));
    default: {
      const Ctor = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array }[type as 'int8'];
      return Ctor.from({ length: n }, () => Math.floor(next()));
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
  // A fresh copy: aligned, unlike a view into the file. ORT_TYPES only maps to element types viewAs knows.
  return { name: ref.name, tensor: new ort.Tensor(type, viewAs(type as ElementType, new Uint8Array(ref.readBytes()).buffer), ref.dims) };
}


// ---- calibration samples ------------------------------------------------------------------------------

/**
 * One calibration sample on disk: an `.npz` archive (arrays named after the inputs, or arr_0, arr_1, ...
 * in input order), an `.npy` or TensorProto `.pb` file (models with one input), or a folder of them, one per
 * input (onnxruntime's `test_data_set_N/input_M.pb` layout; `.npy` files named after the inputs).
 */
export interface SampleSource { label: string; path: string; kind: 'npz' | 'npy' | 'pb' | 'json' | 'folder' }

const sampleError = (where: string, message: string) => new QuantizeError('calibration-data', `${where}: ${message}`);
const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
/** A file of a sample folder that holds an input (test_data_set folders also hold the expected output_N.pb). */
const isInputFile = (f: string) => /\.(npy|pb)$/.test(f) && !/^output_\d+\.(pb|npy)$/.test(f) && !f.startsWith('.');

/** The samples of a calibration folder, in natural order; throws QuantizeError('calibration-data') when there are none. */
export function listSamples(dir: string, inputs: ValueInfo[]): SampleSource[] {
  let entries: fs.Dirent[];
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch (e) {
    throw sampleError(dir, `cannot read the calibration folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const out: SampleSource[] = [];
  for (const e of entries.sort((a, b) => natural(a.name, b.name))) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (fs.readdirSync(p).some(isInputFile)) out.push({ label: e.name, path: p, kind: 'folder' });
      continue;
    }
    const ext = path.extname(e.name).toLowerCase();
    if (ext === '.npz') out.push({ label: e.name, path: p, kind: 'npz' });
    else if (ext === '.json') out.push({ label: e.name, path: p, kind: 'json' });
    else if (ext === '.npy' || ext === '.pb') {
      if (inputs.length !== 1) {
        throw sampleError(path.join(dir, e.name), `a single ${ext} file is one sample of a model with one input, but this model has ${inputs.length} (${inputs.map((v) => `"${v.name}"`).join(', ')}); give each sample as an .npz with one array per input, or as a folder with one file per input`);
      }
      out.push({ label: e.name, path: p, kind: ext === '.npy' ? 'npy' : 'pb' });
    }
  }
  if (!out.length) throw sampleError(dir, 'has no calibration samples: expected .npz files, .npy or .pb files (models with one input), or folders of them (test_data_set_*/input_*.pb)');
  return out;
}

function npyTensor(a: NpyArray): ort.Tensor {
  return new ort.Tensor(a.dtype as ort.Tensor.Type, a.data as ort.Tensor.DataType, a.shape);
}

/** Reads one sample and checks it against the model's inputs (names, dtypes, shapes). */
export function readSample(s: SampleSource, inputs: ValueInfo[]): Record<string, ort.Tensor> {
  const found: { name: string; generic: boolean; tensor: ort.Tensor }[] = [];
  const readFile = (file: string, kind: 'npy' | 'pb') => {
    if (kind === 'npy') {
      try { return { name: path.basename(file, '.npy'), tensor: npyTensor(readNpy(file)) }; } catch (e) {
        throw sampleError(file, (e as Error).message);
      }
    }
    try { const t = readTensorFile(file); return { name: t.name, tensor: t.tensor }; } catch (e) {
      throw sampleError(file, (e as Error).message);
    }
  };
  if (s.kind === 'npz') {
    let arrays: Map<string, NpyArray>;
    try { arrays = readNpz(s.path); } catch (e) { throw sampleError(s.path, (e as Error).message); }
    for (const [name, a] of arrays) found.push({ name, generic: /^arr_\d+$/.test(name), tensor: npyTensor(a) });
  } else if (s.kind === 'json') {
    for (const [name, tensor] of readJsonSample(s.path, inputs)) found.push({ name, generic: false, tensor });
  } else if (s.kind === 'folder') {
    const files = fs.readdirSync(s.path).filter(isInputFile).sort(natural);
    for (const f of files) {
      const t = readFile(path.join(s.path, f), f.endsWith('.npy') ? 'npy' : 'pb');
      found.push({ name: t.name, generic: !t.name || /^input_\d+$/.test(t.name), tensor: t.tensor });
    }
  } else {
    const t = readFile(s.path, s.kind);
    found.push({ name: inputs[0].name, generic: true, tensor: t.tensor });
  }
  const names = new Set(inputs.map((v) => v.name));
  const feeds: Record<string, ort.Tensor> = {};
  if (found.every((f) => names.has(f.name))) {
    for (const f of found) feeds[f.name] = f.tensor;
  } else if (found.length === inputs.length && (inputs.length === 1 || found.every((f) => f.generic))) {
    found.forEach((f, i) => { feeds[inputs[i].name] = f.tensor; });
  } else {
    const stray = found.filter((f) => !names.has(f.name)).map((f) => `"${f.name}"`);
    throw sampleError(s.path, `holds ${stray.join(', ')}, which ${stray.length === 1 ? 'is not an input' : 'are not inputs'} of the model; its inputs are ${inputs.map(describeValue).join(', ')} (name the arrays after them, e.g. np.savez(f, ${inputs[0].name.replace(/\W/g, '_')}=...), or give exactly one array per input in input order)`);
  }
  for (const v of inputs) {
    const t = feeds[v.name];
    if (!t) throw sampleError(s.path, `has no array for input ${describeValue(v)}`);
    const want = ORT_TYPES[v.dtype];
    if (t.type !== want) {
      throw sampleError(s.path, `input "${v.name}" is ${v.dtype} in the model, but the sample holds ${t.type}${want === 'float32' && t.type === 'float64' ? ' (convert it: a.astype(np.float32))' : ''}`);
    }
    if (v.shape) {
      const dims = t.dims;
      const fits = dims.length === v.shape.length && v.shape.every((d, i) => typeof d !== 'number' || d === dims[i]);
      if (!fits) throw sampleError(s.path, `input "${v.name}" has shape [${v.shape.map((d) => d ?? '?').join(', ')}] in the model, but the sample's is [${dims.join(', ')}]`);
    }
  }
  return feeds;
}

/**
 * A JSON sample: an object with a (nested) array or a number per input name, typed as the model's input;
 * for a model with one input, the array alone.
 */
function readJsonSample(file: string, inputs: ValueInfo[]): [string, ort.Tensor][] {
  let value: unknown;
  try { value = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e) { throw sampleError(file, `is not valid JSON (${(e as Error).message})`); }
  const entries: [string, unknown][] = Array.isArray(value) || typeof value === 'number'
    ? (inputs.length === 1 ? [[inputs[0].name, value]] : (() => { throw sampleError(file, `holds one array, but the model has ${inputs.length} inputs; give an object with one array per input name`); })())
    : value && typeof value === 'object' ? Object.entries(value as Record<string, unknown>) : [];
  if (!entries.length) throw sampleError(file, 'holds no arrays: expected {"<input name>": [[...]], ...}');
  const byName = new Map(inputs.map((v) => [v.name, v]));
  return entries.map(([name, v]) => {
    const input = byName.get(name);
    if (!input) return [name, new ort.Tensor('float32', new Float32Array(0), [0])];
    const dims: number[] = [];
    for (let x: unknown = v; Array.isArray(x); x = x[0]) dims.push(x.length);
    const flat = dims.length ? (v as unknown[]).flat(Infinity) : [v];
    if (flat.length !== dims.reduce((a, b) => a * b, 1) || flat.some((x) => typeof x !== 'number' && typeof x !== 'boolean')) {
      throw sampleError(file, `the array of "${name}" is not a rectangular array of numbers`);
    }
    const type = ORT_TYPES[input.dtype];
    if (!type || type === 'float16') throw sampleError(file, `input "${name}" is ${input.dtype}, which JSON samples do not hold; use .npy or .pb files`);
    const nums = flat.map(Number);
    let at = 0;
    return [name, new ort.Tensor(type, fill(type, nums.length, () => nums[at++]), dims)];
  });
}

/** The samples of a calibration folder, read one at a time (memory does not grow with their number). */
export async function* folderFeeds(dir: string, inputs: ValueInfo[], maxSamples?: number): AsyncGenerator<Record<string, ort.Tensor>> {
  const samples = listSamples(dir, inputs);
  let n = 0;
  for (const s of samples) {
    if (maxSamples !== undefined && n >= maxSamples) return;
    yield readSample(s, inputs);
    n++;
  }
}

/** `count` seeded random samples (seeds seed, seed + 1, ...): for trying the tool, not for accuracy. */
export function* randomCalibrationFeeds(inputs: ValueInfo[], count: number, options: RandomFeedOptions = {}): Generator<Record<string, ort.Tensor>> {
  const seed = options.seed ?? 1;
  for (let i = 0; i < count; i++) yield randomFeeds(inputs, { ...options, seed: seed + i });
}
