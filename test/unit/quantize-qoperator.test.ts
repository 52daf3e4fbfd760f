// Static quantization in QOperator form (static/qoperator.ts): the QDQ model rewritten into QLinearConv,
// QLinearMatMul, com.microsoft QGemm/QLinearAdd/QLinearMul/QLinearConcat/QLinearGlobalAveragePool/... Each
// case quantizes the same model twice on the same calibration samples (QDQ, then QOperator), checks that the
// QOperator model loads with optimization "all", holds the expected operators and no DequantizeLinear in
// front of a converted node, and gives the QDQ model's outputs (cosine >= 0.999 over the same inputs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { floatTensor, int64Tensor, makeModel, modelFromProto, node, tensor, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { loadModel } from '../../src/onnx/load';
import type { ModelProto } from '../../src/onnx/proto';
import { writeModel } from '../../src/onnx/write';
import { quantizeFile, type QuantizeOptions, type QuantizeReport } from '../../src/quantize/index';
import { ModelEditor } from '../../src/quantize/graph';
import { opCounts, qdqToQOperator } from '../../src/quantize/static/qoperator';
import { ortCalibrationRunner } from '../../src/runtime/calibration';
import { checkSession } from '../../src/runtime/check';
import { readTensorFile } from '../../src/runtime/inputs';
import { digitImage, speechSignal, textLine, toRgbTensor } from '../../bench/synthetic';
import { convModel, ffnModel } from '../../bench/quantize-models';
import { modelsDir, noModels, repoRoot, sampleModel } from './helpers/models';
import { randn, worstOutputCosine } from './helpers/quantize';

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-qop-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Feeds = Record<string, ort.Tensor>;
const T = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
let counter = 0;

interface Pair { fp32: string; qdq: string; qop: string; report: QuantizeReport; ops: Record<string, number> }

/** Quantizes `src` in QDQ and in QOperator form on the same samples. */
async function both(src: string, samples: (i: number) => Feeds, n: number, options: QuantizeOptions = {}): Promise<Pair> {
  const base = path.join(tmp, `m${counter++}`);
  const calibration = () => ({ runner: ortCalibrationRunner, random: false, source: 'test samples', feeds: function* () { for (let i = 0; i < n; i++) yield samples(i); } });
  await quantizeFile(src, `${base}.qdq.onnx`, { mode: 'static', ...options }, { verify: checkSession, calibration: calibration() });
  const report = await quantizeFile(src, `${base}.qop.onnx`, { mode: 'static', format: 'qoperator', ...options }, { verify: checkSession, calibration: calibration() });
  return { fp32: src, qdq: `${base}.qdq.onnx`, qop: `${base}.qop.onnx`, report, ops: opCounts(loadModel(`${base}.qop.onnx`)) };
}

/**
 * Both forms against the float model, each output on its own: the QOperator form is the same quantization
 * written in other ops, so its worst output may not fall below the QDQ form's by more than rounding (the
 * fused kernels requantize in another order: 0.001 of cosine).
 */
async function againstFp32(p: Pair, n: number, feeds: (i: number) => Feeds, t: { diagnostic: (s: string) => void }): Promise<void> {
  const [qdq, qop] = [await worstOutputCosine(p.fp32, p.qdq, n, feeds), await worstOutputCosine(p.fp32, p.qop, n, feeds)];
  t.diagnostic(`worst output against FP32: QDQ ${qdq.toFixed(6)}, QOperator ${qop.toFixed(6)}`);
  assert.ok(qop >= qdq - 0.001, `QOperator ${qop} against QDQ ${qdq}`);
}

const fromProto = (proto: ModelProto) => {
  const f = path.join(tmp, `p${counter++}.onnx`);
  writeModel(modelFromProto(proto), f);
  return f;
};

function assertConverted(p: Pair, want: string[], unwanted: string[] = []): void {
  for (const op of want) assert.ok((p.ops[op] ?? 0) > 0, `${op} in ${JSON.stringify(p.ops)}`);
  const m = loadModel(p.qop);
  // No quantized operator, and none of the `unwanted` float ops, reads a DequantizeLinear (float ones that
  // remain were float in the QDQ model too: e.g. in If branches that calibration never reached).
  const dqOut = new Set([...m.nodes()].filter(({ node: n }) => n.op_type === 'DequantizeLinear').map(({ node: n }) => n.output![0]));
  for (const { node: n } of m.nodes()) {
    if (/^Q(Linear|Gemm)/.test(n.op_type ?? '') || unwanted.includes(n.op_type ?? '')) assert.ok(!(n.input ?? []).some((i) => dqOut.has(i)), `${n.op_type} ${n.name} reads a DequantizeLinear`);
  }
}

