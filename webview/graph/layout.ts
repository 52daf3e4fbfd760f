// A layered, top-to-bottom graph layout for the model editor (Sugiyama style, kept plain and fast):
// longest-path ranks; nodes without a producer moved down next to their first consumer; a dummy node per
// rank an edge crosses; barycenter sweeps against crossings (the best ordering seen is kept); x placement
// after Brandes and Köpf (straight chains, no sideways drift), with node widths respected; edges routed as
// polylines through their dummies.
//
// Pure: no DOM, no Node. It runs in the webview's web worker and in Node (tests, benchmark). Every step is
// iterative (a graph with thousands of ranks cannot overflow the stack) and deterministic. Cycles (a broken
// model) are broken by reversing edges; self-loops get no route. Results are typed arrays: compact, and
// transferable from the worker (see layoutTransferables). The work is split into small functions over typed
// arrays: the layout runs once per graph, cold, and V8 optimises small functions far sooner than big ones.
import type { GraphData } from '../../src/protocol/graph';

export interface LayoutOptions {
  /** Vertical gap between ranks (default 40). */
  rankSep?: number;
  /** Horizontal gap between two nodes of a rank (default 20). */
  nodeSep?: number;
  /** Horizontal gap next to a long edge passing through a rank (default 10). */
  edgeSep?: number;
  /** Barycenter sweeps, alternately downwards and upwards (default 4). */
  sweeps?: number;
  /** Space around the drawing (default 20). */
  margin?: number;
  /** Nodes kept in the top rank (not moved down next to their consumers): a folded layer's way in. */
  top?: number;
  /** A node put in a rank of its own below all others: a folded layer's way out. */
  bottom?: number;
}

export interface LayoutInput {
  /** Size of node i: widths[i] x heights[i]. */
  widths: ArrayLike<number>;
  heights: ArrayLike<number>;
  /** Edges as index pairs: edge k goes from node edges[2k] to node edges[2k + 1]. */
  edges: ArrayLike<number>;
  options?: LayoutOptions;
}

export interface LayoutResult {
  /** Top-left corner of node i, and its size (as given). */
  x: Float64Array;
  y: Float64Array;
  w: Float64Array;
  h: Float64Array;
  /** Rank (row) of node i, 0 at the top. */
  rank: Int32Array;
  ranks: number;
  /**
   * Edge k's route, from its source's bottom to its target's top: points edgeStart[k] .. edgeStart[k + 1] - 1,
   * point j at (edgePoints[2j], edgePoints[2j + 1]). Self-loops and edges naming a missing node have no points.
   */
  edgeStart: Uint32Array;
  edgePoints: Float64Array;
  /** Size of the whole drawing, margins included. */
  width: number;
  height: number;
  /** Edge crossings of the final ordering (between adjacent ranks, long edges counted per rank they cross). */
  crossings: number;
  /** Edges reversed to break cycles (0 for a valid ONNX graph). */
  reversedEdges: number;
  /** Dummy nodes made for long edges. */
  dummies: number;
}

const DEFAULTS: Required<Omit<LayoutOptions, 'top' | 'bottom'>> = { rankSep: 40, nodeSep: 20, edgeSep: 10, sweeps: 4, margin: 20 };

/** Compressed adjacency: the neighbours of v are list[start[v]] .. list[start[v + 1] - 1]. */
interface Csr { start: Int32Array; list: Int32Array }

function csr(count: number, from: Int32Array, to: Int32Array, m: number): Csr {
  const start = new Int32Array(count + 1);
  for (let i = 0; i < m; i++) start[from[i] + 1]++;
  for (let v = 0; v < count; v++) start[v + 1] += start[v];
  const fill = start.slice(0, count);
  const list = new Int32Array(m);
  for (let i = 0; i < m; i++) list[fill[from[i]]++] = to[i];
  return { start, list };
}

