// How report values are presented (shapes, sizes, counts), so the CLI, the model editor and the
// Markdown summary say the same thing. Pure functions: no vscode, no Node (the webview imports them).
import type { Dim } from './inspect';

/** `[1, 3, height, ?]`: symbolic dims by name, unknown dims as `?`; `?` alone when the rank is unknown. */
export function formatShape(shape: readonly Dim[] | null): string {
  if (shape === null) return '?';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** `{ Conv: 62, MatMul: 1 }` -> "62 Conv, 1 MatMul" (most first). */
export function formatOpCounts(byOp: Record<string, number>): string {
  return Object.entries(byOp).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${n} ${op}`).join(', ');
}

/** 1536 -> "1.50 KiB", 26454 -> "25.8 KiB": binary units, named as such, the one convention for sizes everywhere. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${value} B`;
  return `${value.toFixed(Math.abs(value) < 10 ? 2 : Math.abs(value) < 100 ? 1 : 0)} ${units[unit]}`;
}

/** 1234567 -> "1,234,567". */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
}

/** 12345678 -> "12.3 M" (parameter counts). */
export function formatCompact(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)} K`;
  return formatCount(n);
}

/** A statistic: short, and exact for integers. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return x.toExponential(3);
  return x.toPrecision(4).replace(/\.?0+$/, '');
}

/** "ai.onnx 13, com.microsoft 1", default domain first. */
export function formatOpsets(opsets: Record<string, number>): string {
  const entries = Object.entries(opsets).sort(([a], [b]) => (a === 'ai.onnx' ? -1 : b === 'ai.onnx' ? 1 : a.localeCompare(b)));
  return entries.length === 0 ? 'none' : entries.map(([domain, version]) => `${domain || 'ai.onnx'} ${version}`).join(', ');
}

/** Op types by count, most frequent first, then by name. */
export function sortedHistogram(histogram: Record<string, number>): [string, number][] {
  return Object.entries(histogram).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
}
