// Run and compare: the one implementation of the difference figures (checked here against an independent
// computation), per output judgement (a small output that collapses beside a large one fails), the
// accuracy target per output, saved outputs (--expected) on the ONNX conformance cases, execution
// providers that cannot start, and `onnxq compare` as a user runs it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { floatTensor, makeModel, modelFromProto, node, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { TensorProtoType } from '../../src/onnx/proto';
import { writeModel } from '../../src/onnx/write';
import { QuantizeError, quantizeFile } from '../../src/quantize/index';
import { calibrationFor } from '../../src/runtime/calibration';
import { checkSession } from '../../src/runtime/check';
import { DiffAccumulator, diffFigures, failures, judgedCosine, meanOf, OutputComparer } from '../../src/runtime/compare';
import { compareModels, compareWithExpected, EXIT_OUTSIDE_TOLERANCE } from '../../src/runtime/compareModels';
import { randomFeeds } from '../../src/runtime/inputs';
import { checkInputSpec, inputSpecFromText, inputSpecToText } from '../../src/runtime/inputSpecCheck';
import { providerStatus } from '../../src/runtime/providers';
import { outputCheck } from '../../src/runtime/quantizeCheck';
import { editorWording } from '../../src/vscode/editorWording';
import { floatActionId, quantizeReportContent } from '../../src/vscode/quantizeReportContent';
import { seededRandom } from '../../src/runtime/random';
import { resolveOptions } from '../../src/quantize/options';
import { RuntimeError } from '../../src/runtime/session';
import { randn } from './helpers/quantize';
import { modelsDir, noModels, ortRefuses, repoRoot, sampleModel } from './helpers/models';

const CLI = path.join(repoRoot, 'src', 'cli.ts');
const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', cwd: repoRoot });

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-compare-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The figures as a reader would compute them from their definitions, in doubles (not compare.ts). */
function independent(a: ArrayLike<number>, b: ArrayLike<number>) {
  let maxAbs = 0, sumAbs = 0, ee = 0, aa = 0, bb = 0, ab = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    maxAbs = Math.max(maxAbs, Math.abs(d)); sumAbs += Math.abs(d); ee += d * d; aa += a[i] ** 2; bb += b[i] ** 2; ab += a[i] * b[i];
  }
  return { maxAbs, meanAbs: sumAbs / a.length, rmse: Math.sqrt(ee / a.length), cosine: ab / Math.sqrt(aa * bb), sqnrDb: 10 * Math.log10(aa / ee) };
}

const close = (x: number, y: number, what: string) => assert.ok(Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y)), `${what}: ${x} vs ${y}`);

