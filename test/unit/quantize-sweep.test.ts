// Every mode over every model we have (the shared real models, and models built here): each job ends in a
// report or in a typed error whose one-line message says what; nothing ends as an internal error or a
// stack trace, and a refused job leaves no file.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gemmMlpModel } from '../../bench/quantize-models';
import { toErrorData } from '../../src/jobs/errors';
import { floatTensor, makeModel, modelFromProto, node, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { writeModel } from '../../src/onnx/write';
import { quantizeFile, resolveOptions, type QuantizeOptions } from '../../src/quantize/index';
import { calibrationFor } from '../../src/runtime/calibration';
import { checkSession } from '../../src/runtime/check';
import { modelsDir, noModels, sampleModel, sharedModels } from './helpers/models';

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-sweep-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const MODES: [string, QuantizeOptions][] = [
  ['dynamic', { mode: 'dynamic' }],
  ['dynamic+Conv', { mode: 'dynamic', opTypes: ['Conv', 'MatMul', 'Gemm'] }],
  ['weight-only', { mode: 'weight-only' }],
  ['static QDQ', { mode: 'static', calibration: { randomSamples: 2 } }],
  ['static QOperator', { mode: 'static', format: 'qoperator', calibration: { randomSamples: 2 } }],
];

/** Runs every mode on `file`; returns one line per mode (for the log) and fails on an untyped error. */
async function sweep(file: string): Promise<string[]> {
  const lines: string[] = [];
  for (const [label, options] of MODES) {
    const out = path.join(tmp, `${path.basename(path.dirname(file))}-${path.basename(file, '.onnx')}-${label.replace(/\W+/g, '_')}.onnx`);
    try {
      const calibration = options.mode === 'static' ? calibrationFor(resolveOptions(options), {}) : undefined;
      const report = await quantizeFile(file, out, options, { verify: checkSession, calibration });
      assert.ok(report.quantized.length > 0, `${label}: a job that ends well quantized something`);
      assert.ok(fs.existsSync(out), `${label}: the output exists`);
      lines.push(`${label}: ${report.quantized.length} quantized`);
    } catch (e) {
      const data = toErrorData(e);
      assert.notEqual(data.code, 'internal', `${label} on ${file}: ${data.message}\n${data.trace ?? ''}`);
      assert.doesNotMatch(data.message, /\n\s+at /, `${label}: a message, not a stack trace`);
      assert.equal(fs.existsSync(out), false, `${label}: a refused job writes nothing`);
      lines.push(`${label}: [${data.code}] ${data.message.slice(0, 100)}`);
    }
  }
  return lines;
}

describe('an error nobody raised on purpose', () => {
  it('is "internal": one line with its cause and how to report it, the trace apart for the log', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'dims')");
    const data = toErrorData(bug);
    assert.equal(data.code, 'internal');
    assert.match(data.message, /^internal error \(TypeError: Cannot read properties of undefined \(reading 'dims'\)\); this is a bug in ONNX Quantization Studio, not in your model or options: the trace is in the "ONNX Quantization Studio" output, and report it/);
    assert.doesNotMatch(data.message, /\n/);
    assert.match(data.trace ?? '', /^TypeError: .*\n\s+at /);
    // A typed error keeps its code and message, and carries no trace.
    const typed = toErrorData(Object.assign(new Error('the output folder /x does not exist'), { code: 'invalid-options' }));
    assert.deepEqual(typed, { code: 'invalid-options', message: 'the output folder /x does not exist' });
    // Node's code for a call made wrong is a bug too; an allocation that fails is the machine's memory.
    assert.equal(toErrorData(Object.assign(new TypeError('The "path" argument must be of type string'), { code: 'ERR_INVALID_ARG_TYPE' })).code, 'internal');
    assert.equal(toErrorData(Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' })).code, 'ENOENT');
    const oom = toErrorData(new RangeError('Array buffer allocation failed'));
    assert.equal(oom.code, 'out-of-memory');
    assert.match(oom.message, /^out of memory \(Array buffer allocation failed\): .* use a machine with more memory$/);
    assert.equal(oom.trace, undefined);
  });
});

describe('every mode over every model ends in a report or a typed error', () => {
  it('models built here: an MLP, a Conv, the sample, a model onnxruntime cannot load, an empty graph', async () => {
    const built: Record<string, ReturnType<typeof makeModel>> = {
      mlp: gemmMlpModel(2),
      conv: makeModel({ graph: {
        name: 'conv', node: [node('Conv', ['x', 'W'], ['y'], {}, 'conv')],
        initializer: [floatTensor('W', [4, 3, 3, 3], Array.from({ length: 108 }, (_, i) => Math.cos(i)))],
        input: [valueInfo('x', DataType.FLOAT, [1, 3, 8, 8])], output: [valueInfo('y', DataType.FLOAT, [1, 4, 6, 6])],
      } }),
      unloadable: makeModel({ graph: {
        name: 'alien', node: [node('MatMul', ['x', 'W'], ['h'], {}, 'mm'), node('NoSuchOpAnywhere', ['h'], ['y'], {}, 'alien')],
        initializer: [floatTensor('W', [8, 8], Array.from({ length: 64 }, (_, i) => Math.sin(i)))],
        input: [valueInfo('x', DataType.FLOAT, [2, 8])], output: [valueInfo('y', DataType.FLOAT, null)],
      } }),
      identity: makeModel({ graph: { name: 'id', node: [node('Identity', ['x'], ['y'], {}, 'id')], input: [valueInfo('x', DataType.FLOAT, [2])], output: [valueInfo('y', DataType.FLOAT, [2])] } }),
    };
    const files = [sampleModel];
    for (const [name, proto] of Object.entries(built)) {
      const f = path.join(tmp, `${name}.onnx`);
      writeModel(modelFromProto(proto), f);
      files.push(f);
    }
    for (const f of files) await sweep(f);
  });

  const shared = sharedModels();
  it(`the ${shared.length} shared models`, { skip: noModels }, async () => {
    for (const rel of shared) {
      const lines = await sweep(path.join(modelsDir, rel));
      console.log(`${rel}\n${lines.map((l) => `  ${l}`).join('\n')}`);
    }
  });
});
