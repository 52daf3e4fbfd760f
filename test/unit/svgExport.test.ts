// The graph as SVG (webview/graph/svgExport.ts): every box, edge and frame of the scene is in it, texts are
// escaped, labels do not overlap, and the document's tags balance (a viewer would open it).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { buildTransformer } from '../../bench/transformer';
import { modelFromProto } from '../../src/onnx/builder';
import { buildGraphData } from '../../src/onnx/graphData';
import { loadModel } from '../../src/onnx/load';
import { buildFoldedScene } from '../../webview/graph/foldScene';
import { buildHierarchy } from '../../webview/graph/hierarchy';
import { graphLayoutInput, layoutGraph } from '../../webview/graph/layout';
import { applyLayout, buildScene, type SceneOptions } from '../../webview/graph/scene';
import { LABEL_HEIGHT } from '../../webview/graph/labels';
import { sceneSvg } from '../../webview/graph/svgExport';
import type { BoxCategory, Palette } from '../../webview/graph/theme';

const ROOT = path.join(__dirname, '..', '..');
const measure: SceneOptions['measure'] = (text, role) => text.length * (role === 'mono' ? 6 : 7);
const options: SceneOptions = { showNames: true, measure };
const colours = new Proxy({}, { get: () => '#808080' }) as Record<BoxCategory, string>;
const palette: Palette = {
  background: '#ffffff', foreground: '#000000', muted: '#666666', nodeFill: '#f0f0f0', border: '#cccccc', frame: '#f8f8f8',
  edge: '#888888', edgeHighlight: '#0000ff', selection: '#0000ff', findMatch: '#ffaa00', findCurrent: '#ff8800', label: '#666666',
  highContrast: false, category: colours, tint: colours, font: 'Segoe "UI" & co', monoFont: 'monospace',
};

/** Opening and closing tags balance (self-closing ones aside), in order. */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    const [, close, tag, self] = m;
    if (self) continue;
    if (close) assert.equal(stack.pop(), tag, `</${tag}> closes <${tag}>`);
    else stack.push(tag);
  }
  assert.deepEqual(stack, [], 'every tag is closed');
}

describe('graph as SVG', () => {
  it('draws every box, edge and label of a flat graph (the sample)', () => {
    const graph = buildGraphData(loadModel(path.join(ROOT, 'samples', 'mnist-8.onnx')));
    const { scene: partial, input } = buildScene(graph, options);
    const scene = applyLayout(partial, layoutGraph(input));
    const svg = sceneSvg(scene, palette, (t) => t.length * 6);
    assertBalanced(svg);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="[\d.]+" height="[\d.]+"/);
    assert.match(svg, /font-family="Segoe &quot;UI&quot; &amp; co"/, 'attribute text is escaped');
    assert.equal((svg.match(/<polyline /g) ?? []).length, scene.edges.filter((e) => e.points.length >= 4).length, 'one polyline per routed edge');
    for (const box of scene.boxes) assert.ok(svg.includes(`>${box.title.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</text>`), `${box.title} is drawn`);
    assert.ok(svg.includes('>Conv</text>') && svg.includes('>Plus214_Output_0</text>'), 'ops and graph outputs are named');
    // Labels: the shapes on the edges, none over another.
    const rects = [...svg.matchAll(new RegExp(`<rect x="([\\d.-]+)" y="([\\d.-]+)" width="([\\d.]+)" height="${LABEL_HEIGHT}" fill="#ffffff" fill-opacity`, 'g'))].map((m) => m.slice(1).map(Number));
    assert.ok(rects.length > 5, `edge labels: ${rects.length}`);
    for (let i = 0; i < rects.length; i++) {
      for (let j = i + 1; j < rects.length; j++) {
        const [ax, ay, aw] = rects[i], [bx, by, bw] = rects[j];
        assert.ok(ax + aw <= bx || bx + bw <= ax || ay + LABEL_HEIGHT <= by || by + LABEL_HEIGHT <= ay, 'labels do not overlap');
      }
    }
  });

  it('escapes what a model names (markup, quotes, control characters a parser refuses)', () => {
    const graph = buildGraphData(loadModel(path.join(ROOT, 'samples', 'mnist-8.onnx')));
    graph.values[graph.inputs[0]].name = 'in<put> & "x"\u0001\u0000\uD800';
    const { scene: partial, input } = buildScene(graph, options);
    const scene = applyLayout(partial, layoutGraph(input));
    const svg = sceneSvg(scene, palette, (t) => t.length * 6);
    assertBalanced(svg);
    assert.ok(svg.includes('>in&lt;put&gt; &amp; &quot;x&quot;\uFFFD\uFFFD\uFFFD</text>'), 'markup escaped, control characters and a lone surrogate replaced');
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(svg), 'no character XML 1.0 forbids');
  });

  it('draws a folded graph with its frames and collapsed layers', () => {
    const graph = buildGraphData(modelFromProto(buildTransformer({ layers: 3, hidden: 8, heads: 2, ffn: 16, vocab: 10, seed: 1, version: 1, scoped: true })));
    const input = graphLayoutInput(graph, () => ({ width: 0, height: 0 }));
    const h = buildHierarchy(graph, (n) => input.nodeItem[n] >= 0);
    const encoder = h.groups[0].groups[0];
    const scene = buildFoldedScene(graph, input, h, new Set([0, encoder]), options);
    const svg = sceneSvg(scene, palette, (t) => t.length * 6);
    assertBalanced(svg);
    assert.ok(svg.includes('>encoder · 93 nodes</text>'), 'the expanded layer\'s frame and title');
    for (const l of ['layer.0', 'layer.1', 'layer.2']) assert.ok(svg.includes(`>${l}</text>`), `${l} collapsed`);
    assert.match(svg, />31 nodes · [\d.]+ K? ?params<\/text>/, 'a layer says what it holds');
    assert.ok(!svg.includes('>MatMul</text>'), 'nothing inside a collapsed layer is drawn');
  });
});
