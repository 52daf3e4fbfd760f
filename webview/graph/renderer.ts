// Draws a laid-out scene on a 2D canvas: only what intersects the view (a grid query), with less detail
// as the zoom goes down (text, then borders, then per-box drawing give way to one path per colour), so a
// pan or zoom step stays well inside a frame at 10,000 nodes. The overview draws the whole graph once into
// an offscreen bitmap and then only the viewport rectangle on top of it.
import { FRAME } from './foldLayout';
import { BOX, query, Stamp, type Scene } from './scene';
import { LABEL_HEIGHT, placeLabels, type LabelInput } from './labels';
import type { BoxCategory, Palette } from './theme';

export interface View {
  /** Layout units at the centre of the canvas. */
  cx: number;
  cy: number;
  /** CSS pixels per layout unit. */
  scale: number;
}

export interface Highlight {
  selected: number;
  /** Find matches (box indices) and the current one. */
  matches: ReadonlySet<number>;
  current: number;
  /** An overlay's colour per box (null: the box has no figure); absent or null: colours by category. */
  fills?: (string | null)[] | null;
}

/** The overlay's colour of a figure scaled to 0..1: red, more opaque the larger (readable on any theme). */
export function heatColour(v: number): string {
  return `rgba(220, 50, 47, ${(0.12 + 0.78 * Math.max(0, Math.min(1, v))).toFixed(3)})`;
}

export interface FrameStats {
  boxes: number;
  edges: number;
  ms: number;
}

/** Zoom thresholds of the levels of detail. */
const TEXT_SCALE = 0.4;
const DETAIL_SCALE = 0.55;
const LABEL_SCALE = 0.7;
const SHAPE_SCALE = 0.12;
/** Screen size of the titles drawn below TEXT_SCALE. */
const FAR_TEXT_PX = 10;

export class Renderer {
  private boxStamp: Stamp;
  private edgeStamp: Stamp;
  private readonly visibleBoxes: number[] = [];
  private readonly visibleEdges: number[] = [];
  private readonly labelWidths = new Map<string, number>();
  private readonly byCategory = new Map<BoxCategory, number[]>();

  constructor(private scene: Scene) {
    this.boxStamp = new Stamp(scene.boxes.length);
    this.edgeStamp = new Stamp(scene.edges.length);
  }

  setScene(scene: Scene): void {
    this.scene = scene;
    this.boxStamp = new Stamp(scene.boxes.length);
    this.edgeStamp = new Stamp(scene.edges.length);
    this.labelWidths.clear();
  }

  /** The visible world rectangle for a canvas of `width` x `height` CSS pixels. */
  static worldRect(view: View, width: number, height: number): [number, number, number, number] {
    const hw = width / 2 / view.scale;
    const hh = height / 2 / view.scale;
    return [view.cx - hw, view.cy - hh, view.cx + hw, view.cy + hh];
  }

