// Static quantization, end to end on a loaded model: prepare (opset 13 for per-axis QuantizeLinear and
// uint8 MaxPool, BatchNormalization folded into Conv, depthwise pairs equalized, SmoothQuant when asked),
// plan (what gets Q/DQ), calibrate (an augmented copy of the model, written to a temporary folder and run by
// the caller's runner over the calibration samples), then emit the QDQ model. The model's protobuf is
// rewritten in place. With SmoothQuant, the same job without it is run on a copy of the source, and both
// results are compared with the float model on the first calibration samples, for the report.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Model } from '../../onnx/model';
import type { TensorProto } from '../../onnx/proto';
import { writeModel } from '../../onnx/write';
import { cloneStructure, makeCalibrator, type CalibrationRunner, type Feeds, type FeedTensor, type TensorRange } from '../calibrate/calibrator';
import { QuantizeError } from '../errors';
import { ModelEditor } from '../graph';
import { upgradeOpset } from '../opset';
import type { ResolvedOptions } from '../options';
import { globMatch, removeUnused } from '../pass';
import type { ActivationType, FallbackSummary, QuantizeReport, SmoothQuantSummary } from '../../protocol/quantize';
import { ValueFactsIndex } from '../types';
import { activationParams, emitQdq, type ActivationParams } from './emit';
import { floatOutputs, keepWorstInFloat } from './fallback';
import { OutputComparer } from '../../runtime/compare';
import type { AccuracyTargetSpec } from '../../protocol/quantize';
import { describeTarget } from '../format';
import { planStatic, type QdqPlan } from './plan';
import { opCounts, qdqToQOperator, type QOperatorResult } from './qoperator';
import { equalizeDepthwise } from './equalize';
import { foldIntoConv } from './prepare';
import { smoothQuant } from './smooth';
import { makeTempDir } from '../tempDir';
import { recordClamped, type Clamped } from '../records';

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
   * SmoothQuant: also quantize without it and compare both with the float model on up to this many
   * calibration samples, for the report (default 16; 0: no comparison).
   */
  smoothQuantCheckSamples?: number;
  onSample?: (done: number) => void;
  /** With an accuracy target: called after each quantized model compared with the float one. */
  onComparison?: (done: number) => void;
  signal?: AbortSignal;
}

const round3 = (s: number) => Math.round(s * 1000) / 1000;
/** Calibration samples the accuracy target compares outputs on (the first ones). */
const ACCURACY_SAMPLES = 32;

