// InspectReport -> the text `onnxq inspect` prints: aligned columns a person can scan.
import type { Dim, InspectReport, ValueInfo } from './report';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatShape(shape: Dim[] | null): string {
  return shape === null ? '(unknown rank)' : `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

function table(rows: string[][], indent = '  '): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => indent + r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n') + '\n';
}

const num = (n: number) => n.toLocaleString('en-US');
const g = (n: number) => (Number.isFinite(n) ? Number(n.toPrecision(5)).toString() : String(n));

export function formatInspectReport(r: InspectReport): string {
  const io = (list: ValueInfo[]) => (list.length ? table(list.map((v) => [v.name, v.dtype, formatShape(v.shape)])) : '  (none)\n');
  let s = `${r.file || 'model'}  (${formatBytes(r.fileBytes)})\n`;
  s += `  IR version ${r.irVersion}; opsets ${Object.entries(r.opsets).map(([d, v]) => `${d} ${v}`).join(', ')}\n`;
  s += `  producer ${r.producer || '(none)'}${r.producerVersion ? ` ${r.producerVersion}` : ''}\n`;
  for (const [k, v] of Object.entries(r.metadata)) s += `  ${k}: ${v}\n`;
  s += `\nInputs\n${io(r.inputs)}\nOutputs\n${io(r.outputs)}`;
  s += `\nNodes: ${num(r.nodeCount)}${r.subgraphCount ? ` (including ${r.subgraphCount} subgraphs)` : ''}\n`;
  const ops = Object.entries(r.opHistogram).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (ops.length) s += table(ops.map(([op, n]) => [op, num(n)]));
  if (r.functions.length) s += `\nFunctions\n${table(r.functions.map((f) => [`${f.domain}.${f.name}`, `${f.nodeCount} nodes`]))}`;
  s += `\nParameters: ${num(r.parameters.count)} (${formatBytes(r.parameters.bytes)})\n`;
  const dtypes = Object.entries(r.parameters.byDtype).sort((a, b) => b[1].bytes - a[1].bytes);
  if (dtypes.length) s += table(dtypes.map(([d, v]) => [d, num(v.count), formatBytes(v.bytes)]));
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
        row.push(...(st ? [g(st.min), g(st.max), g(st.mean), g(st.std), `${(st.sparsity * 100).toFixed(1)}%`] : ['', '', '', '', '']));
      }
      return row;
    })]);
  }
  return s;
}
