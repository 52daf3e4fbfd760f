'use strict';
// Every model of the shared model folder (copied into the workspace by runTest.mjs under models/):
// the editor renders it, and what it shows agrees with lastReport() and with what the webview received
// (the main graph's nodes and edges, the weight list); a selected node's side panel shows the attributes
// the webview got; the largest weight's histogram is drawn with the core's bin counts (the CLI's, run as
// its own process); a subgraph opens with a breadcrumb back. Where the models' README gives a node count
// (python onnx, subgraphs included), the count must match it too.
const assert = require('assert');
const path = require('path');
const vscode = require('vscode');
const { VIEW_TYPE, workspace, getApi, waitForCustomTab, closeAllEditors, withTimeout, coreStats, nodeWithAttributes } = require('./helpers.cjs');

// Node counts including subgraphs, as python onnx 1.12 counts them (models/README.md).
const KNOWN = {
  'cntk/mnist-8_cntk.onnx': { nodeCount: 12, inputs: ['Input3'], outputs: ['Plus214_Output_0'] },
  'external/mnist_external.onnx': { nodeCount: 12, inputs: ['Input3'], outputs: ['Plus214_Output_0'] },
  'external/melspectrogram_external.onnx': { nodeCount: 29, inputs: ['input'], outputs: ['output'] },
  'openwakeword/melspectrogram.onnx': { nodeCount: 29, inputs: ['input'], outputs: ['output'] },
  'openwakeword/hey_jarvis_v0.1.onnx': { nodeCount: 63, inputs: ['x.1'], outputs: ['53'] },
  'imgly/isnet_quint8_dynamic_small.onnx': { nodeCount: 1084, inputs: ['input'] },
  'ppocr/ch_PP-OCRv4_det_infer.onnx': { nodeCount: 672, inputs: ['x'], outputs: ['sigmoid_0.tmp_0'] },
  'ppocr/ch_PP-OCRv4_rec_infer.onnx': { nodeCount: 765, inputs: ['x'], outputs: ['softmax_11.tmp_0'] },
  'ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx': { nodeCount: 471, inputs: ['x'], outputs: ['softmax_0.tmp_0'] },
  'silero/silero_vad_op18_ifless.onnx': { nodeCount: 90, inputs: ['input', 'sr', 'state'], outputs: ['output', 'stateN'] },
  'silero/silero_vad_v5.onnx': { nodeCount: 689, inputs: ['input', 'state', 'sr'], outputs: ['output', 'stateN'] },
};
const RENDER_MS = Number(process.env.ONNXQS_RENDER_TIMEOUT_MS || 120000);

const { manifest } = workspace();

