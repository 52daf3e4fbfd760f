// The weights view's pictures, as SVG built element by element (no markup parsing): a histogram of a
// weight's values (linear or log counts) and the per-output-channel ranges of a Conv / MatMul / Gemm
// weight, which show why one scale per channel quantizes better than one per tensor. Colours are theme
// variables (CSS classes in style.css). Each bar carries its count, so what was drawn can be read back.
import { formatCount, formatNumber } from '../../src/protocol/format';
import type { WeightDetail } from '../../src/protocol/graph';
import { svg } from '../ui/dom';
import { logTicks, roundTicks } from './ticks';

const PAD = { left: 56, right: 12, top: 12, bottom: 30 };

export function histogramChart(detail: WeightDetail, width: number, height: number, log: boolean): SVGSVGElement {
  const { counts, min, max } = detail.histogram;
  const n = counts.length;
  const plotW = Math.max(10, width - PAD.left - PAD.right);
  const plotH = Math.max(10, height - PAD.top - PAD.bottom);
  const peak = counts.reduce((a, b) => Math.max(a, b), 0);
  const yOf = (c: number) => {
    if (c <= 0 || peak <= 0) return 0;
    return log ? (Math.log10(c + 1) / Math.log10(peak + 1)) * plotH : (c / peak) * plotH;
  };
  const total = counts.reduce((a, b) => a + b, 0);
  const root = svg('svg', {
    class: 'chart histogram',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `Histogram of ${detail.name}: ${n} bins from ${formatNumber(min)} to ${formatNumber(max)}, ${formatCount(total)} values, ${log ? 'logarithmic' : 'linear'} counts`,
    'data-bins': n,
  });
  const plot = svg('g', { transform: `translate(${PAD.left},${PAD.top})` });
  root.append(plot);
  plot.append(svg('rect', { class: 'plot-bg', x: 0, y: 0, width: plotW, height: plotH }));
  // Grid lines at round counts (powers of ten on a log scale), labelled.
  for (const count of log ? logTicks(peak) : roundTicks(peak)) {
    const y = plotH - yOf(count);
    plot.append(svg('line', { class: 'grid', x1: 0, x2: plotW, y1: y, y2: y }));
    const t = svg('text', { class: 'tick', x: -6, y: y + 3, 'text-anchor': 'end' });
    t.textContent = compact(count);
    plot.append(t);
  }
  const bw = plotW / Math.max(1, n);
  const bars = svg('g', { class: 'hbars' });
  const range = max - min;
  for (let i = 0; i < n; i++) {
    const c = counts[i];
    const hgt = yOf(c);
    const bar = svg('rect', {
      class: 'hbar',
      x: i * bw,
      y: plotH - hgt,
      width: Math.max(bw - (bw > 3 ? 1 : 0), 0.5),
      height: hgt,
      'data-count': c,
    });
    const lo = min + (range * i) / n;
    const hi = min + (range * (i + 1)) / n;
    const title = svg('title');
    title.textContent = `[${formatNumber(lo)}, ${formatNumber(hi)}${i === n - 1 ? ']' : ')'}: ${formatCount(c)}`;
    bar.append(title);
    bars.append(bar);
  }
  plot.append(bars);
  // Zero, and the 0.1 / 99.9 percentiles (where a calibration that clips outliers would cut).
  const xOf = (v: number) => (range > 0 ? ((v - min) / range) * plotW : plotW / 2);
  if (min < 0 && max > 0) plot.append(svg('line', { class: 'zero', x1: xOf(0), x2: xOf(0), y1: 0, y2: plotH }));
  for (const key of ['p0.1', 'p99.9']) {
    const v = detail.percentiles[key];
    if (v === undefined || !Number.isFinite(v)) continue;
    const line = svg('line', { class: 'percentile', x1: xOf(v), x2: xOf(v), y1: 0, y2: plotH });
    const title = svg('title');
    title.textContent = `${key.replace('p', '')} percentile: ${formatNumber(v)}`;
    line.append(title);
    plot.append(line);
  }
  // The quantized copy's grid (the values it can represent), where its lines are at least 3 px apart; its
  // ends (past which values are clipped) always.
  const q = detail.quantization && 'grid' in detail.quantization ? detail.quantization : undefined;
  if (q) {
    const inside = q.grid.filter((v) => v >= min && v <= max);
    const drawn = inside.length > 0 && plotW / inside.length >= 3 ? inside : [];
    const g = svg('g', { class: 'qgrid', 'data-lines': drawn.length });
    for (const v of drawn) g.append(svg('line', { class: 'qgrid-line', x1: xOf(v), x2: xOf(v), y1: 0, y2: plotH }));
    for (const v of [q.lowest, q.highest]) {
      if (v < min || v > max) continue;
      const end = svg('line', { class: 'qgrid-end', x1: xOf(v), x2: xOf(v), y1: 0, y2: plotH });
      const t = svg('title');
      t.textContent = `end of the ${q.type} grid: ${formatNumber(v)} (values beyond are clipped)`;
      end.append(t);
      g.append(end);
    }
    plot.append(g);
  }
  plot.append(svg('line', { class: 'axis', x1: 0, x2: plotW, y1: plotH, y2: plotH }));
  plot.append(legend(plotW, [
    ...(min < 0 && max > 0 ? [{ cls: 'zero', label: 'zero' }] : []),
    ...(['p0.1', 'p99.9'].some((k) => Number.isFinite(detail.percentiles[k])) ? [{ cls: 'percentile', label: '0.1 / 99.9 percentiles' }] : []),
    ...(q ? [{ cls: 'qgrid-end', label: `ends of the ${q.type} grid` }] : []),
  ]));
  const ticks: [number, string][] = [
    [0, formatNumber(min)],
    [plotW, formatNumber(max)],
  ];
  if (min < 0 && max > 0 && xOf(0) > 40 && xOf(0) < plotW - 40) ticks.push([xOf(0), '0']);
  for (const [x, label] of ticks) {
    const t = svg('text', { class: 'tick', x, y: plotH + 16, 'text-anchor': x === 0 ? 'start' : x === plotW ? 'end' : 'middle' });
    t.textContent = label;
    plot.append(t);
  }
  return root;
}