export function layoutGraph(input: LayoutInput): LayoutResult {
  const o = { ...DEFAULTS, ...(input.options ?? {}) };
  const n = Math.min(input.widths.length, input.heights.length);
  const edgeCount = Math.floor(input.edges.length / 2);

  // 1. Unique edges; self-loops and edges naming missing nodes dropped.
  const { src, dst, edgeOf } = uniqueEdges(input.edges, edgeCount, n);
  const m = src.length;

  // 2. A topological order; edges that point backwards in it (cycles) are reversed for the layout.
  const order = topologicalOrder(n, csr(n, src, dst, m), dst);
  const { lu, lv, reversed, reversedEdges } = orient(order, src, dst);
  const down = csr(n, lu, lv, m), up = csr(n, lv, lu, m);

  // 3. Longest-path ranks, then producer-less nodes pulled down next to their nearest consumer.
  const rank = longestPathRanks(n, order, down);
  pullDownSources(n, rank, up, down, input.options?.top ?? -1);
  let ranks = 0;
  const bottom = input.options?.bottom ?? -1;
  for (let v = 0; v < n; v++) if (v !== bottom && rank[v] + 1 > ranks) ranks = rank[v] + 1;
  if (bottom >= 0 && bottom < n) rank[bottom] = ranks++;

  // 4. Dummy nodes: one per rank a long edge crosses; segments join consecutive ranks.
  const proper = properGraph(n, m, rank, lu, lv);
  const { total, nodeRank, firstDummy } = proper;
  const segCount = proper.sFrom.length;
  const below = csr(total, proper.sFrom, proper.sTo, segCount);
  const above = csr(total, proper.sTo, proper.sFrom, segCount);

  // 5. Initial order per rank: depth-first from the producer-less nodes, which keeps connected parts together.
  const layerStart = new Int32Array(ranks + 1);
  for (let v = 0; v < total; v++) layerStart[nodeRank[v] + 1]++;
  for (let r = 0; r < ranks; r++) layerStart[r + 1] += layerStart[r];
  const layer = initialOrder(total, nodeRank, layerStart, above, below);
  const pos = new Int32Array(total);
  setPositions(ranks, layerStart, layer, pos);

  // 6. Barycenter sweeps; the ordering with the fewest crossings is kept.
  const crossings = reduceCrossings(total, ranks, layerStart, layer, pos, above, below, o.sweeps);

  // 7. x: centres (Brandes-Köpf), keeping each rank's order and the spacing its node widths ask for.
  const width = new Float64Array(total), height = new Float64Array(total);
  for (let v = 0; v < n; v++) { width[v] = Math.max(0, +input.widths[v] || 0); height[v] = Math.max(0, +input.heights[v] || 0); }
  const space: Spacing = { n, width, nodeSep: o.nodeSep, edgeSep: o.edgeSep };
  const cx = brandesKoepf(total, ranks, layerStart, layer, pos, above, below, space);

  // 8. y per rank, final coordinates.
  const rowTop = new Float64Array(ranks), rowH = new Float64Array(ranks);
  for (let v = 0; v < n; v++) if (height[v] > rowH[nodeRank[v]]) rowH[nodeRank[v]] = height[v];
  let y = o.margin;
  for (let r = 0; r < ranks; r++) { rowTop[r] = y; y += rowH[r] + o.rankSep; }
  let minX = Infinity, maxX = -Infinity;
  for (let v = 0; v < total; v++) { minX = Math.min(minX, cx[v] - width[v] / 2); maxX = Math.max(maxX, cx[v] + width[v] / 2); }
  if (total === 0) { minX = 0; maxX = 0; }
  const shift = o.margin - minX;
  for (let v = 0; v < total; v++) cx[v] += shift;
  const X = new Float64Array(n), Y = new Float64Array(n);
  for (let v = 0; v < n; v++) {
    X[v] = cx[v] - width[v] / 2;
    Y[v] = rowTop[nodeRank[v]] + (rowH[nodeRank[v]] - height[v]) / 2;
  }

  // 9. Edge routes: through each dummy's row as a vertical run; inputs spread over the target's top.
  const portX = inputPorts(n, total, above, cx, width);
  const routes = uniqueRoutes(m, lu, lv, rank, firstDummy, nodeRank, cx, Y, height, rowTop, rowH, above, portX);
  const { edgeStart, edgePoints } = edgeRoutes(edgeCount, edgeOf, reversed, routes.start, routes.points);

  return {
    x: X, y: Y, w: width.slice(0, n), h: height.slice(0, n), rank, ranks,
    edgeStart, edgePoints,
    width: maxX - minX + 2 * o.margin, height: ranks === 0 ? 2 * o.margin : y - o.rankSep + o.margin,
    crossings, reversedEdges, dummies: total - n,
  };
}

function uniqueEdges(edges: ArrayLike<number>, edgeCount: number, n: number): { src: Int32Array; dst: Int32Array; edgeOf: Int32Array } {
  const edgeOf = new Int32Array(edgeCount).fill(-1);
  // Valid edges sorted by (from, to) with a counting sort on `to` then a stable one on `from`.
  const valid = new Int32Array(edgeCount);
  let count = 0;
  for (let k = 0; k < edgeCount; k++) {
    const a = edges[2 * k], b = edges[2 * k + 1];
    if (a >= 0 && a < n && b >= 0 && b < n && a !== b && a === Math.floor(a) && b === Math.floor(b)) valid[count++] = k;
  }
  const byTo = countingSort(valid, count, edges, 1, n);
  const sorted = countingSort(byTo, count, edges, 0, n);
  const src = new Int32Array(count), dst = new Int32Array(count);
  let m = 0;
  for (let i = 0; i < count; i++) {
    const k = sorted[i], a = edges[2 * k], b = edges[2 * k + 1];
    if (m === 0 || src[m - 1] !== a || dst[m - 1] !== b) { src[m] = a; dst[m] = b; m++; }
    edgeOf[k] = m - 1;
  }
  return { src: src.slice(0, m), dst: dst.slice(0, m), edgeOf };
}