describe('static QOperator on generated models', () => {
  it('FFN block: MatMul -> QLinearMatMul, the GELU Mul in float; same outputs as QDQ', async (t) => {
    const src = fromProto(ffnModel({ hidden: 64, ffn: 256, seed: 3 }));
    const feeds = (i: number) => ({ x: T(randn(100 + i, 8 * 64), [1, 8, 64]) });
    const p = await both(src, feeds, 8);
    assertConverted(p, ['QLinearMatMul'], ['MatMul']);
    assert.equal(p.ops.MatMul ?? 0, 0);
    assert.equal(p.report.format, 'qoperator');
    assert.ok(p.report.notes.some((s) => /QOperator form: .*MatMul -> QLinearMatMul/.test(s)), p.report.notes.join('\n'));
    const cos = await worstOutputCosine(p.qdq, p.qop, 16, (i) => feeds(500 + i));
    t.diagnostic(`cosine QOperator vs QDQ ${cos.toFixed(6)}; ops ${JSON.stringify(p.ops)}`);
    assert.ok(cos >= 0.999, `cosine ${cos}`);
    await againstFp32(p, 16, (i) => feeds(500 + i), t);
  });

  it('Conv stack: Conv (+ folded Relu) -> QLinearConv with int32 bias; same outputs as QDQ', async (t) => {
    const src = fromProto(convModel({ channels: 8, size: 12, layers: 3, seed: 9, batch: 1 }));
    const feeds = (i: number) => ({ x: T(randn(200 + i, 8 * 12 * 12), [1, 8, 12, 12]) });
    const p = await both(src, feeds, 8);
    assertConverted(p, ['QLinearConv'], ['Conv']);
    assert.equal(p.ops.QLinearConv, 3);
    assert.equal(p.ops.QuantizeLinear, 1);
    assert.equal(p.ops.DequantizeLinear, 1);
    const qc = [...loadModel(p.qop).nodes()].find(({ node: n }) => n.op_type === 'QLinearConv')!.node;
    assert.equal(qc.input!.length, 9, 'QLinearConv has its int32 bias');
    const cos = await worstOutputCosine(p.qdq, p.qop, 16, (i) => feeds(500 + i));
    t.diagnostic(`cosine QOperator vs QDQ ${cos.toFixed(6)}; ops ${JSON.stringify(p.ops)}`);
    assert.ok(cos >= 0.999, `cosine ${cos}`);
    await againstFp32(p, 16, (i) => feeds(500 + i), t);
  });

  for (const activationType of ['uint8', 'int8'] as const) it(`Gemm -> com.microsoft QGemm; Add, Mul, Concat, pools, Sigmoid, LeakyRelu -> com.microsoft QLinear ops; MaxPool/Reshape on ${activationType}`, async (t) => {
    const F = DataType.FLOAT;
    const w = (name: string, dims: number[], seed: number) => floatTensor(name, dims, randn(seed, dims.reduce((a, b) => a * b, 1), 0.3));
    const proto = makeModel({
      opset: 13,
      graph: {
      name: 'ops',
      input: [valueInfo('x', F, [1, 4, 8, 8])],
      output: [valueInfo('y', F, [1, 10])],
      initializer: [w('cw', [4, 4, 3, 3], 1), w('cb', [4], 2), w('gw', [10, 48], 3), w('gb', [10], 4), int64Tensor('shape', [2], [1, 48])],
      node: [
        node('Conv', ['x', 'cw', 'cb'], ['c'], { pads: [1, 1, 1, 1] }, 'conv'),
        node('LeakyRelu', ['c'], ['l'], { alpha: 0.1 }, 'leaky'),
        node('Sigmoid', ['l'], ['s'], {}, 'sigmoid'),
        node('Mul', ['l', 's'], ['m'], {}, 'mul'),
        node('Add', ['m', 'x'], ['a'], {}, 'add'),
        node('MaxPool', ['a'], ['mp'], { kernel_shape: [2, 2], strides: [2, 2] }, 'maxpool'),
        node('AveragePool', ['a'], ['ap'], { kernel_shape: [2, 2], strides: [2, 2] }, 'avgpool'),
        node('Concat', ['mp', 'ap', 'mp'], ['cat'], { axis: 1 }, 'concat'),
        node('GlobalAveragePool', ['cat'], ['gap'], {}, 'gap'),
        node('Mul', ['cat', 'gap'], ['se'], {}, 'se'),
        node('AveragePool', ['se'], ['p2'], { kernel_shape: [2, 2], strides: [2, 2] }, 'avgpool2'),
        node('Reshape', ['p2', 'shape'], ['flat'], {}, 'flatten'),
        node('Gemm', ['flat', 'gw', 'gb'], ['y'], { transB: 1 }, 'gemm'),
      ],
      },
    });
    const src = fromProto(proto);
    const feeds = (i: number) => ({ x: T(randn(300 + i, 4 * 64), [1, 4, 8, 8]) });
    const opTypes = ['Conv', 'Gemm', 'Add', 'Mul', 'Concat', 'AveragePool', 'GlobalAveragePool', 'Sigmoid', 'LeakyRelu', 'MaxPool', 'Reshape'];
    const p = await both(src, feeds, 8, { opTypes, activationType });
    assertConverted(p, ['QLinearConv', 'com.microsoft:QGemm', 'com.microsoft:QLinearAdd', 'com.microsoft:QLinearMul', 'com.microsoft:QLinearConcat',
      'com.microsoft:QLinearAveragePool', 'com.microsoft:QLinearGlobalAveragePool', 'com.microsoft:QLinearSigmoid', 'com.microsoft:QLinearLeakyRelu', 'MaxPool', 'Reshape'],
    ['Conv', 'Gemm', 'Add', 'Mul', 'Concat', 'AveragePool', 'GlobalAveragePool', 'Sigmoid', 'LeakyRelu']);
    for (const op of ['Conv', 'Gemm', 'Add', 'Mul', 'Concat', 'AveragePool', 'GlobalAveragePool', 'Sigmoid', 'LeakyRelu', 'DequantizeLinear']) assert.equal(p.ops[op] ?? 0, 0, `no ${op} in ${JSON.stringify(p.ops)}`);
    const cos = await worstOutputCosine(p.qdq, p.qop, 16, (i) => feeds(500 + i));
    t.diagnostic(`cosine QOperator vs QDQ ${cos.toFixed(6)}; ops ${JSON.stringify(p.ops)}`);
    assert.ok(cos >= 0.999, `cosine ${cos}`);
    await againstFp32(p, 16, (i) => feeds(500 + i), t);
  });
});

