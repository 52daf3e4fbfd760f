'use strict';
const assert = require('assert');
const vscode = require('vscode');
const { VIEW_TYPE, workspace, getApi, waitFor, waitForCustomTab, closeAllEditors, withTimeout } = require('./helpers.cjs');

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

  it('vscode.openWith shows the custom editor and it renders the summary', async () => {
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
  });

  it('lastReport() has the inspect report of the open model', async () => {
    await vscode.commands.executeCommand('vscode.openWith', sample, VIEW_TYPE);
    await withTimeout(api.waitForRendered(sample.toString(), RENDER_MS), RENDER_MS + 5000, 'waitForRendered(mnist-8)');
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

  it('onnxqs.inspectModel opens a markdown summary naming the inputs and outputs', async () => {
    await vscode.commands.executeCommand('onnxqs.inspectModel', sample);
    const doc = await waitFor(() => vscode.workspace.textDocuments.find(
      (d) => d.languageId === 'markdown' && d.isUntitled && d.getText().includes('Input3')), 'an untitled markdown document naming Input3', 30000);
    const text = doc.getText();
    assert.match(text, /Plus214_Output_0/);
    assert.match(text, /mnist-8/);
    const active = vscode.window.activeTextEditor;
    assert.ok(active && active.document === doc, 'the summary is the active editor');
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
    await vscode.commands.executeCommand('vscode.openWith', sample, VIEW_TYPE);
    await waitForCustomTab(sample);
    const r = await withTimeout(api.waitForRendered(sample.toString(), RENDER_MS), RENDER_MS + 5000, 'waitForRendered(mnist-8) after garbage');
    assert.strictEqual(r.nodeCount, 12);
  });
});