/** Edge numbers `items[0..count)` stably sorted by their end `side` (0: from, 1: to). */
function countingSort(items: Int32Array, count: number, edges: ArrayLike<number>, side: number, n: number): Int32Array {
  const start = new Int32Array(n + 1);
  for (let i = 0; i < count; i++) start[edges[2 * items[i] + side] + 1]++;
  for (let v = 0; v < n; v++) start[v + 1] += start[v];
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[start[edges[2 * items[i] + side]]++] = items[i];
  return out;
}

/**
 * Kahn's algorithm taking the lowest index first (deterministic, and close to the file's order). When only
 * cycles are left, the lowest-index node left is taken as if it had no producer.
 */
function topologicalOrder(n: number, out: Csr, dst: Int32Array): Int32Array {
  const indeg = new Int32Array(n);
  for (let i = 0; i < dst.length; i++) indeg[dst[i]]++;
  const order = new Int32Array(n);
  const placed = new Uint8Array(n);
  const heap = new MinHeap(n);
  for (let v = 0; v < n; v++) if (indeg[v] === 0) heap.push(v);
  let tail = 0, scan = 0;
  while (tail < n) {
    if (heap.size === 0) {
      while (placed[scan]) scan++;
      heap.push(scan);
    }
    const v = heap.pop();
    if (placed[v]) continue;
    placed[v] = 1;
    order[tail++] = v;
    for (let j = out.start[v]; j < out.start[v + 1]; j++) {
      const w = out.list[j];
      if (!placed[w] && --indeg[w] === 0) heap.push(w);
    }
  }
  return order;
}

function orient(order: Int32Array, src: Int32Array, dst: Int32Array) {
  const n = order.length, m = src.length;
  const at = new Int32Array(n);
  for (let i = 0; i < n; i++) at[order[i]] = i;
  const reversed = new Uint8Array(m);
  const lu = new Int32Array(m), lv = new Int32Array(m); // layout direction: lu above lv
  let reversedEdges = 0;
  for (let i = 0; i < m; i++) {
    if (at[src[i]] > at[dst[i]]) { reversed[i] = 1; lu[i] = dst[i]; lv[i] = src[i]; reversedEdges++; }
    else { lu[i] = src[i]; lv[i] = dst[i]; }
  }
  return { lu, lv, reversed, reversedEdges };
}

function longestPathRanks(n: number, order: Int32Array, down: Csr): Int32Array {
  const rank = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = order[i], next = rank[v] + 1;
    for (let j = down.start[v]; j < down.start[v + 1]; j++) if (rank[down.list[j]] < next) rank[down.list[j]] = next;
  }
  return rank;
}

/** A node with consumers but no producer (a graph input, a constant) goes right above its nearest consumer. */
function pullDownSources(n: number, rank: Int32Array, up: Csr, down: Csr, keep: number): void {
  for (let v = 0; v < n; v++) {
    if (v === keep || up.start[v] !== up.start[v + 1] || down.start[v] === down.start[v + 1]) continue;
    let lowest = 0x7fffffff;
    for (let j = down.start[v]; j < down.start[v + 1]; j++) if (rank[down.list[j]] < lowest) lowest = rank[down.list[j]];
    rank[v] = lowest - 1;
  }
}

/** Dummies for edge i are numbered from firstDummy[i]; sFrom/sTo are the segments between consecutive ranks. */
function properGraph(n: number, m: number, rank: Int32Array, lu: Int32Array, lv: Int32Array) {
  const firstDummy = new Int32Array(m);
  let total = n;
  for (let i = 0; i < m; i++) { firstDummy[i] = total; total += rank[lv[i]] - rank[lu[i]] - 1; }
  const nodeRank = new Int32Array(total);
  nodeRank.set(rank);
  const segCount = m + total - n;
  const sFrom = new Int32Array(segCount), sTo = new Int32Array(segCount);
  let s = 0;
  for (let i = 0; i < m; i++) {
    let prev = lu[i];
    const top = rank[lu[i]], span = rank[lv[i]] - top;
    for (let k = 1; k < span; k++) {
      const d = firstDummy[i] + k - 1;
      nodeRank[d] = top + k;
      sFrom[s] = prev; sTo[s] = d; s++;
      prev = d;
    }
    sFrom[s] = prev; sTo[s] = lv[i]; s++;
  }
  return { total, nodeRank, firstDummy, sFrom, sTo };
}

/** Nodes grouped by rank, each rank in depth-first preorder from the producer-less nodes (by index). */
function initialOrder(total: number, nodeRank: Int32Array, layerStart: Int32Array, above: Csr, below: Csr): Int32Array {
  const seq = new Int32Array(total).fill(-1);
  const stack = new Int32Array(Math.max(1, below.list.length + total));
  let next = 0;
  for (let root = 0; root < total; root++) {
    if (seq[root] >= 0 || above.start[root] !== above.start[root + 1]) continue;
    let sp = 0;
    stack[sp++] = root;
    while (sp > 0) {
      const v = stack[--sp];
      if (seq[v] >= 0) continue;
      seq[v] = next++;
      // Children pushed in reverse, so the first child is visited first.
      for (let j = below.start[v + 1] - 1; j >= below.start[v]; j--) if (seq[below.list[j]] < 0) stack[sp++] = below.list[j];
    }
  }
  for (let v = 0; v < total; v++) if (seq[v] < 0) seq[v] = next++; // unreachable only in theory
  const bySeq = new Int32Array(total);
  for (let v = 0; v < total; v++) bySeq[seq[v]] = v;
  const layer = new Int32Array(total);
  const fill = layerStart.slice(0, Math.max(1, layerStart.length - 1));
  for (let i = 0; i < total; i++) { const v = bySeq[i]; layer[fill[nodeRank[v]]++] = v; }
  return layer;
}

