// Recurrent layers in dynamic mode: LSTM as onnxruntime's DynamicQuantizeLSTM (its weights transposed, int8,
// a scale per gate row by default), also when the exporter computes the weights from constants inside an If
// branch (Slice + Concat + Unsqueeze of an outer Constant, as Silero VAD v5 does); GRU and RNN in float with
// the reason. Every model runs in onnxruntime-node.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { floatTensor, int64Tensor, makeModel, modelFromProto, node, tensor, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { loadModel } from '../../src/onnx/load';
import type { GraphProto } from '../../src/onnx/proto';
import { writeModel } from '../../src/onnx/write';
import { QuantizeError, quantizeFile, type QuantizeOptions } from '../../src/quantize/index';
import { checkSession } from '../../src/runtime/check';
import { cosineSimilarity } from '../../src/runtime/compare';
import { randn } from './helpers/quantize';

const F = DataType.FLOAT;
const T = 7, B = 2, I = 16, H = 24;
let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-rnn-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function lstmGraph(direction: 'forward' | 'bidirectional', extra: Record<string, number> = {}): GraphProto {
  const D = direction === 'bidirectional' ? 2 : 1;
  return {
    name: 'lstm',
    node: [node('LSTM', ['x', 'W', 'R', 'Bias', '', 'h0'], ['y', 'yh', 'yc'], { hidden_size: H, direction, ...extra }, 'lstm')],
    initializer: [
      tensor('W', F, [D, 4 * H, I], randn(1, D * 4 * H * I, 0.3)), tensor('R', F, [D, 4 * H, H], randn(2, D * 4 * H * H, 0.3)),
      tensor('Bias', F, [D, 8 * H], randn(3, D * 8 * H, 0.1)),
    ],
    input: [valueInfo('x', F, [T, B, I]), valueInfo('h0', F, [D, B, H])],
    output: [valueInfo('y', F, null), valueInfo('yh', F, null), valueInfo('yc', F, null)],
  };
}

async function run(file: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
  try { return await s.run(feeds); } finally { await s.release(); }
}

async function quantize(name: string, g: GraphProto, options: QuantizeOptions = {}, opset = 14) {
  const src = path.join(tmp, `${name}.onnx`), out = path.join(tmp, `${name}.q.onnx`);
  writeModel(modelFromProto(makeModel({ graph: g, opset })), src);
  const report = await quantizeFile(src, out, options, { verify: checkSession });
  return { src, out, report, model: loadModel(out) };
}

/**
 * The outputs' cosines against the float model. 8-bit weights with 40+ dB SQNR over a 7-step sequence keep
 * each output (the sequence, the last hidden and cell state) within 0.999 of the float direction; a wrong
 * layout (W not transposed, gates swapped) gives values unrelated to the float ones, far below.
 */
async function cosines(src: string, out: string, D: number): Promise<Record<string, number>> {
  const feeds = { x: new ort.Tensor('float32', randn(9, T * B * I), [T, B, I]), h0: new ort.Tensor('float32', randn(10, D * B * H, 0.5), [D, B, H]) };
  const [a, b] = [await run(src, feeds), await run(out, feeds)];
  return Object.fromEntries(['y', 'yh', 'yc'].map((k) => {
    assert.deepEqual(b[k].dims, a[k].dims, k);
    return [k, cosineSimilarity(a[k].data as Float32Array, b[k].data as Float32Array)];
  }));
}

