// Static quantization, steps 1-3 and the emitter's entry: a model prepared (opset 13, BatchNormalization
// folded into Conv, depthwise pairs equalized, SmoothQuant when asked), planned and calibrated, from which
// the QDQ model (or a copy with every node quantized, for the transform check) is emitted.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Model } from '../../onnx/model';
import { writeModel } from '../../onnx/write';
import { cloneStructure, makeCalibrator, type CalibrationRunner, type CalibrationTarget, type Feeds, type TensorRange } from '../calibrate/calibrator';
import { QuantizeError } from '../errors';
import { ModelEditor } from '../graph';
import { upgradeOpset } from '../opset';
import type { ResolvedOptions } from '../options';
import { globMatch, removeUnused } from '../pass';
import type { ActivationType, QuantizeReport } from '../../protocol/quantize';
import { recordClamped, type Clamped } from '../records';
import { makeTempDir } from '../tempDir';
import { ValueFactsIndex } from '../types';
import { activationParams, emitQdq, type ActivationParams, type EmitResult } from './emit';
import { equalizeDepthwise } from './equalize';
import { planStatic, type QdqPlan } from './plan';
import { foldIntoConv, type FoldedIntoConv } from './prepare';
import { smoothQuant } from './smooth';

export interface StaticCalibration {
  /** Runs the augmented model (src/runtime/calibration.ts: onnxruntime-node). */
  runner: CalibrationRunner;
  /** The calibration samples, made for this model (its inputs). */
  feeds: (model: Model) => AsyncIterable<Feeds> | Iterable<Feeds>;
  /** The samples are seeded random data (flagged in the report). */
  random: boolean;
  /** Where the samples come from, for the report. */
  source: string;
  /** Symbolic or unknown input dims the random samples left at 1 (`x:2 (height)=1, ...`), once feeds were made; '' when none. */
  defaultedDims?: () => string;
  /** Folder for the augmented model (default: the system's temporary folder). */
  workDir?: string;
  /**
   * SmoothQuant and equalization: also quantize without them and compare with the float model on up to this
   * many calibration samples, keeping a transform only where it helps (default 16; 0: no check, kept).
   */
  transformCheckSamples?: number;
  onSample?: (done: number) => void;
  /** With an accuracy target: called after each quantized model compared with the float one. */
  onComparison?: (done: number) => void;
  signal?: AbortSignal;
}

export const round3 = (s: number) => Math.round(s * 1000) / 1000;

/** A model prepared and calibrated: what the emitter needs, and what the preparation did for the report. */
export interface Calibrated {
  model: Model;
  editor: ModelEditor;
  /** The options it was prepared with (an optional transform dropped is off here). */
  options: ResolvedOptions;
  plan: QdqPlan;
  targets: CalibrationTarget[];
  ranges: Map<string, TensorRange>;
  samples: number;
  opsetUpgrade: QuantizeReport['opsetUpgrade'];
  foldedIntoConv: FoldedIntoConv[];
  equalized: string[];
  smoothed: Awaited<ReturnType<typeof smoothQuant>> | undefined;
  seconds: Record<string, number>;
}