function setPositions(ranks: number, layerStart: Int32Array, layer: Int32Array, pos: Int32Array): void {
  for (let r = 0; r < ranks; r++) for (let i = layerStart[r]; i < layerStart[r + 1]; i++) pos[layer[i]] = i - layerStart[r];
}

/** Sweeps down and up, sorting each rank by the barycenter of its neighbours; keeps the best ordering seen. */
function reduceCrossings(total: number, ranks: number, layerStart: Int32Array, layer: Int32Array, pos: Int32Array,
  above: Csr, below: Csr, sweeps: number): number {
  const tree = new Int32Array(total + 1), targets = new Int32Array(below.list.length);
  let bestCrossings = countCrossings(ranks, layerStart, layer, pos, below, tree, targets);
  if (bestCrossings === 0 || sweeps <= 0) return bestCrossings;
  let best = layer.slice();
  const key = new Float64Array(total);
  const widest = maxLayerSize(ranks, layerStart);
  const movable = new Int32Array(widest), previous = new Int32Array(widest), spare = new Int32Array(widest);
  for (let sweep = 0; sweep < sweeps; sweep++) {
    const downwards = sweep % 2 === 0;
    for (let t = 1; t < ranks; t++) {
      const r = downwards ? t : ranks - 1 - t;
      sortRankByBarycenter(layerStart[r], layerStart[r + 1], layer, pos, downwards ? above : below, key, movable, previous, spare);
    }
    const c = countCrossings(ranks, layerStart, layer, pos, below, tree, targets);
    if (c < bestCrossings) { bestCrossings = c; best = layer.slice(); if (c === 0) break; }
  }
  layer.set(best);
  setPositions(ranks, layerStart, layer, pos);
  return bestCrossings;
}

/** One rank: nodes with neighbours on the reference side sorted by their mean position; the others keep their slots. */
function sortRankByBarycenter(a: number, b: number, layer: Int32Array, pos: Int32Array, ref: Csr, key: Float64Array,
  movable: Int32Array, previous: Int32Array, spare: Int32Array): void {
  let count = 0;
  for (let i = a; i < b; i++) {
    const v = layer[i];
    previous[i - a] = v;
    const from = ref.start[v], to = ref.start[v + 1];
    if (from === to) { key[v] = NaN; continue; }
    let sum = 0;
    for (let j = from; j < to; j++) sum += pos[ref.list[j]];
    key[v] = sum / (to - from);
    movable[count++] = v;
  }
  sortByKeys(movable, count, key, pos, spare);
  let k = 0;
  for (let i = a; i < b; i++) {
    const v = previous[i - a];
    layer[i] = key[v] === key[v] ? movable[k++] : v;
  }
  for (let i = a; i < b; i++) pos[layer[i]] = i - a;
}

/**
 * Sorts items[0..count) by key, ties by pos (so the result is unique): insertion sort on runs of 16 (most
 * ranks are that short), then bottom-up merges through `spare` (same length as items).
 */
function sortByKeys(items: Int32Array, count: number, key: Float64Array, pos: Int32Array, spare: Int32Array): void {
  const RUN = 16;
  for (let a = 0; a < count; a += RUN) {
    const b = Math.min(count, a + RUN);
    for (let i = a + 1; i < b; i++) {
      const v = items[i];
      let j = i - 1;
      while (j >= a && before(items[j], v, key, pos)) { items[j + 1] = items[j]; j--; }
      items[j + 1] = v;
    }
  }
  let from = items, to = spare;
  for (let width = RUN; width < count; width *= 2) {
    for (let a = 0; a < count; a += 2 * width) {
      const mid = Math.min(count, a + width), end = Math.min(count, a + 2 * width);
      let i = a, j = mid, k = a;
      while (i < mid && j < end) to[k++] = before(from[i], from[j], key, pos) ? from[j++] : from[i++];
      while (i < mid) to[k++] = from[i++];
      while (j < end) to[k++] = from[j++];
    }
    const t = from; from = to; to = t;
  }
  if (from !== items) items.set(from.subarray(0, count));
}

/** Whether q sorts strictly before p: a smaller key, or the same key and a smaller position. */
function before(p: number, q: number, key: Float64Array, pos: Int32Array): boolean {
  return key[p] > key[q] || (key[p] === key[q] && pos[p] > pos[q]);
}

