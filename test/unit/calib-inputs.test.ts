// Calibration inputs: NumPy files written by NumPy itself (test/unit/fixtures/npy), folders of samples in
// every layout (.npz per sample, .npy/.pb per sample for one-input models, test_data_set_N/input_M.pb
// folders), matching to the model's inputs by name or order, and clear errors for names, dtypes and shapes.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { DataType } from '../../src/onnx/dtype';
import { tensor } from '../../src/onnx/builder';
import { TensorProtoType } from '../../src/onnx/proto';
import type { ValueInfo } from '../../src/protocol/inspect';
import { QuantizeError } from '../../src/quantize/errors';
import { folderFeeds, listSamples, randomCalibrationFeeds, readSample } from '../../src/runtime/inputs';
import { parseNpy, readNpy, readNpz } from '../../src/runtime/npy';
import { modelsDir, noModels } from './helpers/models';

const FIX = path.join(__dirname, 'fixtures', 'npy');
let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-calib-inputs-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('.npy and .npz files (written by NumPy 2.4)', () => {
  it('reads every dtype, byte order and format version', () => {
    const f32 = readNpy(path.join(FIX, 'f32.npy'));
    assert.deepEqual([f32.dtype, f32.shape, Array.from(f32.data as Float32Array)], ['float32', [2, 3], [0, 0.25, 0.5, 0.75, 1, 1.25]]);
    assert.deepEqual(Array.from(readNpy(path.join(FIX, 'f64.npy')).data as Float64Array), [1.5, -2.25]);
    const i64 = readNpy(path.join(FIX, 'i64.npy'));
    assert.deepEqual([i64.dtype, i64.shape, Array.from(i64.data as BigInt64Array)], ['int64', [], [16000n]]);
    assert.deepEqual(Array.from(readNpy(path.join(FIX, 'be_f32.npy')).data as Float32Array), [1, -0.5, 3.25]);
    const f16 = readNpy(path.join(FIX, 'f16.npy'));
    assert.deepEqual([f16.dtype, Array.from(f16.data as Uint16Array)], ['float16', [0x3c00, 0xc000, 0x3800]]);
    assert.deepEqual(Array.from(readNpy(path.join(FIX, 'bool.npy')).data as Uint8Array), [1, 0, 1]);
    assert.deepEqual(Array.from(readNpy(path.join(FIX, 'v2.npy')).data as Uint8Array), [7, 8, 9]);
  });

  it('refuses Fortran order, truncation and non-NumPy bytes with a reason', () => {
    assert.throws(() => readNpy(path.join(FIX, 'fortran.npy')), /Fortran order/);
    const bytes = fs.readFileSync(path.join(FIX, 'f32.npy'));
    assert.throws(() => parseNpy(bytes.subarray(0, bytes.length - 3)), /truncated/);
    assert.throws(() => parseNpy(new TextEncoder().encode('not numpy at all')), /not a \.npy file/);
  });

  it('reads np.savez and np.savez_compressed archives (zip64 local headers, deflate)', () => {
    const s = readNpz(path.join(FIX, 'sample.npz'));
    assert.deepEqual([...s.keys()], ['x', 'sr']);
    assert.deepEqual(Array.from(s.get('x')!.data as Float32Array), [0.5, 0.5, 0.5]);
    assert.deepEqual(s.get('sr')!.shape, []);
    const c = readNpz(path.join(FIX, 'compressed.npz'));
    const a = c.get('arr_0')!;
    assert.deepEqual(a.shape, [10, 100]);
    assert.ok(Math.abs((a.data as Float32Array)[999] - 1) < 1e-7 && Math.abs((a.data as Float32Array)[0] + 1) < 1e-7);
    assert.deepEqual(Array.from(c.get('arr_1')!.data as Int32Array), [0, 1, 2, 3]);
    assert.throws(() => readNpz(path.join(FIX, 'f32.npy')), /not a zip archive/);
  });
});

const X: ValueInfo = { name: 'x', dtype: 'float', shape: [1, 3] };
const SR: ValueInfo = { name: 'sr', dtype: 'int64', shape: [] };

function folder(name: string, files: Record<string, string | Buffer>): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, src] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    if (typeof src === 'string') fs.copyFileSync(path.join(FIX, src), path.join(dir, f));
    else fs.writeFileSync(path.join(dir, f), src);
  }
  return dir;
}

const expectError = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof QuantizeError && e.code === 'calibration-data' && re.test(e.message));

