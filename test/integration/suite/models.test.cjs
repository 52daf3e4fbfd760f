'use strict';
// Every model of the shared model folder (copied into the workspace by runTest.mjs under models/):
// the editor renders it, and what it shows agrees with lastReport(); where the models' README gives a
// node count (python onnx, subgraphs included), the count must match it too.
const assert = require('assert');
const path = require('path');
const vscode = require('vscode');
const { VIEW_TYPE, workspace, getApi, waitForCustomTab, closeAllEditors, withTimeout } = require('./helpers.cjs');

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
      const known = KNOWN[key];
      if (known) {
        assert.strictEqual(rep.nodeCount, known.nodeCount, 'node count (subgraphs included) as python onnx counts it');
        if (known.inputs) assert.deepStrictEqual(r.inputs, known.inputs);
        if (known.outputs) assert.deepStrictEqual(r.outputs, known.outputs);
      }
      console.log(`    ${rep.nodeCount} nodes, ${r.opTypes} op types, in ${Date.now() - t0} ms`);
    });
  }
});