/** Crossings between each pair of adjacent ranks (Barth-Mutzel-Jünger: inversions counted with a Fenwick tree). */
function countCrossings(ranks: number, layerStart: Int32Array, layer: Int32Array, pos: Int32Array, below: Csr,
  tree: Int32Array, targets: Int32Array): number {
  let crossings = 0;
  for (let r = 0; r + 1 < ranks; r++) {
    const size = layerStart[r + 2] - layerStart[r + 1];
    let count = 0;
    for (let i = layerStart[r]; i < layerStart[r + 1]; i++) {
      const v = layer[i], first = count;
      for (let j = below.start[v]; j < below.start[v + 1]; j++) {
        // Insertion into this node's own run keeps its targets ascending.
        const t = pos[below.list[j]];
        let k = count++;
        while (k > first && targets[k - 1] > t) { targets[k] = targets[k - 1]; k--; }
        targets[k] = t;
      }
    }
    tree.fill(0, 0, size + 1);
    for (let s = 0; s < count; s++) {
      const t = targets[s];
      // Segments already seen that end right of t cross this one.
      let atMost = 0;
      for (let i = t + 1; i > 0; i -= i & -i) atMost += tree[i];
      crossings += s - atMost;
      for (let i = t + 1; i <= size; i += i & -i) tree[i]++;
    }
  }
  return crossings;
}

function maxLayerSize(ranks: number, layerStart: Int32Array): number {
  let max = 0;
  for (let r = 0; r < ranks; r++) max = Math.max(max, layerStart[r + 1] - layerStart[r]);
  return max;
}

/** Node widths and gaps: two neighbours' centres are at least their half-widths plus a gap apart. */
interface Spacing { n: number; width: Float64Array; nodeSep: number; edgeSep: number }

function separation(s: Spacing, p: number, q: number): number {
  return (s.width[p] + s.width[q]) / 2 + (p < s.n && q < s.n ? s.nodeSep : s.edgeSep);
}

/**
 * x placement after Brandes and Köpf ("Fast and Simple Horizontal Coordinate Assignment", 2001), as dagre
 * does it: four alignments (towards the upper or lower neighbours, packed to the left or to the right), each
 * lining nodes up into vertical blocks with their median neighbour, long edges first; then the four are
 * balanced (the mean of the two middle values per node). Chains come out straight and drawings do not drift
 * sideways; every step is linear and iterative. Returns the centres.
 */
function brandesKoepf(total: number, ranks: number, layerStart: Int32Array, layer: Int32Array, pos: Int32Array,
  above: Csr, below: Csr, space: Spacing): Float64Array {
  const cx = new Float64Array(total);
  if (total === 0) return cx;
  const conflicts = typeOneConflicts(space.n, total, ranks, layerStart, layer, pos, above);
  let maxDegree = 0;
  for (let v = 0; v < total; v++) maxDegree = Math.max(maxDegree, above.start[v + 1] - above.start[v], below.start[v + 1] - below.start[v]);
  const w: BkScratch = {
    order: new Int32Array(total), vpos: new Int32Array(total), root: new Int32Array(total), align: new Int32Array(total),
    neighbours: new Int32Array(maxDegree),
    bFrom: new Int32Array(total), bTo: new Int32Array(total), bSep: new Float64Array(total),
    outStart: new Int32Array(total + 1), inDeg: new Int32Array(total), outEdge: new Int32Array(total), topo: new Int32Array(total),
  };
  const xs: Float64Array[] = [];
  for (let variant = 0; variant < 4; variant++) {
    const upwards = variant < 2;          // align with the neighbours above (else below)
    const rightwards = variant % 2 === 1; // pack to the right: ranks read right to left
    readingOrder(ranks, layerStart, layer, rightwards, w.order, w.vpos);
    verticalAlignment(total, ranks, layerStart, upwards ? above : below, upwards, conflicts, w);
    const x = horizontalCompaction(total, ranks, layerStart, space, w);
    if (rightwards) for (let v = 0; v < total; v++) x[v] = -x[v];
    xs.push(x);
  }
  balance(total, xs, space.width, cx);
  // The balance keeps every spacing in exact arithmetic; rounding can still shave a hair: restore it.
  for (let r = 0; r < ranks; r++) {
    for (let i = layerStart[r] + 1; i < layerStart[r + 1]; i++) {
      const u = layer[i - 1], v = layer[i], least = cx[u] + separation(space, u, v);
      if (cx[v] < least) cx[v] = least;
    }
  }
  return cx;
}

interface BkScratch {
  order: Int32Array; vpos: Int32Array; root: Int32Array; align: Int32Array; neighbours: Int32Array;
  bFrom: Int32Array; bTo: Int32Array; bSep: Float64Array; outStart: Int32Array; inDeg: Int32Array; outEdge: Int32Array; topo: Int32Array;
}

