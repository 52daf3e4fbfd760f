// The Model panel: what the summary showed before the graph view existed. Metadata, producer, IR and
// opset versions, inputs and outputs, totals (parameters, bytes by dtype, op histogram), the largest
// tensors and external data files.
import { formatBytes, formatCompact, formatCount, formatNumber, formatOpsets, sortedHistogram } from '../../src/protocol/format';
import type { InspectReport, TensorSummary, ValueInfo } from '../../src/protocol/inspect';
import { h, section, shapeNode, share, table, type Cell, type Header } from '../ui/dom';

export function summaryView(r: InspectReport): HTMLElement {
  const ops = sortedHistogram(r.opHistogram);
  const parts: Node[] = [section('model', 'Model', overview(r))];
  if (r.docString.trim()) parts.push(section('description', 'Description', h('p', { class: 'doc' }, r.docString)));
  const metadata = Object.entries(r.metadata);
  if (metadata.length > 0) {
    parts.push(
      section(
        'metadata',
        `Metadata (${metadata.length})`,
        table({ id: 'metadata-table', caption: 'Metadata properties', headers: [{ label: 'Key' }, { label: 'Value' }], rows: metadata.map(([k, v]) => [k, h('span', { class: 'value' }, v)]) }),
      ),
    );
  }
  parts.push(section('inputs', `Inputs (${r.inputs.length})`, valueTable('inputs-table', 'Graph inputs', r.inputs)));
  parts.push(section('outputs', `Outputs (${r.outputs.length})`, valueTable('outputs-table', 'Graph outputs', r.outputs)));
  parts.push(
    section(
      'operators',
      `Operators (${ops.length} op types)`,
      h(
        'p',
        {},
        h('span', { id: 'node-count', 'data-node-count': String(r.nodeCount) }, formatCount(r.nodeCount)),
        ` nodes${r.subgraphCount > 0 ? `, in the main graph and ${r.subgraphCount} subgraph${r.subgraphCount === 1 ? '' : 's'}` : ''}.`,
      ),
      ops.length === 0
        ? h('p', {}, 'The graph has no nodes.')
        : table({
            id: 'ops-table',
            caption: 'Nodes per op type',
            headers: [{ label: 'Op type' }, { label: 'Count', numeric: true }, { label: 'Share', numeric: true }],
            rows: ops.map(([op, n]) => [op || '(empty)', formatCount(n), share(n, r.nodeCount)]),
          }),
      r.functions.length === 0
        ? null
        : table({
            id: 'functions-table',
            caption: 'Model-local functions',
            headers: [{ label: 'Name' }, { label: 'Domain' }, { label: 'Nodes', numeric: true }],
            rows: r.functions.map((f) => [f.name, f.domain || 'ai.onnx', formatCount(f.nodeCount)]),
          }),
    ),
  );
  const dtypes = Object.entries(r.parameters.byDtype).sort(([, a], [, b]) => b.bytes - a.bytes);
  parts.push(
    section(
      'parameters',
      'Parameters by dtype',
      h('p', {}, `${formatCount(r.parameters.count)} parameters${compactSuffix(r.parameters.count)} in ${formatBytes(r.parameters.bytes)}.`),
      dtypes.length === 0
        ? h('p', {}, 'The model has no weights.')
        : table({
            id: 'dtypes-table',
            caption: 'Parameters per data type',
            headers: [{ label: 'Dtype' }, { label: 'Parameters', numeric: true }, { label: 'Size', numeric: true }, { label: 'Share of size', numeric: true }],
            rows: dtypes.map(([dtype, d]) => [dtype, formatCount(d.count), formatBytes(d.bytes), share(d.bytes, r.parameters.bytes)]),
          }),
    ),
  );
  if (r.tensors.length > 0) parts.push(section('tensors', `Largest tensors (${r.tensors.length})`, tensorTable(r.tensors)));
  if (r.externalData.length > 0) {
    parts.push(
      section(
        'external',
        `External data files (${r.externalData.length})`,
        table({
          id: 'external-table',
          caption: 'Files holding tensor data outside the model',
          headers: [{ label: 'Location' }, { label: 'Tensors', numeric: true }, { label: 'Size', numeric: true }],
          rows: r.externalData.map((e) => [e.location, formatCount(e.tensors), formatBytes(e.bytes)]),
        }),
      ),
    );
  }
  return h('div', { class: 'summary' }, ...parts);
}

function overview(r: InspectReport): HTMLElement {
  const rows: [string, Node | string][] = [
    ['IR version', String(r.irVersion)],
    ['Opsets', formatOpsets(r.opsets)],
    ['Producer', `${r.producer} ${r.producerVersion}`.trim() || '(none)'],
  ];
  if (r.domain) rows.push(['Domain', r.domain]);
  rows.push(['Model version', String(r.modelVersion)]);
  rows.push(['Nodes', formatCount(r.nodeCount)]);
  if (r.subgraphCount > 0) rows.push(['Subgraphs', formatCount(r.subgraphCount)]);
  if (r.functions.length > 0) rows.push(['Functions', formatCount(r.functions.length)]);
  rows.push(['Parameters', `${formatCompact(r.parameters.count)} (${formatBytes(r.parameters.bytes)})`]);
  rows.push(['File size', formatBytes(r.fileBytes)]);
  return h('dl', { class: 'facts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function valueTable(id: string, caption: string, values: ValueInfo[]): HTMLElement {
  if (values.length === 0) return h('p', {}, 'None.');
  return table({
    id,
    caption,
    headers: [{ label: 'Name' }, { label: 'Type' }, { label: 'Shape' }],
    rows: values.map((v) => [v.name || '(unnamed)', v.dtype, shapeNode(v.shape)]),
  });
}

function tensorTable(tensors: TensorSummary[]): HTMLElement {
  const withStats = tensors.some((t) => t.stats);
  const headers: Header[] = [
    { label: 'Name' },
    { label: 'Dtype' },
    { label: 'Shape' },
    { label: 'Elements', numeric: true },
    { label: 'Size', numeric: true },
    { label: 'Where' },
  ];
  if (withStats) headers.push({ label: 'Min', numeric: true }, { label: 'Max', numeric: true }, { label: 'Mean', numeric: true }, { label: 'Std', numeric: true });
  return table({
    id: 'tensors-table',
    caption: 'The largest weight tensors, by size',
    headers,
    rows: tensors.map((t) => {
      const where = [t.origin, t.graph !== 'main' ? `in ${t.graph}` : '', t.external ? `external: ${t.external.location}` : ''].filter(Boolean).join(', ');
      const row: Cell[] = [t.name || '(unnamed)', t.dtype, shapeNode(t.shape), formatCount(t.elements), formatBytes(t.bytes), where];
      if (withStats) {
        const s = t.stats;
        row.push(...(s ? [formatNumber(s.min), formatNumber(s.max), formatNumber(s.mean), formatNumber(s.std)] : ['', '', '', '']));
      }
      return row;
    }),
  });
}

/** " (12.3 M)" when the compact form says something the full count does not. */
function compactSuffix(n: number): string {
  const compact = formatCompact(n);
  return compact === formatCount(n) ? '' : ` (${compact})`;
}