describe('difference figures', () => {
  it('follow the stated conventions for zeros, identical values and non-finite values', () => {
    const zero = new Float32Array(4), one = Float32Array.of(1, 2, 3, 4);
    assert.equal(diffFigures(zero, zero).cosine, 1, 'both all zeros: cosine 1');
    assert.equal(diffFigures(zero, one).cosine, 0, 'only one all zeros: cosine 0, not NaN');
    assert.equal(diffFigures(one, zero).cosine, 0);
    assert.equal(diffFigures(zero, one).sqnrDb, -Infinity);
    const same = diffFigures(one, one);
    assert.equal(same.identical, true);
    assert.equal(same.sqnrDb, Infinity);
    assert.equal(same.maxAbs, 0);
    const nan = diffFigures(Float32Array.of(1, NaN, Infinity), Float32Array.of(1, NaN, 5));
    assert.equal(nan.nonFiniteMismatch, 1, 'the same NaN on both sides is no difference; an infinity against 5 is');
    assert.equal(nan.maxAbs, Infinity);
    assert.equal(nan.identical, false);
    // A candidate that outputs NaN where the reference does not can never look close.
    const broken = diffFigures(Float32Array.of(1, 2, 3, 4), Float32Array.of(1, 2, 3, NaN));
    assert.deepEqual([broken.cosine, broken.sqnrDb], [0, -Infinity]);
  });

  it('mean SQNR over samples averages the finite ones; -Infinity wins, +Infinity only when all are exact', () => {
    const f = (sqnrDb: number) => ({ ...diffFigures([1], [1]), sqnrDb });
    assert.equal(meanOf([f(Infinity), f(20), f(30)]).sqnrDb, 25);
    assert.equal(meanOf([f(Infinity), f(Infinity)]).sqnrDb, Infinity);
    assert.equal(meanOf([f(20), f(-Infinity)]).sqnrDb, -Infinity);
  });

  it('a tolerance counts the values outside |a - b| <= atol + rtol |a|', () => {
    const acc = new DiffAccumulator({ atol: 0.1, rtol: 0.1 });
    acc.add(Float32Array.of(0, 10, 10), Float32Array.of(0.09, 11.05, 11.2));
    // allowed: 0.1 at 0, 1.1 at 10. Errors 0.09 and 1.05 are within; 1.2 is not.
    assert.equal(acc.outside, 1);
  });

  it('per output: a small output that collapses fails while the joined figure would pass', () => {
    const big = randn(1, 1000, 100), small = randn(2, 10, 0.01);
    const bigQ = big.map((v, i) => v + ((i % 7) - 3) * 0.01), smallQ = new Float32Array(10); // the small one lost
    const c = new OutputComparer(['big', 'small'], { minCosine: 0.99 });
    c.add({ big: { type: 'float32', data: big, dims: [1000] }, small: { type: 'float32', data: small, dims: [10] } },
      { big: { type: 'float32', data: bigQ, dims: [1000] }, small: { type: 'float32', data: smallQ, dims: [10] } });
    const [b, s] = c.results();
    assert.ok(b.worst.cosine > 0.9999);
    assert.equal(s.worst.cosine, 0);
    assert.deepEqual(failures(b, { minCosine: 0.99 }), []);
    assert.deepEqual(failures(s, { minCosine: 0.99 }), ['cosine 0.000000 < 0.99']);
    const joined = independent([...big, ...small], [...bigQ, ...smallQ]).cosine;
    assert.ok(joined > 0.9999, `joined over both outputs the cosine is ${joined}: the collapse is invisible there`);
  });

  it('top-k agreement: the reference top-1 among the candidate top k, per row of the last axis', () => {
    const c = new OutputComparer(['p'], { topK: { p: 2 } });
    // Row 1: reference top-1 is class 2; candidate ranks it second -> hit for k = 2. Row 2: reference
    // top-1 is class 0; candidate ranks it last -> miss.
    c.add({ p: { type: 'float32', data: Float32Array.of(0, 1, 5, 9, 0, 1), dims: [2, 3] } }, { p: { type: 'float32', data: Float32Array.of(0, 6, 5, 0, 1, 2), dims: [2, 3] } });
    assert.deepEqual(c.results()[0].topK, { k: 2, rows: 2, agreement: 0.5 });
    const nan = new OutputComparer(['p'], { topK: { p: 1 } });
    nan.add({ p: { type: 'float32', data: Float32Array.of(0.1, 0.9), dims: [1, 2] } }, { p: { type: 'float32', data: Float32Array.of(0.5, NaN), dims: [1, 2] } });
    assert.equal(nan.results()[0].topK!.agreement, 0, 'a NaN score is not an agreement');
  });

  it('an output of one value per sample is judged on its samples pooled (alone, one value\'s cosine is its sign)', () => {
    const c = new OutputComparer(['p']);
    const ref = [0.002, 0.8, -0.5, 0.3], got = [-0.001, 0.79, -0.49, 0.31];
    for (let i = 0; i < 4; i++) c.add({ p: { type: 'float32', data: Float32Array.of(ref[i]), dims: [1, 1] } }, { p: { type: 'float32', data: Float32Array.of(got[i]), dims: [1, 1] } });
    const [o] = c.results();
    assert.equal(o.worst.cosine, -1, 'the first sample flipped its sign');
    close(judgedCosine(o), independent(ref, got).cosine, 'judged on the pooled cosine');
    assert.deepEqual(failures(o, { minCosine: 0.99 }), []);
  });
});

