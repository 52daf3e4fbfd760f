// A transformer encoder as exporters write it (bench/transformer.ts: token ids in, Gather embedding,
// attention with Reshape/Transpose/MatMul/Softmax, LayerNormalization, a sigmoid GELU), quantized in each
// mode: what is quantized and what stays float, and each output against FP32 on int64 token ids made
// through the input spec.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { buildTransformer } from '../../bench/transformer';
import { modelFromProto } from '../../src/onnx/builder';
import { writeModel } from '../../src/onnx/write';
import { quantizeFile, resolveOptions, type QuantizeOptions } from '../../src/quantize/index';
import { calibrationFor } from '../../src/runtime/calibration';
import { checkSession } from '../../src/runtime/check';
import { cosineSimilarity } from '../../src/runtime/compare';
import { randomFeeds } from '../../src/runtime/inputs';
import { inspectFileSync } from '../../src/onnx/inspect';

const SPEC = { layers: 2, hidden: 128, heads: 4, ffn: 512, vocab: 1000, seed: 7, version: 1 };
/** Token ids in the vocabulary and a sequence of 16: the input spec's range and dims, as a user gives them. */
const INPUTS = { dims: { batch: 2, sequence: 16 }, ranges: { input_ids: [0, SPEC.vocab] as [number, number] } };
let tmp = '', src = '';
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-encoder-'));
  src = path.join(tmp, 'encoder.onnx');
  writeModel(modelFromProto(buildTransformer(SPEC)), src);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * Each mode, and the cosine its output must keep. 8-bit weights (40+ dB SQNR per weight) through two layers
 * with LayerNormalization keep 0.99; 4-bit blocks of 32 (about 20 dB) 0.95; static also quantizes every
 * activation (8-bit, about 40 dB each on calibrated ranges), 0.98.
 */
const MODES: [string, QuantizeOptions, number][] = [
  ['dynamic', { mode: 'dynamic' }, 0.99],
  ['weight-only int4', { mode: 'weight-only' }, 0.95],
  ['static QDQ', { mode: 'static', calibration: { randomSamples: 16 } }, 0.98],
];

describe('a transformer encoder with token-id inputs, in every mode', () => {
  for (const [label, options, floor] of MODES) {
    it(`${label}: the projections quantized, the attention products by what the mode can do, output cosine >= ${floor}`, async (t) => {
      const out = path.join(tmp, `encoder.${label.replace(/\W+/g, '_')}.onnx`);
      const calibration = options.mode === 'static' ? calibrationFor(resolveOptions(options), { ...INPUTS, seed: 100 }) : undefined;
      const report = await quantizeFile(src, out, options, { verify: checkSession, calibration });
      // Per layer: Q, K, V, O and the two FFN projections have constant weights.
      const projections = report.quantized.filter((n) => /\.(q|k|v|o|ffn\.up|ffn\.down)\.mm$/.test(n));
      assert.equal(projections.length, 6 * SPEC.layers, report.quantized.join(', '));
      const attention = (n: string) => /\.(scores|ctx)$/.test(n);
      if (options.mode === 'static') {
        // QDQ quantizes activation x activation products too (onnxruntime runs them as QLinearMatMul).
        assert.equal(report.quantized.filter(attention).length, 2 * SPEC.layers);
      } else {
        // Weight quantizers need a constant operand: the attention products stay float, with the reason.
        assert.deepEqual(report.quantized.filter(attention), []);
        const skipped = report.skipped.filter((s) => attention(s.name));
        assert.equal(skipped.length, 2 * SPEC.layers);
        assert.ok(skipped.every((s) => /is computed by|not a constant/.test(s.reason)), JSON.stringify(skipped[0]));
      }
      // Token ids the calibration did not see (another seed), through the same input spec.
      const inputs = inspectFileSync(src).inputs;
      const [a, b] = [await ort.InferenceSession.create(src), await ort.InferenceSession.create(out)];
      try {
        let worst = 1;
        for (let seed = 500; seed < 504; seed++) {
          const feeds = randomFeeds(inputs, { seed, dims: INPUTS.dims, ranges: INPUTS.ranges });
          const [ya, yb] = [await a.run(feeds), await b.run(feeds)];
          worst = Math.min(worst, cosineSimilarity(ya.hidden_states.data as Float32Array, yb.hidden_states.data as Float32Array));
        }
        t.diagnostic(`${label}: ${report.quantized.length} quantized, size ${(report.sizeAfter / report.sizeBefore).toFixed(3)}x, worst sample cosine ${worst.toFixed(5)}`);
        assert.ok(worst >= floor, `${label}: hidden_states cosine ${worst} < ${floor}`);
      } finally { await a.release(); await b.release(); }
    });
  }
});
