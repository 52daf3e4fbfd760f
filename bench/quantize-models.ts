// Seeded, generated models for the quantizer's benchmark and tests: a transformer FFN block, a plain
// MatMul (the LLM-decode shape), and a small Gemm MLP with every Gemm attribute the quantizer folds.
// Weights are roughly normal (Irwin-Hall of 3 uniforms), like trained linear layers.
import { floatTensor, makeModel, node, tensor, valueInfo } from '../src/onnx/builder';
import { DataType } from '../src/onnx/dtype';
import type { ModelProto, NodeProto, TensorProto } from '../src/onnx/proto';
import { seededRandom } from '../src/runtime/random';

function normal(rand: () => number, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  const k = std * 2; // the sum of 3 U(0,1) has variance 1/4
  for (let i = 0; i < n; i++) out[i] = (rand() + rand() + rand() - 1.5) * k;
  return out;
}

export interface FfnSpec { hidden: number; ffn: number; seed?: number; tokens?: number | string }

/**
 * x [1, tokens, hidden] -> MatMul W1 [hidden, ffn] + b1 -> GELU (x * sigmoid(1.702 x)) -> MatMul W2 [ffn, hidden]
 * + b2 -> y. `tokens` may be a symbolic dim name.
 */
export function ffnModel({ hidden, ffn, seed = 1, tokens = 'tokens' }: FfnSpec): ModelProto {
  const rand = seededRandom(seed);
  const inits: TensorProto[] = [
    tensor('ffn.up.weight', DataType.FLOAT, [hidden, ffn], normal(rand, hidden * ffn, 0.02)),
    tensor('ffn.up.bias', DataType.FLOAT, [ffn], normal(rand, ffn, 0.01)),
    tensor('ffn.down.weight', DataType.FLOAT, [ffn, hidden], normal(rand, ffn * hidden, 0.02)),
    tensor('ffn.down.bias', DataType.FLOAT, [hidden], normal(rand, hidden, 0.01)),
    floatTensor('gelu.k', [], [1.702]),
  ];
  const nodes: NodeProto[] = [
    node('MatMul', ['x', 'ffn.up.weight'], ['up.mm'], {}, 'ffn.up.MatMul'),
    node('Add', ['up.mm', 'ffn.up.bias'], ['up'], {}, 'ffn.up.Add'),
    node('Mul', ['up', 'gelu.k'], ['gelu.scaled'], {}, 'gelu.Mul'),
    node('Sigmoid', ['gelu.scaled'], ['gelu.gate'], {}, 'gelu.Sigmoid'),
    node('Mul', ['up', 'gelu.gate'], ['act'], {}, 'gelu.out'),
    node('MatMul', ['act', 'ffn.down.weight'], ['down.mm'], {}, 'ffn.down.MatMul'),
    node('Add', ['down.mm', 'ffn.down.bias'], ['y'], {}, 'ffn.down.Add'),
  ];
  return makeModel({
    opset: 17, producer: 'onnxq-bench',
    graph: {
      name: `ffn_${hidden}_${ffn}`, node: nodes, initializer: inits,
      input: [valueInfo('x', DataType.FLOAT, [1, tokens, hidden])],
      output: [valueInfo('y', DataType.FLOAT, [1, tokens, hidden])],
    },
  });
}

/** x [rows, K] -> MatMul W [K, N] -> y: one linear layer (rows = 1 is the LLM-decode shape). */
export function matmulModel({ K, N, rows = 'rows', seed = 2 }: { K: number; N: number; rows?: number | string; seed?: number }): ModelProto {
  const rand = seededRandom(seed);
  return makeModel({
    opset: 17, producer: 'onnxq-bench',
    graph: {
      name: `matmul_${K}_${N}`,
      node: [node('MatMul', ['x', 'weight'], ['y'], {}, 'linear')],
      initializer: [tensor('weight', DataType.FLOAT, [K, N], normal(rand, K * N, 0.02))],
      input: [valueInfo('x', DataType.FLOAT, [rows, K])],
      output: [valueInfo('y', DataType.FLOAT, [rows, N])],
    },
  });
}

