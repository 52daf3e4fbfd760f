// Shape and type inference (src/onnx/shapes): per op family against shapes written here, each concrete case
// also run in onnxruntime (every value fetched) so that the written shapes are the runtime's too; then on
// every shared model, where every value of the main graph must have onnxruntime's shape.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { floatTensor, int64Tensor, makeModel, modelFromProto, node, tensor, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { loadModel } from '../../src/onnx/load';
import type { Model } from '../../src/onnx/model';
import type { GraphProto, NodeProto, TensorProto, ValueInfoProto } from '../../src/onnx/proto';
import { writeModel } from '../../src/onnx/write';
import { coveredOps } from '../../src/onnx/shapes/rules';
import { inferShapes } from '../../src/onnx/shapes/infer';
import type { Dim } from '../../src/onnx/shapes/dims';
import { cloneStructure } from '../../src/quantize/calibrate/calibrator';
import { randomFeeds } from '../../src/runtime/inputs';
import { modelInputs } from '../../src/runtime/modelIo';
import { shapesOnSample } from '../../src/runtime/observedShapes';
import { modelsDir, noModels, ortRefuses, runHints, sharedModels } from './helpers/models';

const F = DataType.FLOAT, I64 = DataType.INT64;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-shapes-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let files = 0;

/** onnxruntime takes a file (a Model with its external data where it has any). */
function written(m: Model): string {
  const file = path.join(tmp, `m${files++}.onnx`);
  writeModel(m, file);
  return file;
}

interface Case {
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  initializers?: TensorProto[];
  opset?: number;
  extraOpsets?: Record<string, number>;
  valueInfo?: ValueInfoProto[];
}

function build(c: Case): Model {
  const g: GraphProto = { name: 'g', node: c.nodes, input: c.inputs, initializer: c.initializers ?? [], value_info: c.valueInfo ?? [], output: [] };
  // Every node output is a graph output (onnxruntime returns them all); their types are left to inference.
  g.output = c.nodes.flatMap((n) => (n.output ?? []).filter(Boolean).map((o) => valueInfo(o, DataType.UNDEFINED, null)));
  return modelFromProto(makeModel({ graph: g, opset: c.opset ?? 17, extraOpsets: c.extraOpsets }));
}

/** Inferred shapes by name (main graph). */
function infer(m: Model, options?: Parameters<typeof inferShapes>[1]): (name: string) => Dim[] | null | undefined {
  const s = inferShapes(m, options);
  const main = m.graphs()[0];
  return (name) => s.get(name, main)?.shape;
}

/**
 * The shapes onnxruntime gives every value on one run with random inputs of the declared (concrete) shapes.
 * Graph outputs take the inferred types, so a wrong dtype fails the run.
 */
async function runtimeShapes(m: Model, inputValues: Record<string, ort.Tensor> = {}): Promise<Record<string, readonly number[]>> {
  const s = inferShapes(m);
  const main = m.graphs()[0];
  const proto = cloneStructure(m.proto);
  proto.graph!.output = (proto.graph!.output ?? []).map((o) => valueInfo(o.name!, s.get(o.name!, main)?.dtype ?? F, null));
  const session = await ort.InferenceSession.create(written(m.withProto(proto)), { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
  try {
    const feeds = { ...randomFeeds(modelInputs(m).filter((i) => !(i.name in inputValues)), { seed: 3 }), ...inputValues };
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.dims]));
  } finally {
    await session.release();
  }
}

/** The written shapes hold in inference and, the model being concrete, in onnxruntime. */
async function expectShapes(c: Case, expected: Record<string, Dim[]>, inputValues?: Record<string, ort.Tensor>): Promise<void> {
  const m = build(c);
  const shapeOf = infer(m);
  for (const [name, want] of Object.entries(expected)) assert.deepEqual(shapeOf(name), want, `inferred ${name}`);
  const run = await runtimeShapes(m, inputValues);
  for (const [name, want] of Object.entries(expected)) assert.deepEqual([...run[name]], want, `onnxruntime ${name}`);
}

const x = (name: string, shape: Dim[] | null, type: number = F) => valueInfo(name, type, shape);
const ints = (name: string, values: number[]) => int64Tensor(name, [values.length], values);

