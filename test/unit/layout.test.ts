// The graph view's layout (webview/graph/layout.ts): invariants on generated and real graphs, determinism,
// deep and cyclic inputs, crossing counts on graphs whose optimum is known.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { buildGraphData } from '../../src/onnx/graphData';
import { loadModel } from '../../src/onnx/load';
import { seededRandom } from '../../src/runtime/random';
import { edgeRoute, graphLayoutInput, layoutGraph, type LayoutInput, type LayoutItem, type LayoutResult } from '../../webview/graph/layout';
import { modelsDir, noModels } from './helpers/models';

function input(sizes: [number, number][], edges: [number, number][], options?: LayoutInput['options']): LayoutInput {
  return { widths: sizes.map((s) => s[0]), heights: sizes.map((s) => s[1]), edges: edges.flat(), options };
}

const uniform = (n: number, w = 60, h = 24): [number, number][] => Array.from({ length: n }, () => [w, h]);

/** Every edge of a DAG goes down the drawing: from its source's bottom to its target's top, never upwards. */
function assertDownwards(inp: LayoutInput, r: LayoutResult): void {
  const m = inp.edges.length / 2;
  for (let k = 0; k < m; k++) {
    const a = inp.edges[2 * k], b = inp.edges[2 * k + 1];
    if (a === b) continue;
    assert.ok(r.rank[b] > r.rank[a], `edge ${k} (${a} -> ${b}) goes from rank ${r.rank[a]} to ${r.rank[b]}`);
    const pts = edgeRoute(r, k);
    assert.ok(pts.length >= 4, `edge ${k} has a route`);
    assert.ok(Math.abs(pts[1] - (r.y[a] + r.h[a])) < 1e-9, `edge ${k} starts at its source's bottom`);
    assert.ok(Math.abs(pts[pts.length - 1] - r.y[b]) < 1e-9, `edge ${k} ends at its target's top`);
    assert.ok(pts[0] >= r.x[a] && pts[0] <= r.x[a] + r.w[a], `edge ${k} starts inside its source's width`);
    const endX = pts[pts.length - 2];
    assert.ok(endX >= r.x[b] - 1e-9 && endX <= r.x[b] + r.w[b] + 1e-9, `edge ${k} ends inside its target's width`);
    for (let j = 3; j < pts.length; j += 2) assert.ok(pts[j] >= pts[j - 2] - 1e-9, `edge ${k} goes up at point ${(j - 1) / 2}`);
  }
}

/** Nodes of one rank never overlap (and keep at least the node gap), and every coordinate is finite and inside the drawing. */
function assertNoOverlaps(r: LayoutResult, nodeSep = 20): void {
  const n = r.x.length;
  const byRank = new Map<number, number[]>();
  for (let v = 0; v < n; v++) {
    for (const c of [r.x[v], r.y[v]]) assert.ok(Number.isFinite(c), `node ${v} has finite coordinates`);
    assert.ok(r.x[v] >= 0 && r.x[v] + r.w[v] <= r.width + 1e-6, `node ${v} lies inside the width`);
    assert.ok(r.y[v] >= 0 && r.y[v] + r.h[v] <= r.height + 1e-6, `node ${v} lies inside the height`);
    const list = byRank.get(r.rank[v]) ?? [];
    list.push(v);
    byRank.set(r.rank[v], list);
  }
  for (const [rank, list] of byRank) {
    list.sort((a, b) => r.x[a] - r.x[b]);
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1], b = list[i];
      assert.ok(r.x[a] + r.w[a] + nodeSep <= r.x[b] + 1e-6, `rank ${rank}: nodes ${a} and ${b} overlap or touch`);
    }
  }
  for (const p of r.edgePoints) assert.ok(Number.isFinite(p), 'edge points are finite');
}

/** Crossings counted from the drawing itself: pairs of edge segments between the same two rows whose ends swap order. */
function geometricCrossings(r: LayoutResult): number {
  const byGap = new Map<string, [number, number][]>();
  const m = r.edgeStart.length - 1;
  for (let k = 0; k < m; k++) {
    const pts = edgeRoute(r, k);
    for (let j = 2; j < pts.length; j += 2) {
      if (pts[j + 1] === pts[j - 1]) continue;
      const key = `${pts[j - 1]}:${pts[j + 1]}`;
      const list = byGap.get(key) ?? [];
      list.push([pts[j - 2], pts[j]]);
      byGap.set(key, list);
    }
  }
  let crossings = 0;
  for (const list of byGap.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) if ((list[i][0] - list[j][0]) * (list[i][1] - list[j][1]) < 0) crossings++;
    }
  }
  return crossings;
}

/** A random DAG: edges only from lower to higher indexes, with some long ones. */
function randomDag(n: number, seed: number): LayoutInput {
  const rand = seededRandom(seed);
  const edges: [number, number][] = [];
  for (let v = 1; v < n; v++) {
    const k = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < k; i++) {
      const u = rand() < 0.8 ? Math.max(0, v - 1 - Math.floor(rand() * 4)) : Math.floor(rand() * v);
      edges.push([u, v]);
    }
  }
  const sizes = Array.from({ length: n }, (): [number, number] => [30 + Math.floor(rand() * 120), 20 + Math.floor(rand() * 20)]);
  return input(sizes, edges);
}

