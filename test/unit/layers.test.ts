// Per-layer error: the mapping from a quantized model's tensors back to the FP32 tensors they stand for
// (onnxruntime's names, built here; our QDQ and QOperator outputs on the shared CNNs), the figures against
// an independent computation, a deliberately damaged layer ranked worst, and `onnxq compare --layers`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { floatTensor, makeModel, modelFromProto, node, tensor, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { loadModel } from '../../src/onnx/load';
import { Model } from '../../src/onnx/model';
import type { ModelProto } from '../../src/onnx/proto';
import { writeModel } from '../../src/onnx/write';
import { quantizeFile } from '../../src/quantize/index';
import { resolveOptions, type QuantizeOptions } from '../../src/quantize/options';
import { calibrationFor, ortCalibrationRunner } from '../../src/runtime/calibration';
import { checkSession } from '../../src/runtime/check';
import { compareModels } from '../../src/runtime/compareModels';
import { formatCompareText } from '../../src/runtime/compareReport';
import { resolveInputSpec } from '../../src/runtime/inputSpec';
import { mapLayers } from '../../src/runtime/layerMap';
import { diffOverlay, layerOverlay } from '../../src/runtime/layerOverlay';
import { graphDiff } from '../../src/runtime/graphDiff';
import { weightQuantization } from '../../src/quantize/weightGrid';
import { modelInputs } from '../../src/runtime/modelIo';
import { RefineHistory, reportSize } from '../../src/runtime/refine';
import { benchmark } from '../../src/runtime/bench/runner';
import type { InputSpec } from '../../src/protocol/inputSpec';
import { randn } from './helpers/quantize';
import { modelsDir, noModels, repoRoot, runHints, sampleModel } from './helpers/models';

const CLI = path.join(repoRoot, 'src', 'cli.ts');
const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', cwd: repoRoot });

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-layers-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** SQNR (dB) and cosine from their definitions, in doubles (not runtime/compare). */
function reference(a: ArrayLike<number>, b: ArrayLike<number>): { sqnrDb: number; cosine: number } {
  let aa = 0, bb = 0, ab = 0, ee = 0;
  for (let i = 0; i < a.length; i++) { aa += a[i] * a[i]; bb += b[i] * b[i]; ab += a[i] * b[i]; ee += (a[i] - b[i]) ** 2; }
  return { sqnrDb: 10 * Math.log10(aa / ee), cosine: ab / Math.sqrt(aa * bb) };
}

// ---- models named the way onnxruntime's Python tool names them ------------------------------------------

const X_SCALE = 4 / 255, X_ZP = 128, Z_SCALE = 0.05, Y_SCALE = 0.06, Y_ZP = 100;
const C_IN = 4, C_OUT = 6;
const W = randn(3, C_OUT * C_IN, 0.5);
const W_SCALE = Math.max(...W.map(Math.abs)) / 127;
const Wq = Int8Array.from(W, (v) => Math.round(v / W_SCALE));

/** FP32: x -> Conv (1x1) -> y -> Relu -> z (the output). */
function fp32Proto(): ModelProto {
  return makeModel({
    opset: 13,
    graph: {
      name: 'fp32',
      node: [node('Conv', ['x', 'W'], ['y'], {}, 'conv'), node('Relu', ['y'], ['z'], {}, 'relu')],
      initializer: [floatTensor('W', [C_OUT, C_IN, 1, 1], W)],
      input: [valueInfo('x', DataType.FLOAT, [1, C_IN, 5, 5])],
      output: [valueInfo('z', DataType.FLOAT, [1, C_OUT, 5, 5])],
    },
  });
}

const scalars = (base: string, scale: number, zp: number, zpType: number) => [
  floatTensor(`${base}_scale`, [], [scale]),
  tensor(`${base}_zero_point`, zpType, [], zpType === DataType.UINT8 ? Uint8Array.of(zp) : Int8Array.of(zp)),
];

/**
 * onnxruntime's QDQ form: `T_QuantizeLinear_Output` / `T_DequantizeLinear_Output`, and for a graph output
 * the producer writes `z_QuantizeLinear_Input` so that the last DequantizeLinear can write `z`.
 */
function ortQdqProto(): ModelProto {
  return makeModel({
    opset: 13,
    graph: {
      name: 'ort-qdq',
      node: [
        node('QuantizeLinear', ['x', 'x_scale', 'x_zero_point'], ['x_QuantizeLinear_Output'], {}, 'x_QuantizeLinear'),
        node('DequantizeLinear', ['x_QuantizeLinear_Output', 'x_scale', 'x_zero_point'], ['x_DequantizeLinear_Output'], {}, 'x_DequantizeLinear'),
        node('DequantizeLinear', ['W_quantized', 'W_scale', 'W_zero_point'], ['W_DequantizeLinear_Output'], {}, 'W_DequantizeLinear'),
        node('Conv', ['x_DequantizeLinear_Output', 'W_DequantizeLinear_Output'], ['y'], {}, 'conv'),
        node('QuantizeLinear', ['y', 'y_scale', 'y_zero_point'], ['y_QuantizeLinear_Output'], {}, 'y_QuantizeLinear'),
        node('DequantizeLinear', ['y_QuantizeLinear_Output', 'y_scale', 'y_zero_point'], ['y_DequantizeLinear_Output'], {}, 'y_DequantizeLinear'),
        node('Relu', ['y_DequantizeLinear_Output'], ['z_QuantizeLinear_Input'], {}, 'relu'),
        node('QuantizeLinear', ['z_QuantizeLinear_Input', 'z_scale', 'z_zero_point'], ['z_QuantizeLinear_Output'], {}, 'z_QuantizeLinear'),
        node('DequantizeLinear', ['z_QuantizeLinear_Output', 'z_scale', 'z_zero_point'], ['z'], {}, 'z_DequantizeLinear'),
      ],
      initializer: [
        ...scalars('x', X_SCALE, X_ZP, DataType.UINT8), ...scalars('y', Y_SCALE, Y_ZP, DataType.UINT8), ...scalars('z', Z_SCALE, 0, DataType.UINT8),
        tensor('W_quantized', DataType.INT8, [C_OUT, C_IN, 1, 1], Wq), ...scalars('W', W_SCALE, 0, DataType.INT8),
      ],
      input: [valueInfo('x', DataType.FLOAT, [1, C_IN, 5, 5])],
      output: [valueInfo('z', DataType.FLOAT, [1, C_OUT, 5, 5])],
    },
  });
}

