import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { inspectFileSync } from '../../src/onnx/inspect';
import { sparkline } from '../../src/onnx/reportText';
import { expected, modelsDir, noModels, repoRoot, sampleModel, sharedModels } from './helpers/models';
import { countOps } from './helpers/wire';

const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src', 'cli.ts'), ...args], { encoding: 'utf8', cwd: repoRoot });

describe('inspect on the shipped sample', () => {
  it('reports mnist-8 as the model zoo describes it', () => {
    const r = inspectFileSync(sampleModel);
    assert.equal(r.irVersion, 3);
    assert.deepEqual(r.opsets, { 'ai.onnx': 8 });
    assert.equal(r.producer, 'CNTK');
    assert.equal(r.producerVersion, '2.5.1');
    // IR 3 lists the 8 initializers as graph inputs too: they are not inputs.
    assert.deepEqual(r.inputs, [{ name: 'Input3', dtype: 'float', shape: [1, 1, 28, 28] }]);
    assert.deepEqual(r.outputs, [{ name: 'Plus214_Output_0', dtype: 'float', shape: [1, 10] }]);
    assert.equal(r.nodeCount, 12);
    assert.deepEqual(r.opHistogram, { Conv: 2, Add: 3, Relu: 2, MaxPool: 2, Reshape: 2, MatMul: 1 });
    assert.deepEqual(r.parameters, { count: 5998, bytes: 24008, byDtype: { float: { count: 5994, bytes: 23976 }, int64: { count: 4, bytes: 32 } } });
    assert.equal(r.tensors[0].name, 'Parameter87');
    assert.deepEqual(r.tensors[0].shape, [16, 8, 5, 5]);
  });

  it('`onnxq inspect --json --stats` prints one object with the documented keys', () => {
    const res = cli(['inspect', sampleModel, '--json', '--stats', '--largest', '3']);
    assert.equal(res.status, 0, res.stderr);
    const r = JSON.parse(res.stdout);
    for (const key of ['irVersion', 'opsets', 'producer', 'inputs', 'outputs', 'nodeCount', 'opHistogram', 'parameters', 'tensors']) assert.ok(key in r, key);
    assert.equal(r.tensors.length, 3);
    const s = r.tensors[0].stats;
    assert.equal(s.histogram.counts.reduce((a: number, b: number) => a + b, 0), 16 * 8 * 5 * 5);
    assert.ok(s.min < s.mean && s.mean < s.max);
  });

  it('prints a readable text summary', () => {
    const res = cli(['inspect', sampleModel]);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /IR version 3; opsets ai\.onnx 8/);
    assert.match(res.stdout, /Input3\s+float\s+\[1, 1, 28, 28\]/);
    assert.match(res.stdout, /Parameters: 5,998/);
  });

  it('`--stats` in text shows what it computes: percentiles, NaN/Inf counts and the histogram', () => {
    const res = cli(['inspect', sampleModel, '--stats', '--largest', '2']);
    assert.equal(res.status, 0, res.stderr);
    const r = inspectFileSync(sampleModel, { stats: true, largest: 2, bins: 64 });
    const st = r.tensors[0].stats!;
    const block = res.stdout.slice(res.stdout.indexOf('Distributions'));
    assert.match(block, new RegExp(`  ${r.tensors[0].name}\n    p1 \\S+  p50 \\S+  p99 \\S+  NaN 0  Inf 0\n    (.+)  \\(64 bins, `));
    const line = new RegExp(`  ${r.tensors[0].name}\n.*\n    (.+)  \\(64 bins`).exec(block)![1];
    assert.equal(line, sparkline(st.histogram.counts), 'the histogram as the core counted it');
  });

  it('`--shapes` lists every value of the main graph with dtype and shape; with input flags, those of their first sample', () => {
    const res = cli(['inspect', sampleModel, '--shapes', '--json']);
    assert.equal(res.status, 0, res.stderr);
    const r = JSON.parse(res.stdout);
    const by = Object.fromEntries(r.valueInfo.map((v: { name: string }) => [v.name, v]));
    // mnist-8 declares no value_info: the intermediate shapes are inferred (Conv 5x5 same-padded, MaxPool 2x2 then 3x3).
    assert.deepEqual(by.Convolution28_Output_0, { name: 'Convolution28_Output_0', dtype: 'float', shape: [1, 8, 28, 28] });
    assert.deepEqual(by.Pooling160_Output_0.shape, [1, 16, 4, 4]);
    assert.deepEqual(by.Plus214_Output_0.shape, [1, 10]);
    assert.equal(r.valueInfo.length, 12 + 8 + 1, 'every node output, initializer and input');
    const text = cli(['inspect', sampleModel, '--shapes']);
    assert.match(text.stdout, /Values \(21, main graph\)\n[^]*Times212_Output_0\s+float\s+\[1, 10\]/);
    const usage = cli(['inspect', sampleModel, '--dims', 'batch=2']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--dims describes the inputs for --shapes; add --shapes/);
  });

  it('a histogram as one line of blocks: scaled to the tallest, empty bins blank, at most 48 wide', () => {
    assert.equal(sparkline([0, 1, 2, 4]), ' ▃▅█');
    assert.equal(sparkline([0, 0]), '  ');
    const wide = sparkline(Array.from({ length: 96 }, (_, i) => (i < 2 ? 1 : 0)));
    assert.equal(wide.length, 48);
    assert.equal(wide[0], '█', 'two bins summed into one cell');
  });
});

