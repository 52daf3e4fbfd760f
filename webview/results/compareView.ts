// The comparison of two models: one row per output (pass or fail, cosine, SQNR, errors), then per output
// a scatter plot of the FP32 value against the quantized one and the distribution of their difference.
// Every string (file, output and input names) comes from a model: text nodes and attributes only.
import type { CompareResult, DiffFigures, JudgedOutput, ModelRun } from '../../src/protocol/compare';
import type { LayerComparison } from '../../src/protocol/layers';
import type { ReportAction, ResultsRenderedMessage, ResultsToExtensionMessage } from '../../src/protocol/results';
import { actionButton } from './quantizeView';
import { h, svg, table } from '../ui/dom';
import { badge, button } from '../ui/toolkit';

// ---- figures as text (JSON turns the infinite SQNR of identical outputs into null) ---------------------

const sqnrText = (f: DiffFigures): string => {
  const v = f.sqnrDb as number | null;
  if (v === null || !Number.isFinite(v)) return f.identical ? 'exact' : '−∞';
  return `${v.toFixed(2)} dB`;
};
const cosText = (v: number) => (v === 1 ? '1' : v.toFixed(6));
const numText = (v: number | null) => (v === null || !Number.isFinite(v) ? '∞' : v === 0 ? '0' : Number(v.toPrecision(4)).toString());
const base = (file: string) => file.split(/[\\/]/).pop() ?? file;

function providerText(r: ModelRun): string {
  const p = r.provider;
  const skipped = p.skipped.map((s) => `${s.provider} (${s.reason})`).join('; ');
  return p.cpuFallback ? `cpu: CPU fallback, ${skipped}` : skipped ? `${p.used} (skipped ${skipped})` : p.used;
}

function verdictBadge(o: JudgedOutput): HTMLElement {
  const text = o.pass === null ? 'no tolerance' : o.pass ? 'pass' : 'FAIL';
  const b = h('span', { class: `verdict ${o.pass === null ? 'none' : o.pass ? 'pass' : 'fail'}`, title: o.failures.join('; ') || text }, text);
  return b;
}

// ---- plots ------------------------------------------------------------------------------------------

const PAD = { left: 56, right: 12, top: 12, bottom: 34 };

export function ticks(lo: number, hi: number, n: number): number[] {
  const step = 10 ** Math.floor(Math.log10((hi - lo) / n || 1));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= n) ?? step * 10;
  const out: number[] = [];
  for (let t = Math.ceil(lo / nice) * nice; t <= hi + nice * 1e-9; t += nice) out.push(Math.abs(t) < nice * 1e-9 ? 0 : t);
  return out;
}

