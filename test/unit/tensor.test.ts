// Tensor decoding for every storage form and element type, subgraphs, functions, sparse initializers
// and external data (including files over 2 GiB and locations that try to leave the model's folder).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { floatTensor, makeModel, modelFromProto, node, tensor, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { inspectModel } from '../../src/onnx/inspect';
import { loadModel, parseModel } from '../../src/onnx/load';
import { float16Bits, floatTable } from '../../src/onnx/minifloat';
import { EXTERNAL, ModelProtoType, type GraphProto, type TensorProto } from '../../src/onnx/proto';
import { TensorRef } from '../../src/onnx/tensor';
import { writeModel } from '../../src/onnx/write';
import { modelsDir, noModels } from './helpers/models';

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-tensor-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const values = (t: TensorProto) => Array.from(new TensorRef(t, 'initializer', 'main').values());
const bytes = (...b: number[]) => Uint8Array.from(b);

describe('tensor decoding', () => {
  it('float16, bfloat16 and the float8/float4 formats', () => {
    assert.deepEqual(values(tensor('h', DataType.FLOAT16, [5], Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00]))), [1, -2, 65504, 2 ** -24, Infinity]);
    assert.deepEqual(values(tensor('b', DataType.BFLOAT16, [2], Uint16Array.from([0x3f80, 0xc040]))), [1, -3]);
    const e4 = values(tensor('e4', DataType.FLOAT8E4M3FN, [3], bytes(0x7e, 0x01, 0x7f)));
    assert.deepEqual(e4.slice(0, 2), [448, 2 ** -9]); assert.ok(Number.isNaN(e4[2]));
    assert.deepEqual(values(tensor('e5', DataType.FLOAT8E5M2, [2], bytes(0x7b, 0x7c))), [57344, Infinity]);
    const uz = values(tensor('uz', DataType.FLOAT8E4M3FNUZ, [2], bytes(0x7f, 0x80)));
    assert.equal(uz[0], 240); assert.ok(Number.isNaN(uz[1]));
    assert.deepEqual(values(tensor('e5uz', DataType.FLOAT8E5M2FNUZ, [1], bytes(0x7f))), [57344]);
    assert.deepEqual(values(tensor('e8', DataType.FLOAT8E8M0, [2], bytes(127, 130))), [1, 8]);
    assert.deepEqual(values(tensor('f4', DataType.FLOAT4E2M1, [2], bytes(0x1f))), [-6, 0.5]);
  });

  it('int4, uint4, int2, uint2 packing (low bits first)', () => {
    assert.deepEqual(values(tensor('i4', DataType.INT4, [3], bytes(0xf7, 0x08))), [7, -1, -8]);
    assert.deepEqual(values(tensor('u4', DataType.UINT4, [3], bytes(0xf7, 0x08))), [7, 15, 8]);
    assert.deepEqual(values(tensor('i2', DataType.INT2, [4], bytes(0b11100100))), [0, 1, -2, -1]);
    assert.deepEqual(values(tensor('u2', DataType.UINT2, [4], bytes(0b11100100))), [0, 1, 2, 3]);
  });

  it('integers, including int64 beyond 2^32 and negative', () => {
    assert.deepEqual(values(tensor('i8', DataType.INT8, [3], Int8Array.from([-128, 0, 127]))), [-128, 0, 127]);
    assert.deepEqual(values(tensor('i64', DataType.INT64, [3], BigInt64Array.from([-1n, 2n ** 40n, -(2n ** 33n)]))), [-1, 2 ** 40, -(2 ** 33)]);
    assert.deepEqual(values(tensor('u64', DataType.UINT64, [1], BigUint64Array.from([2n ** 50n]))), [2 ** 50]);
  });

  it('typed fields: float_data, int32_data (float16 bits, packed int4), int64_data, double_data', () => {
    assert.deepEqual(values({ name: 'f', data_type: DataType.FLOAT, dims: [2], float_data: [1.5, -2] }), [1.5, -2]);
    assert.deepEqual(values({ name: 'h', data_type: DataType.FLOAT16, dims: [2], int32_data: [0x3c00, 0xc000] }), [1, -2]);
    assert.deepEqual(values({ name: 'i4', data_type: DataType.INT4, dims: [3], int32_data: [0xf7, 0x08] }), [7, -1, -8]);
    assert.deepEqual(values({ name: 'l', data_type: DataType.INT64, dims: [2], int64_data: [-5, 2 ** 40] }), [-5, 2 ** 40]);
    assert.deepEqual(values({ name: 'd', data_type: DataType.DOUBLE, dims: [1], double_data: [Math.PI] }), [Math.PI]);
  });

  it('unaligned raw_data views decode correctly, in chunks', () => {
    const buf = new Uint8Array(4 * 1000 + 1);
    const f = new Float32Array(1000).map((_, i) => i - 500);
    buf.set(new Uint8Array(f.buffer), 1);
    const t: TensorProto = { name: 'u', data_type: DataType.FLOAT, dims: [1000], raw_data: buf.subarray(1) };
    const ref = new TensorRef(t, 'initializer', 'main');
    assert.deepEqual(Array.from(ref.values()), Array.from(f));
    let seen = 0;
    for (const c of ref.chunks(64)) { assert.ok(c.length <= 64); assert.equal(c[0], seen - 500); seen += c.length; }
    assert.equal(seen, 1000);
  });
});

