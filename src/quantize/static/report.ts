// The report of a static quantization: the figures the emitter, the calibration, the transforms and the
// accuracy target produced, and a note for each thing the user should know about.
import type { FallbackSummary, QuantizeReport } from '../../protocol/quantize';
import { describeTarget } from '../format';
import { globMatch } from '../pass';
import type { Calibrated, Emitted, StaticCalibration } from './calibrated';
import type { QOperatorResult } from './qoperator';
import { inWords, type CheckedTransforms } from './transformCheck';

export interface StaticOutcome {
  calibrated: Calibrated;
  emitted: Emitted;
  qop: QOperatorResult | null;
  accuracy: FallbackSummary | undefined;
  transforms: CheckedTransforms;
  cal: StaticCalibration;
  sizeBefore: number;
  seconds: Record<string, number>;
}

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

export function staticReport(x: StaticOutcome): QuantizeReport {
  const { calibrated: c, emitted: { result, plan, wide }, accuracy, transforms } = x;
  const o = c.options;
  const unreached = c.targets.filter((t) => !c.ranges.has(t.key)).map((t) => t.name);
  return {
    mode: o.mode, format: o.format, weightType: o.weightType, activationType: o.activationType,
    perChannel: o.perChannel, symmetricWeights: o.symmetricWeights, reduceRange: o.reduceRange, blockSize: null, accuracyLevel: null,
    opTypes: o.opTypes, sizeBefore: x.sizeBefore, sizeAfter: 0,
    weightBytesBefore: result.weightBytesBefore, weightBytesAfter: result.weightBytesAfter,
    quantized: result.quantized, emitted: result.emitted, skipped: [...plan.skipped, ...result.skipped], weights: result.weights,
    calibration: {
      method: o.calibration.method, percentile: o.calibration.method === 'percentile' ? o.calibration.percentile : null,
      samples: c.samples, random: x.cal.random, source: x.cal.source, tensors: c.targets.length - unreached.length, unreached,
      quantizedActivations: result.activations, foldedActivations: result.foldedActivations, foldedIntoConv: c.foldedIntoConv.map((f) => f.node),
    },
    seconds: x.seconds, opsetUpgrade: c.opsetUpgrade, notes: [...result.notes, ...qoperatorNotes(x.qop), ...preparationNotes(x), ...transforms.notes, ...outcomeNotes(x, unreached, wide)],
    ...(transforms.smoothQuant ? { smoothQuant: transforms.smoothQuant } : {}),
    ...(transforms.equalization ? { equalization: transforms.equalization } : {}),
    ...(accuracy ? { accuracy, accuracyTarget: { target: accuracy.target, met: accuracy.met, worstOutput: accuracy.worstOutput } } : {}),
  };
}

function qoperatorNotes(qop: QOperatorResult | null): string[] {
  if (!qop) return [];
  const conv = Object.entries(qop.converted).map(([k, n]) => `${n} ${k}`).join(', ');
  const notes = [conv ? `QOperator form: ${conv}` : 'QOperator form: no DequantizeLinear -> op -> QuantizeLinear pattern to convert'];
  const k = qop.kept.length;
  if (k) notes.push(`${k} quantized node${plural(k, ' stays', 's stay')} in QDQ form: ${qop.kept.map((q) => `${q.name} (${q.reason})`).join('; ')}`);
  return notes;
}

