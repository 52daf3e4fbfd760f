// Static quantization, end to end on a loaded model: prepare (opset 13 for per-axis QuantizeLinear and
// uint8 MaxPool, BatchNormalization folded into Conv), plan (what gets Q/DQ), calibrate (an augmented copy
// of the model, written to a temporary folder and run by the caller's runner over the calibration
// samples), then emit the QDQ model. The model's protobuf is rewritten in place.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Model } from '../../onnx/model';
import type { TensorProto } from '../../onnx/proto';
import { writeModel } from '../../onnx/write';
import { makeCalibrator, type CalibrationRunner, type Feeds } from '../calibrate/calibrator';
import { QuantizeError } from '../errors';
import { ModelEditor } from '../graph';
import { upgradeOpset } from '../opset';
import type { ResolvedOptions } from '../options';
import { removeUnused } from '../pass';
import type { QuantizeReport } from '../report';
import { ValueFactsIndex } from '../types';
import { activationParams, emitQdq, type ActivationParams } from './emit';
import { planStatic } from './plan';
import { equalizeDepthwise } from './equalize';
import { foldIntoConv } from './prepare';

export interface StaticCalibration {
  /** Runs the augmented model (src/runtime/calibration.ts: onnxruntime-node). */
  runner: CalibrationRunner;
  /** The calibration samples, made for this model (its inputs). */
  feeds: (model: Model) => AsyncIterable<Feeds> | Iterable<Feeds>;
  /** The samples are seeded random data (flagged in the report). */
  random: boolean;
  /** Where the samples come from, for the report. */
  source: string;
  /** Folder for the augmented model (default: the system's temporary folder). */
  workDir?: string;
  onSample?: (done: number) => void;
  signal?: AbortSignal;
}

const round3 = (s: number) => Math.round(s * 1000) / 1000;

