// The quantizer's rewrite on models made in code: the emitted patterns (checked op by op and against a JS
// reference of their ONNX semantics), where weights may live (initializers, Constant nodes, behind a
// Reshape, in an enclosing graph of an If branch, shared), Gemm folding, Conv, name filters, opset
// upgrades, already-quantized layers, and the weight-only MatMulNBits layout, all run in onnxruntime-node.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { floatTensor, int64Tensor, makeModel, modelFromProto, node, tensor, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { loadModel } from '../../src/onnx/load';
import { constantTensor, type Model } from '../../src/onnx/model';
import { int64, type GraphProto, type ModelProto, type TensorProto } from '../../src/onnx/proto';
import { writeModel } from '../../src/onnx/write';
import { QuantizeError } from '../../src/quantize/errors';
import { quantizeModel, type QuantizeOptions, type QuantizeReport } from '../../src/quantize/index';
import { dequantizeBlockwise, dynamicQuantizeLinear, transpose2d } from '../../src/quantize/math';
import { optimizedOpCounts } from '../../src/runtime/check';
import { gemmMlpModel } from '../../bench/quantize-models';
import { cosineSimilarity as cosine } from '../../src/runtime/compare';
import { randn } from './helpers/quantize';

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-qgraph-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const F = DataType.FLOAT;
let counter = 0;

function model(graph: GraphProto, opset = 17, irVersion = 8, extraOpsets?: Record<string, number>): Model {
  return modelFromProto(makeModel({ graph, opset, irVersion, extraOpsets }));
}

/** Quantizes `m` (in memory) and writes both the original and the result; returns the files and report. */
function quantize(m: ModelProto | Model, options: QuantizeOptions = {}): { fp32: string; q: string; report: QuantizeReport; model: Model } {
  const base = path.join(tmp, `m${counter++}`);
  const src = 'proto' in m ? m : modelFromProto(m);
  writeModel(src, `${base}.fp32.onnx`);
  const { model: out, report } = quantizeModel(loadModel(`${base}.fp32.onnx`), options);
  writeModel(out, `${base}.q.onnx`);
  return { fp32: `${base}.fp32.onnx`, q: `${base}.q.onnx`, report, model: loadModel(`${base}.q.onnx`) };
}

async function run(file: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  try { return await s.run(feeds); } finally { await s.release(); }
}

const input = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
const ops = (m: Model, graph = 0) => (m.graphs()[graph].graph.node ?? []).map((n) => n.op_type);
const weight = (m: Model, name: string) => m.weights().find((w) => w.name === name);

function matmulGraph(K: number, N: number, seed = 1): GraphProto {
  return {
    name: 'mm',
    node: [node('Relu', ['x'], ['h'], {}, 'pre'), node('MatMul', ['h', 'W'], ['y0'], {}, 'mm'), node('Sigmoid', ['y0'], ['y'], {}, 'post')],
    initializer: [tensor('W', F, [K, N], randn(seed, K * N, 0.1))],
    input: [valueInfo('x', F, ['rows', K])], output: [valueInfo('y', F, ['rows', N])],
  };
}

