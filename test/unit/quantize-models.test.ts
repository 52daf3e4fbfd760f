// The quantizer on real models: every model of the shared folder in every mode (dynamic int8 per tensor,
// dynamic int8 per channel, weight-only int4) is quantized through quantizeFile with the onnxruntime check,
// and the output runs in onnxruntime-node (optimization "all") with outputs shaped like the original's.
// Then the accuracy and size targets: dynamic int8 of MatMul/Gemm models keeps cosine >= 0.999 over the
// joined outputs of 64 seeded inputs; int8 <= 0.27x and int4 (block 32) <= 0.17x for weight-dominated
// generated models.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { modelFromProto } from '../../src/onnx/builder';
import { inspectFileSync } from '../../src/onnx/inspect';
import { loadModel } from '../../src/onnx/load';
import type { ModelProto } from '../../src/onnx/proto';
import { writeModel } from '../../src/onnx/write';
import { quantizeFile, type QuantizeOptions } from '../../src/quantize/index';
import { checkSession } from '../../src/runtime/check';
import { randomFeeds, readTensorFile } from '../../src/runtime/inputs';
import { ffnModel, gemmMlpModel, matmulModel, speechLike } from '../../bench/quantize-models';
import { cosineSimilarity as cosine } from '../../src/runtime/compare';
import { modelsDir, noModels, ortRefuses, runHints, sharedModels } from './helpers/models';
import { assertSameOutputShapes } from './helpers/quantize';

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-qmodels-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const ISNET = 'imgly/isnet_quint8_dynamic_small.onnx';
const MODES: [string, QuantizeOptions][] = [
  ['dynamic', { mode: 'dynamic' }],
  ['dynamic with Conv', { mode: 'dynamic', opTypes: ['MatMul', 'Gemm', 'Conv'] }],
  ['dynamic per-channel with Conv', { mode: 'dynamic', perChannel: true, opTypes: ['MatMul', 'Gemm', 'Conv'] }],
  ['weight-only int4', { mode: 'weight-only' }],
];

async function session(file: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
}

/** Seeded feeds for a shared model (the models README's dims and fixed values), or a conformance case's own inputs. */
function feedsFor(rel: string, file: string, seed: number): Record<string, ort.Tensor> {
  const data = path.join(path.dirname(file), 'test_data_set_0');
  if (rel.startsWith('conformance/') && fs.existsSync(data)) {
    const names = (loadModel(file).proto.graph!.input ?? []).map((v) => v.name ?? '');
    const feeds: Record<string, ort.Tensor> = {};
    for (let i = 0; fs.existsSync(path.join(data, `input_${i}.pb`)); i++) {
      const t = readTensorFile(path.join(data, `input_${i}.pb`));
      feeds[t.name || names[i]] = t.tensor;
    }
    return feeds;
  }
  const hints = runHints[rel] ?? {};
  const values = Object.fromEntries(Object.entries(hints.int64 ?? {}).map(([k, v]) => [k, new ort.Tensor('int64', BigInt64Array.from([v]), [])]));
  return randomFeeds(inspectFileSync(file).inputs, { seed, dims: hints.dims, values });
}