describe('LSTM in dynamic mode becomes DynamicQuantizeLSTM', () => {
  for (const direction of ['forward', 'bidirectional'] as const) {
    for (const perChannel of [undefined, false]) {
      it(`${direction}, ${perChannel === false ? 'per-tensor' : 'per-channel (default)'}`, async () => {
        const D = direction === 'bidirectional' ? 2 : 1;
        const { src, out, report, model } = await quantize(`lstm-${direction}-${perChannel}`, lstmGraph(direction), perChannel === false ? { perChannel } : {});
        assert.deepEqual(report.quantized, ['lstm']);
        assert.deepEqual(report.emitted, { DynamicQuantizeLSTM: 1 });
        const q = model.proto.graph!.node![0];
        assert.equal(q.op_type, 'DynamicQuantizeLSTM');
        assert.equal(q.domain, 'com.microsoft');
        assert.equal(model.opsets['com.microsoft'], 1);
        // X, W, R, B, sequence_lens, initial_h, initial_c, P, W_scale, W_zero_point, R_scale, R_zero_point.
        assert.equal(q.input!.length, 12);
        assert.deepEqual([q.input![3], q.input![4], q.input![5]], ['Bias', '', 'h0']);
        const w = (name: string) => model.weights().find((t) => t.name === name)!;
        assert.deepEqual([w(q.input![1]).dtypeName, w(q.input![1]).dims], ['int8', [D, I, 4 * H]], 'W transposed to [D, input, 4H]');
        assert.deepEqual(w(q.input![2]).dims, [D, H, 4 * H], 'R transposed to [D, hidden, 4H]');
        assert.deepEqual(w(q.input![8]).dims, perChannel === false ? [D] : [D, 4 * H]);
        assert.deepEqual([w(q.input![9]).dtypeName, [...w(q.input![9]).values()].every((z) => z === 0)], ['int8', true]);
        assert.equal(model.weights().find((t) => t.name === 'W'), undefined, 'the float W is gone');
        assert.deepEqual(report.weights.map((x) => x.scheme), perChannel === false ? ['int8 symmetric per-tensor', 'int8 symmetric per-tensor'] : ['int8 symmetric per-channel', 'int8 symmetric per-channel']);
        for (const [k, c] of Object.entries(await cosines(src, out, D))) assert.ok(c > 0.999, `${k}: cosine ${c}`);
      });
    }
  }

  it('weights computed from an outer Constant inside an If branch (Slice + Concat + Unsqueeze) are folded and quantized', async () => {
    const W = randn(1, 4 * H * I, 0.3), R = randn(2, 4 * H * H, 0.3);
    // The exporter stores the gates in another order and builds ONNX's order (i, o, f, c) at run time.
    const gates = (name: string): NonNullable<GraphProto['node']> => [
      node('Slice', [`${name}_all`, 'g0s', 'g0e', 'ax0'], [`${name}_a`], {}, `${name}_slice_a`),
      node('Slice', [`${name}_all`, 'g1s', 'g1e', 'ax0'], [`${name}_b`], {}, `${name}_slice_b`),
      node('Concat', [`${name}_b`, `${name}_a`], [`${name}_cat`], { axis: 0 }, `${name}_concat`),
      node('Unsqueeze', [`${name}_cat`, 'ax0'], [name], {}, `${name}_unsqueeze`),
    ];
    const branch = (label: string): GraphProto => ({
      name: label,
      node: [...gates('Wb'), ...gates('Rb'), node('LSTM', ['x', 'Wb', 'Rb', '', '', 'h0'], ['y', 'yh', 'yc'], { hidden_size: H }, `${label}_lstm`)],
      output: [valueInfo('y', F, null), valueInfo('yh', F, null), valueInfo('yc', F, null)],
    });
    const g: GraphProto = {
      name: 'if_lstm',
      node: [
        node('Constant', [], ['Wb_all'], { value: floatTensor('Wc', [4 * H, I], W) }, 'w_const'),
        node('Constant', [], ['Rb_all'], { value: floatTensor('Rc', [4 * H, H], R) }, 'r_const'),
        node('If', ['cond'], ['y', 'yh', 'yc'], { then_branch: branch('then'), else_branch: branch('else') }, 'if'),
      ],
      initializer: [int64Tensor('g0s', [1], [0]), int64Tensor('g0e', [1], [2 * H]), int64Tensor('g1s', [1], [2 * H]), int64Tensor('g1e', [1], [4 * H]), int64Tensor('ax0', [1], [0])],
      input: [valueInfo('x', F, [T, B, I]), valueInfo('h0', F, [1, B, H]), valueInfo('cond', DataType.BOOL, [])],
      output: [valueInfo('y', F, null), valueInfo('yh', F, null), valueInfo('yc', F, null)],
    };
    const { src, out, report, model } = await quantize('if-lstm', g, {}, 16);
    assert.deepEqual(report.quantized.sort(), ['else_lstm', 'then_lstm']);
    assert.ok(report.notes.some((n) => /^4 weights were computed from constants at run time .* folded into initializers first/.test(n)), report.notes.join('\n'));
    // The chains and the float Constants are gone: the file holds the int8 weights only.
    const ops = [...model.nodes()].map(({ node: n }) => n.op_type);
    assert.deepEqual(ops.filter((o) => o === 'Slice' || o === 'Concat' || o === 'Constant'), []);
    assert.deepEqual(model.weights().filter((t) => t.dtype === F).map((t) => t.name).filter((n) => !/_scale$/.test(n)), [], 'no float weight left');
    for (const cond of [true, false]) {
      const feeds = { x: new ort.Tensor('float32', randn(9, T * B * I), [T, B, I]), h0: new ort.Tensor('float32', randn(10, B * H, 0.5), [1, B, H]), cond: new ort.Tensor('bool', [cond], []) };
      const [a, b] = [await run(src, feeds), await run(out, feeds)];
      for (const k of ['y', 'yh', 'yc']) {
        const c = cosineSimilarity(a[k].data as Float32Array, b[k].data as Float32Array);
        assert.ok(c > 0.999, `branch ${cond}, ${k}: cosine ${c}`);
      }
    }
  });

  it('an LSTM with layout = 1 stays in float with the reason', async () => {
    const g = lstmGraph('forward', { layout: 1 });
    g.input = [valueInfo('x', F, [B, T, I]), valueInfo('h0', F, [B, 1, H])];
    const src = path.join(tmp, 'layout1.onnx');
    writeModel(modelFromProto(makeModel({ graph: g, opset: 14 })), src);
    await assert.rejects(quantizeFile(src, path.join(tmp, 'layout1.q.onnx'), {}, { verify: async () => {} }),
      (e: unknown) => e instanceof QuantizeError && e.code === 'nothing-to-quantize' && /LSTM with layout = 1/.test(e.message));
  });
});