describe('quantize graph: dynamic MatMul', () => {
  it('emits DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(x_scale * w_scale) in place, and onnxruntime fuses it', async () => {
    const K = 64, N = 24;
    const { q, report, model: m } = quantize(model(matmulGraph(K, N)));
    assert.deepEqual(ops(m), ['Relu', 'DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Mul', 'Mul', 'Sigmoid']);
    assert.deepEqual(report.quantized, ['mm']);
    assert.equal(weight(m, 'W'), undefined, 'the float weight is gone');
    const wq = weight(m, 'W_quantized')!, ws = weight(m, 'W_scale')!, wz = weight(m, 'W_zero_point')!;
    assert.deepEqual([wq.dtypeName, wq.dims], ['int8', [K, N]]);
    assert.deepEqual([ws.dtypeName, ws.dims, wz.dtypeName, wz.dims], ['float', [], 'int8', []]);
    const [dql, mmi, cast, mul1, mul2] = m.proto.graph!.node!.slice(1, 6);
    assert.deepEqual(mmi.input, [dql.output![0], 'W_quantized', dql.output![2], 'W_zero_point']);
    assert.equal(int64(cast.attribute![0].i), DataType.FLOAT);
    assert.deepEqual(mul1.input, [dql.output![1], 'W_scale']);
    assert.deepEqual(mul2.input, [cast.output![0], mul1.output![0]]);
    assert.equal(mul2.output![0], 'y0', 'the product keeps the original output name');
    assert.equal(report.weights.length, 1);
    assert.ok(report.weights[0].sqnr! > 35, `SQNR ${report.weights[0].sqnr}`);
    assert.ok((await optimizedOpCounts(q))['com.microsoft:DynamicQuantizeMatMul'] === 1);

    // onnxruntime computes what the pattern means: DynamicQuantizeLinear, integer products, one rescale.
    const rows = 5, x = randn(7, rows * K);
    const y = (await run(q, { x: input(x, [rows, K]) })).y.data as Float32Array;
    const h = x.map((v) => Math.max(v, 0));
    const dq = dynamicQuantizeLinear(h);
    const W = wq.values(), s = Math.fround(dq.scale * ws.values()[0]);
    for (let i = 0; i < rows; i++) for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += (dq.y[i * K + k] - dq.zeroPoint) * W[k * N + j];
      const want = 1 / (1 + Math.exp(-acc * s));
      assert.ok(Math.abs(y[i * N + j] - want) < 1e-5, `y[${i}, ${j}] = ${y[i * N + j]}, want ${want}`);
    }
  });

  it('per-channel: one scale (and zero point) per output feature; uint8 asymmetric weights get computed zero points', async () => {
    const K = 48, N = 16;
    const x = input(randn(3, 8 * K), [8, K]);
    for (const options of [{ perChannel: true }, { weightType: 'uint8' }, { weightType: 'uint8', perChannel: true }, { reduceRange: true }] as QuantizeOptions[]) {
      const { fp32, q, model: m, report } = quantize(model(matmulGraph(K, N, 9)), options);
      const pc = !!options.perChannel;
      assert.deepEqual(weight(m, 'W_scale')!.dims, pc ? [N] : []);
      assert.deepEqual(weight(m, 'W_zero_point')!.dims, pc ? [N] : []);
      assert.equal(weight(m, 'W_quantized')!.dtypeName, options.weightType ?? 'int8');
      if (options.weightType === 'uint8') assert.ok([...weight(m, 'W_zero_point')!.values()].some((z) => z !== 0 && z !== 128));
      if (options.reduceRange) assert.ok(Math.max(...weight(m, 'W_quantized')!.values().map(Math.abs)) <= 64);
      const c = cosine((await run(fp32, { x })).y.data as Float32Array, (await run(q, { x })).y.data as Float32Array);
      assert.ok(c > 0.9995, `${JSON.stringify(options)}: cosine ${c}`);
      assert.match(report.weights[0].scheme, pc ? /per-channel/ : /per-tensor/);
    }
  });

  it('skips MatMuls without a constant 2-D float32 weight, saying why', () => {
    const g: GraphProto = {
      name: 'skips',
      node: [
        node('MatMul', ['x', 'z'], ['a'], {}, 'activations'),
        node('MatMul', ['W3', 'x'], ['b'], {}, 'constant-first'),
        node('MatMul', ['x', 'W3'], ['c'], {}, 'three-d'),
        node('MatMul', ['x16', 'W16'], ['d'], {}, 'half'),
        node('MatMul', ['x', 'Ws'], ['e'], {}, 'sparse'),
      ],
      initializer: [tensor('W3', F, [2, 8, 8], new Float32Array(128)), tensor('W16', DataType.FLOAT16, [8, 8], new Uint16Array(64))],
      sparse_initializer: [{ values: floatTensor('Ws', [2], [1, 2]), indices: int64Tensor('Ws_i', [2], [0, 9]), dims: [8, 8] }],
      input: [valueInfo('x', F, [2, 8, 8]), valueInfo('z', F, [2, 8, 8]), valueInfo('x16', DataType.FLOAT16, [8, 8])],
      output: [valueInfo('a', F, null), valueInfo('b', F, null), valueInfo('c', F, null), valueInfo('d', DataType.FLOAT16, null), valueInfo('e', F, null)],
    };
    const { report } = quantizeModel(model(g));
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.name, s.reason]));
    assert.match(reasons.activations, /weight "z" is a graph input, not a constant/);
    assert.match(reasons['constant-first'], /the constant is input A/);
    assert.match(reasons['three-d'], /has shape \[2, 8, 8\]; only 2-D weights/);
    assert.match(reasons.half, /is float16; only float32 weights/);
    assert.match(reasons.sparse, /weight "Ws" is a sparse tensor; only dense weights/);
    assert.deepEqual(report.quantized, []);
    assert.match(report.notes.join(), /nothing was quantized/);
  });
});

