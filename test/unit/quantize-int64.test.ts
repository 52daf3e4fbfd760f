// int64 values past 2^53 survive read, every quantization mode and write exactly. PyTorch exports at
// opsets 9-10 write open slice ends as INT64_MAX and starts as INT64_MIN; the opset upgrade turns those
// attributes into int64 initializers, where a trip through a double would change (or crash on) them.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { int64Tensor, makeModel, modelFromProto, node, tensor, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { loadModel } from '../../src/onnx/load';
import { int64Exact, longLike, type GraphProto, type NodeProto } from '../../src/onnx/proto';
import { writeModel } from '../../src/onnx/write';
import { quantizeFile, resolveOptions, type QuantizeOptions } from '../../src/quantize/index';
import { calibrationFor } from '../../src/runtime/calibration';
import { checkSession } from '../../src/runtime/check';
import { cosineSimilarity } from '../../src/runtime/compare';
import { randn } from './helpers/quantize';

const F = DataType.FLOAT;
const MAX = 9223372036854775807n, MIN = -9223372036854775808n;
let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-int64-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * x [2, 6, 32] -> MatMul W [32, 16] -> a Slice with open ends -> y (quantized path), and two Slices of a
 * second input z that no quantized node reads (their outputs must stay equal to the float model's, bit for
 * bit; static mode would put x itself between Q and DQ). Before opset
 * 10 the slices are attributes; from 10 on, int64 inputs, one of them in the typed `int64_data` field.
 */
function slicesModel(opset: number): GraphProto {
  const nodes: NodeProto[] = [node('MatMul', ['x', 'W'], ['h'], {}, 'mm')];
  const inits = [tensor('W', F, [32, 16], randn(7, 32 * 16, 0.2))];
  if (opset < 10) {
    nodes.push(
      node('Slice', ['h'], ['y'], { starts: [MIN], ends: [MAX], axes: [2] }, 'open_slice'),
      node('Slice', ['z'], ['tail'], { starts: [1n, MIN], ends: [MAX, MAX], axes: [1, 2] }, 'tail_slice'),
      node('Slice', ['z'], ['head'], { starts: [0n], ends: [3n] }, 'head_slice'),
    );
  } else {
    inits.push(
      int64Tensor('ys', [1], [MIN]), int64Tensor('ye', [1], [MAX]), int64Tensor('ya', [1], [2]),
      int64Tensor('ts', [2], [1, MIN]), int64Tensor('ta', [2], [1, 2]),
      // The typed field, as some exporters write it (decoded as long.js values, not raw bytes).
      { name: 'te', data_type: DataType.INT64, dims: [2], int64_data: [longLike(MAX), longLike(MAX)] },
      // Reversed along the last axis: from the end to before INT64_MIN, step -1.
      int64Tensor('rs', [1], [-1]), int64Tensor('re', [1], [MIN]), int64Tensor('ra', [1], [2]), int64Tensor('rp', [1], [-1]),
    );
    nodes.push(
      node('Slice', ['h', 'ys', 'ye', 'ya'], ['y'], {}, 'open_slice'),
      node('Slice', ['z', 'ts', 'te', 'ta'], ['tail'], {}, 'tail_slice'),
      node('Slice', ['z', 'rs', 're', 'ra', 'rp'], ['head'], {}, 'reverse_slice'),
    );
  }
  return {
    name: `slices_opset${opset}`, node: nodes, initializer: inits,
    input: [valueInfo('x', F, [2, 6, 32]), valueInfo('z', F, [2, 6, 32])],
    output: [valueInfo('y', F, [2, 6, 16]), valueInfo('tail', F, null), valueInfo('head', F, null)],
  };
}

/** Every int64 value of every attribute and int64 tensor of the model, by where it is. */
function int64Values(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const { node: n } of loadModel(file).nodes()) {
    for (const a of n.attribute ?? []) if (a.ints?.length) out.set(`${n.name}.${a.name}`, a.ints.map((v) => int64Exact(v).toString()).join(','));
  }
  for (const w of loadModel(file).weights()) {
    if (w.dtype !== DataType.INT64) continue;
    const bytes = w.readBytes();
    const view = new BigInt64Array(Uint8Array.from(bytes).buffer);
    out.set(w.name, [...view].join(','));
  }
  return out;
}

