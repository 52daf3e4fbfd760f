// The Quantize Model command in a real VS Code: the job process quantizes the sample, the report opens in a
// results panel (read back from its DOM), the new file loads; bad options are refused with nothing written.
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const vscode = require('vscode');
const { closeAllEditors, getApi, waitFor, workspace } = require('./helpers.cjs');

describe('quantize model command', function () {
  this.timeout(120000);
  let ws;
  let sample;
  let api;
  const written = [];

  before(async () => {
    api = await getApi();
    ws = workspace();
    sample = ws.uri(ws.manifest.sample);
  });
  after(async () => {
    for (const f of written) fs.rmSync(f, { force: true });
    await closeAllEditors();
  });

  it('static int8 of the sample from the command: a new model, its report in a panel, the source untouched', async () => {
    const output = path.join(path.dirname(sample.fsPath), 'mnist-8.it-static.onnx');
    written.push(output);
    const before = fs.readFileSync(sample.fsPath);
    const report = await vscode.commands.executeCommand('onnxqs.quantizeModel', sample, {
      options: { mode: 'static', calibration: { randomSamples: 4 } },
      output,
    });
    assert.ok(report, 'the command resolves with the report');
    assert.strictEqual(report.mode, 'static');
    assert.deepStrictEqual(report.quantized.length > 0, true, JSON.stringify(report.quantized));
    assert.strictEqual(report.calibration.samples, 4);
    assert.strictEqual(report.calibration.random, true);
    assert.ok(fs.existsSync(output), 'the quantized model was written');
    assert.ok(fs.readFileSync(sample.fsPath).equals(before), 'the source model is unchanged');
    // The new model was compared with the source on samples calibration did not see (seeds 5 on).
    assert.strictEqual(report.outputsMeasuredOn.source, '4 random samples (seeds 5..8)');
    assert.ok(report.outputs.length === 1 && report.outputs[0].cosine > 0.9, JSON.stringify(report.outputs));
    const shown = await waitFor(() => (api.lastResultsRendered('quantize') || {}).verdict, 'the report panel to paint', 20000);
    assert.match(shown, /^\d+ nodes quantized, 0\.\d+× the size; lowest output cosine 0\.\d+ \("Plus214_Output_0"\)$/);
    assert.strictEqual(vscode.workspace.textDocuments.some((d) => d.isUntitled && d.getText().includes('# Quantized:')), false, 'no untitled document to save on close');
    // The result reads like any model: its summary counts the Q/DQ nodes.
    const inspected = await vscode.commands.executeCommand('onnxqs.inspectModel', vscode.Uri.file(output));
    assert.ok(inspected && inspected.opHistogram.QuantizeLinear > 0, JSON.stringify(inspected && inspected.opHistogram));
  });

  it('bad options: nothing is written, the command resolves with undefined', async () => {
    const output = path.join(path.dirname(sample.fsPath), 'mnist-8.it-bad.onnx');
    written.push(output);
    const report = await vscode.commands.executeCommand('onnxqs.quantizeModel', sample, {
      options: { mode: 'dynamic', weightType: 'int4' },
      output,
    });
    assert.strictEqual(report, undefined);
    assert.strictEqual(fs.existsSync(output), false);
  });

  it('the output may not be the source model', async () => {
    const before = fs.readFileSync(sample.fsPath);
    const report = await vscode.commands.executeCommand('onnxqs.quantizeModel', sample, { options: { mode: 'dynamic' }, output: sample.fsPath });
    assert.strictEqual(report, undefined);
    assert.ok(fs.readFileSync(sample.fsPath).equals(before), 'the source model is unchanged');
  });
});