describe('quantize graph: where weights live', () => {
  it('Constant-node weights, weights behind a Reshape, IR-3 initializers listed as inputs', async () => {
    const K = 32, N = 8;
    const g: GraphProto = {
      name: 'places',
      node: [
        node('Constant', [], ['Wc'], { value: floatTensor('Wc', [K, N], randn(1, K * N, 0.2)) }, 'const_w'),
        node('MatMul', ['x', 'Wc'], ['a'], {}, 'from_constant'),
        node('Reshape', ['Wflat', 'shape'], ['Wr'], {}, 'reshape_w'),
        node('MatMul', ['x', 'Wr'], ['b'], {}, 'from_reshape'),
        node('Add', ['a', 'b'], ['y'], {}, 'sum'),
      ],
      initializer: [tensor('Wflat', F, [K * N], randn(2, K * N, 0.2)), int64Tensor('shape', [2], [K, -1])],
      input: [valueInfo('x', F, [4, K]), valueInfo('Wflat', F, [K * N]), valueInfo('shape', DataType.INT64, [2])],
      output: [valueInfo('y', F, [4, N])],
    };
    const { fp32, q, report, model: m } = quantize(model(g, 9, 3));
    assert.deepEqual(report.quantized, ['from_constant', 'from_reshape']);
    assert.deepEqual(report.weights.map((w) => [w.name, w.shape]), [['Wc', [K, N]], ['Wflat', [K, N]]]);
    assert.ok(!ops(m).includes('Constant') && !ops(m).includes('Reshape'), 'the float weights and the Reshape are gone');
    assert.deepEqual(m.proto.graph!.input!.map((v) => v.name), ['x'], 'quantized initializers (and the unused Reshape shape) leave the input list');
    assert.deepEqual(report.opsetUpgrade, { from: 9, to: 11, rewritten: [] });
    const x = { x: input(randn(3, 4 * K), [4, K]) };
    const c = cosine((await run(fp32, x)).y.data as Float32Array, (await run(q, x)).y.data as Float32Array);
    assert.ok(c > 0.999, `cosine ${c}`);
  });

  it('weights of an enclosing graph read inside If branches; quantized tensors stay where the weight was', async () => {
    const K = 16, N = 12;
    const branch = (name: string, w: string): GraphProto => ({
      name, node: [node('MatMul', ['x', w], [`${name}_y`], {}, `${name}_mm`)], output: [valueInfo(`${name}_y`, F, [2, N])],
    });
    const g: GraphProto = {
      name: 'if',
      node: [node('If', ['cond'], ['y'], { then_branch: branch('then', 'W1'), else_branch: branch('else', 'W2') }, 'if')],
      initializer: [tensor('W1', F, [K, N], randn(4, K * N, 0.3)), tensor('W2', F, [K, N], randn(5, K * N, 0.3))],
      input: [valueInfo('x', F, [2, K]), valueInfo('cond', DataType.BOOL, [])],
      output: [valueInfo('y', F, [2, N])],
    };
    const { fp32, q, report, model: m } = quantize(model(g));
    assert.deepEqual(report.quantized, ['then_mm', 'else_mm']);
    assert.deepEqual(ops(m, 1), ['DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Mul', 'Mul']);
    assert.ok(m.proto.graph!.initializer!.some((t) => t.name === 'W1_quantized'), 'in the main graph, beside the float weight it replaces');
    assert.equal((await optimizedOpCounts(q))['com.microsoft:DynamicQuantizeMatMul'], 2);
    for (const cond of [true, false]) {
      const feeds = { x: input(randn(6, 2 * K), [2, K]), cond: new ort.Tensor('bool', Uint8Array.of(cond ? 1 : 0), []) };
      const c = cosine((await run(fp32, feeds)).y.data as Float32Array, (await run(q, feeds)).y.data as Float32Array);
      assert.ok(c > 0.999, `cond ${cond}: cosine ${c}`);
    }
  });

  it('a weight shared by two MatMuls is quantized once', () => {
    const g: GraphProto = {
      name: 'shared',
      node: [node('MatMul', ['x', 'W'], ['a'], {}, 'one'), node('MatMul', ['a', 'W'], ['y'], {}, 'two')],
      initializer: [tensor('W', F, [8, 8], randn(8, 64))],
      input: [valueInfo('x', F, [1, 8])], output: [valueInfo('y', F, [1, 8])],
    };
    const { report, model: m } = quantize(model(g));
    assert.deepEqual(report.weights.map((w) => [w.name, w.nodes]), [['W', ['one', 'two']]]);
    assert.equal(m.weights().filter((w) => w.name.startsWith('W_quantized')).length, 1);
  });
});

