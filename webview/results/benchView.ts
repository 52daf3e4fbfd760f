// A benchmark: the verdict (the speed-up with its interval), a latency chart (p50 bars with p90/p99
// whiskers per model and provider), the distribution of run times, the speed-up on a scale around 1,
// memory and size, where the time goes per op type side by side, the diagnostics in plain words, and the
// earlier results of the same models. File and op names come from models: text nodes only.
import type { BenchResult, BenchRun } from '../../src/protocol/bench';
import type { BenchContent, ResultsRenderedMessage, ResultsToExtensionMessage } from '../../src/protocol/results';
import { formatBytes } from '../../src/protocol/format';
import { h, svg, table } from '../ui/dom';
import { button } from '../ui/toolkit';
import { ticks } from './compareView';
import { actionButton } from './quantizeView';

const ms = (x: number) => (x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(0));
const name = (r: BenchRun) => `${r.label} (${r.provider.used})`;
const text = (s: string) => document.createTextNode(s);
/** The chart colours of VS Code, one per run (CSS classes run-0..run-5). */
const colour = (i: number) => `run-${i % 6}`;
const PAD = { left: 10, right: 16, top: 8, bottom: 28 };
const WIDTH = 640;

/** p50 bars, a whisker from p50 to p99 with a tick at p90, one row per run. */
function latencyChart(runs: BenchRun[]): SVGSVGElement {
  const row = 30, labelW = 220;
  const height = PAD.top + row * runs.length + PAD.bottom;
  const hi = Math.max(...runs.map((r) => r.latencyMs.p99)) * 1.05 || 1;
  const valueW = 70; // the p50 written after each whisker
  const x = (v: number) => labelW + (v / hi) * (WIDTH - labelW - valueW);
  const root = svg('svg', { class: 'chart latency', width: WIDTH, height, viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': `Latency per model: ${runs.map((r) => `${name(r)} p50 ${ms(r.latencyMs.p50)} ms, p90 ${ms(r.latencyMs.p90)}, p99 ${ms(r.latencyMs.p99)}`).join('; ')}` });
  for (const t of ticks(0, hi, 6)) {
    root.append(svg('line', { class: 'grid', x1: x(t), x2: x(t), y1: PAD.top, y2: height - PAD.bottom }));
    root.append(svg('text', { class: 'tick', x: x(t), y: height - PAD.bottom + 14, 'text-anchor': 'middle' }, text(String(Number(t.toPrecision(6))))));
  }
  root.append(svg('text', { class: 'axis-label', x: (labelW + WIDTH) / 2, y: height - 2, 'text-anchor': 'middle' }, text('ms per run (bar: p50; whisker: p90 tick, to p99)')));
  runs.forEach((r, i) => {
    const y = PAD.top + i * row, mid = y + row / 2;
    root.append(svg('text', { class: 'run-label', x: labelW - 8, y: mid + 4, 'text-anchor': 'end' }, text(name(r).length > 34 ? `…${name(r).slice(-33)}` : name(r))));
    root.append(svg('rect', { class: `lat-bar ${colour(i)}`, x: x(0), y: y + 7, width: Math.max(1, x(r.latencyMs.p50) - x(0)), height: row - 14 }, svg('title', {}, text(`${name(r)}: p50 ${ms(r.latencyMs.p50)} ms`))));
    root.append(svg('line', { class: 'whisker', x1: x(r.latencyMs.p50), x2: x(r.latencyMs.p99), y1: mid, y2: mid }));
    root.append(svg('line', { class: 'whisker', x1: x(r.latencyMs.p90), x2: x(r.latencyMs.p90), y1: mid - 5, y2: mid + 5 }));
    root.append(svg('line', { class: 'whisker', x1: x(r.latencyMs.p99), x2: x(r.latencyMs.p99), y1: mid - 8, y2: mid + 8 }));
    root.append(svg('text', { class: 'tick', x: x(r.latencyMs.p99) + 6, y: mid + 4 }, text(`${ms(r.latencyMs.p50)} ms`)));
  });
  return root;
}

/** Each run's timed runs as a histogram, all on one time axis. */
function distribution(runs: BenchRun[]): SVGSVGElement {
  // A loop, not Math.min(...all): up to 100,000 runs per model would overflow the call stack.
  let lo = Infinity, hi = -Infinity;
  for (const r of runs) for (const round of r.roundsMs) for (const t of round) { if (t < lo) lo = t; if (t > hi) hi = t; }
  if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
  const bins = 40, band = 46;
  const height = PAD.top + band * runs.length + PAD.bottom;
  const x = (v: number) => 40 + ((v - lo) / (hi - lo)) * (WIDTH - 40 - PAD.right);
  const root = svg('svg', { class: 'chart distribution', width: WIDTH, height, viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': `Distribution of run times from ${ms(lo)} to ${ms(hi)} ms` });
  for (const t of ticks(lo, hi, 6)) {
    root.append(svg('line', { class: 'grid', x1: x(t), x2: x(t), y1: PAD.top, y2: height - PAD.bottom }));
    root.append(svg('text', { class: 'tick', x: x(t), y: height - PAD.bottom + 14, 'text-anchor': 'middle' }, text(String(Number(t.toPrecision(6))))));
  }
  root.append(svg('text', { class: 'axis-label', x: WIDTH / 2, y: height - 2, 'text-anchor': 'middle' }, text('ms per run')));
  runs.forEach((r, i) => {
    const counts = new Array<number>(bins).fill(0);
    for (const t of r.roundsMs.flat()) counts[Math.min(bins - 1, Math.floor(((t - lo) / (hi - lo)) * bins))]++;
    const top = PAD.top + i * band, peak = Math.max(...counts) || 1, w = (WIDTH - 40 - PAD.right) / bins;
    root.append(svg('text', { class: 'run-label small', x: 40, y: top + 10 }, text(name(r))));
    counts.forEach((c, b) => {
      if (!c) return;
      const hgt = (c / peak) * (band - 16);
      root.append(svg('rect', { class: `hist-bar ${colour(i)}`, x: 40 + b * w + 0.5, y: top + band - 2 - hgt, width: Math.max(1, w - 1), height: hgt }, svg('title', {}, text(`${c} run${c === 1 ? '' : 's'} of ${name(r)} at ${ms(lo + (b * (hi - lo)) / bins)}-${ms(lo + ((b + 1) * (hi - lo)) / bins)} ms`))));
    });
  });
  return root;
}

/** Each ratio on a scale around 1 (same speed): the p50 ratio as a dot, the 95% interval as a bar. */
function speedupChart(result: BenchResult): SVGSVGElement {
  const row = 30, labelW = 220;
  const height = PAD.top + row * result.ratios.length + PAD.bottom;
  const hi = Math.max(1.2, ...result.ratios.map((q) => q.ci[1] * 1.1));
  const x = (v: number) => labelW + (v / hi) * (WIDTH - labelW - PAD.right);
  const root = svg('svg', { class: 'chart speedup', width: WIDTH, height, viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': 'p50 ratio to the reference with its 95% interval; left of 1 is faster' });
  for (const t of ticks(0, hi, 6)) {
    root.append(svg('line', { class: 'grid', x1: x(t), x2: x(t), y1: PAD.top, y2: height - PAD.bottom }));
    root.append(svg('text', { class: 'tick', x: x(t), y: height - PAD.bottom + 14, 'text-anchor': 'middle' }, text(String(Number(t.toPrecision(3))))));
  }
  root.append(svg('line', { class: 'same-speed', x1: x(1), x2: x(1), y1: PAD.top - 4, y2: height - PAD.bottom }));
  root.append(svg('text', { class: 'axis-label', x: (labelW + WIDTH) / 2, y: height - 2, 'text-anchor': 'middle' }, text('p50 / reference p50 (left of 1: faster)')));
  result.ratios.forEach((q, i) => {
    const r = result.runs[q.run], mid = PAD.top + i * row + row / 2;
    root.append(svg('text', { class: 'run-label', x: labelW - 8, y: mid + 4, 'text-anchor': 'end' }, text(name(r).length > 34 ? `…${name(r).slice(-33)}` : name(r))));
    root.append(svg('rect', { class: `ci ${q.verdict}`, x: x(q.ci[0]), y: mid - 5, width: Math.max(2, x(q.ci[1]) - x(q.ci[0])), height: 10, rx: 3 }));
    root.append(svg('circle', { class: `ratio ${q.verdict}`, cx: x(q.p50), cy: mid, r: 5 }, svg('title', {}, text(`${q.p50.toFixed(3)} (95% ${q.ci[0].toFixed(3)}-${q.ci[1].toFixed(3)})`))));
  });
  return root;
}

function verdictOf(result: BenchResult): { text: string; ok: boolean | null } {
  const q = result.ratios[0];
  if (!q) {
    const r = result.runs[0];
    return { text: `${name(r)}: p50 ${ms(r.latencyMs.p50)} ms, ${r.throughput.inferencesPerSec.toFixed(1)} inferences/s`, ok: null };
  }
  const r = result.runs[q.run], ref = result.runs[q.reference];
  const interval = `p50 ratio ${q.p50.toFixed(2)}, 95% interval ${q.ci[0].toFixed(2)}-${q.ci[1].toFixed(2)}`;
  if (q.verdict === 'faster') return { text: `${r.label} is ${(1 / q.p50).toFixed(2)}× faster than ${ref.label} on ${r.provider.used} (${interval})`, ok: true };
  if (q.verdict === 'slower') return { text: `${r.label} is ${q.p50.toFixed(2)}× slower than ${ref.label} on ${r.provider.used} (${interval}): see the diagnostics`, ok: false };
  return { text: `${r.label} is not measurably faster than ${ref.label} on ${r.provider.used} (${interval}): see the diagnostics`, ok: false };
}

/** Kernel time per run of the op types that take the most, one column per run, with a bar each. */
function opTypeTable(runs: BenchRun[]): HTMLElement | null {
  const profiled = runs.filter((r) => r.profile);
  if (!profiled.length) return null;
  const total = new Map<string, number>();
  for (const r of profiled) for (const o of r.profile!.byOpType) total.set(o.opType, (total.get(o.opType) ?? 0) + o.ms);
  const ops = [...total].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([op]) => op);
  const peak = Math.max(...profiled.flatMap((r) => r.profile!.byOpType.map((o) => o.ms))) || 1;
  return table({
    id: 'op-times', caption: `Kernel time per run by op type (onnxruntime's profile of ${profiled[0].profile!.runs} runs)`,
    headers: [{ label: 'Op type' }, ...profiled.map((r) => ({ label: name(r), numeric: true }))],
    rows: ops.map((op) => [op, ...profiled.map((r) => {
      const o = r.profile!.byOpType.find((x) => x.opType === op);
      if (!o) return '—';
      return h('span', { class: 'op-time' }, h('span', { class: 'bar-track' }, h('span', { class: `bar ${colour(runs.indexOf(r))}`, style: `width:${Math.max(2, (100 * o.ms) / peak).toFixed(1)}%` })), ` ${ms(o.ms)} ms (${(100 * o.share).toFixed(0)}%)`);
    })]),
  });
}

/** The slowest nodes of the models' graphs, their time in each profiled run side by side. */
function nodeTable(r: BenchResult): HTMLElement | null {
  const cols = r.runs.map((x, i) => (x.profile ? i : -1)).filter((i) => i >= 0);
  if (!cols.length || !r.slowestNodes.length) return null;
  return table({
    id: 'node-times', caption: 'The slowest nodes of the model (the kernels onnxruntime made of each, summed), per run',
    headers: [{ label: 'Node' }, ...cols.map((i) => ({ label: name(r.runs[i]), numeric: true }))],
    rows: r.slowestNodes.map((n) => [n.node, ...cols.map((i) => (n.ms[i] === null ? '—' : `${ms(n.ms[i]!)} ms`))]),
  });
}

function historyTable(runs: BenchRun[], history: BenchContent['history']): HTMLElement | null {
  // One row per earlier result on the same provider, the last five per run.
  const rows = runs.flatMap((r, i) => (history[i] ?? []).filter((e) => e.provider === r.provider.used).slice(0, 5).map((e) => {
    const change = (r.latencyMs.p50 - e.p50) / e.p50;
    return [name(r), new Date(e.date).toLocaleString(), `${ms(e.p50)} ms`, `${ms(e.p99)} ms`, formatBytes(e.sizeBytes),
      h('span', { class: Math.abs(change) < 0.05 ? 'muted' : change < 0 ? 'better' : 'worse' }, `${change >= 0 ? '+' : ''}${(100 * change).toFixed(1)}% now`)];
  }));
  if (!rows.length) return null;
  return table({ id: 'bench-history', caption: 'Earlier results of the same models in this workspace (the newest first)', headers: [{ label: 'Model' }, { label: 'When' }, { label: 'p50', numeric: true }, { label: 'p99', numeric: true }, { label: 'Size', numeric: true }, { label: 'p50 now', numeric: true }], rows });
}

export function renderBench(app: HTMLElement, title: string, c: BenchContent, post: (m: ResultsToExtensionMessage) => void): Omit<ResultsRenderedMessage, 'type' | 'kind'> {
  const r = c.result;
  const verdict = verdictOf(r);
  const runsTable = table({
    id: 'bench-runs', caption: 'Latency in ms over the timed runs of each model',
    headers: ['Model', 'p50', 'p90', 'p99', 'Mean', 'Min', 'Max', 'Std dev', 'CV', 'Runs', 'Inferences/s', 'Session', 'First run'].map((label, i) => ({ label, numeric: i > 0 })),
    rows: r.runs.map((x) => [
      h('span', { class: 'nowrap' }, h('span', { class: `swatch ${colour(r.runs.indexOf(x))}` }), ` ${name(x)}`),
      ms(x.latencyMs.p50), ms(x.latencyMs.p90), ms(x.latencyMs.p99), ms(x.latencyMs.mean), ms(x.latencyMs.min), ms(x.latencyMs.max), ms(x.latencyMs.stddev),
      h('span', { class: x.noisy ? 'warning-text' : '', title: x.noisy ? 'over 10%: a noisy measurement' : '' }, `${(100 * x.latencyMs.cv).toFixed(1)}%${x.noisy ? ' noisy' : ''}`),
      String(x.iterations), `${x.throughput.inferencesPerSec.toFixed(1)}${x.throughput.samplesPerSec !== null ? ` (${x.throughput.samplesPerSec.toFixed(1)} samples/s)` : ''}`,
      `${ms(x.sessionMs)} ms`, `${ms(x.firstRunMs)} ms`,
    ]),
  });
  const memory = table({
    id: 'bench-memory', caption: 'Memory (each model in a process of its own) and size on disk',
    headers: [{ label: 'Model' }, { label: 'Peak RSS', numeric: true }, { label: 'Before the session', numeric: true }, { label: 'Added by the model', numeric: true }, { label: 'Size', numeric: true }, { label: 'Size vs first', numeric: true }],
    rows: r.runs.map((x) => [name(x), `${x.peakRssMb.toFixed(1)} MiB`, `${x.baseRssMb.toFixed(1)} MiB`, `${(x.peakRssMb - x.baseRssMb).toFixed(1)} MiB`, formatBytes(x.sizeBytes), `${(x.sizeBytes / r.runs[0].sizeBytes).toFixed(2)}×`]),
  });
  const charts = [latencyChart(r.runs), distribution(r.runs), ...(r.ratios.length ? [speedupChart(r)] : [])];
  const ops = opTypeTable(r.runs);
  const nodes = nodeTable(r);
  const history = historyTable(r.runs, c.history);
  const shapes = Object.entries(r.inputs.shapes).map(([k, v]) => `${k} [${v.join(', ')}]`).join(', ');
  const parts = [
    h('header', { class: 'compare-header' },
      h('h1', {}, title),
      h('p', { class: `verdict-line ${verdict.ok === null ? 'none' : verdict.ok ? 'pass' : 'fail'}`, role: 'status' }, verdict.text),
      h('div', { class: 'toolbar' }, ...c.actions.map((a) => actionButton(a, post)),
        button('Copy as Markdown', { icon: 'copy', id: 'copy-markdown', onClick: () => post({ type: 'copyMarkdown' }) }),
        button('Save as JSON…', { icon: 'save', id: 'save-json', onClick: () => post({ type: 'saveJson' }) }))),
    h('dl', { class: 'compare-facts' },
      h('dt', {}, 'Inputs'), h('dd', { class: r.inputs.defaulted.length ? 'warning-text' : '' }, `${r.inputs.source}${shapes ? `; ${shapes}` : ''}${r.inputs.defaulted.length ? `; dims left at 1: ${r.inputs.defaulted.map((d) => d.name ?? `${d.input}:${d.axis}`).join(', ')}` : ''}`),
      h('dt', {}, 'Schedule'), h('dd', {}, `${r.settings.rounds} interleaved rounds, warm-up ${r.settings.warmup}${r.settings.threads ? `, ${r.settings.threads} threads` : ''}, each model in its own process`),
      h('dt', {}, 'CPU'), h('dd', {}, `${r.cpu.model || r.cpu.arch}, ${r.cpu.cores} logical cores; int8: ${r.cpu.note}`),
      h('dt', {}, 'Runtime'), h('dd', {}, `onnxruntime-node ${r.runtime}, ${new Date(r.date).toLocaleString()}, ${r.seconds.toFixed(1)} s`)),
    h('section', { class: 'report-section', 'aria-label': 'Latency' }, h('h2', {}, 'Latency'), runsTable, h('div', { class: 'chart-row' }, h('figure', {}, charts[0]))),
    r.ratios.length ? h('section', { class: 'report-section', 'aria-label': 'Speed-up' }, h('h2', {}, 'Speed-up against the first model'), h('figure', {}, charts[2])) : null,
    r.diagnostics.length ? h('section', { class: 'report-section', 'aria-label': 'Diagnostics' }, h('h2', {}, 'Diagnostics'),
      h('ul', { class: 'notes bench-diagnostics' }, ...r.diagnostics.map((d) => h('li', { class: d.level === 'warning' ? 'warning-text' : '' }, d.text)))) : null,
    h('section', { class: 'report-section', 'aria-label': 'Distribution' }, h('h2', {}, 'Distribution of run times'), h('figure', {}, charts[1])),
    ops ? h('section', { class: 'report-section', 'aria-label': 'Where the time goes' }, h('h2', {}, 'Where the time goes'), h('h3', {}, 'Per op type'), ops, nodes ? h('h3', {}, 'Per node') : null, nodes) : null,
    h('section', { class: 'report-section', 'aria-label': 'Memory and size' }, h('h2', {}, 'Memory and size'), memory),
    history ? h('section', { class: 'report-section', 'aria-label': 'Earlier results' }, h('h2', {}, 'Earlier results'), history) : null,
  ];
  app.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
  return { rows: r.runs.length, plots: charts.length, verdict: verdict.text, historyRows: history?.querySelectorAll('tbody tr').length ?? 0 };
}