describe('shape inference: broadcasting and elementwise ops', () => {
  it('numpy broadcasting, comparisons to bool, Where of three shapes', async () => {
    await expectShapes({
      nodes: [node('Add', ['a', 'b'], ['sum']), node('Less', ['a', 'b'], ['lt']), node('Where', ['lt', 'a', 'c'], ['w']), node('Relu', ['sum'], ['r'])],
      inputs: [x('a', [2, 1, 4]), x('b', [3, 1]), x('c', [4])],
    }, { sum: [2, 3, 4], lt: [2, 3, 4], w: [2, 3, 4], r: [2, 3, 4] });
    const m = build({ nodes: [node('Less', ['a', 'b'], ['lt'])], inputs: [x('a', [2, 3]), x('b', [3])] });
    assert.equal(inferShapes(m).get('lt', m.graphs()[0])?.dtype, DataType.BOOL);
  });

  it('a symbolic dim broadcast with 1 keeps its name; with a number it is the number; two names are unknown', () => {
    const shapeOf = infer(build({
      nodes: [node('Add', ['a', 'one'], ['keep']), node('Mul', ['a', 'n'], ['num']), node('Sub', ['a', 'other'], ['two'])],
      inputs: [x('a', ['batch', 8]), x('one', [1, 8]), x('n', [4, 1]), x('other', ['seq', 8])],
    }));
    assert.deepEqual(shapeOf('keep'), ['batch', 8]);
    assert.deepEqual(shapeOf('num'), [4, 8]);
    assert.deepEqual(shapeOf('two'), [null, 8]);
  });
});

describe('shape inference: MatMul, Gemm, convolutions and pooling', () => {
  it('MatMul with batch broadcasting and 1-D operands; Gemm with transB', async () => {
    await expectShapes({
      nodes: [node('MatMul', ['a', 'w'], ['y']), node('MatMul', ['v', 'w'], ['yv']), node('MatMul', ['a', 'u'], ['yu']), node('Gemm', ['g', 'wt'], ['gy'], { transB: 1 })],
      inputs: [x('a', [2, 5, 8, 16]), x('v', [16]), x('u', [16]), x('g', [3, 16])],
      initializers: [floatTensor('w', [16, 32], new Float32Array(512)), floatTensor('wt', [32, 16], new Float32Array(512))],
    }, { y: [2, 5, 8, 32], yv: [32], yu: [2, 5, 8], gy: [3, 32] });
  });

  it('Conv: strides, pads, dilations, groups, auto_pad SAME_UPPER; ConvTranspose with output_padding', async () => {
    await expectShapes({
      nodes: [
        node('Conv', ['img', 'w7'], ['c7'], { strides: [2, 2], pads: [3, 3, 3, 3] }),
        node('Conv', ['img', 'w3'], ['dil'], { dilations: [2, 2] }),
        node('Conv', ['img', 'w3'], ['same'], { strides: [2, 2], auto_pad: 'SAME_UPPER' }),
        node('Conv', ['c7', 'dw'], ['depthwise'], { group: 8, kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
        node('ConvTranspose', ['c7', 'wt'], ['up'], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }),
      ],
      inputs: [x('img', [1, 3, 31, 29])],
      initializers: [floatTensor('w7', [8, 3, 7, 7], new Float32Array(8 * 3 * 49)), floatTensor('w3', [4, 3, 3, 3], new Float32Array(108)),
        floatTensor('dw', [8, 1, 3, 3], new Float32Array(72)), floatTensor('wt', [8, 2, 3, 3], new Float32Array(144))],
    }, { c7: [1, 8, 16, 15], dil: [1, 4, 27, 25], same: [1, 4, 16, 15], depthwise: [1, 8, 16, 15], up: [1, 2, 32, 30] });
  });

  it('pooling with and without ceil_mode, global pooling', async () => {
    await expectShapes({
      nodes: [
        node('MaxPool', ['img'], ['floor'], { kernel_shape: [3, 3], strides: [2, 2] }),
        node('MaxPool', ['img'], ['ceil'], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }),
        node('AveragePool', ['img'], ['avg'], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1] }),
        node('GlobalAveragePool', ['img'], ['gap']),
      ],
      inputs: [x('img', [1, 2, 6, 7])],
    }, { floor: [1, 2, 2, 3], ceil: [1, 2, 3, 3], avg: [1, 2, 3, 4], gap: [1, 2, 1, 1] });
  });
});

