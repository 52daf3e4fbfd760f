// The report of a quantization, as the extension prepared it: the verdict, the facts, the new model's
// outputs against the source (with the accuracy target where one was set), notes (some with an offer,
// e.g. to quantize again with some nodes in float), the weights with the lowest SQNR, the nodes left in
// float and why. Names come from the model: text nodes only.
import type { QuantizeContent, ReportAction, ResultsRenderedMessage, ResultsToExtensionMessage } from '../../src/protocol/results';
import { h, table } from '../ui/dom';
import { button } from '../ui/toolkit';

const cos = (v: number) => (v === 1 ? '1' : v.toFixed(6));
const num = (v: number) => (!Number.isFinite(v) ? '∞' : v === 0 ? '0' : Number(v.toPrecision(4)).toString());

export function actionButton(a: ReportAction, post: (m: ResultsToExtensionMessage) => void): HTMLElement {
  return button(a.label, { icon: a.icon, id: `action-${a.id}`, appearance: a.primary ? 'primary' : 'secondary', title: a.title, onClick: () => post({ type: 'action', id: a.id }) });
}

export function renderQuantize(app: HTMLElement, title: string, c: QuantizeContent, post: (m: ResultsToExtensionMessage) => void): Omit<ResultsRenderedMessage, 'type' | 'kind'> {
  const outputs = c.outputs.length
    ? table({
      id: 'outputs', caption: 'The new model against the source, per output',
      headers: [{ label: 'Output' }, { label: 'Cosine', numeric: true }, { label: 'Worst sample', numeric: true }, { label: 'SQNR', numeric: true }, { label: 'Max abs', numeric: true }, { label: 'Target' }],
      rows: c.outputs.map((o) => [
        o.name, cos(o.cosine), cos(o.worstCosine), o.sqnrDb === null ? 'exact' : `${o.sqnrDb.toFixed(2)} dB`, num(o.maxAbs),
        o.target === null ? '—' : h('span', { class: `verdict ${o.cosine >= o.target ? 'pass' : 'fail'}` }, `${o.target} ${o.cosine >= o.target ? '✓' : '✗'}`),
      ]),
    })
    : null;
  const weights = c.weights.length
    ? table({
      id: 'weights', caption: 'Quantized weights, lowest SQNR first',
      headers: [{ label: 'Weight' }, { label: 'Shape' }, { label: 'Scheme' }, { label: 'SQNR', numeric: true }, { label: 'Bytes', numeric: true }],
      rows: c.weights.map((w) => [w.name, w.shape, w.scheme, w.sqnr === null ? 'exact' : `${w.sqnr.toFixed(1)} dB`, w.bytes]),
    })
    : null;
  const skipped = c.skipped.length
    ? table({
      id: 'skipped', caption: 'Nodes left in float, and why',
      headers: [{ label: 'Node' }, { label: 'Op' }, { label: 'Why' }],
      rows: c.skipped.map((s) => [s.name, s.opType, s.reason]),
    })
    : null;
  const parts: (HTMLElement | null)[] = [
    h('header', { class: 'compare-header' },
      h('h1', {}, title),
      h('p', { class: `verdict-line ${c.verdict.ok === null ? 'none' : c.verdict.ok ? 'pass' : 'fail'}`, role: 'status' }, c.verdict.text),
      h('div', { class: 'toolbar' },
        ...c.actions.map((a) => actionButton(a, post)),
        button('Copy as Markdown', { icon: 'copy', id: 'copy-markdown', onClick: () => post({ type: 'copyMarkdown' }) }),
        button('Save as JSON…', { icon: 'save', id: 'save-json', onClick: () => post({ type: 'saveJson' }) }))),
    h('dl', { class: 'compare-facts' }, ...c.facts.flatMap((f) => [h('dt', {}, f.label), h('dd', { class: f.warning ? 'warning-text' : '' }, f.value)])),
    outputs ? h('section', { class: 'report-section', 'aria-label': 'Outputs' }, h('h2', {}, 'Outputs against the source model'), c.outputsNote ? h('p', { class: 'muted' }, c.outputsNote) : null, outputs) : null,
    c.notes.length
      ? h('section', { class: 'report-section', 'aria-label': 'Notes' }, h('h2', {}, 'Notes'),
        h('ul', { class: 'notes' }, ...c.notes.map((n) => h('li', {}, n.text, n.action ? h('div', { class: 'note-action' }, actionButton(n.action, post)) : null))))
      : null,
    weights ? h('section', { class: 'report-section', 'aria-label': 'Weights' }, h('h2', {}, `Weights (lowest SQNR first${c.weightCount > c.weights.length ? `, ${c.weights.length} of ${c.weightCount}` : ''})`), weights) : null,
    skipped ? h('section', { class: 'report-section', 'aria-label': 'Skipped nodes' }, h('h2', {}, `Left in float (${c.skippedCount})`), skipped) : null,
  ];
  app.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
  return { rows: c.outputs.length, plots: 0, verdict: c.verdict.text };
}