describe('layoutGraph', () => {
  it('lays out an empty graph', () => {
    const r = layoutGraph(input([], []));
    assert.equal(r.x.length, 0);
    assert.equal(r.ranks, 0);
    assert.equal(r.edgeStart.length, 1);
    assert.ok(r.width >= 0 && r.height >= 0);
  });

  it('lays out one node', () => {
    const r = layoutGraph(input([[80, 30]], [], { margin: 10 }));
    assert.deepEqual([r.x[0], r.y[0], r.w[0], r.h[0], r.rank[0]], [10, 10, 80, 30, 0]);
    assert.deepEqual([r.width, r.height], [100, 50]);
  });

  it('stacks a chain in one straight column, ranks in order', () => {
    const n = 50;
    const r = layoutGraph(input(uniform(n), Array.from({ length: n - 1 }, (_, i): [number, number] => [i, i + 1])));
    assert.equal(r.ranks, n);
    for (let v = 0; v < n; v++) { assert.equal(r.rank[v], v); assert.equal(r.x[v], r.x[0]); }
    assert.equal(r.crossings, 0);
    assertDownwards(input(uniform(n), Array.from({ length: n - 1 }, (_, i): [number, number] => [i, i + 1])), r);
  });

  it('keeps the invariants on random DAGs: edges go down, no overlaps, crossings as drawn', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const inp = randomDag(300, seed);
      const r = layoutGraph(inp);
      assertDownwards(inp, r);
      assertNoOverlaps(r);
      assert.equal(r.reversedEdges, 0);
      assert.ok(r.dummies > 0, 'long edges made dummies');
    }
  });

  it('counts the crossings the drawing has (equal node heights, so segments share rows)', () => {
    for (const seed of [7, 8, 9]) {
      const rand = seededRandom(seed);
      const edges: [number, number][] = [];
      for (let v = 1; v < 120; v++) {
        const a = Math.floor(rand() * v), b = Math.floor(rand() * v);
        edges.push([a, v]);
        if (b !== a) edges.push([b, v]); // (a repeated edge would share a route and be counted twice here)
      }
      const r = layoutGraph(input(uniform(120), edges));
      assert.equal(r.crossings, geometricCrossings(r));
    }
  });

  it('finds the known crossing numbers of small graphs', () => {
    // Two ranks: K(2,2) needs 1 crossing whatever the order; K(3,3) needs C(3,2) * C(3,2) = 9.
    const k = (a: number, b: number) => {
      const edges: [number, number][] = [];
      for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) edges.push([i, a + j]);
      return layoutGraph(input(uniform(a + b), edges)).crossings;
    };
    assert.equal(k(2, 2), 1);
    assert.equal(k(3, 3), 9);
    // A twisted ladder: a_i -> b_(3-i), b_i -> c_i. In index order every rung crosses every other;
    // an order with 0 crossings exists and is found.
    const sizes = uniform(12);
    const edges: [number, number][] = [];
    for (let i = 0; i < 4; i++) { edges.push([i, 4 + (3 - i)]); edges.push([4 + i, 8 + i]); }
    const r = layoutGraph(input(sizes, edges));
    assert.equal(r.crossings, 0);
    assert.equal(geometricCrossings(r), 0);
    // Crossings that cannot be avoided stay as they are: a 2x2 ladder with both rungs crossed (1).
    const r2 = layoutGraph(input(uniform(4), [[0, 2], [0, 3], [1, 2], [1, 3]]));
    assert.equal(r2.crossings, 1);
  });

  it('reduces crossings with its barycenter sweeps', () => {
    let before = 0, after = 0;
    for (const seed of [11, 12, 13]) {
      const inp = randomDag(400, seed);
      const none = layoutGraph({ ...inp, options: { sweeps: 0 } }).crossings;
      const swept = layoutGraph(inp).crossings;
      assert.ok(swept <= none, `seed ${seed}: ${swept} > ${none}`);
      before += none; after += swept;
    }
    assert.ok(after < before, `sweeps removed no crossing (${before})`);
  });

  it('is deterministic', () => {
    const inp = randomDag(500, 42);
    const a = layoutGraph(inp);
    const b = layoutGraph({ widths: Array.from(inp.widths), heights: Array.from(inp.heights), edges: Array.from(inp.edges) });
    for (const key of ['x', 'y', 'w', 'h', 'rank', 'edgeStart', 'edgePoints'] as const) assert.deepEqual(a[key], b[key], key);
    assert.deepEqual([a.width, a.height, a.crossings], [b.width, b.height, b.crossings]);
  });

  it('does not overflow the stack on a 5,000-rank chain (or a 20,000-rank one)', () => {
    for (const n of [5000, 20000]) {
      const edges: [number, number][] = Array.from({ length: n - 1 }, (_, i) => [i, i + 1]);
      // A skip edge from top to bottom: thousands of dummies in one run.
      edges.push([0, n - 1]);
      const inp = input(uniform(n), edges);
      const r = layoutGraph(inp);
      assert.equal(r.ranks, n);
      assert.equal(r.dummies, n - 2);
      assertDownwards(inp, r);
      assertNoOverlaps(r);
    }
  });

  it('breaks cycles without hanging, and draws every node', () => {
    const n = 1000;
    const edges: [number, number][] = Array.from({ length: n }, (_, i) => [i, (i + 1) % n]); // a ring
    edges.push([5, 5], [10, 3], [3, 10]); // a self-loop and a 2-cycle
    const inp = input(uniform(n), edges);
    const r = layoutGraph(inp);
    assert.ok(r.reversedEdges >= 2);
    assertNoOverlaps(r);
    // The self-loop has no route; every other edge has one, from its source to its target.
    assert.equal(edgeRoute(r, n).length, 0);
    for (let k = 0; k < edges.length; k++) {
      if (k === n) continue;
      const [a, b] = edges[k];
      const pts = edgeRoute(r, k);
      assert.ok(pts.length >= 4);
      const start = pts[1], end = pts[pts.length - 1];
      assert.ok(start === r.y[a] + r.h[a] || start === r.y[a], `edge ${k} starts at its source`);
      assert.ok(end === r.y[b] || end === r.y[b] + r.h[b], `edge ${k} ends at its target`);
    }
  });

  it('ignores edges naming missing nodes', () => {
    const r = layoutGraph(input(uniform(3), [[0, 1], [1, 7], [-1, 2], [1, 2]]));
    assert.equal(edgeRoute(r, 1).length, 0);
    assert.equal(edgeRoute(r, 2).length, 0);
    assert.ok(edgeRoute(r, 3).length >= 4);
  });

  it('places disconnected parts side by side, and repeated edges share a route', () => {
    const edges: [number, number][] = [[0, 1], [1, 2], [3, 4], [4, 5], [6, 7], [0, 1]];
    const inp = input(uniform(9), edges);
    const r = layoutGraph(inp);
    assertNoOverlaps(r);
    assertDownwards(inp, r);
    assert.deepEqual(edgeRoute(r, 0), edgeRoute(r, 5));
    assert.equal(r.rank[8], 0, 'an isolated node sits in the top rank');
  });

  it('moves producer-less nodes next to their first consumer', () => {
    // 0 -> 1 -> 2 -> 3 -> 4, and 5 (a constant) feeding 4 and 3: it goes right above 3, not to the top.
    const r = layoutGraph(input(uniform(6), [[0, 1], [1, 2], [2, 3], [3, 4], [5, 4], [5, 3]]));
    assert.equal(r.rank[5], r.rank[3] - 1);
  });

  it('handles a wide fan-out and fan-in (its speed is measured by npm run bench:editor)', () => {
    const n = 3000;
    const edges: [number, number][] = [];
    for (let i = 1; i < n - 1; i++) edges.push([0, i], [i, n - 1]);
    const inp = input(uniform(n), edges);
    const r = layoutGraph(inp);
    assert.equal(r.ranks, 3);
    assertNoOverlaps(r);
    assertDownwards(inp, r);
  });
});

