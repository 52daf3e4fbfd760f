// The input spec without onnxruntime: its names checked against a model's inputs, the shapes of random
// samples with the dims left at their default, and the command-line flags (and their text form, which
// the VS Code prompt shows and edits) that every command shares.
import { parseArgs } from 'node:util';
import type { DefaultedDim } from '../protocol/compare';
import type { InputSpec } from '../protocol/inputSpec';
import type { ValueInfo } from '../protocol/inspect';
import { describeValue, RuntimeError } from './errors';

const INTEGER = new Set(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);
const FLOAT = new Set(['float', 'double', 'float16']);
export const DEFAULT_SAMPLES = 8;

const bad = (message: string) => new RuntimeError('bad-input-spec', message);

/** The values an integer input can hold (64-bit ones as far as a double is exact). */
const INTEGER_RANGE: Record<string, [number, number]> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535], int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1], int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], uint64: [0, Number.MAX_SAFE_INTEGER], bool: [0, 1],
};
const outOfRange = (dtype: string, lo: number, hi: number) => {
  const r = INTEGER_RANGE[dtype];
  return r !== undefined && (lo < r[0] || hi > r[1]) ? `${dtype} holds ${r[0]} to ${r[1]}` : undefined;
};
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

/**
 * Checks every name of `spec` against the model's inputs (an unknown input or dim is an error that lists the
 * valid ones) and gives the shape of each random sample, with the dims nothing sized (they are 1).
 */
export function checkInputSpec(spec: InputSpec, inputs: ValueInfo[]): { shapes: Record<string, number[]>; defaulted: DefaultedDim[] } {
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
    const range = outOfRange(v.dtype, value, value);
    if (range) throw bad(`input "${name}" is ${v.dtype}: ${value} does not fit (${range})`);
    if (spec.ranges?.[name]) throw bad(`input "${name}" has both a fixed value and a range; give one`);
  }
  for (const [name, [lo, hi]] of Object.entries(spec.ranges ?? {})) {
    const v = byName.get(name)!;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) throw bad(`the range of input "${name}" must be LO:HI with LO < HI, got ${lo}:${hi}`);
    if (INTEGER.has(v.dtype) && !(Number.isInteger(lo) && Number.isInteger(hi))) throw bad(`input "${name}" is ${v.dtype}: its range must be integers, got ${lo}:${hi}`);
    const range = INTEGER.has(v.dtype) ? outOfRange(v.dtype, lo, hi - 1) : undefined;
    if (range) throw bad(`the range ${lo}:${hi} of input "${name}" does not fit its type: ${range} (the range is [LO, HI), so HI may be one past the largest)`);
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
  return { shapes, defaulted };
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

/** The spec as the flags that give it (the VS Code prompt shows and edits this text). */
export function inputSpecToText(spec: InputSpec): string {
  const parts: string[] = [];
  // Double quotes around a value with spaces; inside them only \" is an escape (Windows paths keep their \).
  const q = (s: string) => (/[\s"']/.test(s) ? `"${s.replace(/"/g, '\\"')}"` : s);
  if (spec.dims && Object.keys(spec.dims).length) parts.push(`--dims ${q(Object.entries(spec.dims).map(([k, v]) => `${k}=${v}`).join(','))}`);
  for (const [k, v] of Object.entries(spec.values ?? {})) parts.push(`--value ${q(`${k}=${v}`)}`);
  for (const [k, [lo, hi]] of Object.entries(spec.ranges ?? {})) parts.push(`--range ${q(`${k}=${lo}:${hi}`)}`);
  if (spec.inputs !== undefined) parts.push(`--inputs ${q(spec.inputs)}`);
  if (spec.samples !== undefined) parts.push(`--samples ${spec.samples}`);
  if (spec.seed !== undefined) parts.push(`--seed ${spec.seed}`);
  return parts.join(' ');
}

/** Parses the text form (the same flags as the CLI; quotes around values with spaces). Throws SpecFlagError. */
export function inputSpecFromText(text: string): InputSpec {
  const args: string[] = [];
  const re = /"((?:[^"\\]|\\"|\\)*?)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) args.push(m[1] !== undefined ? m[1].replace(/\\"/g, '"') : m[2] ?? m[3]);
  let values;
  try {
    ({ values } = parseArgs({ args, options: INPUT_SPEC_FLAGS, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new SpecFlagError(`${(e as Error).message.split('\n')[0]}; the inputs take --dims, --value, --range, --inputs, --samples and --seed`);
  }
  return inputSpecFromFlags(values);
}