describe('shape inference: ops that move data, with constant and computed shapes', () => {
  it('Reshape of a computed shape (Shape -> Gather -> Unsqueeze -> Concat) keeps the batch by name and solves -1', () => {
    const shapeOf = infer(build({
      nodes: [
        node('Shape', ['t'], ['s']), node('Gather', ['s', 'zero'], ['b'], { axis: 0 }), node('Unsqueeze', ['b', 'axes0'], ['b1']),
        node('Concat', ['b1', 'minus1'], ['target'], { axis: 0 }), node('Reshape', ['t', 'target'], ['flat']),
      ],
      inputs: [x('t', ['batch', 12, 64])],
      initializers: [int64Tensor('zero', [], [0]), ints('axes0', [0]), ints('minus1', [-1])],
    }));
    assert.deepEqual(shapeOf('target'), [2]);
    assert.deepEqual(shapeOf('flat'), ['batch', 768]);
  });

  it('Reshape (0 and -1), Flatten, Squeeze/Unsqueeze by attribute (opset 11) and by input (13), Transpose', async () => {
    await expectShapes({
      nodes: [node('Reshape', ['t', 'shape'], ['r']), node('Flatten', ['t'], ['f'], { axis: 2 }), node('Transpose', ['t'], ['tt'], { perm: [2, 0, 1, 3] }), node('Transpose', ['t'], ['rev'])],
      inputs: [x('t', [2, 3, 4, 5])],
      initializers: [ints('shape', [0, -1, 10])],
    }, { r: [2, 6, 10], f: [6, 20], tt: [4, 2, 3, 5], rev: [5, 4, 3, 2] });
    await expectShapes({
      nodes: [node('Unsqueeze', ['t'], ['u'], { axes: [0, -1] }), node('Squeeze', ['u'], ['s'], { axes: [0] }), node('Squeeze', ['u'], ['all'])],
      inputs: [x('t', [3, 1, 4])], opset: 11,
    }, { u: [1, 3, 1, 4, 1], s: [3, 1, 4, 1], all: [3, 4] });
    await expectShapes({
      nodes: [node('Unsqueeze', ['t', 'axes'], ['u']), node('Squeeze', ['u', 'axes'], ['s'])],
      inputs: [x('t', [3, 4])], initializers: [ints('axes', [1])], opset: 13,
    }, { u: [3, 1, 4], s: [3, 4] });
  });

  it('Concat, Split (sizes, equal parts), Slice (negative bounds, steps, INT64_MAX), Gather, GatherElements', async () => {
    await expectShapes({
      nodes: [
        node('Concat', ['a', 'b'], ['c'], { axis: 1 }),
        node('Split', ['c', 'parts'], ['s1', 's2'], { axis: 1 }),
        node('Split', ['a'], ['e1', 'e2'], { axis: 2 }),
        node('Slice', ['c', 'starts', 'ends', 'axes', 'steps'], ['sl']),
        node('Gather', ['c', 'idx'], ['g'], { axis: 1 }),
        node('GatherElements', ['a', 'gi'], ['ge'], { axis: 0 }),
      ],
      inputs: [x('a', [2, 3, 4]), x('b', [2, 5, 4])],
      initializers: [ints('parts', [6, 2]), ints('starts', [-1, 0]), int64Tensor('ends', [2], [-9223372036854775807n - 1n, 9223372036854775807n]), ints('axes', [1, 2]), ints('steps', [-2, 3]),
        int64Tensor('idx', [2, 2], [0, 1, 2, 3]), int64Tensor('gi', [1, 3, 4], new Array(12).fill(0))],
    }, { c: [2, 8, 4], s1: [2, 6, 4], s2: [2, 2, 4], e1: [2, 3, 2], e2: [2, 3, 2], sl: [2, 4, 2], g: [2, 2, 2, 4], ge: [1, 3, 4] });
  });

  it('Expand, Tile, Pad, Resize (scales, sizes), DepthToSpace, Shape with start, Range, ConstantOfShape, TopK, OneHot', async () => {
    await expectShapes({
      nodes: [
        node('Expand', ['v', 'eshape'], ['e']), node('Tile', ['img', 'reps'], ['t']), node('Pad', ['img', 'pads'], ['p']),
        node('Resize', ['img', '', 'scales'], ['rs'], { mode: 'nearest' }), node('Resize', ['img', '', '', 'sizes'], ['rz'], { mode: 'nearest' }),
        node('DepthToSpace', ['img4'], ['d2s'], { blocksize: 2 }), node('Shape', ['img'], ['sh'], { start: 1 }),
        node('Range', ['r0', 'r1', 'r2'], ['rng']), node('ConstantOfShape', ['eshape'], ['zeros']), node('TopK', ['img', 'k'], ['tv', 'ti'], { axis: 3 }),
        node('OneHot', ['oh', 'depth', 'ohv'], ['onehot']),
      ],
      inputs: [x('v', [3, 1]), x('img', [1, 2, 5, 6]), x('img4', [1, 8, 3, 3]), x('oh', [4], I64)],
      initializers: [ints('eshape', [2, 3, 4]), ints('reps', [1, 2, 1, 3]), ints('pads', [0, 0, 1, 2, 0, 0, 3, 4]), floatTensor('scales', [4], [1, 1, 2, 0.5]),
        ints('sizes', [1, 2, 7, 9]), int64Tensor('r0', [], [2]), int64Tensor('r1', [], [11]), int64Tensor('r2', [], [3]), ints('k', [4]),
        int64Tensor('depth', [], [10]), floatTensor('ohv', [2], [0, 1])],
    }, { e: [2, 3, 4], t: [1, 4, 5, 18], p: [1, 2, 9, 12], rs: [1, 2, 10, 3], rz: [1, 2, 7, 9], d2s: [1, 2, 6, 6], sh: [3], rng: [3], zeros: [2, 3, 4], tv: [1, 2, 5, 4], ti: [1, 2, 5, 4], onehot: [4, 10] });
  });

  it('PyTorch\'s pad export (64 at the end of the last axis): the pads computed by Concat -> Reshape [-1, 2] -> Slice(step -1) -> Transpose -> Reshape', async () => {
    await expectShapes({
      nodes: [
        node('ConstantOfShape', ['two'], ['z'], { value: int64Tensor('', [1], [0]) }), node('Concat', ['lr', 'z'], ['c'], { axis: 0 }),
        node('Reshape', ['c', 'm12'], ['r']), node('Slice', ['r', 'st', 'en', 'ax', 'sp'], ['rev']), node('Transpose', ['rev'], ['tr'], { perm: [1, 0] }),
        node('Reshape', ['tr', 'm1'], ['pads']), node('Pad', ['sig', 'pads'], ['padded'], { mode: 'reflect' }),
      ],
      inputs: [x('sig', [1, 512])],
      initializers: [ints('two', [2]), ints('lr', [0, 64]), ints('m12', [-1, 2]), ints('st', [-1]), int64Tensor('en', [1], [-9223372036854775807n - 1n]), ints('ax', [0]), ints('sp', [-1]), ints('m1', [-1])],
    }, { pads: [4], padded: [1, 576] });
  });
});