/** main: x -> If(cond) { then: Add(x, outer W) ; else: Loop body using a Constant } -> y */
function nestedModel(): GraphProto {
  const thenBranch: GraphProto = {
    name: 'then', node: [node('Add', ['x', 'W'], ['t_out'], {}, 'then_add')],
    output: [valueInfo('t_out', DataType.FLOAT, [4])],
  };
  const inner: GraphProto = {
    name: 'inner', node: [node('Constant', [], ['k'], { value: floatTensor('k', [4], [1, 1, 1, 1]) }, 'inner_const'), node('Mul', ['x', 'k'], ['i_out'], {}, 'inner_mul')],
    output: [valueInfo('i_out', DataType.FLOAT, [4])],
  };
  const elseBranch: GraphProto = {
    name: 'else', node: [node('If', ['cond'], ['e_out'], { then_branch: inner, else_branch: inner }, 'nested_if')],
    output: [valueInfo('e_out', DataType.FLOAT, [4])],
  };
  return {
    name: 'main', node: [node('If', ['cond'], ['y'], { then_branch: thenBranch, else_branch: elseBranch }, 'top_if')],
    initializer: [floatTensor('W', [4], [1, 2, 3, 4])],
    input: [valueInfo('x', DataType.FLOAT, [4]), valueInfo('cond', DataType.BOOL, [])],
    output: [valueInfo('y', DataType.FLOAT, [4])],
  };
}