/** onnxruntime's QOperator form: `T_quantized` tensors, QLinearConv with the Relu folded into its range. */
function ortQOperatorProto(): ModelProto {
  return makeModel({
    opset: 13,
    graph: {
      name: 'ort-qoperator',
      node: [
        node('QuantizeLinear', ['x', 'x_scale', 'x_zero_point'], ['x_quantized'], {}, 'x_QuantizeLinear'),
        node('QLinearConv', ['x_quantized', 'x_scale', 'x_zero_point', 'W_quantized', 'W_scale', 'W_zero_point', 'z_scale', 'z_zero_point'], ['z_quantized'], {}, 'conv_quant'),
        node('DequantizeLinear', ['z_quantized', 'z_scale', 'z_zero_point'], ['z'], {}, 'z_DequantizeLinear'),
      ],
      initializer: [
        ...scalars('x', X_SCALE, X_ZP, DataType.UINT8), ...scalars('z', Z_SCALE, 0, DataType.UINT8),
        tensor('W_quantized', DataType.INT8, [C_OUT, C_IN, 1, 1], Wq), ...scalars('W', W_SCALE, 0, DataType.INT8),
      ],
      input: [valueInfo('x', DataType.FLOAT, [1, C_IN, 5, 5])],
      output: [valueInfo('z', DataType.FLOAT, [1, C_OUT, 5, 5])],
    },
  });
}

/** Runs `proto` on `feeds` with `fetch` added to its outputs, with plain onnxruntime (not our runtime). */
async function fetchFrom(proto: ModelProto, fetch: string[], feeds: Record<string, ort.Tensor>, file: string): Promise<Record<string, ort.Tensor>> {
  const g = proto.graph!;
  const have = new Set((g.output ?? []).map((v) => v.name));
  writeModel(modelFromProto({ ...proto, graph: { ...g, output: [...g.output!, ...fetch.filter((n) => !have.has(n)).map((name) => ({ name, type: {} }))] } }), file);
  const s = await ort.InferenceSession.create(file);
  try { return await s.run(feeds); } finally { await s.release(); }
}