/** The calibration data, and what was folded, merged, equalized and smoothed before quantizing. */
function preparationNotes({ calibrated: c, emitted: { result }, cal, transforms }: StaticOutcome): string[] {
  const notes: string[] = [];
  const defaulted = cal.defaultedDims?.() ?? '';
  if (defaulted) notes.push(`calibrated with input dims left at 1: ${defaulted}; a spatial or time axis of 1 gives activation ranges unlike those of real inputs: set the sizes with --dims (in VS Code: the inputs prompt)`);
  if (cal.random) notes.push('calibrated on seeded random inputs, which are not representative of real data: the activation ranges (and the accuracy) will differ on real inputs; calibrate with --calib-data');
  const bn = c.foldedIntoConv.length;
  if (bn) {
    const kinds = [...new Set(c.foldedIntoConv.map((f) => f.opType))].join(' and ');
    notes.push(`${bn} ${kinds} node${plural(bn, ' was', 's were')} folded into the Conv before ${plural(bn, 'it', 'them')} (weights and bias)`);
  }
  const relu = result.foldedActivations.length;
  if (relu) notes.push(`${relu} Relu/Clip node${plural(relu, ' was', 's were')} merged into the quantization of ${plural(relu, 'its', 'their')} input`);
  const eq = c.equalized.length;
  if (eq) {
    const gain = transforms.equalization?.comparison ? ` (${inWords(transforms.equalization.comparison)})` : '';
    notes.push(`${eq} Conv -> depthwise Conv pair${plural(eq, ' was', 's were')} equalized per channel (the activation between them had channel ranges too unlike for one int8 scale)${gain}: ${c.equalized.join(', ')}`);
  }
  const sq = c.smoothed;
  if (sq) {
    const n = sq.smoothed.length;
    const folded = sq.smoothed.filter((s) => s.foldedInto !== 'Mul').length;
    const gain = transforms.smoothQuant?.comparison ? `: ${inWords(transforms.smoothQuant.comparison)}` : '';
    notes.push(n
      ? `SmoothQuant (alpha ${c.options.smoothQuantAlpha}) smoothed ${n} activation${plural(n, '', 's')} (1/s folded into the producer for ${folded}, a Mul inserted for ${n - folded})${gain}`
      : 'SmoothQuant found no activation read only by MatMul/Gemm/1x1 Conv nodes with constant weights: nothing was smoothed');
  }
  return notes;
}

/** 16-bit activations, narrowed ranges, the accuracy target's verdict, branches calibration never took. */
function outcomeNotes({ calibrated: c, emitted: { clamped }, accuracy }: StaticOutcome, unreached: string[], wide: string[]): string[] {
  const o = c.options;
  const notes: string[] = [];
  const w = wide.length;
  if (w) {
    const wideType = o.activationType === 'int8' ? 'int16' : 'uint16';
    notes.push(`${w} node${plural(w, ' has', 's have')} ${wideType} activations (--activations16): ${wide.join(', ')}; onnxruntime has no 16-bit kernel for ${plural(w, 'it', 'them')} and runs ${plural(w, 'it', 'them')} in float between 16-bit QuantizeLinear/DequantizeLinear, at about ${plural(w, 'its', 'their')} FP32 speed`);
  }
  const unmatched16 = o.activations16.filter((p) => !wide.some((n) => globMatch(p, n)));
  if (unmatched16.length) notes.push(`--activations16 ${unmatched16.map((p) => `"${p}"`).join(', ')} matched no quantized node`);
  if (clamped) notes.push(`${clamped} activation range${plural(clamped, ' was', 's were')} narrowed to what ${plural(clamped, 'its readers', 'their readers')} can tell apart (HardSwish is 0 below -3, HardSigmoid saturates)`);
  if (accuracy && !accuracy.met) {
    const short = accuracy.outputs.filter((a) => a.cosineAfter < a.target).map((a) => `"${a.name}" ${a.cosineAfter} (target ${a.target})`).join(', ');
    const n = accuracy.inFloat.length;
    const bound = accuracy.maxNodes !== null ? `at most ${accuracy.maxNodes} node${plural(accuracy.maxNodes, '', 's')} in float by --max-float-nodes` : 'every activation that loses to quantization was tried in float';
    notes.push(`the accuracy target ${describeTarget(accuracy.target)} was not reached: the cosine with the float model of ${short} with ${n} node${plural(n, '', 's')} in float (${bound}); 16-bit activations (--activation-type uint16) or better calibration data may help`);
  }
  const u = unreached.length;
  if (u) notes.push(`${u} activation${plural(u, '', 's')} never ran on the calibration data (If branches not taken); the nodes that read them stay in float (listed as skipped): give calibration inputs that take those branches`);
  return notes;
}