  draw(ctx: CanvasRenderingContext2D, width: number, height: number, dpr: number, view: View, palette: Palette, highlight: Highlight): FrameStats {
    const started = performance.now();
    const scene = this.scene;
    const s = view.scale;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = palette.background;
    ctx.fillRect(0, 0, width, height);

    const [x0, y0, x1, y1] = Renderer.worldRect(view, width, height);
    // A margin so that labels and arrowheads of boxes just outside still show.
    const m = 30 / s;
    query(scene, x0 - m, y0 - m, x1 + m, y1 + m, this.boxStamp, this.edgeStamp, this.visibleBoxes, this.visibleEdges);
    ctx.setTransform(dpr * s, 0, 0, dpr * s, dpr * (width / 2 - view.cx * s), dpr * (height / 2 - view.cy * s));
    const px = 1 / s; // one CSS pixel in layout units

    // Expanded layers' frames under everything else.
    if (scene.frames.length > 0) this.drawFrames(ctx, palette, s, px, x0 - m, y0 - m, x1 + m, y1 + m);

    // Edges: one path for all of them, then the highlighted ones on top.
    const related = new Set<number>();
    if (highlight.selected >= 0) {
      for (const e of scene.edgesIn[highlight.selected] ?? []) related.add(e);
      for (const e of scene.edgesOut[highlight.selected] ?? []) related.add(e);
    }
    ctx.lineJoin = 'round';
    ctx.lineCap = 'round';
    ctx.strokeStyle = palette.edge;
    ctx.lineWidth = Math.max(px, s >= TEXT_SCALE ? 1.2 * px : px * 0.8);
    ctx.beginPath();
    const smooth = s >= TEXT_SCALE;
    for (const e of this.visibleEdges) if (!related.has(e)) this.edgePath(ctx, e, smooth);
    ctx.stroke();
    if (s >= TEXT_SCALE) {
      ctx.fillStyle = palette.edge;
      ctx.beginPath();
      for (const e of this.visibleEdges) if (!related.has(e)) this.arrowHead(ctx, e, px);
      ctx.fill();
    }
    if (related.size > 0) {
      ctx.strokeStyle = palette.edgeHighlight;
      ctx.fillStyle = palette.edgeHighlight;
      ctx.lineWidth = 2 * px;
      ctx.beginPath();
      for (const e of related) this.edgePath(ctx, e, smooth);
      ctx.stroke();
      ctx.beginPath();
      for (const e of related) this.arrowHead(ctx, e, Math.max(px, 1));
      ctx.fill();
    }

    // Boxes.
    if (s < SHAPE_SCALE) this.drawBoxesFlat(ctx, palette, highlight.fills ?? null);
    else this.drawBoxes(ctx, palette, s, px, highlight.fills ?? null);

    // Far out, the names of what can be read at all: layers, and ops whose box holds their name.
    if (s < TEXT_SCALE) this.drawFarTitles(ctx, palette, s);

    // Edge labels (dtype and shape) at the start of each edge, once per value and source.
    if (s >= LABEL_SCALE) this.drawLabels(ctx, palette, px);

    // Selection and find highlights.
    for (const b of this.visibleBoxes) {
      const isCurrent = b === highlight.current;
      const isMatch = highlight.matches.has(b);
      const isSelected = b === highlight.selected;
      if (!isCurrent && !isMatch && !isSelected) continue;
      const box = scene.boxes[b];
      const pad = 3 * px;
      if (isMatch || isCurrent) {
        ctx.fillStyle = palette.findMatch;
        roundRect(ctx, box.x - pad, box.y - pad, box.w + 2 * pad, box.h + 2 * pad, 6);
        ctx.fill();
      }
      if (isSelected || isCurrent) {
        ctx.strokeStyle = isSelected ? palette.selection : palette.findCurrent;
        ctx.lineWidth = 2 * px;
        roundRect(ctx, box.x - pad, box.y - pad, box.w + 2 * pad, box.h + 2 * pad, 6);
        ctx.stroke();
      }
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    return { boxes: this.visibleBoxes.length, edges: this.visibleEdges.length, ms: performance.now() - started };
  }

  private edgePath(ctx: CanvasRenderingContext2D, e: number, smooth: boolean): void {
    const p = this.scene.edges[e].points;
    const n = p.length / 2;
    if (n < 2) return;
    ctx.moveTo(p[0], p[1]);
    if (!smooth || n === 2) {
      if (n === 2 && smooth) {
        // A vertical S-curve between the two ends.
        const dy = (p[3] - p[1]) / 2;
        ctx.bezierCurveTo(p[0], p[1] + dy, p[2], p[3] - dy, p[2], p[3]);
        return;
      }
      for (let i = 1; i < n; i++) ctx.lineTo(p[2 * i], p[2 * i + 1]);
      return;
    }
    // Through the midpoints, with the route's points as control points: smooth, and close to the route.
    for (let i = 1; i < n - 1; i++) {
      const mx = (p[2 * i] + p[2 * i + 2]) / 2;
      const my = (p[2 * i + 1] + p[2 * i + 3]) / 2;
      ctx.quadraticCurveTo(p[2 * i], p[2 * i + 1], mx, my);
    }
    ctx.lineTo(p[2 * n - 2], p[2 * n - 1]);
  }

  private arrowHead(ctx: CanvasRenderingContext2D, e: number, px: number): void {
    const p = this.scene.edges[e].points;
    const n = p.length / 2;
    if (n < 2) return;
    const x = p[2 * n - 2];
    const y = p[2 * n - 1];
    const size = Math.max(5, 4 * px);
    // Down into the target's top; up into its bottom for an edge a cycle turned round.
    const dir = y >= p[2 * n - 3] ? 1 : -1;
    ctx.moveTo(x, y);
    ctx.lineTo(x - size * 0.6, y - dir * size);
    ctx.lineTo(x + size * 0.6, y - dir * size);
    ctx.closePath();
  }

  /** Far out: one filled path per colour, no borders, no text. */
  private drawBoxesFlat(ctx: CanvasRenderingContext2D, palette: Palette, fills: (string | null)[] | null): void {
    if (fills) {
      for (const b of this.visibleBoxes) {
        const box = this.scene.boxes[b];
        ctx.fillStyle = (box.kind === 'node' || box.kind === 'group') && fills[b] ? fills[b]! : palette.edge;
        ctx.fillRect(box.x, box.y, box.w, box.h);
      }
      return;
    }
    const groups = this.byCategory;
    for (const list of groups.values()) list.length = 0;
    for (const b of this.visibleBoxes) {
      const c = this.scene.boxes[b].category;
      let list = groups.get(c);
      if (!list) groups.set(c, (list = []));
      list.push(b);
    }
    for (const [category, list] of groups) {
      if (list.length === 0) continue;
      ctx.fillStyle = palette.category[category];
      ctx.beginPath();
      for (const b of list) {
        const box = this.scene.boxes[b];
        ctx.rect(box.x, box.y, box.w, box.h);
      }
      ctx.fill();
    }
  }

  private drawBoxes(ctx: CanvasRenderingContext2D, palette: Palette, s: number, px: number, fills: (string | null)[] | null): void {
    const boxes = this.scene.boxes;
    const text = s >= TEXT_SCALE;
    const detail = s >= DETAIL_SCALE;
    for (const b of this.visibleBoxes) {
      const box = boxes[b];
      const colour = palette.category[box.category];
      if (box.kind === 'node') {
        roundRect(ctx, box.x, box.y, box.w, box.h, 4);
        ctx.fillStyle = palette.background;
        ctx.fill();
        // With an overlay its figure is the fill; a node without one is left blank.
        ctx.fillStyle = fills ? fills[b] ?? palette.background : palette.tint[box.category];
        ctx.fill();
        ctx.lineWidth = palette.highContrast ? 1.5 * px : px;
        ctx.strokeStyle = palette.highContrast ? palette.border : colour;
        ctx.stroke();
        // The category stripe along the top.
        ctx.fillStyle = colour;
        ctx.fillRect(box.x + 2, box.y, box.w - 4, 3);
        if (box.hasSubgraphs) {
          // Two stacked squares: "this node holds graphs" (open with Enter or a double click).
          ctx.strokeStyle = colour;
          ctx.lineWidth = 1.2;
          const gx = box.x + box.w - 15;
          const gy = box.y + 8;
          ctx.strokeRect(gx, gy + 3, 8, 8);
          ctx.strokeRect(gx + 3, gy, 8, 8);
        }
      } else if (box.kind === 'group') {
        // A folded layer: a card on a card.
        ctx.lineWidth = palette.highContrast ? 1.5 * px : px;
        ctx.strokeStyle = palette.border;
        roundRect(ctx, box.x + 4, box.y - 4, box.w, box.h, 6);
        ctx.fillStyle = palette.background;
        ctx.fill();
        ctx.stroke();
        roundRect(ctx, box.x, box.y, box.w, box.h, 6);
        ctx.fill();
        ctx.fillStyle = fills ? fills[b] ?? palette.background : palette.tint.other;
        ctx.fill();
        ctx.stroke();
      } else {
        const r = box.h / 2;
        roundRect(ctx, box.x, box.y, box.w, box.h, r);
        ctx.fillStyle = palette.tint[box.category];
        ctx.fill();
        ctx.lineWidth = (palette.highContrast ? 2 : 1.5) * px;
        ctx.strokeStyle = colour;
        if (box.kind === 'outer') ctx.setLineDash([4 * px, 3 * px]);
        ctx.stroke();
        if (box.kind === 'outer') ctx.setLineDash([]);
        // A dot on the side the data flows from: inputs at their bottom, outputs at their top.
        ctx.fillStyle = colour;
        ctx.beginPath();
        ctx.arc(box.x + r, box.y + r, 4, 0, Math.PI * 2);
        ctx.fill();
      }
    }
    if (!text) return;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    ctx.fillStyle = palette.foreground;
    ctx.font = `600 12px ${palette.font}`;
    for (const b of this.visibleBoxes) {
      const box = boxes[b];
      if (box.kind !== 'node' && box.kind !== 'group') continue;
      ctx.fillText(box.title, box.x + 9, box.y + 14);
    }
    ctx.font = `12px ${palette.font}`;
    for (const b of this.visibleBoxes) {
      const box = boxes[b];
      if (box.kind === 'node' || box.kind === 'group') continue;
      ctx.fillText(box.title, box.x + box.h / 2 + 9, box.y + box.h / 2 + 0.5);
    }
    if (!detail) return;
    ctx.fillStyle = palette.muted;
    ctx.font = `11px ${palette.font}`;
    for (const b of this.visibleBoxes) {
      const box = boxes[b];
      if ((box.kind === 'node' || box.kind === 'group') && box.subtitle) ctx.fillText(box.subtitle, box.x + 9, box.y + BOX.headerHeight + 5);
    }
    ctx.font = `10.5px ${palette.monoFont}`;
    for (const b of this.visibleBoxes) {
      const box = boxes[b];
      if (!box.lines) continue;
      let y = box.y + BOX.headerHeight + BOX.nameHeight + BOX.weightRowHeight / 2 - 1;
      for (const line of box.lines) { ctx.fillText(line, box.x + 12, y); y += BOX.weightRowHeight; }
    }
    for (const b of this.visibleBoxes) {
      const box = boxes[b];
      if (box.kind !== 'node' || (box.weights.length === 0 && box.moreWeights === 0)) continue;
      let y = box.y + BOX.headerHeight + (box.subtitle ? BOX.nameHeight : 0) + BOX.weightRowHeight / 2 - 1;
      for (const row of box.weights) {
        // A small diamond: a weight.
        ctx.fillStyle = palette.category[box.category];
        ctx.beginPath();
        ctx.moveTo(box.x + 12, y - 3.5);
        ctx.lineTo(box.x + 15.5, y);
        ctx.lineTo(box.x + 12, y + 3.5);
        ctx.lineTo(box.x + 8.5, y);
        ctx.closePath();
        ctx.fill();
        ctx.fillStyle = palette.muted;
        ctx.fillText(row.text, box.x + 20, y);
        y += BOX.weightRowHeight;
      }
      if (box.moreWeights > 0) ctx.fillText(`+${box.moreWeights} more`, box.x + 20, y);
    }
  }

  /** Expanded layers: a faint panel with a title band (readable at any zoom where the band is). */
  private drawFrames(ctx: CanvasRenderingContext2D, palette: Palette, s: number, px: number, x0: number, y0: number, x1: number, y1: number): void {
    const visible = this.scene.frames.filter((f) => f.x <= x1 && f.x + f.w >= x0 && f.y <= y1 && f.y + f.h >= y0);
    ctx.lineWidth = palette.highContrast ? 1.5 * px : px;
    for (const f of visible) {
      roundRect(ctx, f.x, f.y, f.w, f.h, 8);
      ctx.fillStyle = palette.frame;
      ctx.fill();
      ctx.strokeStyle = palette.border;
      ctx.setLineDash([5 * px, 3 * px]);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    // The title at 11 screen pixels where the band is tall enough, else at the band's height.
    ctx.fillStyle = palette.muted;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    const size = Math.min(11 / s, FRAME.header * 0.55);
    if (size * s < 6) return;
    ctx.font = `600 ${size}px ${palette.font}`;
    for (const f of visible) {
      // A nested frame's title is clipped to its own width.
      ctx.save();
      ctx.beginPath();
      ctx.rect(f.x, f.y, f.w, FRAME.header);
      ctx.clip();
      ctx.fillText(`${f.title}  ▾`, f.x + 10, f.y + FRAME.header / 2);
      ctx.restore();
    }
  }

  /** Below the zoom where text is drawn: a layer's name (and an op type) at a readable size where it fits its box. */
  private drawFarTitles(ctx: CanvasRenderingContext2D, palette: Palette, s: number): void {
    const size = FAR_TEXT_PX / s;
    ctx.font = `600 ${size}px ${palette.font}`;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'center';
    ctx.fillStyle = palette.foreground;
    for (const b of this.visibleBoxes) {
      const box = this.scene.boxes[b];
      if (box.kind !== 'group' && box.kind !== 'node') continue;
      if (box.h * s < FAR_TEXT_PX + 2) continue;
      const w = ctx.measureText(box.title).width;
      if (w > box.w - 4 / s) continue;
      ctx.fillText(box.title, box.x + box.w / 2, box.y + box.h / 2);
    }
    ctx.textAlign = 'left';
  }

  private drawLabels(ctx: CanvasRenderingContext2D, palette: Palette, px: number): void {
    const scene = this.scene;
    ctx.font = `10px ${palette.monoFont}`;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    const inputs: LabelInput[] = [];
    const text = new Map<string, string>();
    for (const e of this.visibleEdges) {
      const edge = scene.edges[e];
      let w = this.labelWidths.get(edge.label);
      if (w === undefined) {
        w = ctx.measureText(edge.label).width;
        this.labelWidths.set(edge.label, w);
      }
      const key = `${edge.from}:${edge.value}`;
      text.set(key, edge.label);
      inputs.push({ key, points: edge.points, width: w });
    }
    for (const l of placeLabels(inputs)) {
      ctx.fillStyle = palette.background;
      ctx.globalAlpha = 0.85;
      ctx.fillRect(l.x - 2, l.y - LABEL_HEIGHT / 2, l.width + 4, LABEL_HEIGHT);
      ctx.globalAlpha = 1;
      ctx.fillStyle = palette.label;
      ctx.fillText(text.get(l.key)!, l.x, l.y + 0.5 * px);
    }
  }
}

function roundRect(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, r: number): void {
  ctx.beginPath();
  ctx.roundRect(x, y, w, h, Math.min(r, w / 2, h / 2));
}

/** The whole graph, small, with the view's rectangle on it. */
export class Overview {
  private bitmap: HTMLCanvasElement | undefined;
  private fit = { scale: 1, ox: 0, oy: 0 };

  constructor(private scene: Scene) {}

  setScene(scene: Scene): void {
    this.scene = scene;
    this.bitmap = undefined;
  }

  invalidate(): void {
    this.bitmap = undefined;
  }

  /** Overview pixel -> layout units. */
  toWorld(x: number, y: number): [number, number] {
    return [(x - this.fit.ox) / this.fit.scale, (y - this.fit.oy) / this.fit.scale];
  }

  draw(ctx: CanvasRenderingContext2D, width: number, height: number, dpr: number, palette: Palette, view: View, viewWidth: number, viewHeight: number): void {
    if (!this.bitmap || this.bitmap.width !== Math.round(width * dpr) || this.bitmap.height !== Math.round(height * dpr)) this.paint(width, height, dpr, palette);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    if (this.bitmap) ctx.drawImage(this.bitmap, 0, 0);
    const [x0, y0, x1, y1] = Renderer.worldRect(view, viewWidth, viewHeight);
    const f = this.fit;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const rx = x0 * f.scale + f.ox;
    const ry = y0 * f.scale + f.oy;
    const rw = Math.max(4, (x1 - x0) * f.scale);
    const rh = Math.max(4, (y1 - y0) * f.scale);
    ctx.fillStyle = palette.selection;
    ctx.globalAlpha = 0.12;
    ctx.fillRect(rx, ry, rw, rh);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = palette.selection;
    ctx.lineWidth = 1.5;
    ctx.strokeRect(rx, ry, rw, rh);
  }

  private paint(width: number, height: number, dpr: number, palette: Palette): void {
    const scene = this.scene;
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(width * dpr));
    canvas.height = Math.max(1, Math.round(height * dpr));
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const pad = 6;
    const scale = Math.min((width - 2 * pad) / Math.max(1, scene.width), (height - 2 * pad) / Math.max(1, scene.height));
    const ox = (width - scene.width * scale) / 2;
    const oy = (height - scene.height * scale) / 2;
    this.fit = { scale, ox, oy };
    ctx.setTransform(dpr * scale, 0, 0, dpr * scale, dpr * ox, dpr * oy);
    if (scene.edges.length <= 4000) {
      ctx.strokeStyle = palette.edge;
      ctx.globalAlpha = 0.5;
      ctx.lineWidth = 1 / scale;
      ctx.beginPath();
      for (const e of scene.edges) {
        const p = e.points;
        if (p.length < 4) continue;
        ctx.moveTo(p[0], p[1]);
        for (let i = 2; i < p.length; i += 2) ctx.lineTo(p[i], p[i + 1]);
      }
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
    const groups = new Map<BoxCategory, number[]>();
    scene.boxes.forEach((b, i) => {
      let list = groups.get(b.category);
      if (!list) groups.set(b.category, (list = []));
      list.push(i);
    });
    // At least a pixel per box, whatever the scale.
    const minSize = 1.2 / scale;
    for (const [category, list] of groups) {
      ctx.fillStyle = palette.category[category];
      ctx.beginPath();
      for (const i of list) {
        const b = scene.boxes[i];
        ctx.rect(b.x, b.y, Math.max(minSize, b.w), Math.max(minSize, b.h));
      }
      ctx.fill();
    }
    this.bitmap = canvas;
  }
}
