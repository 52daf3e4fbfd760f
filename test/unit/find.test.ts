// Find across the whole model (src/onnx/find.ts): every graph at any depth, by op type, node name, output
// tensor or weight name, in graph order, with the graph's path.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { floatTensor, makeModel, modelFromProto, node, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { findInModel } from '../../src/onnx/find';
import { loadModel } from '../../src/onnx/load';
import type { GraphProto } from '../../src/onnx/proto';
import { modelsDir, noModels } from './helpers/models';

const F = DataType.FLOAT;

/** main: Relu -> If(then: Sigmoid reading the outer weight w_outer; else: Loop whose body holds a Tanh). */
function nested() {
  const body: GraphProto = {
    name: 'body', node: [node('Tanh', ['v_in'], ['v_out'], {}, 'deep_tanh'), node('Identity', ['c'], ['c_out'])],
    input: [valueInfo('i', DataType.INT64, []), valueInfo('c', DataType.BOOL, []), valueInfo('v_in', F, [2])],
    output: [valueInfo('c_out', DataType.BOOL, []), valueInfo('v_out', F, [2])], initializer: [],
  };
  const thenBranch: GraphProto = { name: 'then', node: [node('Mul', ['r', 'w_outer'], ['t'], {}, 'scale')], input: [], output: [valueInfo('t', F, [2])], initializer: [] };
  const elseBranch: GraphProto = { name: 'else', node: [node('Loop', ['', 'cond', 'r'], ['e'], { body }, 'loop')], input: [], output: [valueInfo('e', F, [2])], initializer: [] };
  return modelFromProto(makeModel({
    graph: {
      name: 'g', node: [node('Relu', ['x'], ['r'], {}, 'relu'), node('If', ['cond'], ['y'], { then_branch: thenBranch, else_branch: elseBranch }, 'branch')],
      input: [valueInfo('x', F, [2]), valueInfo('cond', DataType.BOOL, [])], initializer: [floatTensor('w_outer', [2], [1, 2])], output: [valueInfo('y', F, [2])],
    },
  }));
}

describe('find across every graph of the model', () => {
  it('by op type, node name, output tensor and a weight read from an enclosing graph, each with its graph path', () => {
    const m = nested();
    assert.deepEqual(findInModel(m, 'tanh').matches, [{ graph: 'main/branch.else_branch/loop.body', node: 0, op: 'Tanh', name: 'deep_tanh', on: 'op' }]);
    assert.deepEqual(findInModel(m, 'SCALE').matches.map((x) => [x.graph, x.on]), [['main/branch.then_branch', 'name']]);
    assert.deepEqual(findInModel(m, 'v_out').matches.map((x) => [x.graph, x.op, x.on]), [['main/branch.else_branch/loop.body', 'Tanh', 'tensor']]);
    assert.deepEqual(findInModel(m, 'w_outer').matches.map((x) => [x.graph, x.op]), [['main/branch.then_branch', 'Mul']]);
    // In graph order: the main graph first.
    assert.deepEqual(findInModel(m, 'r').matches.map((x) => x.graph)[0], 'main');
    assert.deepEqual(findInModel(m, '  ').matches, []);
  });

  it('lists at most `limit` matches and counts them all', () => {
    const r = findInModel(nested(), 'e', 2);
    assert.equal(r.matches.length, 2);
    assert.ok(r.total > 2, `${r.total} in all`);
  });

  it('Silero VAD v5: its LSTMs are all inside If branches, none in the main graph', { skip: noModels }, () => {
    const r = findInModel(loadModel(path.join(modelsDir, 'silero/silero_vad_v5.onnx')), 'lstm');
    const lstms = r.matches.filter((x) => x.op === 'LSTM');
    assert.ok(lstms.length >= 2, `${lstms.length} LSTM`);
    assert.ok(lstms.every((x) => x.graph !== 'main' && /If/.test(x.graph)), lstms.map((x) => x.graph).join(', '));
  });
});