export function channelChart(detail: WeightDetail, width: number, height: number): SVGSVGElement | null {
  const ch = detail.channels;
  if (!ch || ch.min.length === 0) return null;
  const n = ch.min.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(ch.min[i])) lo = Math.min(lo, ch.min[i]);
    if (Number.isFinite(ch.max[i])) hi = Math.max(hi, ch.max[i]);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null;
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const plotW = Math.max(10, width - PAD.left - PAD.right);
  const plotH = Math.max(10, height - PAD.top - PAD.bottom);
  const yOf = (v: number) => plotH - ((v - lo) / (hi - lo)) * plotH;
  const root = svg('svg', {
    class: 'chart channels',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `Per-channel ranges of ${detail.name} along axis ${ch.axis}: ${n} channels`,
    'data-channels': n,
  });
  const plot = svg('g', { transform: `translate(${PAD.left},${PAD.top})` });
  root.append(plot);
  plot.append(svg('rect', { class: 'plot-bg', x: 0, y: 0, width: plotW, height: plotH }));
  for (const [v, label] of [
    [hi, formatNumber(hi)],
    [lo, formatNumber(lo)],
  ] as [number, string][]) {
    plot.append(svg('line', { class: 'grid', x1: 0, x2: plotW, y1: yOf(v), y2: yOf(v) }));
    const t = svg('text', { class: 'tick', x: -6, y: yOf(v) + 3, 'text-anchor': 'end' });
    t.textContent = label;
    plot.append(t);
  }
  if (lo < 0 && hi > 0) plot.append(svg('line', { class: 'zero', x1: 0, x2: plotW, y1: yOf(0), y2: yOf(0) }));
  const bw = plotW / n;
  const bars = svg('g', { class: 'hbars' });
  for (let i = 0; i < n; i++) {
    const a = ch.min[i];
    const b = ch.max[i];
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    const y0 = yOf(b);
    const bar = svg('rect', { class: 'hbar', x: i * bw, y: y0, width: Math.max(bw - (bw > 3 ? 1 : 0), 0.5), height: Math.max(1, yOf(a) - y0) });
    const title = svg('title');
    title.textContent = `channel ${i}: ${formatNumber(a)} … ${formatNumber(b)}`;
    bar.append(title);
    bars.append(bar);
  }
  plot.append(bars);
  plot.append(svg('line', { class: 'axis', x1: 0, x2: plotW, y1: plotH, y2: plotH }));
  for (const [x, label, anchor] of [
    [0, 'channel 0', 'start'],
    [plotW, `${n - 1}`, 'end'],
  ] as [number, string, string][]) {
    const t = svg('text', { class: 'tick', x, y: plotH + 16, 'text-anchor': anchor });
    t.textContent = label;
    plot.append(t);
  }
  return root;
}

/** How much per-channel scales would help: each channel's max |x| against the tensor's. */
export function channelSummary(detail: WeightDetail): string | null {
  const ch = detail.channels;
  if (!ch || ch.min.length === 0) return null;
  const absMax = ch.min.map((a, i) => Math.max(Math.abs(a), Math.abs(ch.max[i]))).filter((x) => Number.isFinite(x));
  if (absMax.length === 0) return null;
  const sorted = [...absMax].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const top = sorted[sorted.length - 1];
  const ratio = median > 0 ? top / median : Infinity;
  return (
    `${formatCount(absMax.length)} channels along axis ${ch.axis}. The largest channel range (max |x| ${formatNumber(top)}) is ` +
    `${Number.isFinite(ratio) ? formatNumber(ratio) : '∞'}× the median channel's (${formatNumber(median)}): ` +
    (ratio >= 2
      ? 'one int8 scale for the whole tensor would leave most channels only a fraction of the 255 levels; per-channel scales keep them.'
      : 'the channels are similar, so per-tensor and per-channel scales would quantize them about equally well.')
  );
}

/** What each kind of marker line is, drawn in its own style, at the plot's top right. */
function legend(plotW: number, entries: { cls: string; label: string }[]): SVGGElement {
  const g = svg('g', { class: 'legend', 'data-entries': entries.length });
  entries.forEach((e, i) => {
    const y = 8 + i * 14;
    g.append(svg('line', { class: e.cls, x1: plotW - 150, x2: plotW - 134, y1: y, y2: y }));
    const t = svg('text', { class: 'legend-label', x: plotW - 130, y: y + 3 });
    t.textContent = e.label;
    g.append(t);
  });
  return g;
}

function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return String(n);
}