describe('calibration sample folders', () => {
  it('.npz samples match inputs by name, in natural order', async () => {
    const dir = folder('npz', { 'sample_10.npz': 'sample.npz', 'sample_2.npz': 'sample.npz', '.hidden.npz': 'f32.npy', 'README.txt': 'f32.npy' });
    assert.deepEqual(listSamples(dir, [X, SR]).map((s) => s.label), ['sample_2.npz', 'sample_10.npz']);
    const feeds = [];
    for await (const f of folderFeeds(dir, [SR, X])) feeds.push(f);
    assert.equal(feeds.length, 2);
    assert.equal(feeds[0].x.type, 'float32');
    assert.deepEqual(feeds[0].x.dims, [1, 3]);
    assert.equal((feeds[0].sr.data as BigInt64Array)[0], 16000n);
    let n = 0;
    for await (const _ of folderFeeds(dir, [X, SR], 1)) n++;
    assert.equal(n, 1, '--calib-samples limits the samples');
  });

  it('arr_0, arr_1, ... match inputs in order; other names must match', () => {
    const dir = folder('order', { 'a.npz': 'compressed.npz' });
    const feeds = readSample(listSamples(dir, [{ name: 'img', dtype: 'float', shape: [10, 100] }, { name: 'n', dtype: 'int32', shape: [4] }])[0],
      [{ name: 'img', dtype: 'float', shape: [10, 100] }, { name: 'n', dtype: 'int32', shape: [4] }]);
    assert.deepEqual(Object.keys(feeds), ['img', 'n']);
    expectError(() => readSample(listSamples(folder('names', { 'a.npz': 'sample.npz' }), [X, { name: 'rate', dtype: 'int64', shape: [] }])[0], [X, { name: 'rate', dtype: 'int64', shape: [] }]),
      /holds "sr", which is not an input of the model; its inputs are "x" \(float \[1, 3\]\), "rate"/);
  });

  it('one .npy or .pb file per sample for a one-input model; refused for several inputs', () => {
    const dir = folder('npy', { '0.npy': 'f32.npy' });
    expectError(() => listSamples(dir, [X, SR]), /single \.npy file is one sample of a model with one input, but this model has 2/);
    const feeds = readSample(listSamples(dir, [{ name: 'input', dtype: 'float', shape: ['batch', 3] }])[0], [{ name: 'input', dtype: 'float', shape: ['batch', 3] }]);
    assert.deepEqual(feeds.input.dims, [2, 3]);
  });

  it('test_data_set_N/input_M.pb folders (onnxruntime\'s layout), matched by the TensorProto names', () => {
    const pb = (name: string, t: ReturnType<typeof tensor>) => Buffer.from(TensorProtoType.encode({ ...t, name }).finish());
    const x = tensor('x', DataType.FLOAT, [1, 3], Float32Array.of(1, 2, 3));
    const sr = tensor('sr', DataType.INT64, [], BigInt64Array.of(8000n));
    const dir = folder('pb', {
      'test_data_set_0/input_0.pb': pb('sr', sr), 'test_data_set_0/input_1.pb': pb('x', x),
      'test_data_set_1/input_0.pb': pb('', x), 'test_data_set_1/input_1.pb': pb('', sr),
    });
    const samples = listSamples(dir, [X, SR]);
    assert.deepEqual(samples.map((s) => s.kind), ['folder', 'folder']);
    const a = readSample(samples[0], [X, SR]), b = readSample(samples[1], [X, SR]);
    assert.deepEqual(Array.from(a.x.data as Float32Array), [1, 2, 3]);
    assert.deepEqual(Array.from(b.x.data as Float32Array), [1, 2, 3], 'unnamed tensors match in order');
    assert.equal((b.sr.data as BigInt64Array)[0], 8000n);
  });

  it('clear errors: dtype, shape, a missing input, an empty folder, a missing folder', () => {
    const dir = folder('bad', { 'a.npz': 'sample.npz' });
    const s = listSamples(dir, [X, SR])[0];
    expectError(() => readSample(s, [{ ...X, dtype: 'double' }, SR]), /input "x" is double in the model, but the sample holds float32/);
    expectError(() => readSample(s, [{ ...X, shape: [1, 4] }, SR]), /input "x" has shape \[1, 4\] in the model, but the sample's is \[1, 3\]/);
    expectError(() => readSample(s, [X, SR, { name: 'state', dtype: 'float', shape: [2] }]), /not inputs|has no array for input "state"/);
    const f64 = folder('f64', { 'a.npy': 'f64.npy' });
    expectError(() => readSample(listSamples(f64, [X])[0], [{ name: 'x', dtype: 'float', shape: [1, 2] }]), /holds float64 \(convert it: a\.astype\(np\.float32\)\)/);
    expectError(() => listSamples(folder('empty', {}), [X]), /has no calibration samples/);
    expectError(() => listSamples(path.join(tmp, 'nope'), [X]), /cannot read the calibration folder/);
  });

  it('the conformance suite\'s own test_data_set folders are samples', { skip: noModels }, () => {
    const dir = path.join(modelsDir, 'conformance', 'test_matmul_3d');
    const inputs: ValueInfo[] = [{ name: 'a', dtype: 'float', shape: [2, 3, 4] }, { name: 'b', dtype: 'float', shape: [2, 4, 3] }];
    const samples = listSamples(dir, inputs);
    assert.equal(samples.length, 1);
    const f = readSample(samples[0], inputs);
    assert.deepEqual(f.a.dims, [2, 3, 4]);
    assert.ok(f.b instanceof ort.Tensor);
  });
});

describe('random calibration samples', () => {
  it('are seeded: the same seeds give the same samples', () => {
    const a = [...randomCalibrationFeeds([X], 3, { seed: 5 })], b = [...randomCalibrationFeeds([X], 3, { seed: 5 })];
    assert.equal(a.length, 3);
    assert.deepEqual(Array.from(a[2].x.data as Float32Array), Array.from(b[2].x.data as Float32Array));
    assert.notDeepEqual(Array.from(a[0].x.data as Float32Array), Array.from(a[1].x.data as Float32Array));
  });
});