export async function quantizeStatic(model: Model, o: ResolvedOptions, cal: StaticCalibration): Promise<{ model: Model; report: QuantizeReport }> {
  const externals = new Map<TensorProto, NonNullable<ReturnType<Model['externalOf']>>>();
  for (const w of model.weights()) if (w.external) externals.set(w.proto, w.external);
  let t = performance.now();
  const editor = new ModelEditor(model);

  // 1. Prepare.
  const before = new ValueFactsIndex(model, editor);
  const opsetUpgrade = upgradeOpset(model, editor, 13, 'static QDQ quantization', (name, info) => before.get(name, info).rank) ?? null;
  const bn = foldIntoConv(model, editor);
  removeUnused(model, editor, new Set(bn.replaced));
  const eq = o.equalize ? await equalizeDepthwise(model, editor, cal.runner, cal.feeds(model), 8) : { pairs: [], replaced: [] };
  removeUnused(model, editor, new Set(eq.replaced));
  let fresh = new Model(model.proto, model.source, externals);
  const editor2 = new ModelEditor(fresh);

  // 2. Plan.
  const plan = planStatic(fresh, editor2, o);
  const targets = plan.targets();
  let seconds: Record<string, number> = { prepare: round3((performance.now() - t) / 1000) };

  // 3. Calibrate.
  t = performance.now();
  const levels = 2 ** (o.activationType.endsWith('16') ? 16 : 8);
  const calibrator = makeCalibrator(o.calibration.method, { percentile: o.calibration.percentile, symmetric: o.symmetricActivations, levels });
  calibrator.select(targets);
  let ranges = new Map<string, { min: number; max: number }>();
  let samples = 0;
  if (targets.length) {
    const augmented = calibrator.augment(fresh);
    const dir = fs.mkdtempSync(path.join(cal.workDir ?? os.tmpdir(), 'onnxq-calibration-'));
    try {
      const file = path.join(dir, 'augmented.onnx');
      writeModel(augmented.model, file);
      samples = await calibrator.collect(cal.runner, file, augmented.fetches, cal.feeds(fresh), {
        maxSamples: o.calibration.maxSamples, onSample: cal.onSample, signal: cal.signal,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    if (samples === 0) throw new QuantizeError('calibration-data', 'calibration got no samples: the calibration data has none');
    ranges = calibrator.ranges();
  }
  seconds.calibrate = round3((performance.now() - t) / 1000);

  // 4. Emit.
  t = performance.now();
  const params = new Map<string, ActivationParams>();
  let clamped = 0;
  for (const [key, r] of ranges) {
    const c = plan.tensors.get(key)?.clamp;
    let range = r;
    if (c && (r.min < c.min || r.max > c.max)) {
      range = { min: Math.max(r.min, c.min), max: Math.min(r.max, c.max) };
      if (range.min > range.max) range = r;
      else clamped++;
    }
    params.set(key, activationParams(range, o.activationType, o.symmetricActivations));
  }
  const result = emitQdq(fresh, editor2, plan, params, o);
  seconds.quantize = round3((performance.now() - t) / 1000);
  fresh = new Model(fresh.proto, fresh.source, externals);
  const unreached = targets.filter((x) => !ranges.has(x.key)).map((x) => x.name);

  const notes = [...plan.notes, ...result.notes];
  if (cal.random) notes.push('calibrated on seeded random inputs, which are not representative of real data: the activation ranges (and the accuracy) will differ on real inputs; calibrate with --calib-data');
  if (bn.folded.length) {
    const kinds = [...new Set(bn.folded.map((f) => f.opType))].join(' and ');
    notes.push(`${bn.folded.length} ${kinds} node${bn.folded.length === 1 ? ' was' : 's were'} folded into the Conv before ${bn.folded.length === 1 ? 'it' : 'them'} (weights and bias)`);
  }
  if (result.foldedActivations.length) notes.push(`${result.foldedActivations.length} Relu/Clip node${result.foldedActivations.length === 1 ? ' was' : 's were'} merged into the quantization of ${result.foldedActivations.length === 1 ? 'its' : 'their'} input`);
  if (eq.pairs.length) notes.push(`${eq.pairs.length} Conv -> depthwise Conv pair${eq.pairs.length === 1 ? ' was' : 's were'} equalized per channel (the activation between them had channel ranges too unlike for one int8 scale): ${eq.pairs.join(', ')}`);
  if (clamped) notes.push(`${clamped} activation range${clamped === 1 ? ' was' : 's were'} narrowed to what ${clamped === 1 ? 'its readers' : 'their readers'} can tell apart (HardSwish is 0 below -3, HardSigmoid saturates)`);
  if (unreached.length) notes.push(`${unreached.length} activation${unreached.length === 1 ? '' : 's'} never ran on the calibration data (If branches not taken); the nodes that read them stay in float`);
  seconds = { ...seconds };
  const report: QuantizeReport = {
    mode: o.mode, format: o.format, weightType: o.weightType, activationType: o.activationType,
    perChannel: o.perChannel, symmetricWeights: o.symmetricWeights, reduceRange: o.reduceRange, blockSize: null, accuracyLevel: null,
    opTypes: o.opTypes, sizeBefore: model.source.fileBytes, sizeAfter: 0,
    weightBytesBefore: result.weightBytesBefore, weightBytesAfter: result.weightBytesAfter,
    quantized: result.quantized, emitted: result.emitted, skipped: [...plan.skipped, ...result.skipped], weights: result.weights,
    calibration: {
      method: o.calibration.method, percentile: o.calibration.method === 'percentile' ? o.calibration.percentile : null,
      samples, random: cal.random, source: cal.source, tensors: targets.length - unreached.length, unreached,
      quantizedActivations: result.activations, foldedActivations: result.foldedActivations, foldedIntoConv: bn.folded.map((f) => f.node),
    },
    seconds, opsetUpgrade, notes,
  };
  return { model: fresh, report };
}