/** Segments between a real node and a dummy that cross an inner segment (dummy to dummy): those lose. */
function typeOneConflicts(n: number, total: number, ranks: number, layerStart: Int32Array, layer: Int32Array, pos: Int32Array, above: Csr): Set<number> {
  const conflicts = new Set<number>();
  for (let r = 1; r < ranks; r++) {
    const a = layerStart[r], b = layerStart[r + 1], prevLength = layerStart[r] - layerStart[r - 1];
    let k0 = 0, scan = a;
    for (let i = a; i < b; i++) {
      const v = layer[i];
      let inner = -1;
      if (v >= n) for (let j = above.start[v]; j < above.start[v + 1]; j++) if (above.list[j] >= n) { inner = above.list[j]; break; }
      if (inner < 0 && i !== b - 1) continue;
      const k1 = inner >= 0 ? pos[inner] : prevLength;
      for (; scan <= i; scan++) {
        const w = layer[scan];
        for (let j = above.start[w]; j < above.start[w + 1]; j++) {
          const u = above.list[j], p = pos[u];
          if ((p < k0 || k1 < p) && !(u >= n && w >= n)) conflicts.add(pairKey(u, w, total));
        }
      }
      k0 = k1;
    }
  }
  return conflicts;
}

function pairKey(a: number, b: number, total: number): number {
  return a < b ? a * total + b : b * total + a;
}

function readingOrder(ranks: number, layerStart: Int32Array, layer: Int32Array, rightwards: boolean, order: Int32Array, vpos: Int32Array): void {
  for (let r = 0; r < ranks; r++) {
    const a = layerStart[r], b = layerStart[r + 1];
    for (let i = a; i < b; i++) {
      const v = rightwards ? layer[b - 1 - (i - a)] : layer[i];
      order[i] = v; vpos[v] = i - a;
    }
  }
}

/** Each node joins the block of its median neighbour (of two medians, the first that fits), in reading order. */
function verticalAlignment(total: number, ranks: number, layerStart: Int32Array, nb: Csr, upwards: boolean, conflicts: Set<number>, w: BkScratch): void {
  const { order, vpos, root, align, neighbours } = w;
  for (let v = 0; v < total; v++) { root[v] = v; align[v] = v; }
  for (let t = 0; t < ranks; t++) {
    const r = upwards ? t : ranks - 1 - t;
    let prevIdx = -1;
    for (let i = layerStart[r]; i < layerStart[r + 1]; i++) {
      const v = order[i];
      const from = nb.start[v], count = nb.start[v + 1] - from;
      if (count === 0) continue;
      for (let j = 0; j < count; j++) {
        const u = nb.list[from + j], p = vpos[u];
        let k = j - 1;
        while (k >= 0 && vpos[neighbours[k]] > p) { neighbours[k + 1] = neighbours[k]; k--; }
        neighbours[k + 1] = u;
      }
      const lo = (count - 1) >> 1, hi = count >> 1;
      for (let k = lo; k <= hi; k++) {
        const u = neighbours[k];
        if (align[v] === v && prevIdx < vpos[u] && !conflicts.has(pairKey(u, v, total))) {
          align[u] = v;
          align[v] = root[v] = root[u];
          prevIdx = vpos[u];
        }
      }
    }
  }
}

/**
 * Block positions: on the graph of blocks (an edge from each block to the one next to it in some rank, as
 * far apart as the widest pair asks), the longest path from the left (Kahn, iterative); then each block
 * moves right as far as the blocks to its right allow. Returns every node's centre.
 */
function horizontalCompaction(total: number, ranks: number, layerStart: Int32Array, space: Spacing, w: BkScratch): Float64Array {
  const { order, root, bFrom, bTo, bSep, outStart, inDeg, outEdge, topo } = w;
  let m = 0;
  for (let r = 0; r < ranks; r++) {
    for (let i = layerStart[r] + 1; i < layerStart[r + 1]; i++) {
      const u = order[i - 1], v = order[i];
      bFrom[m] = root[u]; bTo[m] = root[v]; bSep[m] = separation(space, u, v); m++;
    }
  }
  outStart.fill(0); inDeg.fill(0);
  for (let e = 0; e < m; e++) { outStart[bFrom[e] + 1]++; inDeg[bTo[e]]++; }
  for (let v = 0; v < total; v++) outStart[v + 1] += outStart[v];
  const fill = outStart.slice(0, total);
  for (let e = 0; e < m; e++) outEdge[fill[bFrom[e]]++] = e;
  let blocks = 0;
  for (let v = 0; v < total; v++) if (root[v] === v && inDeg[v] === 0) topo[blocks++] = v;
  const x = new Float64Array(total);
  for (let h = 0; h < blocks; h++) {
    const b = topo[h];
    for (let j = outStart[b]; j < outStart[b + 1]; j++) {
      const e = outEdge[j], c = bTo[e], at = x[b] + bSep[e];
      if (x[c] < at) x[c] = at;
      if (--inDeg[c] === 0) topo[blocks++] = c;
    }
  }
  for (let h = blocks - 1; h >= 0; h--) {
    const b = topo[h];
    let min = Infinity;
    for (let j = outStart[b]; j < outStart[b + 1]; j++) { const e = outEdge[j]; min = Math.min(min, x[bTo[e]] - bSep[e]); }
    if (min !== Infinity && min > x[b]) x[b] = min;
  }
  for (let v = 0; v < total; v++) x[v] = x[root[v]];
  return x;
}

