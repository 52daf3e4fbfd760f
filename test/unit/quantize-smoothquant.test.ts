// SmoothQuant for static int8 (--smooth-quant): the per-channel abs-max collector, the float rewrite (exact:
// 1/s folded into LayerNormalization, into MatMul + bias Add, or a Mul inserted; s into the weights' input
// rows), and the gain on a transformer-like block whose LayerNormalization has outlier channels, as the
// report measures it (outputs against float, without and with, on the calibration samples) and on other
// inputs. Everything emitted loads in onnxruntime-node with optimization "all".
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { makeModel, modelFromProto, node, tensor, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import type { ModelProto } from '../../src/onnx/proto';
import { writeModel } from '../../src/onnx/write';
import { ChannelAbsMaxCalibrator, type CalibrationRunner, type FeedTensor } from '../../src/quantize/calibrate/calibrator';
import { ModelEditor } from '../../src/quantize/graph';
import { quantizeFile, resolveOptions, type QuantizeReport } from '../../src/quantize/index';
import { smoothQuant } from '../../src/quantize/static/smooth';
import { ortCalibrationRunner } from '../../src/runtime/calibration';
import { checkSession, optimizedOpCounts } from '../../src/runtime/check';
import { randn, worstOutputCosine } from './helpers/quantize';

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-smoothquant-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const F = DataType.FLOAT;
type Feeds = Record<string, ort.Tensor>;
const H = 64, FF = 96, TOKENS = 16;

/**
 * x [tokens, 64] -> LayerNormalization (gamma 12-20 on 4 outlier channels, about 1 elsewhere) -> ln, read by
 * MatMul W1 and MatMul W2. W1 -> Add b1 -> a1 -> MatMul W3 -> y1. W2 -> Relu -> r -> Gemm W4 (transB) -> y2.
 * SmoothQuant folds into the LayerNormalization (two readers), into MatMul W1 + Add b1, and inserts a Mul
 * after the Relu.
 */
function block(seed = 5, shape: 'outlier-activations' | 'outlier-weights' = 'outlier-activations'): ModelProto {
  const outliers = shape === 'outlier-activations';
  const gamma = Float32Array.from(randn(seed, H, 0.1), (v, i) => (outliers && i % 16 === 3 ? 12 + i / 8 : 1 + v));
  // The other way round: even activations, and weights whose rows on those channels are 200x the rest.
  const w = (name: string, dims: number[], s: number, k: number) => tensor(name, F, dims,
    Float32Array.from(randn(seed + k, dims[0] * dims[1], s), (v, j) => (!outliers && Math.floor(j / dims[1]) % 16 === 3 ? v * 200 : v)));
  return makeModel({
    opset: 17, producer: 'onnxq-test',
    graph: {
      name: 'smoothquant_block',
      node: [
        node('LayerNormalization', ['x', 'ln.gamma', 'ln.beta'], ['ln'], { axis: -1, epsilon: 1e-5 }, 'ln'),
        node('MatMul', ['ln', 'w1'], ['h1'], {}, 'mm1'),
        node('Add', ['h1', 'b1'], ['a1'], {}, 'add1'),
        node('MatMul', ['a1', 'w3'], ['y1'], {}, 'mm3'),
        node('MatMul', ['ln', 'w2'], ['h2'], {}, 'mm2'),
        node('Relu', ['h2'], ['r'], {}, 'relu'),
        node('Gemm', ['r', 'w4'], ['y2'], { transB: 1 }, 'gemm4'),
      ],
      initializer: [
        tensor('ln.gamma', F, [H], gamma), tensor('ln.beta', F, [H], randn(seed + 1, H, 0.1)),
        w('w1', [H, FF], 0.1, 2), tensor('b1', F, [FF], randn(seed + 3, FF, 0.05)), w('w3', [FF, H], 0.1, 4),
        w('w2', [H, FF], 0.1, 5), w('w4', [H, FF], 0.1, 6),
      ],
      input: [valueInfo('x', F, ['tokens', H])],
      output: [valueInfo('y1', F, ['tokens', H]), valueInfo('y2', F, ['tokens', H])],
    },
  });
}

const sample = (i: number): Feeds => ({ x: new ort.Tensor('float32', randn(1000 + i, TOKENS * H, 1), [TOKENS, H]) });

async function outputs(file: string, feeds: Feeds[]): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  try {
    const out: Float32Array[] = [];
    for (const f of feeds) { const y = await s.run(f); for (const k of Object.keys(y).sort()) out.push(y[k].data as Float32Array); }
    return out;
  } finally { await s.release(); }
}


