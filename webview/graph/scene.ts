// GraphData -> what the graph view draws: boxes (op nodes, graph inputs and outputs, values from an
// enclosing graph) with their sizes, and edges (one per value and consumer) labelled with dtype and
// shape. Weights are not boxes of their own: each node lists the weights it consumes inside its box,
// and a Constant node whose outputs are all weights is shown that way too (layout.ts decides which
// boxes and edges there are; this file gives them sizes and texts). After layout,
// a uniform grid over the drawing answers "what is in this rectangle" for drawing only what is visible,
// and "what is under this point" for the mouse.
import type { GraphData, GraphValueData } from '../../src/protocol/graph';
import { typeText } from '../ui/dom';
import { graphLayoutInput, type GraphLayoutInput, type LayoutItem, type LayoutResult } from './layout';
import type { Hierarchy } from './hierarchy';
import type { BoxCategory } from './theme';

export type BoxKind = 'node' | 'input' | 'output' | 'outer' | 'group';

export interface WeightRow {
  /** Value id of the weight. */
  value: number;
  /** Index of the input slot it feeds. */
  slot: number;
  text: string;
}

export interface Box {
  kind: BoxKind;
  /** GraphData.nodes index for op nodes, -1 otherwise. */
  node: number;
  /** Value id for input / output / outer boxes, -1 for op nodes. */
  value: number;
  /** A folded layer's group (hierarchy.ts), -1 for the others. */
  group: number;
  title: string;
  /** The node's name (shown when names are on) or the value's type for value boxes. */
  subtitle: string;
  weights: WeightRow[];
  /** Weights not listed (more than MAX_WEIGHT_ROWS). */
  moreWeights: number;
  /** A folded layer's summary lines (its op counts). */
  lines?: string[];
  category: BoxCategory;
  hasSubgraphs: boolean;
  w: number;
  h: number;
  /** Top-left corner after layout. */
  x: number;
  y: number;
  /** Layer index after layout (boxes in one layer share a y band). */
  rank: number;
}