describe('graphLayoutInput on real models', { skip: noModels }, () => {
  const size = (item: LayoutItem) => (item.kind === 'node' ? { width: 90, height: 28 } : { width: 70, height: 22 });

  it('melspectrogram: inputs, outputs and nodes are boxes, weights (and weight Constants) are not', () => {
    const g = buildGraphData(loadModel(path.join(modelsDir, 'openwakeword/melspectrogram.onnx')));
    const constants = g.nodes.filter((n) => n.op === 'Constant').length;
    const li = graphLayoutInput(g, size);
    assert.equal(li.items.length, g.nodes.length - constants + g.inputs.length + g.outputs.length);
    assert.equal(li.items[0].kind, 'input');
    assert.equal(li.items[li.items.length - 1].kind, 'output');
    // Every edge carries a value that is not a weight, from its producer to a consumer.
    for (let k = 0; k < li.edgeValues.length; k++) {
      const value = g.values[li.edgeValues[k]];
      assert.equal(value.weight, undefined);
      const to = li.items[li.edges[2 * k + 1]];
      if (to.kind === 'node') assert.ok(g.nodes[to.node].inputs.includes(li.edgeValues[k]));
    }
    const all = graphLayoutInput(g, size, { hideWeightConstants: false });
    assert.equal(all.items.length, li.items.length + constants);
    const r = layoutGraph(li);
    assertDownwards(li, r);
    assertNoOverlaps(r);
  });

  it('Silero v5 subgraph: captured values are input boxes, captured weights are not', () => {
    const model = loadModel(path.join(modelsDir, 'silero/silero_vad_v5.onnx'));
    for (const info of model.graphs()) {
      const g = buildGraphData(model, info.path);
      const li = graphLayoutInput(g, size);
      const outer = li.items.filter((i) => i.kind === 'outer').map((i) => g.values[(i as { value: number }).value]);
      for (const v of outer) assert.equal(v.weight, undefined);
      const r = layoutGraph(li);
      assertDownwards(li, r);
      assertNoOverlaps(r);
    }
  });
});
