// The input spec made concrete for one model: every name checked against the model's inputs (an unknown
// input or dim is an error that lists the valid ones), the shape of each input with the dims left at their
// default listed, and the samples themselves (files, or seeded random tensors). Also the parser of the
// command-line flags that every command shares.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { DefaultedDim } from '../protocol/compare';
import type { InputSpec } from '../protocol/inputSpec';
import type { ValueInfo } from '../protocol/inspect';
import { QuantizeError } from '../quantize/errors';
import { constantTensor, listSamples, randomFeeds, readSample, type SampleSource } from './inputs';
import { checkInputSpec, DEFAULT_SAMPLES } from './inputSpecCheck';
import { RuntimeError } from './errors';

export { checkInputSpec, defaultedAdvice, describeDefaulted, DEFAULT_SAMPLES, INPUT_SPEC_FLAGS, INPUT_SPEC_USAGE, inputSpecFromFlags, parseDims, SpecFlagError } from './inputSpecCheck';

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

const bad = (message: string) => new RuntimeError('bad-input-spec', message);

/** Checks `spec` against `inputs` and gives the shapes and samples it describes. */
export function resolveInputSpec(spec: InputSpec, inputs: ValueInfo[]): ResolvedInputs {
  const byName = new Map(inputs.map((v) => [v.name, v]));
  const { shapes, defaulted } = checkInputSpec(spec, inputs);
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
  const t = constantTensor(v.dtype, shape, value);
  if (!t) throw bad(`input "${v.name}" is ${v.dtype}, which a fixed value cannot fill; give sample files (--inputs)`);
  return t;
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

