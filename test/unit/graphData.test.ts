// What the graph view and the weights view receive (src/onnx/graphData.ts): on every shared model, on
// generated models, and the attribute formatting.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { buildTransformer } from '../../bench/transformer';
import { float32Text, formatAttribute, int64Text } from '../../src/onnx/attributes';
import { attribute, floatTensor, int64Tensor, makeModel, modelFromProto, node, tensor, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { OnnxError } from '../../src/onnx/errors';
import { buildGraphData, buildWeightSummaries, channelAxis, weightDetail } from '../../src/onnx/graphData';
import { inspectModel } from '../../src/onnx/inspect';
import { loadModel } from '../../src/onnx/load';
import type { Model } from '../../src/onnx/model';
import { opCategory } from '../../src/onnx/opCategory';
import { AttrType } from '../../src/onnx/proto';
import { tensorStats } from '../../src/onnx/stats';
import type { GraphData } from '../../src/protocol/graph';
import { modelsDir, noModels, sampleModel, sharedModels } from './helpers/models';
import { countOps } from './helpers/wire';

const load = (rel: string) => loadModel(path.join(modelsDir, rel));

/** Checks that hold for every graph of every model. */
function checkGraph(model: Model, g: GraphData): void {
  const info = model.graphs().find((x) => x.path === g.path)!;
  const proto = info.graph.node ?? [];
  assert.equal(g.nodes.length, proto.length, `${g.path}: node count`);
  const names = new Set(g.values.map((v) => v.name));
  assert.equal(names.size, g.values.length, `${g.path}: one value per name`);
  const produced = new Set<number>();
  for (const n of g.nodes) for (const o of n.outputs) if (o >= 0) produced.add(o);
  const weights = model.weights();
  g.nodes.forEach((n, i) => {
    const p = proto[i];
    assert.equal(n.op, p.op_type);
    assert.equal(n.name, p.name ?? '', 'names are kept as they are, empty ones too');
    assert.deepEqual(n.inputs.map((v) => (v < 0 ? '' : g.values[v].name)), p.input ?? []);
    assert.deepEqual(n.outputs.map((v) => (v < 0 ? '' : g.values[v].name)), p.output ?? []);
    assert.equal(n.attributes.length, p.attribute?.length ?? 0);
    for (const v of n.inputs) {
      if (v < 0) continue;
      const value = g.values[v];
      // Every input resolves: produced here, a graph input, a weight, or captured from an enclosing graph.
      assert.ok(produced.has(v) || ['input', 'weight', 'outer'].includes(value.kind), `${g.path}: input ${value.name} of node ${i} does not resolve (${value.kind})`);
    }
  });
  for (const v of g.values) {
    if (v.weight !== undefined) {
      assert.ok(v.kind === 'weight' || v.kind === 'outer');
      assert.equal(weights[v.weight].name, v.name, `${g.path}: weight index of ${v.name}`);
      assert.equal(v.dtype, weights[v.weight].dtypeName);
    }
    if (v.kind === 'weight') assert.notEqual(v.weight, undefined, `${g.path}: ${v.name} is a weight without an index`);
  }
  const outer = new Set(model.outerScopeReferences(info));
  for (const v of g.values) if (v.kind === 'outer') assert.ok(outer.has(v.name), `${g.path}: ${v.name} is not captured`);
  for (const i of g.inputs) assert.equal(g.values[i].kind, 'input');
  assert.deepEqual(g.outputs.map((o) => g.values[o].name), (info.graph.output ?? []).map((o) => o.name));
  for (const n of g.nodes) for (const s of n.subgraphs) assert.ok(model.graphs().some((x) => x.path === s.path), s.path);
  assert.ok(JSON.parse(JSON.stringify(g)), 'plain JSON');
}

describe('buildGraphData on every shared model', { skip: noModels }, () => {
  for (const rel of sharedModels()) {
    it(rel, () => {
      const model = load(rel);
      const ops: Record<string, number> = {};
      let nodes = 0;
      for (const info of model.graphs()) {
        const g = buildGraphData(model, info.path);
        assert.equal(g.path, info.path);
        checkGraph(model, g);
        nodes += g.nodes.length;
        for (const n of g.nodes) ops[n.op] = (ops[n.op] ?? 0) + 1;
      }
      // The same counts as inspect and as an independent protobuf walk.
      const report = inspectModel(model);
      assert.equal(nodes, report.nodeCount);
      assert.deepEqual(ops, countOps(fs.readFileSync(path.join(modelsDir, rel))));
      // The weight list: same order as Model.weights(), and statistics for every numeric weight.
      const summaries = buildWeightSummaries(model, { stats: true });
      assert.deepEqual(summaries.map((s) => s.name), model.weights().map((w) => w.name));
      for (const s of summaries) {
        if (s.elements > 0 && s.dtype !== 'string') {
          assert.ok(s.stats, `${s.name} has stats`);
          assert.equal(s.stats.count + s.stats.nan + s.stats.inf, s.elements);
          assert.ok(s.stats.outlierScore >= 0);
        }
        for (const c of s.consumers) {
          const g = model.graphs().find((x) => x.path === c.graph)!;
          assert.equal(g.graph.node![c.index].input![c.input], s.name);
          assert.equal(g.graph.node![c.index].op_type, c.op);
        }
      }
    });
  }
});

describe('buildGraphData on particular models', { skip: noModels }, () => {
  it('melspectrogram: shapes from graph inputs and outputs, initializers and Constant tensors, inference for the rest', () => {
    const g = buildGraphData(load('openwakeword/melspectrogram.onnx'));
    const value = (name: string) => g.values.find((v) => v.name === name)!;
    assert.deepEqual(value('input'), { name: 'input', dtype: 'float', shape: ['batch_size', 'samples'], kind: 'input' });
    assert.deepEqual(value('output'), { name: 'output', dtype: 'float', shape: ['time', 1, 'Clipoutput_dim_2', 32], kind: 'output' });
    assert.deepEqual(value('0.stft.conv_real.weight'), { name: '0.stft.conv_real.weight', dtype: 'float', shape: [257, 1, 512], kind: 'weight', weight: 0 });
    assert.deepEqual(value('1.melW').shape, [257, 32]);
    assert.deepEqual(value('onnx::Clip_39').shape, []);
    // A Constant node's output: a weight (numbered after the initializers), shape from its tensor.
    const c = value('onnx::Unsqueeze_4');
    assert.equal(c.kind, 'weight');
    assert.deepEqual([c.dtype, c.shape], ['int64', [1]]);
    assert.equal(c.weight, 6);
    // No value_info in this model: intermediate values come from shape inference, the symbolic batch by
    // name, the frame count (computed from the symbolic sample count) unknown.
    assert.deepEqual(value('real'), { name: 'real', dtype: 'float', shape: ['batch_size', 1, null, 257], kind: 'intermediate' });
    assert.deepEqual(g.inputs.map((i) => g.values[i].name), ['input']);
    assert.deepEqual(g.outputs.map((i) => g.values[i].name), ['output']);
    assert.equal(g.label, 'torch-jit-export');
    assert.deepEqual(g.ancestors, []);
    const conv = g.nodes.find((n) => n.name === 'Conv_2')!;
    assert.equal(conv.category, 'conv');
    assert.deepEqual(conv.attributes.map((a) => `${a.name}:${a.type}=${a.value}`),
      ['dilations:ints=[1]', 'group:int=1', 'kernel_shape:ints=[512]', 'pads:ints=[0, 0]', 'strides:ints=[160]']);
    assert.deepEqual(g.nodes[0].attributes, [{ name: 'value', type: 'tensor', value: 'int64[1] {1}' }]);
  });

  it('IR 3 (mnist): initializers listed as graph inputs are weights, not inputs', () => {
    const g = buildGraphData(loadModel(sampleModel));
    assert.deepEqual(g.inputs.map((i) => g.values[i].name), ['Input3']);
    const w = g.values.find((v) => v.name === 'Parameter5')!;
    assert.equal(w.kind, 'weight');
    assert.deepEqual(w.shape, [8, 1, 5, 5]);
    assert.deepEqual(g.values.find((v) => v.name === 'Input3')!.shape, [1, 1, 28, 28]);
  });

  it('Silero v5: the If node names its branches by path, and the branches know their breadcrumb', () => {
    const model = load('silero/silero_vad_v5.onnx');
    const main = buildGraphData(model);
    const ifs = main.nodes.filter((n) => n.op === 'If');
    assert.equal(ifs.length, 1);
    assert.equal(ifs[0].category, 'control');
    assert.deepEqual(ifs[0].subgraphs, [
      { attribute: 'else_branch', path: 'main/If_0.else_branch' },
      { attribute: 'then_branch', path: 'main/If_0.then_branch' },
    ]);
    assert.deepEqual(ifs[0].attributes.map((a) => a.value), ['<graph If_0_else_branch: 113 nodes>', '<graph If_0_then_branch: 113 nodes>']);
    const then = buildGraphData(model, 'main/If_0.then_branch');
    assert.equal(then.label, 'If_0.then_branch');
    assert.deepEqual(then.ancestors, [{ path: 'main', label: 'spox_graph' }]);
    assert.equal(then.nodes.length, 113);
    // Deeper: the decoder's If inside the branch, two levels down (node names contain '/').
    const nested = then.nodes.filter((n) => n.op === 'If').flatMap((n) => n.subgraphs);
    assert.ok(nested.length >= 4);
    const deep = buildGraphData(model, nested[0].path);
    assert.deepEqual(deep.ancestors.map((a) => a.path), ['main', 'main/If_0.then_branch']);
    assert.equal(deep.label, nested[0].path.slice('main/If_0.then_branch/'.length));
    let deepest = 0;
    for (const info of model.graphs()) deepest = Math.max(deepest, buildGraphData(model, info.path).ancestors.length);
    assert.equal(deepest, 4);
  });

  it('Silero v5: values captured from enclosing graphs are `outer`, with their type, and weights keep their index', () => {
    const model = load('silero/silero_vad_v5.onnx');
    const then = buildGraphData(model, 'main/If_0.then_branch');
    const outer = then.values.filter((v) => v.kind === 'outer');
    assert.deepEqual(outer, [
      { name: 'input', dtype: 'float', shape: [null, null], kind: 'outer' },
      { name: 'state', dtype: 'float', shape: [2, null, 128], kind: 'outer' },
    ]);
    // The LSTM branch captures the recurrent weights (Constant nodes of the enclosing branch).
    const lstmGraph = model.graphs().find((g) => (g.graph.node ?? []).some((n) => n.op_type === 'LSTM'))!;
    const g = buildGraphData(model, lstmGraph.path);
    const lstm = g.nodes.find((n) => n.op === 'LSTM')!;
    assert.equal(lstm.category, 'recurrent');
    const captured = g.values.filter((v) => v.kind === 'outer' && v.weight !== undefined);
    assert.ok(captured.length >= 3, 'captured weights');
    const weights = model.weights();
    for (const v of captured) {
      assert.equal(weights[v.weight!].origin, 'constant');
      assert.notEqual(weights[v.weight!].graph, lstmGraph.path);
      assert.deepEqual(v.shape, weights[v.weight!].dims);
    }
    // The weight table lists those consumers in the nested graph.
    const summaries = buildWeightSummaries(model, { stats: false });
    const w = summaries[captured[0].weight!];
    assert.ok(w.consumers.some((c) => c.graph === lstmGraph.path), JSON.stringify(w.consumers));
    assert.equal(w.stats, undefined);
  });

  it('PP-OCR: Constant-node weights are weights of their consumers', () => {
    for (const rel of ['ppocr/ch_PP-OCRv4_det_infer.onnx', 'ppocr/ch_PP-OCRv4_rec_infer.onnx']) {
      const model = load(rel);
      assert.equal(model.proto.graph!.initializer?.length ?? 0, 0, 'no initializers');
      const g = buildGraphData(model);
      const convs = g.nodes.filter((n) => n.op === 'Conv');
      assert.ok(convs.length > 10);
      const weights = model.weights();
      for (const conv of convs) {
        const w = g.values[conv.inputs[1]];
        assert.equal(w.kind, 'weight');
        assert.equal(weights[w.weight!].origin, 'constant');
        assert.equal(w.shape!.length, 4);
      }
      const summaries = buildWeightSummaries(model, { stats: false });
      const first = summaries[g.values[convs[0].inputs[1]].weight!];
      assert.equal(first.origin, 'constant');
      assert.deepEqual(first.consumers.map((c) => [c.op, c.input, c.graph]), [['Conv', 1, 'main']]);
      assert.equal(g.nodes[first.consumers[0].index], convs[0]);
    }
  });

  it('IS-Net: quantized ops are in the quantization category; unnamed nodes stay unnamed', () => {
    const g = buildGraphData(load('imgly/isnet_quint8_dynamic_small.onnx'));
    const cats = new Map<string, string>();
    for (const n of g.nodes) cats.set(n.op, n.category);
    assert.equal(cats.get('ConvInteger'), 'quantization');
    assert.equal(cats.get('DynamicQuantizeLinear'), 'quantization');
    assert.equal(cats.get('Relu'), 'activation');
    assert.equal(cats.get('Resize'), 'shape');
    assert.ok(g.nodes.some((n) => n.name === ''));
    assert.equal(g.outputs.length, 12);
    // What the webview receives for this model stays small.
    assert.ok(JSON.stringify(g).length < 1_000_000, `${JSON.stringify(g).length} bytes`);
  });

  it('an unknown graph path is a not-found error', () => {
    assert.throws(() => buildGraphData(loadModel(sampleModel), 'main/nope'), (e: unknown) => e instanceof OnnxError && e.code === 'not-found');
  });
});

describe('weightDetail', { skip: noModels }, () => {
  /** The detail of a weight's own numbers (a stored-quantized weight's codes: test/unit/dequantize.test.ts has its values). */
  const check = (model: Model, index: number, axis: number, codes = false) => {
    const w = model.weights()[index];
    assert.equal(channelAxis(model, index), axis, `${w.name}: axis`);
    const d = weightDetail(model, index, 32, codes);
    assert.equal(d.index, index);
    assert.equal(d.bins, 32);
    assert.equal(d.histogram.counts.length, 32);
    const stats = tensorStats(w);
    assert.equal(d.histogram.counts.reduce((a, b) => a + b, 0), stats.count);
    assert.ok(d.channels, `${w.name}: channels`);
    assert.equal(d.channels.axis, axis);
    assert.equal(d.channels.min.length, w.dims[axis]);
    // Per-channel ranges lie inside the tensor's range and reach both ends of it.
    for (let c = 0; c < d.channels.min.length; c++) {
      assert.ok(d.channels.min[c] <= d.channels.max[c]);
      assert.ok(d.channels.min[c] >= stats.min && d.channels.max[c] <= stats.max);
    }
    assert.equal(Math.min(...d.channels.min), stats.min);
    assert.equal(Math.max(...d.channels.max), stats.max);
    for (const p of Object.values(d.percentiles)) assert.ok(p >= stats.min && p <= stats.max);
    return d;
  };
  const find = (model: Model, op: string, input = 1) => {
    const g = buildGraphData(model);
    const n = g.nodes.find((x) => x.op === op && g.values[x.inputs[input]]?.weight !== undefined)!;
    return g.values[n.inputs[input]].weight!;
  };

  it('Conv weights (a Constant node in PP-OCR): per output channel, axis 0', () => {
    const model = load('ppocr/ch_PP-OCRv4_det_infer.onnx');
    const d = check(model, find(model, 'Conv'), 0);
    assert.equal(weightDetail(model, d.name, 8).name, d.name, 'by name too');
  });

  it('ConvTranspose weights: axis 1', () => {
    const model = load('ppocr/ch_PP-OCRv4_det_infer.onnx');
    check(model, find(model, 'ConvTranspose'), 1);
  });

  it('ConvInteger weights (uint8, IS-Net): the codes per output channel, axis 0', () => {
    const model = load('imgly/isnet_quint8_dynamic_small.onnx');
    assert.equal(check(model, find(model, 'ConvInteger'), 0, true).values, 'codes');
  });

  it('MatMul B: the last axis; Gemm B with transB: axis 0', () => {
    const mel = load('openwakeword/melspectrogram.onnx');
    check(mel, find(mel, 'MatMul'), 1);
    const jarvis = load('openwakeword/hey_jarvis_v0.1.onnx');
    check(jarvis, find(jarvis, 'Gemm'), 0);
  });

  it('no channels for a weight no Conv/MatMul/Gemm consumes; errors for unknown names', () => {
    const mel = load('openwakeword/melspectrogram.onnx');
    const d = weightDetail(mel, 'onnx::Clip_39', 4);
    assert.equal(d.channels, undefined);
    assert.deepEqual(d.histogram.counts, [1, 0, 0, 0]); // one value: min = max, all in the first bin
    assert.throws(() => weightDetail(mel, 'nope'), (e: unknown) => e instanceof OnnxError && e.code === 'not-found');
    assert.throws(() => weightDetail(mel, 999), (e: unknown) => e instanceof OnnxError && e.code === 'not-found');
  });
});

describe('Gemm without transB and the generated encoder', () => {
  it('Gemm B without transB: axis 1', () => {
    const proto = makeModel({
      graph: {
        name: 'g',
        node: [node('Gemm', ['x', 'B'], ['y'], {}, 'gemm')],
        initializer: [floatTensor('B', [3, 4], Array.from({ length: 12 }, (_, i) => i - 5))],
        input: [valueInfo('x', DataType.FLOAT, [2, 3])],
        output: [valueInfo('y', DataType.FLOAT, [2, 4])],
      },
    });
    const model = modelFromProto(proto);
    assert.equal(channelAxis(model, 0), 1);
    const d = weightDetail(model, 'B', 4);
    assert.deepEqual(d.channels, { axis: 1, min: [-5, -4, -3, -2], max: [3, 4, 5, 6] });
  });

  it('a generated 10,000-node encoder stays below a few MB of JSON', () => {
    const model = modelFromProto(buildTransformer({ layers: 300, hidden: 96, heads: 4, ffn: 384, vocab: 1000, seed: 20240917, version: 1 }));
    const g = buildGraphData(model);
    assert.equal(g.nodes.length, 300 * 31 + 2);
    checkGraph(model, g);
    const bytes = JSON.stringify(g).length;
    assert.ok(bytes < 4_000_000, `${bytes} bytes`);
    const summaries = buildWeightSummaries(model, { stats: false });
    assert.ok(JSON.stringify(summaries).length < 4_000_000);
  });
});

describe('attribute formatting', () => {
  const fmt = (name: string, value: Parameters<typeof attribute>[1]) => formatAttribute(attribute(name, value)).value;

  it('ints, floats and strings', () => {
    assert.equal(fmt('axis', -1), '-1');
    assert.equal(fmt('epsilon', Math.fround(1e-5)), '0.00001');
    assert.equal(fmt('alpha', Math.fround(0.1)), '0.1');
    assert.equal(fmt('perm', { ints: [0, 2, 1, 3] }), '[0, 2, 1, 3]');
    assert.equal(fmt('pads', { ints: Array.from({ length: 20 }, (_, i) => i) }), '[0, 1, 2, 3, 4, 5, 6, 7, … (20)]');
    assert.equal(fmt('scales', { floats: [Math.fround(1.5), Math.fround(0.3)] }), '[1.5, 0.3]');
    assert.equal(fmt('mode', '<b>nearest</b>'), '<b>nearest</b>', 'strings are not escaped here: the UI does that');
    assert.equal(fmt('names', ['a', 'b"c']), '["a", "b\\"c"]');
    assert.equal(formatAttribute(attribute('axis', 1)).type, 'int');
    assert.equal(formatAttribute(attribute('perm', { ints: [1] })).type, 'ints');
  });

  it('int64 values stay exact (INT64_MAX in Slice ends)', () => {
    assert.equal(int64Text({ low: -1, high: 0x7fffffff }), '9223372036854775807');
    assert.equal(int64Text({ low: 0, high: -0x80000000 }), '-9223372036854775808');
    assert.equal(int64Text({ low: 5, high: 0 }), '5');
    assert.equal(formatAttribute({ name: 'ends', type: AttrType.INTS, ints: [{ low: -1, high: 0x7fffffff }] }).value, '[9223372036854775807]');
  });

  it('floats print as the shortest decimal of their float32', () => {
    assert.equal(float32Text(Math.fround(0.2)), '0.2');
    assert.equal(float32Text(Math.fround(1 / 3)), '0.33333334');
    assert.equal(float32Text(3), '3');
    assert.equal(float32Text(-Infinity), '-Infinity');
  });

  it('tensors are summarised, never sent whole; graphs by name and size', () => {
    assert.equal(fmt('value', floatTensor('t', [3, 3], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])), 'float[3,3] {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, …}');
    assert.equal(fmt('value', int64Tensor('t', [2], [7, -1])), 'int64[2] {7, -1}');
    assert.equal(fmt('value', floatTensor('t', [], [2])), 'float[] {2}');
    assert.equal(fmt('value', floatTensor('t', [0], [])), 'float[0] {}');
    assert.equal(fmt('value', tensor('t', DataType.FLOAT16, [2], new Uint16Array([0x3c00, 0xc000]))), 'float16[2] {1, -2}');
    // float_data (typed fields), as older exporters write them.
    assert.equal(formatAttribute({ name: 'value', type: AttrType.TENSOR, t: { data_type: DataType.FLOAT, dims: [2], float_data: [1.5, -2] } }).value, 'float[2] {1.5, -2}');
    const big = new Float32Array(1 << 20).fill(1);
    assert.equal(fmt('value', tensor('t', DataType.FLOAT, [1024, 1024], big)), 'float[1024,1024] {1, 1, 1, 1, 1, 1, …}');
    const body = { name: 'body', node: [node('Identity', ['a'], ['b']), node('Identity', ['b'], ['c'])], output: [] };
    assert.equal(fmt('then_branch', body), '<graph body: 2 nodes>');
    assert.equal(formatAttribute(attribute('then_branch', body)).type, 'graph');
  });

  it('op categories', () => {
    const cases: Record<string, string> = {
      Conv: 'conv', ConvTranspose: 'conv', MatMul: 'matmul', Gemm: 'matmul', Relu: 'activation', Softmax: 'activation',
      LayerNormalization: 'normalization', MaxPool: 'pool', Add: 'elementwise', ReduceMean: 'reduce', Reshape: 'shape',
      QuantizeLinear: 'quantization', QLinearConv: 'quantization', MatMulNBits: 'quantization', MatMulInteger: 'quantization',
      If: 'control', Loop: 'control', LSTM: 'recurrent', Constant: 'constant', SomethingNew: 'other', ReduceFoo: 'reduce',
    };
    for (const [op, cat] of Object.entries(cases)) assert.equal(opCategory(op), cat, op);
  });
});