describe('what has no QOperator form stays in QDQ form, with the reason in the report', () => {
  it('Softmax, and Conv with a float bias (--no-quantize-bias), stay QDQ; the model still agrees with QDQ', async (t) => {
    const F = DataType.FLOAT;
    const proto = makeModel({
      opset: 13,
      graph: {
        name: 'kept',
        input: [valueInfo('x', F, [1, 4, 6, 6])],
        output: [valueInfo('y', F, [1, 4, 6, 6])],
        initializer: [floatTensor('cw', [4, 4, 3, 3], randn(5, 144, 0.3)), floatTensor('cb', [4], randn(6, 4, 0.1))],
        node: [node('Conv', ['x', 'cw', 'cb'], ['c'], { pads: [1, 1, 1, 1] }, 'conv'), node('Softmax', ['c'], ['y'], { axis: 1 }, 'softmax')],
      },
    });
    const feeds = (i: number) => ({ x: T(randn(400 + i, 144), [1, 4, 6, 6]) });
    const p = await both(fromProto(proto), feeds, 8, { opTypes: ['Conv', 'Softmax'], quantizeBias: false });
    const note = p.report.notes.find((n) => /stay in QDQ form/.test(n)) ?? '';
    assert.match(note, /^2 quantized nodes stay in QDQ form: /);
    assert.match(note, /conv \(its bias "cb" is not int32 behind a DequantizeLinear \(QLinearConv takes an int32 bias\)\)/);
    assert.match(note, /softmax \(com\.microsoft QLinearSoftmax is not emitted by this build\)/);
    assert.equal(p.ops.Conv, 1);
    assert.equal(p.ops.Softmax, 1);
    const cos = await worstOutputCosine(p.qdq, p.qop, 8, (i) => feeds(500 + i));
    t.diagnostic(`cosine QOperator vs QDQ ${cos.toFixed(6)}`);
    assert.ok(cos >= 0.999, `cosine ${cos}`);
    await againstFp32(p, 8, (i) => feeds(500 + i), t);
  });
});

