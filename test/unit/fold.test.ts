// Layers that fold (webview/graph/hierarchy.ts, foldLayout.ts): the hierarchy from name scopes and runs, and
// the folded layout checked on its layout data: frames hold their members, siblings never overlap, every
// edge joins the boxes it names, collapsed layers hide what they hold.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { buildTransformer } from '../../bench/transformer';
import { modelFromProto } from '../../src/onnx/builder';
import { buildGraphData } from '../../src/onnx/graphData';
import { loadModel } from '../../src/onnx/load';
import type { GraphData } from '../../src/protocol/graph';
import { FRAME, layoutFolded, type FoldedLayout, type FoldInput } from '../../webview/graph/foldLayout';
import { buildFoldedScene, layerFigures } from '../../webview/graph/foldScene';
import { ancestry, buildHierarchy, groupContents, MAX_UNITS, repeatedBlocks, scopeOf, type Hierarchy } from '../../webview/graph/hierarchy';
import { graphLayoutInput } from '../../webview/graph/layout';
import { modelsDir, noModels } from './helpers/models';

const encoder = (layers: number, scoped = true): GraphData =>
  buildGraphData(modelFromProto(buildTransformer({ layers, hidden: 8, heads: 2, ffn: 16, vocab: 10, seed: 1, version: 1, scoped })));

function foldInput(graph: GraphData, h: Hierarchy, expanded: number[]): FoldInput {
  const input = graphLayoutInput(graph, () => ({ width: 0, height: 0 }));
  return {
    hierarchy: h,
    expanded: new Set(expanded),
    itemNode: input.items.map((it) => (it.kind === 'node' ? it.node : -1)),
    edges: input.edges,
    size: (u) => (u.kind === 'group' ? { width: 160, height: 70 } : { width: 90, height: 30 }),
  };
}

/** A chain of nodes with these names and ops (each reads the previous one's output). */
function flatGraph(list: { name: string; op: string }[]): GraphData {
  const values: GraphData['values'] = [{ name: 'x', dtype: 'float', shape: [1], kind: 'input' }];
  const nodes = list.map((n, i) => {
    values.push({ name: `v${i}`, dtype: 'float', shape: [1], kind: i === list.length - 1 ? 'output' : 'intermediate' });
    return { op: n.op, domain: '', name: n.name, category: 'other' as const, inputs: [i], outputs: [i + 1], attributes: [], subgraphs: [] };
  });
  return { path: 'main', name: 'g', label: 'g', ancestors: [], nodes, values, inputs: [0], outputs: [list.length] };
}

/**
 * Embeddings (Gather, Add, LayerNormalization) and `layers` post-norm layers (MatMul, Relu, MatMul, Mul, Add
 * with the layer's input, LayerNormalization): the part before the layers ends as each layer does.
 */
function residualLayers(layers: number): GraphData {
  const values: GraphData['values'] = [{ name: 'ids', dtype: 'int64', shape: [1], kind: 'input' }];
  const nodes: GraphData['nodes'] = [];
  const add = (name: string, op: string, inputs: number[]) => {
    values.push({ name, dtype: 'float', shape: [1], kind: 'intermediate' });
    nodes.push({ op, domain: '', name, category: 'other', inputs, outputs: [values.length - 1], attributes: [], subgraphs: [] });
    return values.length - 1;
  };
  let x = add('ln0', 'LayerNormalization', [add('emb.add', 'Add', [add('emb', 'Gather', [0])])]);
  for (let l = 0; l < layers; l++) {
    const a = add(`l${l}.mm1`, 'MatMul', [x]);
    const c = add(`l${l}.mul`, 'Mul', [add(`l${l}.mm2`, 'MatMul', [add(`l${l}.relu`, 'Relu', [a])])]);
    x = add(`l${l}.ln`, 'LayerNormalization', [add(`l${l}.add`, 'Add', [c, x])]);
  }
  values[x].kind = 'output';
  // Node order: emb, emb.add, ln0, then each layer's mm1, relu, mm2, mul, add, ln (as added).
  return { path: 'main', name: 'g', label: 'g', ancestors: [], nodes, values, inputs: [0], outputs: [x] };
}

const shown = (graph: GraphData) => {
  const input = graphLayoutInput(graph, () => ({ width: 0, height: 0 }));
  return (n: number) => input.nodeItem[n] >= 0;
};

const inside = (a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }) =>
  a.x >= b.x - 1e-6 && a.y >= b.y - 1e-6 && a.x + a.w <= b.x + b.w + 1e-6 && a.y + a.h <= b.y + b.h + 1e-6;
