'use strict';
const assert = require('assert');
const vscode = require('vscode');
const { VIEW_TYPE, workspace, getApi, waitFor, waitForCustomTab, closeAllEditors, withTimeout, coreStats } = require('./helpers.cjs');

const RENDER_MS = 60000;

describe('model editor: the sample model (mnist-8)', function () {
  this.timeout(RENDER_MS + 30000);
  let api;
  let ws;
  let sample;
  before(async () => {
    api = await getApi();
    ws = workspace();
    assert.ok(ws.manifest.sample, `no sample model in the workspace: ${ws.manifest.sampleMissing || 'see runTest.mjs'}`);
    sample = ws.uri(ws.manifest.sample);
    await closeAllEditors();
  });
  afterEach(closeAllEditors);

  async function open() {
    await vscode.commands.executeCommand('vscode.openWith', sample, VIEW_TYPE);
    await waitForCustomTab(sample);
    return withTimeout(api.waitForRendered(sample.toString(), RENDER_MS), RENDER_MS + 5000, 'waitForRendered(mnist-8)');
  }

  it('vscode.openWith shows the custom editor and it renders the summary and the graph', async () => {
    await vscode.commands.executeCommand('vscode.openWith', sample, VIEW_TYPE);
    const tab = await waitForCustomTab(sample);
    assert.strictEqual(tab.input.viewType, VIEW_TYPE);
    const r = await withTimeout(api.waitForRendered(sample.toString(), RENDER_MS), RENDER_MS + 5000, 'waitForRendered(mnist-8)');
    console.log(`    rendered: ${JSON.stringify(r)}`);
    assert.ok(!r.error, `the view painted an error: ${r.error}`);
    assert.match(r.title, /mnist-8\.onnx/);
    assert.strictEqual(r.nodeCount, 12);
    assert.deepStrictEqual(r.inputs, ['Input3']);
    assert.deepStrictEqual(r.outputs, ['Plus214_Output_0']);
    // Add 3, Reshape 2, Conv 2, Relu 2, MaxPool 2, MatMul 1
    assert.strictEqual(r.opTypes, 6);
    // The graph: 12 nodes, plus the input and the output boxes; every node and value edge laid out and drawn.
    assert.strictEqual(r.graph.path, 'main');
    assert.strictEqual(r.graph.nodes, 12);
    assert.strictEqual(r.graph.edges, 13, 'one edge per value and consumer: 11 between nodes, 1 from the input, 1 to the output');
    assert.ok(r.graph.drawnNodes > 0, 'something is drawn');
    // The Weights tab is built when first shown.
    assert.strictEqual(r.weights, undefined, 'the weights table was built before it was shown');
    await api.probe(sample.toString(), { kind: 'tab', tab: 'weights' });
    const shown = await api.probe(sample.toString(), { kind: 'rendered' });
    assert.strictEqual(shown.weights, 8, 'the weights table lists the 8 initializers');
    await api.probe(sample.toString(), { kind: 'tab', tab: 'graph' });
  });

  it('the webview received the summary, the graph and the weight list, and nothing large', async () => {
    await open();
    // The weight list is asked for after the first paint; the Weights tab waits for it.
    await api.probe(sample.toString(), { kind: 'tab', tab: 'weights' });
    await api.probe(sample.toString(), { kind: 'tab', tab: 'graph' });
    const posted = api.posted(sample.toString());
    assert.ok(posted, 'posted() after rendering');
    assert.ok(posted.types.includes('summary'), `posted: ${posted.types.join(', ')}`);
    assert.strictEqual(posted.graphNodes, 12);
    assert.strictEqual(posted.weights, 8);
    // 26 KB of model, of which 23 KB are weights: the webview gets a few KB, never the tensors.
    assert.ok(posted.summaryBytes < 20000, `summary of ${posted.summaryBytes} bytes`);
    const summary = api.lastSummary(sample.toString());
    assert.deepStrictEqual(summary.weights.map((w) => w.name).sort(), ['Parameter193', 'Parameter193_reshape1_shape', 'Parameter194', 'Parameter5', 'Parameter6', 'Parameter87', 'Parameter88', 'Pooling160_Output_0_reshape0_shape'].sort());
    assert.ok(summary.weights.every((w) => w.stats === undefined), 'statistics come later, on request');
  });

  it('lastReport() has the inspect report of the open model', async () => {
    await open();
    const rep = api.lastReport(sample.toString());
    assert.ok(rep, 'lastReport(uri) after rendering');
    assert.strictEqual(rep.nodeCount, 12);
    assert.deepStrictEqual(rep.inputs.map((v) => v.name), ['Input3']);
    assert.deepStrictEqual(rep.outputs.map((v) => v.name), ['Plus214_Output_0']);
    assert.deepStrictEqual(rep.inputs[0].shape, [1, 1, 28, 28]);
    assert.strictEqual(rep.inputs[0].dtype, 'float');
    assert.deepStrictEqual({ ...rep.opHistogram }, { Add: 3, Reshape: 2, Conv: 2, Relu: 2, MaxPool: 2, MatMul: 1 });
    assert.strictEqual(rep.opsets['ai.onnx'], 8);
  });

  it('selecting a node shows its op, attributes, inputs, outputs, weights and documentation link', async () => {
    await open();
    const info = await api.probe(sample.toString(), { kind: 'selectNode', name: 'Convolution28' });
    console.log(`    side panel: ${JSON.stringify(info)}`);
    assert.strictEqual(info.op, 'Conv');
    assert.strictEqual(info.domain, 'ai.onnx');
    assert.strictEqual(info.name, 'Convolution28');
    const attrs = Object.fromEntries(info.attributes.map((a) => [a.name, a.value]));
    assert.strictEqual(attrs.kernel_shape, '[5, 5]');
    assert.strictEqual(attrs.strides, '[1, 1]');
    assert.strictEqual(attrs.auto_pad, 'SAME_UPPER');
    assert.strictEqual(attrs.group, '1');
    // What the panel shows is what the webview received for that node.
    const summary = api.lastSummary(sample.toString());
    const node = summary.graph.nodes.find((n) => n.name === 'Convolution28');
    assert.deepStrictEqual(info.attributes, node.attributes.map((a) => ({ name: a.name, value: a.value })));
    assert.deepStrictEqual(info.inputs, [{ name: 'Input3', type: 'float[1,1,28,28]' }, { name: 'Parameter5', type: 'float[8,1,5,5]' }]);
    assert.deepStrictEqual(info.outputs.map((o) => o.name), ['Convolution28_Output_0']);
    assert.deepStrictEqual(info.weights.map((w) => w.name), ['Parameter5']);
    assert.strictEqual(info.docsUrl, 'https://onnx.ai/onnx/operators/onnx__Conv.html');
    // The weight's statistics arrive from the job process and replace "computing…".
    const again = await waitFor(async () => {
      const i = await api.probe(sample.toString(), { kind: 'selectNode', name: 'Convolution28' });
      return /^min /.test(i.weights[0].stats) ? i : undefined;
    }, 'the statistics of Parameter5 in the side panel', 20000, 200);
    const core = coreStats(sample.fsPath, 8, 16).tensors.find((t) => t.name === 'Parameter5').stats;
    assert.match(again.weights[0].stats, new RegExp(`^min ${String(Number(core.min.toPrecision(4)))} · max ${String(Number(core.max.toPrecision(4)))}`));
  });

  it('the weights view draws the core\'s histogram, with the bins asked for, and per-channel ranges', async () => {
    await open();
    for (const bins of [16, 64]) {
      const core = coreStats(sample.fsPath, 8, bins);
      const want = core.tensors.find((t) => t.name === 'Parameter87');
      const shown = await api.probe(sample.toString(), { kind: 'showWeight', name: 'Parameter87', bins, log: bins === 64 });
      assert.strictEqual(shown.name, 'Parameter87');
      assert.strictEqual(shown.bins, bins);
      assert.strictEqual(shown.log, bins === 64);
      assert.deepStrictEqual(shown.counts, want.stats.histogram.counts, `${bins} bins: the drawn counts are the core's`);
      assert.strictEqual(shown.counts.reduce((a, b) => a + b, 0), 3200);
      assert.strictEqual(shown.histogram.min, want.stats.min);
      assert.strictEqual(shown.histogram.max, want.stats.max);
      // Parameter87 is Conv W [16, 8, 5, 5]: one range per output channel.
      assert.strictEqual(shown.channels, 16);
      assert.strictEqual(shown.rows, 8);
    }
    // Parameter193 reaches its MatMul through a Reshape: no direct Conv/MatMul/Gemm consumer, no channel axis.
    const mm = await api.probe(sample.toString(), { kind: 'showWeight', name: 'Parameter193', bins: 32 });
    assert.strictEqual(mm.channels, 0);
    assert.strictEqual(mm.counts.reduce((a, b) => a + b, 0), 2560);
  });

  it('find (Ctrl/Cmd+F) finds op types, node names and tensor names', async () => {
    await open();
    const byOp = await api.probe(sample.toString(), { kind: 'find', query: 'maxpool' });
    assert.strictEqual(byOp.find.matches, 2);
    assert.strictEqual(byOp.find.current, 0);
    assert.ok(byOp.selected >= 0, 'the first match is selected');
    // The MatMul Times212 and the Reshapes Times212_reshape0/1 around it (a tensor is found where it is made).
    const byName = await api.probe(sample.toString(), { kind: 'find', query: 'Times212' });
    assert.strictEqual(byName.find.matches, 3, 'Times212: by node name');
    const exact = await api.probe(sample.toString(), { kind: 'find', query: 'Plus214' });
    const summary = api.lastSummary(sample.toString());
    assert.ok(exact.find.matches >= 1);
    assert.match(summary.graph.nodes[exact.selected].name, /Plus214/);
    const byTensor = await api.probe(sample.toString(), { kind: 'find', query: 'Parameter5' });
    assert.ok(byTensor.find.matches >= 1, 'the node that reads weight Parameter5');
    const none = await api.probe(sample.toString(), { kind: 'find', query: 'no such thing' });
    assert.strictEqual(none.find.matches, 0);
  });

  it('the model outline (Explorer) lists inputs, outputs and nodes by op type; a node in it is revealed in the viewer', async () => {
    await open();
    const lines = await waitFor(async () => { const l = await api.outline(); return l.length ? l : undefined; }, 'the outline of the active model viewer', 20000);
    for (const want of ['Inputs (1)', '  Input3 — float[1, 1, 28, 28]', 'Outputs (1)', '  Plus214_Output_0 — float[1, 10]', 'Nodes by op type (12)', '  Conv — 2', '    Convolution28 — Conv']) {
      assert.ok(lines.includes(want), `"${want}" in:\n${lines.join('\n')}`);
    }
    const summary = api.lastSummary(sample.toString());
    const index = summary.graph.nodes.findIndex((n) => n.name === 'Convolution110');
    const shown = await vscode.commands.executeCommand('onnxqs.outline.reveal', sample, 'main', index);
    assert.strictEqual(shown.op, 'Conv');
    const info = await api.probe(sample.toString(), { kind: 'graphInfo' });
    assert.strictEqual(info.selected, index);
  });

  it('the view keeps its tab, selection and viewport when hidden and shown again', async () => {
    await open();
    await api.probe(sample.toString(), { kind: 'selectNode', name: 'Convolution28' });
    const before = await api.probe(sample.toString(), { kind: 'graphInfo' });
    await api.probe(sample.toString(), { kind: 'tab', tab: 'weights' });
    // Another editor in the same group hides the model viewer (its webview is not kept alive when hidden).
    const other = await vscode.workspace.openTextDocument({ content: 'another editor', language: 'plaintext' });
    await vscode.window.showTextDocument(other, { preview: false });
    await waitFor(() => vscode.window.activeTextEditor && vscode.window.activeTextEditor.document === other, 'the text editor in front');
    await vscode.commands.executeCommand('vscode.openWith', sample, VIEW_TYPE);
    await waitForCustomTab(sample);
    await withTimeout(api.waitForRendered(sample.toString(), RENDER_MS), RENDER_MS + 5000, 'waitForRendered(mnist-8) shown again');
    const posted = api.posted(sample.toString());
    console.log(`    shown again; posted since: ${posted ? posted.types.join(', ') : 'nothing (the webview was kept)'}`);
    const r = await api.probe(sample.toString(), { kind: 'rendered' });
    assert.strictEqual(r.tab, 'weights', 'the tab');
    assert.strictEqual(r.graph.selected, before.selected, 'the selected node');
    assert.ok(Math.abs(r.graph.scale - before.scale) < 1e-9, `the zoom (${r.graph.scale} vs ${before.scale})`);
    const summary = api.lastSummary(sample.toString());
    assert.strictEqual(summary.graph.nodes[r.graph.selected].name, 'Convolution28');
    // The restored Weights tab asks for the weight list itself and builds its table (nothing else asks).
    await waitFor(async () => (await api.probe(sample.toString(), { kind: 'rendered' })).weights === 8, 'the restored Weights tab lists the 8 weights');
  });

  it('opening a *.onnx file normally uses the custom editor (priority default)', async () => {
    await vscode.commands.executeCommand('vscode.open', sample);
    const tab = await waitForCustomTab(sample);
    assert.strictEqual(tab.input.viewType, VIEW_TYPE);
  });

  it('onnxqs.openModel opens the model in the custom editor', async () => {
    await vscode.commands.executeCommand('onnxqs.openModel', sample);
    const tab = await waitForCustomTab(sample);
    assert.strictEqual(tab.input.viewType, VIEW_TYPE);
    const r = await withTimeout(api.waitForRendered(sample.toString(), RENDER_MS), RENDER_MS + 5000, 'waitForRendered after onnxqs.openModel');
    assert.strictEqual(r.nodeCount, 12);
  });

  it('onnxqs.inspectModel resolves with the report and paints the summary in a results panel (a table row per input and output), the active tab', async () => {
    const report = await vscode.commands.executeCommand('onnxqs.inspectModel', sample);
    assert.strictEqual(report.inputs[0].name, 'Input3');
    assert.strictEqual(report.outputs[0].name, 'Plus214_Output_0');
    // (An earlier suite may have shown another model's summary: wait for this one's.)
    const shown = await waitFor(() => { const r = api.lastResultsRendered('summary'); return r && /^mnist-8\.onnx:/.test(r.verdict) ? r : undefined; }, 'the summary panel painted', 30000);
    assert.strictEqual(shown.rows, 2, 'one input and one output row painted');
    assert.match(shown.verdict, /^mnist-8\.onnx: 12 \(/);
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.strictEqual(tab && tab.label, 'Summary: mnist-8.onnx', 'the panel is the active tab');
  });

  it('a garbage .onnx file opens with an error in the view, not a crash', async () => {
    const bad = ws.uri(ws.manifest.garbage);
    await vscode.commands.executeCommand('vscode.openWith', bad, VIEW_TYPE);
    const tab = await waitForCustomTab(bad);
    assert.strictEqual(tab.input.viewType, VIEW_TYPE, 'the custom editor opens (and shows the error)');
    // The view paints an error view: waitForRendered resolves with `error` set (the error code the
    // view shows); an implementation may also reject with the load error. It must not time out.
    let rendered;
    let error;
    try {
      rendered = await withTimeout(api.waitForRendered(bad.toString(), 20000), 25000, 'waitForRendered(garbage.onnx)');
    } catch (e) {
      error = e;
    }
    if (rendered) {
      console.log(`    rendered: ${JSON.stringify(rendered)}`);
      assert.ok(rendered.error, `a garbage file must paint the error view, not a summary: ${JSON.stringify(rendered)}`);
      assert.match(rendered.title, /garbage\.onnx/);
    } else {
      console.log(`    waitForRendered rejected with: ${error && error.message}`);
      assert.ok(error && error.message && !/time[sd]? ?out|did not render within/i.test(error.message),
        `the view should paint the load error, not time out (got: ${error && error.message})`);
    }
    assert.strictEqual(api.lastReport(bad.toString()), undefined, 'no report for a garbage file');
  });

  it('the extension still works after a bad file', async () => {
    const r = await open();
    assert.strictEqual(r.nodeCount, 12);
    assert.strictEqual(r.graph.nodes, 12);
  });
});