describe('quantize graph: Gemm and Conv', () => {
  it('Gemm with transB, alpha, beta and C of [N] or [1, N] becomes MatMulInteger + Add, and stays accurate', async () => {
    const { fp32, q, report, model: m } = quantize(gemmMlpModel(3));
    assert.deepEqual(report.quantized, ['fc1', 'fc2', 'fc3']);
    assert.deepEqual(report.weights.map((w) => [w.name, w.shape]), [['fc1.weight', [64, 48]], ['fc2.weight', [48, 32]], ['fc3.weight', [32, 16]]]);
    assert.ok(!ops(m).includes('Gemm'));
    assert.equal(ops(m).filter((o) => o === 'Add').length, 2, 'fc1 and fc2 have a C; fc3 has none');
    assert.ok(weight(m, 'fc1.bias_scaled'), 'beta = 1.5 folded into a scaled copy of C');
    const opt = await optimizedOpCounts(q);
    assert.equal(opt['com.microsoft:DynamicQuantizeMatMul'], 3);
    const x = { x: input(randn(11, 64 * 64), [64, 64]) };
    const c = cosine((await run(fp32, x)).y.data as Float32Array, (await run(q, x)).y.data as Float32Array);
    assert.ok(c > 0.999, `cosine ${c}`);
  });

  it('per-channel Gemm: one scale per output feature whichever way B is stored, alpha folded into the scales', () => {
    const proto = gemmMlpModel(3);
    const stored = modelFromProto(proto).weights().find((w) => w.name === 'fc1.weight')!.values(); // [48, 64], transB = 1, alpha 0.5
    const { model: m } = quantize(proto, { perChannel: true });
    const scales = weight(m, 'fc1.weight_transposed_scale')!.values();
    assert.equal(scales.length, 48);
    for (let n = 0; n < 48; n++) {
      let absmax = 0;
      for (let k = 0; k < 64; k++) absmax = Math.max(absmax, Math.abs(stored[n * 64 + k]));
      assert.equal(scales[n], Math.fround(Math.fround(absmax / 127) * 0.5), `feature ${n}`);
    }
    assert.deepEqual(weight(m, 'fc1.weight_transposed_quantized')!.dims, [64, 48]);
    assert.equal(weight(m, 'fc2.weight_scale')!.values().length, 32, 'transB = 0: the columns of [48, 32]');
  });

  it('Gemm that cannot be rewritten is skipped with the reason', () => {
    const g: GraphProto = {
      name: 'gemm_skips',
      node: [
        node('Gemm', ['x', 'W'], ['a'], { transA: 1 }, 'trans_a'),
        node('Gemm', ['x', 'W', 'c'], ['b'], { beta: 0.5 }, 'beta_input'),
      ],
      initializer: [tensor('W', F, [4, 4], randn(1, 16))],
      input: [valueInfo('x', F, [4, 4]), valueInfo('c', F, [4, 4])],
      output: [valueInfo('a', F, null), valueInfo('b', F, null)],
    };
    const { report } = quantizeModel(model(g));
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.name, s.reason]));
    assert.match(reasons.trans_a, /transA = 1/);
    assert.match(reasons.beta_input, /beta is 0.5 and C "c" is not a constant/);
  });

  it('Conv becomes ConvInteger with uint8 weights (per channel with one zero point 128 by default, or per tensor)', async () => {
    const M = 8, C = 3;
    const g: GraphProto = {
      name: 'conv',
      node: [node('Conv', ['x', 'W', 'B'], ['c'], { pads: [1, 1, 1, 1], strides: [2, 2], kernel_shape: [3, 3] }, 'conv'), node('Relu', ['c'], ['y'], {}, 'relu')],
      initializer: [tensor('W', F, [M, C, 3, 3], randn(12, M * C * 9, 0.3)), tensor('B', F, [M], randn(13, M, 0.1))],
      input: [valueInfo('x', F, [1, C, 16, 16])], output: [valueInfo('y', F, [1, M, 8, 8])],
    };
    const x = { x: input(randn(14, C * 256), [1, C, 16, 16]) };
    for (const perChannel of [false, undefined]) {
      const { fp32, q, report, model: m } = quantize(model(g), { ...(perChannel === false ? { perChannel } : {}), opTypes: ['Conv'] });
      assert.match(report.weights[0].scheme, perChannel === false ? /per-tensor/ : /per-channel/);
      assert.deepEqual(ops(m), ['DynamicQuantizeLinear', 'ConvInteger', 'Cast', 'Mul', 'Mul', 'Add', 'Relu']);
      const ci = m.proto.graph!.node![1];
      assert.deepEqual(ci.attribute!.map((a) => a.name).sort(), ['kernel_shape', 'pads', 'strides']);
      assert.equal(weight(m, 'W_quantized')!.dtypeName, 'uint8');
      assert.deepEqual(weight(m, 'W_scale')!.dims, perChannel === false ? [] : [M, 1, 1]);
      assert.deepEqual(weight(m, 'W_zero_point')!.dims, []);
      if (perChannel === undefined) assert.equal(weight(m, 'W_zero_point')!.values()[0], 128);
      assert.deepEqual(weight(m, 'B_reshaped')!.dims, [M, 1, 1]);
      assert.match(report.notes.join(), /uint8/);
      const c = cosine((await run(fp32, x)).y.data as Float32Array, (await run(q, x)).y.data as Float32Array);
      assert.ok(c > 0.999, `perChannel ${perChannel}: cosine ${c}`);
    }
  });
});

