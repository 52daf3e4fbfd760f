// Benchmark in a real VS Code: "Benchmark Model…" on the FP32 sample and its static int8 copy runs both in
// the job process (each in a process of its own), shows the results panel (rows, charts, verdict read back
// from its DOM), draws the kernel time over the quantized model's graph, keeps the earlier result of the
// same models, and refuses a provider that cannot start.
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const vscode = require('vscode');
const { closeAllEditors, getApi, waitFor, workspace } = require('./helpers.cjs');

/** As in compare.test.cjs: under code-server a webview sometimes stalls about 30 s before it loads. */
const PAINT_MS = 60000;

describe('benchmark command', function () {
  this.timeout(180000);
  let sample;
  let api;
  const quantized = () => path.join(path.dirname(sample.fsPath), 'mnist-8.bench-int8.onnx');

  before(async () => {
    api = await getApi();
    sample = workspace().uri(workspace().manifest.sample);
    const report = await vscode.commands.executeCommand('onnxqs.quantizeModel', sample, { options: { mode: 'static', calibration: { randomSamples: 4 } }, output: quantized() });
    assert.ok(report, 'the sample was quantized');
    await closeAllEditors();
  });
  after(async () => {
    fs.rmSync(quantized(), { force: true });
    await closeAllEditors();
  });

  it('measures the FP32 model and its int8 copy interleaved: latency, the ratio with its interval, the fused graph, the panel, the time on the graph', async () => {
    const files = [sample.fsPath, quantized()];
    const result = await vscode.commands.executeCommand('onnxqs.benchmarkModel', vscode.Uri.file(quantized()), { files, spec: { samples: 2 }, iterations: 20, warmup: 1, showTime: true });
    assert.ok(result, 'the command resolves with the result');
    assert.deepStrictEqual(result.runs.map((r) => path.basename(r.file)), ['mnist-8.onnx', 'mnist-8.bench-int8.onnx']);
    for (const r of result.runs) {
      assert.strictEqual(r.iterations, 20);
      assert.ok(r.latencyMs.p50 > 0 && r.latencyMs.p50 <= r.latencyMs.p99, JSON.stringify(r.latencyMs));
      assert.ok(r.peakRssMb > 0 && r.sessionMs > 0);
    }
    assert.strictEqual(result.ratios.length, 1);
    const [q] = result.ratios;
    assert.ok(q.ci[0] <= q.p50 && q.p50 <= q.ci[1]);
    assert.ok(result.runs[1].graph.fused.QLinearConv >= 2, JSON.stringify(result.runs[1].graph.fused));
    const shown = await waitFor(() => api.lastResultsRendered('bench'), 'the results panel to paint', PAINT_MS);
    assert.deepStrictEqual([shown.rows, shown.plots], [2, 3], 'two runs; latency, distribution and speed-up charts');
    assert.match(shown.verdict, /mnist-8\.bench-int8\.onnx is (.* faster|.* slower|not measurably faster) than mnist-8\.onnx on cpu \(p50 ratio/);
    // The kernel time per node over the quantized model's graph, opened beside the panel.
    const uri = vscode.Uri.file(quantized());
    await api.waitForRendered(uri.toString(), PAINT_MS);
    const info = await waitFor(async () => { const i = await api.probe(uri.toString(), { kind: 'graphInfo' }); return i.overlay && i.overlay.label === 'Time' ? i : undefined; }, 'the time overlay on the graph', PAINT_MS);
    assert.ok(info.overlay.nodes >= 4, `${info.overlay.nodes} nodes timed`);
  });

  it('keeps the earlier result of the same models and shows it beside the new one', async () => {
    await closeAllEditors();
    const files = [sample.fsPath, quantized()];
    const result = await vscode.commands.executeCommand('onnxqs.benchmarkModel', vscode.Uri.file(quantized()), { files, spec: { samples: 2 }, iterations: 10, warmup: 1, profile: false });
    assert.ok(result);
    const shown = await waitFor(() => { const s = api.lastResultsRendered('bench'); return s && s.historyRows >= 2 ? s : undefined; }, 'the panel with the earlier results', PAINT_MS);
    assert.ok(shown.historyRows >= 2, `${shown.historyRows} earlier rows`);
  });

  it('a provider that cannot start: undefined, and nothing runs', async () => {
    const result = await vscode.commands.executeCommand('onnxqs.benchmarkModel', sample, { files: [sample.fsPath], spec: { samples: 1 }, providers: ['coreml'], iterations: 10 });
    assert.strictEqual(result, undefined);
  });
});

describe('the walkthrough', function () {
  this.timeout(180000);

  it('declares its steps with commands that exist and media that ship; each step works on the sample in one click', async () => {
    const api = await getApi();
    const ext = vscode.extensions.all.find((e) => e.packageJSON.name === 'onnx-quantization-studio');
    const [walk] = ext.packageJSON.contributes.walkthroughs;
    assert.deepStrictEqual(walk.steps.map((s) => s.id), ['open', 'look', 'quantize', 'compare', 'benchmark']);
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const s of walk.steps) {
      const links = [...s.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]);
      assert.ok(links.length >= 1, `step ${s.id} has a one-click command`);
      for (const c of links) assert.ok(registered.has(c), `step ${s.id}: ${c} is registered`);
      assert.ok(fs.existsSync(path.join(ext.extensionPath, s.media.markdown)), `step ${s.id}: ${s.media.markdown} ships`);
    }
    await closeAllEditors();
    // The benchmark step first: it quantizes the sample's copy itself when that was not done yet.
    const result = await vscode.commands.executeCommand('onnxqs.benchmarkSample');
    assert.ok(result && result.runs.length === 2, 'the benchmark step ran both models');
    assert.deepStrictEqual(result.runs.map((r) => path.basename(r.file)), ['mnist-8.onnx', 'mnist-8.int8.onnx']);
    const compared = await vscode.commands.executeCommand('onnxqs.compareSample');
    assert.ok(compared && compared.outputs[0].worst.cosine > 0.9, 'the compare step compared the copy with its int8 model');
    const uri = await vscode.commands.executeCommand('onnxqs.openSample');
    await api.waitForRendered(uri.toString(), PAINT_MS);
    assert.ok(!uri.fsPath.startsWith(ext.extensionPath), 'the sample is a copy outside the extension folder');
  });
});
