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
import { ancestry, buildHierarchy, groupContents, MAX_UNITS, scopeOf, type Hierarchy } from '../../webview/graph/hierarchy';
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
    assert.ok(Math.abs(p[1] - (a.y + a.h)) < 0.01 && p[0] >= a.x - 0.01 && p[0] <= a.x + a.w + 0.01, 'an edge starts at its source box bottom');
    assert.ok(Math.abs(p[p.length - 1] - b.y) < 0.01 && p[p.length - 2] >= b.x - 0.01 && p[p.length - 2] <= b.x + b.w + 0.01, 'an edge ends at its target box top');
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

  it('cuts a level of more than MAX_UNITS members into runs, and runs of runs, none larger', () => {
    const g = encoder(MAX_UNITS * MAX_UNITS + 5);
    const h = buildHierarchy(g, shown(g));
    for (const grp of h.groups) assert.ok(grp.groups.length + grp.nodes.length <= MAX_UNITS, `${grp.label} holds at most ${MAX_UNITS}`);
    const enc = h.groups[h.groups[0].groups[0]];
    assert.equal(enc.groups.length, 2, `${MAX_UNITS ** 2 + 5} layers: a run of ${MAX_UNITS} runs and a run of 1 run`);
    const first = h.groups[enc.groups[0]];
    assert.ok(first.artificial);
    assert.equal(first.label, `layer.0 – layer.${MAX_UNITS * MAX_UNITS - 1}`);
    assert.equal(h.groups[first.groups[1]].label, `layer.${MAX_UNITS} – layer.${2 * MAX_UNITS - 1}`);
    // Keys are the same when built again (expanded layers survive a reload).
    assert.deepEqual(buildHierarchy(g, shown(g)).groups.map((x) => x.key), h.groups.map((x) => x.key));
    assert.equal(new Set(h.groups.map((x) => x.key)).size, h.groups.length, 'keys are unique');
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
    assert.deepEqual(f.frames.map((fr) => h.groups[fr.group].label).sort(), ['encoder', 'layer.0 – layer.31', 'layer.3'].sort());
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
    // Nothing of a folded layer is drawn.
    assert.ok(!f.units.some((u) => u.unit.kind === 'item' && input.itemNode[u.unit.item] >= 0 && h.groupOf[input.itemNode[u.unit.item]] === h.groups[run0].groups[5]));
  });

  it('with every layer expanded, draws every node once and joins them as the flat graph does', () => {
    const g = encoder(3);
    const h = buildHierarchy(g, shown(g));
    const input = foldInput(g, h, h.groups.map((_, i) => i));
    const f = layoutFolded(input);
    assert.equal(f.units.filter((u) => u.unit.kind === 'group').length, 0);
    assert.equal(f.units.length, input.itemNode.length);
    assert.equal(f.edges.length, new Set(Array.from({ length: input.edges.length / 2 }, (_, k) => `${input.edges[2 * k]},${input.edges[2 * k + 1]}`)).size);
    assertFolded(h, f, input);
  });
});