describe('quantize graph: choosing nodes', () => {
  const chain = (): GraphProto => {
    const nodes = [], inits = [];
    let x = 'x';
    for (let i = 0; i < 5; i++) {
      nodes.push(node('MatMul', [x, `W${i}`], [`h${i}`], {}, `layer${i}.mm`));
      inits.push(tensor(`W${i}`, F, [8, 8], randn(20 + i, 64, 0.3)));
      x = `h${i}`;
    }
    return { name: 'chain', node: nodes, initializer: inits, input: [valueInfo('x', F, [1, 8])], output: [valueInfo(x, F, [1, 8])] };
  };
  const pick = (options: QuantizeOptions) => {
    const { report } = quantizeModel(model(chain()), options);
    return { q: report.quantized, skipped: Object.fromEntries(report.skipped.map((s) => [s.name, s.reason])), notes: report.notes };
  };

  it('exclude and include by name or glob', () => {
    let r = pick({ exclude: ['layer1.mm', 'layer3.*'] });
    assert.deepEqual(r.q, ['layer0.mm', 'layer2.mm', 'layer4.mm']);
    assert.match(r.skipped['layer3.mm'], /excluded by --exclude "layer3\.\*"/);
    r = pick({ include: ['layer?.mm'], exclude: ['layer0.mm'] });
    assert.deepEqual(r.q, ['layer1.mm', 'layer2.mm', 'layer3.mm', 'layer4.mm']);
    r = pick({ include: ['layer2.mm'] });
    assert.deepEqual(r.q, ['layer2.mm']);
    assert.match(r.skipped['layer1.mm'], /not matched by --include/);
  });

  it('a pattern that matches no node is an error naming the nodes that can be quantized', () => {
    const cases: [string, QuantizeOptions][] = [['--include', { include: ['layer2.mm', 'nosuch*'] }], ['--exclude', { exclude: ['Layer1.mm'] }]];
    for (const [flag, options] of cases) {
      assert.throws(() => pick(options), (e: unknown) => e instanceof QuantizeError && e.code === 'invalid-options'
        && e.message === `${flag} "${flag === '--include' ? 'nosuch*' : 'Layer1.mm'}" matches no node of the model; the nodes it can quantize are "layer0.mm", "layer1.mm", "layer2.mm", "layer3.mm", "layer4.mm" (globs with * and ? match several)`);
    }
  });

  it('keep the first and last layers in float', () => {
    const r = pick({ keepFirstLayer: true, keepLastLayer: true });
    assert.deepEqual(r.q, ['layer1.mm', 'layer2.mm', 'layer3.mm']);
    assert.match(r.skipped['layer0.mm'], /first quantizable node/);
    assert.match(r.skipped['layer4.mm'], /last quantizable node/);
  });

  it('op types; Conv only when named in dynamic mode', () => {
    const { report } = quantizeModel(gemmMlpModelAsModel(), { opTypes: ['MatMul'] });
    assert.deepEqual(report.quantized, []);
    assert.match(report.notes.join(), /no MatMul node/);
    const conv: GraphProto = {
      name: 'conv', node: [node('Conv', ['x', 'W'], ['y'], {}, 'conv')], initializer: [tensor('W', F, [2, 1, 1, 1], Float32Array.of(1, 2))],
      input: [valueInfo('x', F, [1, 1, 2, 2])], output: [valueInfo('y', F, [1, 2, 2, 2])],
    };
    const byDefault = quantizeModel(model(conv)).report;
    assert.deepEqual(byDefault.quantized, []);
    assert.match(byDefault.notes.join(), /1 Conv node was left in float: dynamic ConvInteger is not faster/);
    assert.deepEqual(quantizeModel(model(conv), { opTypes: ['Conv'] }).report.quantized, ['conv']);
  });
});