async function run(file: string, x: Float32Array, z: Float32Array): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
  try { return await s.run({ x: new ort.Tensor('float32', x, [2, 6, 32]), z: new ort.Tensor('float32', z, [2, 6, 32]) }); } finally { await s.release(); }
}

const MODES: [string, QuantizeOptions][] = [
  ['dynamic', { mode: 'dynamic' }],
  ['weight-only', { mode: 'weight-only' }],
  ['static QDQ', { mode: 'static', calibration: { randomSamples: 8 } }],
  ['static QOperator', { mode: 'static', format: 'qoperator', calibration: { randomSamples: 8 } }],
];

describe('int64 values are exact through every mode and the opset upgrade', () => {
  for (const opset of [7, 8, 9, 10, 11, 12, 13]) {
    it(`opset ${opset}: INT64_MAX/MIN slice bounds, dynamic, weight-only and static`, async () => {
      const src = path.join(tmp, `slices${opset}.onnx`);
      writeModel(modelFromProto(makeModel({ graph: slicesModel(opset), opset, irVersion: opset < 9 ? 3 : opset < 11 ? 5 : 7 })), src);
      // The model as written holds the values exactly (the builder and the writer keep them).
      const written = int64Values(src);
      if (opset < 10) assert.equal(written.get('open_slice.ends'), MAX.toString());
      else assert.equal(written.get('te'), `${MAX},${MAX}`);
      const x = randn(11, 2 * 6 * 32), z = randn(12, 2 * 6 * 32);
      const want = await run(src, x, z);
      for (const [label, options] of MODES) {
        const out = path.join(tmp, `slices${opset}.${label.replace(/ /g, '_')}.onnx`);
        // Calibrated on the range the test inputs span (Irwin-Hall of three: within +-3).
        const calibration = options.mode === 'static' ? calibrationFor(resolveOptions(options), { ranges: { x: [-3, 3], z: [-3, 3] } }) : undefined;
        const report = await quantizeFile(src, out, options, { verify: checkSession, calibration });
        assert.deepEqual(report.quantized, ['mm'], `${label}: the MatMul is quantized`);
        // Each value the source had is in the output as it was: as the same attribute where the opset
        // stayed, or as the initializer the upgrade made from it.
        const got = int64Values(out);
        const upgraded = report.opsetUpgrade !== null && opset < 10;
        if (upgraded) {
          assert.equal(got.get('open_slice_ends'), MAX.toString(), `${label}: Slice ends`);
          assert.equal(got.get('open_slice_starts'), MIN.toString(), `${label}: Slice starts`);
          assert.equal(got.get('tail_slice_ends'), `${MAX},${MAX}`, `${label}: tail ends`);
          assert.equal(got.get('tail_slice_starts'), `1,${MIN}`, `${label}: tail starts`);
        } else {
          for (const [k, v] of written) if (got.has(k) || !k.startsWith('W')) assert.equal(got.get(k), v, `${label}: ${k}`);
        }
        const have = await run(out, x, z);
        // Nothing on the path of `tail` and `head` is quantized: equal, value for value.
        for (const k of ['tail', 'head']) {
          assert.deepEqual(have[k].dims, want[k].dims, `${label}: ${k} dims`);
          assert.deepEqual(have[k].data, want[k].data, `${label}: ${k} equals the float model's`);
        }
        // The quantized path: 8-bit weights (4-bit for weight-only) on a 32-deep product of unit-scale
        // inputs keep the direction of the output within a few percent; 0.98 is far below the ~0.999 such
        // a product gives and far above what a wrong slice (other columns or rows) would give.
        assert.deepEqual(have.y.dims, want.y.dims, `${label}: y dims`);
        const c = cosineSimilarity(want.y.data as Float32Array, have.y.data as Float32Array);
        assert.ok(c > 0.98, `${label}: y cosine ${c}`);
      }
    });
  }
});