describe('the layer mapping on models named as onnxruntime\'s quantization tool names them', () => {
  const brief = (m: ReturnType<typeof mapLayers>) => m.mapped.map((e) => [e.tensor, e.fp32Tensor, e.node, e.match, e.quant]);

  it('QDQ: each QuantizeLinear output to the float tensor it quantizes, a graph output by its suffix', () => {
    const m = mapLayers(modelFromProto(fp32Proto()), modelFromProto(ortQdqProto()));
    assert.deepEqual(brief(m), [
      ['x_QuantizeLinear_Output', 'x', 'x_QuantizeLinear', 'quantize-input', { scale: Math.fround(X_SCALE), zeroPoint: X_ZP }],
      ['y_QuantizeLinear_Output', 'y', 'conv', 'quantize-input', { scale: Math.fround(Y_SCALE), zeroPoint: Y_ZP }],
      ['z_QuantizeLinear_Output', 'z', 'relu', 'suffix', { scale: Math.fround(Z_SCALE), zeroPoint: 0 }],
    ]);
    assert.deepEqual(m.unmapped, []);
    assert.deepEqual(m.upstream.get('z'), ['y']);
    assert.deepEqual(m.upstream.get('y'), ['x']);
  });

  it('QOperator: QLinearConv\'s output by its suffix, with the scale and zero point of the op\'s output', () => {
    const m = mapLayers(modelFromProto(fp32Proto()), modelFromProto(ortQOperatorProto()));
    assert.deepEqual(brief(m), [
      ['x_quantized', 'x', 'x_QuantizeLinear', 'quantize-input', { scale: Math.fround(X_SCALE), zeroPoint: X_ZP }],
      ['z_quantized', 'z', 'conv_quant', 'suffix', { scale: Math.fround(Z_SCALE), zeroPoint: 0 }],
    ]);
  });

  it('a float tensor of the quantized model with no FP32 counterpart is listed with the reason', () => {
    const q = ortQdqProto();
    // An op the FP32 model does not have, between the Relu and its QuantizeLinear.
    q.graph!.node!.splice(7, 0, node('Identity', ['z_QuantizeLinear_Input'], ['z_extra'], {}, 'extra'));
    q.graph!.node![8].input![0] = 'z_extra';
    q.graph!.node!.push(node('Neg', ['z_extra'], ['z_negated'], {}, 'negate'));
    const m = mapLayers(modelFromProto(fp32Proto()), modelFromProto(q));
    assert.deepEqual(m.unmapped.map((u) => [u.tensor, u.opType, u.node]), [['z_QuantizeLinear_Input', 'Relu', 'relu'], ['z_negated', 'Neg', 'negate']]);
    for (const u of m.unmapped) assert.match(u.reason, /no FP32 tensor of that name/);
  });

  for (const [form, proto] of [['QDQ', ortQdqProto], ['QOperator', ortQOperatorProto]] as const) {
    it(`${form}: the per-layer figures equal an independent computation (dequantized by hand, SQNR and cosine from their definitions)`, async () => {
      const a = path.join(tmp, 'fp32.onnx'), b = path.join(tmp, `${form}.onnx`);
      writeModel(modelFromProto(fp32Proto()), a);
      writeModel(modelFromProto(proto()), b);
      const samples = 3;
      const result = await compareModels(a, b, { layers: true, spec: { samples, seed: 5, ranges: { x: [-2, 2] } } });
      const layers = result.layers!;
      assert.equal(layers.samples, samples);
      const map = mapLayers(modelFromProto(fp32Proto()), modelFromProto(proto()));
      // The same samples, drawn again, and every fetched value kept to pool by hand.
      const inputs = resolveInputSpec({ samples, seed: 5, ranges: { x: [-2, 2] } }, modelInputs(loadModel(a)));
      const pooled = new Map<string, { a: number[]; b: number[] }>();
      for await (const f of inputs.feeds()) {
        const ya = await fetchFrom(fp32Proto(), map.mapped.map((e) => e.fp32Tensor), f, path.join(tmp, 'ia.onnx'));
        const yb = await fetchFrom(proto(), map.mapped.map((e) => e.tensor), f, path.join(tmp, 'ib.onnx'));
        for (const e of map.mapped) {
          const p = pooled.get(e.tensor) ?? { a: [], b: [] };
          p.a.push(...(ya[e.fp32Tensor].data as Float32Array));
          p.b.push(...Array.from(yb[e.tensor].data as Uint8Array, (q) => (q - e.quant!.zeroPoint) * e.quant!.scale));
          pooled.set(e.tensor, p);
        }
      }
      assert.equal(layers.layers.length, map.mapped.length);
      for (const l of layers.layers) {
        const p = pooled.get(l.tensor)!;
        const want = reference(p.a, p.b);
        // Ours dequantizes to float32 (as DequantizeLinear does), the reference in doubles: each value
        // differs by at most 6e-8 relative, which moves the SQNR by well under 1e-4 dB.
        assert.ok(Math.abs(l.sqnrDb - want.sqnrDb) < 1e-4, `${l.tensor}: SQNR ${l.sqnrDb} vs ${want.sqnrDb}`);
        assert.ok(Math.abs(l.cosine - want.cosine) < 1e-7, `${l.tensor}: cosine ${l.cosine} vs ${want.cosine}`);
        // Float32 rounding of values within +-8 (the ranges here) is at most 4.8e-7.
        const maxAbs = Math.max(...p.a.map((v, i) => Math.abs(v - p.b[i])));
        assert.ok(Math.abs(l.maxAbs - maxAbs) <= 1e-6, `${l.tensor}: max abs ${l.maxAbs} vs ${maxAbs}`);
        // The drop is the inputs' SQNR less its own; x, the graph input, counts as the best SQNR measured.
        const best = Math.max(...layers.layers.map((x) => x.sqnrDb));
        const inSqnr = Math.min(...l.inputs.map((t) => layers.layers.find((x) => x.fp32Tensor === t)?.sqnrDb ?? best), best);
        assert.ok(Math.abs(l.sqnrDropDb - (inSqnr - l.sqnrDb)) < 1e-9, `${l.tensor}: drop ${l.sqnrDropDb}`);
      }
    });
  }
});

// ---- our quantizer's outputs ----------------------------------------------------------------------------

async function quantize(src: string, dst: string, options: QuantizeOptions, spec: InputSpec = {}): Promise<void> {
  const o = resolveOptions(options);
  await quantizeFile(src, dst, options, { verify: checkSession, ...(o.mode === 'static' ? { calibration: calibrationFor(o, spec) } : {}) });
}

describe('a layer whose weights are damaged is ranked worst', () => {
  it('mnist QDQ with the first Conv\'s int8 weights negated: that Conv comes first (it did not before), its drop the largest', async () => {
    const good = path.join(tmp, 'mnist-qdq.onnx'), bad = path.join(tmp, 'mnist-damaged.onnx');
    await quantize(sampleModel, good, { mode: 'static', calibration: { randomSamples: 8 } });
    const m = loadModel(good);
    const w = m.proto.graph!.initializer!.find((t) => t.name === 'Parameter5_quantized')!;
    assert.ok(w, 'the quantized weight of Convolution28');
    const raw = new Int8Array(w.raw_data!.buffer, w.raw_data!.byteOffset, w.raw_data!.length).map((v) => -v);
    w.raw_data = new Uint8Array(raw.buffer);
    writeModel(new Model(m.proto, m.source, new Map()), bad);
    const spec = { samples: 4 };
    const [before, after] = [await compareModels(sampleModel, good, { layers: true, spec }), await compareModels(sampleModel, bad, { layers: true, spec })];
    const conv = (r: typeof before) => r.layers!.layers.find((l) => l.node === 'Convolution28')!;
    assert.notEqual(before.layers!.layers[0].node, 'Convolution28');
    assert.equal(after.layers!.layers[0].node, 'Convolution28', after.layers!.layers.map((l) => `${l.node} ${l.sqnrDropDb.toFixed(1)}`).join(', '));
    assert.equal(Math.max(...after.layers!.layers.map((l) => l.sqnrDropDb)), conv(after).sqnrDropDb);
    // The heat map of the model editor: the same ranking, scaled from 0 dB to the worst drop.
    const overlay = layerOverlay(after)!;
    assert.equal(overlay.nodes[0].name, 'Convolution28');
    assert.deepEqual([overlay.min, overlay.max, overlay.label, overlay.unit], [0, conv(after).sqnrDropDb, 'SQNR drop', 'dB']);
    assert.deepEqual(overlay.nodes[0].lines.slice(0, 2).map((l) => l.label), ['SQNR drop', 'SQNR']);
    assert.equal(new Set(overlay.nodes.map((n) => n.name)).size, overlay.nodes.length, 'one entry per node');
    // Damaged, it lost more than 20 dB against the undamaged model.
    assert.ok(conv(before).sqnrDb - conv(after).sqnrDb > 20, `${conv(before).sqnrDb} -> ${conv(after).sqnrDb}`);
  });
});