function gemmMlpModelAsModel(): Model { return modelFromProto(gemmMlpModel(3)); }

describe('quantize graph: weights computed from constants are folded first', () => {
  for (const opset of [11, 13]) {
    it(`opset ${opset}: Transpose, Squeeze/Unsqueeze (attributes or inputs), a reversed Slice and Concat before MatMul`, async () => {
      const K = 32, N = 16;
      const W = randn(40, K * N, 0.2);
      const axes = (name: string, values: number[]): { inputs: TensorProto[]; attr: Record<string, number[]> } =>
        (opset >= 13 ? { inputs: [int64Tensor(name, [values.length], values)], attr: {} } : { inputs: [], attr: { axes: values } });
      const un = axes('un_axes', [0]), sq = axes('sq_axes', [0]);
      const g: GraphProto = {
        name: 'folded',
        node: [
          // W stored as [N, K]: transposed at run time.
          node('Constant', [], ['wt'], { value: floatTensor('wt_value', [N, K], transpose2d(W, K, N)) }, 'w_const'),
          node('Transpose', ['wt'], ['w_kn'], { perm: [1, 0] }, 'w_transpose'),
          node('Unsqueeze', ['w_kn', ...(opset >= 13 ? ['un_axes'] : [])], ['w_3d'], un.attr, 'w_unsqueeze'),
          node('Squeeze', ['w_3d', ...(opset >= 13 ? ['sq_axes'] : [])], ['w_2d'], sq.attr, 'w_squeeze'),
          // The columns in reverse, then back in order (the two halves swapped twice): the same matrix.
          node('Slice', ['w_2d', 'rev_s', 'rev_e', 'one', 'minus1'], ['w_rev'], {}, 'w_reverse'),
          node('Slice', ['w_rev', 'rev_s', 'rev_e', 'one', 'minus1'], ['w_back'], {}, 'w_reverse_again'),
          node('Slice', ['w_back', 'zero', 'half', 'one'], ['w_a'], {}, 'w_left'),
          node('Slice', ['w_back', 'half', 'end', 'one'], ['w_b'], {}, 'w_right'),
          node('Concat', ['w_a', 'w_b'], ['w'], { axis: 1 }, 'w_concat'),
          node('MatMul', ['x', 'w'], ['y'], {}, 'mm'),
        ],
        initializer: [
          ...un.inputs, ...sq.inputs,
          int64Tensor('rev_s', [1], [-1]), int64Tensor('rev_e', [1], [-9223372036854775807n]), int64Tensor('one', [1], [1]), int64Tensor('minus1', [1], [-1]),
          int64Tensor('zero', [1], [0]), int64Tensor('half', [1], [N / 2]), int64Tensor('end', [1], [N]),
        ],
        input: [valueInfo('x', F, [4, K])], output: [valueInfo('y', F, [4, N])],
      };
      const { fp32, q, report, model: m } = quantize(model(g, opset, 7));
      assert.deepEqual(report.quantized, ['mm']);
      assert.ok(report.notes.includes('1 weight was computed from constants at run time (Slice, Concat, Unsqueeze, ...) and was folded into an initializer first'), report.notes.join('\n'));
      // The chain is gone with the float weight: what is left is the quantized MatMul.
      assert.deepEqual(ops(m).filter((o) => ['Constant', 'Transpose', 'Squeeze', 'Unsqueeze', 'Slice', 'Concat'].includes(o ?? '')), []);
      const x = { x: input(randn(41, 4 * K), [4, K]) };
      const c = cosine((await run(fp32, x)).y.data as Float32Array, (await run(q, x)).y.data as Float32Array);
      // int8 weights on a 32-deep product: far above 0.999; a wrongly folded weight (transposed, columns
      // out of order) gives an unrelated product.
      assert.ok(c > 0.999, `cosine ${c}`);
    });
  }
});