describe('shape inference: review cases', () => {
  it('a scale computed in float (opset-10 interpolate: Div(Cast(size), Cast(Shape(x)))) is not truncated', async () => {
    await expectShapes({
      nodes: [
        node('Shape', ['img'], ['s']), node('Cast', ['s'], ['sf'], { to: DataType.FLOAT }), node('Cast', ['size'], ['zf'], { to: DataType.FLOAT }),
        node('Div', ['zf', 'sf'], ['scales']), node('Resize', ['img', 'scales'], ['r'], { mode: 'nearest' }),
      ],
      inputs: [x('img', [1, 3, 224, 224])], initializers: [ints('size', [1, 3, 320, 320])], opset: 10,
    }, { r: [1, 3, 320, 320] });
  });

  it('Split by sizes computed at run time leaves the split axis unknown; Slice with a negative step clamps as the specification does', async () => {
    const shapeOf = infer(build({
      nodes: [node('Split', ['t', 'sizes'], ['a', 'b'], { axis: 0 })],
      inputs: [x('t', [4, 2]), x('sizes', [2], I64)], opset: 13,
    }));
    assert.deepEqual([shapeOf('a'), shapeOf('b')], [[null, 2], [null, 2]]);
    await expectShapes({
      nodes: [node('Slice', ['t', 'st', 'en', 'ax', 'sp'], ['r'])],
      inputs: [x('t', [5, 2])], initializers: [ints('st', [-10]), ints('en', [-10]), ints('ax', [0]), ints('sp', [-1])],
    }, { r: [1, 2] });
  });

  it('QGemm: its output has the zero point\'s type when quantized, float when not', () => {
    const m = build({
      nodes: [
        node('QGemm', ['a', 'as', 'az', 'b', 'bs', 'bz', '', 'ys', 'yz'], ['q'], { transB: 1 }, '', 'com.microsoft'),
        node('QGemm', ['a', 'as', 'az', 'b', 'bs', 'bz'], ['f'], { transB: 1 }, '', 'com.microsoft'),
      ],
      inputs: [x('a', [2, 4], DataType.UINT8)], extraOpsets: { 'com.microsoft': 1 },
      initializers: [floatTensor('as', [], [0.1]), tensor('az', DataType.UINT8, [], Uint8Array.of(0)), tensor('b', DataType.INT8, [3, 4], new Int8Array(12)),
        floatTensor('bs', [], [0.1]), tensor('bz', DataType.INT8, [], Int8Array.of(0)), floatTensor('ys', [], [0.1]), tensor('yz', DataType.INT8, [], Int8Array.of(0))],
    });
    const s = inferShapes(m), main = m.graphs()[0];
    assert.deepEqual([s.get('q', main)?.dtype, s.get('q', main)?.shape], [DataType.INT8, [2, 3]]);
    assert.equal(s.get('f', main)?.dtype, DataType.FLOAT);
  });
});