describe('model editor: every shared model', function () {
  this.timeout(RENDER_MS + 30000);
  let api;
  let ws;
  before(async () => { api = await getApi(); ws = workspace(); await closeAllEditors(); });
  afterEach(closeAllEditors);

  if (!manifest.models || manifest.models.length === 0) {
    it.skip(`shared models: ${manifest.modelsSkipped || 'none in the workspace'}`, () => {});
    return;
  }
  for (const rel of manifest.models) {
    const key = rel.replace(/^models\//, '');
    it(`${key}`, async () => {
      const uri = ws.uri(rel);
      const t0 = Date.now();
      await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE);
      const tab = await waitForCustomTab(uri);
      assert.strictEqual(tab.input.viewType, VIEW_TYPE);
      const r = await withTimeout(api.waitForRendered(uri.toString(), RENDER_MS), RENDER_MS + 5000, `waitForRendered(${key})`);
      assert.ok(!r.error, `the view painted an error: ${r.error}`);
      const rep = api.lastReport(uri.toString());
      assert.ok(rep, 'lastReport(uri) after rendering');
      assert.match(r.title, new RegExp(path.basename(rel).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.strictEqual(r.nodeCount, rep.nodeCount, 'the view shows the report\'s node count');
      assert.deepStrictEqual(r.inputs, rep.inputs.map((v) => v.name), 'the view shows the report\'s inputs');
      assert.deepStrictEqual(r.outputs, rep.outputs.map((v) => v.name), 'the view shows the report\'s outputs');
      assert.strictEqual(r.opTypes, Object.keys(rep.opHistogram).length, 'the view shows one row per op type');
      assert.strictEqual(Object.values(rep.opHistogram).reduce((a, b) => a + b, 0), rep.nodeCount, 'the op histogram adds up to the node count');
      // What the webview received (the weight list comes after the first paint; the Weights tab waits for
      // it), and what it laid out and drew.
      await api.probe(uri.toString(), { kind: 'tab', tab: 'weights' });
      const shown = await api.probe(uri.toString(), { kind: 'rendered' });
      await api.probe(uri.toString(), { kind: 'tab', tab: 'graph' });
      const posted = api.posted(uri.toString());
      const summary = api.lastSummary(uri.toString());
      assert.ok(posted && summary && summary.weights, 'the summary and the weight list were posted to the webview');
      assert.ok(posted.summaryBytes < 5 * 1024 * 1024, `the webview received ${posted.summaryBytes} bytes (a few MB at most)`);
      assert.strictEqual(r.graph.path, 'main');
      assert.strictEqual(r.graph.nodes, summary.graph.nodes.length, 'the graph view shows every node of the main graph');
      assert.strictEqual(shown.weights, summary.weights.length, 'the weights table lists every weight');
      assert.strictEqual(summary.weights.reduce((a, w) => a + w.elements, 0), rep.parameters.count, 'the weight list covers every parameter');
      // A selected node's attributes, as the side panel shows them.
      const n = nodeWithAttributes(summary.graph);
      if (n >= 0) {
        const node = summary.graph.nodes[n];
        const info = await api.probe(uri.toString(), { kind: 'selectNode', index: n });
        assert.strictEqual(info.op, node.op || '(empty op)');
        assert.strictEqual(info.name, node.name);
        assert.deepStrictEqual(info.attributes, node.attributes.map((a) => ({ name: a.name, value: a.value })), `attributes of node ${n} (${node.op})`);
        assert.strictEqual(info.inputs.length, node.inputs.length);
        assert.strictEqual(info.outputs.length, node.outputs.length);
      }
      // The largest weight's histogram against the core's statistics of its own numbers (a stored-quantized
      // weight's codes: the view shows the values they stand for unless asked for the codes).
      const core = coreStats(uri.fsPath, 1, 16).tensors[0];
      if (core && core.stats && core.stats.count > 0) {
        const shown = await api.probe(uri.toString(), { kind: 'showWeight', name: core.name, bins: 16, codes: true });
        assert.deepStrictEqual(shown.counts, core.stats.histogram.counts, `histogram of ${core.name}`);
        assert.strictEqual(shown.histogram.min, core.stats.min);
        assert.strictEqual(shown.histogram.max, core.stats.max);
      }
      // A subgraph (If / Loop / Scan body) opens, with a breadcrumb back to the main graph.
      const owner = summary.graph.nodes.find((x) => x.subgraphs.length > 0);
      if (owner) {
        const sub = await api.probe(uri.toString(), { kind: 'openGraph', path: owner.subgraphs[0].path });
        assert.strictEqual(sub.path, owner.subgraphs[0].path);
        assert.strictEqual(sub.breadcrumb.length, 2, `breadcrumb ${JSON.stringify(sub.breadcrumb)}`);
        assert.ok(sub.nodes > 0, 'the subgraph has nodes');
        const back = await api.probe(uri.toString(), { kind: 'openGraph', path: 'main' });
        assert.strictEqual(back.nodes, summary.graph.nodes.length);
      }
      const known = KNOWN[key];
      if (known) {
        assert.strictEqual(rep.nodeCount, known.nodeCount, 'node count (subgraphs included) as python onnx counts it');
        if (known.inputs) assert.deepStrictEqual(r.inputs, known.inputs);
        if (known.outputs) assert.deepStrictEqual(r.outputs, known.outputs);
      }
      console.log(`    ${rep.nodeCount} nodes, ${r.opTypes} op types, ${summary.weights.length} weights, ${(posted.summaryBytes / 1024).toFixed(0)} KB to the webview; layout ${Math.round(r.graph.layoutMs)} ms; ${Date.now() - t0} ms in all`);
    });
  }
});
