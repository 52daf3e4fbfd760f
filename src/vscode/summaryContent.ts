// InspectReport -> what the model summary shows, once: facts, the description, and tables (metadata, inputs,
// outputs, operators, functions, parameters by dtype, largest tensors, external data files). The results
// panel lays it out (webview/results/summaryView.ts) and reportMarkdown.ts writes it as Markdown. Pure: no
// vscode import. Texts from the model stay plain strings here; each renderer escapes them its own way.
import { formatBytes, formatCompact, formatCount, formatNumber, formatOpsets, formatShape, sortedHistogram } from '../protocol/format';
import type { InspectReport, TensorSummary, ValueInfo } from '../protocol/inspect';
import type { SummaryContent, SummarySection } from '../protocol/results';

export function summaryContent(report: InspectReport, path?: string): SummaryContent {
  const facts: SummaryContent['facts'] = [];
  if (path) facts.push({ label: 'File', value: path, code: true });
  facts.push({ label: 'Size', value: formatBytes(report.fileBytes) });
  facts.push({ label: 'IR version', value: String(report.irVersion) });
  facts.push({ label: 'Opsets', value: formatOpsets(report.opsets), code: true });
  const producer = `${report.producer} ${report.producerVersion}`.trim();
  facts.push(producer ? { label: 'Producer', value: producer, code: true } : { label: 'Producer', value: '(none)' });
  if (report.domain) facts.push({ label: 'Domain', value: report.domain, code: true });
  facts.push({ label: 'Model version', value: String(report.modelVersion) });
  facts.push({ label: 'Nodes', value: `${formatCount(report.nodeCount)} (${Object.keys(report.opHistogram).length} op types)` });
  if (report.subgraphCount > 0) facts.push({ label: 'Subgraphs', value: formatCount(report.subgraphCount) });
  facts.push({ label: 'Parameters', value: `${formatCompact(report.parameters.count)} in ${formatBytes(report.parameters.bytes)}` });

  const sections: SummarySection[] = [];
  const metadata = Object.entries(report.metadata);
  if (metadata.length > 0) sections.push({ id: 'metadata', title: 'Metadata', empty: '', headers: [{ label: 'Key', code: true }, { label: 'Value', code: true }], rows: metadata });
  sections.push(valueSection('inputs', `Inputs (${report.inputs.length})`, report.inputs));
  sections.push(valueSection('outputs', `Outputs (${report.outputs.length})`, report.outputs));
  const ops = sortedHistogram(report.opHistogram);
  sections.push({
    id: 'operators', title: `Operators (${formatCount(report.nodeCount)} nodes, ${ops.length} op types)`, empty: 'The graph has no nodes.',
    headers: [{ label: 'Op type', code: true }, { label: 'Count', numeric: true }, { label: 'Share', numeric: true }],
    rows: ops.map(([op, n]) => [op || '(empty)', formatCount(n), percent(n, report.nodeCount)]),
  });
  if (report.functions.length > 0) {
    sections.push({
      id: 'functions', title: 'Model-local functions', empty: '', level: 3,
      headers: [{ label: 'Domain', code: true }, { label: 'Name', code: true }, { label: 'Nodes', numeric: true }],
      rows: report.functions.map((f) => [f.domain || 'ai.onnx', f.name, formatCount(f.nodeCount)]),
    });
  }
  const dtypes = Object.entries(report.parameters.byDtype).sort(([, a], [, b]) => b.bytes - a.bytes);
  sections.push({
    id: 'parameters', title: `Parameters by dtype (${formatCount(report.parameters.count)} in ${formatBytes(report.parameters.bytes)})`, empty: 'The model has no weights.',
    headers: [{ label: 'Dtype', code: true }, { label: 'Parameters', numeric: true }, { label: 'Size', numeric: true }, { label: 'Share of size', numeric: true }],
    rows: dtypes.map(([dtype, { count, bytes }]) => [dtype, formatCount(count), formatBytes(bytes), percent(bytes, report.parameters.bytes)]),
  });
  if (report.tensors.length > 0) sections.push(tensorSection(report.tensors));
  if (report.externalData.length > 0) {
    sections.push({
      id: 'external', title: 'External data files', empty: '',
      headers: [{ label: 'Location', code: true }, { label: 'Tensors', numeric: true }, { label: 'Size', numeric: true }],
      rows: report.externalData.map((e) => [e.location, formatCount(e.tensors), formatBytes(e.bytes)]),
    });
  }
  return {
    kind: 'summary',
    file: report.file || path || 'model',
    facts,
    description: report.docString.trim() ? report.docString : null,
    sections,
    actions: [{ id: 'markdown', label: 'Open as Markdown', icon: 'markdown', title: 'The same summary as a read-only Markdown document' }],
  };
}

function valueSection(id: string, title: string, values: ValueInfo[]): SummarySection {
  return {
    id, title, empty: 'None.',
    headers: [{ label: 'Name', code: true }, { label: 'Type', code: true }, { label: 'Shape', code: true }],
    rows: values.map((v) => [v.name || '(unnamed)', v.dtype, formatShape(v.shape)]),
  };
}

function tensorSection(tensors: TensorSummary[]): SummarySection {
  const withStats = tensors.some((t) => t.stats);
  const headers: SummarySection['headers'] = [{ label: 'Name', code: true }, { label: 'Dtype', code: true }, { label: 'Shape', code: true },
    { label: 'Elements', numeric: true }, { label: 'Size', numeric: true }, { label: 'Where', code: true }];
  if (withStats) for (const label of ['Min', 'Max', 'Mean', 'Std', 'Zeros']) headers.push({ label, numeric: true });
  const rows = tensors.map((t) => {
    const where = [t.origin, t.graph !== 'main' ? `in ${t.graph}` : '', t.external ? `external ${t.external.location}` : ''].filter(Boolean).join(', ');
    const row = [t.name || '(unnamed)', t.dtype, formatShape(t.shape), formatCount(t.elements), formatBytes(t.bytes), where];
    if (withStats) {
      const s = t.stats;
      row.push(...(s ? [formatNumber(s.min), formatNumber(s.max), formatNumber(s.mean), formatNumber(s.std), percent(s.sparsity, 1)] : ['', '', '', '', '']));
    }
    return row;
  });
  return { id: 'tensors', title: `Largest tensors (${tensors.length})`, empty: '', headers, rows };
}

function percent(part: number, whole: number): string {
  if (whole <= 0) return '';
  const p = (100 * part) / whole;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}