describe('shape inference: reductions and normalizations', () => {
  it('ReduceMean by attribute (opset 17), ReduceSum by input (13), keepdims 0, ArgMax, LayerNormalization statistics', async () => {
    await expectShapes({
      nodes: [node('ReduceMean', ['t'], ['m'], { axes: [1, -1] }), node('ReduceMean', ['t'], ['m0'], { axes: [1], keepdims: 0 }), node('ReduceSum', ['t', 'ax'], ['s']),
        node('ArgMax', ['t'], ['am'], { axis: 2, keepdims: 0 }), node('LayerNormalization', ['t', 'gamma'], ['ln', 'mean', 'inv'], { axis: -1 })],
      inputs: [x('t', [2, 3, 4])], initializers: [ints('ax', [0]), floatTensor('gamma', [4], [1, 1, 1, 1])],
    }, { m: [2, 1, 1], m0: [2, 4], s: [1, 3, 4], am: [2, 3], ln: [2, 3, 4], mean: [2, 3, 1], inv: [2, 3, 1] });
  });
});

describe('shape inference: recurrent layers, quantization ops, subgraphs', () => {
  it('LSTM bidirectional, GRU (and batch-first); QuantizeLinear types; DynamicQuantizeLinear', async () => {
    await expectShapes({
      nodes: [
        node('LSTM', ['seq', 'W', 'R'], ['Y', 'Yh', 'Yc'], { hidden_size: 5, direction: 'bidirectional' }),
        node('GRU', ['seq', 'Wg', 'Rg'], ['Yg', 'Yhg'], { hidden_size: 5 }),
        node('QuantizeLinear', ['bf', 'sc', 'zp'], ['q']), node('DynamicQuantizeLinear', ['bf'], ['dq', 'ds', 'dz']),
      ],
      inputs: [x('seq', [7, 2, 3]), x('bf', [2, 7, 3])],
      initializers: [floatTensor('W', [2, 20, 3], new Float32Array(120)), floatTensor('R', [2, 20, 5], new Float32Array(200)), floatTensor('Wg', [1, 15, 3], new Float32Array(45)),
        floatTensor('Rg', [1, 15, 5], new Float32Array(75)), floatTensor('sc', [], [0.1]), tensor('zp', DataType.INT8, [], Int8Array.of(0))],
    }, { Y: [7, 2, 2, 5], Yh: [2, 2, 5], Yc: [2, 2, 5], Yg: [7, 1, 2, 5], Yhg: [1, 2, 5], q: [2, 7, 3], dq: [2, 7, 3], ds: [], dz: [] });
    // Batch-first (layout 1), which onnxruntime's CPU kernels refuse: the shapes of the ONNX specification.
    const bf = infer(build({
      nodes: [node('GRU', ['bf', 'Wg', 'Rg'], ['Yg', 'Yhg'], { hidden_size: 5, layout: 1 })], inputs: [x('bf', [2, 7, 3])],
      initializers: [floatTensor('Wg', [1, 15, 3], new Float32Array(45)), floatTensor('Rg', [1, 15, 5], new Float32Array(75))],
    }));
    assert.deepEqual([bf('Yg'), bf('Yhg')], [[2, 7, 1, 5], [2, 1, 5]]);
    const m = build({ nodes: [node('QuantizeLinear', ['v', 'sc', 'zp'], ['q']), node('QuantizeLinear', ['v', 'sc'], ['u'])], inputs: [x('v', [3])], initializers: [floatTensor('sc', [], [0.1]), tensor('zp', DataType.INT8, [], Int8Array.of(0))] });
    const s = inferShapes(m);
    assert.equal(s.get('q', m.graphs()[0])?.dtype, DataType.INT8);
    assert.equal(s.get('u', m.graphs()[0])?.dtype, DataType.UINT8);
  });

  it('If: a condition computed from an input value given takes its branch; an unknown one keeps the dims both branches agree on', async () => {
    const branch = (name: string, op: string, axis: number) => ({
      name, node: [node(op, ['a', 'a'], [`${name}_y`], { axis })], input: [], initializer: [], output: [valueInfo(`${name}_y`, F, null)],
    });
    const c: Case = {
      nodes: [node('Equal', ['sr', 'k16'], ['cond']), node('If', ['cond'], ['y'], { then_branch: branch('then', 'Concat', 0), else_branch: branch('else', 'Concat', 1) })],
      inputs: [x('a', [2, 3]), x('sr', [], I64)], initializers: [int64Tensor('k16', [], [16000])],
    };
    const m = build(c);
    assert.deepEqual(infer(m)('y'), [null, null]);
    assert.deepEqual(infer(m, { inputValues: { sr: [16000] } })('y'), [4, 3]);
    assert.deepEqual(infer(m, { inputValues: { sr: [8000] } })('y'), [2, 6]);
    const run = await runtimeShapes(m, { sr: new ort.Tensor('int64', BigInt64Array.of(16000n), []) });
    assert.deepEqual([...run.y], [4, 3]);
    // The branches' own values are inferred too.
    const s = inferShapes(m, { inputValues: { sr: [8000] } });
    const then = m.graphs().find((g) => g.path.endsWith('then_branch'))!;
    assert.deepEqual(s.get('then_y', then)?.shape, [4, 3]);
  });

  it('Loop: carried values keep their shape, scan outputs gain a leading axis', () => {
    const body: GraphProto = {
      name: 'body',
      node: [node('Identity', ['c_in'], ['c_out']), node('Add', ['acc_in', 'one'], ['acc_out']), node('Identity', ['acc_out'], ['scan'])],
      input: [x('i', [], I64), x('c_in', [], DataType.BOOL), x('acc_in', null)],
      initializer: [floatTensor('one', [1], [1])],
      output: [x('c_out', [], DataType.BOOL), x('acc_out', null), x('scan', null)],
    };
    const m = build({ nodes: [node('Loop', ['n', '', 'acc0'], ['acc', 'stack'], { body })], inputs: [x('n', [], I64), x('acc0', [2, 3])] });
    const shapeOf = infer(m);
    assert.deepEqual(shapeOf('acc'), [2, 3]);
    assert.deepEqual(shapeOf('stack'), [null, 2, 3]);
  });

  it('a declared name stays where inference computes none; a computed number fills a declared gap', () => {
    const shapeOf = infer(build({
      nodes: [node('Relu', ['t'], ['r']), node('Conv', ['t', 'w'], ['c'])],
      inputs: [x('t', ['batch', 3, 'h', 8])],
      initializers: [floatTensor('w', [4, 3, 3, 3], new Float32Array(108))],
      valueInfo: [x('r', ['batch', 3, 'height', null]), x('c', ['n', null, null, null])],
    }));
    assert.deepEqual(shapeOf('r'), ['batch', 3, 'height', 8]);
    assert.deepEqual(shapeOf('c'), ['n', 4, null, 6]);
  });

  it('an op without a rule keeps what the model declares; unknown elsewhere', () => {
    const m = build({ nodes: [node('MyOp', ['t'], ['a', 'b'], {}, '', 'custom.domain')], inputs: [x('t', [2])], extraOpsets: { 'custom.domain': 1 }, valueInfo: [x('a', [7])] });
    const s = inferShapes(m);
    assert.deepEqual(s.get('a', m.graphs()[0])?.shape, [7]);
    assert.equal(s.get('b', m.graphs()[0])?.shape, null);
    assert.ok(coveredOps().onnx.length > 100, `${coveredOps().onnx.length} ONNX ops have a rule`);
  });
});

