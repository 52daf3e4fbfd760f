// Bad input gets an OnnxError naming the file and the problem; the CLI exits 1; nothing crashes,
// hangs, or allocates more than the file justifies.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as protobuf from 'protobufjs/light';
import { floatTensor, makeModel, node, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { OnnxError } from '../../src/onnx/errors';
import { loadModel } from '../../src/onnx/load';
import { ModelProtoType, type TensorProto } from '../../src/onnx/proto';
import { repoRoot, sampleModel } from './helpers/models';

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-bad-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array | string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, bytes);
  return p;
}

/** A one-Add model whose initializer is `w`. */
function modelWith(w: TensorProto): Uint8Array {
  return ModelProtoType.encode(makeModel({ graph: {
    name: 'g', node: [node('Add', ['x', 'W'], ['y'])], initializer: [w],
    input: [valueInfo('x', DataType.FLOAT, [4])], output: [valueInfo('y', DataType.FLOAT, [4])],
  } }) as never).finish();
}

function expectError(p: string, code: string, pattern: RegExp): void {
  assert.throws(() => loadModel(p), (e: unknown) => {
    assert.ok(e instanceof OnnxError, `not an OnnxError: ${e}`);
    assert.equal(e.code, code);
    assert.ok(e.message.includes(p), `message names the file: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('bad input', () => {
  it('a missing file', () => expectError(path.join(tmp, 'nope.onnx'), 'not-found', /file not found/));
  it('an empty file', () => expectError(file('empty.onnx', ''), 'empty-file', /empty/));
  it('a text file', () => expectError(file('text.onnx', 'hello, this is not a model\n'), 'not-onnx', /not an ONNX model/));
  it('random bytes', () => {
    const bytes = Buffer.alloc(4096);
    for (let i = 0, s = 1; i < bytes.length; i++) { s = (s * 1103515245 + 12345) >>> 0; bytes[i] = s >>> 24; }
    assert.throws(() => loadModel(file('random.onnx', bytes)), OnnxError);
  });
  it('a truncated model', () => {
    const whole = fs.readFileSync(sampleModel);
    expectError(file('truncated.onnx', whole.subarray(0, whole.length - 1000)), 'truncated', /truncated or corrupt/);
  });
  it('a field claiming an absurd length', () => {
    // field 7 (graph), length-delimited, declared length 1 GiB in a 10-byte file
    const w = protobuf.Writer.create().uint32((7 << 3) | 2).uint32(2 ** 30).finish();
    expectError(file('absurd.onnx', Buffer.concat([w, Buffer.alloc(4)])), 'truncated', /runs past the end/);
  });
  it('a protobuf without a graph', () => {
    const bytes = ModelProtoType.encode({ ir_version: 8, producer_name: 'x' } as never).finish();
    expectError(file('nograph.onnx', bytes), 'not-onnx', /no graph/);
  });
  it('raw_data shorter than its dims', () => {
    const w = floatTensor('W', [4], [1, 2, 3, 4]);
    w.raw_data = w.raw_data!.subarray(0, 12);
    expectError(file('short.onnx', modelWith(w)), 'invalid-tensor', /"W".*12 bytes of raw_data.*need 16/);
  });
  it('negative dims', () => {
    const w = floatTensor('W', [4], [1, 2, 3, 4]);
    w.dims = [-4];
    expectError(file('neg.onnx', modelWith(w)), 'invalid-tensor', /invalid dimension -4/);
  });
  it('dims whose product overflows', () => {
    const w: TensorProto = { name: 'W', data_type: DataType.FLOAT, dims: [2 ** 30, 2 ** 30, 2 ** 30] };
    expectError(file('overflow.onnx', modelWith(w)), 'invalid-tensor', /overflows/);
  });
  it('typed data that does not match its dims', () => {
    const w: TensorProto = { name: 'W', data_type: DataType.FLOAT, dims: [4], float_data: [1, 2, 3] };
    expectError(file('typed.onnx', modelWith(w)), 'invalid-tensor', /3 values in float_data but its dims need 4/);
  });
  it('huge dims and no data', () => {
    const w: TensorProto = { name: 'W', data_type: DataType.FLOAT, dims: [1e12] };
    expectError(file('nodata.onnx', modelWith(w)), 'invalid-tensor', /no data/);
  });

  it('the CLI exits 1 with a message naming the file', () => {
    const p = file('cli-bad.onnx', 'garbage');
    const res = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src', 'cli.ts'), 'inspect', p], { encoding: 'utf8', cwd: repoRoot });
    assert.equal(res.status, 1);
    assert.match(res.stderr, new RegExp(`onnxq: ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is not an ONNX model`));
    assert.equal(res.stdout, '');
  });

  it('the CLI exits 2 on a usage mistake', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src', 'cli.ts'), 'inspect'], { encoding: 'utf8', cwd: repoRoot });
    assert.equal(res.status, 2);
    assert.equal(res.stderr, 'onnxq: inspect takes exactly one model path (see onnxq inspect --help)\n');
  });
});