describe('GRU and RNN stay in float, with the reason', () => {
  for (const op of ['GRU', 'RNN'] as const) {
    it(`${op}: listed as skipped beside a quantized MatMul; alone, nothing to quantize`, async () => {
      const gatesOf = op === 'GRU' ? 3 : 1;
      const rnn = node(op, ['x', 'W', 'R'], ['y', 'yh'], { hidden_size: H }, op.toLowerCase());
      const inits = [tensor('W', F, [1, gatesOf * H, I], randn(1, gatesOf * H * I, 0.3)), tensor('R', F, [1, gatesOf * H, H], randn(2, gatesOf * H * H, 0.3))];
      const g: GraphProto = {
        name: op, node: [rnn, node('MatMul', ['yh', 'P'], ['z'], {}, 'proj')],
        initializer: [...inits, tensor('P', F, [H, 8], randn(4, H * 8, 0.2))],
        input: [valueInfo('x', F, [T, B, I])], output: [valueInfo('z', F, null)],
      };
      const { report } = await quantize(`${op}-mm`, g);
      assert.deepEqual(report.quantized, ['proj']);
      const skipped = report.skipped.find((s) => s.name === op.toLowerCase());
      assert.match(skipped?.reason ?? '', new RegExp(`^${op} stays in float: onnxruntime has a dynamically quantized kernel for LSTM only`));
      const alone: GraphProto = { name: op, node: [rnn], initializer: inits, input: [valueInfo('x', F, [T, B, I])], output: [valueInfo('yh', F, null)] };
      const src = path.join(tmp, `${op}-alone.onnx`);
      writeModel(modelFromProto(makeModel({ graph: alone, opset: 14 })), src);
      await assert.rejects(quantizeFile(src, path.join(tmp, `${op}-alone.q.onnx`), {}, { verify: checkSession }),
        (e: unknown) => e instanceof QuantizeError && e.code === 'nothing-to-quantize' && new RegExp(`1 ${op} stays in float`).test(e.message));
    });
  }
});