describe('SmoothQuant', () => {
  it('the per-channel abs-max collector keeps max |x| per channel of the axis asked for', async () => {
    const c = new ChannelAbsMaxCalibrator(new Map([['k', 1]]));
    const t = (data: number[], dims: number[]): FeedTensor => ({ type: 'float32', data: Float32Array.from(data), dims });
    const batches = [t([1, -2, 3, -4, 5, -6, 0.5, 0.5], [2, 2, 2]), t([-7, 0, 0, 0, 0, 0, 0, 9], [2, 2, 2])];
    let n = 0;
    const runner: CalibrationRunner = { open: async () => ({ run: async () => ({ y: batches[n++] }), release: async () => {} }) };
    await c.collect(runner, 'unused.onnx', new Map([['y', 'k']]), [{}, {}]);
    assert.deepEqual([...c.channels('k')!], [7, 9]); // channel 0: 1,-2,5,-6,-7,... ; channel 1: 3,-4,0.5,0.5,...,9
    assert.deepEqual(c.ranges().get('k'), { min: -9, max: 9 });
    assert.equal(c.channels('other'), undefined);
  });

  it('the float rewrite is exact: 1/s into LayerNormalization, into MatMul + bias Add, else a Mul; s into the weight rows', async () => {
    const model = modelFromProto(block());
    const editor = new ModelEditor(model);
    const o = resolveOptions({ mode: 'static', smoothQuant: 0.5 });
    const feeds = Array.from({ length: 8 }, (_, i) => sample(i));
    const { smoothed, samples } = await smoothQuant(model, editor, o, ortCalibrationRunner, feeds);
    assert.equal(samples, 8);
    const by = Object.fromEntries(smoothed.map((s) => [s.activation, s]));
    assert.deepEqual(Object.keys(by).sort(), ['a1', 'ln', 'r']);
    assert.equal(by.ln.foldedInto, 'LayerNormalization');
    assert.deepEqual(by.ln.consumers.sort(), ['mm1', 'mm2']);
    assert.equal(by.a1.foldedInto, 'MatMul + Add');
    assert.equal(by.r.foldedInto, 'Mul');
    assert.ok(by.ln.spread > 3, `spread ${by.ln.spread}`); // the outlier channels got much larger s
    const [a, b] = [path.join(tmp, 'block.onnx'), path.join(tmp, 'block.smoothed.onnx')];
    writeModel(modelFromProto(block()), a);
    writeModel(model, b);
    const [ya, yb] = [await outputs(a, feeds), await outputs(b, feeds)];
    for (let i = 0; i < ya.length; i++) {
      let worst = 0, scale = 0;
      for (let j = 0; j < ya[i].length; j++) { worst = Math.max(worst, Math.abs(ya[i][j] - yb[i][j])); scale = Math.max(scale, Math.abs(ya[i][j])); }
      assert.ok(worst <= 1e-4 * scale, `output ${i}: max diff ${worst} of ${scale}`);
    }
  });

  it('static int8 with --smooth-quant: smoother activations, a better output cosine, reported; loads with optimization "all"', async (t) => {
    const src = path.join(tmp, 'block.src.onnx');
    writeModel(modelFromProto(block()), src);
    const calibration = { runner: ortCalibrationRunner, random: false, source: 'test', feeds: function* () { for (let i = 0; i < 16; i++) yield sample(i); } };
    const plain = path.join(tmp, 'block.q.onnx'), smooth = path.join(tmp, 'block.sq.onnx');
    await quantizeFile(src, plain, { mode: 'static' }, { verify: checkSession, calibration });
    const report: QuantizeReport = await quantizeFile(src, smooth, { mode: 'static', smoothQuant: true }, { verify: checkSession, calibration });
    const sq = report.smoothQuant!;
    assert.equal(sq.alpha, 0.5);
    assert.equal(sq.smoothed.length, 3);
    const cmp = sq.comparison!;
    assert.equal(cmp.samples, 16);
    assert.ok(cmp.cosineWith > cmp.cosineWithout, JSON.stringify(cmp));
    assert.ok(cmp.sqnrWith! > cmp.sqnrWithout! + 3, JSON.stringify(cmp));
    assert.ok(report.notes.some((n) => /SmoothQuant \(alpha 0\.5\) smoothed 3 activations \(1\/s folded into the producer for 2, a Mul inserted for 1\)/.test(n)), report.notes.join('\n'));
    assert.deepEqual(report.quantized.sort(), ['gemm4', 'mm1', 'mm2', 'mm3']);
    const ops = await optimizedOpCounts(smooth);
    assert.ok(ops.QLinearMatMul >= 3, JSON.stringify(ops));
    // On other inputs, against the float model.
    const [cp, cs] = [await worstOutputCosine(src, plain, 16, (i) => sample(500 + i)), await worstOutputCosine(src, smooth, 16, (i) => sample(500 + i))];
    assert.ok(cs > cp, `cosine without ${cp}, with ${cs}`);
    t.diagnostic(`SmoothQuant block: calibration cosine ${cmp.cosineWithout} -> ${cmp.cosineWith}, SQNR ${cmp.sqnrWithout} -> ${cmp.sqnrWith} dB; other inputs ${cp.toFixed(5)} -> ${cs.toFixed(5)}`);
  });

  it('kept only where it helps: when it makes the worst output worse, the model is written without it and the report says so', async () => {
    const src = path.join(tmp, 'even.src.onnx');
    writeModel(modelFromProto(block(5, 'outlier-weights')), src);
    const calibration = { runner: ortCalibrationRunner, random: false, source: 'test', feeds: function* () { for (let i = 0; i < 16; i++) yield sample(i); } };
    const plain = path.join(tmp, 'even.q.onnx'), smooth = path.join(tmp, 'even.sq.onnx');
    await quantizeFile(src, plain, { mode: 'static' }, { verify: checkSession, calibration });
    const report = await quantizeFile(src, smooth, { mode: 'static', smoothQuant: 0.01 }, { verify: checkSession, calibration });
    const cmp = report.smoothQuant!.comparison!;
    // Even activations, weights with outlier rows, and an alpha near 0: the smoothing scales move the
    // weights' outliers into the activations, which then quantize worse than before.
    assert.ok(cmp.cosineWith < cmp.cosineWithout, JSON.stringify(cmp));
    assert.equal(report.smoothQuant!.kept, false);
    assert.ok(report.notes.some((n) => /^SmoothQuant \(alpha 0\.01\) was dropped: it made the worst output worse/.test(n)), report.notes.join('\n'));
    assert.ok(!report.notes.some((n) => /smoothed \d+ activation/.test(n)), 'the report is the one of the model written');
    // The file written is the model without it: the same outputs as a plain static quantization, value for value.
    const feeds = Array.from({ length: 4 }, (_, i) => sample(500 + i));
    assert.deepEqual(await outputs(smooth, feeds), await outputs(plain, feeds));
  });

  it('nothing to smooth: reported as such, the model quantized as without it', async () => {
    const src = path.join(tmp, 'conv.onnx');
    writeModel(modelFromProto(makeModel({
      opset: 13, producer: 'onnxq-test',
      graph: {
        name: 'conv', node: [node('Conv', ['x', 'w'], ['y'], { kernel_shape: [1, 1] }, 'conv')],
        initializer: [tensor('w', F, [4, 4, 1, 1], randn(3, 16, 0.5))],
        input: [valueInfo('x', F, [1, 4, 8, 8])], output: [valueInfo('y', F, [1, 4, 8, 8])],
      },
    })), src);
    const calibration = { runner: ortCalibrationRunner, random: false, source: 'test', feeds: function* () { for (let i = 0; i < 4; i++) yield { x: new ort.Tensor('float32', randn(i, 256), [1, 4, 8, 8]) }; } };
    const report = await quantizeFile(src, path.join(tmp, 'conv.q.onnx'), { mode: 'static', smoothQuant: 0.7 }, { verify: checkSession, calibration });
    assert.deepEqual(report.smoothQuant, { alpha: 0.7, smoothed: [], samples: 0, comparison: null, kept: true });
    assert.ok(report.notes.some((n) => /nothing was smoothed/.test(n)));
    assert.deepEqual(report.quantized, ['conv']);
  });
});