function joined(outputs: Record<string, ort.Tensor>[]): Float32Array {
  const parts = outputs.flatMap((o) => Object.values(o).filter((t) => t.type === 'float32').map((t) => t.data as Float32Array));
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

describe('quantize every shared model in every mode; the output loads and runs in onnxruntime', { skip: noModels }, () => {
  for (const rel of sharedModels()) {
    for (const [label, options] of MODES) {
      it(`${rel}: ${label}`, async (t) => {
        const src = path.join(modelsDir, rel);
        const out = path.join(tmp, `${rel.replace(/[/\\]/g, '_')}.${label.replace(/\W+/g, '-')}.onnx`);
        if (ortRefuses.has(rel)) {
          // onnxruntime refuses the original: the check fails and nothing is written.
          await assert.rejects(quantizeFile(src, out, options, { verify: checkSession }), /onnxruntime cannot load the quantized model.*layout/);
          assert.equal(fs.existsSync(out), false);
          return;
        }
        const report = await quantizeFile(src, out, options, { verify: checkSession });
        assert.ok(fs.existsSync(out));
        assert.ok(report.sizeAfter > 0 && report.sizeBefore > 0);
        if (rel === ISNET) {
          assert.deepEqual(report.quantized, []);
          assert.equal(report.skipped.length, 119);
          assert.ok(report.skipped.every((s) => s.opType === 'ConvInteger' && /already quantized/.test(s.reason)));
          if (label !== 'dynamic') return; // one 8-second run of the 1024 x 1024 model is enough
        }
        if (!report.quantized.length) assert.ok(report.notes.some((n) => /nothing was quantized/.test(n)), 'says why nothing was quantized');
        for (const w of report.weights) assert.ok(w.sqnr === null || w.sqnr > 5, `${w.name}: SQNR ${w.sqnr}`);
        const feeds = feedsFor(rel, src, 7);
        const [a, b] = [await session(src), await session(out)];
        try {
          const [ya, yb] = [await a.run(feeds), await b.run(feeds)];
          assertSameOutputShapes(ya, yb);
          if (report.quantized.length) {
            const c = cosine(joined([ya]), joined([yb]));
            t.diagnostic(`quantized ${report.quantized.length}, skipped ${report.skipped.length}, size ${(report.sizeAfter / report.sizeBefore).toFixed(3)}x, cosine (1 input) ${c.toFixed(5)}`);
          }
        } finally {
          await a.release(); await b.release();
        }
      });
    }
  }
});

/** Writes a generated model and quantizes it; returns both paths and the report. */
async function generated(name: string, proto: ModelProto, options: QuantizeOptions) {
  const fp32 = path.join(tmp, `${name}.onnx`), q = path.join(tmp, `${name}.q.onnx`);
  if (!fs.existsSync(fp32)) writeModel(modelFromProto(proto), fp32);
  const report = await quantizeFile(fp32, q, options, { verify: checkSession });
  return { fp32, q, report };
}

/** Cosine over the joined outputs of `n` inputs made by `feeds(i)`. */
async function cosineOver(fp32: string, q: string, n: number, feeds: (i: number) => Record<string, ort.Tensor>): Promise<number> {
  const [a, b] = [await session(fp32), await session(q)];
  try {
    const ya = [], yb = [];
    for (let i = 0; i < n; i++) { const f = feeds(i); ya.push(await a.run(f)); yb.push(await b.run(f)); }
    return cosine(joined(ya), joined(yb));
  } finally { await a.release(); await b.release(); }
}

const uniform = (dims: number[], seed: number) => randomFeeds([{ name: 'x', dtype: 'float', shape: dims }], { seed });

describe('quantize accuracy: dynamic int8 of MatMul/Gemm models, cosine >= 0.999 over 64 inputs joined', () => {
  for (const [label, options] of [['per tensor', {}], ['per channel', { perChannel: true }]] as [string, QuantizeOptions][]) {
    it(`generated FFN 256 -> 1024 -> 256, 16 tokens (${label})`, async (t) => {
      const { fp32, q, report } = await generated('ffn', ffnModel({ hidden: 256, ffn: 1024, seed: 5 }), options);
      assert.deepEqual(report.quantized, ['ffn.up.MatMul', 'ffn.down.MatMul']);
      const c = await cosineOver(fp32, q, 64, (i) => uniform([1, 16, 256], 100 + i));
      t.diagnostic(`cosine ${c.toFixed(6)}`);
      assert.ok(c >= 0.999, `cosine ${c}`);
    });

    it(`generated linear 512 -> 512 (${label})`, async (t) => {
      const { fp32, q } = await generated('linear', matmulModel({ K: 512, N: 512, seed: 6 }), options);
      const c = await cosineOver(fp32, q, 64, (i) => uniform([4, 512], 200 + i));
      t.diagnostic(`cosine ${c.toFixed(6)}`);
      assert.ok(c >= 0.999, `cosine ${c}`);
    });

    it(`generated Gemm MLP: transB, alpha, beta (${label})`, async (t) => {
      const { fp32, q } = await generated('gemm-mlp', gemmMlpModel(7), options);
      const c = await cosineOver(fp32, q, 64, (i) => uniform([2, 64], 300 + i));
      t.diagnostic(`cosine ${c.toFixed(6)}`);
      assert.ok(c >= 0.999, `cosine ${c}`);
    });

    it(`hey_jarvis (6 Gemm, 3 of them in an If branch), 64 random embeddings (${label})`, { skip: noModels }, async (t) => {
      const src = path.join(modelsDir, 'openwakeword/hey_jarvis_v0.1.onnx');
      const q = path.join(tmp, `hey_jarvis.${label.replace(' ', '-')}.onnx`);
      const report = await quantizeFile(src, q, options, { verify: checkSession });
      assert.equal(report.quantized.length, 6);
      const c = await cosineOver(src, q, 64, (i) => feedsFor('openwakeword/hey_jarvis_v0.1.onnx', src, 400 + i));
      t.diagnostic(`cosine ${c.toFixed(6)}`);
      assert.ok(c >= 0.999, `cosine ${c}`);
    });

    it(`silero if-less (4 Gemm in If branches), 64 consecutive speech-like chunks with the state carried (${label})`, { skip: noModels }, async (t) => {
      const src = path.join(modelsDir, 'silero/silero_vad_op18_ifless.onnx');
      const q = path.join(tmp, `silero.${label.replace(' ', '-')}.onnx`);
      const report = await quantizeFile(src, q, { ...options, opTypes: ['MatMul', 'Gemm'] }, { verify: checkSession });
      assert.equal(report.quantized.length, 4);
      const [a, b] = [await session(src), await session(q)];
      try {
        const sr = new ort.Tensor('int64', BigInt64Array.of(16000n), []);
        let sa: ort.Tensor = new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]), sb: ort.Tensor = sa;
        const ya: Record<string, ort.Tensor>[] = [], yb: Record<string, ort.Tensor>[] = [];
        for (let i = 0; i < 64; i++) {
          const x = new ort.Tensor('float32', speechLike(512, i * 512, 500 + i), [1, 512]);
          const [oa, ob] = [await a.run({ input: x, sr, state: sa }), await b.run({ input: x, sr, state: sb })];
          ya.push(oa); yb.push(ob);
          sa = oa.stateN; sb = ob.stateN;
        }
        const c = cosine(joined(ya), joined(yb));
        // White noise at full scale (not what the model hears) is reported, not asserted.
        const noise = await cosineOver(src, q, 64, (i) => feedsFor('silero/silero_vad_op18_ifless.onnx', src, 600 + i));
        t.diagnostic(`cosine ${c.toFixed(6)} on speech-like input (${noise.toFixed(4)} on full-scale white noise with random states)`);
        assert.ok(c >= 0.999, `cosine ${c}`);
      } finally { await a.release(); await b.release(); }
    });
  }
});

describe('quantize sizes of weight-dominated generated models', () => {
  it('dynamic int8 <= 0.27x fp32', async (t) => {
    const { report } = await generated('ffn-size', ffnModel({ hidden: 512, ffn: 2048, seed: 8 }), {});
    const ratio = report.sizeAfter / report.sizeBefore;
    t.diagnostic(`${report.sizeBefore} -> ${report.sizeAfter} bytes: ${ratio.toFixed(4)}x`);
    assert.ok(ratio <= 0.27, `${ratio}`);
  });

  it('weight-only int4 block 32 <= 0.17x fp32, and accurate', async (t) => {
    const { fp32, q, report } = await generated('linear-int4', matmulModel({ K: 1024, N: 1024, seed: 9 }), { mode: 'weight-only', blockSize: 32 });
    const ratio = report.sizeAfter / report.sizeBefore;
    const c = await cosineOver(fp32, q, 64, (i) => uniform([1, 1024], 700 + i));
    t.diagnostic(`${report.sizeBefore} -> ${report.sizeAfter} bytes: ${ratio.toFixed(4)}x; cosine ${c.toFixed(5)}`);
    assert.ok(ratio <= 0.17, `${ratio}`);
    assert.ok(c >= 0.99, `cosine ${c}`);
  });
});