function axes(root: SVGSVGElement, x: (v: number) => number, y: (v: number) => number, xr: [number, number], yr: [number, number], xLabel: string, yLabel: string, width: number, height: number): void {
  for (const t of ticks(xr[0], xr[1], 5)) {
    root.append(svg('line', { class: 'grid', x1: x(t), x2: x(t), y1: PAD.top, y2: height - PAD.bottom }));
    root.append(svg('text', { class: 'tick', x: x(t), y: height - PAD.bottom + 14, 'text-anchor': 'middle' }, document.createTextNode(numText(t))));
  }
  for (const t of ticks(yr[0], yr[1], 4)) {
    root.append(svg('line', { class: 'grid', x1: PAD.left, x2: width - PAD.right, y1: y(t), y2: y(t) }));
    root.append(svg('text', { class: 'tick', x: PAD.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, document.createTextNode(numText(t))));
  }
  root.append(svg('text', { class: 'axis-label', x: (PAD.left + width - PAD.right) / 2, y: height - 4, 'text-anchor': 'middle' }, document.createTextNode(xLabel)));
  const yl = svg('text', { class: 'axis-label', x: 12, y: (PAD.top + height - PAD.bottom) / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${(PAD.top + height - PAD.bottom) / 2})` }, document.createTextNode(yLabel));
  root.append(yl);
}

/** FP32 value (x) against quantized value (y), the sampled pairs, with the diagonal where they agree. */
function scatter(o: JudgedOutput, width: number, height: number): SVGSVGElement | null {
  const p = o.plot;
  if (!p || !p.a.length) return null;
  let lo = Math.min(...p.a, ...p.b), hi = Math.max(...p.a, ...p.b);
  if (lo === hi) { lo -= 1; hi += 1; }
  const w = width - PAD.left - PAD.right, ht = height - PAD.top - PAD.bottom;
  const x = (v: number) => PAD.left + ((v - lo) / (hi - lo)) * w;
  const y = (v: number) => PAD.top + ht - ((v - lo) / (hi - lo)) * ht;
  const root = svg('svg', {
    class: 'chart scatter', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'data-points': p.a.length,
    'aria-label': `${o.name}: ${p.a.length} sampled values, reference against candidate, from ${numText(lo)} to ${numText(hi)}`,
  });
  root.append(svg('rect', { class: 'plot-bg', x: PAD.left, y: PAD.top, width: w, height: ht }));
  axes(root, x, y, [lo, hi], [lo, hi], 'reference (A)', 'candidate (B)', width, height);
  root.append(svg('line', { class: 'diagonal', x1: x(lo), y1: y(lo), x2: x(hi), y2: y(hi) }));
  // One path of tiny squares: thousands of points without thousands of elements.
  let d = '';
  for (let i = 0; i < p.a.length; i++) d += `M${(x(p.a[i]) - 1.5).toFixed(1)} ${(y(p.b[i]) - 1.5).toFixed(1)}h3v3h-3z`;
  root.append(svg('path', { class: 'points', d }));
  return root;
}

/** How the differences b - a are distributed (over the sampled pairs). */
function errorChart(o: JudgedOutput, width: number, height: number): SVGSVGElement | null {
  const e = o.plot?.errorHistogram;
  if (!e) return null;
  const peak = Math.max(1, ...e.counts);
  const w = width - PAD.left - PAD.right, ht = height - PAD.top - PAD.bottom;
  const x = (v: number) => PAD.left + ((v - e.min) / (e.max - e.min)) * w;
  const y = (c: number) => PAD.top + ht - (c / peak) * ht;
  const root = svg('svg', {
    class: 'chart histogram errors', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'data-bins': e.counts.length,
    'aria-label': `${o.name}: differences candidate minus reference from ${numText(e.min)} to ${numText(e.max)}, ${e.counts.length} bins`,
  });
  root.append(svg('rect', { class: 'plot-bg', x: PAD.left, y: PAD.top, width: w, height: ht }));
  axes(root, x, y, [e.min, e.max], [0, peak], 'candidate − reference', 'values', width, height);
  const bw = w / e.counts.length;
  e.counts.forEach((c, i) => {
    if (!c) return;
    const bar = svg('rect', { class: 'hbar', x: PAD.left + i * bw + 0.5, y: y(c), width: Math.max(1, bw - 1), height: PAD.top + ht - y(c), 'data-count': c });
    bar.append(svg('title', {}, document.createTextNode(`${c} values from ${numText(e.min + i * (e.max - e.min) / e.counts.length)} to ${numText(e.min + (i + 1) * (e.max - e.min) / e.counts.length)}`)));
    root.append(bar);
  });
  if (e.min < 0 && e.max > 0) root.append(svg('line', { class: 'zero', x1: x(0), x2: x(0), y1: PAD.top, y2: PAD.top + ht }));
  return root;
}

// ---- layers -------------------------------------------------------------------------------------------

/** Layers listed before "Show all": the worst, where the user starts. */
const LAYERS_SHOWN = 25;

const dbText = (v: number | null) => (v === null || !Number.isFinite(v) ? (v === null || v > 0 ? 'exact' : '−∞') : `${v.toFixed(2)} dB`);

/** The drop as a bar (up to 70 px for the worst), so the worst stand out at a glance; CSSOM, not a style attribute (CSP). */
function dropCell(drop: number | null, worst: number): HTMLElement {
  const bar = h('span', { class: 'drop-bar' });
  bar.style.width = `${Math.round(Math.max(0, Math.min(1, (drop ?? 0) / worst)) * 70)}px`;
  return h('span', { class: 'drop' }, bar, h('span', { class: 'drop-value' }, dbText(drop)));
}

/** The worst layers by SQNR drop (the error each adds, not what it carries), and the tensors not matched. */
function layersSection(l: LayerComparison): { section: HTMLElement; rows: number } {
  const drops = l.layers.map((x) => x.sqnrDropDb).filter((v) => v !== null && Number.isFinite(v));
  const worst = Math.max(1, ...drops);
  const row = (x: LayerComparison['layers'][number]) => [
    h('span', { title: x.fp32Node ? `FP32 node ${x.fp32Node} (${x.fp32OpType})` : 'a graph input' }, x.node),
    x.opType,
    h('code', { title: x.match === 'name' ? 'the same name in both models' : `matched by ${x.match}` }, x.tensor === x.fp32Tensor ? x.tensor : `${x.tensor} → ${x.fp32Tensor}`),
    dbText(x.sqnrDb),
    // The drop as a bar, so the worst stand out at a glance.
    dropCell(x.sqnrDropDb, worst),
    cosText(x.cosine), numText(x.maxAbs),
  ];
  const headers = [{ label: 'Node' }, { label: 'Op' }, { label: 'Tensor' }, { label: 'SQNR', numeric: true }, { label: 'SQNR drop', numeric: true }, { label: 'Cosine', numeric: true }, { label: 'Max abs', numeric: true }];
  const shown = l.layers.slice(0, LAYERS_SHOWN);
  const grid = table({ id: 'layers', caption: 'Per layer, the largest SQNR drop first', headers, rows: shown.map(row) });
  const section = h('section', { class: 'layers', 'aria-label': 'Layers' },
    h('h2', {}, 'Layers'),
    h('p', { class: 'muted' }, `${l.layers.length} tensors of B compared with the FP32 tensors they stand for, on ${l.samples} sample${l.samples === 1 ? '' : 's'}. `
      + 'SQNR drop: the SQNR of the layer\'s inputs less its own, the error the layer adds rather than carries; the largest first.'),
    grid);
  let rows = shown.length;
  if (l.layers.length > LAYERS_SHOWN) {
    const more = button(`Show all ${l.layers.length}`, { id: 'layers-all', onClick: () => {
      grid.replaceWith(table({ id: 'layers', caption: 'Per layer, the largest SQNR drop first', headers, rows: l.layers.map(row) }));
      more.remove();
    } });
    section.append(more);
  }
  if (l.unmapped.length) {
    section.append(h('details', { class: 'unmapped' },
      h('summary', {}, `${l.unmapped.length} tensor${l.unmapped.length === 1 ? '' : 's'} of B with no FP32 counterpart`),
      h('ul', {}, ...l.unmapped.map((u) => h('li', {}, h('code', {}, u.tensor), ` (${u.opType} ${u.node}): ${u.reason}`)))));
  }
  if (!l.layers.length) rows = 0;
  return { section, rows };
}

// ---- the page -----------------------------------------------------------------------------------------

function summary(r: CompareResult): { text: string; cls: string } {
  if (r.pass === null) return { text: 'Figures only: no tolerance was given', cls: 'none' };
  if (r.pass) return { text: `Every output within tolerance (${r.outputs.length})`, cls: 'pass' };
  const bad = r.outputs.filter((o) => o.pass === false).map((o) => o.name);
  return { text: `${bad.length} of ${r.outputs.length} output${r.outputs.length === 1 ? '' : 's'} outside tolerance: ${bad.join(', ')}`, cls: 'fail' };
}

/** Fills `app` with the comparison; returns what it shows. */
export function renderCompare(app: HTMLElement, title: string, r: CompareResult, post: (m: ResultsToExtensionMessage) => void, actions: ReportAction[] = []): Omit<ResultsRenderedMessage, 'type' | 'kind'> {
  const verdict = summary(r);
  const policy = [
    r.policy.minCosine !== undefined ? `cosine ≥ ${r.policy.minCosine} on every sample` : '',
    r.policy.tolerance ? `|a − b| ≤ ${r.policy.tolerance.atol} + ${r.policy.tolerance.rtol}·|a|` : '',
  ].filter(Boolean).join(', ');
  const models = r.expected
    ? [h('dt', {}, 'Model'), h('dd', {}, base(r.a.file), h('span', { class: 'muted' }, ` on ${providerText(r.a)}`)), h('dt', {}, 'Expected'), h('dd', {}, r.expected)]
    : [
      h('dt', {}, 'A (reference)'), h('dd', { title: r.a.file }, base(r.a.file), h('span', { class: 'muted' }, ` on ${providerText(r.a)}`)),
      h('dt', {}, 'B'), h('dd', { title: r.b.file }, base(r.b.file), h('span', { class: 'muted' }, ` on ${providerText(r.b)}`)),
    ];
  const defaulted = r.inputs.defaulted.map((d) => `${d.name ?? `${d.input}:${d.axis}`}=1`).join(', ');
  const inputs = [
    h('dt', {}, 'Inputs'),
    h('dd', {}, `${r.inputs.source}`, r.inputs.random ? h('span', { class: 'warning-text' }, ' (random: not representative of real data)') : null,
      ` · ${Object.entries(r.inputs.shapes).map(([k, s]) => `${k} [${s.join(', ')}]`).join(', ')}`),
    ...(defaulted ? [h('dt', {}, 'Dims left at 1'), h('dd', { class: 'warning-text' }, defaulted)] : []),
    h('dt', {}, 'Tolerance'), h('dd', {}, policy || 'none'),
  ];

  // One value per sample: its cosine alone is only a sign; the samples pooled say more.
  const single = (o: JudgedOutput) => o.samples.every((f) => f.count <= 1);
  const rows = r.outputs.map((o) => [
    o.name, `${o.type} [${o.dims.join(', ')}]`,
    single(o) ? h('span', { title: 'one value per sample: the cosine of all samples pooled' }, `${cosText(o.pooled.cosine)}*`) : cosText(o.worst.cosine),
    single(o) ? '—' : cosText(o.mean.cosine), sqnrText(o.worst), sqnrText(o.mean),
    numText(o.worst.maxAbs), numText(o.mean.meanAbs), numText(o.mean.rmse),
    o.topK ? `${(o.topK.agreement * 100).toFixed(1)}% (top-${o.topK.k})` : '—',
    verdictBadge(o),
  ]);
  const grid = table({
    id: 'outputs', caption: 'Per output: worst sample and mean over samples',
    headers: [
      { label: 'Output' }, { label: 'Type' }, { label: 'Cosine (worst)', numeric: true }, { label: 'Cosine (mean)', numeric: true },
      { label: 'SQNR (worst)', numeric: true }, { label: 'SQNR (mean)', numeric: true }, { label: 'Max abs', numeric: true },
      { label: 'Mean abs', numeric: true }, { label: 'RMSE', numeric: true }, { label: 'Top-k', numeric: true }, { label: 'Verdict' },
    ],
    rows,
  });

  let plots = 0;
  const details = r.outputs.map((o) => {
    const s = scatter(o, 340, 260), e = errorChart(o, 340, 260);
    if (s) plots++;
    return h('section', { class: `output-detail ${o.pass === false ? 'failed' : ''}`, 'aria-label': `Output ${o.name}` },
      h('h3', {}, o.name, ' ', verdictBadge(o)),
      o.failures.length ? h('p', { class: 'failure' }, o.failures.join('; ')) : null,
      h('p', { class: 'muted' }, `${o.samples.length} sample${o.samples.length === 1 ? '' : 's'}; cosine per sample: ${o.samples.map((f) => cosText(f.cosine)).join(', ')}`),
      h('div', { class: 'chart-row' }, s ? h('figure', { class: 'chart-box' }, s, h('figcaption', {}, 'Reference against candidate (sampled)')) : null,
        e ? h('figure', { class: 'chart-box' }, e, h('figcaption', {}, 'Distribution of the difference')) : null));
  });

  const layers = r.layers ? layersSection(r.layers) : undefined;
  app.replaceChildren(
    h('header', { class: 'compare-header' },
      h('h1', {}, title),
      h('p', { class: `verdict-line ${verdict.cls}`, role: 'status' }, verdict.text),
      h('div', { class: 'toolbar' },
        ...actions.map((a) => actionButton(a, post)),
        button('Copy as Markdown', { icon: 'copy', id: 'copy-markdown', onClick: () => post({ type: 'copyMarkdown' }) }),
        button('Save as JSON…', { icon: 'save', id: 'save-json', onClick: () => post({ type: 'saveJson' }) }),
        badge(`${r.inputs.samples} sample${r.inputs.samples === 1 ? '' : 's'}`), badge(`${r.seconds.toFixed(1)} s`))),
    h('dl', { class: 'compare-facts' }, ...models, ...inputs),
    grid,
    ...(layers ? [layers.section] : []),
    ...details,
  );
  return { rows: rows.length, plots, verdict: verdict.text, layerRows: layers?.rows ?? 0 };
}