describe('quantize graph: old opsets and quantized models', () => {
  it('raises opset 9 to 11, rewriting Clip and Slice attributes into inputs', async () => {
    const g: GraphProto = {
      name: 'old',
      node: [
        node('Clip', ['x'], ['c'], { min: -0.5, max: 0.75 }, 'clip'),
        node('Slice', ['c'], ['s'], { starts: [0, 2], ends: [2, 10], axes: [0, 1] }, 'slice'),
        node('MatMul', ['s', 'W'], ['y'], {}, 'mm'),
      ],
      initializer: [tensor('W', F, [8, 6], randn(30, 48, 0.5))],
      input: [valueInfo('x', F, [3, 12])], output: [valueInfo('y', F, [2, 6])],
    };
    const { fp32, q, report, model: m } = quantize(model(g, 9, 4));
    assert.deepEqual(report.opsetUpgrade, { from: 9, to: 11, rewritten: ['clip', 'slice'] });
    assert.equal(m.opsets['ai.onnx'], 11);
    assert.ok(m.irVersion >= 6);
    const x = { x: input(randn(31, 36), [3, 12]) };
    const c = cosine((await run(fp32, x)).y.data as Float32Array, (await run(q, x)).y.data as Float32Array);
    assert.ok(c > 0.999, `cosine ${c}`);
  });

  it('refuses to raise an opset past ops whose behaviour changed (Upsample)', () => {
    const g: GraphProto = {
      name: 'upsample',
      node: [node('Upsample', ['x', 'scales'], ['u'], {}, 'up'), node('MatMul', ['u', 'W'], ['y'], {}, 'mm')],
      initializer: [floatTensor('scales', [2], [1, 2]), tensor('W', F, [8, 4], randn(1, 32))],
      input: [valueInfo('x', F, [2, 4])], output: [valueInfo('y', F, [2, 4])],
    };
    assert.throws(() => quantizeModel(model(g, 9)), (e: unknown) => e instanceof QuantizeError && e.code === 'unsupported-model' && /Upsample/.test(e.message) && /opset 11/.test(e.message));
    // weight-only needs no opset change
    assert.doesNotThrow(() => quantizeModel(model(g, 9), { mode: 'weight-only', blockSize: 16 }));
  });

  it('leaves already-quantized layers alone and says so', () => {
    const g: GraphProto = {
      name: 'quantized',
      node: [
        node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz'], {}, 'dql'),
        node('MatMulInteger', ['xq', 'Wq', 'xz'], ['mi'], {}, 'already'),
        node('Cast', ['mi'], ['mf'], { to: F }, 'cast'),
        node('DequantizeLinear', ['Wq8', 'ws'], ['Wdq'], {}, 'dq'),
        node('MatMul', ['mf', 'Wdq'], ['y'], {}, 'qdq_matmul'),
      ],
      initializer: [tensor('Wq', DataType.UINT8, [4, 4], new Uint8Array(16)), tensor('Wq8', DataType.INT8, [4, 4], new Int8Array(16)), floatTensor('ws', [], [0.1])],
      input: [valueInfo('x', F, [2, 4])], output: [valueInfo('y', F, [2, 4])],
    };
    const { report } = quantizeModel(model(g, 13));
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.name, s.reason]));
    assert.match(reasons.already, /already quantized \(MatMulInteger\)/);
    assert.match(reasons.qdq_matmul, /computed by DequantizeLinear "dq", not a constant \(already quantized\)/);
    assert.deepEqual(report.quantized, []);
  });
});