/** The four placements aligned to the narrowest (left ones by their left edge, right ones by their right edge), then per node the mean of the two middle values. */
function balance(total: number, xs: Float64Array[], width: Float64Array, cx: Float64Array): void {
  const lo = [0, 0, 0, 0], hi = [0, 0, 0, 0];
  let narrowest = 0;
  for (let k = 0; k < 4; k++) {
    const x = xs[k];
    let a = Infinity, b = -Infinity;
    for (let v = 0; v < total; v++) { a = Math.min(a, x[v] - width[v] / 2); b = Math.max(b, x[v] + width[v] / 2); }
    lo[k] = a; hi[k] = b;
    if (b - a < hi[narrowest] - lo[narrowest]) narrowest = k;
  }
  const [x0, x1, x2, x3] = xs;
  const d0 = lo[narrowest] - lo[0], d1 = hi[narrowest] - hi[1], d2 = lo[narrowest] - lo[2], d3 = hi[narrowest] - hi[3];
  for (let v = 0; v < total; v++) {
    const a = x0[v] + d0, b = x1[v] + d1, c = x2[v] + d2, d = x3[v] + d3;
    cx[v] = (a + b + c + d - Math.min(a, b, c, d) - Math.max(a, b, c, d)) / 2;
  }
}

/** Where each segment enters its (real) target: spread over the middle 60% of its top, in the order of the sources' x. */
function inputPorts(n: number, total: number, above: Csr, cx: Float64Array, width: Float64Array): Float64Array {
  const portX = new Float64Array(above.list.length);
  let maxDegree = 0;
  for (let v = 0; v < n; v++) maxDegree = Math.max(maxDegree, above.start[v + 1] - above.start[v]);
  const idx = new Int32Array(maxDegree);
  for (let v = 0; v < total; v++) {
    const from = above.start[v], k = above.start[v + 1] - from;
    if (k === 0) continue;
    if (v >= n || k === 1) { for (let j = from; j < from + k; j++) portX[j] = cx[v]; continue; }
    for (let t = 0; t < k; t++) {
      const j = from + t, x = cx[above.list[j]];
      let s = t - 1;
      while (s >= 0 && cx[above.list[idx[s]]] > x) { idx[s + 1] = idx[s]; s--; }
      idx[s + 1] = j;
    }
    const span = width[v] * 0.6;
    for (let t = 0; t < k; t++) portX[idx[t]] = cx[v] - span / 2 + (span * t) / (k - 1);
  }
  return portX;
}

/** The route of each unique edge, top to bottom: source bottom, two points per dummy row, target top (at its port). */
function uniqueRoutes(m: number, lu: Int32Array, lv: Int32Array, rank: Int32Array, firstDummy: Int32Array, nodeRank: Int32Array,
  cx: Float64Array, Y: Float64Array, height: Float64Array, rowTop: Float64Array, rowH: Float64Array, above: Csr, portX: Float64Array) {
  const start = new Uint32Array(m + 1);
  for (let i = 0; i < m; i++) start[i + 1] = start[i] + 2 * (rank[lv[i]] - rank[lu[i]]);
  const points = new Float64Array(2 * start[m]);
  for (let i = 0; i < m; i++) {
    let p = start[i] * 2;
    const u = lu[i], v = lv[i], span = rank[v] - rank[u];
    points[p++] = cx[u]; points[p++] = Y[u] + height[u];
    let prev = u;
    for (let k = 1; k < span; k++) {
      const d = firstDummy[i] + k - 1, r = nodeRank[d];
      points[p++] = cx[d]; points[p++] = rowTop[r];
      points[p++] = cx[d]; points[p++] = rowTop[r] + rowH[r];
      prev = d;
    }
    let port = cx[v];
    for (let j = above.start[v]; j < above.start[v + 1]; j++) if (above.list[j] === prev) { port = portX[j]; break; }
    points[p++] = port; points[p++] = Y[v];
  }
  return { start, points };
}

/** Per input edge: its unique edge's route, reversed where the edge was turned to break a cycle. */
function edgeRoutes(edgeCount: number, edgeOf: Int32Array, reversed: Uint8Array, start: Uint32Array, points: Float64Array) {
  const edgeStart = new Uint32Array(edgeCount + 1);
  for (let k = 0; k < edgeCount; k++) {
    const e = edgeOf[k];
    edgeStart[k + 1] = edgeStart[k] + (e < 0 ? 0 : start[e + 1] - start[e]);
  }
  const edgePoints = new Float64Array(2 * edgeStart[edgeCount]);
  for (let k = 0; k < edgeCount; k++) {
    const e = edgeOf[k];
    if (e < 0) continue;
    const a = start[e] * 2, b = start[e + 1] * 2;
    let p = edgeStart[k] * 2;
    if (!reversed[e]) { edgePoints.set(points.subarray(a, b), p); continue; }
    for (let q = b - 2; q >= a; q -= 2) { edgePoints[p++] = points[q]; edgePoints[p++] = points[q + 1]; }
  }
  return { edgeStart, edgePoints };
}

