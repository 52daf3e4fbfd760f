// A CompareResult as terminal text and as Markdown (the same table: one row per output, the worst sample
// first in each cell, then the mean over samples).
import { formatFigure, isOneValue } from './compare';
import type { CompareResult, JudgedOutput, ModelRun } from '../protocol/compare';
import type { LayerComparison } from '../protocol/layers';
import { describeDefaulted } from './inputSpecCheck';

const provider = (r: ModelRun) => `${r.provider.used}${r.provider.cpuFallback ? ` (CPU fallback: ${r.provider.skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')})` : ''}`;
const shape = (o: JudgedOutput) => `[${o.dims.join(', ')}]`;
const verdict = (o: JudgedOutput) => (o.pass === null ? '-' : o.pass ? 'pass' : 'FAIL');

/** The policy in words: "cosine >= 0.99, atol 1e-5 + rtol 1e-3". */
export function describePolicy(r: CompareResult): string {
  const p = r.policy, parts: string[] = [];
  if (p.minCosine !== undefined) parts.push(`cosine >= ${p.minCosine} on every sample`);
  if (p.tolerance) parts.push(`|a - b| <= ${p.tolerance.atol} + ${p.tolerance.rtol} x |a|`);
  return parts.join(', ');
}

/** One line: PASS / FAIL naming the failing outputs, or that no tolerance was given. */
export function summaryLine(r: CompareResult): string {
  if (r.pass === null) return 'no tolerance given: figures only (--min-cosine, --atol, --rtol to check)';
  if (r.pass) return `PASS: every output within ${describePolicy(r)}`;
  const bad = r.outputs.filter((o) => o.pass === false);
  return `FAIL: ${bad.map((o) => `"${o.name}" (${o.failures.join('; ')})`).join(', ')}`;
}

function rows(r: CompareResult): string[][] {
  return r.outputs.map((o) => [
    o.name, `${o.type} ${shape(o)}`,
    // One value per sample: its cosine alone is only a sign; the samples pooled say more.
    isOneValue(o) ? `${formatFigure(o.pooled.cosine, 'cosine')} (samples pooled)` : `${formatFigure(o.worst.cosine, 'cosine')} / ${formatFigure(o.mean.cosine, 'cosine')}`,
    `${formatFigure(o.worst.sqnrDb, 'sqnrDb')} / ${formatFigure(o.mean.sqnrDb, 'sqnrDb')}`,
    formatFigure(o.worst.maxAbs, 'maxAbs'), formatFigure(o.mean.meanAbs, 'meanAbs'), formatFigure(o.mean.rmse, 'rmse'),
    o.topK ? `${(o.topK.agreement * 100).toFixed(1)}% (top-${o.topK.k})` : '-',
    verdict(o),
  ]);
}

const HEAD = ['output', 'type', 'cosine worst / mean', 'SQNR worst / mean', 'max abs', 'mean abs', 'rmse', 'top-k', 'verdict'];

function header(r: CompareResult): string[] {
  const lines = r.expected
    ? [`model:    ${r.a.file} on ${provider(r.a)}`, `expected: ${r.expected}`]
    : [`A (reference): ${r.a.file} on ${provider(r.a)}`, `B:             ${r.b.file} on ${JSON.stringify(r.b.provider) === JSON.stringify(r.a.provider) && r.a.provider.cpuFallback ? 'cpu (CPU fallback, as for A)' : provider(r.b)}`];
  lines.push(`inputs:   ${r.inputs.source}${r.inputs.random ? ' (random: not representative of real data)' : ''}`);
  if (r.inputs.defaulted.length) lines.push(`          dims left at 1: ${describeDefaulted(r.inputs.defaulted)} (--dims to set them)`);
  return lines;
}

/** Layers shown in text and Markdown (JSON has every one). */
export const LAYERS_SHOWN = 20;
const LAYER_HEAD = ['node', 'op', 'tensor', 'SQNR', 'SQNR drop', 'cosine', 'max abs'];

function layerRows(l: LayerComparison): string[][] {
  return l.layers.slice(0, LAYERS_SHOWN).map((x) => [
    x.node, x.opType, x.fp32Tensor === x.tensor ? x.tensor : `${x.tensor} (${x.fp32Tensor})`,
    formatFigure(x.sqnrDb, 'sqnrDb'), formatFigure(x.sqnrDropDb, 'sqnrDb'), formatFigure(x.cosine, 'cosine'), formatFigure(x.maxAbs, 'maxAbs'),
  ]);
}

function diffLine(l: LayerComparison): string {
  const c = l.diff.counts;
  return `graph: ${c.quantized} node${c.quantized === 1 ? '' : 's'} quantized, ${c.float} left in float, ${c.added} added by quantization, ${c.removed} of the FP32 model gone (folded or merged)`
    + (c.inSubgraphs ? `; and ${c.inSubgraphs} quantized node${c.inSubgraphs === 1 ? '' : 's'} inside If/Loop/Scan bodies, which this comparison does not take layer by layer` : '');
}

function layerTitle(l: LayerComparison): string {
  return `layers: ${l.layers.length} compared on ${l.samples} sample${l.samples === 1 ? '' : 's'}, the largest SQNR drop first (drop: the inputs' SQNR less the layer's own)${l.layers.length > LAYERS_SHOWN ? ` (the first ${LAYERS_SHOWN}; --json for all)` : ''}`;
}

function unmappedLines(l: LayerComparison): string[] {
  if (!l.unmapped.length) return [];
  const shown = l.unmapped.slice(0, 10).map((u) => `  ${u.tensor} (${u.opType} ${u.node}): ${u.reason}`);
  return [`${l.unmapped.length} tensor${l.unmapped.length === 1 ? '' : 's'} of B with no FP32 counterpart:`, ...shown, ...(l.unmapped.length > 10 ? [`  ... and ${l.unmapped.length - 10} more (--json)`] : [])];
}

function textTable(table: string[][]): string[] {
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  return table.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
}

export function formatCompareText(r: CompareResult): string {
  const lines = header(r);
  lines.push('', ...textTable([HEAD, ...rows(r)]), '');
  if (r.layers) lines.push(diffLine(r.layers), layerTitle(r.layers), '', ...textTable([LAYER_HEAD, ...layerRows(r.layers)]), '', ...unmappedLines(r.layers), ...(r.layers.unmapped.length ? [''] : []));
  for (const o of r.outputs) for (const f of o.failures) lines.push(`  "${o.name}": ${f}`);
  lines.push(summaryLine(r));
  return `${lines.join('\n')}\n`;
}

export function formatCompareMarkdown(r: CompareResult): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = header(r).map((l) => `${l.trim()}  `);
  lines.push('', `| ${HEAD.join(' | ')} |`, `|${HEAD.map(() => '---').join('|')}|`);
  for (const row of rows(r)) lines.push(`| ${row.map(esc).join(' | ')} |`);
  if (r.layers) {
    lines.push('', `${diffLine(r.layers)}  `, `${layerTitle(r.layers)}`, '', `| ${LAYER_HEAD.join(' | ')} |`, `|${LAYER_HEAD.map(() => '---').join('|')}|`);
    for (const row of layerRows(r.layers)) lines.push(`| ${row.map(esc).join(' | ')} |`);
    const um = unmappedLines(r.layers);
    if (um.length) lines.push('', ...um.map((x) => `${x}  `));
  }
  lines.push('', `**${summaryLine(r)}**`);
  return `${lines.join('\n')}\n`;
}
