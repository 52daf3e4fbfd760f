// A QuantizeReport as the results panel shows it, in the editor's words (notes speak of its choices, not
// of command-line flags). Pure: no vscode import.
import * as path from 'node:path';
import { formatBytes } from '../protocol/format';
import type { QuantizeContent, ReportAction, ReportFact } from '../protocol/results';
import { describeScheme, transformGains } from '../quantize/format';
import type { QuantizeReport } from '../protocol/quantize';
import { describeTarget } from '../quantize/format';
import { editorWording } from './editorWording';

const MAX_ROWS = 200;

/** The action id of "quantize again with the nodes of suggestion `i` in float". */
export const floatActionId = (i: number) => `float-${i}`;

export function quantizeReportContent(r: QuantizeReport, paths: { input: string; output: string }): QuantizeContent {
  const ratio = r.sizeBefore ? r.sizeAfter / r.sizeBefore : 0;
  const facts: ReportFact[] = [
    { label: 'Source', value: paths.input },
    { label: 'Output', value: paths.output },
    { label: 'Scheme', value: describeScheme(r) },
    { label: 'Size', value: `${formatBytes(r.sizeBefore)} → ${formatBytes(r.sizeAfter)} (${ratio.toFixed(3)}×)` },
    { label: 'Nodes', value: `${r.quantized.length} quantized, ${r.skipped.length} skipped${Object.keys(r.emitted).length ? ` (emitted ${Object.entries(r.emitted).map(([op, n]) => `${op} ${n}`).join(', ')})` : ''}` },
  ];
  if (r.calibration) {
    const c = r.calibration;
    facts.push({ label: 'Calibration', value: `${c.method}${c.percentile !== null ? ` ${c.percentile}` : ''}, ${c.samples} samples from ${c.source}${c.random ? ' (random: not representative of real data)' : ''}`, warning: c.random });
  }
  if (r.accuracy) {
    const a = r.accuracy;
    facts.push({ label: 'Accuracy target', value: `${describeTarget(a.target)}: ${a.met ? 'met' : 'NOT met'} on ${a.samples} calibration samples with ${a.inFloat.length} node${a.inFloat.length === 1 ? '' : 's'} in float (${a.evaluations} models compared)`, warning: !a.met });
  }
  for (const g of transformGains(r)) facts.push({ label: g.label, value: g.text, warning: g.dropped });
  facts.push({ label: 'Time', value: Object.entries(r.seconds).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ') });

  const target = (name: string) => r.accuracy?.outputs.find((o) => o.name === name)?.target ?? null;
  const outputs = (r.outputs ?? []).map((o) => ({ ...o, target: target(o.name) }));
  const m = r.outputsMeasuredOn;
  const outputsNote = m ? `On ${m.source}${m.random ? ' (random: not representative of real data)' : ''}${m.heldOut ? '' : ' (the calibration samples: there were no others)'}. Compare with FP32 shows every figure and plots.` : null;

  const suggestions = r.floatSuggestions ?? [];
  const notes = r.notes.map((text) => {
    const i = suggestions.findIndex((s) => text.startsWith(`output "${s.output}"`));
    const action: ReportAction | undefined = i >= 0
      ? { id: floatActionId(i), label: `Quantize again with ${suggestions[i].nodes.length} node${suggestions[i].nodes.length === 1 ? '' : 's'} in float`, icon: 'refresh', title: suggestions[i].nodes.join(', ') }
      : undefined;
    return { text: editorWording(text), ...(action ? { action } : {}) };
  });

  const sorted = [...r.weights].sort((a, b) => (a.sqnr ?? Infinity) - (b.sqnr ?? Infinity));
  const worst = outputs.length ? outputs.reduce((x, y) => (y.cosine < x.cosine ? y : x)) : undefined;
  const verdict = r.accuracy
    ? { text: `Accuracy target ${describeTarget(r.accuracy.target)} ${r.accuracy.met ? 'met' : `NOT met (output "${r.accuracy.worstOutput}")`}; ${r.quantized.length} nodes quantized, ${ratio.toFixed(2)}× the size`, ok: r.accuracy.met }
    : { text: `${r.quantized.length} node${r.quantized.length === 1 ? '' : 's'} quantized, ${ratio.toFixed(2)}× the size${worst ? `; lowest output cosine ${worst.cosine.toFixed(4)} ("${worst.name}")` : ''}`, ok: r.quantized.length ? null : false };
  return {
    kind: 'quantize', output: paths.output, verdict, facts, outputs, outputsNote, notes,
    weights: sorted.slice(0, MAX_ROWS).map((w) => ({ name: w.name, shape: w.shape.join('×'), scheme: w.scheme, sqnr: w.sqnr, bytes: `${formatBytes(w.bytesBefore)} → ${formatBytes(w.bytesAfter)}` })),
    weightCount: r.weights.length,
    skipped: r.skipped.slice(0, MAX_ROWS).map((s) => ({ name: s.graph === 'main' ? s.name : `${s.name} (${s.graph})`, opType: s.opType, reason: editorWording(s.reason) })),
    skippedCount: r.skipped.length,
    actions: [
      { id: 'open', label: 'Open Model', icon: 'type-hierarchy', primary: true, title: path.basename(paths.output) },
      { id: 'compare', label: 'Compare with FP32', icon: 'graph-scatter', title: `${path.basename(paths.output)} against ${path.basename(paths.input)}` },
      { id: 'bench', label: 'Benchmark against FP32', icon: 'dashboard', title: `Measure ${path.basename(paths.output)} and ${path.basename(paths.input)} side by side on this machine` },
    ],
  };
}