/** A binary min-heap of node indexes (Kahn's algorithm takes the lowest index first: deterministic). */
class MinHeap {
  private readonly a: Int32Array;
  size = 0;
  constructor(capacity: number) { this.a = new Int32Array(Math.max(1, capacity)); }
  push(v: number): void {
    const a = this.a;
    let i = this.size++;
    a[i] = v;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      const t = a[p]; a[p] = a[i]; a[i] = t; i = p;
    }
  }
  pop(): number {
    const a = this.a, top = a[0];
    const last = a[--this.size];
    let i = 0;
    a[0] = last;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let s = i;
      if (l < this.size && a[l] < a[s]) s = l;
      if (r < this.size && a[r] < a[s]) s = r;
      if (s === i) break;
      const t = a[s]; a[s] = a[i]; a[i] = t; i = s;
    }
    return top;
  }
}

/** The buffers of a result, for `postMessage(result, layoutTransferables(result))` from the worker. */
export function layoutTransferables(r: LayoutResult): ArrayBuffer[] {
  return [r.x, r.y, r.w, r.h, r.rank, r.edgeStart, r.edgePoints].map((a) => a.buffer as ArrayBuffer);
}

/** Edge k's route as [x0, y0, x1, y1, ...] (a copy). */
export function edgeRoute(r: LayoutResult, k: number): number[] {
  return Array.from(r.edgePoints.subarray(2 * r.edgeStart[k], 2 * r.edgeStart[k + 1]));
}

// ---------------------------------------------------------------------------------------------------------
// From GraphData to a layout input: what is drawn as a box, and which edges join them.

/** What a layout node stands for: a GraphData node, or a graph input / output / captured outer value. */
export type LayoutItem =
  | { kind: 'node'; node: number }
  | { kind: 'input' | 'output' | 'outer'; value: number };

export interface GraphLayoutOptions {
  /** Leave out Constant nodes whose outputs are all weights: they show inside their consumers (default true). */
  hideWeightConstants?: boolean;
  /** Draw values captured from enclosing graphs (kind 'outer', not weights) as input boxes (default true). */
  showOuter?: boolean;
}

export interface GraphLayoutInput extends LayoutInput {
  /** What each layout node is, in order: inputs, outer values, nodes, outputs. */
  items: LayoutItem[];
  /** The value (GraphData.values index) each edge carries, for edge labels: edge k carries edgeValues[k]. */
  edgeValues: Int32Array;
  /** The layout node of each GraphData node, -1 where hidden. */
  nodeItem: Int32Array;
}

/**
 * The boxes and edges to lay out for a graph: one box per node (weight Constants hidden by default), per
 * graph input and output, and per captured outer value; one edge per (value, consumer) pair whose producer
 * is drawn. Weights are not boxes: they belong inside their consumer. `size` gives each box's size.
 */
export function graphLayoutInput(graph: GraphData, size: (item: LayoutItem) => { width: number; height: number },
  options: GraphLayoutOptions = {}): GraphLayoutInput {
  const hideConstants = options.hideWeightConstants ?? true;
  const showOuter = options.showOuter ?? true;
  const items: LayoutItem[] = [];
  const producer = new Int32Array(graph.values.length).fill(-1);
  for (const v of graph.inputs) { producer[v] = items.length; items.push({ kind: 'input', value: v }); }
  if (showOuter) {
    for (const node of graph.nodes) {
      for (const v of node.inputs) {
        if (v < 0 || producer[v] >= 0) continue;
        const value = graph.values[v];
        if (value.kind === 'outer' && value.weight === undefined) { producer[v] = items.length; items.push({ kind: 'outer', value: v }); }
      }
    }
  }
  const nodeItem = new Int32Array(graph.nodes.length).fill(-1);
  graph.nodes.forEach((node, i) => {
    if (hideConstants && node.op === 'Constant' && node.outputs.length > 0
      && node.outputs.every((v) => v < 0 || graph.values[v].weight !== undefined)) return;
    nodeItem[i] = items.length;
    items.push({ kind: 'node', node: i });
    for (const v of node.outputs) if (v >= 0 && producer[v] < 0) producer[v] = nodeItem[i];
  });
  const edges: number[] = [];
  const edgeValues: number[] = [];
  const seen = new Set<number>();
  graph.nodes.forEach((node, i) => {
    const to = nodeItem[i];
    if (to < 0) return;
    seen.clear();
    for (const v of node.inputs) {
      if (v < 0 || seen.has(v)) continue;
      seen.add(v);
      if (producer[v] >= 0) { edges.push(producer[v], to); edgeValues.push(v); }
    }
  });
  for (const v of graph.outputs) {
    const to = items.length;
    items.push({ kind: 'output', value: v });
    if (producer[v] >= 0) { edges.push(producer[v], to); edgeValues.push(v); }
  }
  const widths = new Float64Array(items.length), heights = new Float64Array(items.length);
  items.forEach((item, i) => { const s = size(item); widths[i] = s.width; heights[i] = s.height; });
  return { widths, heights, edges: Int32Array.from(edges), items, edgeValues: Int32Array.from(edgeValues), nodeItem };
}
