// The input spec made concrete for one model: every name checked against the model's inputs (an unknown
// input or dim is an error that lists the valid ones), the shape of each input with the dims left at their
// default listed, and the samples themselves (files, or seeded random tensors). Also the parser of the
// command-line flags that every command shares.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { DefaultedDim } from '../protocol/compare';
import type { InputSpec } from '../protocol/inputSpec';
import type { ValueInfo } from '../onnx/report';
import { QuantizeError } from '../quantize/errors';
import { listSamples, randomFeeds, readSample, type SampleSource } from './inputs';
import { RuntimeError, describeValue } from './session';

export type { InputSpec } from '../protocol/inputSpec';

export type { DefaultedDim } from '../protocol/compare';

export interface ResolvedInputs {
  /** Where the samples come from, for reports ("8 random samples, seeds 1..8", a folder). */
  source: string;
  random: boolean;
  /** The number of samples (for a folder: those it holds, up to `samples`). */
  count: number;
  /** Shapes of random samples, per input (files carry their own). */
  shapes: Record<string, number[]>;
  /** Dims left at 1, each once. */
  defaulted: DefaultedDim[];
  /** The samples, read or made one at a time. */
  feeds(): AsyncGenerator<Record<string, ort.Tensor>>;
}

const INTEGER = new Set(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);
const FLOAT = new Set(['float', 'double', 'float16']);
export const DEFAULT_SAMPLES = 8;

const bad = (message: string) => new RuntimeError('bad-input-spec', message);
const quote = (xs: Iterable<string>) => [...xs].map((x) => `"${x}"`).join(', ');

/** How the defaulted dims read in a report: `batch=1 (x:0)`. */
export function describeDefaulted(d: DefaultedDim[]): string {
  return d.map((x) => `${x.name ?? `${x.input}:${x.axis}`}=1${x.name ? ` (${x.input}:${x.axis})` : ''}`).join(', ');
}

/** The advice appended to a failure when dims were left at their default. */
export function defaultedAdvice(d: DefaultedDim[]): string {
  if (!d.length) return '';
  const names = [...new Set(d.map((x) => x.name ?? `${x.input}:${x.axis}`))];
  return `; these dims were left at 1: ${describeDefaulted(d)}; set them with --dims ${names.map((n) => `${n}=SIZE`).join(',')} (in VS Code: the inputs prompt)`;
}