describe('compare two models', () => {
  it('a model against itself: exactly zero error on every sample', async () => {
    const r = await compareModels(sampleModel, sampleModel, { spec: { samples: 3 } });
    assert.equal(r.inputs.samples, 3);
    for (const o of r.outputs) {
      assert.equal(o.samples.length, 3);
      for (const f of [...o.samples, o.worst, o.pooled]) {
        assert.equal(f.identical, true);
        assert.equal(f.maxAbs, 0);
        assert.equal(f.cosine, 1);
        assert.equal(f.sqnrDb, Infinity);
      }
    }
    assert.equal(r.pass, null, 'no tolerance: figures only');
    assert.equal(r.a.provider.used, 'cpu');
  });

  it('FP32 against our static int8 output: the figures equal an independent computation', async () => {
    const q = path.join(tmp, 'mnist.int8.onnx');
    const o = resolveOptions({ mode: 'static', calibration: { randomSamples: 8 } });
    await quantizeFile(sampleModel, q, { mode: 'static', calibration: { randomSamples: 8 } }, { verify: checkSession, calibration: calibrationFor(o) });
    const r = await compareModels(sampleModel, q, { spec: { samples: 4, seed: 100 }, policy: { minCosine: 0.5 } });
    const [sa, sb] = [await ort.InferenceSession.create(sampleModel), await ort.InferenceSession.create(q)];
    try {
      const out = r.outputs[0];
      for (let i = 0; i < 4; i++) {
        // The same seeded input, made here by hand: uniform in [-1, 1) from the documented generator.
        const rand = seededRandom(100 + i);
        const x = Float32Array.from({ length: 784 }, () => -1 + 2 * rand());
        const feeds = { Input3: new ort.Tensor('float32', x, [1, 1, 28, 28]) };
        const [ya, yb] = [(await sa.run(feeds))[out.name].data as Float32Array, (await sb.run(feeds))[out.name].data as Float32Array];
        const want = independent(ya, yb);
        const got = out.samples[i];
        for (const k of ['maxAbs', 'meanAbs', 'rmse', 'cosine', 'sqnrDb'] as const) close(got[k], want[k], `sample ${i} ${k}`);
        assert.ok(!got.identical && got.maxAbs > 0, 'int8 is not bit-exact');
      }
      assert.equal(out.worst.cosine, Math.min(...out.samples.map((s) => s.cosine)));
      assert.equal(out.pass, true);
    } finally { await sa.release(); await sb.release(); }
  });

  it('models with different inputs or outputs: an error naming them', async () => {
    const other = path.join(tmp, 'other.onnx');
    const g = { name: 'g', node: [node('Relu', ['x'], ['y'])], input: [valueInfo('x', DataType.FLOAT, [1, 4])], output: [valueInfo('y', DataType.FLOAT, [1, 4])] };
    writeModel(modelFromProto(makeModel({ graph: g, opset: 13 })), other);
    await assert.rejects(compareModels(sampleModel, other), (e: unknown) => e instanceof RuntimeError && e.kind === 'input-mismatch' && /only the first model has "Input3".*only the second model has "x"/.test(e.message));
  });
});

/**
 * Two outputs from one MatMul: "big" (15 columns of large weights) and "small" (one column of tiny
 * weights). Static quantization gives the MatMul output one per-tensor uint8 scale, set by the large
 * values, so the small column rounds to almost nothing.
 */
function twoOutputModel(file: string): void {
  const k = 16, n = 16;
  const w = new Float32Array(k * n);
  const r = randn(7, k * n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) w[i * n + j] = r[i * n + j] * (j === n - 1 ? 0.002 : 5);
  const g = {
    name: 'two-outputs',
    node: [
      node('MatMul', ['x', 'W'], ['h'], {}, 'matmul'),
      node('Slice', ['h', 'start_big', 'end_big', 'axes'], ['big'], {}, 'slice_big'),
      node('Slice', ['h', 'start_small', 'end_small', 'axes'], ['small'], {}, 'slice_small'),
    ],
    initializer: [
      floatTensor('W', [k, n], w),
      { name: 'start_big', data_type: DataType.INT64, dims: [1], raw_data: new Uint8Array(BigInt64Array.of(0n).buffer) },
      { name: 'end_big', data_type: DataType.INT64, dims: [1], raw_data: new Uint8Array(BigInt64Array.of(15n).buffer) },
      { name: 'start_small', data_type: DataType.INT64, dims: [1], raw_data: new Uint8Array(BigInt64Array.of(15n).buffer) },
      { name: 'end_small', data_type: DataType.INT64, dims: [1], raw_data: new Uint8Array(BigInt64Array.of(16n).buffer) },
      { name: 'axes', data_type: DataType.INT64, dims: [1], raw_data: new Uint8Array(BigInt64Array.of(1n).buffer) },
    ],
    input: [valueInfo('x', DataType.FLOAT, [8, k])],
    output: [valueInfo('big', DataType.FLOAT, [8, 15]), valueInfo('small', DataType.FLOAT, [8, 1])],
  };
  writeModel(modelFromProto(makeModel({ graph: g, opset: 13 })), file);
}

