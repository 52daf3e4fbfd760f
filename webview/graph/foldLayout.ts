// The layout of a folded graph: each expanded layer is laid out on its own (its members, and a collapsed
// layer as one box), then drawn as a frame of that size inside its parent's layout, from the innermost
// layers out. What enters an expanded layer from outside comes in through one port at its top and what
// leaves goes out through one at its bottom, so the edges between layers are bundled: a route is the
// source's way out to the common layer, the route there, and the way in to the target. Expanding one layer
// lays out that layer and the levels above it; the others are laid out again too (they are small) but a
// folded level never holds more than hierarchy.ts's MAX_UNITS members.
//
// Pure: no DOM. Positions are in the drawing's units (the same as layout.ts's), the whole drawing's top
// left at (0, 0).
import { layoutGraph, type LayoutResult } from './layout';
import type { Hierarchy } from './hierarchy';

/** A frame's title band and its inner margin, in layout units. */
export const FRAME = { header: 26, pad: 12 } as const;

/** What is drawn as a box: a layout item (layout.ts's node, input, output, outer value) or a folded layer. */
export type Unit = { kind: 'item'; item: number } | { kind: 'group'; group: number };

export interface FoldInput {
  hierarchy: Hierarchy;
  /** Expanded groups (the root always is). */
  expanded: ReadonlySet<number>;
  /** Per layout item: its node (GraphData.nodes index), -1 for inputs, outputs and outer values (root members). */
  itemNode: ArrayLike<number>;
  /** Item edges as pairs (layout.ts's GraphLayoutInput.edges). */
  edges: ArrayLike<number>;
  /** Box size of a unit (called for the visible ones only). */
  size(unit: Unit): { width: number; height: number };
}

