// InspectReport -> a readable Markdown summary (the `onnxq.inspectModel` command's document).
// Pure: no vscode import, so it can be unit-tested with plain Node.
//
// Every string from the model is attacker-controlled: names and values go into code spans (nothing inside
// is interpreted, pipes escaped for tables), free text into fenced blocks longer than any backtick run.
import type { InspectReport, TensorSummary, ValueInfo } from '../protocol/inspect';
import {
  formatBytes,
  formatCompact,
  formatCount,
  formatNumber,
  formatOpsets,
  formatShape,
  sortedHistogram,
} from '../protocol/format';

export interface MarkdownOptions {
  /** The model's path as the user knows it (the report holds only the base name). */
  path?: string;
}

export function reportToMarkdown(report: InspectReport, options: MarkdownOptions = {}): string {
  const out: string[] = [];
  const title = report.file || (options.path ?? 'model');
  // The first line names the untitled document's tab: the file name first, as plain (escaped) text.
  out.push(`# ${headingText(title)} · ONNX model summary`, '');

  const rows: [string, string][] = [];
  if (options.path) rows.push(['File', code(options.path)]);
  rows.push(['Size', formatBytes(report.fileBytes)]);
  rows.push(['IR version', String(report.irVersion)]);
  rows.push(['Opsets', code(formatOpsets(report.opsets))]);
  rows.push(['Producer', report.producer || report.producerVersion ? code(`${report.producer} ${report.producerVersion}`.trim()) : '(none)']);
  if (report.domain) rows.push(['Domain', code(report.domain)]);
  rows.push(['Model version', String(report.modelVersion)]);
  rows.push(['Nodes', `${formatCount(report.nodeCount)} (${Object.keys(report.opHistogram).length} op types)`]);
  if (report.subgraphCount > 0) rows.push(['Subgraphs', formatCount(report.subgraphCount)]);
  rows.push(['Parameters', `${formatCompact(report.parameters.count)} in ${formatBytes(report.parameters.bytes)}`]);
  out.push(...table(['Property', 'Value'], rows), '');

  if (report.docString.trim()) out.push('## Description', '', ...fenced(report.docString), '');

  const metadata = Object.entries(report.metadata);
  if (metadata.length > 0) {
    out.push('## Metadata', '', ...table(['Key', 'Value'], metadata.map(([k, v]) => [code(k), code(v)])), '');
  }

  out.push(`## Inputs (${report.inputs.length})`, '', ...valueTable(report.inputs), '');
  out.push(`## Outputs (${report.outputs.length})`, '', ...valueTable(report.outputs), '');

  const ops = sortedHistogram(report.opHistogram);
  out.push(`## Operators (${formatCount(report.nodeCount)} nodes, ${ops.length} op types)`, '');
  if (ops.length === 0) out.push('The graph has no nodes.', '');
  else {
    out.push(
      ...table(
        ['Op type', 'Count', 'Share'],
        ops.map(([op, n]) => [code(op || '(empty)'), formatCount(n), percent(n, report.nodeCount)]),
        ['left', 'right', 'right'],
      ),
      '',
    );
  }
  if (report.functions.length > 0) {
    out.push(
      '### Model-local functions',
      '',
      ...table(
        ['Domain', 'Name', 'Nodes'],
        report.functions.map((f) => [code(f.domain || 'ai.onnx'), code(f.name), formatCount(f.nodeCount)]),
        ['left', 'left', 'right'],
      ),
      '',
    );
  }

  const dtypes = Object.entries(report.parameters.byDtype).sort(([, a], [, b]) => b.bytes - a.bytes);
  out.push(`## Parameters by dtype (${formatCount(report.parameters.count)} in ${formatBytes(report.parameters.bytes)})`, '');
  if (dtypes.length === 0) out.push('The model has no weights.', '');
  else {
    out.push(
      ...table(
        ['Dtype', 'Parameters', 'Size', 'Share of size'],
        dtypes.map(([dtype, { count, bytes }]) => [code(dtype), formatCount(count), formatBytes(bytes), percent(bytes, report.parameters.bytes)]),
        ['left', 'right', 'right', 'right'],
      ),
      '',
    );
  }

  if (report.tensors.length > 0) {
    out.push(`## Largest tensors (${report.tensors.length})`, '', ...tensorTable(report.tensors), '');
  }

  if (report.externalData.length > 0) {
    out.push(
      '## External data files',
      '',
      ...table(
        ['Location', 'Tensors', 'Size'],
        report.externalData.map((e) => [code(e.location), formatCount(e.tensors), formatBytes(e.bytes)]),
        ['left', 'right', 'right'],
      ),
      '',
    );
  }
  return out.join('\n');
}

function valueTable(values: ValueInfo[]): string[] {
  if (values.length === 0) return ['None.'];
  return table(
    ['Name', 'Type', 'Shape'],
    values.map((v) => [code(v.name || '(unnamed)'), code(v.dtype), code(formatShape(v.shape))]),
  );
}

function tensorTable(tensors: TensorSummary[]): string[] {
  const withStats = tensors.some((t) => t.stats);
  const headers = ['Name', 'Dtype', 'Shape', 'Elements', 'Size', 'Where'];
  const align: Align[] = ['left', 'left', 'left', 'right', 'right', 'left'];
  if (withStats) {
    headers.push('Min', 'Max', 'Mean', 'Std', 'Zeros');
    align.push('right', 'right', 'right', 'right', 'right');
  }
  const rows = tensors.map((t) => {
    const where = [t.origin, t.graph !== 'main' ? `in ${t.graph}` : '', t.external ? `external ${t.external.location}` : '']
      .filter(Boolean)
      .join(', ');
    const row = [code(t.name || '(unnamed)'), code(t.dtype), code(formatShape(t.shape)), formatCount(t.elements), formatBytes(t.bytes), code(where)];
    if (withStats) {
      const s = t.stats;
      row.push(
        ...(s
          ? [formatNumber(s.min), formatNumber(s.max), formatNumber(s.mean), formatNumber(s.std), percent(s.sparsity, 1)]
          : ['', '', '', '', '']),
      );
    }
    return row;
  });
  return table(headers, rows, align);
}

type Align = 'left' | 'right';

function table(headers: string[], rows: string[][], align?: Align[]): string[] {
  const rule = headers.map((_, i) => (align?.[i] === 'right' ? '---:' : '---'));
  return [`| ${headers.join(' | ')} |`, `| ${rule.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** Plain text for a heading: Markdown punctuation escaped, intraword underscores (file_names) kept readable. */
export function headingText(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[\\`*[\]<>&|#~!]/g, '\\$&')
    .replace(/_/g, (m, i: number, s: string) => (/[A-Za-z0-9]/.test(s[i - 1] ?? '') && /[A-Za-z0-9]/.test(s[i + 1] ?? '') ? m : '\\_'));
}

/** A code span that shows `text` literally, on one line (pipes escaped when it goes in a table cell). */
export function code(text: string, inTable = true): string {
  let flat = text.replace(/\r\n|\r|\n/g, ' ');
  if (inTable) flat = flat.replace(/\|/g, '\\|');
  if (flat === '') return '` `';
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || (flat.startsWith(' ') && flat.endsWith(' ')) ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A fenced block that shows `text` literally. */
function fenced(text: string): string[] {
  const longest = Math.max(0, ...(text.match(/`{3,}/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${fence}text`, ...text.replace(/\r\n|\r/g, '\n').split('\n'), fence];
}

function percent(part: number, whole: number): string {
  if (whole <= 0) return '';
  const p = (100 * part) / whole;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}
