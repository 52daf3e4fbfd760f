// Calibration on onnxruntime-node: the runner that executes the augmented model (a session created from
// its path, with basic graph optimizations: exposed values stay graph outputs, and Conv + BatchNorm style
// fusions would only change them by rounding; or with all of them, to measure a quantized model as it
// will run), and the samples the options and the input spec ask for (a data folder or seeded random inputs).
import type { InputSpec } from '../protocol/inputSpec';
import type { Model } from '../onnx/model';
import type { CalibrationRunner, Feeds, StaticCalibration } from '../quantize/index';
import { QuantizeError } from '../quantize/errors';
import type { ResolvedOptions } from '../quantize/options';
import type { DefaultedDim } from '../protocol/compare';
import { defaultedAdvice, describeDefaulted, resolveInputSpec } from './inputSpec';
import { modelInputs } from './modelIo';
import { ModelSession, RuntimeError } from './session';

export const ortCalibrationRunner: CalibrationRunner = {
  async open(file, options = {}) {
    let session: ModelSession;
    try {
      session = await ModelSession.open(file, { optimization: options.deployed ? 'all' : 'basic' });
    } catch (e) {
      throw new QuantizeError('unsupported-model', `onnxruntime cannot load the model prepared for calibration: ${e instanceof RuntimeError ? e.message.replace(`${file}: `, '') : (e as Error).message}`);
    }
    let n = 0;
    return {
      async run(feeds: Feeds, fetches: string[]) {
        n++;
        try {
          return await session.run(feeds as never, fetches);
        } catch (e) {
          throw new QuantizeError('calibration-data', `calibration sample ${n}: onnxruntime could not run the model on it: ${(e as Error).message.replace(`${file}: `, '').replace(/^onnxruntime could not run the model on \w+: /, '')}`);
        }
      },
      release: () => session.release(),
    };
  },
};

/**
 * The calibration of static quantization as the options ask: a data folder or seeded random samples, shaped
 * by the input spec (dims, fixed values, ranges, seed).
 */
export function calibrationFor(o: ResolvedOptions, spec: InputSpec = {}): StaticCalibration {
  const c = o.calibration;
  if (c.dataDir === undefined && c.randomSamples === undefined) {
    throw new QuantizeError('invalid-options', 'static quantization needs calibration samples: give --calib-data DIR (.npy/.npz/.pb samples) or --calib-random N');
  }
  const samples = c.dataDir === undefined ? (c.maxSamples !== undefined ? Math.min(c.maxSamples, c.randomSamples!) : c.randomSamples) : c.maxSamples;
  const full: InputSpec = { ...spec, ...(c.dataDir !== undefined ? { inputs: c.dataDir } : {}), ...(samples !== undefined ? { samples } : {}) };
  const resolve = (model: Model) => {
    try { return resolveInputSpec(full, modelInputs(model)); } catch (e) {
      if (!(e instanceof RuntimeError)) throw e;
      throw c.dataDir !== undefined ? new QuantizeError('calibration-data', `calibration data: ${e.message}`) : new QuantizeError('invalid-options', e.message);
    }
  };
  const seed = spec.seed ?? 1;
  let source = c.dataDir ?? `random (${samples} samples, seeds ${seed}..${seed + samples! - 1})`;
  let defaulted: DefaultedDim[] = [];
  // A run that fails on samples with dims left at 1 says which dims to set.
  const runner: CalibrationRunner = {
    async open(file, options) {
      const session = await ortCalibrationRunner.open(file, options);
      return {
        async run(feeds, fetches) {
          try { return await session.run(feeds, fetches); } catch (e) {
            throw e instanceof QuantizeError && defaulted.length ? new QuantizeError(e.code, `${e.message}${defaultedAdvice(defaulted)}`) : e;
          }
        },
        release: () => session.release(),
      };
    },
  };
  return {
    runner, random: c.dataDir === undefined,
    get source() { return source; },
    defaultedDims: () => describeDefaulted(defaulted),
    feeds: (model: Model) => {
      const r = resolve(model);
      defaulted = r.defaulted;
      if (r.defaulted.length && !source.includes('dims left at 1')) source += `; dims left at 1: ${describeDefaulted(r.defaulted)}`;
      return r.feeds();
    },
  };
}