/** The shared CNNs the issue names, with the dims to run them at. */
const CNNS = ['cntk/mnist-8_cntk.onnx', 'ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx', 'ppocr/ch_PP-OCRv4_det_infer.onnx', 'ppocr/ch_PP-OCRv4_rec_infer.onnx', 'openwakeword/melspectrogram.onnx'];

describe('the layer mapping on our QDQ and QOperator outputs of the shared CNNs', { skip: noModels }, () => {
  for (const rel of CNNS) {
    it(`${rel}: every quantized layer has its FP32 tensor, the same one in QDQ and in QOperator form, measured with no tensor dropped`, async () => {
      const src = path.join(modelsDir, rel);
      const spec: InputSpec = { dims: runHints[rel]?.dims ?? {}, samples: 2 };
      const qdq = path.join(tmp, `${path.basename(rel, '.onnx')}-qdq.onnx`), qop = path.join(tmp, `${path.basename(rel, '.onnx')}-qop.onnx`);
      const options: QuantizeOptions = { mode: 'static', calibration: { randomSamples: 2 } };
      await quantize(src, qdq, options, spec);
      await quantize(src, qop, { ...options, format: 'qoperator' }, spec);
      const fp32 = loadModel(src);
      const byNode = (file: string) => {
        const map = mapLayers(fp32, loadModel(file));
        const out = new Map<string, string>();
        for (const e of map.mapped) out.set(e.node, e.fp32Tensor);
        return { map, out, model: loadModel(file) };
      };
      const d = byNode(qdq), o = byNode(qop);
      // QDQ: the layers are the Conv/MatMul/Gemm nodes that read a DequantizeLinear.
      const g = d.model.proto.graph!;
      const dq = new Set(g.node!.filter((n) => n.op_type === 'DequantizeLinear').map((n) => n.output![0]));
      const layers = g.node!.filter((n) => ['Conv', 'MatMul', 'Gemm'].includes(n.op_type!) && n.input!.some((i) => dq.has(i)));
      assert.ok(layers.length > 0, 'something was quantized');
      const fp32Names = new Set(fp32.proto.graph!.node!.flatMap((n) => n.output ?? []));
      for (const n of layers) {
        const t = d.out.get(n.name!);
        assert.ok(t, `QDQ ${n.op_type} ${n.name} has no mapped output (unmapped: ${JSON.stringify(d.map.unmapped.slice(0, 3))})`);
        assert.ok(fp32Names.has(t), `${n.name} -> ${t}, not a tensor of the FP32 model`);
      }
      // QOperator: every QLinear op maps to the tensor its QDQ form maps to (one route by structure, the
      // other by names and the ops' parameters).
      const qlinear = o.model.proto.graph!.node!.filter((n) => /^Q(Linear|Gemm)/.test(n.op_type!));
      assert.ok(qlinear.length > 0);
      for (const n of qlinear) {
        const t = o.out.get(n.name!);
        assert.ok(t, `QOperator ${n.op_type} ${n.name} has no mapped output`);
        const twin = d.out.get(n.name!.replace(/_quant$/, ''));
        if (twin !== undefined) assert.equal(t, twin, `${n.name}`);
      }
      const r = await compareModels(src, qdq, { layers: true, spec });
      const dropped = r.layers!.unmapped.filter((u) => !d.map.unmapped.some((x) => x.tensor === u.tensor));
      assert.deepEqual(dropped, [], 'tensors mapped but not measured');
      assert.ok(r.layers!.layers.length >= layers.length);
    });
  }
});

