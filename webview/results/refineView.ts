// "Keep the N worst layers in float and re-quantize": one row per quantization of the same source (the
// nodes in float, the worst output's cosine and SQNR, the size, the latency against FP32), each with Open, Compare and Save As, and
// the button that takes the next worst layers. Names come from the model: text nodes only.
import type { RefineContent, ResultsRenderedMessage, ResultsToExtensionMessage } from '../../src/protocol/results';
import { h, table } from '../ui/dom';
import { badge, button, progressRing } from '../ui/toolkit';

const cos = (v: number) => (v === 1 ? '1' : v.toFixed(6));
const db = (v: number | null) => (v === null || !Number.isFinite(v) ? (v === null || v > 0 ? 'exact' : '−∞') : `${v.toFixed(2)} dB`);
const base = (file: string) => file.split(/[\\/]/).pop() ?? file;

export function renderRefine(app: HTMLElement, title: string, c: RefineContent, post: (m: ResultsToExtensionMessage) => void): Omit<ResultsRenderedMessage, 'type' | 'kind'> {
  const first = c.steps[0];
  const best = c.steps.reduce((b, s) => (s.cosine > b.cosine ? s : b), first);
  const rows = c.steps.map((s) => [
    h('span', { class: 'nowrap' }, s.index === 0 ? 'first' : `step ${s.index}`),
    h('span', { title: s.inFloat.join(', ') || 'none' }, String(s.inFloat.length)),
    h('span', { title: s.in16.join(', ') || 'none' }, String(s.in16.length)),
    s.added.length ? h('span', { title: s.added.join(', ') }, `${s.added.join(', ')} ${s.how === 'int16' ? '(16-bit)' : '(float)'}`) : '—',
    s.worstOutput,
    h('span', { class: s === best && c.steps.length > 1 ? 'best' : '' }, cos(s.cosine)),
    db(s.sqnrDb),
    `${s.sizeRatio.toFixed(3)}×`,
    s.latency
      ? h('span', { class: 'nowrap', title: `FP32 ${s.latency.sourceP50Ms.toFixed(3)} ms on ${s.latency.provider}; ratio ${s.latency.ratio.toFixed(2)}, 95% interval ${s.latency.ci[0].toFixed(2)}-${s.latency.ci[1].toFixed(2)}` }, `${s.latency.p50Ms < 1 ? s.latency.p50Ms.toFixed(3) : s.latency.p50Ms.toFixed(2)} ms (${s.latency.ratio.toFixed(2)}×)`)
      : '—',
    s.quantized === null ? '—' : String(s.quantized),
    h('span', { class: 'row-actions' },
      button('Open', { icon: 'go-to-file', id: `open-${s.index}`, onClick: () => post({ type: 'action', id: `open-${s.index}` }) }),
      button('Compare', { icon: 'diff', id: `compare-${s.index}`, onClick: () => post({ type: 'action', id: `compare-${s.index}` }) }),
      button('Save As…', { icon: 'save', id: `save-${s.index}`, onClick: () => post({ type: 'action', id: `save-${s.index}` }) })),
  ]);
  const grid = table({
    id: 'history', caption: 'Each quantization of the source, the first one first',
    headers: [{ label: 'Step' }, { label: 'Nodes in float', numeric: true }, { label: '16-bit', numeric: true }, { label: 'Added' }, { label: 'Worst output' }, { label: 'Cosine', numeric: true },
      { label: 'SQNR', numeric: true }, { label: 'Size', numeric: true }, { label: 'Latency p50 (× FP32)', numeric: true }, { label: 'Quantized', numeric: true }, { label: '' }],
    rows,
  });
  const verdict = c.steps.length > 1
    ? `Worst output's cosine ${cos(first.cosine)} → ${cos(c.steps[c.steps.length - 1].cosine)} with ${c.steps[c.steps.length - 1].inFloat.length} node${c.steps[c.steps.length - 1].inFloat.length === 1 ? '' : 's'} in float`
    : c.next.length ? `Worst output's cosine ${cos(first.cosine)}: keep the worst layers in float to raise it` : `Worst output's cosine ${cos(first.cosine)}`;
  const next = c.next.length
    ? button(`Keep the ${c.next.length} worst layer${c.next.length === 1 ? '' : 's'} in float and re-quantize`, {
      icon: 'layers', id: 'refine-next', appearance: 'primary', title: c.next.join(', '), onClick: () => post({ type: 'action', id: 'next' }),
    })
    : h('span', { class: 'muted', id: 'refine-none' }, 'No layer can go to float: the comparison ties at most one quantized layer to the source, and keeping it in float too would leave none quantized.');
  if (c.busy) next.setAttribute('disabled', '');
  // The cheaper step where the format allows it: 16-bit activations keep the layer quantized (weights in
  // int8) but run it without int8 kernels.
  const wide = c.next16?.length
    ? button(`Give them 16-bit activations`, {
      icon: 'symbol-numeric', id: 'refine-next16', title: `${c.next16.join(', ')}: 16-bit activations, int8 weights; onnxruntime runs them at about their float speed`,
      onClick: () => post({ type: 'action', id: 'next16' }),
    })
    : null;
  if (wide && c.busy) wide.setAttribute('disabled', '');
  app.replaceChildren(
    h('header', { class: 'compare-header' },
      h('h1', {}, title),
      h('p', { class: 'verdict-line none', role: 'status' }, verdict),
      h('div', { class: 'toolbar' }, next, wide, c.busy ? progressRing('re-quantizing') : null,
        button('Copy as Markdown', { icon: 'copy', id: 'copy-markdown', onClick: () => post({ type: 'copyMarkdown' }) }),
        button('Save as JSON…', { icon: 'save', id: 'save-json', onClick: () => post({ type: 'saveJson' }) }),
        badge(`${c.perStep} per step`))),
    h('p', { class: 'muted' }, `Every step quantizes ${base(c.source)} again with the same options and the layers with the largest SQNR drop in the last comparison left in float (or given 16-bit activations), then compares the new model with it. The models are temporary until you save one.`),
    grid,
  );
  return { rows: rows.length, plots: 0, verdict };
}
