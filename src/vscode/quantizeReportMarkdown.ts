// A QuantizeReport as Markdown, for the document the Quantize Model command opens. Pure: no vscode import.
import { formatBytes } from '../protocol/format';
import { describeScheme, transformGains } from '../quantize/format';
import type { QuantizeReport } from '../protocol/quantize';
import { describeTarget } from '../quantize/format';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const MAX_ROWS = 200;

export function quantizeReportToMarkdown(r: QuantizeReport, paths: { input: string; output: string }): string {
  const lines: string[] = [];
  lines.push(`# Quantized: ${cell(paths.output.split(/[\\/]/).pop() ?? paths.output)}`, '');
  lines.push('| what | value |', '|---|---|');
  lines.push(`| source | \`${cell(paths.input)}\` |`);
  lines.push(`| output | \`${cell(paths.output)}\` |`);
  lines.push(`| scheme | ${cell(describeScheme(r))} |`);
  lines.push(`| size | ${formatBytes(r.sizeBefore)} -> ${formatBytes(r.sizeAfter)} (${r.sizeBefore ? (r.sizeAfter / r.sizeBefore).toFixed(3) : '-'}x) |`);
  const emitted = Object.entries(r.emitted).map(([op, n]) => `${op} ${n}`).join(', ');
  lines.push(`| nodes quantized | ${r.quantized.length}${emitted ? ` (emitted ${cell(emitted)})` : ''} |`);
  lines.push(`| nodes skipped | ${r.skipped.length} |`);
  if (r.calibration) {
    const c = r.calibration;
    lines.push(`| calibration | ${c.method}${c.percentile !== null ? ` ${c.percentile}` : ''}, ${c.samples} samples from ${cell(c.source)}${c.random ? ' (**random: not representative**)' : ''} |`);
  }
  if (r.accuracy) {
    const a = r.accuracy;
    lines.push(`| accuracy target | ${describeTarget(a.target)} (${a.met ? 'met' : '**not met**'}) on ${a.samples} calibration samples, ${a.inFloat.length} nodes kept in float: ${a.outputs.map((o) => `${cell(o.name)} ${o.cosineBefore} -> ${o.cosineAfter}${o.cosineAfter < o.target ? ' (**below**)' : ''}`).join(', ')} |`);
  }
  for (const g of transformGains(r)) lines.push(`| ${g.label} | ${g.dropped ? `**${g.text}**` : g.text} |`);
  lines.push(`| time | ${Object.entries(r.seconds).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ')} |`, '');
  if (r.outputs && r.outputsMeasuredOn) {
    const m = r.outputsMeasuredOn;
    lines.push('## Outputs against the source model', '', `On ${cell(m.source)}${m.random ? ' (**random: not representative**)' : ''}${m.heldOut ? '' : ' (the calibration samples: there were no others)'}. Run *ONNX: Compare with FP32…* for every figure and plots.`, '');
    lines.push('| output | cosine | worst sample | SQNR dB | max abs |', '|---|---|---|---|---|');
    for (const o of r.outputs) lines.push(`| ${cell(o.name)} | ${o.cosine.toFixed(6)} | ${o.worstCosine.toFixed(6)} | ${o.sqnrDb === null ? 'exact' : o.sqnrDb.toFixed(2)} | ${Number(o.maxAbs.toPrecision(4))} |`);
    lines.push('');
  }
  if (r.notes.length) {
    lines.push('## Notes', '');
    for (const n of r.notes) lines.push(`- ${cell(n)}`);
    lines.push('');
  }
  if (r.weights.length) {
    lines.push('## Weights (lowest SQNR first)', '', '| weight | shape | scheme | SQNR dB | bytes |', '|---|---|---|---|---|');
    const sorted = [...r.weights].sort((a, b) => (a.sqnr ?? Infinity) - (b.sqnr ?? Infinity));
    for (const w of sorted.slice(0, MAX_ROWS)) {
      lines.push(`| ${cell(w.name)} | ${w.shape.join('x')} | ${cell(w.scheme)} | ${w.sqnr === null ? 'exact' : w.sqnr.toFixed(1)} | ${formatBytes(w.bytesBefore)} -> ${formatBytes(w.bytesAfter)} |`);
    }
    if (sorted.length > MAX_ROWS) lines.push('', `... and ${sorted.length - MAX_ROWS} more.`);
    lines.push('');
  }
  if (r.skipped.length) {
    lines.push('## Skipped nodes', '', '| node | op | why |', '|---|---|---|');
    for (const s of r.skipped.slice(0, MAX_ROWS)) lines.push(`| ${cell(s.name)}${s.graph === 'main' ? '' : ` (${cell(s.graph)})`} | ${s.opType} | ${cell(s.reason)} |`);
    if (r.skipped.length > MAX_ROWS) lines.push('', `... and ${r.skipped.length - MAX_ROWS} more.`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