const overlap = (a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }) =>
  a.x < b.x + b.w - 1e-6 && b.x < a.x + a.w - 1e-6 && a.y < b.y + b.h - 1e-6 && b.y < a.y + a.h - 1e-6;

/** The invariants of a folded layout: containment, no overlaps between siblings, edges end on their boxes. */
function assertFolded(h: Hierarchy, f: FoldedLayout, input: FoldInput): void {
  const frameOf = new Map(f.frames.map((fr) => [fr.group, fr]));
  const parentFrame = (u: FoldedLayout['units'][number]) => {
    const g = u.unit.kind === 'group' ? h.groups[u.unit.group].parent : Math.max(0, h.groupOf[input.itemNode[u.unit.item]] ?? 0);
    return g > 0 ? frameOf.get(g) : undefined;
  };
  for (const u of f.units) {
    const fr = parentFrame(u);
    if (fr) assert.ok(inside(u, { x: fr.x, y: fr.y + FRAME.header - 1, w: fr.w, h: fr.h - FRAME.header + 1 }), `a unit lies inside its layer's frame, below the title`);
    assert.ok(u.x >= 0 && u.y >= 0 && u.x + u.w <= f.width + 1e-6 && u.y + u.h <= f.height + 1e-6, 'inside the drawing');
  }
  for (const fr of f.frames) {
    const p = h.groups[fr.group].parent;
    if (p > 0) assert.ok(inside(fr, frameOf.get(p)!), `frame ${h.groups[fr.group].label} lies inside its parent's`);
  }
  // Boxes and frames with the same parent never overlap.
  const siblings = new Map<number, { x: number; y: number; w: number; h: number; what: string }[]>();
  const put = (p: number, r: { x: number; y: number; w: number; h: number }, what: string) => {
    const list = siblings.get(p) ?? [];
    list.push({ ...r, what });
    siblings.set(p, list);
  };
  for (const u of f.units) put(u.unit.kind === 'group' ? h.groups[u.unit.group].parent : Math.max(0, h.groupOf[input.itemNode[u.unit.item]] ?? 0), u, JSON.stringify(u.unit));
  for (const fr of f.frames) put(h.groups[fr.group].parent, fr, `frame ${fr.group}`);
  for (const list of siblings.values()) {
    for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) assert.ok(!overlap(list[i], list[j]), `${list[i].what} and ${list[j].what} overlap`);
  }
  for (const e of f.edges) {
    const a = f.units[e.from], b = f.units[e.to];
    const p = e.points;
    assert.ok(p.length >= 4, 'an edge has a route');
    assert.ok(p[0] >= a.x - 0.01 && p[0] <= a.x + a.w + 0.01 && p[p.length - 2] >= b.x - 0.01 && p[p.length - 2] <= b.x + b.w + 0.01, 'an edge runs from its source box to its target box');
    if (b.y >= a.y + a.h) {
      // Down: from the source's bottom to the target's top, never upwards on the way.
      assert.ok(Math.abs(p[1] - (a.y + a.h)) < 0.01, 'an edge starts at its source box bottom');
      assert.ok(Math.abs(p[p.length - 1] - b.y) < 0.01, 'an edge ends at its target box top');
      for (let j = 3; j < p.length; j += 2) assert.ok(p[j] >= p[j - 2] - 0.01, 'it never goes up');
    } else {
      // Up (a cycle between layers): from the source's top to the target's bottom, straight.
      assert.ok(b.y + b.h <= a.y, 'the target is above');
      assert.deepEqual(Array.from(p), [a.x + a.w / 2, a.y, b.x + b.w / 2, b.y + b.h].map(Math.fround), 'straight up between the boxes');
    }
  }
}

