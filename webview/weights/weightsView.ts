// The Weights tab: a sortable, filterable table of every weight (initializers, sparse initializers and
// Constant-node tensors) with name, dtype, shape, elements, bytes, min, max, mean, std, sparsity and an
// outlier score (max |x| / std); only the rows in view are in the DOM. Selecting a weight shows its
// histogram (linear or log counts, adjustable bins) and, for Conv / MatMul / Gemm weights, per-output-
// channel min/max. Statistics and histograms are computed in the job process and asked for here.
import { formatBytes, formatCount, formatNumber } from '../../src/protocol/format';
import type { WeightDetail, WeightSummary } from '../../src/protocol/graph';
import type { WeightViewInfo } from '../../src/protocol/webview';
import { errorText, type WeightsUiState } from '../rpc';
import { h, percentText, table, typeText } from '../ui/dom';
import { checkbox, dropdown, focusField, progressRing, textField, type CheckElement, type ValueElement } from '../ui/toolkit';
import { channelChart, channelSummary, histogramChart } from './charts';

export interface WeightsHost {
  weights: WeightSummary[];
  stats(): Promise<WeightSummary[]>;
  statsNow(): WeightSummary[] | undefined;
  /** `codes`: a stored-quantized weight's codes rather than the values they stand for. */
  detail(weight: number, bins: number, codes: boolean): Promise<WeightDetail>;
  /** Shows a consumer of a weight in the graph (switching tabs). */
  showNode(graph: string, node: number): void;
  /** Histogram bins of the setting (the default choice). */
  defaultBins: number;
  state: WeightsUiState;
  save(): void;
  saveSoon(): void;
}

interface Column {
  key: string;
  label: string;
  numeric: boolean;
  title: string;
  value: (w: WeightSummary) => number | string;
  text: (w: WeightSummary) => string;
}

const ROW_HEIGHT = 24;
const OVERSCAN = 10;
const BIN_CHOICES = [16, 32, 64, 128, 256, 512, 1024, 2048];

const stat = (w: WeightSummary, key: 'min' | 'max' | 'mean' | 'std' | 'sparsity' | 'outlierScore'): number => (w.stats ? w.stats[key] : NaN);
/** The outlier score advises on quantizing a float weight; a weight stored quantized has none to give. */
const outlier = (w: WeightSummary): number => (w.stored ? NaN : stat(w, 'outlierScore'));

const COLUMNS: Column[] = [
  { key: 'name', label: 'Name', numeric: false, title: 'Weight name', value: (w) => w.name, text: (w) => w.name },
  { key: 'dtype', label: 'Dtype', numeric: false, title: 'Data type', value: (w) => w.dtype, text: (w) => w.dtype },
  { key: 'shape', label: 'Shape', numeric: false, title: 'Dimensions', value: (w) => w.shape.length * 1e15 + w.elements, text: (w) => `[${w.shape.join(', ')}]` },
  { key: 'elements', label: 'Elements', numeric: true, title: 'Number of values', value: (w) => w.elements, text: (w) => formatCount(w.elements) },
  { key: 'bytes', label: 'Bytes', numeric: true, title: 'Size in the file', value: (w) => w.bytes, text: (w) => formatBytes(w.bytes) },
  { key: 'min', label: 'Min', numeric: true, title: 'Smallest finite value', value: (w) => stat(w, 'min'), text: (w) => num(stat(w, 'min')) },
  { key: 'max', label: 'Max', numeric: true, title: 'Largest finite value', value: (w) => stat(w, 'max'), text: (w) => num(stat(w, 'max')) },
  { key: 'mean', label: 'Mean', numeric: true, title: 'Mean of the finite values', value: (w) => stat(w, 'mean'), text: (w) => num(stat(w, 'mean')) },
  { key: 'std', label: 'Std', numeric: true, title: 'Standard deviation', value: (w) => stat(w, 'std'), text: (w) => num(stat(w, 'std')) },
  { key: 'sparsity', label: 'Zeros', numeric: true, title: 'Share of values that are exactly zero (sparsity)', value: (w) => stat(w, 'sparsity'), text: (w) => (w.stats ? percentText(w.stats.sparsity) : '') },
  { key: 'outlier', label: 'Outlier', numeric: true, title: 'Outlier score: max |x| / std (high: a few values stretch the range a per-tensor scale must cover)', value: (w) => outlier(w), text: (w) => num(outlier(w)) },
];