describe('16-bit activations for chosen layers (mixed 8/16-bit QDQ)', () => {
  it('mnist: Convolution110\'s activations in uint16, the rest uint8; its input and output closer to float; the report says the speed cost', async () => {
    const q8 = path.join(tmp, 'mnist-8bit.onnx'), q16 = path.join(tmp, 'mnist-mixed.onnx');
    const base: QuantizeOptions = { mode: 'static', calibration: { randomSamples: 8 } };
    await quantize(sampleModel, q8, base);
    const o = resolveOptions({ ...base, activations16: ['Convolution110'] });
    const report = await quantizeFile(sampleModel, q16, { ...base, activations16: ['Convolution110'] }, { verify: checkSession, calibration: calibrationFor(o) });
    assert.ok(report.notes.some((n) => /1 node has uint16 activations \(--activations16\): Convolution110; onnxruntime has no 16-bit kernel for it and runs it in float between 16-bit QuantizeLinear\/DequantizeLinear, at about its FP32 speed/.test(n)), report.notes.join('\n'));
    // The zero points say the types: 16 bits around Convolution110, 8 elsewhere.
    const m = loadModel(q16);
    const zp = (t: string) => m.weights().find((w) => w.name === `${t}_zero_point`)!.dtypeName;
    assert.deepEqual([zp('ReLU114_Output_0'), zp('Pooling66_Output_0'), zp('Input3'), zp('Times212_Output_0')], ['uint16', 'uint16', 'uint8', 'uint8']);
    const spec = { samples: 4 };
    const [r8, r16] = [await compareModels(sampleModel, q8, { layers: true, spec }), await compareModels(sampleModel, q16, { layers: true, spec })];
    const at = (r: typeof r8, t: string) => r.layers!.layers.find((l) => l.fp32Tensor === t)!.sqnrDb;
    for (const t of ['ReLU114_Output_0', 'Pooling66_Output_0']) assert.ok(at(r16, t) > at(r8, t), `${t}: ${at(r8, t)} -> ${at(r16, t)} dB`);
  });

  it('refused where it cannot apply: QOperator, activations already 16-bit', () => {
    assert.throws(() => resolveOptions({ mode: 'static', format: 'qoperator', activations16: ['x'] }), /--activations16 applies to static quantization in QDQ form/);
    assert.throws(() => resolveOptions({ mode: 'static', activationType: 'uint16', activations16: ['x'] }), /the activations are uint16 already/);
    assert.throws(() => resolveOptions({ mode: 'dynamic', activations16: ['x'] }), /--activations16 applies to static quantization/);
  });
});