describe('layer hierarchy', () => {
  it('reads name scopes as PyTorch and tf2onnx write them', () => {
    assert.deepEqual(scopeOf('/encoder/layer.3/attn/MatMul'), ['encoder', 'layer.3', 'attn']);
    assert.deepEqual(scopeOf('model/dense/MatMul'), ['model', 'dense']);
    assert.deepEqual(scopeOf('MatMul_12'), []);
    assert.deepEqual(scopeOf('/Conv'), []);
  });

  it('groups a scoped encoder into its layers, merging single-child scopes and dissolving one-node scopes', () => {
    const g = encoder(3);
    const h = buildHierarchy(g, shown(g));
    const root = h.groups[0];
    // /encoder holds only the layers: it merges with nothing (3 children), and is the root's one group.
    const labels = root.groups.map((c) => h.groups[c].label);
    assert.deepEqual(labels, ['encoder'], 'the root holds /encoder; /embed (one node) and the final Identity are its nodes');
    assert.deepEqual(root.nodes.map((n) => g.nodes[n].op).sort(), ['Gather', 'Identity']);
    const enc = h.groups[root.groups[0]];
    assert.deepEqual(enc.groups.map((c) => h.groups[c].label), ['layer.0', 'layer.1', 'layer.2']);
    const layer = h.groups[enc.groups[1]];
    assert.equal(layer.scope, '/encoder/layer.1');
    assert.equal(layer.artificial, false);
    assert.deepEqual(layer.groups.map((c) => h.groups[c].label), ['q', 'k', 'v', 'ctx', 'o', 'ffn.up', 'gelu', 'ffn.down'],
      'each scope of two or more nodes is a layer (a projection, ctx\'s Transpose and Reshape, gelu\'s three), in node order');
    // Every drawn node is in exactly one group, and sizes add up.
    let counted = 0;
    h.groupOf.forEach((x, n) => { if (shown(g)(n)) { assert.ok(x >= 0); counted++; } });
    assert.equal(root.size, counted);
    const sum = (id: number): number => h.groups[id].nodes.length + h.groups[id].groups.reduce((s, c) => s + sum(c), 0);
    assert.equal(sum(0), counted);
    const contents = groupContents(g, h, enc.groups[1]);
    assert.equal(contents.ops.find(([op]) => op === 'MatMul')?.[1], 8, 'a layer has 6 projections and 2 attention MatMuls');
    assert.equal(contents.parameters, 4 * (8 * 8 + 8) + (8 * 16 + 16) + (16 * 8 + 8) + 4 * 8 + (4 + 3 + 1 + 1),
      "the layer's weights as the spec counts them, and the shared constants it reads (two shapes, two scalars)");
    assert.deepEqual(ancestry(h, enc.groups[1]), [0, root.groups[0], enc.groups[1]]);
  });

  it('cuts a level of more than MAX_UNITS members into even runs, and runs of runs, none larger, none of one member', () => {
    const g = encoder(MAX_UNITS * MAX_UNITS + 5);
    const h = buildHierarchy(g, shown(g));
    for (const grp of h.groups) {
      const members = grp.groups.length + grp.nodes.length;
      assert.ok(members <= MAX_UNITS, `${grp.label} holds at most ${MAX_UNITS}`);
      if (grp.artificial) assert.ok(members >= 2, `a run of one member (${grp.label}) is no run`);
    }
    const enc = h.groups[h.groups[0].groups[0]];
    // 1,029 layers: 33 runs of 31-32 layers, in 2 runs of runs (17 and 16).
    assert.deepEqual(enc.groups.map((r) => h.groups[r].groups.length), [17, 16]);
    const sizes = enc.groups.flatMap((r) => h.groups[r].groups.map((x) => h.groups[x].groups.length));
    assert.equal(sizes.length, 33);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `even runs: ${sizes.join(', ')}`);
    const first = h.groups[enc.groups[0]];
    assert.ok(first.artificial);
    const inner = h.groups[first.groups[0]];
    const lastInFirst = h.groups[h.groups[first.groups[first.groups.length - 1]].groups.at(-1)!].label;
    assert.equal(first.label, `layer.0 – ${lastInFirst}`);
    assert.equal(inner.label, `layer.0 – layer.${inner.groups.length - 1}`);
    // Keys are the same when built again (expanded layers survive a reload).
    assert.deepEqual(buildHierarchy(g, shown(g)).groups.map((x) => x.key), h.groups.map((x) => x.key));
    assert.equal(new Set(h.groups.map((x) => x.key)).size, h.groups.length, 'keys are unique');
  });

  it('keeps keys apart when a scope is named like a run, and labels a run of nodes by the nodes it spans', () => {
    // 40 nodes in /s (cut into runs) and 5 in a scope named "s#0" and one named "s//0" is impossible (empty segment).
    // (Ops all different: a repeated op sequence would fold into blocks instead of runs.)
    const nodes = [...Array.from({ length: 40 }, (_, i) => `/s/n${i}`), ...Array.from({ length: 5 }, (_, i) => `/s#0/n${i}`)];
    const g = flatGraph(nodes.map((name, i) => ({ name, op: `Op${i}` })));
    const h = buildHierarchy(g, () => true);
    assert.equal(new Set(h.groups.map((x) => x.key)).size, h.groups.length, `keys are unique: ${h.groups.map((x) => x.key).join(' ')}`);
    // Nodes 1-31 alone, then a layer of nodes 32-61, then 32 more: the first run spans to node 61.
    const mixed = flatGraph([...Array.from({ length: 31 }, (_, i) => ({ name: `n${i}`, op: `A${i}` })), ...Array.from({ length: 30 }, (_, i) => ({ name: `/G/n${i}`, op: `B${i}` })), ...Array.from({ length: 32 }, (_, i) => ({ name: `m${i}`, op: `C${i}` }))]);
    const hm = buildHierarchy(mixed, () => true);
    const labels = hm.groups[0].groups.map((x) => hm.groups[x].label);
    assert.deepEqual(labels, ['nodes 1–61', 'nodes 62–93'], '64 members in two runs of 32; the first ends with layer G (nodes 32-61)');
  });

  it('folds a graph without scopes into its repeated blocks (the same op sequence, layer after layer)', () => {
    const g = encoder(40, false);
    assert.ok(g.nodes.every((n) => !n.name.includes('/')), 'no scopes in the names');
    const h = buildHierarchy(g, shown(g));
    const blocks = h.groups.filter((x) => /^block \d+$/.test(x.label));
    assert.equal(blocks.length, 40, `one block per layer: ${blocks.map((b) => b.label).join(', ')}`);
    const seq = (b: (typeof blocks)[number]) => b.nodes.map((n) => g.nodes[n].op).join(',');
    for (const b of blocks) {
      assert.equal(b.size, 31, 'a layer\'s 31 nodes');
      assert.equal(seq(b), seq(blocks[0]), 'the same op sequence');
    }
    assert.equal(new Set(h.groups.map((x) => x.key)).size, h.groups.length, 'keys are unique');
    // Blocks start where layers start, though the part before them ends as each layer does (Add, LayerNorm).
    const bert = residualLayers(6);
    const hb = buildHierarchy(bert, () => true);
    const firsts = hb.groups.filter((x) => /^block /.test(x.label)).map((x) => bert.nodes[x.nodes[0]].name);
    assert.deepEqual(firsts, Array.from({ length: 6 }, (_, l) => `l${l}.mm1`), 'each block begins with its layer\'s first MatMul');
    // A graph with no repetition (a short chain of different ops) has none.
    assert.equal(repeatedBlocks(['Conv', 'Relu', 'Add', 'MatMul', 'Softmax', 'Gemm', 'Sigmoid', 'Mul', 'Sub', 'Div']), null);
  });

  it('folds a graph without scopes into runs of nodes, in node order', { skip: noModels }, () => {
    const g = buildGraphData(loadModel(path.join(modelsDir, 'ppocr/ch_PP-OCRv4_det_infer.onnx')));
    const h = buildHierarchy(g, shown(g));
    assert.ok(h.groups[0].groups.length + h.groups[0].nodes.length <= MAX_UNITS);
    const run = h.groups[h.groups[0].groups[0]];
    assert.match(run.label, /^nodes \d+–\d+$/);
    for (const grp of h.groups) for (let i = 1; i < grp.nodes.length; i++) assert.ok(grp.nodes[i] > grp.nodes[i - 1], 'node order kept');
  });
});