describe('static QOperator on real models: loads with optimization "all", agrees with QDQ (cosine >= 0.999)', () => {
  it('MNIST (samples/mnist-8.onnx)', async (t) => {
    const feeds = (s: number) => ({ Input3: T(digitImage(s).pixels.map((v) => v * 255), [1, 1, 28, 28]) });
    const p = await both(sampleModel, (i) => feeds(10000 + i), 16);
    assertConverted(p, ['QLinearConv', 'QLinearMatMul'], ['Conv', 'MatMul']);
    const cos = await worstOutputCosine(p.qdq, p.qop, 32, (i) => feeds(50000 + i));
    t.diagnostic(`cosine QOperator vs QDQ ${cos.toFixed(6)}; ops ${JSON.stringify(p.ops)}`);
    assert.ok(cos >= 0.999, `cosine ${cos}`);
    await againstFp32(p, 32, (i) => feeds(50000 + i), t);
  });

  it('PP-OCR cls (ch_ppocr_mobile_v2.0_cls_infer.onnx)', { skip: noModels }, async (t) => {
    const feeds = (s: number) => ({ x: T(toRgbTensor(textLine(192, 48, s, { rotate180: s % 2 === 1, cjk: 0, fill: 0.9 })), [1, 3, 48, 192]) });
    const p = await both(path.join(modelsDir, 'ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx'), (i) => feeds(10000 + i), 32);
    assertConverted(p, ['QLinearConv', 'QLinearMatMul', 'com.microsoft:QLinearAdd', 'com.microsoft:QLinearGlobalAveragePool'], ['Conv', 'MatMul']);
    assert.equal(p.ops.Conv ?? 0, 0);
    assert.ok(!p.report.notes.some((n) => /stays? in QDQ form/.test(n)), p.report.notes.join('\n'));
    const cos = await worstOutputCosine(p.qdq, p.qop, 32, (i) => feeds(50000 + i));
    t.diagnostic(`cosine QOperator vs QDQ ${cos.toFixed(6)}; ops ${JSON.stringify(p.ops)}`);
    assert.ok(cos >= 0.999, `cosine ${cos}`);
    await againstFp32(p, 32, (i) => feeds(50000 + i), t);
  });

  it('Silero VAD, if-less (silero_vad_op18_ifless.onnx), with every op type the QOperator form has', { skip: noModels }, async (t) => {
    const sr = new ort.Tensor('int64', BigInt64Array.of(16000n), []);
    const feeds = (s: number) => ({ input: T(speechSignal(512, s >> 4, { t0: (s & 15) * 512 }), [1, 512]), sr, state: T(new Float32Array(256), [2, 1, 128]) });
    const opTypes = ['Conv', 'MatMul', 'Gemm', 'Add', 'Mul', 'Concat', 'AveragePool', 'GlobalAveragePool', 'Sigmoid', 'LeakyRelu', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Flatten', 'MaxPool', 'Gather', 'Split'];
    const p = await both(path.join(modelsDir, 'silero/silero_vad_op18_ifless.onnx'), (i) => feeds(10000 + i), 32, { opTypes });
    assertConverted(p, ['QLinearConv', 'com.microsoft:QGemm', 'com.microsoft:QLinearAdd', 'com.microsoft:QLinearMul', 'com.microsoft:QLinearSigmoid', 'com.microsoft:QLinearConcat'], ['Conv', 'Gemm', 'Add', 'Mul', 'Sigmoid', 'Concat']);
    assert.ok(!p.report.notes.some((n) => /stays? in QDQ form/.test(n)), p.report.notes.join('\n'));
    const cos = await worstOutputCosine(p.qdq, p.qop, 32, (i) => feeds(50000 + i));
    t.diagnostic(`cosine QOperator vs QDQ ${cos.toFixed(6)}; ops ${JSON.stringify(p.ops)}`);
    assert.ok(cos >= 0.999, `cosine ${cos}`);
    await againstFp32(p, 32, (i) => feeds(50000 + i), t);
  });
});

describe('the rewrite against the ONNX conformance cases (QLinearConv, QLinearMatMul)', { skip: noModels }, () => {
  const DT: Record<string, number> = { uint8: DataType.UINT8, int8: DataType.INT8, float32: DataType.FLOAT, int32: DataType.INT32 };
  for (const [name, op] of [['test_qlinearconv', 'Conv'], ['test_qlinearmatmul_2D', 'MatMul'], ['test_qlinearmatmul_3D', 'MatMul']]) {
    it(`${name}: DequantizeLinear -> ${op} -> QuantizeLinear on its data becomes the case's operator and gives its expected output`, async (t) => {
      const dir = path.join(modelsDir, 'conformance', name);
      const ref = loadModel(path.join(dir, 'model.onnx')).proto.graph!.node![0];
      const data = ref.input!.map((_, i) => readTensorFile(path.join(dir, 'test_data_set_0', `input_${i}.pb`)).tensor);
      const expected = readTensorFile(path.join(dir, 'test_data_set_0', 'output_0.pb')).tensor;
      const c = (n: string, i: number) => tensor(n, DT[data[i].type], [...data[i].dims], data[i].data as ArrayBufferView);
      const conv = node(op, ['xf', 'wf'], ['yf'], {}, 'op');
      conv.attribute = ref.attribute ?? [];
      const proto = makeModel({
        opset: 13,
        graph: {
          name,
          input: [valueInfo('x', DT[data[0].type], [...data[0].dims])],
          output: [valueInfo('y', DT[expected.type], [...expected.dims])],
          initializer: [c('xs', 1), c('xzp', 2), c('w', 3), c('ws', 4), c('wzp', 5), c('ys', 6), c('yzp', 7)],
          node: [
            node('DequantizeLinear', ['x', 'xs', 'xzp'], ['xf'], {}, 'dq_x'),
            node('DequantizeLinear', ['w', 'ws', 'wzp'], ['wf'], {}, 'dq_w'),
            conv,
            node('QuantizeLinear', ['yf', 'ys', 'yzp'], ['y'], {}, 'q_y'),
          ],
        },
      });
      const qdqFile = fromProto(proto);
      const model = modelFromProto(proto);
      const r = qdqToQOperator(model, new ModelEditor(model));
      assert.deepEqual(r.converted, { [`${op} -> QLinear${op}`]: 1 });
      assert.deepEqual(model.proto.graph!.node!.map((n) => n.op_type), [`QLinear${op}`]);
      const qopFile = path.join(tmp, `${name}.qop.onnx`);
      writeModel(model, qopFile);
      await checkSession(qopFile);
      const feeds = { x: data[0] };
      const want = expected.data as Uint8Array;
      for (const [label, file] of [['QOperator', qopFile], ['QDQ', qdqFile]]) {
        const s = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
        try {
          const y = (await s.run(feeds)).y;
          assert.deepEqual(y.dims, expected.dims);
          const got = y.data as Uint8Array;
          let off = 0;
          for (let i = 0; i < want.length; i++) { const d = Math.abs(got[i] - want[i]); assert.ok(d <= 1, `${label} [${i}]: ${got[i]} vs ${want[i]}`); if (d) off++; }
          t.diagnostic(`${label}: ${want.length - off}/${want.length} exactly as expected, the rest within 1`);
          if (label === 'QOperator') assert.equal(off, 0);
        } finally { await s.release(); }
      }
    });
  }
});

describe('onnxq quantize --mode static --format qoperator', () => {
  it('writes the QOperator model of MNIST and reports what was converted', () => {
    const out = path.join(tmp, 'mnist.cli.qop.onnx');
    const res = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src', 'cli.ts'), 'quantize', sampleModel, '-o', out,
      '--mode', 'static', '--format', 'qoperator', '--calib-random', '4', '--json'], { encoding: 'utf8', cwd: repoRoot });
    assert.equal(res.status, 0, res.stderr);
    const r = JSON.parse(res.stdout) as QuantizeReport;
    assert.equal(r.format, 'qoperator');
    assert.equal(r.emitted.QLinearConv, 2);
    assert.equal(r.emitted.QLinearMatMul, 1);
    assert.equal(r.emitted.QuantizeLinear, 1);
    assert.equal(r.emitted.DequantizeLinear, 1);
    assert.ok(!r.notes.some((n) => /stays? in QDQ form/.test(n)), r.notes.join('\n'));
    assert.ok(r.notes.some((n) => /^QOperator form: 2 Conv -> QLinearConv, 2 MaxPool on the quantized tensor, 1 Reshape on the quantized tensor, 1 MatMul -> QLinearMatMul$/.test(n)), r.notes.join('\n'));
    const ops = opCounts(loadModel(out));
    assert.equal(ops.Conv ?? 0, 0);
    assert.equal(ops.MatMul ?? 0, 0);
  });

  it('8-bit only: 16-bit activations or weights are refused in QOperator form', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src', 'cli.ts'), 'quantize', sampleModel, '-o', path.join(tmp, 'x.onnx'),
      '--mode', 'static', '--format', 'qoperator', '--activation-type', 'uint16', '--calib-random', '4'], { encoding: 'utf8', cwd: repoRoot });
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, /exist only in QDQ form/);
  });
});