function num(x: number): string {
  return Number.isNaN(x) ? '' : formatNumber(x);
}

export class WeightsView {
  readonly element: HTMLElement;
  private readonly filterField: ValueElement;
  private readonly countText: HTMLElement;
  private readonly statsStatus: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly body: HTMLTableSectionElement;
  private readonly headerCells = new Map<string, HTMLElement>();
  private readonly detailPane: HTMLElement;
  private rows: number[] = [];
  private list: WeightSummary[];
  private renderedRange = [-1, -1];
  private detailToken = 0;
  private detailShown: Promise<void> = Promise.resolve();
  private lastDetail: WeightDetail | undefined;
  private visible = false;
  private statsRequested = false;

  constructor(private readonly host: WeightsHost) {
    this.list = host.statsNow() ?? host.weights;
    if (!host.state.bins) host.state.bins = host.defaultBins;
    this.filterField = textField({
      label: 'Filter weights by name, dtype or consuming op type',
      placeholder: 'Filter by name, dtype, op type',
      icon: 'filter',
      id: 'weights-filter',
      value: host.state.filter,
      onInput: (value) => {
        host.state.filter = value;
        host.save();
        this.refreshRows();
      },
    });
    this.countText = h('span', { class: 'weights-count', role: 'status', 'aria-live': 'polite' });
    this.statsStatus = h('span', { class: 'weights-stats-status' });
    const head = h('tr', { 'aria-rowindex': '1' });
    for (const c of COLUMNS) {
      const b = h('button', { type: 'button', class: 'sort-button', title: `${c.title}. Click to sort.` }, c.label);
      b.addEventListener('click', () => this.sortBy(c.key));
      const th = h('th', { scope: 'col', class: c.numeric ? 'num' : '', 'data-key': c.key }, b);
      this.headerCells.set(c.key, th);
      head.append(th);
    }
    this.body = h('tbody');
    this.table = h('table', { id: 'weights-table', class: 'weights-table' }, h('caption', { class: 'visually-hidden' }, 'Weights of the model'), h('thead', {}, head), this.body);
    this.scroller = h('div', { class: 'weights-scroller', tabindex: '-1' }, this.table);
    this.scroller.addEventListener('scroll', () => {
      this.host.state.scrollTop = this.scroller.scrollTop;
      this.host.saveSoon();
      this.renderRows(false);
    });
    this.body.addEventListener('click', (event) => {
      const tr = (event.target as Element).closest('tr[data-index]');
      if (tr) this.select(Number(tr.getAttribute('data-index')));
    });
    this.body.addEventListener('keydown', (event) => this.onKey(event));
    this.detailPane = h('section', { class: 'weight-detail', id: 'weight-detail', 'aria-label': 'The selected weight', 'aria-live': 'polite' });
    this.element = h(
      'div',
      { class: 'weights-view' },
      h('div', { class: 'weights-toolbar', role: 'toolbar', 'aria-label': 'Weights' }, this.filterField, this.countText, h('span', { class: 'spacer' }), this.statsStatus),
      h('div', { class: 'weights-split' }, this.scroller, this.detailPane),
    );
    new ResizeObserver(() => {
      if (!this.visible) return;
      this.renderRows(true);
      this.redrawCharts();
    }).observe(this.element);
    this.refreshRows();
    this.showDetail();
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (!visible) return;
    this.requestStats();
    this.scroller.scrollTop = this.host.state.scrollTop;
    this.renderRows(true);
    this.redrawCharts();
  }

  focusFilter(): void {
    focusField(this.filterField);
  }