describe('graphs', () => {
  it('walks subgraphs at any depth and finds outer-scope references', () => {
    const m = modelFromProto(makeModel({ graph: nestedModel() }));
    const paths = m.graphs().map((g) => g.path);
    assert.deepEqual(paths, ['main', 'main/top_if.then_branch', 'main/top_if.else_branch',
      'main/top_if.else_branch/nested_if.then_branch', 'main/top_if.else_branch/nested_if.else_branch']);
    const then = m.graphs()[1];
    assert.deepEqual(m.outerScopeReferences(then).sort(), ['W', 'x']);
    assert.deepEqual(m.outerScopeReferences(m.graphs()[2]).sort(), ['cond', 'x']);
    const r = inspectModel(m);
    assert.equal(r.nodeCount, 1 + 1 + 1 + 2 + 2);
    assert.equal(r.subgraphCount, 4);
    assert.deepEqual(r.opHistogram, { If: 2, Add: 1, Constant: 2, Mul: 2 });
    // Constant tensors inside subgraphs are weights too, one per Constant node.
    assert.equal(m.weights().filter((w) => w.origin === 'constant').length, 2);
  });

  it('does not count model-local function bodies as nodes', () => {
    const proto = makeModel({ graph: { name: 'g', node: [node('Twice', ['x'], ['y'], {}, 'call', 'local')],
      input: [valueInfo('x', DataType.FLOAT, [2])], output: [valueInfo('y', DataType.FLOAT, [2])] }, extraOpsets: { local: 1 } });
    proto.functions = [{ name: 'Twice', domain: 'local', input: ['a'], output: ['b'], node: [node('Add', ['a', 'a'], ['b'])], opset_import: [{ domain: '', version: 17 }] }];
    const r = inspectModel(parseModel(ModelProtoType.encode(proto as never).finish()));
    assert.equal(r.nodeCount, 1);
    assert.deepEqual(r.functions, [{ domain: 'local', name: 'Twice', nodeCount: 1 }]);
  });

  it('counts sparse initializers as weights', () => {
    const proto = makeModel({ graph: { name: 'g', node: [node('Identity', ['S'], ['y'])], output: [valueInfo('y', DataType.FLOAT, [10])],
      sparse_initializer: [{ values: floatTensor('S', [2], [5, 6]), indices: tensor('S_idx', DataType.INT64, [2], BigInt64Array.from([1n, 7n])), dims: [10] }] } });
    const m = parseModel(ModelProtoType.encode(proto as never).finish());
    const w = m.weights();
    assert.equal(w.length, 1);
    assert.equal(w[0].origin, 'sparse-initializer');
    assert.deepEqual(Array.from(w[0].values()), [5, 6]);
  });

  it('round-trips the nested model through write and onnxruntime-compatible bytes', () => {
    const file = path.join(tmp, 'nested.onnx');
    writeModel(modelFromProto(makeModel({ graph: nestedModel() })), file);
    assert.deepEqual(loadModel(file).graphs().map((g) => g.depth), [0, 1, 1, 2, 2]);
  });
});

describe('external data', () => {
  function externalModel(dir: string, location: string, offset = 0, dims = [4]): string {
    const w: TensorProto = { name: 'W', data_type: DataType.FLOAT, dims, data_location: EXTERNAL,
      external_data: [{ key: 'location', value: location }, { key: 'offset', value: String(offset) }] };
    const proto = makeModel({ graph: { name: 'g', node: [node('Add', ['x', 'W'], ['y'])], initializer: [w],
      input: [valueInfo('x', DataType.FLOAT, dims)], output: [valueInfo('y', DataType.FLOAT, dims)] } });
    const file = path.join(dir, 'model.onnx');
    fs.writeFileSync(file, ModelProtoType.encode(proto as never).finish());
    return file;
  }

  it('reads tensors by offset, lazily', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'ext-'));
    const data = Buffer.alloc(64);
    Buffer.from(Float32Array.from([1, 2, 3, 4]).buffer).copy(data, 16);
    fs.writeFileSync(path.join(dir, 'w.bin'), data);
    const m = loadModel(externalModel(dir, 'w.bin', 16));
    assert.deepEqual(Array.from(m.weights()[0].values()), [1, 2, 3, 4]);
  });

  it('reads a tensor beyond 2 GiB of a data file over 2 GiB', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'big-'));
    const dataPath = path.join(dir, 'big.bin');
    const offset = 2 ** 31 + 4096 * 3; // past what fs.readFileSync can hold
    const fd = fs.openSync(dataPath, 'w');
    fs.writeSync(fd, Buffer.from(Float32Array.from([9, 8, 7, 6]).buffer), 0, 16, offset); // a sparse file: no real disk used
    fs.closeSync(fd);
    assert.ok(fs.statSync(dataPath).size > 2 ** 31);
    const m = loadModel(externalModel(dir, 'big.bin', offset));
    assert.deepEqual(Array.from(m.weights()[0].values()), [9, 8, 7, 6]);
  });

  it('refuses locations that escape the model folder', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'esc-'));
    fs.writeFileSync(path.join(tmp, 'secret.bin'), Buffer.alloc(16));
    for (const loc of ['../secret.bin', path.join(tmp, 'secret.bin'), 'sub/../../secret.bin']) {
      assert.throws(() => loadModel(externalModel(dir, loc)), (e: Error & { code?: string }) => e.code === 'unsafe-path' && /outside the model's folder|relative/.test(e.message), loc);
    }
  });

  it('refuses a symlink that leads outside the model folder', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'link-'));
    fs.writeFileSync(path.join(tmp, 'outside.bin'), Buffer.alloc(16));
    fs.symlinkSync(path.join(tmp, 'outside.bin'), path.join(dir, 'w.bin'));
    assert.throws(() => loadModel(externalModel(dir, 'w.bin')), /link that leads outside/);
  });

  it('reports a missing or short data file clearly', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'miss-'));
    assert.throws(() => loadModel(externalModel(dir, 'gone.bin')), /"gone.bin" was not found/);
    fs.writeFileSync(path.join(dir, 'short.bin'), Buffer.alloc(8));
    assert.throws(() => loadModel(externalModel(dir, 'short.bin')), /truncated/);
  });

  it('loads the shared external-data models', { skip: noModels }, () => {
    const m = loadModel(path.join(modelsDir, 'external', 'mnist_external.onnx'));
    const inline = loadModel(path.join(modelsDir, 'cntk', 'mnist-8_cntk.onnx'));
    const byName = new Map(inline.weights().map((w) => [w.name, w]));
    for (const w of m.weights()) assert.deepEqual(Array.from(w.values()), Array.from(byName.get(w.name)!.values()), w.name);
  });

  it('moves tensors to external data when the protobuf would pass 2 GiB', () => {
    // A 2.1 GiB external tensor in a sparse file: writing it inline would break the protobuf limit.
    const dir = fs.mkdtempSync(path.join(tmp, 'auto-'));
    const n = 2 ** 29 + 2 ** 25; // float32 elements: 2.125 GiB
    const fd = fs.openSync(path.join(dir, 'huge.bin'), 'w');
    fs.writeSync(fd, Buffer.from(Float32Array.from([3]).buffer), 0, 4, n * 4 - 4);
    fs.closeSync(fd);
    const m = loadModel(externalModel(dir, 'huge.bin', 0, [n]));
    const res = writeModel(m, path.join(dir, 'out.onnx'));
    assert.ok(res.externalData, 'the writer switched to external data');
    assert.ok(res.bytes < 4096);
    const back = loadModel(path.join(dir, 'out.onnx'));
    const w = back.weights()[0];
    assert.equal(w.external?.location, 'out.onnx.data');
    assert.deepEqual(Array.from(new Float32Array(Uint8Array.from(w.readBytes(n * 4 - 8, 8)).buffer)), [0, 3]);
  });
});

