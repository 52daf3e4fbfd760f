// Calibration on onnxruntime-node: the runner that executes the augmented model (a session created from
// its path, with basic graph optimizations: exposed values stay graph outputs, and Conv + BatchNorm style
// fusions would only change them by rounding; or with all of them, to measure a quantized model as it
// will run), and the samples the options ask for (a data folder or
// seeded random inputs).
import * as ort from 'onnxruntime-node';
import { valueInfo } from '../onnx/inspect';
import type { Model } from '../onnx/model';
import type { ValueInfo } from '../onnx/report';
import type { CalibrationRunner, Feeds, StaticCalibration } from '../quantize/index';
import { QuantizeError } from '../quantize/errors';
import type { ResolvedOptions } from '../quantize/options';
import { folderFeeds, randomCalibrationFeeds } from './inputs';

const firstLine = (s: string) => s.split('\n')[0].trim();

/** The model's real inputs (an IR < 4 model also lists its initializers as inputs). */
export function inspectModelInputs(model: Model): ValueInfo[] {
  const main = model.proto.graph!;
  const inits = new Set([...(main.initializer ?? []).map((t) => t.name ?? ''), ...(main.sparse_initializer ?? []).map((s) => s.values?.name ?? '')]);
  return (main.input ?? []).filter((v) => !inits.has(v.name ?? '')).map(valueInfo);
}

export const ortCalibrationRunner: CalibrationRunner = {
  async open(file, options = {}) {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, { graphOptimizationLevel: options.deployed ? 'all' : 'basic', logSeverityLevel: 3 });
    } catch (e) {
      throw new QuantizeError('unsupported-model', `onnxruntime cannot load the model prepared for calibration: ${firstLine((e as Error).message)}`);
    }
    let n = 0;
    return {
      async run(feeds: Feeds, fetches: string[]) {
        n++;
        try {
          return await session.run(feeds as unknown as ort.InferenceSession.FeedsType, fetches);
        } catch (e) {
          throw new QuantizeError('calibration-data', `calibration sample ${n}: onnxruntime could not run the model on it: ${firstLine((e as Error).message)}`);
        }
      },
      release: () => session.release(),
    };
  },
};

export interface CalibrationSourceOptions {
  /** Sizes of symbolic dims for random samples, by dim name or `input:axis` (default 1). */
  dims?: Record<string, number>;
  /** Fixed values of some inputs for random samples (e.g. a sample rate). */
  values?: Record<string, ort.Tensor>;
  seed?: number;
}

/** The calibration of static quantization as the options ask: a data folder or seeded random samples. */
export function calibrationFor(o: ResolvedOptions, extra: CalibrationSourceOptions = {}): StaticCalibration {
  const c = o.calibration;
  if (c.dataDir !== undefined) {
    const dir = c.dataDir;
    return { runner: ortCalibrationRunner, random: false, source: dir, feeds: (model: Model) => folderFeeds(dir, inspectModelInputs(model), c.maxSamples) };
  }
  if (c.randomSamples !== undefined) {
    const n = c.maxSamples !== undefined ? Math.min(c.maxSamples, c.randomSamples) : c.randomSamples;
    const seed = extra.seed ?? 1;
    return {
      runner: ortCalibrationRunner, random: true, source: `random (${n} samples, seeds ${seed}..${seed + n - 1})`,
      feeds: (model: Model) => randomCalibrationFeeds(inspectModelInputs(model), n, { seed, dims: extra.dims, values: extra.values }),
    };
  }
  throw new QuantizeError('invalid-options', 'static quantization needs calibration samples: give --calib-data DIR (.npy/.npz/.pb samples) or --calib-random N');
}
