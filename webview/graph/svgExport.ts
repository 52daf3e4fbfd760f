// The whole graph as an SVG document, as the view draws it at full detail: expanded layers' frames, edges
// with arrowheads and their labels (placed as on screen, none overlapping), node boxes with their category
// stripe, weights and names, collapsed layers with their op counts, graph inputs and outputs. Colours are
// the theme's at the time of export. Pure (text measuring is passed in), so it is tested in Node.
import { FRAME } from './foldLayout';
import { LABEL_HEIGHT, placeLabels } from './labels';
import { BOX, type Box, type Scene } from './scene';
import type { Palette } from './theme';

// XML 1.0 allows no control characters but tab and newlines, and no lone surrogates: a name from the model
// may hold them; they become U+FFFD.
// eslint-disable-next-line no-control-regex
const INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const escape = (s: string) => s.replace(INVALID, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (x: number) => (Math.round(x * 10) / 10).toString();

/** `measure(text)`: the width of an edge label (10 px monospace) in layout units. */
export function sceneSvg(scene: Scene, palette: Palette, measure: (text: string) => number): string {
  const out: string[] = [];
  const font = escape(palette.font);
  const mono = escape(palette.monoFont);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${n(scene.width)}" height="${n(scene.height)}" viewBox="0 0 ${n(scene.width)} ${n(scene.height)}" font-family="${font}">`);
  out.push(`<title>${escape(scene.graph.label || scene.graph.name || scene.graph.path)}</title>`);
  out.push(`<rect width="100%" height="100%" fill="${escape(palette.background)}"/>`);
  for (const f of scene.frames) {
    out.push(`<rect x="${n(f.x)}" y="${n(f.y)}" width="${n(f.w)}" height="${n(f.h)}" rx="8" fill="${escape(palette.frame)}" stroke="${escape(palette.border)}" stroke-dasharray="5 3"/>`);
    out.push(`<text x="${n(f.x + 10)}" y="${n(f.y + FRAME.header / 2)}" dominant-baseline="middle" font-size="11" font-weight="600" fill="${escape(palette.muted)}">${escape(f.title)}</text>`);
  }
  out.push(`<g fill="none" stroke="${escape(palette.edge)}" stroke-width="1.2">`);
  for (const e of scene.edges) {
    if (e.points.length < 4) continue;
    const pts: string[] = [];
    for (let i = 0; i < e.points.length; i += 2) pts.push(`${n(e.points[i])},${n(e.points[i + 1])}`);
    out.push(`<polyline points="${pts.join(' ')}"/>`);
  }
  out.push('</g>');
  out.push(`<g fill="${escape(palette.edge)}">`);
  for (const e of scene.edges) {
    const p = e.points;
    if (p.length < 4) continue;
    const x = p[p.length - 2], y = p[p.length - 1];
    const dir = y >= p[p.length - 3] ? 5 : -5; // up for an edge a cycle turned round
    out.push(`<path d="M${n(x)} ${n(y)}L${n(x - 3)} ${n(y - dir)}L${n(x + 3)} ${n(y - dir)}Z"/>`);
  }
  out.push('</g>');
  scene.boxes.forEach((b) => out.push(boxSvg(b, palette)));
  // Edge labels where they fit, as the view places them.
  const labels = placeLabels(scene.edges.map((e) => ({ key: `${e.from}:${e.value}`, points: e.points, width: measure(e.label) })));
  const text = new Map(scene.edges.map((e) => [`${e.from}:${e.value}`, e.label]));
  out.push(`<g font-family="${mono}" font-size="10">`);
  for (const l of labels) {
    out.push(`<rect x="${n(l.x - 2)}" y="${n(l.y - LABEL_HEIGHT / 2)}" width="${n(l.width + 4)}" height="${LABEL_HEIGHT}" fill="${escape(palette.background)}" fill-opacity="0.85"/>`);
    out.push(`<text x="${n(l.x)}" y="${n(l.y)}" dominant-baseline="middle" fill="${escape(palette.label)}">${escape(text.get(l.key) ?? '')}</text>`);
  }
  out.push('</g>');
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function boxSvg(b: Box, palette: Palette): string {
  const colour = escape(palette.category[b.category]);
  const tint = escape(palette.tint[b.category]);
  const parts: string[] = [];
  if (b.kind === 'node' || b.kind === 'group') {
    if (b.kind === 'group') parts.push(`<rect x="${n(b.x + 4)}" y="${n(b.y - 4)}" width="${n(b.w)}" height="${n(b.h)}" rx="6" fill="${escape(palette.background)}" stroke="${escape(palette.border)}"/>`);
    parts.push(`<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.w)}" height="${n(b.h)}" rx="${b.kind === 'group' ? 6 : 4}" fill="${tint}" stroke="${b.kind === 'group' ? escape(palette.border) : colour}"/>`);
    if (b.kind === 'node') parts.push(`<rect x="${n(b.x + 2)}" y="${n(b.y)}" width="${n(b.w - 4)}" height="3" fill="${colour}"/>`);
    parts.push(`<text x="${n(b.x + 9)}" y="${n(b.y + 14)}" dominant-baseline="middle" font-size="12" font-weight="600" fill="${escape(palette.foreground)}">${escape(b.title)}</text>`);
    if (b.subtitle) parts.push(`<text x="${n(b.x + 9)}" y="${n(b.y + BOX.headerHeight + 5)}" dominant-baseline="middle" font-size="11" fill="${escape(palette.muted)}">${escape(b.subtitle)}</text>`);
    let y = b.y + BOX.headerHeight + (b.subtitle ? BOX.nameHeight : 0) + BOX.weightRowHeight / 2 - 1;
    const rows = [...b.weights.map((w) => `◆ ${w.text}`), ...(b.moreWeights > 0 ? [`+${b.moreWeights} more`] : []), ...(b.lines ?? [])];
    for (const row of rows) {
      parts.push(`<text x="${n(b.x + 10)}" y="${n(y)}" dominant-baseline="middle" font-size="10.5" font-family="${escape(palette.monoFont)}" fill="${escape(palette.muted)}">${escape(row)}</text>`);
      y += BOX.weightRowHeight;
    }
  } else {
    const r = b.h / 2;
    parts.push(`<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.w)}" height="${n(b.h)}" rx="${n(r)}" fill="${tint}" stroke="${colour}" stroke-width="1.5"${b.kind === 'outer' ? ' stroke-dasharray="4 3"' : ''}/>`);
    parts.push(`<circle cx="${n(b.x + r)}" cy="${n(b.y + r)}" r="4" fill="${colour}"/>`);
    parts.push(`<text x="${n(b.x + r + 9)}" y="${n(b.y + r)}" dominant-baseline="middle" font-size="12" fill="${escape(palette.foreground)}">${escape(b.title)}</text>`);
  }
  return `<g>${parts.join('')}</g>`;
}