/**
 * x [batch, 64] -> Gemm (transB = 1, alpha 0.5, beta 1.5, C [48]) -> Relu -> Gemm (transB = 0, C [1, 32])
 * -> Relu -> Gemm (no C) -> y [batch, 16]: Gemm attributes the quantizer must fold.
 */
export function gemmMlpModel(seed = 3): ModelProto {
  const rand = seededRandom(seed);
  const w = (name: string, dims: number[], std: number) => tensor(name, DataType.FLOAT, dims, normal(rand, dims.reduce((a, b) => a * b, 1), std));
  return makeModel({
    opset: 13, producer: 'onnxq-test',
    graph: {
      name: 'gemm_mlp',
      node: [
        node('Gemm', ['x', 'fc1.weight', 'fc1.bias'], ['h1'], { transB: 1, alpha: 0.5, beta: 1.5 }, 'fc1'),
        node('Relu', ['h1'], ['a1'], {}, 'relu1'),
        node('Gemm', ['a1', 'fc2.weight', 'fc2.bias'], ['h2'], {}, 'fc2'),
        node('Relu', ['h2'], ['a2'], {}, 'relu2'),
        node('Gemm', ['a2', 'fc3.weight'], ['y'], { transB: 1 }, 'fc3'),
      ],
      initializer: [w('fc1.weight', [48, 64], 0.15), w('fc1.bias', [48], 0.05), w('fc2.weight', [48, 32], 0.15), w('fc2.bias', [1, 32], 0.05), w('fc3.weight', [16, 32], 0.15)],
      input: [valueInfo('x', DataType.FLOAT, ['batch', 64])],
      output: [valueInfo('y', DataType.FLOAT, ['batch', 16])],
    },
  });
}

/**
 * A speech-like 16 kHz signal (a voiced source: three harmonics of a gliding pitch under a syllable-rate
 * envelope, plus a little noise), `samples` long, starting at sample `t0`: what the audio models were
 * trained on, as far as it can be made without recordings.
 */
export function speechLike(samples: number, t0: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) {
    const t = t0 + i;
    const f0 = 140 + 60 * Math.sin((2 * Math.PI * t) / 16000 * 0.7);
    const env = 0.5 + 0.5 * Math.sin((2 * Math.PI * t) / 16000 * 4);
    const w = (2 * Math.PI * f0 * t) / 16000;
    out[i] = env * 0.3 * (Math.sin(w) + 0.5 * Math.sin(2 * w) + 0.25 * Math.sin(3.1 * w)) + 0.02 * (rand() * 2 - 1);
  }
  return out;
}

export interface ConvSpec { channels: number; size: number; layers: number; seed?: number; batch?: number | string }

/**
 * Dense 3x3 convolutions: x [batch, C, size, size] -> (Conv 3x3 C -> C, pad 1, with bias -> Relu) x layers
 * -> y. He-initialised weights, small biases: a ResNet-like stack.
 */
export function convModel({ channels: C, size, layers, seed = 4, batch = 'batch' }: ConvSpec): ModelProto {
  const rand = seededRandom(seed);
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  let x = 'x';
  for (let l = 0; l < layers; l++) {
    inits.push(tensor(`conv${l}.weight`, DataType.FLOAT, [C, C, 3, 3], normal(rand, C * C * 9, Math.sqrt(2 / (C * 9)))));
    inits.push(tensor(`conv${l}.bias`, DataType.FLOAT, [C], normal(rand, C, 0.05)));
    nodes.push(node('Conv', [x, `conv${l}.weight`, `conv${l}.bias`], [`conv${l}`], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, `conv${l}`));
    const out = l === layers - 1 ? 'y' : `relu${l}`;
    nodes.push(node('Relu', [`conv${l}`], [out], {}, `relu${l}`));
    x = out;
  }
  return makeModel({
    opset: 17, producer: 'onnxq-bench',
    graph: {
      name: `conv3x3_${C}x${size}x${layers}`, node: nodes, initializer: inits,
      input: [valueInfo('x', DataType.FLOAT, [batch, C, size, size])],
      output: [valueInfo('y', DataType.FLOAT, [batch, C, size, size])],
    },
  });
}