describe('shapes on a sample of the input spec', () => {
  it('the spec\'s dims make the shapes concrete; a data-dependent shape (NonZero) is the one seen in a run, marked as seen', async () => {
    const m = build({
      nodes: [node('Relu', ['t'], ['r']), node('NonZero', ['r'], ['nz']), node('Transpose', ['nz'], ['pairs'])],
      inputs: [x('t', ['batch', 6])],
    });
    const list = await shapesOnSample(m, { dims: { batch: 2 }, values: { t: 1 } });
    const by = Object.fromEntries(list.map((v) => [v.name, v]));
    assert.deepEqual(by.t, { name: 't', dtype: 'float', shape: [2, 6] });
    assert.deepEqual(by.r, { name: 'r', dtype: 'float', shape: [2, 6] });
    // t filled with 1: every one of the 12 elements is non-zero.
    assert.deepEqual(by.nz, { name: 'nz', dtype: 'int64', shape: [2, 12], observed: true });
    assert.deepEqual(by.pairs, { name: 'pairs', dtype: 'int64', shape: [12, 2], observed: true });
    // Without a run, inference says what it can: the rank, and NonZero's first dim.
    assert.deepEqual(infer(m)('nz'), [2, null]);
  });
});

describe('shape inference on every shared model: the shapes onnxruntime gives every value of the main graph', { skip: noModels }, () => {
  for (const rel of sharedModels()) {
    if (ortRefuses.has(rel)) continue;
    it(rel, async (t) => {
      const file = `${modelsDir}/${rel}`;
      const m = loadModel(file);
      const hints = runHints[rel] ?? {};
      const values = Object.fromEntries(Object.entries(hints.int64 ?? {}).map(([k, v]) => [k, new ort.Tensor('int64', BigInt64Array.of(v), [])]));
      const feeds = randomFeeds(modelInputs(m), { seed: 1, dims: hints.dims, values });
      const inputShapes = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, [...v.dims]]));
      const inputValues = Object.fromEntries(Object.entries(hints.int64 ?? {}).map(([k, v]) => [k, [Number(v)]]));
      const s = inferShapes(m, { inputShapes, inputValues });
      const main = m.graphs()[0];
      const proto = cloneStructure(m.proto);
      const present = new Set((proto.graph!.output ?? []).map((o) => o.name));
      const names = (main.graph.node ?? []).flatMap((n) => n.output ?? []).filter((o) => o && !present.has(o));
      for (const name of names) proto.graph!.output!.push(valueInfo(name, s.get(name, main)?.dtype ?? F, null));
      const session = await ort.InferenceSession.create(written(m.withProto(proto)), { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
      let out: ort.InferenceSession.OnnxValueMapType;
      try {
        out = await session.run(feeds);
      } catch (e) {
        // Conformance models whose random inputs break the op's contract (LSTM sequence_lens): nothing to compare.
        t.diagnostic(`not run: ${(e as Error).message.split('\n')[0].slice(0, 120)}`);
        return;
      } finally {
        await session.release();
      }
      const wrong: string[] = [];
      for (const [name, tensorOut] of Object.entries(out)) {
        const got = s.get(name, main)?.shape;
        if (!got || got.length !== tensorOut.dims.length || got.some((d, i) => d !== tensorOut.dims[i])) wrong.push(`${name}: [${got}] vs onnxruntime [${tensorOut.dims}]`);
      }
      assert.deepEqual(wrong, [], `${wrong.length} of ${Object.keys(out).length} values`);
      t.diagnostic(`${Object.keys(out).length} values, each with onnxruntime's shape`);
    });
  }
});