/** Checks `spec` against `inputs` and gives the shapes and samples it describes. */
export function resolveInputSpec(spec: InputSpec, inputs: ValueInfo[]): ResolvedInputs {
  const byName = new Map(inputs.map((v) => [v.name, v]));
  const listInputs = () => `the model's inputs are ${inputs.map(describeValue).join(', ') || 'none'}`;
  const dimNames = new Set(inputs.flatMap((v) => (v.shape ?? []).filter((d): d is string => typeof d === 'string')));
  for (const [key, size] of Object.entries(spec.dims ?? {})) {
    if (!Number.isInteger(size) || size < 1) throw bad(`dim ${key} must be a positive integer, got ${size}`);
    const m = /^(.+):(\d+)$/.exec(key);
    if (m && byName.has(m[1])) {
      const v = byName.get(m[1])!, axis = Number(m[2]);
      if (v.shape && axis >= v.shape.length) throw bad(`input "${v.name}" has ${v.shape.length} dims, so it has no axis ${axis}`);
      const fixed = v.shape?.[axis];
      if (typeof fixed === 'number' && fixed !== size) throw bad(`axis ${axis} of input "${v.name}" is fixed at ${fixed} by the model; it cannot be ${size}`);
      continue;
    }
    if (!dimNames.has(key)) {
      throw bad(`${m ? `"${m[1]}" is not an input of the model, and ` : ''}"${key}" is not a dim of its inputs; the symbolic dims are ${dimNames.size ? quote(dimNames) : 'none'} (or name an axis as input:axis, e.g. ${inputs[0] ? `${inputs[0].name}:0` : 'x:0'}); ${listInputs()}`);
    }
  }
  for (const [what, map] of [['--value', spec.values], ['--range', spec.ranges]] as const) {
    for (const name of Object.keys(map ?? {})) if (!byName.has(name)) throw bad(`${what} names "${name}", which is not an input of the model; ${listInputs()}`);
  }
  for (const [name, value] of Object.entries(spec.values ?? {})) {
    const v = byName.get(name)!;
    if (!Number.isFinite(value)) throw bad(`the value of input "${name}" must be a number, got ${value}`);
    if (INTEGER.has(v.dtype) && !Number.isInteger(value)) throw bad(`input "${name}" is ${v.dtype}: its value must be an integer, got ${value}`);
    if (v.dtype === 'bool' && value !== 0 && value !== 1) throw bad(`input "${name}" is bool: its value must be 0 or 1, got ${value}`);
    if (spec.ranges?.[name]) throw bad(`input "${name}" has both a fixed value and a range; give one`);
  }
  for (const [name, [lo, hi]] of Object.entries(spec.ranges ?? {})) {
    const v = byName.get(name)!;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) throw bad(`the range of input "${name}" must be LO:HI with LO < HI, got ${lo}:${hi}`);
    if (INTEGER.has(v.dtype) && !(Number.isInteger(lo) && Number.isInteger(hi))) throw bad(`input "${name}" is ${v.dtype}: its range must be integers, got ${lo}:${hi}`);
    if (/^uint/.test(v.dtype) && lo < 0) throw bad(`input "${name}" is ${v.dtype}: its range cannot go below 0`);
  }
  for (const v of inputs) {
    if (spec.values?.[v.name] !== undefined) continue;
    if (!INTEGER.has(v.dtype) && !FLOAT.has(v.dtype) && v.dtype !== 'bool') {
      throw bad(`input "${v.name}" is ${v.dtype}, which random inputs cannot fill; give it a value (--value ${v.name}=N) or sample files (--inputs)`);
    }
  }
  if (spec.samples !== undefined && !(Number.isInteger(spec.samples) && spec.samples >= 1)) throw bad(`the number of samples must be a positive integer, got ${spec.samples}`);
  if (spec.seed !== undefined && !Number.isInteger(spec.seed)) throw bad(`the seed must be an integer, got ${spec.seed}`);

  // Shapes of random samples; the dims nothing sized are 1, listed once each.
  const shapes: Record<string, number[]> = {};
  const defaulted: DefaultedDim[] = [];
  const seenNames = new Set<string>();
  for (const v of inputs) {
    shapes[v.name] = (v.shape ?? []).map((d, axis) => {
      if (typeof d === 'number') return d;
      const size = spec.dims?.[`${v.name}:${axis}`] ?? (d !== null ? spec.dims?.[d] : undefined);
      if (size !== undefined) return size;
      if (d === null || !seenNames.has(d)) defaulted.push({ input: v.name, axis, name: d });
      if (d !== null) seenNames.add(d);
      return 1;
    });
  }

  if (spec.inputs !== undefined) {
    const file = spec.inputs;
    if (!fs.existsSync(file)) throw bad(`${file}: no such file or folder (give a sample file or a folder of samples: .npz, .npy, .pb, .json, test_data_set_N folders)`);
    let sources: SampleSource[];
    try {
      sources = fs.statSync(file).isDirectory() ? listSamples(file, inputs) : [singleSample(file, inputs)];
    } catch (e) { throw asSpecError(e); }
    const list = spec.samples !== undefined ? sources.slice(0, spec.samples) : sources;
    return {
      source: fs.statSync(file).isDirectory() ? `${list.length} sample${list.length === 1 ? '' : 's'} from ${file}` : file,
      random: false, count: list.length, shapes, defaulted: [],
      async *feeds() { for (const s of list) { try { yield readSample(s, inputs); } catch (e) { throw asSpecError(e); } } },
    };
  }

  const count = spec.samples ?? DEFAULT_SAMPLES;
  const seed = spec.seed ?? 1;
  const values: Record<string, ort.Tensor> = {};
  for (const [name, value] of Object.entries(spec.values ?? {})) values[name] = filled(byName.get(name)!, shapes[name], value);
  return {
    source: `${count} random sample${count === 1 ? '' : 's'} (seed${count === 1 ? ` ${seed}` : `s ${seed}..${seed + count - 1}`})`,
    random: true, count, shapes, defaulted,
    async *feeds() { for (let i = 0; i < count; i++) yield randomSample(inputs, shapes, values, spec.ranges ?? {}, seed + i); },
  };
}

/** One seeded random sample: floats in [-1, 1) and integers in 0..9 unless a range says otherwise. */
export function randomSample(inputs: ValueInfo[], shapes: Record<string, number[]>, values: Record<string, ort.Tensor>, ranges: Record<string, [number, number]>, seed: number): Record<string, ort.Tensor> {
  return randomFeeds(inputs.map((v) => ({ ...v, shape: shapes[v.name] })), { seed, values, ranges });
}

function filled(v: ValueInfo, shape: number[], value: number): ort.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const type = ({ float: 'float32', double: 'float64', int64: 'int64', uint64: 'uint64', int32: 'int32', uint32: 'uint32', int16: 'int16', uint16: 'uint16', int8: 'int8', uint8: 'uint8', bool: 'bool' } as Record<string, ort.Tensor.Type>)[v.dtype];
  if (!type) throw bad(`input "${v.name}" is ${v.dtype}, which a fixed value cannot fill; give sample files (--inputs)`);
  const data: ort.Tensor.DataType = type === 'int64' ? new BigInt64Array(n).fill(BigInt(value))
    : type === 'uint64' ? new BigUint64Array(n).fill(BigInt(value))
      : type === 'float32' ? new Float32Array(n).fill(value)
        : type === 'float64' ? new Float64Array(n).fill(value)
          : type === 'bool' ? new Uint8Array(n).fill(value)
            : new ({ int32: Int32Array, uint32: Uint32Array, int16: Int16Array, uint16: Uint16Array, int8: Int8Array, uint8: Uint8Array }[type as 'int8'])(n).fill(value);
  return new ort.Tensor(type, data, shape);
}

