// The model summary (Show Model Summary), as the extension prepared it (src/vscode/summaryContent.ts): the
// facts, the model's own description, and its tables (inputs, outputs, operators, parameters, the largest
// tensors). Names come from the model: text nodes only.
import type { ResultsRenderedMessage, ResultsToExtensionMessage, SummaryContent } from '../../src/protocol/results';
import { h, table } from '../ui/dom';
import { button } from '../ui/toolkit';
import { actionButton } from './quantizeView';

export function renderSummary(app: HTMLElement, title: string, c: SummaryContent, post: (m: ResultsToExtensionMessage) => void): Omit<ResultsRenderedMessage, 'type' | 'kind'> {
  const sections = c.sections.map((s) => h('section', { class: 'report-section', 'aria-label': s.title },
    h(s.level === 3 ? 'h3' : 'h2', {}, s.title),
    s.rows.length === 0
      ? h('p', { class: 'muted' }, s.empty || 'None.')
      : table({
        id: `summary-${s.id}`, caption: s.title,
        headers: s.headers.map((x) => ({ label: x.label, numeric: x.numeric })),
        rows: s.rows.map((r) => r.map((cell, i) => (s.headers[i]?.code ? h('code', {}, cell) : cell))),
      })));
  app.replaceChildren(
    h('header', { class: 'compare-header' },
      h('h1', {}, title),
      h('div', { class: 'toolbar' },
        ...c.actions.map((a) => actionButton(a, post)),
        button('Copy as Markdown', { icon: 'copy', id: 'copy-markdown', onClick: () => post({ type: 'copyMarkdown' }) }),
        button('Save as JSON…', { icon: 'save', id: 'save-json', onClick: () => post({ type: 'saveJson' }) }))),
    h('dl', { class: 'compare-facts', id: 'summary-facts' }, ...c.facts.flatMap((f) => [h('dt', {}, f.label), h('dd', {}, f.code ? h('code', {}, f.value) : f.value)])),
    ...(c.description !== null ? [h('section', { class: 'report-section', 'aria-label': 'Description' }, h('h2', {}, 'Description'), h('pre', { class: 'description' }, c.description))] : []),
    ...sections,
  );
  // Read back from what was painted: the rows of the inputs and outputs tables.
  const rows = app.querySelectorAll('#summary-inputs tbody tr, #summary-outputs tbody tr').length;
  return { rows, plots: 0, verdict: `${c.file}: ${c.facts.find((f) => f.label === 'Nodes')?.value ?? ''}` };
}