describe('quantize graph: weight-only MatMulNBits', () => {
  const cases: [number, number, number, QuantizeOptions['weightType']][] = [[64, 8, 32, 'int4'], [100, 12, 32, 'uint4'], [77, 9, 16, 'int4'], [130, 5, 64, 'int8'], [130, 5, 64, 'uint8'], [256, 16, 256, 'uint4']];
  for (const [K, N, blockSize, weightType] of cases) {
    it(`${weightType} K=${K} N=${N} block ${blockSize}: onnxruntime multiplies by exactly the weights our layout encodes`, async () => {
      const { q, report, model: m } = quantize(model(matmulGraph(K, N, K + N)), { mode: 'weight-only', weightType, blockSize, accuracyLevel: 0 });
      const nb = m.proto.graph!.node!.find((n) => n.op_type === 'MatMulNBits')!;
      assert.equal(nb.domain, 'com.microsoft');
      const a = Object.fromEntries(nb.attribute!.map((x) => [x.name, int64(x.i)]));
      const bits = weightType!.endsWith('4') ? 4 : 8;
      assert.deepEqual(a, { K, N, bits, block_size: blockSize });
      assert.ok(m.opsets['com.microsoft'] >= 1);
      const blocks = Math.ceil(K / blockSize);
      const B = weight(m, nb.input![1])!, S = weight(m, nb.input![2])!, Z = nb.input![3] ? weight(m, nb.input![3]) : undefined;
      assert.deepEqual(B.dims, [N, blocks, (blockSize * bits) / 8]);
      assert.deepEqual(S.dims, [N * blocks]);
      assert.equal(!!Z, weightType!.startsWith('u'), 'zero points only for unsigned (asymmetric) weights');
      if (Z) assert.deepEqual(Z.dims, [N * (bits === 4 ? Math.ceil(blocks / 2) : blocks)]);
      const deq = dequantizeBlockwise({ packed: new Uint8Array(B.readBytes()), scales: S.values() as Float32Array, zeroPoints: Z ? new Uint8Array(Z.readBytes()) : null, blocks, blobSize: (blockSize * bits) / 8, energy: { signal: 0, noise: 0 } }, K, N, blockSize, bits as 4 | 8);
      const rows = 3, x = randn(K, rows * K);
      const y = (await run(q, { x: input(x, [rows, K]) })).y.data as Float32Array;
      for (let i = 0; i < rows; i++) for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += Math.max(x[i * K + k], 0) * deq[k * N + j];
        const want = 1 / (1 + Math.exp(-acc));
        assert.ok(Math.abs(y[i * N + j] - want) < 1e-5, `y[${i}, ${j}] = ${y[i * N + j]}, want ${want}`);
      }
      assert.ok(report.weights[0].sqnr! > (bits === 4 ? 15 : 35), `SQNR ${report.weights[0].sqnr}`);
      assert.equal((await optimizedOpCounts(q))['com.microsoft:MatMulNBits'], 1);
    });
  }

  it('Gemm (transB, alpha, bias) becomes MatMulNBits + Add', async () => {
    const { fp32, q, report, model: m } = quantize(gemmMlpModel(4), { mode: 'weight-only', weightType: 'int8', blockSize: 16 });
    assert.deepEqual(report.quantized, ['fc1', 'fc2', 'fc3']);
    assert.deepEqual(ops(m).filter((o) => o === 'MatMulNBits').length, 3);
    const x = { x: input(randn(40, 16 * 64), [16, 64]) };
    const c = cosine((await run(fp32, x)).y.data as Float32Array, (await run(q, x)).y.data as Float32Array);
    assert.ok(c > 0.999, `cosine ${c}`);
  });
});

describe('quantize graph: in-memory API', () => {
  it('a Constant node that stays (not a weight) is kept', () => {
    const g: GraphProto = {
      name: 'keep',
      node: [node('Constant', [], ['k'], { value: floatTensor('k', [], [2]) }, 'two'), node('Mul', ['x', 'k'], ['m'], {}, 'mul'), node('MatMul', ['m', 'W'], ['y'], {}, 'mm')],
      initializer: [tensor('W', F, [4, 4], randn(1, 16))],
      input: [valueInfo('x', F, [1, 4])], output: [valueInfo('y', F, [1, 4])],
    };
    const { model: m } = quantizeModel(model(g));
    assert.ok(m.proto.graph!.node!.some((n) => constantTensor(n)));
  });
});