export interface Edge {
  from: number;
  to: number;
  value: number;
  label: string;
  /** Polyline after layout: x0, y0, x1, y1, ... */
  points: Float32Array;
  /** Bounding box of the polyline. */
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export interface Scene {
  graph: GraphData;
  boxes: Box[];
  edges: Edge[];
  /** Box index of each op node (GraphData.nodes index), -1 for hidden Constant nodes. */
  boxOfNode: Int32Array;
  /** Hidden Constant nodes (their tensors are listed as weights in the consumers' boxes). */
  hiddenConstants: number;
  /** Per value id: producing box (-1 if none drawn) and consuming boxes (per edge). */
  producer: Int32Array;
  consumers: number[][];
  /** Edges in and out of each box. */
  edgesIn: number[][];
  edgesOut: number[][];
  width: number;
  height: number;
  /** Boxes per layer, ordered by x (after layout). */
  layers: number[][];
  grid: Grid;
  /** Expanded layers of a folded graph, drawn under their members (none when the graph is drawn flat). */
  frames: SceneFrame[];
  fold: SceneFold | null;
}

/** An expanded layer's frame: its title band at the top. */
export interface SceneFrame {
  group: number;
  title: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** How a folded graph is drawn: its layers, which are open, and the box showing each node. */
export interface SceneFold {
  hierarchy: Hierarchy;
  expanded: ReadonlySet<number>;
  /** The box of each node: its own, or the collapsed layer's that holds it; -1 for a hidden Constant. */
  unitOfNode: Int32Array;
}

export const BOX = {
  headerHeight: 24,
  nameHeight: 15,
  weightRowHeight: 15,
  padding: 5,
  minWidth: 76,
  maxWidth: 220,
  pillHeight: 24,
} as const;
export const MAX_WEIGHT_ROWS = 4;

export interface SceneOptions {
  showNames: boolean;
  /** Width of `text` in layout units in the given font role. */
  measure: (text: string, role: 'title' | 'text' | 'mono') => number;
}

/** Shape of a weight as a compact text: `64×3×7×7`, `scalar` for rank 0. */
export function weightText(v: GraphValueData): string {
  const shape = v.shape;
  const dims = shape === null ? '?' : shape.length === 0 ? 'scalar' : shape.map((d) => (d === null ? '?' : String(d))).join('×');
  return `${v.dtype ?? '?'} ${dims}`;
}

/**
 * The boxes and edges of a graph, not yet placed. What is a box and which edges join them comes from the
 * layout module (graphLayoutInput: one box per node, weight Constants hidden, per graph input and output,
 * per captured outer value; one edge per value and consumer); the sizes and texts of the boxes from here.
 */
export function buildScene(graph: GraphData, options: SceneOptions): { scene: Omit<Scene, 'width' | 'height' | 'layers' | 'grid' | 'frames' | 'fold'>; input: GraphLayoutInput } {
  const { values } = graph;
  const input = graphLayoutInput(graph, () => ({ width: 0, height: 0 }));
  const boxes: Box[] = input.items.map((item) => itemBox(graph, item, options));
  const widths = new Float64Array(boxes.length);
  const heights = new Float64Array(boxes.length);
  boxes.forEach((b, i) => {
    widths[i] = b.w;
    heights[i] = b.h;
  });

  const producer = new Int32Array(values.length).fill(-1);
  const consumers: number[][] = values.map(() => []);
  const edges: Edge[] = [];
  const edgesIn: number[][] = boxes.map(() => []);
  const edgesOut: number[][] = boxes.map(() => []);
  const count = input.edgeValues.length;
  for (let k = 0; k < count; k++) {
    const from = input.edges[2 * k];
    const to = input.edges[2 * k + 1];
    const value = input.edgeValues[k];
    producer[value] = from;
    consumers[value].push(to);
    edgesOut[from].push(k);
    edgesIn[to].push(k);
    edges.push({ from, to, value, label: edgeLabel(values[value]), points: new Float32Array(0), minX: 0, minY: 0, maxX: 0, maxY: 0 });
  }
  let hiddenConstants = 0;
  for (let i = 0; i < input.nodeItem.length; i++) if (input.nodeItem[i] < 0) hiddenConstants++;
  return {
    scene: { graph, boxes, edges, boxOfNode: input.nodeItem, hiddenConstants, producer, consumers, edgesIn, edgesOut },
    input: { ...input, widths, heights },
  };
}

const clampWidth = (w: number) => Math.min(BOX.maxWidth, Math.max(BOX.minWidth, Math.ceil(w)));

/** The box of a layout item (a node with its weights, or a graph input, output or outer value), not placed. */
export function itemBox(graph: GraphData, item: LayoutItem, options: SceneOptions): Box {
  const { values, nodes } = graph;
  if (item.kind !== 'node') {
    const v = values[item.value];
    return valueBox(item.kind, item.value, v, clampWidth(options.measure(v.name || '(unnamed)', 'text') + 28), options);
  }
  const n = nodes[item.node];
  const weights: WeightRow[] = [];
  let moreWeights = 0;
  n.inputs.forEach((id, slot) => {
    if (id < 0 || !isWeight(values[id])) return;
    if (weights.length < MAX_WEIGHT_ROWS) weights.push({ value: id, slot, text: weightText(values[id]) });
    else moreWeights++;
  });
  const named = options.showNames && n.name !== '';
  let w = options.measure(n.op || '(empty op)', 'title') + 26;
  if (named) w = Math.max(w, options.measure(n.name, 'text') + 16);
  for (const row of weights) w = Math.max(w, options.measure(row.text, 'mono') + 26);
  w = clampWidth(w);
  const h =
    BOX.headerHeight +
    (named ? BOX.nameHeight : 0) +
    (weights.length + (moreWeights > 0 ? 1 : 0)) * BOX.weightRowHeight +
    (weights.length > 0 || named ? BOX.padding : 0);
  return {
    kind: 'node',
    node: item.node,
    value: -1,
    group: -1,
    title: fit(n.op || '(empty op)', 'title', w - 26, options),
    subtitle: named ? fit(n.name, 'text', w - 16, options) : '',
    weights: weights.map((row) => ({ ...row, text: fit(row.text, 'mono', w - 26, options) })),
    moreWeights,
    category: n.category,
    hasSubgraphs: n.subgraphs.length > 0,
    w,
    h,
    x: 0,
    y: 0,
    rank: 0,
  };
}

/** An edge's label: dtype and shape, long symbolic shapes cut (the side panel shows them whole). */
export function edgeLabel(v: GraphValueData): string {
  const label = typeText(v.dtype, v.shape);
  return label.length > 44 ? `${label.slice(0, 43)}…` : label;
}

/** Initializers and Constant tensors, of this graph or an enclosing one. */
export function isWeight(v: GraphValueData): boolean {
  return v.kind === 'weight' || (v.kind === 'outer' && v.weight !== undefined);
}

/** `text` cut with `…` to fit `width` layout units. */
function fit(text: string, role: 'title' | 'text' | 'mono', width: number, options: SceneOptions): string {
  if (!text || options.measure(text, role) <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (options.measure(`${text.slice(0, mid)}…`, role) <= width) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)}…`;
}

function valueBox(kind: 'input' | 'output' | 'outer', id: number, v: GraphValueData, w: number, options: SceneOptions): Box {
  return {
    kind,
    node: -1,
    value: id,
    group: -1,
    title: fit(v.name || '(unnamed)', 'text', w - 28, options),
    subtitle: typeText(v.dtype, v.shape),
    weights: [],
    moreWeights: 0,
    category: kind,
    hasSubgraphs: false,
    w,
    h: BOX.pillHeight,
    x: 0,
    y: 0,
    rank: 0,
  };
}

/** Puts the layout's positions and routes on the scene, and indexes it for drawing. */
/** A route and its bounding box (all 0 for a route without points), as an Edge keeps them for the grid. */
export function edgeBounds(points: Float32Array): Pick<Edge, 'points' | 'minX' | 'minY' | 'maxX' | 'maxY'> {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < points.length; i += 2) {
    minX = Math.min(minX, points[i]); maxX = Math.max(maxX, points[i]);
    minY = Math.min(minY, points[i + 1]); maxY = Math.max(maxY, points[i + 1]);
  }
  if (points.length === 0) minX = minY = maxX = maxY = 0;
  return { points, minX, minY, maxX, maxY };
}

export function applyLayout(partial: ReturnType<typeof buildScene>['scene'], r: LayoutResult): Scene {
  const { boxes, edges } = partial;
  for (let i = 0; i < boxes.length; i++) {
    boxes[i].x = r.x[i];
    boxes[i].y = r.y[i];
    boxes[i].rank = r.rank[i];
  }
  for (let k = 0; k < edges.length; k++) {
    const e = edges[k];
    const a = r.edgeStart[k];
    const b = r.edgeStart[k + 1];
    Object.assign(e, edgeBounds(Float32Array.from(r.edgePoints.subarray(2 * a, 2 * b))));
  }
  const layers: number[][] = Array.from({ length: r.ranks }, () => []);
  boxes.forEach((b, i) => layers[b.rank]?.push(i));
  for (const l of layers) l.sort((a, b) => boxes[a].x - boxes[b].x);
  return { ...partial, width: r.width, height: r.height, layers, grid: buildGrid(boxes, edges, r.width, r.height), frames: [], fold: null };
}

// ---------------------------------------------------------------------------------------------------
// Spatial grid

export interface Grid {
  cell: number;
  cols: number;
  rows: number;
  minX: number;
  minY: number;
  /** Box indices per cell. */
  boxCells: Int32Array[];
  /** Edge indices per cell. */
  edgeCells: Int32Array[];
  /** Edges whose bounding box spans too many cells: tested one by one. */
  longEdges: Int32Array;
}

const GRID_CELL = 400;
const LONG_EDGE_CELLS = 64;

export function buildGrid(boxes: Box[], edges: Edge[], width: number, height: number): Grid {
  const minX = -50;
  const minY = -50;
  const cols = Math.max(1, Math.ceil((width + 100) / GRID_CELL));
  const rows = Math.max(1, Math.ceil((height + 100) / GRID_CELL));
  const boxLists: number[][] = Array.from({ length: cols * rows }, () => []);
  const edgeLists: number[][] = Array.from({ length: cols * rows }, () => []);
  const col = (x: number) => Math.min(cols - 1, Math.max(0, Math.floor((x - minX) / GRID_CELL)));
  const row = (y: number) => Math.min(rows - 1, Math.max(0, Math.floor((y - minY) / GRID_CELL)));
  boxes.forEach((b, i) => {
    for (let r = row(b.y); r <= row(b.y + b.h); r++) for (let c = col(b.x); c <= col(b.x + b.w); c++) boxLists[r * cols + c].push(i);
  });
  const long: number[] = [];
  edges.forEach((e, i) => {
    const c0 = col(e.minX), c1 = col(e.maxX), r0 = row(e.minY), r1 = row(e.maxY);
    if ((c1 - c0 + 1) * (r1 - r0 + 1) > LONG_EDGE_CELLS) {
      long.push(i);
      return;
    }
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) edgeLists[r * cols + c].push(i);
  });
  return {
    cell: GRID_CELL,
    cols,
    rows,
    minX,
    minY,
    boxCells: boxLists.map((l) => Int32Array.from(l)),
    edgeCells: edgeLists.map((l) => Int32Array.from(l)),
    longEdges: Int32Array.from(long),
  };
}

/** Marks seen items per query without clearing an array each time. */
export class Stamp {
  private marks: Uint32Array;
  private current = 0;
  constructor(size: number) {
    this.marks = new Uint32Array(Math.max(1, size));
  }
  next(): void {
    this.current++;
    if (this.current === 0xffffffff) {
      this.marks.fill(0);
      this.current = 1;
    }
  }
  /** True the first time `i` is seen since next(). */
  take(i: number): boolean {
    if (this.marks[i] === this.current) return false;
    this.marks[i] = this.current;
    return true;
  }
}

/** Boxes and edges that may intersect the rectangle (layout units), each once. */
export function query(
  scene: Scene,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  boxStamp: Stamp,
  edgeStamp: Stamp,
  outBoxes: number[],
  outEdges: number[],
): void {
  const g = scene.grid;
  outBoxes.length = 0;
  outEdges.length = 0;
  boxStamp.next();
  edgeStamp.next();
  const c0 = Math.max(0, Math.floor((x0 - g.minX) / g.cell));
  const c1 = Math.min(g.cols - 1, Math.floor((x1 - g.minX) / g.cell));
  const r0 = Math.max(0, Math.floor((y0 - g.minY) / g.cell));
  const r1 = Math.min(g.rows - 1, Math.floor((y1 - g.minY) / g.cell));
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      const k = r * g.cols + c;
      const bl = g.boxCells[k];
      for (let i = 0; i < bl.length; i++) {
        const b = bl[i];
        if (!boxStamp.take(b)) continue;
        const box = scene.boxes[b];
        if (box.x <= x1 && box.x + box.w >= x0 && box.y <= y1 && box.y + box.h >= y0) outBoxes.push(b);
      }
      const el = g.edgeCells[k];
      for (let i = 0; i < el.length; i++) {
        const e = el[i];
        if (!edgeStamp.take(e)) continue;
        const edge = scene.edges[e];
        if (edge.minX <= x1 && edge.maxX >= x0 && edge.minY <= y1 && edge.maxY >= y0) outEdges.push(e);
      }
    }
  }
  const long = g.longEdges;
  for (let i = 0; i < long.length; i++) {
    const e = long[i];
    const edge = scene.edges[e];
    if (edge.minX <= x1 && edge.maxX >= x0 && edge.minY <= y1 && edge.maxY >= y0) outEdges.push(e);
  }
}

/** The box under a point (layout units), or -1. */
export function boxAt(scene: Scene, x: number, y: number): number {
  const g = scene.grid;
  const c = Math.floor((x - g.minX) / g.cell);
  const r = Math.floor((y - g.minY) / g.cell);
  if (c < 0 || r < 0 || c >= g.cols || r >= g.rows) return -1;
  const list = g.boxCells[r * g.cols + c];
  for (let i = list.length - 1; i >= 0; i--) {
    const b = scene.boxes[list[i]];
    if (x >= b.x && x <= b.x + b.w && y >= b.y && y <= b.y + b.h) return list[i];
  }
  return -1;
}