function singleSample(file: string, inputs: ValueInfo[]): SampleSource {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.npz') return { label: path.basename(file), path: file, kind: 'npz' };
  if (ext === '.json') return { label: path.basename(file), path: file, kind: 'json' };
  if (ext === '.npy' || ext === '.pb') {
    if (inputs.length !== 1) throw bad(`${file}: one ${ext} file is a sample of a model with one input, but this model has ${inputs.length}; give an .npz or .json file with one array per input, or a folder with one file per input`);
    return { label: path.basename(file), path: file, kind: ext === '.npy' ? 'npy' : 'pb' };
  }
  throw bad(`${file}: not a sample file; --inputs takes .npz, .npy, .pb or .json files, or a folder of them`);
}

/** Sample-file errors of the shared readers become input-spec errors here. */
function asSpecError(e: unknown): unknown {
  if (e instanceof QuantizeError && e.code === 'calibration-data') return bad(e.message);
  return e;
}

// ---- command-line flags -----------------------------------------------------------------------------

/** The flags of the input spec, as node:util parseArgs options (shared by quantize, compare, bench). */
export const INPUT_SPEC_FLAGS = {
  dims: { type: 'string' }, value: { type: 'string', multiple: true }, range: { type: 'string', multiple: true },
  inputs: { type: 'string' }, samples: { type: 'string' }, seed: { type: 'string' },
} as const;

export const INPUT_SPEC_USAGE = `Inputs (the same in quantize, compare and bench):
  --dims LIST             sizes of symbolic dims: name=SIZE or input:axis=SIZE, comma-separated
                          (e.g. batch=1,height=64 or x:0=4); dims not given are 1, and reports list them
  --value INPUT=NUMBER    a fixed value for an input (a scalar such as sr=16000, or a fill value); repeatable
  --range INPUT=LO:HI     random values in [LO, HI) for an input (integers: LO to HI-1); repeatable.
                          Default: floats in [-1, 1), integers 0 to 9
  --inputs PATH           sample files instead of random data: an .npz (arrays named after the inputs),
                          .npy or .pb (one-input models) or .json ({"input": [[...]]}) file, or a folder
                          of them (test_data_set_N/input_M.pb folders too)
  --samples N             how many random samples (default ${DEFAULT_SAMPLES}), or at most N of the files
  --seed N                seed of the first random sample (default 1; sample i uses seed + i)
`;

/** Thrown for a malformed flag (the CLI turns it into a usage error). */
export class SpecFlagError extends Error {}

/** The input spec from parsed flags (strings as typed). */
export function inputSpecFromFlags(v: { dims?: string; value?: string[]; range?: string[]; inputs?: string; samples?: string; seed?: string }): InputSpec {
  const spec: InputSpec = {};
  if (v.dims !== undefined) spec.dims = parseDims(v.dims, '--dims');
  for (const s of v.value ?? []) {
    const m = /^([^=]+)=(.+)$/.exec(s.trim());
    const n = m ? Number(m[2]) : NaN;
    if (!m || m[2].trim() === '' || !Number.isFinite(n)) throw new SpecFlagError(`--value takes INPUT=NUMBER (e.g. sr=16000); got "${s}"`);
    (spec.values ??= {})[m[1].trim()] = n;
  }
  for (const s of v.range ?? []) {
    const m = /^([^=]+)=([^:]+):(.+)$/.exec(s.trim());
    const lo = m ? Number(m[2]) : NaN, hi = m ? Number(m[3]) : NaN;
    if (!m || !Number.isFinite(lo) || !Number.isFinite(hi)) throw new SpecFlagError(`--range takes INPUT=LO:HI (e.g. input_ids=0:30522); got "${s}"`);
    (spec.ranges ??= {})[m[1].trim()] = [lo, hi];
  }
  if (v.inputs !== undefined) spec.inputs = v.inputs;
  if (v.samples !== undefined) spec.samples = positive(v.samples, '--samples');
  if (v.seed !== undefined) {
    const n = Number(v.seed);
    if (v.seed.trim() === '' || !Number.isInteger(n)) throw new SpecFlagError(`--seed needs an integer, got "${v.seed}"`);
    spec.seed = n;
  }
  return spec;
}

/** `name=N,input:axis=N`. */
export function parseDims(value: string, flag: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(.+)=(\d+)$/.exec(part);
    if (!m || Number(m[2]) < 1) throw new SpecFlagError(`${flag} takes name=N pairs separated by commas (e.g. batch=1,height=64 or x:0=4); got "${part}"`);
    out[m[1].trim()] = Number(m[2]);
  }
  return out;
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1) throw new SpecFlagError(`${flag} needs a positive integer, got "${value}"`);
  return n;
}
