// InspectReport -> the text `onnxq inspect` prints: aligned columns a person can scan.
import { formatBytes, formatCount, formatNumber, formatOpsets, formatShape, sortedHistogram } from '../protocol/format';
import type { InspectReport, ValueInfo } from '../protocol/inspect';

function table(rows: string[][], indent = '  '): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => indent + r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n') + '\n';
}

export function formatInspectReport(r: InspectReport): string {
  const io = (list: ValueInfo[]) => (list.length ? table(list.map((v) => [v.name, v.dtype, `${formatShape(v.shape)}${v.observed ? ' (seen in a run)' : ''}`])) : '  (none)\n');
  let s = `${r.file || 'model'}  (${formatBytes(r.fileBytes)})\n`;
  s += `  IR version ${r.irVersion}; opsets ${formatOpsets(r.opsets)}\n`;
  s += `  producer ${r.producer || '(none)'}${r.producerVersion ? ` ${r.producerVersion}` : ''}\n`;
  for (const [k, v] of Object.entries(r.metadata)) s += `  ${k}: ${v}\n`;
  s += `\nInputs\n${io(r.inputs)}\nOutputs\n${io(r.outputs)}`;
  s += `\nNodes: ${formatCount(r.nodeCount)}${r.subgraphCount ? ` (including ${r.subgraphCount} subgraphs)` : ''}\n`;
  const ops = sortedHistogram(r.opHistogram);
  if (ops.length) s += table(ops.map(([op, n]) => [op, formatCount(n)]));
  if (r.functions.length) s += `\nFunctions\n${table(r.functions.map((f) => [`${f.domain}.${f.name}`, `${f.nodeCount} nodes`]))}`;
  s += `\nParameters: ${formatCount(r.parameters.count)} (${formatBytes(r.parameters.bytes)})\n`;
  const dtypes = Object.entries(r.parameters.byDtype).sort((a, b) => b[1].bytes - a[1].bytes);
  if (dtypes.length) s += table(dtypes.map(([d, v]) => [d, formatCount(v.count), formatBytes(v.bytes)]));
  if (r.externalData.length) {
    s += `\nExternal data\n${table(r.externalData.map((e) => [e.location, `${e.tensors} tensors`, formatBytes(e.bytes)]))}`;
  }
  if (r.tensors.length) {
    s += `\nLargest tensors\n`;
    const head = ['name', 'dtype', 'shape', 'size'];
    const withStats = r.tensors.some((t) => t.stats);
    if (withStats) head.push('min', 'max', 'mean', 'std', 'zeros');
    s += table([head, ...r.tensors.map((t) => {
      const row = [t.name, t.dtype, formatShape(t.shape), formatBytes(t.bytes)];
      if (withStats) {
        const st = t.stats;
        row.push(...(st ? [formatNumber(st.min), formatNumber(st.max), formatNumber(st.mean), formatNumber(st.std), `${(st.sparsity * 100).toFixed(1)}%`] : ['', '', '', '', '']));
      }
      return row;
    })]);
    const detailed = r.tensors.filter((t) => t.stats);
    if (detailed.length) {
      s += '\nDistributions (percentiles of the finite values, non-finite counts, histogram from min to max)\n';
      for (const t of detailed) {
        const st = t.stats!;
        const pct = ['p1', 'p50', 'p99'].filter((k) => st.percentiles[k] !== undefined).map((k) => `${k} ${formatNumber(st.percentiles[k])}`).join('  ');
        s += `  ${t.name}\n    ${pct}  NaN ${formatCount(st.nan)}  Inf ${formatCount(st.inf)}\n    ${sparkline(st.histogram.counts)}  (${st.histogram.counts.length} bins, ${formatNumber(st.histogram.min)} .. ${formatNumber(st.histogram.max)})\n`;
      }
    }
  }
  if (r.valueInfo) s += `\nValues (${formatCount(r.valueInfo.length)}, main graph)\n${io(r.valueInfo)}`;
  return s;
}

const BLOCKS = '▁▂▃▄▅▆▇█';
/** A histogram as one line of block characters, at most `width` wide (neighbouring bins summed); an empty bin is a space. */
export function sparkline(counts: readonly number[], width = 48): string {
  const group = Math.max(1, Math.ceil(counts.length / width));
  const cells: number[] = [];
  for (let i = 0; i < counts.length; i += group) cells.push(counts.slice(i, i + group).reduce((a, b) => a + b, 0));
  const top = Math.max(0, ...cells);
  return cells.map((c) => (c === 0 || top === 0 ? ' ' : BLOCKS[Math.min(BLOCKS.length - 1, Math.floor((c / top) * (BLOCKS.length - 1) + 0.5))])).join('');
}