describe('accuracy is judged per output', () => {
  const src = () => path.join(tmp, 'two.onnx');
  before(() => twoOutputModel(src()));

  it('the accuracy target reports met: false naming the collapsed output, where the joined cosine passes', async () => {
    const out = path.join(tmp, 'two.q.onnx');
    const options = { mode: 'static' as const, calibration: { randomSamples: 16 }, accuracyTarget: 0.99, maxFloatNodes: 0 };
    const report = await quantizeFile(src(), out, options, { verify: checkSession, calibration: calibrationFor(resolveOptions(options)) });
    assert.ok(report.quantized.includes('matmul'));
    assert.equal(report.accuracy?.met, false);
    assert.equal(report.accuracyTarget?.met, false);
    assert.equal(report.accuracyTarget?.worstOutput, 'small');
    const small = report.accuracy!.outputs.find((o) => o.name === 'small')!, big = report.accuracy!.outputs.find((o) => o.name === 'big')!;
    assert.ok(small.cosineAfter < 0.99 && big.cosineAfter >= 0.99, JSON.stringify(report.accuracy!.outputs));

    // The joined figure over both outputs, computed here on the same calibration samples, would have passed.
    const [sa, sb] = [await ort.InferenceSession.create(src()), await ort.InferenceSession.create(out)];
    const xs: number[] = [], ys: number[] = [];
    try {
      for (let i = 0; i < 16; i++) {
        const feeds = randomFeeds([{ name: 'x', dtype: 'float', shape: [8, 16] }], { seed: 1 + i });
        const [ya, yb] = [await sa.run(feeds), await sb.run(feeds)];
        for (const k of ['big', 'small']) { xs.push(...(ya[k].data as Float32Array)); ys.push(...(yb[k].data as Float32Array)); }
      }
    } finally { await sa.release(); await sb.release(); }
    assert.ok(independent(xs, ys).cosine >= 0.99, `joined cosine ${independent(xs, ys).cosine} would have met the target`);

    // compare fails on that output (and only that one), with its own exit code.
    const r = await compareModels(src(), out, { policy: { minCosine: 0.99 } });
    assert.equal(r.pass, false);
    assert.deepEqual(r.outputs.filter((o) => o.pass === false).map((o) => o.name), ['small']);
    assert.equal(r.worstOutput, 'small');
    const run = cli(['compare', src(), out, '--min-cosine', '0.99']);
    assert.equal(run.status, EXIT_OUTSIDE_TOLERANCE, run.stderr);
    assert.match(run.stdout, /FAIL: "small"/);
  });

  it('without a node limit the target holds only with the MatMul in float: every output checked, and nothing left to quantize', async () => {
    const out = path.join(tmp, 'two.target.onnx');
    const options = { mode: 'static' as const, calibration: { randomSamples: 16 }, accuracyTarget: { small: 0.99, big: 0.999 } };
    // The model's one quantizable node is what costs "small" its accuracy: the search keeps it in float,
    // which leaves the FP32 model; that is said, and no copy of it is written.
    await assert.rejects(quantizeFile(src(), out, options, { verify: checkSession, calibration: calibrationFor(resolveOptions(options)) }),
      (e: unknown) => e instanceof QuantizeError && e.code === 'nothing-to-quantize'
        && /^the accuracy target small=0\.99,big=0\.999 holds only with every quantizable node in float \(1: matmul\): there is nothing left to quantize; lower the target/.test(e.message));
    assert.equal(fs.existsSync(out), false);
  });

  it('a per-output target naming no output is refused, listing the outputs', async () => {
    const options = { mode: 'static' as const, calibration: { randomSamples: 2 }, accuracyTarget: { scores: 0.99 } };
    await assert.rejects(quantizeFile(src(), path.join(tmp, 'x.onnx'), options, { verify: checkSession, calibration: calibrationFor(resolveOptions(options)) }),
      /names "scores", which is not an output of the model; its float outputs are "big", "small"/);
  });
});