describe('float16 encoding', () => {
  it('round-trips every finite float16 and rounds half to even', () => {
    const table = floatTable(DataType.FLOAT16)!;
    for (let h = 0; h < 65536; h++) {
      const v = table[h];
      if (Number.isNaN(v)) continue;
      assert.equal(float16Bits(v), h, `0x${h.toString(16)} (${v})`);
    }
    assert.equal(float16Bits(1 + 2 ** -11), 0x3c00); // halfway between 1 and the next half: stays even
    assert.equal(float16Bits(1 + 3 * 2 ** -11), 0x3c02); // halfway, odd below: rounds up
    assert.equal(float16Bits(70000), 0x7c00);
    assert.equal(float16Bits(2 ** -26), 0); // below half the smallest subnormal
  });
});

describe('graph paths', () => {
  it('stay unique when nodes repeat a name', () => {
    const body = (n: string): GraphProto => ({ name: n, node: [node('Identity', ['x'], [`${n}_y`])], output: [valueInfo(`${n}_y`, DataType.FLOAT, [1])] });
    const m = modelFromProto(makeModel({ graph: {
      name: 'main', node: [
        node('If', ['c'], ['a'], { then_branch: body('t1'), else_branch: body('e1') }, 'same'),
        node('If', ['c'], ['b'], { then_branch: body('t2'), else_branch: body('e2') }, 'same'),
      ],
      input: [valueInfo('c', DataType.BOOL, []), valueInfo('x', DataType.FLOAT, [1])], output: [valueInfo('a', DataType.FLOAT, [1])],
    } }));
    const paths = m.graphs().map((g) => g.path);
    assert.deepEqual(paths, ['main', 'main/same.then_branch', 'main/same.else_branch', 'main/same.then_branch~2', 'main/same.else_branch~2']);
    assert.equal(m.graphs()[3].graph.name, 't2');
  });
});