export interface PlacedUnit {
  unit: Unit;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Frame {
  group: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface FoldEdge {
  /** Indexes into FoldedLayout.units. */
  from: number;
  to: number;
  /** Item edges (indexes into FoldInput.edges pairs) it stands for: one, or several bundled. */
  items: number[];
  points: Float32Array;
}

export interface FoldedLayout {
  units: PlacedUnit[];
  frames: Frame[];
  edges: FoldEdge[];
  /** The unit each item is drawn in: itself, or the collapsed layer holding it. */
  unitOfItem: Int32Array;
  width: number;
  height: number;
}

interface Level {
  group: number;
  /** Members, in order: units (by index) and expanded child groups (as ~group), then the ports. */
  members: number[];
  inPort: number;
  outPort: number;
  edges: number[];
  edgeKey: Map<string, number>;
  result?: LayoutResult;
  /** Top-left of this level's drawing in the whole drawing. */
  ox: number;
  oy: number;
}

const OPTIONS = { margin: 20 };
const INNER = { margin: 6 };

export function layoutFolded(input: FoldInput): FoldedLayout {
  const { hierarchy: h, expanded } = input;
  const groups = h.groups;
  // The outermost collapsed group at or above each group; -1 where it and all above are expanded. Parents
  // come before their children in hierarchy order.
  const folded = new Int32Array(groups.length).fill(-1);
  for (let g = 1; g < groups.length; g++) {
    const p = groups[g].parent;
    folded[g] = folded[p] >= 0 ? folded[p] : expanded.has(g) ? -1 : g;
  }
  const items = input.itemNode.length;
  const units: PlacedUnit[] = [];
  const unitOfGroup = new Map<number, number>();
  const home: number[] = [];
  const unitOfItem = new Int32Array(items).fill(-1);
  const add = (unit: Unit, at: number) => { units.push({ unit, x: 0, y: 0, w: 0, h: 0 }); home.push(at); return units.length - 1; };
  for (let i = 0; i < items; i++) {
    const node = input.itemNode[i];
    const g = node >= 0 ? Math.max(0, h.groupOf[node]) : 0;
    const f = folded[g];
    if (f < 0) { unitOfItem[i] = add({ kind: 'item', item: i }, g); continue; }
    let u = unitOfGroup.get(f);
    if (u === undefined) unitOfGroup.set(f, (u = add({ kind: 'group', group: f }, groups[f].parent)));
    unitOfItem[i] = u;
  }

  // One level per expanded group that shows something; members keep node order (units were made in it).
  const levels = new Map<number, Level>();
  const level = (g: number): Level => {
    let l = levels.get(g);
    if (!l) levels.set(g, (l = { group: g, members: [], inPort: -1, outPort: -1, edges: [], edgeKey: new Map(), ox: 0, oy: 0 }));
    return l;
  };
  const slot = new Map<number, Map<number, number>>(); // level group -> (member key -> member index)
  const memberOf = (g: number, key: number): number => {
    let m = slot.get(g);
    if (!m) slot.set(g, (m = new Map()));
    let at = m.get(key);
    if (at === undefined) { const l = level(g); at = l.members.length; l.members.push(key); m.set(key, at); }
    return at;
  };
  // A unit's member at its own level, and each expanded group's member in its parent's, up to the root.
  const chain = (u: number): number[] => {
    const out: number[] = [];
    for (let g = home[u]; g > 0; g = groups[g].parent) out.push(g);
    return out;
  };
  units.forEach((_, u) => {
    memberOf(home[u], u);
    for (const g of chain(u)) memberOf(groups[g].parent, ~g);
  });
  const levelEdge = (g: number, a: number, b: number): number => {
    const l = level(g);
    const key = `${a},${b}`;
    let e = l.edgeKey.get(key);
    if (e === undefined) { e = l.edges.length / 2; l.edges.push(a, b); l.edgeKey.set(key, e); }
    return e;
  };
  const port = (g: number, which: 'in' | 'out'): number => {
    const l = level(g);
    if (which === 'in') { if (l.inPort < 0) { l.inPort = l.members.length; l.members.push(Number.NaN); } return l.inPort; }
    if (l.outPort < 0) { l.outPort = l.members.length; l.members.push(Number.NaN); }
    return l.outPort;
  };
  // The member standing for unit u in level g (u is at or below g).
  const standIn = (g: number, u: number): number => {
    if (home[u] === g) return slot.get(g)!.get(u)!;
    let x = home[u];
    while (groups[x].parent !== g) x = groups[x].parent;
    return slot.get(g)!.get(~x)!;
  };

  // Unit edges, bundled per (from, to); each with its steps through the levels.
  const unitEdges = new Map<string, { from: number; to: number; items: number[] }>();
  const count = Math.floor(input.edges.length / 2);
  for (let k = 0; k < count; k++) {
    const a = unitOfItem[input.edges[2 * k]], b = unitOfItem[input.edges[2 * k + 1]];
    if (a < 0 || b < 0 || a === b) continue;
    const key = `${a},${b}`;
    const e = unitEdges.get(key);
    if (e) e.items.push(k);
    else unitEdges.set(key, { from: a, to: b, items: [k] });
  }
  const steps: [number, number][][] = [];
  const edgesOut: FoldEdge[] = [];
  for (const e of unitEdges.values()) {
    const up = [home[e.from], ...chain(e.from).map((g) => groups[g].parent)];
    const down = [home[e.to], ...chain(e.to).map((g) => groups[g].parent)];
    const common = up.find((g) => down.includes(g)) ?? 0;
    const route: [number, number][] = [];
    for (const g of up) {
      if (g === common) break;
      route.push([g, levelEdge(g, standIn(g, e.from), port(g, 'out'))]);
    }
    route.push([common, levelEdge(common, standIn(common, e.from), standIn(common, e.to))]);
    const inward: [number, number][] = [];
    for (const g of down) {
      if (g === common) break;
      inward.push([g, levelEdge(g, port(g, 'in'), standIn(g, e.to))]);
    }
    steps.push([...route, ...inward.reverse()]);
    edgesOut.push({ from: e.from, to: e.to, items: e.items, points: new Float32Array(0) });
  }

  // Sizes from the innermost levels out: an expanded group is a frame around its level's drawing.
  const frameSize = new Map<number, { width: number; height: number }>();
  const order = [...levels.keys()].sort((a, b) => b - a); // children have larger ids than their parents
  for (const g of order) {
    const l = levels.get(g)!;
    const widths = new Float64Array(l.members.length), heights = new Float64Array(l.members.length);
    l.members.forEach((m, i) => {
      if (Number.isNaN(m)) { widths[i] = 1; heights[i] = 1; return; }
      const s = m >= 0 ? input.size(units[m].unit) : frameSize.get(~m)!;
      widths[i] = s.width; heights[i] = s.height;
      if (m >= 0) { units[m].w = s.width; units[m].h = s.height; }
    });
    l.result = layoutGraph({ widths, heights, edges: l.edges, options: g === 0 ? OPTIONS : { ...INNER, top: l.inPort, bottom: l.outPort } });
    if (g !== 0) {
      const title = groups[g].label.length * 7 + 40; // the title must fit the frame's band
      frameSize.set(g, { width: Math.max(l.result.width, title) + 2 * FRAME.pad, height: l.result.height + FRAME.header + FRAME.pad });
    }
  }

  // Positions from the root in.
  const frames: Frame[] = [];
  const root = levels.get(0);
  const place = (l: Level): void => {
    const r = l.result!;
    l.members.forEach((m, i) => {
      if (Number.isNaN(m)) return;
      const x = l.ox + r.x[i], y = l.oy + r.y[i];
      if (m >= 0) { units[m].x = x; units[m].y = y; return; }
      const s = frameSize.get(~m)!;
      frames.push({ group: ~m, x, y, w: s.width, h: s.height });
      const inner = levels.get(~m)!;
      inner.ox = x + FRAME.pad + (s.width - 2 * FRAME.pad - inner.result!.width) / 2;
      inner.oy = y + FRAME.header;
      place(inner);
    });
  };
  if (root) place(root);

  edgesOut.forEach((e, k) => {
    const points: number[] = [];
    let backwards = false;
    for (const [g, le] of steps[k]) {
      const l = levels.get(g)!;
      const r = l.result!;
      const a = r.edgeStart[le], b = r.edgeStart[le + 1];
      // A route the layout turned round to break a cycle (layers whose nodes interleave: /A -> /B -> /A)
      // runs upwards, from the target's top to the source's bottom: no way through the ports holds then.
      if (b - a >= 2 && r.edgePoints[2 * a + 1] > r.edgePoints[2 * b - 1]) backwards = true;
      for (let j = a; j < b; j++) {
        const x = l.ox + r.edgePoints[2 * j], y = l.oy + r.edgePoints[2 * j + 1];
        const n = points.length;
        if (n >= 2 && Math.abs(points[n - 2] - x) < 0.01 && Math.abs(points[n - 1] - y) < 0.01) continue;
        points.push(x, y);
      }
    }
    if (backwards) {
      // Up from the source's top to the target's bottom (the target is above it: the cycle is the model's),
      // so that the line runs between the two boxes, not through them; the arrowhead points up.
      const from = units[e.from], to = units[e.to];
      e.points = Float32Array.of(from.x + from.w / 2, from.y, to.x + to.w / 2, to.y + to.h);
    } else e.points = Float32Array.from(points);
  });
  return { units, frames, edges: edgesOut, unitOfItem, width: root?.result?.width ?? 0, height: root?.result?.height ?? 0 };
}
