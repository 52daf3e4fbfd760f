// A folded graph's scene: the boxes of what is visible (nodes of expanded layers, collapsed layers as one box
// with their op counts and parameters, graph inputs and outputs), the frames of the expanded layers, and
// the edges between boxes (several values between the same two boxes bundled into one), placed by
// foldLayout.ts. Only visible boxes are made, so a 100,000-node graph folded to its top level costs what its
// top level does.
import type { GraphData } from '../../src/protocol/graph';
import { formatCompact, formatCount } from '../../src/protocol/format';
import { layoutFolded, type Unit } from './foldLayout';
import { groupContents, type Hierarchy } from './hierarchy';
import type { GraphLayoutInput } from './layout';
import { BOX, buildGrid, edgeBounds, edgeLabel, itemBox, type Box, type Edge, type Scene, type SceneOptions } from './scene';

/** Op-count lines a collapsed layer lists. */
const GROUP_LINES = 3;

export function buildFoldedScene(graph: GraphData, input: GraphLayoutInput, hierarchy: Hierarchy, expanded: ReadonlySet<number>, options: SceneOptions): Scene {
  const boxOf = (unit: Unit): Box => (unit.kind === 'item' ? itemBox(graph, input.items[unit.item], options) : groupBox(graph, hierarchy, unit.group, options));
  const made = new Map<string, Box>();
  const key = (u: Unit) => (u.kind === 'item' ? `i${u.item}` : `g${u.group}`);
  const folded = layoutFolded({
    hierarchy,
    expanded,
    itemNode: input.items.map((it) => (it.kind === 'node' ? it.node : -1)),
    edges: input.edges,
    size: (u) => {
      const box = boxOf(u);
      made.set(key(u), box);
      return { width: box.w, height: box.h };
    },
  });
  const boxes = folded.units.map((u) => {
    const box = made.get(key(u.unit)) ?? boxOf(u.unit);
    box.x = u.x;
    box.y = u.y;
    return box;
  });
  const { values } = graph;
  const producer = new Int32Array(values.length).fill(-1);
  const consumers: number[][] = values.map(() => []);
  const edgesIn: number[][] = boxes.map(() => []);
  const edgesOut: number[][] = boxes.map(() => []);
  const edges: Edge[] = folded.edges.map((e, k) => {
    const carried = new Set<number>();
    for (const item of e.items) {
      const v = input.edgeValues[item];
      carried.add(v);
      producer[v] = e.from;
      if (!consumers[v].includes(e.to)) consumers[v].push(e.to);
    }
    edgesOut[e.from].push(k);
    edgesIn[e.to].push(k);
    const value = input.edgeValues[e.items[0]];
    const label = carried.size > 1 ? `${carried.size} tensors` : edgeLabel(values[value]);
    return { from: e.from, to: e.to, value, label, ...edgeBounds(e.points) };
  });
  const boxOfNode = new Int32Array(graph.nodes.length).fill(-1);
  const unitOfNode = new Int32Array(graph.nodes.length).fill(-1);
  input.nodeItem.forEach((item, node) => {
    if (item < 0) return;
    const u = folded.unitOfItem[item];
    unitOfNode[node] = u;
    if (folded.units[u].unit.kind === 'item') boxOfNode[node] = u;
  });
  let hiddenConstants = 0;
  for (let i = 0; i < input.nodeItem.length; i++) if (input.nodeItem[i] < 0) hiddenConstants++;
  const layers = rows(boxes);
  layers.forEach((row, r) => { for (const b of row) boxes[b].rank = r; });
  const frames = folded.frames.map((f) => ({ ...f, title: frameTitle(hierarchy, f.group) }));
  return {
    graph, boxes, edges, boxOfNode, hiddenConstants, producer, consumers, edgesIn, edgesOut,
    width: folded.width, height: folded.height, layers, grid: buildGrid(boxes, edges, folded.width, folded.height),
    frames, fold: { hierarchy, expanded, unitOfNode },
  };
}

/**
 * An overlay's figure for each collapsed layer drawn (by box): the sum of its nodes' figures (`additive`:
 * time) or its worst node's (an error), with that node's category.
 */
export function layerFigures(scene: Scene, byName: ReadonlyMap<string, { value: number; category?: number }>, additive: boolean): Map<number, { value: number; category?: number }> {
  const layer = new Map<number, { value: number; category?: number }>();
  const fold = scene.fold;
  if (!fold) return layer;
  scene.graph.nodes.forEach((node, i) => {
    const u = fold.unitOfNode[i];
    const n = u >= 0 && scene.boxOfNode[i] < 0 ? byName.get(node.name) : undefined;
    if (!n) return;
    const seen = layer.get(u);
    if (!seen) layer.set(u, { value: n.value, category: n.category });
    else if (additive) seen.value += n.value;
    else if (n.value > seen.value) layer.set(u, { value: n.value, category: n.category });
  });
  return layer;
}

/** A collapsed layer: its name, how many nodes and parameters it holds, and its most frequent ops. */
function groupBox(graph: GraphData, h: Hierarchy, g: number, options: SceneOptions): Box {
  const group = h.groups[g];
  const { ops, parameters } = groupContents(graph, h, g);
  const subtitle = `${formatCount(group.size)} nodes${parameters > 0 ? ` · ${formatCompact(parameters)} params` : ''}`;
  const lines = ops.slice(0, GROUP_LINES).map(([op, n]) => `${n} × ${op}`);
  if (ops.length > GROUP_LINES) lines.push(`+${ops.length - GROUP_LINES} more op types`);
  let w = Math.max(options.measure(group.label, 'title') + 40, options.measure(subtitle, 'text') + 20);
  for (const l of lines) w = Math.max(w, options.measure(l, 'mono') + 26);
  w = Math.min(260, Math.max(120, Math.ceil(w)));
  const title = options.measure(group.label, 'title') <= w - 40 ? group.label : shorten(group.label, w - 40, options);
  return {
    kind: 'group', node: -1, value: -1, group: g, title, subtitle, weights: [], moreWeights: 0, lines,
    category: 'other', hasSubgraphs: false, w, h: BOX.headerHeight + BOX.nameHeight + lines.length * BOX.weightRowHeight + BOX.padding + 6,
    x: 0, y: 0, rank: 0,
  };
}

function frameTitle(h: Hierarchy, g: number): string {
  const group = h.groups[g];
  return `${group.label} · ${formatCount(group.size)} nodes`;
}

function shorten(text: string, width: number, options: SceneOptions): string {
  let lo = 0, hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (options.measure(`…${text.slice(text.length - mid)}`, 'title') <= width) lo = mid;
    else hi = mid - 1;
  }
  // The end of a scope path says most (`…/layer.3/attn`).
  return `…${text.slice(text.length - lo)}`;
}

/** Boxes in rows by their vertical extent, each row left to right (for the arrow keys). */
function rows(boxes: Box[]): number[][] {
  const order = boxes.map((_, i) => i).sort((a, b) => boxes[a].y + boxes[a].h / 2 - (boxes[b].y + boxes[b].h / 2));
  const out: number[][] = [];
  let bottom = -Infinity;
  for (const b of order) {
    const box = boxes[b];
    const centre = box.y + box.h / 2;
    if (centre > bottom || out.length === 0) { out.push([]); bottom = box.y + box.h; }
    out[out.length - 1].push(b);
  }
  for (const row of out) row.sort((a, b) => boxes[a].x - boxes[b].x);
  return out;
}
