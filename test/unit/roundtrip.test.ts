// load -> write -> load gives the same graph, and onnxruntime gives identical outputs for the
// original and the rewritten file, for every shared model and conformance case.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { makeModel, modelFromProto, node, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { loadModel } from '../../src/onnx/load';
import type { Model } from '../../src/onnx/model';
import { ModelProtoType } from '../../src/onnx/proto';
import { writeModel } from '../../src/onnx/write';
import { readTensorFile } from '../../src/runtime/inputs';
import { modelsDir, noModels, ortRefuses, sampleModel, sharedModels } from './helpers/models';
import { runModel, sameOutputs } from './helpers/ort';

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-rt-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const DATA_FIELDS = new Set(['raw_data', 'external_data', 'data_location', 'float_data', 'int32_data', 'int64_data', 'double_data', 'uint64_data']);

/** The model as plain JSON with tensor payloads removed (they are compared byte by byte separately). */
function structure(m: Model): unknown {
  const obj = ModelProtoType.toObject(m.proto as never, { longs: String, bytes: String });
  return JSON.parse(JSON.stringify(obj, (k, v) => (DATA_FIELDS.has(k) ? undefined : v)));
}

function assertSameModel(a: Model, b: Model): void {
  assert.deepEqual(structure(b), structure(a));
  const wa = a.weights(), wb = b.weights();
  assert.equal(wb.length, wa.length);
  wa.forEach((w, i) => {
    assert.equal(wb[i].name, w.name);
    assert.ok(Buffer.from(wb[i].readBytes()).equals(Buffer.from(w.readBytes())), `weight ${w.name} differs`);
  });
}

function cases(): { rel: string; file: string }[] {
  const list = [{ rel: 'samples/mnist-8.onnx', file: sampleModel }];
  for (const rel of sharedModels()) list.push({ rel, file: path.join(modelsDir, rel) });
  return list;
}

describe('round trip: load -> write -> load', () => {
  for (const { rel, file } of cases()) {
    it(rel, async () => {
      const original = loadModel(file);
      const dir = fs.mkdtempSync(path.join(tmp, 'm-'));
      const inline = path.join(dir, 'inline.onnx');
      const external = path.join(dir, 'external.onnx');
      writeModel(original, inline);
      const res = writeModel(original, external, { externalData: true });
      const a = loadModel(inline), b = loadModel(external);
      assertSameModel(original, a);
      assertSameModel(original, b);
      assert.equal(a.weights().filter((w) => w.external).length, 0, 'inline write keeps no external tensors');
      if (original.weights().some((w) => w.byteLength >= 1024)) assert.ok(res.externalData && res.externalData.tensors > 0);

      if (ortRefuses.has(rel)) {
        await assert.rejects(ort.InferenceSession.create(file), /layout/);
        return;
      }
      const conformanceData = path.join(path.dirname(file), 'test_data_set_0');
      let feeds: Record<string, ort.Tensor> | undefined;
      if (rel.startsWith('conformance/') && fs.existsSync(conformanceData)) {
        const names = (original.proto.graph!.input ?? []).map((v) => v.name ?? '');
        feeds = {};
        for (let i = 0; fs.existsSync(path.join(conformanceData, `input_${i}.pb`)); i++) {
          const t = readTensorFile(path.join(conformanceData, `input_${i}.pb`));
          feeds[t.name || names[i]] = t.tensor;
        }
      }
      const want = await runModel(file, rel, feeds);
      for (const f of [inline, external]) {
        const diff = sameOutputs(want, await runModel(f, rel, feeds));
        assert.equal(diff, undefined, `${path.basename(f)}: ${diff}`);
      }
      if (feeds) {
        // The conformance expectations themselves: our .pb reader and onnxruntime agree with them.
        const expectedOut = readTensorFile(path.join(conformanceData, 'output_0.pb'));
        const got = Object.values(want)[0].data as ArrayLike<number>;
        const exp = expectedOut.tensor.data as ArrayLike<number>;
        assert.equal(got.length, exp.length);
        for (let i = 0; i < got.length; i++) assert.ok(Math.abs(Number(got[i]) - Number(exp[i])) <= 1e-5, `output[${i}] ${got[i]} vs ${exp[i]}`);
      }
    });
  }
});

describe('writing is safe', () => {
  it('a graph of 150,000 nodes is written and read back (more parts than one call takes arguments)', () => {
    const n = 150_000;
    const nodes = Array.from({ length: n }, (_, i) => node('Relu', [i === 0 ? 'x' : `v${i - 1}`], [i === n - 1 ? 'y' : `v${i}`]));
    const m = modelFromProto(makeModel({ graph: { name: 'chain', node: nodes, input: [valueInfo('x', DataType.FLOAT, [1])], output: [valueInfo('y', DataType.FLOAT, [1])], initializer: [] } }));
    const file = path.join(tmp, 'chain.onnx');
    writeModel(m, file);
    const back = loadModel(file);
    assert.equal(back.proto.graph!.node!.length, n);
    assert.deepEqual(back.proto.graph!.node![n - 1].output, ['y']);
  });

  it('refuses to overwrite the source model', () => {
    const copy = path.join(tmp, 'source.onnx');
    fs.copyFileSync(sampleModel, copy);
    const m = loadModel(copy);
    assert.throws(() => writeModel(m, copy), /refusing to overwrite the source model/);
    assert.ok(fs.readFileSync(copy).equals(fs.readFileSync(sampleModel)));
  });

  it('refuses to overwrite the external data file the source reads from', { skip: noModels }, () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'ext-'));
    for (const f of ['mnist_external.onnx', 'mnist_external.onnx.data']) fs.copyFileSync(path.join(modelsDir, 'external', f), path.join(dir, f));
    const m = loadModel(path.join(dir, 'mnist_external.onnx'));
    assert.throws(() => writeModel(m, path.join(dir, 'out.onnx'), { externalData: { location: 'mnist_external.onnx.data' } }), /reads its weights from/);
  });

  it('leaves no temporary file behind when the write fails', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'fail-'));
    const m = loadModel(sampleModel);
    fs.mkdirSync(path.join(dir, 'taken.onnx')); // a folder where the file should go: rename fails
    assert.throws(() => writeModel(m, path.join(dir, 'taken.onnx')), /could not write the model/);
    assert.deepEqual(fs.readdirSync(dir), ['taken.onnx']);
  });
});