describe('inspect on every shared model', { skip: noModels }, () => {
  for (const rel of sharedModels()) {
    it(rel, () => {
      const file = path.join(modelsDir, rel);
      const r = inspectFileSync(file, { stats: true, largest: Number.MAX_SAFE_INTEGER });
      // Statistics cover every element of every numeric weight exactly once.
      let counted = 0;
      for (const t of r.tensors) if (t.stats) counted += t.stats.count + t.stats.nan + t.stats.inf;
      const numeric = r.tensors.filter((t) => t.dtype !== 'string').reduce((a, t) => a + t.elements, 0);
      assert.equal(counted, numeric);
      assert.equal(r.tensors.reduce((a, t) => a + t.elements, 0), r.parameters.count, 'every weight is listed');
      // Op counts must match a count made by an independent wire-format walker.
      const ops = countOps(fs.readFileSync(file));
      assert.deepEqual(r.opHistogram, ops);
      assert.equal(r.nodeCount, Object.values(ops).reduce((a, b) => a + b, 0));
      const want = expected[rel];
      if (want) {
        assert.equal(r.irVersion, want.irVersion);
        assert.equal(r.nodeCount, want.nodeCount);
        assert.equal(r.parameters.count, want.params);
        assert.deepEqual(Object.fromEntries(Object.entries(r.parameters.byDtype).map(([k, v]) => [k, v.bytes])), want.bytesByDtype);
        assert.deepEqual(r.inputs.map((i) => i.name), want.inputs);
      }
    });
  }

  it('names symbolic dims and leaves unknown ones null', () => {
    const r = inspectFileSync(path.join(modelsDir, 'silero/silero_vad_v5.onnx'));
    assert.deepEqual(r.inputs.find((i) => i.name === 'state')?.shape, [2, null, 128]);
    assert.deepEqual(r.inputs.find((i) => i.name === 'sr'), { name: 'sr', dtype: 'int64', shape: [] });
    const det = inspectFileSync(path.join(modelsDir, 'ppocr/ch_PP-OCRv4_det_infer.onnx'));
    assert.deepEqual(det.inputs[0].shape, ['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2']);
  });

  it('lists external data files', () => {
    const r = inspectFileSync(path.join(modelsDir, 'external/mnist_external.onnx'));
    assert.equal(r.externalData.length, 1);
    assert.equal(r.externalData[0].location, 'mnist_external.onnx.data');
    assert.equal(r.externalData[0].tensors, 2);
  });

  it('reports the unused ORT-internal opset imports of the IS-Net model', () => {
    const r = inspectFileSync(path.join(modelsDir, 'imgly/isnet_quint8_dynamic_small.onnx'));
    assert.equal(r.opsets['com.microsoft'], 1);
    assert.equal(r.opHistogram.ConvInteger, 119);
    assert.equal(r.opHistogram.DynamicQuantizeLinear, 119);
  });
});