/** Steps 1-3: prepare the model in place, plan what gets Q/DQ, calibrate the planned activations. */
export async function prepareAndCalibrate(model: Model, o: ResolvedOptions, cal: StaticCalibration): Promise<Calibrated> {
  let t = performance.now();
  const editor = new ModelEditor(model);
  const before = new ValueFactsIndex(model);
  const opsetUpgrade = upgradeOpset(model, editor, 13, 'static QDQ quantization', (name, info) => before.get(name, info).rank) ?? null;
  const bn = foldIntoConv(model, editor);
  removeUnused(model, editor, new Set(bn.replaced));
  const eq = o.equalize ? await equalizeDepthwise(model, editor, cal.runner, cal.feeds(model), 8) : { pairs: [], replaced: [] };
  removeUnused(model, editor, new Set(eq.replaced));
  const sq = o.smoothQuantAlpha !== null ? await smoothQuant(model, editor, o, cal.runner, cal.feeds(model), cal.workDir) : undefined;
  if (sq) removeUnused(model, editor, new Set(sq.replaced));
  const fresh = model.withProto(model.proto);
  const freshEditor = new ModelEditor(fresh);
  const plan = planStatic(fresh, freshEditor, o);
  const targets = plan.targets();
  const seconds: Record<string, number> = { prepare: round3((performance.now() - t) / 1000) };

  t = performance.now();
  const levels = 2 ** (o.activationType.endsWith('16') ? 16 : 8);
  const calibrator = makeCalibrator(o.calibration.method, { percentile: o.calibration.percentile, symmetric: o.symmetricActivations, levels });
  calibrator.select(targets);
  let ranges = new Map<string, TensorRange>();
  let samples = 0;
  if (targets.length) {
    const augmented = calibrator.augment(fresh);
    const dir = makeTempDir('calibration', cal.workDir);
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
  return { model: fresh, editor: freshEditor, options: o, plan, targets, ranges, samples, opsetUpgrade, foldedIntoConv: bn.folded, equalized: eq.pairs, smoothed: sq, seconds };
}

export interface Emitted { model: Model; plan: QdqPlan; result: EmitResult; clamped: number; wide: string[] }

/** Step 4 on `m` (the calibrated model or a copy of it): the nodes `inFloat` stay in float with `reason`. */
export function emitCalibrated(c: Calibrated, m: Model, inFloat: string[], reason = 'kept in float for the accuracy target'): Emitted {
  const reuse = m === c.model && !inFloat.length;
  const ed = reuse ? c.editor : new ModelEditor(m);
  const plan = reuse ? c.plan : planStatic(m, ed, c.options, { labels: new Set(inFloat), reason });
  const { params, clamped, clamps, wide } = paramsFromRanges(plan, c.ranges, c.options);
  const result = emitQdq(m, ed, plan, params, c.options);
  recordClamped(m.proto, clamps);
  return { model: m.withProto(m.proto), plan, result, clamped, wide };
}

/** A copy of the calibrated model with every planned node quantized (what the transform check compares). */
export function emitCopy(c: Calibrated): Model {
  return emitCalibrated(c, c.model.withProto(cloneStructure(c.model.proto)), []).model;
}

/** Scale and zero point of every calibrated tensor of `plan`, its range narrowed to what its readers tell apart. */
export function paramsFromRanges(plan: QdqPlan, ranges: Map<string, TensorRange>, o: ResolvedOptions): { params: Map<string, ActivationParams>; clamped: number; clamps: Clamped[]; wide: string[] } {
  const params = new Map<string, ActivationParams>();
  let clamped = 0;
  const clamps: Clamped[] = [];
  // --activations16: every activation the matching nodes read or write (and those sharing its parameters).
  const wideType: ActivationType = o.activationType === 'int8' ? 'int16' : 'uint16';
  const wideKeys = new Set<string>(), wide: string[] = [];
  for (const n of plan.nodes) {
    if (n.mark.kind === 'passthrough' || !o.activations16.some((p) => globMatch(p, n.label))) continue;
    wide.push(n.label);
    for (const k of [...n.reads, ...n.writes]) { const r = plan.root(k)?.key; if (r !== undefined) wideKeys.add(r); }
  }
  for (const [key, r] of ranges) {
    const t = plan.tensors.get(key);
    if (!t) continue;
    let range = r;
    const c = t.clamp;
    if (c && (r.min < c.min || r.max > c.max)) {
      range = { min: Math.max(r.min, c.min), max: Math.min(r.max, c.max) };
      if (range.min > range.max) range = r;
      else {
        clamped++;
        // Every main-graph value quantized with these parameters (the tensor and those that share them).
        for (const [k, x] of plan.tensors) if ((k === key || x.alias === key) && x.home.depth === 0) clamps.push({ tensor: x.name, min: Number.isFinite(c.min) ? c.min : null, max: Number.isFinite(c.max) ? c.max : null });
      }
    }
    params.set(key, activationParams(range, wideKeys.has(key) ? wideType : o.activationType, o.symmetricActivations));
  }
  return { params, clamped, clamps, wide };
}