describe('an output behind a discontinuous op', () => {
  it('is called out in the quantize report when it drops, naming the op and the quantized nodes that feed it', async () => {
    // h = x W with one large column (so h's int8 scale is coarse) and small others; mask = h > 0 flips
    // wherever a small value rounds to the zero point.
    const k = 16, n = 8;
    const r = randn(11, k * n);
    const w = Float32Array.from(r, (v, i) => v * (i % n === 0 ? 50 : 0.05));
    const g = {
      name: 'mask',
      node: [node('MatMul', ['x', 'W'], ['h'], {}, 'matmul'), node('Greater', ['h', 'zero'], ['mask'], {}, 'gt')],
      initializer: [floatTensor('W', [k, n], w), floatTensor('zero', [], [0])],
      input: [valueInfo('x', DataType.FLOAT, [4, k])],
      output: [valueInfo('h', DataType.FLOAT, [4, n]), valueInfo('mask', DataType.BOOL, [4, n])],
    };
    const src = path.join(tmp, 'mask.onnx'), out = path.join(tmp, 'mask.q.onnx');
    writeModel(modelFromProto(makeModel({ graph: g, opset: 13 })), src);
    const options = { mode: 'static' as const, calibration: { randomSamples: 8 } };
    const resolved = resolveOptions(options);
    const report = await quantizeFile(src, out, options, { verify: checkSession, calibration: calibrationFor(resolved), checkOutputs: outputCheck(resolved) });
    const mask = report.outputs!.find((o) => o.name === 'mask')!;
    assert.ok(mask.cosine < 0.99, `the mask dropped: ${mask.cosine}`);
    assert.deepEqual(report.outputsMeasuredOn, { source: '4 random samples (seeds 9..12)', samples: 4, random: true, heldOut: true });
    const note = report.notes.find((x) => x.startsWith('output "mask"'));
    assert.ok(note, report.notes.join('\n'));
    assert.match(note, /computed through Greater "gt": a discontinuous op.*the quantized nodes that feed it are matmul: keep them in float \(--exclude matmul\)/);
    assert.ok(!report.notes.some((x) => x.startsWith('output "h"')), 'h has no discontinuous op on its path');
    assert.deepEqual(report.floatSuggestions, [{ output: 'mask', ops: ['gt'], nodes: ['matmul'] }]);

    // In the editor's report panel the note speaks of the editor, with a button that quantizes again.
    const content = quantizeReportContent(report, { input: src, output: out });
    const shown = content.notes.find((n) => n.text.startsWith('output "mask"'))!;
    assert.ok(!/--exclude/.test(shown.text), shown.text);
    assert.deepEqual(shown.action && [shown.action.id, shown.action.label], [floatActionId(0), 'Quantize again with 1 node in float']);
    assert.ok(content.notes.every((n) => !/--[a-z]/.test(n.text)), content.notes.map((n) => n.text).join('\n'));
  });
});

