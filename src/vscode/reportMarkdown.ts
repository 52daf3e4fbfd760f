// The model summary (summaryContent.ts) as Markdown: the read-only document *Open as Markdown* shows.
// Pure: no vscode import, so it can be unit-tested with plain Node.
//
// Every string from the model is attacker-controlled: names and values go into code spans (nothing inside
// is interpreted, pipes escaped for tables), free text into fenced blocks longer than any backtick run.
import type { InspectReport } from '../protocol/inspect';
import type { SummaryContent } from '../protocol/results';
import { summaryContent } from './summaryContent';

export interface MarkdownOptions {
  /** The model's path as the user knows it (the report holds only the base name). */
  path?: string;
}

export function reportToMarkdown(report: InspectReport, options: MarkdownOptions = {}): string {
  return summaryMarkdown(summaryContent(report, options.path));
}

/** The summary's facts and tables as Markdown: names from the model in code spans, free text fenced. */
export function summaryMarkdown(c: SummaryContent): string {
  // The first line names the untitled document's tab: the file name first, as plain (escaped) text.
  const out: string[] = [`# ${headingText(c.file)} · ONNX model summary`, ''];
  out.push(...table(['Property', 'Value'], c.facts.map((f) => [f.label, f.code ? code(f.value) : f.value])), '');
  if (c.description !== null) out.push('## Description', '', ...fenced(c.description), '');
  for (const section of c.sections) {
    out.push(`${section.level === 3 ? '###' : '##'} ${section.title}`, '');
    if (section.rows.length === 0) { out.push(section.empty || 'None.', ''); continue; }
    const rows = section.rows.map((r) => r.map((cell, i) => (section.headers[i]?.code ? code(cell) : cell)));
    out.push(...table(section.headers.map((h) => h.label), rows, section.headers.map((h) => (h.numeric ? 'right' : 'left'))), '');
  }
  return out.join('\n');
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
