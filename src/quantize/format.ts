// A QuantizeReport as terminal text (what `onnxq quantize` prints without --json).
import { formatBytes } from '../protocol/format';
import type { AccuracyTargetSpec, QuantizeReport, TransformComparison } from '../protocol/quantize';

export function describeScheme(r: QuantizeReport): string {
  if (r.mode === 'weight-only') return `weight-only ${r.weightType} ${r.symmetricWeights ? 'symmetric' : 'asymmetric'}, block ${r.blockSize}, accuracy level ${r.accuracyLevel} (MatMulNBits)`;
  const main = `${r.weightType} ${r.symmetricWeights ? 'symmetric' : 'asymmetric'} ${r.perChannel ? 'per-channel' : 'per-tensor'}${r.reduceRange ? ' reduced-range' : ''}`;
  // Dynamic ConvInteger (uint8) and DynamicQuantizeLSTM (int8, per-channel by default) weights have schemes of their own.
  const others = r.mode === 'dynamic' ? [...new Set(r.weights.map((w) => w.scheme).filter((x) => x !== main))] : [];
  const weights = !others.length ? main : r.weights.some((w) => w.scheme === main) ? `${main} (Conv/LSTM: ${others.join(', ')})` : others.join(', ');
  return `${r.mode} ${weights} weights, ${r.activationType} activations (${r.format === 'qdq' ? 'QDQ' : 'QOperator'})`;
}

export function formatQuantizeReport(r: QuantizeReport, input: string, output: string, maxSkipped = 20): string {
  const lines: string[] = [];
  lines.push(`${input} -> ${output}`);
  lines.push(`  scheme:    ${describeScheme(r)}`);
  lines.push(`  size:      ${formatBytes(r.sizeBefore)} -> ${formatBytes(r.sizeAfter)} (${r.sizeBefore ? (r.sizeAfter / r.sizeBefore).toFixed(3) : '-'}x)`);
  const emitted = Object.entries(r.emitted).map(([op, n]) => `${op} ${n}`).join(', ');
  lines.push(`  quantized: ${r.quantized.length} node${r.quantized.length === 1 ? '' : 's'}${emitted ? ` (emitted ${emitted})` : ''}`);
  if (r.weights.length) {
    const sq = r.weights.map((w) => w.sqnr).filter((s): s is number => s !== null).sort((a, b) => a - b);
    const worst = r.weights.filter((w) => w.sqnr !== null).sort((a, b) => a.sqnr! - b.sqnr!)[0];
    if (sq.length) lines.push(`  weights:   ${r.weights.length}, SQNR median ${sq[sq.length >> 1].toFixed(1)} dB, lowest ${sq[0].toFixed(1)} dB (${worst.name})`);
    lines.push(`             ${formatBytes(r.weightBytesBefore)} -> ${formatBytes(r.weightBytesAfter)}`);
  }
  if (r.calibration) {
    const c = r.calibration;
    lines.push(`  calibrate: ${c.method}${c.percentile !== null ? ` ${c.percentile}` : ''}, ${c.samples} sample${c.samples === 1 ? '' : 's'} from ${c.source}${c.random ? ' (RANDOM: not representative)' : ''}; ${c.tensors} ranges, ${c.quantizedActivations} activations quantized${c.foldedActivations.length ? `, ${c.foldedActivations.length} Relu/Clip folded` : ''}${c.foldedIntoConv.length ? `, ${c.foldedIntoConv.length} folded into Conv` : ''}`);
  }
  if (r.accuracy) {
    const a = r.accuracy;
    lines.push(`  accuracy:  target ${describeTarget(a.target)} ${a.met ? 'met' : 'NOT met'} on ${a.samples} calibration samples, ${a.inFloat.length} node${a.inFloat.length === 1 ? '' : 's'} kept in float${a.inFloat.length ? `: ${a.inFloat.join(', ')}` : ''}; ${a.evaluations} model${a.evaluations === 1 ? '' : 's'} compared`);
    for (const o of a.outputs) lines.push(`             "${o.name}": cosine ${o.cosineBefore} -> ${o.cosineAfter} (target ${o.target}${o.cosineAfter < o.target ? ', NOT met' : ''})`);
  }
  if (r.outputs && r.outputsMeasuredOn) {
    const m = r.outputsMeasuredOn;
    lines.push(`  outputs:   against the source model on ${m.source}${m.random ? ' (RANDOM: not representative)' : ''}${m.heldOut ? '' : ' (the calibration samples: no others were given)'}`);
    for (const o of r.outputs) lines.push(`             "${o.name}": cosine ${o.cosine.toFixed(6)} (worst sample ${o.worstCosine.toFixed(6)}), SQNR ${o.sqnrDb === null ? 'exact' : `${o.sqnrDb.toFixed(2)} dB`}, max abs ${Number(o.maxAbs.toPrecision(4))}`);
  }
  if (r.opsetUpgrade) lines.push(`  opset:     raised from ${r.opsetUpgrade.from} to ${r.opsetUpgrade.to}${r.opsetUpgrade.rewritten.length ? ` (${r.opsetUpgrade.rewritten.length} nodes rewritten to the new form)` : ''}`);
  if (r.skipped.length) {
    lines.push(`  skipped:   ${r.skipped.length} node${r.skipped.length === 1 ? '' : 's'}`);
    for (const s of r.skipped.slice(0, maxSkipped)) lines.push(`    ${s.name} (${s.opType}${s.graph === 'main' ? '' : `, in ${s.graph}`}): ${s.reason}`);
    if (r.skipped.length > maxSkipped) lines.push(`    ... and ${r.skipped.length - maxSkipped} more (--json lists all)`);
  }
  lines.push(`  time:      ${Object.entries(r.seconds).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ')}`);
  for (const n of r.notes) lines.push(`  note:      ${n}`);
  return `${lines.join('\n')}\n`;
}

/** The target as the user gave it: `0.99` or `scores=0.99,boxes=0.999`. */
export function describeTarget(t: AccuracyTargetSpec): string {
  return typeof t === 'number' ? String(t) : Object.entries(t).map(([k, v]) => `${k}=${v}`).join(',');
}

/** SmoothQuant's and equalization's measured gain, one entry each (`alpha 0.5: cosine 0.9912 without, 0.9987 with`). */
export function transformGains(r: QuantizeReport): { label: string; text: string; dropped: boolean }[] {
  const out: { label: string; text: string; dropped: boolean }[] = [];
  const add = (label: string, what: string, c: TransformComparison | null | undefined, kept: boolean) => {
    if (c) out.push({ label, text: `${what}: output cosine ${c.cosineWithout} without, ${c.cosineWith} with${kept ? '' : '; dropped, the model is written without it'}`, dropped: !kept });
  };
  if (r.smoothQuant) add('SmoothQuant', `alpha ${r.smoothQuant.alpha}`, r.smoothQuant.comparison, r.smoothQuant.kept);
  if (r.equalization) add('Equalization', `${r.equalization.pairs.length} Conv -> depthwise Conv pair${r.equalization.pairs.length === 1 ? '' : 's'}`, r.equalization.comparison, r.equalization.kept);
  return out;
}