describe('folded layout', () => {
  it('shows the top level only, with collapsed layers as boxes and bundled edges', () => {
    const g = encoder(40);
    const h = buildHierarchy(g, shown(g));
    const input = foldInput(g, h, [0]);
    const f = layoutFolded(input);
    const groupsShown = f.units.filter((u) => u.unit.kind === 'group').length;
    assert.equal(groupsShown, 1, 'the root shows /encoder folded');
    assert.equal(f.frames.length, 0);
    assert.ok(f.units.length <= MAX_UNITS + 2, 'a readable top level');
    // input_ids -> Gather -> encoder -> Identity -> hidden_states: 4 edges, the encoder's many inputs bundled.
    assert.equal(f.edges.length, 4);
    assertFolded(h, f, input);
    const enc = f.units.findIndex((u) => u.unit.kind === 'group');
    const into = f.edges.find((e) => e.to === enc)!;
    assert.ok(into.items.length >= 1);
  });

  it('expands a layer in place: its members inside a frame, edges through its ports, the rest folded', () => {
    const g = encoder(40);
    const h = buildHierarchy(g, shown(g));
    const enc = h.groups[0].groups[0];
    const run0 = h.groups[enc].groups[0];
    const layer3 = h.groups[run0].groups[3];
    const input = foldInput(g, h, [0, enc, run0, layer3]);
    const f = layoutFolded(input);
    assert.deepEqual(f.frames.map((fr) => h.groups[fr.group].label).sort(), ['encoder', 'layer.0 – layer.19', 'layer.3'].sort());
    assertFolded(h, f, input);
    // Layer 2's output reaches layer 3's first projections: one edge from the layer.2 box to each reader.
    const unitOf = (label: string) => f.units.findIndex((u) => u.unit.kind === 'group' && h.groups[u.unit.group].label === label);
    const l2 = unitOf('layer.2');
    const q = unitOf('q');
    assert.ok(l2 >= 0 && q >= 0);
    const e = f.edges.find((x) => x.from === l2 && x.to === q);
    assert.ok(e, 'layer.2 -> q (inside layer.3) is drawn');
    // The edge passes through layer.3's frame top.
    const fr = f.frames.find((x) => h.groups[x.group].label === 'layer.3')!;
    const ys = Array.from(e.points).filter((_, i) => i % 2 === 1);
    assert.ok(ys.some((y) => y < fr.y) && ys.some((y) => y > fr.y + FRAME.header), 'it comes from above the frame into it');
    // Nothing of a folded layer is drawn: no node anywhere under layer.5 (its own or its sub-layers').
    const layer5 = h.groups[run0].groups[5];
    const under = (n: number) => ancestry(h, h.groupOf[n]).includes(layer5);
    const drawn = f.units.filter((u) => u.unit.kind === 'item' && input.itemNode[u.unit.item] >= 0).map((u) => input.itemNode[(u.unit as { item: number }).item]);
    assert.ok(drawn.filter((n) => h.groupOf[n] === layer3).length >= 8, 'layer.3\'s own nodes (scores, softmax, residual adds, norms) are drawn');
    assert.ok(!drawn.some(under), 'no node of the folded layer.5 is drawn');
    assert.ok(g.nodes.some((_, n) => under(n)), 'layer.5 holds nodes');
  });

  it('with every layer expanded, draws every node once and joins them as the flat graph does', () => {
    const g = encoder(3);
    const h = buildHierarchy(g, shown(g));
    const input = foldInput(g, h, h.groups.map((_, i) => i));
    const f = layoutFolded(input);
    assert.equal(f.units.filter((u) => u.unit.kind === 'group').length, 0);
    assert.equal(f.units.length, input.itemNode.length);
    const flat = new Set(Array.from({ length: input.edges.length / 2 }, (_, k) => `${input.edges[2 * k]},${input.edges[2 * k + 1]}`));
    const item = (u: number) => (f.units[u].unit as { item: number }).item;
    assert.deepEqual(new Set(f.edges.map((e) => `${item(e.from)},${item(e.to)}`)), flat, 'the same pairs of boxes as the flat graph');
    assertFolded(h, f, input);
  });

  it('gives a collapsed layer its nodes\' summed time, or its worst error', () => {
    const g = encoder(3);
    const input = graphLayoutInput(g, () => ({ width: 0, height: 0 }));
    const h = buildHierarchy(g, (n) => input.nodeItem[n] >= 0);
    const enc = h.groups[0].groups[0];
    const scene = buildFoldedScene(g, input, h, new Set([0, enc]), { showNames: false, measure: (t) => t.length * 7 });
    // A figure per node: its index (so that sums are known).
    const byName = new Map(g.nodes.map((n, i) => [n.name, { value: i }]));
    const sum = layerFigures(scene, byName, true), worst = layerFigures(scene, byName, false);
    const boxes = scene.boxes.map((b, i) => [b, i] as const).filter(([b]) => b.kind === 'group');
    assert.equal(boxes.length, 3, 'the three layers, collapsed');
    for (const [b, i] of boxes) {
      const members = g.nodes.map((_, n) => n).filter((n) => ancestry(h, h.groupOf[n]).includes(b.group));
      assert.equal(sum.get(i)!.value, members.reduce((a, n) => a + n, 0), `${b.title}: the sum of its nodes`);
      assert.equal(worst.get(i)!.value, Math.max(...members), `${b.title}: its worst node`);
    }
    assert.ok(!scene.boxes.some((b, i) => b.kind !== 'group' && sum.has(i)), 'only collapsed layers get one');
  });

  it('routes edges between layers whose nodes interleave (a cycle between layers) from box to box', () => {
    // /A/a1 -> /B/b1 -> /B/b2 -> /A/a2: at the top, A -> B -> A.
    const g = flatGraph([{ name: '/A/a1', op: 'Relu' }, { name: '/B/b1', op: 'Relu' }, { name: '/B/b2', op: 'Relu' }, { name: '/A/a2', op: 'Relu' }]);
    const h = buildHierarchy(g, () => true);
    assert.deepEqual(h.groups[0].groups.map((x) => h.groups[x].label), ['A', 'B']);
    for (const expanded of [[0], [0, 1], [0, 1, 2]]) {
      const input = foldInput(g, h, expanded);
      assertFolded(h, layoutFolded(input), input);
    }
  });
});