describe('the quantize report in the editor speaks of the editor\'s choices', () => {
  it('no command-line flag is left in the notes the quantizer writes', async () => {
    const dyn = await quantizeFile(sampleModel, path.join(tmp, 'words.dyn.onnx'), { mode: 'dynamic' }, { verify: checkSession });
    const src = path.join(tmp, 'words.two.onnx');
    twoOutputModel(src);
    const options = { mode: 'static' as const, calibration: { randomSamples: 4 }, accuracyTarget: 0.99, maxFloatNodes: 0 };
    const stat = await quantizeFile(src, path.join(tmp, 'words.static.onnx'), options, { verify: checkSession, calibration: calibrationFor(resolveOptions(options)) });
    const notes = [...dyn.notes, ...stat.notes];
    for (const pattern of [/--op-types/, /--calib-data/, /--max-float-nodes/, /--activation-type/]) assert.ok(notes.some((n) => pattern.test(n)), `the core writes ${pattern}`);
    for (const n of notes) assert.doesNotMatch(editorWording(n), /(^|[\s(])--(op-types|calib-data|max-float-nodes|exclude)\b/, n);
    assert.match(editorWording(notes.find((n) => /--op-types/.test(n))!), /Static int8 \(Quantize Model…\) quantizes Conv layers/);
  });
});

describe('saved outputs (--expected) on the ONNX conformance cases', { skip: noModels }, () => {
  const root = path.join(modelsDir, 'conformance');
  const cases = fs.existsSync(root) ? fs.readdirSync(root).filter((d) => fs.existsSync(path.join(root, d, 'model.onnx'))).sort() : [];

  it('every case onnxruntime runs passes with the backend tests\' tolerance', async () => {
    assert.ok(cases.length >= 20, `${cases.length} conformance cases`);
    let ran = 0;
    for (const c of cases) {
      const file = path.join(root, c, 'model.onnx');
      if (ortRefuses.has(`conformance/${c}/model.onnx`)) {
        await assert.rejects(compareWithExpected(file, path.join(root, c)), (e: unknown) => e instanceof RuntimeError && e.kind === 'model-rejected', c);
        continue;
      }
      const r = await compareWithExpected(file, path.join(root, c));
      assert.equal(r.pass, true, `${c}: ${r.outputs.map((o) => o.failures.join('; ')).join(' | ')}`);
      ran++;
    }
    assert.ok(ran >= 20);
  });

  it('a perturbed copy of the saved outputs fails, with the exit code for "outside tolerance"', () => {
    const c = 'test_qlinearmatmul_2D';
    const from = path.join(root, c);
    assert.ok(fs.existsSync(from), `${c} is one of the shared conformance cases`);
    const copy = path.join(tmp, c);
    fs.cpSync(from, copy, { recursive: true });
    const set = path.join(copy, 'test_data_set_0', 'output_0.pb');
    const t = TensorProtoType.decode(fs.readFileSync(set)) as unknown as { raw_data: Uint8Array };
    const bytes = new Uint8Array(t.raw_data);
    bytes[0] = (bytes[0] + 3) % 256; // one value off by 3 (uint8 codes)
    fs.writeFileSync(set, TensorProtoType.encode({ ...(TensorProtoType.decode(fs.readFileSync(set)) as object), raw_data: bytes } as never).finish());
    const ok = cli(['compare', path.join(copy, 'model.onnx'), '--expected', from]);
    assert.equal(ok.status, 0, ok.stderr);
    const bad = cli(['compare', path.join(copy, 'model.onnx'), '--expected', copy, '--json']);
    assert.equal(bad.status, EXIT_OUTSIDE_TOLERANCE, bad.stderr);
    const json = JSON.parse(bad.stdout);
    assert.equal(json.pass, false);
    assert.equal(json.outputs[0].outside, 1);
  });
});

describe('execution providers', () => {
  for (const provider of ['webgpu', 'cuda'] as const) {
    it(`${provider} that cannot start here: a RuntimeError naming the cause; the CPU only when allowed`, async (t) => {
      const status = await providerStatus(provider);
      if (status.available) { t.skip(`${provider} starts on this machine`); return; }
      assert.match(status.reason!, provider === 'cuda' ? /CUDA libraries.*ONNXRUNTIME_NODE_INSTALL=cuda12/ : /WebGPU adapter|not part of onnxruntime-node/);
      await assert.rejects(compareModels(sampleModel, sampleModel, { providers: [provider], spec: { samples: 1 } }),
        (e: unknown) => e instanceof RuntimeError && e.kind === 'provider-unavailable' && e.message.includes(status.reason!) && /--allow-cpu-fallback/.test(e.message));
      const r = await compareModels(sampleModel, sampleModel, { providers: [provider], allowCpuFallback: true, spec: { samples: 1 } });
      assert.equal(r.a.provider.used, 'cpu');
      assert.equal(r.a.provider.cpuFallback, true);
      assert.deepEqual(r.a.provider.skipped.map((s) => s.provider), [provider]);
      const run = cli(['compare', sampleModel, sampleModel, '--ep', provider]);
      assert.equal(run.status, 1);
      assert.ok(!/\[E:onnxruntime/.test(run.stderr) && !run.stderr.includes(String.fromCharCode(27)), 'onnxruntime\'s raw log stays out of the terminal');
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    });
  }
});

describe('the input spec through compare', () => {
  it('Silero v5 (unnamed dims, an int64 scalar sr) compares cleanly with sr=16000 and --dims input:1=512', { skip: noModels }, () => {
    const model = path.join(modelsDir, 'silero', 'silero_vad_v5.onnx');
    const r = cli(['compare', model, model, '--value', 'sr=16000', '--dims', 'input:1=512', '--samples', '2', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.deepEqual(json.inputs.shapes, { input: [1, 512], state: [2, 1, 128], sr: [] });
    assert.deepEqual(json.inputs.defaulted.map((d: { input: string; axis: number }) => `${d.input}:${d.axis}`), ['input:0', 'state:1']);
    assert.ok(json.outputs.every((o: { worst: { identical: boolean } }) => o.worst.identical));
    // Left at 1, the audio input is too short for the model: the failure says which dims to set.
    const short = cli(['compare', model, model, '--value', 'sr=16000', '--samples', '1']);
    assert.equal(short.status, 1);
    assert.match(short.stderr, /these dims were left at 1: input:0=1, input:1=1, state:1=1; set them with --dims input:0=SIZE,input:1=SIZE,state:1=SIZE/);
  });

  it('calibration on dims left at 1 that the model cannot run says which dims to set (Silero v5, an audio input of 1 sample)', { skip: noModels }, () => {
    const model = path.join(modelsDir, 'silero', 'silero_vad_v5.onnx');
    const out = path.join(tmp, 'silero.never.onnx');
    const r = cli(['quantize', model, '-o', out, '--mode', 'static', '--calib-random', '2', '--value', 'sr=16000']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /calibration sample 1: onnxruntime could not run the model on it: .*Pad reflect.*; these dims were left at 1: input:0=1, input:1=1, state:1=1; set them with --dims/);
    assert.equal(fs.existsSync(out), false);
  });

  it('unknown names are errors that list the valid ones', () => {
    const dims = cli(['compare', sampleModel, sampleModel, '--dims', 'batch=4']);
    assert.equal(dims.status, 1);
    assert.match(dims.stderr, /"batch" is not a dim of its inputs; the symbolic dims are none \(or name an axis as input:axis, e.g. Input3:0\)/);
    const value = cli(['compare', sampleModel, sampleModel, '--value', 'sr=16000']);
    assert.match(value.stderr, /--value names "sr", which is not an input of the model; the model's inputs are "Input3" \(float \[1, 1, 28, 28\]\)/);
    const q = cli(['quantize', sampleModel, '-o', path.join(tmp, 'never.onnx'), '--calib-dims', 'batch=4,foo=7']);
    assert.equal(q.status, 1, 'quantize checks the spec before any work');
    assert.equal(fs.existsSync(path.join(tmp, 'never.onnx')), false);
    const flag = cli(['compare', sampleModel, sampleModel, '--range', 'x=1']);
    assert.equal(flag.status, 2);
    const expected = cli(['compare', sampleModel, '--expected', tmp, '--samples', '2']);
    assert.equal(expected.status, 2, 'input flags do not apply to saved inputs');
    assert.match(expected.stderr, /--expected runs the inputs saved beside the outputs; --samples do not apply/);
  });

  it('integer values and ranges must fit the input\'s type; the text form keeps Windows paths', () => {
    const inputs = [{ name: 'ids', dtype: 'uint8', shape: [1, 4] }];
    assert.throws(() => checkInputSpec({ values: { ids: 300 } }, inputs), /input "ids" is uint8: 300 does not fit \(uint8 holds 0 to 255\)/);
    assert.throws(() => checkInputSpec({ ranges: { ids: [0, 300] } }, inputs), /the range 0:300 of input "ids" does not fit its type: uint8 holds 0 to 255/);
    assert.doesNotThrow(() => checkInputSpec({ ranges: { ids: [0, 256] } }, inputs), '[0, 256) is 0..255');
    const spec = { inputs: 'C:\\My Data\\samples', dims: { batch: 2 } };
    assert.deepEqual(inputSpecFromText(inputSpecToText(spec)), spec);
  });

  it('compare --help documents every flag and the exit codes', () => {
    const r = cli(['compare', '--help']);
    assert.equal(r.status, 0);
    for (const flag of ['--expected', '--min-cosine', '--atol', '--rtol', '--top-k', '--ep', '--allow-cpu-fallback', '--threads', '--json', '--dims', '--value', '--range', '--inputs', '--samples', '--seed']) {
      assert.ok(r.stdout.includes(flag), flag);
    }
    assert.match(r.stdout, /Exit codes: 0 .*1 error.*2 usage mistake, 3 at least one\s+output outside the tolerance/s);
  });
});