  private requestStats(): void {
    if (this.statsRequested || this.host.statsNow()) return;
    this.statsRequested = true;
    this.statsStatus.replaceChildren(progressRing('Computing statistics'), h('span', {}, 'Computing statistics…'));
    this.host.stats().then(
      (list) => {
        this.list = list;
        this.statsStatus.replaceChildren();
        this.refreshRows();
        this.showDetail();
      },
      (err) => {
        this.statsStatus.replaceChildren(h('span', { class: 'error-text' }, `Statistics failed: ${errorText(err)}`));
      },
    );
  }

  /** Statistics arrived through another view (the side panel asked first). */
  statsArrived(list: WeightSummary[]): void {
    this.list = list;
    this.statsStatus.replaceChildren();
    this.refreshRows();
  }

  // -------------------------------------------------------------------------------------------------
  // Table

  private sortBy(key: string): void {
    const s = this.host.state;
    if (s.sort === key) s.descending = !s.descending;
    else {
      s.sort = key;
      s.descending = COLUMNS.find((c) => c.key === key)?.numeric ?? false;
    }
    this.host.save();
    this.refreshRows();
  }

  private refreshRows(): void {
    const s = this.host.state;
    const q = s.filter.trim().toLowerCase();
    const list = this.list;
    let rows = list.map((_, i) => i);
    if (q) {
      rows = rows.filter((i) => {
        const w = list[i];
        return w.name.toLowerCase().includes(q) || w.dtype.toLowerCase() === q || w.consumers.some((c) => c.op.toLowerCase() === q || c.node.toLowerCase().includes(q));
      });
    }
    const col = COLUMNS.find((c) => c.key === s.sort) ?? COLUMNS[4];
    const dir = s.descending ? -1 : 1;
    rows.sort((a, b) => {
      const x = col.value(list[a]);
      const y = col.value(list[b]);
      if (typeof x === 'number' && typeof y === 'number') {
        // Unknown (NaN) last, whatever the direction.
        if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? a - b : 1) : -1;
        return (x - y) * dir || a - b;
      }
      return String(x).localeCompare(String(y)) * dir || a - b;
    });
    this.rows = rows;
    for (const [key, th] of this.headerCells) th.setAttribute('aria-sort', key === s.sort ? (s.descending ? 'descending' : 'ascending') : 'none');
    this.table.setAttribute('aria-rowcount', String(rows.length + 1));
    this.countText.textContent = q ? `${formatCount(rows.length)} of ${formatCount(list.length)} weights` : `${formatCount(list.length)} weights`;
    this.renderRows(true);
  }

  private renderRows(force: boolean): void {
    if (!this.visible) return;
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    if (!force && first === this.renderedRange[0] && last === this.renderedRange[1]) return;
    this.renderedRange = [first, last];
    const focused = this.body.contains(document.activeElement);
    const out: Node[] = [];
    if (first > 0) out.push(spacer(first * ROW_HEIGHT));
    const selected = this.host.state.selected;
    for (let r = first; r < last; r++) {
      const i = this.rows[r];
      const w = this.list[i];
      const tr = h('tr', { 'data-index': String(i), 'aria-rowindex': String(r + 2), 'aria-selected': String(i === selected), tabindex: i === selected ? '0' : '-1' });
      if (i === selected) tr.classList.add('selected');
      COLUMNS.forEach((c, k) => {
        const text = c.text(w);
        tr.append(k === 0 ? h('th', { scope: 'row', title: text }, text) : h('td', { class: c.numeric ? 'num' : '', 'data-key': c.key }, text));
      });
      out.push(tr);
    }
    if (last < this.rows.length) out.push(spacer((this.rows.length - last) * ROW_HEIGHT));
    if (this.rows.length === 0) out.push(h('tr', {}, h('td', { colspan: String(COLUMNS.length), class: 'muted' }, this.list.length === 0 ? 'The model has no weights.' : 'No weight matches the filter.')));
    this.body.replaceChildren(...out);
    if (focused) (this.body.querySelector('tr.selected') as HTMLElement | null)?.focus({ preventScroll: true });
  }

  private onKey(event: KeyboardEvent): void {
    const at = this.rows.indexOf(this.host.state.selected);
    let next = at;
    switch (event.key) {
      case 'ArrowDown':
        next = Math.min(this.rows.length - 1, at + 1);
        break;
      case 'ArrowUp':
        next = Math.max(0, at - 1);
        break;
      case 'PageDown':
        next = Math.min(this.rows.length - 1, at + 10);
        break;
      case 'PageUp':
        next = Math.max(0, at - 10);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = this.rows.length - 1;
        break;
      default:
        return;
    }
    event.preventDefault();
    if (next >= 0 && next !== at) {
      this.select(this.rows[next]);
      this.scrollToRow(next);
      (this.body.querySelector('tr.selected') as HTMLElement | null)?.focus({ preventScroll: true });
    }
  }

  private scrollToRow(r: number): void {
    const top = r * ROW_HEIGHT;
    const headerH = ROW_HEIGHT + 2;
    if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
    else if (top + ROW_HEIGHT + headerH > this.scroller.scrollTop + this.scroller.clientHeight) this.scroller.scrollTop = top + ROW_HEIGHT + headerH - this.scroller.clientHeight;
    this.renderRows(true);
  }

  /** Selects weight `index` (in the weight list) and shows its histogram. */
  select(index: number, scroll = false): Promise<void> {
    this.host.state.selected = index;
    this.host.save();
    if (scroll) {
      let r = this.rows.indexOf(index);
      if (r < 0 && this.host.state.filter) {
        this.host.state.filter = '';
        this.filterField.value = '';
        this.refreshRows();
        r = this.rows.indexOf(index);
      }
      if (r >= 0) this.scrollToRow(r);
    }
    this.renderRows(true);
    return this.showDetail();
  }

  // -------------------------------------------------------------------------------------------------
  // Detail

  private showDetail(): Promise<void> {
    const index = this.host.state.selected;
    const token = ++this.detailToken;
    const w = this.list[index];
    if (!w) {
      this.lastDetail = undefined;
      this.detailPane.replaceChildren(h('p', { class: 'muted placeholder' }, 'Select a weight to see its histogram and, for Conv, MatMul and Gemm weights, its per-channel ranges.'));
      return Promise.resolve();
    }
    const consumers = h('ul', { class: 'consumers' });
    for (const c of w.consumers.slice(0, 12)) {
      const b = h('button', { type: 'button', class: 'link-button', title: 'Show this node in the graph' }, `${c.op} ${c.node || `#${c.index}`}`);
      b.addEventListener('click', () => this.host.showNode(c.graph, c.index));
      consumers.append(h('li', {}, b, h('span', { class: 'muted' }, ` input ${c.input}${c.graph !== 'main' ? ` in ${c.graph}` : ''}`)));
    }
    if (w.consumers.length > 12) consumers.append(h('li', { class: 'muted' }, `and ${w.consumers.length - 12} more`));
    const facts: [string, string][] = [
      ['Type', typeText(w.dtype, w.shape)],
      ['Elements', formatCount(w.elements)],
      ['Size', formatBytes(w.bytes)],
      ['Origin', `${w.origin}${w.graph !== 'main' ? ` in ${w.graph}` : ''}`],
    ];
    if (w.stored) facts.push(['Stored', `quantized ${w.stored.scheme} (${formatCount(w.stored.scales)} scale${w.stored.scales === 1 ? '' : 's'}, read by ${w.stored.via})`]);
    if (w.stats) {
      const s = w.stats;
      // A stored-quantized weight's figures are of the values its codes stand for (the table's too).
      const of = w.stored ? ' (values)' : '';
      facts.push([`Min${of}`, formatNumber(s.min)], [`Max${of}`, formatNumber(s.max)], [`Mean${of}`, formatNumber(s.mean)], [`Std${of}`, formatNumber(s.std)], ['Zeros', percentText(s.sparsity)]);
      if (!w.stored) facts.push(['Outlier score', formatNumber(s.outlierScore)]);
      if (s.nan > 0) facts.push(['NaN', formatCount(s.nan)]);
      if (s.inf > 0) facts.push(['±Inf', formatCount(s.inf)]);
    }
    const bins = dropdown({
      label: 'Histogram bins',
      id: 'weights-bins',
      value: String(this.host.state.bins),
      options: [...new Set([...BIN_CHOICES, this.host.defaultBins, this.host.state.bins])].sort((a, b) => a - b).map((b) => ({ value: String(b), label: `${b} bins` })),
      onChange: (value) => {
        this.host.state.bins = Number(value);
        this.host.save();
        void this.showDetail();
      },
    });
    const log: CheckElement = checkbox({
      label: 'Log counts',
      id: 'weights-log',
      checked: this.host.state.log,
      title: 'Logarithmic counts: shows the rare values in the tails',
      onChange: (checked) => {
        this.host.state.log = checked;
        this.host.save();
        this.redrawCharts();
      },
    });
    const codes: CheckElement | undefined = w.stored ? checkbox({
      label: 'Codes',
      id: 'weights-codes',
      checked: this.host.state.codes,
      title: `The stored ${w.dtype} codes instead of the values they stand for ((code - zero point) x scale)`,
      onChange: (checked) => {
        this.host.state.codes = checked;
        this.host.save();
        void this.showDetail();
      },
    }) : undefined;
    const chartBox = h('div', { class: 'chart-box', id: 'histogram-box' }, progressRing('Computing the histogram'));
    const channelBox = h('div', { class: 'chart-box', id: 'channels-box' });
    const channelText = h('p', { class: 'channel-summary muted' });
    this.detailPane.replaceChildren(
      h('h2', { class: 'detail-title' }, h('code', { id: 'weight-name' }, w.name)),
      h('dl', { class: 'facts inline' }, ...facts.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v)))),
      w.consumers.length > 0 ? h('div', { class: 'used-by' }, h('span', { class: 'side-label' }, 'Used by'), consumers) : h('p', { class: 'muted' }, 'No node consumes it.'),
      h('div', { class: 'detail-controls' }, h('h3', { id: 'histogram-title' }, w.stored ? (this.host.state.codes ? 'Histogram of the codes' : 'Histogram of the values') : 'Histogram'), h('span', { class: 'spacer' }), bins, log, ...(codes ? [codes] : [])),
      chartBox,
      h('section', { id: 'weight-quant', class: 'weight-quant', hidden: '' }),
      h('h3', { class: 'channels-heading', hidden: '' }, 'Per-output-channel ranges'),
      channelText,
      channelBox,
    );
    if (w.dtype === 'string' || w.elements === 0) {
      chartBox.replaceChildren(h('p', { class: 'muted' }, w.elements === 0 ? 'The tensor is empty.' : 'A string tensor has no histogram.'));
      this.lastDetail = undefined;
      return Promise.resolve();
    }
    this.detailShown = this.host.detail(index, this.host.state.bins, !!w.stored && this.host.state.codes).then(
      (detail) => {
        if (token !== this.detailToken) return;
        this.lastDetail = detail;
        this.redrawCharts();
      },
      (err) => {
        if (token !== this.detailToken) return;
        this.lastDetail = undefined;
        chartBox.replaceChildren(h('p', { class: 'error-text' }, `The histogram could not be computed: ${errorText(err)}`));
      },
    );
    return this.detailShown;
  }

  private redrawCharts(): void {
    const detail = this.lastDetail;
    if (!detail || !this.visible) return;
    const box = this.detailPane.querySelector('#histogram-box');
    const channelBox = this.detailPane.querySelector('#channels-box');
    if (!box || !channelBox) return;
    const width = Math.max(320, Math.floor((box as HTMLElement).clientWidth || this.detailPane.clientWidth - 24));
    box.replaceChildren(histogramChart(detail, width, 180, this.host.state.log));
    this.showQuantization(detail);
    const chart = channelChart(detail, width, 150);
    const heading = this.detailPane.querySelector('.channels-heading') as HTMLElement | null;
    const text = this.detailPane.querySelector('.channel-summary');
    if (heading) heading.hidden = !chart;
    if (text) text.textContent = chart ? (channelSummary(detail) ?? '') : '';
    channelBox.replaceChildren(...(chart ? [chart] : []));
  }

  /** The weight against the grid of the quantized copy it was compared with: SQNR, clipped share, worst channels. */
  private showQuantization(detail: WeightDetail): void {
    const section = this.detailPane.querySelector('#weight-quant') as HTMLElement | null;
    if (!section) return;
    const q = detail.quantization;
    section.hidden = !q;
    if (!q) { section.replaceChildren(); return; }
    if ('error' in q) { section.replaceChildren(h('h3', {}, 'Quantized'), h('p', { class: 'muted', id: 'weight-quant-text' }, q.error)); return; }
    const db = (v: number | null) => (v === null || !Number.isFinite(v) ? (v === null || v > 0 ? 'exact' : '−∞') : `${v.toFixed(1)} dB`);
    const pct = (v: number) => `${(v * 100).toFixed(v > 0 && v < 0.001 ? 3 : 2)}%`;
    const scheme = q.axis === null ? 'per tensor' : `per channel (axis ${q.axis}, ${q.channels.length})`;
    const text = `${q.type} ${scheme}: SQNR ${db(q.sqnrDb)}, ${pct(q.clipped)} clipped; the grid drawn is ${q.axis === null ? 'the tensor\'s' : `channel ${q.gridChannel}'s (the lowest SQNR)`}: step ${num(q.step)}, from ${num(q.lowest)} to ${num(q.highest)}`;
    const worst = q.channels.map((c, i) => ({ ...c, i })).sort((a, b) => a.sqnrDb - b.sqnrDb).slice(0, 8);
    section.replaceChildren(
      h('h3', {}, `Quantized in ${q.model}`),
      h('p', { id: 'weight-quant-text' }, h('code', {}, q.quantized), ` · ${text}`),
      ...(q.channels.length > 1 ? [table({
        id: 'weight-quant-channels', caption: 'Channels with the lowest SQNR',
        headers: [{ label: 'Channel', numeric: true }, { label: 'SQNR', numeric: true }, { label: 'Clipped', numeric: true }, { label: 'Scale', numeric: true }],
        rows: worst.map((c) => [String(c.i), db(c.sqnrDb), pct(c.clipped), num(c.scale)]),
      })] : []),
    );
  }

  /** Selects a weight by name, with `bins` bins, and reports what the histogram drew (tests' probes). */
  async showByName(name: string, bins: number, log: boolean | undefined, codes?: boolean): Promise<WeightViewInfo> {
    const index = this.host.weights.findIndex((w) => w.name === name);
    if (index < 0) throw new Error(`The model has no weight ${name}.`);
    this.host.state.bins = bins;
    if (log !== undefined) this.host.state.log = log;
    if (codes !== undefined) this.host.state.codes = codes;
    await this.select(index, true);
    await this.detailShown;
    const svg = this.detailPane.querySelector('svg.histogram');
    if (!svg) throw new Error(this.detailPane.querySelector('.error-text')?.textContent ?? `No histogram was drawn for ${name}.`);
    const counts = Array.from(svg.querySelectorAll('rect.hbar'), (r) => Number(r.getAttribute('data-count')));
    const channels = Number(this.detailPane.querySelector('svg.channels')?.getAttribute('data-channels') ?? 0);
    return {
      name: this.detailPane.querySelector('#weight-name')?.textContent ?? '',
      bins: Number(svg.getAttribute('data-bins')),
      log: this.host.state.log,
      values: this.lastDetail?.values ?? null,
      counts,
      histogram: { min: this.lastDetail?.histogram.min ?? NaN, max: this.lastDetail?.histogram.max ?? NaN },
      channels,
      rows: this.rows.length,
      quantization: this.detailPane.querySelector('#weight-quant:not([hidden])')
        ? { text: this.detailPane.querySelector('#weight-quant-text')?.textContent ?? '', gridLines: Number(svg.querySelector('g.qgrid')?.getAttribute('data-lines') ?? 0) }
        : null,
    };
  }

  get rowCount(): number {
    return this.list.length;
  }
}

function spacer(height: number): HTMLElement {
  const tr = h('tr', { class: 'spacer-row', 'aria-hidden': 'true' }, h('td', { colspan: String(COLUMNS.length) }));
  tr.style.height = `${height}px`;
  return tr;
}