/** Scale and zero point of every calibrated tensor of `plan`, its range narrowed to what its readers tell apart. */
function paramsFromRanges(plan: QdqPlan, ranges: Map<string, TensorRange>, o: ResolvedOptions): { params: Map<string, ActivationParams>; clamped: number; clamps: Clamped[]; wide: string[] } {
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

export async function quantizeStatic(model: Model, o: ResolvedOptions, cal: StaticCalibration): Promise<{ model: Model; report: QuantizeReport }> {
  const externals = new Map<TensorProto, NonNullable<ReturnType<Model['externalOf']>>>();
  for (const w of model.weights()) if (w.external) externals.set(w.proto, w.external);
  let t = performance.now();
  // SmoothQuant's gain: the float model, and the same quantization without SmoothQuant, to compare with.
  const checkSamples = cal.smoothQuantCheckSamples ?? 16;
  const reference = o.smoothQuantAlpha !== null && checkSamples > 0 ? new Model(cloneStructure(model.proto), model.source, externals) : undefined;
  const editor = new ModelEditor(model);

  // 1. Prepare.
  const before = new ValueFactsIndex(model, editor);
  const opsetUpgrade = upgradeOpset(model, editor, 13, 'static QDQ quantization', (name, info) => before.get(name, info).rank) ?? null;
  const bn = foldIntoConv(model, editor);
  removeUnused(model, editor, new Set(bn.replaced));
  const eq = o.equalize ? await equalizeDepthwise(model, editor, cal.runner, cal.feeds(model), 8) : { pairs: [], replaced: [] };
  removeUnused(model, editor, new Set(eq.replaced));
  const sq = o.smoothQuantAlpha !== null ? await smoothQuant(model, editor, o, cal.runner, cal.feeds(model), cal.workDir) : undefined;
  if (sq) removeUnused(model, editor, new Set(sq.replaced));
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

  // 4. Emit. With an accuracy target, copies of the prepared model are emitted and compared with it first,
  // until enough of the worst nodes are in float; then the model itself is emitted with those in float.
  t = performance.now();
  const emit = (m: Model, inFloat: string[], reason = 'kept in float for the accuracy target') => {
    const ed = m === fresh && !inFloat.length ? editor2 : new ModelEditor(m);
    const p = m === fresh && !inFloat.length ? plan : planStatic(m, ed, o, { labels: new Set(inFloat), reason });
    const { params, clamped, clamps, wide } = paramsFromRanges(p, ranges, o);
    const r = emitQdq(m, ed, p, params, o);
    recordClamped(m.proto, clamps);
    return { model: new Model(m.proto, m.source, externals), plan: p, result: r, clamped, wide };
  };
  let accuracy: FallbackSummary | undefined;
  let inFloat: string[] = [];
  if (o.accuracyTarget !== null && targets.length) {
    const prepared = cloneStructure(fresh.proto);
    const fullParams = paramsFromRanges(plan, ranges, o).params;
    const compareOn: Feeds[] = [];
    for await (const f of cal.feeds(fresh)) { if (compareOn.length >= Math.min(ACCURACY_SAMPLES, samples)) break; compareOn.push(f); }
    const targets = outputTargets(fresh, o.accuracyTarget);
    const outcome = await keepWorstInFloat({
      reference: new Model(prepared, fresh.source, externals), externals,
      build: (extra) => emit(new Model(cloneStructure(prepared), fresh.source, externals), extra),
      quantized: (key) => fullParams.has(key),
      targets, target: o.accuracyTarget, maxNodes: o.maxFloatNodes ?? Number.POSITIVE_INFINITY,
      samples: compareOn, runner: cal.runner, workDir: cal.workDir, signal: cal.signal, onEvaluation: cal.onComparison,
    });
    inFloat = outcome.inFloat;
    accuracy = { ...outcome.summary, seconds: round3((performance.now() - t) / 1000) };
  }
  const { result, clamped, wide, plan: finalPlan } = emit(fresh, inFloat, accuracy && `kept in float for the accuracy target ${describeTarget(accuracy.target)}: it reads or writes an activation whose quantization costs accuracy (cosine of output "${accuracy.worstOutput}" ${accuracy.cosineBefore} with every node quantized, ${accuracy.cosineAfter} with these ${accuracy.inFloat.length} nodes in float)`);
  let qop: QOperatorResult | null = null;
  if (o.format === 'qoperator') {
    const m = new Model(fresh.proto, fresh.source, externals);
    qop = qdqToQOperator(m, new ModelEditor(m));
    const counts = opCounts(new Model(fresh.proto, fresh.source, externals));
    const emitted: Record<string, number> = {};
    for (const [k, n] of Object.entries(counts)) if (/^(com\.microsoft:)?(QLinear|QGemm|QuantizeLinear|DequantizeLinear)/.test(k)) emitted[k.replace(/^com\.microsoft:/, '')] = n;
    result.emitted = emitted;
  }
  seconds.quantize = round3((performance.now() - t) / 1000);
  fresh = new Model(fresh.proto, fresh.source, externals);
  const unreached = targets.filter((x) => !ranges.has(x.key)).map((x) => x.name);
  let smooth: SmoothQuantSummary | undefined;
  if (sq) {
    smooth = { alpha: o.smoothQuantAlpha!, smoothed: sq.smoothed, samples: sq.samples, comparison: null, kept: true };
    if (reference && sq.smoothed.length) {
      t = performance.now();
      const clone = new Model(cloneStructure(reference.proto), reference.source, externals);
      const without = await quantizeStatic(clone, { ...o, smoothQuantAlpha: null }, { ...cal, onSample: undefined });
      smooth.comparison = await compareOutputs(reference, [without.model, fresh], cal, checkSamples);
      seconds.smoothQuantCheck = round3((performance.now() - t) / 1000);
      // An optional transform is kept only where it helps the worst output: otherwise the model without it is the result.
      const c = smooth.comparison;
      if (c.cosineWith < c.cosineWithout) {
        smooth.kept = false;
        const r = without.report;
        r.notes.push(`SmoothQuant (alpha ${o.smoothQuantAlpha}) was dropped: it made the worst output worse (cosine vs float ${c.cosineWith} with it, ${c.cosineWithout} without, on ${c.samples} calibration samples); the model is written without it`);
        return { model: without.model, report: { ...r, smoothQuant: smooth, seconds: { ...seconds, ...r.seconds, smoothQuantCheck: seconds.smoothQuantCheck } } };
      }
    }
  }

  const notes = [...result.notes];
  if (qop) {
    const conv = Object.entries(qop.converted).map(([k, n]) => `${n} ${k}`).join(', ');
    notes.push(conv ? `QOperator form: ${conv}` : 'QOperator form: no DequantizeLinear -> op -> QuantizeLinear pattern to convert');
    if (qop.kept.length) notes.push(`${qop.kept.length} quantized node${qop.kept.length === 1 ? ' stays' : 's stay'} in QDQ form: ${qop.kept.map((k) => `${k.name} (${k.reason})`).join('; ')}`);
  }
  const defaulted = cal.defaultedDims?.() ?? '';
  if (defaulted) notes.push(`calibrated with input dims left at 1: ${defaulted}; a spatial or time axis of 1 gives activation ranges unlike those of real inputs: set the sizes with --dims (in VS Code: the inputs prompt)`);
  if (cal.random) notes.push('calibrated on seeded random inputs, which are not representative of real data: the activation ranges (and the accuracy) will differ on real inputs; calibrate with --calib-data');
  if (bn.folded.length) {
    const kinds = [...new Set(bn.folded.map((f) => f.opType))].join(' and ');
    notes.push(`${bn.folded.length} ${kinds} node${bn.folded.length === 1 ? ' was' : 's were'} folded into the Conv before ${bn.folded.length === 1 ? 'it' : 'them'} (weights and bias)`);
  }
  if (result.foldedActivations.length) notes.push(`${result.foldedActivations.length} Relu/Clip node${result.foldedActivations.length === 1 ? ' was' : 's were'} merged into the quantization of ${result.foldedActivations.length === 1 ? 'its' : 'their'} input`);
  if (eq.pairs.length) notes.push(`${eq.pairs.length} Conv -> depthwise Conv pair${eq.pairs.length === 1 ? ' was' : 's were'} equalized per channel (the activation between them had channel ranges too unlike for one int8 scale): ${eq.pairs.join(', ')}`);
  if (wide.length) {
    const wideType = o.activationType === 'int8' ? 'int16' : 'uint16';
    notes.push(`${wide.length} node${wide.length === 1 ? ' has' : 's have'} ${wideType} activations (--activations16): ${wide.join(', ')}; onnxruntime has no 16-bit kernel for ${wide.length === 1 ? 'it' : 'them'} and runs ${wide.length === 1 ? 'it' : 'them'} in float between 16-bit QuantizeLinear/DequantizeLinear, at about ${wide.length === 1 ? 'its' : 'their'} FP32 speed`);
  }
  const unmatched16 = o.activations16.filter((p) => !wide.some((n) => globMatch(p, n)));
  if (unmatched16.length) notes.push(`--activations16 ${unmatched16.map((x) => `"${x}"`).join(', ')} matched no quantized node`);
  if (clamped) notes.push(`${clamped} activation range${clamped === 1 ? ' was' : 's were'} narrowed to what ${clamped === 1 ? 'its readers' : 'their readers'} can tell apart (HardSwish is 0 below -3, HardSigmoid saturates)`);
  if (sq) {
    const folded = sq.smoothed.filter((x) => x.foldedInto !== 'Mul').length;
    notes.push(sq.smoothed.length
      ? `SmoothQuant (alpha ${o.smoothQuantAlpha}) smoothed ${sq.smoothed.length} activation${sq.smoothed.length === 1 ? '' : 's'} (1/s folded into the producer for ${folded}, a Mul inserted for ${sq.smoothed.length - folded})${smooth?.comparison ? `: output cosine vs float ${smooth.comparison.cosineWithout} without, ${smooth.comparison.cosineWith} with (${smooth.comparison.samples} calibration samples)` : ''}`
      : 'SmoothQuant found no activation read only by MatMul/Gemm/1x1 Conv nodes with constant weights: nothing was smoothed');
  }
  if (accuracy && !accuracy.met) {
    const short = accuracy.outputs.filter((x) => x.cosineAfter < x.target).map((x) => `"${x.name}" ${x.cosineAfter} (target ${x.target})`).join(', ');
    notes.push(`the accuracy target ${describeTarget(accuracy.target)} was not reached: the cosine with the float model of ${short} with ${accuracy.inFloat.length} node${accuracy.inFloat.length === 1 ? '' : 's'} in float (${accuracy.maxNodes !== null ? `at most ${accuracy.maxNodes} node${accuracy.maxNodes === 1 ? '' : 's'} in float by --max-float-nodes` : 'every activation that loses to quantization was tried in float'}); 16-bit activations (--activation-type uint16) or better calibration data may help`);
  }
  if (unreached.length) notes.push(`${unreached.length} activation${unreached.length === 1 ? '' : 's'} never ran on the calibration data (If branches not taken); the nodes that read them stay in float (listed as skipped): give calibration inputs that take those branches`);
  seconds = { ...seconds };
  const report: QuantizeReport = {
    mode: o.mode, format: o.format, weightType: o.weightType, activationType: o.activationType,
    perChannel: o.perChannel, symmetricWeights: o.symmetricWeights, reduceRange: o.reduceRange, blockSize: null, accuracyLevel: null,
    opTypes: o.opTypes, sizeBefore: model.source.fileBytes, sizeAfter: 0,
    weightBytesBefore: result.weightBytesBefore, weightBytesAfter: result.weightBytesAfter,
    quantized: result.quantized, emitted: result.emitted, skipped: [...finalPlan.skipped, ...result.skipped], weights: result.weights,
    calibration: {
      method: o.calibration.method, percentile: o.calibration.method === 'percentile' ? o.calibration.percentile : null,
      samples, random: cal.random, source: cal.source, tensors: targets.length - unreached.length, unreached,
      quantizedActivations: result.activations, foldedActivations: result.foldedActivations, foldedIntoConv: bn.folded.map((f) => f.node),
    },
    seconds, opsetUpgrade, notes,
    ...(smooth ? { smoothQuant: smooth } : {}),
    ...(accuracy ? { accuracy, accuracyTarget: { target: accuracy.target, met: accuracy.met, worstOutput: accuracy.worstOutput } } : {}),
  };
  return { model: fresh, report };
}

/**
 * Runs the float model and each candidate on the first `n` calibration samples; per candidate, the cosine
 * similarity and SQNR (dB) of its worst output (each output pooled over the samples, runtime/compare).
 */
async function compareOutputs(reference: Model, candidates: Model[], cal: StaticCalibration, n: number): Promise<NonNullable<SmoothQuantSummary['comparison']>> {
  const dir = makeTempDir('compare', cal.workDir);
  const sessions: Awaited<ReturnType<CalibrationRunner['open']>>[] = [];
  try {
    for (const [i, m] of [reference, ...candidates].entries()) {
      const file = path.join(dir, `model${i}.onnx`);
      writeModel(m, file);
      sessions.push(await cal.runner.open(file));
    }
    const names = floatOutputs(reference);
    const comparers = candidates.map(() => new OutputComparer(names));
    let samples = 0;
    for await (const f of cal.feeds(reference)) {
      if (samples >= n) break;
      const outs: Record<string, FeedTensor>[] = [];
      for (const s of sessions) outs.push(await s.run(f, names));
      comparers.forEach((c, ci) => c.add(outs[0], outs[ci + 1]));
      samples++;
    }
    const worst = (c: OutputComparer) => {
      const r = c.results().map((o) => o.pooled).sort((x, y) => x.cosine - y.cosine)[0];
      return { cosine: Math.round(r.cosine * 1e5) / 1e5, sqnr: Number.isFinite(r.sqnrDb) ? Math.round(r.sqnrDb * 100) / 100 : null };
    };
    const [without, withSq] = comparers.map(worst);
    return { samples, cosineWithout: without.cosine, cosineWith: withSq.cosine, sqnrWithout: without.sqnr, sqnrWith: withSq.sqnr };
  } finally {
    for (const s of sessions) await s.release();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The cosine each float output must reach; names that are not float outputs are an error listing them. */
function outputTargets(m: Model, t: AccuracyTargetSpec | null): Map<string, number> {
  const floats = floatOutputs(m);
  const all = (m.proto.graph?.output ?? []).map((v) => v.name ?? '');
  if (!floats.length) throw new QuantizeError('invalid-options', `the accuracy target compares float outputs, and this model has none (its outputs: ${all.map((x) => `"${x}"`).join(', ')})`);
  const out = new Map<string, number>();
  if (t === null) return out;
  if (typeof t === 'number') { for (const n of floats) out.set(n, t); return out; }
  for (const name of Object.keys(t)) {
    if (name === '*') continue;
    if (!floats.includes(name)) {
      throw new QuantizeError('invalid-options', `the accuracy target names "${name}", which is not ${all.includes(name) ? 'a float output' : 'an output'} of the model; its float outputs are ${floats.map((x) => `"${x}"`).join(', ')}`);
    }
  }
  for (const n of floats) { const v = t[n] ?? t['*']; if (v !== undefined) out.set(n, v); }
  return out;
}
