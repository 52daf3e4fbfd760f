// Static quantization, end to end on a loaded model: prepare (opset 13 for per-axis QuantizeLinear and
// uint8 MaxPool, BatchNormalization folded into Conv, depthwise pairs equalized, SmoothQuant when asked),
// plan (what gets Q/DQ), calibrate (an augmented copy of the model, written to a temporary folder and run by
// the caller's runner over the calibration samples), then emit the QDQ model (after the accuracy target's
// search, when there is one). The model's protobuf is rewritten in place. An optional transform
// (SmoothQuant, equalization) that changed the model is kept only where it helps: a copy of the source is
// prepared and calibrated without it, both are quantized with every node in int8 and compared with the
// float model on the first calibration samples, and the worse one is dropped (static/transformCheck.ts).
import type { Model } from '../../onnx/model';
import type { AccuracyTargetSpec, FallbackSummary, QuantizeReport } from '../../protocol/quantize';
import { cloneStructure, type Feeds } from '../calibrate/calibrator';
import { QuantizeError } from '../errors';
import { describeTarget } from '../format';
import { ModelEditor } from '../graph';
import type { ResolvedOptions } from '../options';
import { emitCalibrated, paramsFromRanges, prepareAndCalibrate, round3, type Calibrated, type StaticCalibration } from './calibrated';
import { floatOutputs, keepWorstInFloat } from './fallback';
import { opCounts, qdqToQOperator, type QOperatorResult } from './qoperator';
import { staticReport } from './report';
import { keepTransformsThatHelp, uncheckedTransforms } from './transformCheck';

export type { StaticCalibration } from './calibrated';

/** Calibration samples the accuracy target compares outputs on (the first ones). */
const ACCURACY_SAMPLES = 32;

export async function quantizeStatic(model: Model, o: ResolvedOptions, cal: StaticCalibration): Promise<{ model: Model; report: QuantizeReport }> {
  const checkSamples = cal.transformCheckSamples ?? 16;
  // The float source, for the check of SmoothQuant and equalization (before anything rewrites it).
  const source = checkSamples > 0 && (o.smoothQuantAlpha !== null || o.equalize) ? model.withProto(cloneStructure(model.proto)) : undefined;
  let c = await prepareAndCalibrate(model, o, cal);
  const checked = source ? await keepTransformsThatHelp(source, c, cal, checkSamples) : { calibrated: c, transforms: uncheckedTransforms(c) };
  c = checked.calibrated;

  // 4. Emit. With an accuracy target, copies of the prepared model are emitted and compared with it first,
  // until enough of the worst nodes are in float; then the model itself is emitted with those in float.
  const t = performance.now();
  const accuracy = o.accuracyTarget !== null && c.targets.length ? await accuracySearch(c, cal) : undefined;
  if (accuracy) accuracy.seconds = round3((performance.now() - t) / 1000);
  const emitted = emitCalibrated(c, c.model, accuracy?.inFloat ?? [], accuracy && `kept in float for the accuracy target ${describeTarget(accuracy.target)}: it reads or writes an activation whose quantization costs accuracy (cosine of output "${accuracy.worstOutput}" ${accuracy.cosineBefore} with every node quantized, ${accuracy.cosineAfter} with these ${accuracy.inFloat.length} nodes in float)`);
  let qop: QOperatorResult | null = null;
  if (o.format === 'qoperator') {
    const m = c.model.withProto(c.model.proto);
    qop = qdqToQOperator(m, new ModelEditor(m));
    const emittedOps: Record<string, number> = {};
    for (const [k, n] of Object.entries(opCounts(c.model.withProto(c.model.proto)))) if (/^(com\.microsoft:)?(QLinear|QGemm|QuantizeLinear|DequantizeLinear)/.test(k)) emittedOps[k.replace(/^com\.microsoft:/, '')] = n;
    emitted.result.emitted = emittedOps;
  }
  const seconds = { ...c.seconds, ...checked.transforms.seconds, quantize: round3((performance.now() - t) / 1000) };
  const report = staticReport({ calibrated: c, emitted, qop, accuracy, transforms: checked.transforms, cal, sizeBefore: model.source.fileBytes, seconds });
  return { model: c.model.withProto(c.model.proto), report };
}

/** The accuracy target's search: copies of the calibrated model emitted with more and more nodes in float. */
async function accuracySearch(c: Calibrated, cal: StaticCalibration): Promise<FallbackSummary> {
  const o = c.options;
  const prepared = cloneStructure(c.model.proto);
  const fullParams = paramsFromRanges(c.plan, c.ranges, o).params;
  const compareOn: Feeds[] = [];
  for await (const f of cal.feeds(c.model)) { if (compareOn.length >= Math.min(ACCURACY_SAMPLES, c.samples)) break; compareOn.push(f); }
  const outcome = await keepWorstInFloat({
    reference: c.model.withProto(prepared),
    build: (extra) => emitCalibrated(c, c.model.withProto(cloneStructure(prepared)), extra),
    quantized: (key) => fullParams.has(key),
    targets: outputTargets(c.model, o.accuracyTarget), target: o.accuracyTarget!, maxNodes: o.maxFloatNodes ?? Number.POSITIVE_INFINITY,
    samples: compareOn, runner: cal.runner, workDir: cal.workDir, signal: cal.signal, onEvaluation: cal.onComparison,
  });
  return { ...outcome.summary, seconds: 0 };
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