describe('layers inside subgraphs', () => {
  it('a Conv quantized inside an If branch is listed as not measured, with the reason', async () => {
    const branch = (w: string) => ({
      name: `b_${w}`,
      node: [node('Sigmoid', ['x'], [`s_${w}`], {}, `sigmoid_${w}`), node('Conv', [`s_${w}`, w], [`y_${w}`], { kernel_shape: [1, 1] }, `conv_${w}`)],
      output: [valueInfo(`y_${w}`, DataType.FLOAT, null)],
    });
    const proto = makeModel({
      opset: 13,
      graph: {
        name: 'branchy', node: [node('If', ['cond'], ['y'], { then_branch: branch('w1'), else_branch: branch('w2') }, 'if')],
        initializer: [floatTensor('w1', [4, 3, 1, 1], randn(7, 12)), floatTensor('w2', [4, 3, 1, 1], randn(8, 12))],
        input: [valueInfo('cond', DataType.BOOL, []), valueInfo('x', DataType.FLOAT, [1, 3, 4, 4])], output: [valueInfo('y', DataType.FLOAT, [1, 4, 4, 4])],
      },
    });
    const src = path.join(tmp, 'branchy.onnx'), dst = path.join(tmp, 'branchy-qdq.onnx');
    writeModel(modelFromProto(proto), src);
    const feeds = function* () {
      for (let i = 0; i < 4; i++) yield { cond: new ort.Tensor('bool', Uint8Array.of(1), []), x: new ort.Tensor('float32', randn(30 + i, 48), [1, 3, 4, 4]) };
    };
    await quantizeFile(src, dst, { mode: 'static' }, { verify: checkSession, calibration: { runner: ortCalibrationRunner, random: false, source: 'test', feeds } });
    const m = mapLayers(loadModel(src), loadModel(dst));
    const inside = m.unmapped.filter((u) => /inside the If body main\/if\.then_branch: a subgraph's values cannot be fetched/.test(u.reason));
    assert.ok(inside.length >= 1, JSON.stringify(m.unmapped));
    assert.ok(m.mapped.every((e) => !inside.some((u) => u.tensor === e.tensor)));
  });
});

describe('the graph diff, FP32 against quantized', () => {
  it('mnist QDQ with one Conv excluded: quantized, left in float with the reason, added Q/DQ, and the FP32 nodes folded or merged', async () => {
    const q = path.join(tmp, 'mnist-diff.onnx');
    await quantize(sampleModel, q, { mode: 'static', calibration: { randomSamples: 2 }, exclude: ['Convolution110'] });
    const d = graphDiff(loadModel(sampleModel), loadModel(q));
    const status = new Map(d.nodes.map((n) => [n.name, n]));
    assert.equal(status.get('Convolution28')!.status, 'quantized');
    assert.equal(status.get('Times212')!.status, 'quantized');
    assert.equal(status.get('Convolution110')!.status, 'float');
    assert.match(status.get('Convolution110')!.detail, /excluded by --exclude "Convolution110"/);
    const added = d.nodes.filter((n) => n.status === 'added');
    assert.ok(added.length > 0 && added.every((n) => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear'), JSON.stringify(added.map((n) => n.opType)));
    assert.ok(added.some((n) => /dequantizes a weight/.test(n.detail)));
    // The bias Add folded into the first Conv and its Relu merged into the Conv's quantization.
    const removed = new Map(d.removed.map((r) => [r.name, r]));
    assert.match(removed.get('Plus30')!.detail, /folded into Conv Convolution28/);
    assert.match(removed.get('ReLU32')!.detail, /merged into the quantization of Conv Convolution28/);
    assert.equal(d.counts.quantized + d.counts.float + d.counts.added, d.nodes.length);
    assert.equal(d.counts.removed, d.removed.length);
    // The overlay of the diff: one colour per status, every node of the quantized graph, the gone ones listed.
    const r = await compareModels(sampleModel, q, { layers: true, spec: { samples: 1 } });
    assert.deepEqual(r.layers!.diff, d);
    const o = diffOverlay(r)!;
    assert.deepEqual(o.categories!.map((c) => c.label), ['quantized', 'left in float', 'added by quantization']);
    assert.equal(o.nodes.length, d.nodes.length);
    assert.equal(o.nodes.find((n) => n.name === 'Convolution110')!.category, 1);
    assert.deepEqual(o.absent!.map((a) => a.name).sort(), d.removed.map((x) => x.name).sort());
  });

  it('QOperator: QLinearConv and QLinearMatMul are the FP32 Conv and MatMul, quantized', async () => {
    const q = path.join(tmp, 'mnist-diff-qop.onnx');
    await quantize(sampleModel, q, { mode: 'static', format: 'qoperator', calibration: { randomSamples: 2 } });
    const d = graphDiff(loadModel(sampleModel), loadModel(q));
    const byName = new Map(d.nodes.map((n) => [n.name, n]));
    assert.equal(byName.get('Convolution28_quant')!.status, 'quantized');
    assert.match(byName.get('Convolution28_quant')!.detail, /Conv Convolution28 of the FP32 model, as QLinearConv/);
    assert.equal(byName.get('Times212_quant')!.status, 'quantized');
    assert.ok(!d.removed.some((r) => r.name === 'Convolution28' || r.name === 'Times212'), 'matched by name less _quant');
  });
});

describe('the graph diff of a model quantized inside If branches', () => {
  it('counts the quantized nodes of the bodies apart, and the text says the layers do not cover them', async () => {
    const F = DataType.FLOAT;
    const branch = (name: string, w: string): ModelProto['graph'] => ({
      name, node: [node('MatMul', ['x', w], ['y'], {}, `${name}_mm`)], output: [valueInfo('y', F, [2, 8])],
    });
    const src = path.join(tmp, 'if-mm.onnx'), q = path.join(tmp, 'if-mm.q.onnx');
    writeModel(modelFromProto(makeModel({ graph: {
      name: 'if_mm', node: [node('If', ['cond'], ['y'], { then_branch: branch('then', 'W1')!, else_branch: branch('else', 'W2')! }, 'if')],
      initializer: [tensor('W1', F, [16, 8], randn(1, 128, 0.3)), tensor('W2', F, [16, 8], randn(2, 128, 0.3))],
      input: [valueInfo('x', F, [2, 16]), valueInfo('cond', DataType.BOOL, [])], output: [valueInfo('y', F, [2, 8])],
    } })), src);
    await quantize(src, q, { mode: 'dynamic' });
    const d = graphDiff(loadModel(src), loadModel(q));
    // The main graph holds the If alone: nothing quantized there; both branches' MatMuls are, inside.
    assert.deepEqual([d.counts.quantized, d.counts.inSubgraphs], [0, 2]);
    const r = await compareModels(src, q, { layers: true, spec: { samples: 1, values: { cond: 1 } } });
    assert.match(formatCompareText(r), /graph: 0 nodes quantized, 1 left in float, .*; and 2 quantized nodes inside If\/Loop\/Scan bodies, which this comparison does not take layer by layer/);
  });
});

describe('a weight against its quantized form', () => {
  it('mnist QDQ: the first Conv\'s weight per channel, SQNR as computed by hand, the grid of the worst channel, both ways', async () => {
    const q = path.join(tmp, 'mnist-weights.onnx');
    await quantize(sampleModel, q, { mode: 'static', calibration: { randomSamples: 2 } });
    const [a, b] = [loadModel(sampleModel), loadModel(q)];
    const wq = weightQuantization(a, b, 'Parameter5', true, 'mnist-weights.onnx');
    assert.deepEqual([wq.fp32, wq.quantized, wq.type, wq.axis, wq.channels.length], ['Parameter5', 'Parameter5_quantized', 'int8', 0, 8]);
    // By hand: the int8 values, the scales and zero points of the DequantizeLinear that reads them.
    const init = (m: Model, name: string) => m.weights().find((x) => x.name === name)!.values();
    const w = init(a, 'Parameter5'), qv = init(b, 'Parameter5_quantized'), sc = init(b, 'Parameter5_scale'), zp = init(b, 'Parameter5_zero_point');
    let ss = 0, ee = 0;
    const per = w.length / 8;
    const chSig = new Array(8).fill(0), chErr = new Array(8).fill(0);
    for (let i = 0; i < w.length; i++) {
      const c = Math.floor(i / per), d = w[i] - (qv[i] - zp[c]) * sc[c];
      ss += w[i] ** 2; ee += d * d; chSig[c] += w[i] ** 2; chErr[c] += d * d;
    }
    assert.ok(Math.abs(wq.sqnrDb - 10 * Math.log10(ss / ee)) < 1e-9, `${wq.sqnrDb}`);
    wq.channels.forEach((ch, c) => assert.ok(Math.abs(ch.sqnrDb - 10 * Math.log10(chSig[c] / chErr[c])) < 1e-9));
    // Symmetric per-channel ranges from the weights themselves: nothing clipped.
    assert.equal(wq.clipped, 0);
    const worst = wq.channels.reduce((m, ch, c) => (ch.sqnrDb < wq.channels[m].sqnrDb ? c : m), 0);
    assert.equal(wq.gridChannel, worst);
    assert.equal(wq.grid.length, 256);
    assert.ok(Math.abs(wq.grid[1] - wq.grid[0] - sc[worst]) < 1e-12 && wq.step === sc[worst]);
    assert.deepEqual(weightQuantization(b, a, 'Parameter5_quantized', false, 'mnist-8.onnx').channels, wq.channels);
    assert.throws(() => weightQuantization(a, b, 'Parameter193', true, 'mnist-weights.onnx'), /mnist-weights\.onnx has no quantized form of "Parameter193"/);
  });

  it('a weight quantized per tensor with a range narrower than its values: the share clipped', () => {
    const values = Float32Array.from({ length: 64 }, (_, i) => (i - 32) / 8); // -4 .. 3.875
    const a = modelFromProto(makeModel({ graph: { name: 'a', node: [node('MatMul', ['x', 'W'], ['y'])], initializer: [floatTensor('W', [8, 8], values)], input: [valueInfo('x', DataType.FLOAT, [1, 8])], output: [valueInfo('y', DataType.FLOAT, [1, 8])] } }));
    // Scale 1/64: int8 covers [-2, 1.98]; 32 of the 64 values lie beyond.
    const qv = Int8Array.from(values, (v) => Math.max(-128, Math.min(127, Math.round(v * 64))));
    const b = modelFromProto(makeModel({ graph: { name: 'b', node: [node('DequantizeLinear', ['W_quantized', 'W_scale', 'W_zero_point'], ['W_dq']), node('MatMul', ['x', 'W_dq'], ['y'])], initializer: [tensor('W_quantized', DataType.INT8, [8, 8], qv), floatTensor('W_scale', [], [1 / 64]), tensor('W_zero_point', DataType.INT8, [], Int8Array.of(0))], input: [valueInfo('x', DataType.FLOAT, [1, 8])], output: [valueInfo('y', DataType.FLOAT, [1, 8])] } }));
    const wq = weightQuantization(a, b, 'W', true, 'b.onnx');
    const beyond = values.filter((v) => v < -2 - 0.5 / 64 || v > 127 / 64 + 0.5 / 64).length;
    assert.equal(wq.clipped, beyond / 64);
    assert.equal(wq.axis, null);
    assert.deepEqual([wq.lowest, wq.highest], [-2, 127 / 64]);
  });
});

describe('onnxq compare --layers', () => {
  it('dynamic quantization: the MatMul\'s rescaling Mul is the layer, and --exclude names the FP32 MatMul; a float Conv is no layer to leave in float', async () => {
    const q = path.join(tmp, 'mnist-dynamic.onnx');
    await quantize(sampleModel, q, { mode: 'dynamic' });
    const r = await compareModels(sampleModel, q, { layers: true, spec: { samples: 2 } });
    const mm = r.layers!.layers.find((l) => l.fp32Tensor === 'Times212_Output_0')!;
    assert.equal(mm.floatNode, 'Times212');
    assert.ok(mm.sqnrDb < 80, `the MatMul's output is quantized: ${mm.sqnrDb} dB`);
    const conv = r.layers!.layers.find((l) => l.node === 'Convolution110')!;
    assert.equal(conv.floatNode, null);
    // An exact layer drops nothing.
    assert.ok(r.layers!.layers.filter((l) => l.sqnrDb === Infinity).every((l) => l.sqnrDropDb === 0));
  });

  it('prints the worst layers and, with --json, every layer with its figures', async () => {
    const q = path.join(tmp, 'mnist-cli.onnx');
    await quantize(sampleModel, q, { mode: 'static', calibration: { randomSamples: 4 } });
    const text = cli(['compare', sampleModel, q, '--layers', '--samples', '2']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /layers: \d+ compared on 2 samples, the largest SQNR drop first/);
    assert.match(text.stdout, /graph: \d+ nodes quantized, \d+ left in float, \d+ added by quantization, \d+ of the FP32 model gone \(folded or merged\)/);
    assert.match(text.stdout, /Convolution110 +Conv +ReLU114_Output_0_QuantizeLinear_Output \(ReLU114_Output_0\)/);
    const json = cli(['compare', sampleModel, q, '--layers', '--samples', '2', '--json']);
    const r = JSON.parse(json.stdout);
    const conv = r.layers.layers.find((l: { node: string }) => l.node === 'Convolution28');
    assert.deepEqual(Object.keys(conv).sort(), ['cosine', 'dequantized', 'floatNode', 'fp32Node', 'fp32OpType', 'fp32Tensor', 'inputs', 'match', 'maxAbs', 'node', 'opType', 'sqnrDb', 'sqnrDropDb', 'tensor', 'weightSqnrDb'].sort());
    // The layer's weight error is its weight against the grid (the one computation, weightGrid.ts).
    assert.equal(conv.weightSqnrDb, weightQuantization(loadModel(sampleModel), loadModel(q), 'Parameter5', true, 'x').sqnrDb);
    assert.equal(conv.fp32Tensor, 'ReLU32_Output_0');
    assert.equal(conv.fp32Node, 'ReLU32');
    // The layer to leave in float is the Conv (its Relu was merged into its output's quantization), and
    // only quantized compute layers have one.
    assert.equal(conv.floatNode, 'Convolution28');
    const byNode = new Map(r.layers.layers.map((l: { node: string; floatNode: string | null }) => [l.node, l.floatNode]));
    assert.deepEqual([byNode.get('Convolution110'), byNode.get('Times212'), byNode.get('Pooling66'), byNode.get('Input3_QuantizeLinear')], ['Convolution110', 'Times212', null, null]);
    assert.deepEqual(r.layers.unmapped, []);
    const usage = cli(['compare', sampleModel, '--expected', tmp, '--layers']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--layers compares two models layer by layer; with --expected there is one/);
  });
});

describe('the loop with 16-bit activations instead of float', () => {
  it('mnist: a step gives the worst layer 16-bit activations; a later float step for it drops it from the 16-bit list', async () => {
    const spec: InputSpec = { samples: 4 };
    const options: QuantizeOptions = { mode: 'static', calibration: { randomSamples: 8 } };
    const deps = {
      quantize: async (o: QuantizeOptions, out: string) => quantizeFile(sampleModel, out, o, { verify: checkSession, calibration: calibrationFor(resolveOptions(o), spec) }),
      compare: (file: string) => compareModels(sampleModel, file, { layers: true, spec }),
      latency: async (file: string) => {
        const r = await benchmark([sampleModel, file], { spec, iterations: 10, rounds: 2, warmup: 1, profile: false });
        return { p50Ms: r.runs[1].latencyMs.p50, sourceP50Ms: r.runs[0].latencyMs.p50, ratio: r.ratios[0].p50, ci: r.ratios[0].ci, provider: 'cpu' };
      },
    };
    const first = path.join(tmp, 'mnist-widen-0.onnx');
    const report = await deps.quantize(options, first);
    const history = new RefineHistory(deps, options, { file: first, size: reportSize(report), result: await deps.compare(first) });
    assert.equal(history.canWiden, true);
    // mnist has three quantized layers: a float step takes at most two (the third would leave the FP32 model).
    assert.equal(history.next(10).length, 2);
    const worst = history.next(1, 'int16');
    const wide = await history.step(1, path.join(tmp, 'mnist-widen-1.onnx'), 'int16');
    assert.deepEqual([wide.how, wide.added, wide.in16, wide.inFloat], ['int16', worst, worst, []]);
    // The step's latency, measured against the source side by side.
    assert.ok(wide.latency && wide.latency.ci[0] <= wide.latency.ratio && wide.latency.ratio <= wide.latency.ci[1] && wide.latency.p50Ms > 0, JSON.stringify(wide.latency));
    // 16-bit activations keep the layer quantized: the same nodes are quantized, the size barely moves.
    assert.equal(wide.quantized, history.steps[0].quantized);
    assert.notDeepEqual(history.next(1, 'int16'), worst, 'the next 16-bit step takes another layer');
    // Two more in float (mnist has three quantized layers: a step that took them all would quantize nothing).
    const floatStep = await history.step(2, path.join(tmp, 'mnist-widen-2.onnx'), 'float');
    if (floatStep.inFloat.includes(worst[0])) assert.ok(!floatStep.in16.includes(worst[0]), 'a layer in float is not also 16-bit');
    assert.ok(floatStep.inFloat.length > 0);
  });
});

describe('keep the worst layers in float and re-quantize: the loop and its history', { skip: noModels }, () => {
  const cases: [string, number][] = [['ppocr/ch_PP-OCRv4_rec_infer.onnx', 4], ['openwakeword/melspectrogram.onnx', 1]];
  for (const [rel, n] of cases) {
    it(`${rel}: keeping the ${n} worst layer${n === 1 ? '' : 's'} in float raises the worst output's cosine within two steps, and the history says what each step did`, async () => {
      const src = path.join(modelsDir, rel);
      const spec: InputSpec = { dims: runHints[rel]?.dims ?? {}, samples: 4 };
      // Equalization is judged again at each step on the same 4 random samples, and its choice flips between
      // steps (rec: kept, dropped, dropped; a swing of the worst output as large as a step's gain): off here,
      // so that the steps differ by the layers in float only.
      const options: QuantizeOptions = { mode: 'static', calibration: { randomSamples: 4 }, equalize: false };
      const deps = {
        quantize: async (o: QuantizeOptions, out: string) => quantizeFile(src, out, o, { verify: checkSession, calibration: calibrationFor(resolveOptions(o), spec) }),
        compare: (file: string) => compareModels(src, file, { layers: true, spec }),
      };
      const first = path.join(tmp, `${path.basename(rel, '.onnx')}-refine-0.onnx`);
      const report = await deps.quantize(options, first);
      const history = new RefineHistory(deps, options, { file: first, size: reportSize(report), result: await deps.compare(first) });
      const planned = history.next(n);
      assert.equal(planned.length, n);
      const one = await history.step(n, first.replace(/-0\.onnx$/, '-1.onnx'));
      assert.deepEqual(one.added, planned);
      assert.deepEqual(one.inFloat, planned);
      const two = await history.step(n, first.replace(/-0\.onnx$/, '-2.onnx'));
      assert.deepEqual(two.inFloat, [...one.inFloat, ...two.added]);
      assert.equal(two.added.filter((x) => one.added.includes(x)).length, 0, 'a step takes layers not yet in float');
      const [s0, s1, s2] = history.steps;
      assert.deepEqual(history.steps.map((s) => s.index), [0, 1, 2]);
      // One step may land within the noise of a few random samples; two
      // steps of layers with the largest drops must be better than none.
      assert.ok(s2.cosine > s0.cosine, `worst output cosine ${s0.cosine} -> ${s1.cosine} -> ${s2.cosine}`);
      assert.ok(s1.quantized! < s0.quantized! && s2.quantized! < s1.quantized!);
      assert.ok(s2.sizeRatio >= s0.sizeRatio, 'layers in float keep their float weights');
      for (const s of history.steps) assert.ok(fs.existsSync(s.file), s.file);
    });
  }
});
