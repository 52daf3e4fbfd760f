// Compare in a real VS Code: "Compare with FP32" finds the source of a quantized model by its name, runs
// both in the job process, layer by layer too, and shows the results panel (rows, plots, verdict and the
// layers table read back from its DOM);
// "Compare Models" on two files puts the one that looks quantized second; a bad input spec fails with
// a message and no panel.
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const vscode = require('vscode');
const { closeAllEditors, getApi, waitFor, waitForCustomTab, workspace } = require('./helpers.cjs');

/**
 * Webview paints wait this long: under code-server a webview sometimes stalls about 30 s before it
 * loads (seen in 1 of 5 CI runs here, on the first results panel of the suite; its cause is not ours to
 * find in the test), which a 20 s budget turned into a failure.
 */
const PAINT_MS = 60000;

describe('compare commands', function () {
  this.timeout(180000);
  let ws;
  let sample;
  let api;
  const quantized = () => path.join(path.dirname(sample.fsPath), 'mnist-8.int8.onnx');

  before(async () => {
    api = await getApi();
    ws = workspace();
    sample = ws.uri(ws.manifest.sample);
    const report = await vscode.commands.executeCommand('onnxqs.quantizeModel', sample, { options: { mode: 'static', calibration: { randomSamples: 8 } }, output: quantized() });
    assert.ok(report, 'the sample was quantized');
    await closeAllEditors();
  });
  after(async () => {
    fs.rmSync(quantized(), { force: true });
    await closeAllEditors();
  });

  it('Compare with FP32 from the quantized model: per output figures, pass against the cosine asked for, the results panel', async () => {
    const result = await vscode.commands.executeCommand('onnxqs.compareWithFp32', vscode.Uri.file(quantized()), { spec: { samples: 4 }, minCosine: 0.9 });
    assert.ok(result, 'the command resolves with the result');
    assert.strictEqual(path.basename(result.a.file), 'mnist-8.onnx', 'the FP32 source was found by name');
    assert.strictEqual(result.a.provider.used, 'cpu');
    assert.strictEqual(result.inputs.samples, 4);
    assert.strictEqual(result.outputs.length, 1);
    const [o] = result.outputs;
    assert.strictEqual(o.samples.length, 4);
    assert.ok(o.worst.cosine > 0.9 && o.worst.cosine < 1, String(o.worst.cosine));
    assert.strictEqual(o.pass, true);
    assert.ok(o.plot && o.plot.a.length === 40, 'every value of 4 samples of [1, 10] is in the plot');
    const shown = await waitFor(() => api.lastResultsRendered('compare'), 'the results panel to paint', PAINT_MS);
    assert.deepStrictEqual([shown.rows, shown.plots], [1, 1]);
    assert.match(shown.verdict, /Every output within tolerance/);
    // Layer by layer: every Conv and the MatMul matched to its FP32 tensor, the worst drop first, in the panel.
    const layers = result.layers;
    assert.ok(layers, 'the layers were compared');
    assert.strictEqual(layers.samples, 4);
    const byNode = new Map(layers.layers.map((l) => [l.node, l]));
    assert.strictEqual(byNode.get('Convolution28').fp32Tensor, 'ReLU32_Output_0');
    assert.strictEqual(byNode.get('Convolution110').fp32Tensor, 'ReLU114_Output_0');
    assert.strictEqual(byNode.get('Times212').fp32Tensor, 'Times212_Output_0');
    const drops = layers.layers.map((l) => l.sqnrDropDb);
    assert.deepStrictEqual(drops, [...drops].sort((x, y) => y - x), 'the largest drop first');
    assert.deepStrictEqual(layers.unmapped, []);
    assert.strictEqual(shown.layerRows, layers.layers.length, 'every layer is a row of the panel (fewer than 25)');
  });

  it('the layer error and the graph diff on the graph: the quantized model opens coloured by SQNR drop, the worst listed, a node\'s figures in its panel; then by what quantization made of each node', async () => {
    const result = await vscode.commands.executeCommand('onnxqs.compareWithFp32', vscode.Uri.file(quantized()), { spec: { samples: 4 } });
    const q = vscode.Uri.file(quantized());
    await vscode.commands.executeCommand('vscode.openWith', q, 'onnxqs.modelEditor');
    await waitForCustomTab(q);
    await api.waitForRendered(q.toString(), PAINT_MS);
    const info = await waitFor(async () => { const i = await api.probe(q.toString(), { kind: 'graphInfo' }); return i.overlay && i.overlay.nodes > 0 ? i : undefined; }, 'the overlay on the graph', PAINT_MS);
    assert.strictEqual(info.overlay.label, 'SQNR drop');
    assert.strictEqual(info.overlay.on, true);
    // Every node a layer was measured at is coloured: the two Convs, the MatMul, the MaxPools, ...
    assert.strictEqual(info.overlay.nodes, new Set(result.layers.layers.map((l) => l.node)).size);
    assert.strictEqual(info.overlay.worst[0], result.layers.layers[0].node, 'the worst listed first');
    assert.deepStrictEqual(info.overlay.offered, ['SQNR drop', 'Quantization']);
    const panel = await api.probe(q.toString(), { kind: 'selectNode', name: 'Convolution28' });
    const row = result.layers.layers.find((l) => l.node === 'Convolution28');
    assert.deepStrictEqual(panel.figures.slice(0, 2).map((f) => f.label), ['SQNR drop', 'SQNR']);
    assert.ok(panel.figures.some((f) => f.label === 'Weight SQNR' && / dB$/.test(f.value)), 'the node panel shows the layer\'s weight error');
    assert.strictEqual(panel.figures[1].value, `${row.sqnrDb.toFixed(2)} dB`);
    // The graph diff: every node of the quantized graph coloured by what quantization made of it.
    const diff = await api.probe(q.toString(), { kind: 'overlay', label: 'Quantization' });
    assert.strictEqual(diff.overlay.label, 'Quantization');
    assert.strictEqual(diff.overlay.nodes, result.layers.diff.nodes.length);
    const conv = await api.probe(q.toString(), { kind: 'selectNode', name: 'Convolution28' });
    assert.deepStrictEqual(conv.figures[0], { label: 'Quantization', value: 'quantized' });
    // The FP32 model's weights against the quantized copy's grid (the two were just compared).
    await vscode.commands.executeCommand('vscode.openWith', sample, 'onnxqs.modelEditor');
    await waitForCustomTab(sample);
    await api.waitForRendered(sample.toString(), PAINT_MS);
    const weight = await api.probe(sample.toString(), { kind: 'showWeight', name: 'Parameter5', bins: 64 });
    assert.ok(weight.quantization, 'the weight is drawn against the quantized copy');
    assert.match(weight.quantization.text, /^Parameter5_quantized · int8 per channel \(axis 0, 8\): SQNR \d+\.\d dB, 0\.00% clipped/);
    await closeAllEditors();
  });

  it('Keep the worst layers in float: two steps of one layer each, re-quantized in the job process, a history panel', async () => {
    const first = await vscode.commands.executeCommand('onnxqs.compareWithFp32', vscode.Uri.file(quantized()), { spec: { samples: 4 } });
    assert.strictEqual(first.layers.quantizedWith.mode, 'static', 'the options our quantizer recorded in the model');
    const steps = await vscode.commands.executeCommand('onnxqs.keepWorstLayersInFloat', vscode.Uri.file(quantized()), { reference: sample.fsPath, spec: { samples: 4 }, perStep: 1, steps: 2, result: first });
    assert.ok(steps, 'the command resolves with the history');
    assert.deepStrictEqual(steps.map((s) => s.inFloat.length), [0, 1, 2]);
    assert.strictEqual(steps[1].added[0], first.layers.layers.find((l) => l.floatNode).floatNode, 'the quantized layer with the largest drop first');
    assert.ok(steps[2].cosine > steps[0].cosine, `worst output cosine ${steps.map((s) => s.cosine).join(' -> ')}`);
    for (const s of steps.slice(1)) assert.ok(fs.existsSync(s.file), `${s.file} is kept while the panel is open`);
    // Each step's latency, measured beside the source's (the benchmark's interleaved rounds).
    for (const s of steps) assert.ok(s.latency && s.latency.p50Ms > 0 && s.latency.ci[0] <= s.latency.ratio && s.latency.ratio <= s.latency.ci[1], JSON.stringify(s.latency));
    const shown = await waitFor(() => { const r = api.lastResultsRendered('refine'); return r && r.rows === 3 ? r : undefined; }, 'the history with three rows', PAINT_MS);
    assert.match(shown.verdict, /Worst output's cosine .* with 2 nodes in float/);
    // The other kind of step: 16-bit activations for the worst layer, which stays quantized.
    const wide = await vscode.commands.executeCommand('onnxqs.keepWorstLayersInFloat', vscode.Uri.file(quantized()), { reference: sample.fsPath, spec: { samples: 4 }, perStep: 1, steps: 1, how: 'int16', result: first });
    assert.deepStrictEqual([wide[1].how, wide[1].in16, wide[1].inFloat], ['int16', steps[1].added, []]);
  });

  it('Compare Models: an impossible cosine fails the output, and the panel says so', async () => {
    const result = await vscode.commands.executeCommand('onnxqs.compareModels', vscode.Uri.file(quantized()), [vscode.Uri.file(quantized()), sample], { spec: { samples: 2 }, minCosine: 1 });
    assert.ok(result);
    assert.strictEqual(path.basename(result.b.file), 'mnist-8.int8.onnx', 'the quantized-looking name goes second');
    assert.strictEqual(result.pass, false);
    await waitFor(() => /outside tolerance/.test((api.lastResultsRendered('compare') || {}).verdict || ''), 'the failing verdict in the panel', PAINT_MS);
  });

  it('an input spec that names no input of the model: undefined, and nothing runs', async () => {
    const result = await vscode.commands.executeCommand('onnxqs.compareWithFp32', vscode.Uri.file(quantized()), { reference: sample.fsPath, spec: { values: { sr: 16000 } } });
    assert.strictEqual(result, undefined);
  });

  it('a provider that cannot start without the CPU allowed: undefined; with it allowed the result says CPU fallback', async function () {
    if (process.platform === 'darwin') this.skip(); // coreml is part of onnxruntime-node there
    const failing = await vscode.commands.executeCommand('onnxqs.compareWithFp32', vscode.Uri.file(quantized()), { reference: sample.fsPath, spec: { samples: 1 }, providers: ['coreml'] });
    assert.strictEqual(failing, undefined, 'coreml is not part of onnxruntime-node on Linux');
    const fallback = await vscode.commands.executeCommand('onnxqs.compareWithFp32', vscode.Uri.file(quantized()), { reference: sample.fsPath, spec: { samples: 1 }, providers: ['coreml'], allowCpuFallback: true });
    assert.ok(fallback);
    assert.strictEqual(fallback.a.provider.used, 'cpu');
    assert.strictEqual(fallback.a.provider.cpuFallback, true);
    assert.match(fallback.a.provider.skipped[0].reason, /not part of onnxruntime-node/);
  });
});
