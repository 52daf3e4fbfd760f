// DOM helpers for the webview. Text goes in through text nodes and attribute values only (never
// innerHTML): every name and string in a model is attacker-controlled.
import type { Dim } from '../../src/protocol/inspect';

export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) if (child !== null && child !== undefined && child !== false && child !== '') node.append(child);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: (Node | null)[]): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  for (const child of children) if (child) node.append(child);
  return node;
}

/** A codicon (the icon font ships with the webview; `name` as in codicon-<name>). */
export function icon(name: string): HTMLElement {
  return h('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });
}

export function section(id: string, heading: string, ...content: Child[]): HTMLElement {
  return h('section', { id, 'aria-labelledby': `${id}-heading` }, h('h2', { id: `${id}-heading` }, heading), ...content);
}

export interface Header {
  label: string;
  numeric?: boolean;
}
export type Cell = Node | string;

/** A real table: caption, column headers, the first cell of each row as its row header. */
export function table(spec: { id: string; caption: string; headers: Header[]; rows: Cell[][] }): HTMLElement {
  const head = h('tr', {}, ...spec.headers.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : '' }, c.label)));
  const body = h('tbody');
  for (const row of spec.rows) {
    const tr = h('tr');
    row.forEach((cell, i) => {
      const numeric = spec.headers[i]?.numeric ? 'num' : '';
      tr.append(i === 0 ? h('th', { scope: 'row', class: numeric }, cell) : h('td', { class: numeric }, cell));
    });
    body.append(tr);
  }
  return h('div', { class: 'table-wrap' }, h('table', { id: spec.id }, h('caption', { class: 'visually-hidden' }, spec.caption), h('thead', {}, head), body));
}

/** A shape with symbolic dims marked, and unknown dims (or rank) as `?` with an explanation. */
export function shapeNode(shape: readonly Dim[] | null): HTMLElement {
  const node = h('code', { class: 'shape' });
  if (shape === null) {
    node.append(h('abbr', { title: 'unknown shape' }, '?'));
    return node;
  }
  node.append('[');
  shape.forEach((d, i) => {
    if (i > 0) node.append(', ');
    if (d === null) node.append(h('abbr', { title: 'unknown dimension' }, '?'));
    else if (typeof d === 'string') node.append(h('span', { class: 'dim-symbolic', title: 'symbolic dimension' }, d));
    else node.append(String(d));
  });
  node.append(']');
  return node;
}

/** `float[1,3,224,224]`; `?` for an unknown dtype or dim, `float ?` for an unknown shape, `?` when nothing is known. */
export function typeText(dtype: string | null, shape: readonly Dim[] | null): string {
  if (shape === null) return dtype === null ? '?' : `${dtype} ?`;
  return `${dtype ?? '?'}[${shape.map((x) => (x === null ? '?' : String(x))).join(',')}]`;
}

/** A share of a whole as text with a small bar. */
export function share(part: number, whole: number): Node {
  const fraction = whole > 0 ? part / whole : 0;
  const percent = fraction * 100;
  const text = `${percent >= 10 || percent === 0 ? percent.toFixed(0) : percent.toFixed(1)}%`;
  const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
  // CSSOM, not a style attribute: allowed by the CSP.
  bar.style.width = `${Math.max(0, Math.min(100, percent))}%`;
  return h('span', { class: 'share' }, h('span', { class: 'bar-track', 'aria-hidden': 'true' }, bar), text);
}

/** Percent text of a 0..1 fraction. */
export function percentText(fraction: number): string {
  const p = fraction * 100;
  if (!Number.isFinite(p)) return String(p);
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p < 0.1 ? p.toFixed(2) : p.toFixed(1)}%`;
}
