// Which kind of quantization comes first for a model, from what it contains, and what each would quantize.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { makeModel, modelFromProto, node, tensor, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { loadModel } from '../../src/onnx/load';
import type { GraphProto } from '../../src/onnx/proto';
import { adviseModes, LARGE_MATMUL } from '../../src/quantize/advice';
import { randn } from './helpers/quantize';
import { modelsDir, noModels, sampleModel } from './helpers/models';

const F = DataType.FLOAT;
const order = (g: GraphProto, opset = 17) => adviseModes(modelFromProto(makeModel({ graph: g, opset }))).order.map((a) => `${a.mode}:${a.count}`);

function matmuls(K: number, N: number, n: number): GraphProto {
  const nodes = [], inits = [];
  let x = 'x';
  for (let i = 0; i < n; i++) {
    nodes.push(node('MatMul', [x, `W${i}`], [`h${i}`], {}, `mm${i}`));
    inits.push(tensor(`W${i}`, F, [K, i === n - 1 ? N : K], new Float32Array(K * (i === n - 1 ? N : K))));
    x = `h${i}`;
  }
  return { name: 'mlp', node: nodes, initializer: inits, input: [valueInfo('x', F, [1, K])], output: [valueInfo(x, F, [1, N])] };
}

describe('the kinds of quantization, in the order that suits the model', () => {
  it('mostly Conv: static first; dynamic (MatMul/Gemm only) finds nothing and comes last', () => {
    const g: GraphProto = {
      name: 'conv', node: [node('Conv', ['x', 'W'], ['y'], {}, 'conv')], initializer: [tensor('W', F, [4, 3, 3, 3], randn(1, 108))],
      input: [valueInfo('x', F, [1, 3, 8, 8])], output: [valueInfo('y', F, [1, 4, 6, 6])],
    };
    assert.deepEqual(order(g), ['static:1', 'dynamic:0', 'weight-only:0']);
    const a = adviseModes(modelFromProto(makeModel({ graph: g })));
    assert.match(a.order[0].why, /^mostly Conv \(1 Conv, 0 MatMul\/Gemm\): static int8/);
  });

  it('small MatMuls: dynamic first; LLM-sized ones (2048 x 2048 or more): weight-only int4 first', () => {
    assert.deepEqual(order(matmuls(64, 32, 3)), ['dynamic:3', 'static:3', 'weight-only:3']);
    assert.equal(2048 * 2048, LARGE_MATMUL);
    const big = order(matmuls(2048, 2048, 1));
    assert.deepEqual(big, ['weight-only:1', 'dynamic:1', 'static:1']);
  });

  it('LSTM: dynamic first (DynamicQuantizeLSTM), though static would quantize its MatMul', () => {
    const H = 8, I = 4;
    const g: GraphProto = {
      name: 'rnn',
      node: [node('LSTM', ['x', 'W', 'R'], ['y', 'yh'], { hidden_size: H }, 'lstm'), node('MatMul', ['yh', 'P'], ['z'], {}, 'proj')],
      initializer: [tensor('W', F, [1, 4 * H, I], randn(1, 4 * H * I)), tensor('R', F, [1, 4 * H, H], randn(2, 4 * H * H)), tensor('P', F, [H, 2], randn(3, 2 * H))],
      input: [valueInfo('x', F, [5, 1, I])], output: [valueInfo('z', F, null)],
    };
    assert.deepEqual(order(g, 14), ['dynamic:2', 'static:1', 'weight-only:1']);
  });

  it('the sample and the shared models', { skip: noModels }, () => {
    const of = (file: string) => adviseModes(loadModel(file)).order.map((a) => a.mode);
    assert.equal(of(sampleModel)[0], 'static', 'mnist: 2 Conv, 1 MatMul');
    assert.equal(of(path.join(modelsDir, 'ppocr/ch_PP-OCRv4_det_infer.onnx'))[0], 'static');
    assert.equal(of(path.join(modelsDir, 'openwakeword/hey_jarvis_v0.1.onnx'))[0], 'dynamic', '6 Gemm, no Conv');
    assert.equal(of(path.join(modelsDir, 'silero/silero_vad_v5.onnx'))[0], 'dynamic', '4 LSTM in If branches');
    const isnet = adviseModes(loadModel(path.join(modelsDir, 'imgly/isnet_quint8_dynamic_small.onnx')));
    assert.ok(isnet.order.every((a) => a.count === 0), 'already quantized: no kind finds anything');
    assert.match(isnet.order[0].why, /no kind of quantization finds anything/);
  });
});
