// The background job process, forked for real from the bundle the extension ships (dist/jobChild.js).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JobClient, JobError } from '../../src/jobs/client';
import { removeStaleTemps } from '../../src/jobs/staleTemps';
import { reportToMarkdown } from '../../src/vscode/reportMarkdown';
import { quantizeHintFor } from '../../src/vscode/errorHints';
import { defaultOutput } from '../../src/vscode/outputPath';
import { quantizeReportToMarkdown } from '../../src/vscode/quantizeReportMarkdown';
import { inspectFileSync } from '../../src/onnx/inspect';
import { makeModel, modelFromProto, node, tensor, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { writeModel } from '../../src/onnx/write';
import { repoRoot, sampleModel } from './helpers/models';

const childPath = path.join(repoRoot, 'dist', 'jobChild.js');
let tmp = '';
let client: JobClient;

before(() => {
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot, stdio: 'ignore' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-jobs-'));
  client = new JobClient({ childPath, idleShutdownMs: 0 });
});
after(() => { client.dispose(); fs.rmSync(tmp, { recursive: true, force: true }); });

const inspect = (file: string, extra: Partial<{ stats: boolean }> = {}, options = {}) =>
  client.inspect({ path: file, largest: 5, stats: false, bins: 32, ...extra }, options);

async function rejectsWith(p: Promise<unknown>, code: string): Promise<JobError> {
  try { await p; } catch (e) {
    assert.ok(e instanceof JobError, `not a JobError: ${e}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected a ${code} error`);
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe('job process', () => {
  it('inspects a model, with progress, and gives the same report as the core', async () => {
    const stages: string[] = [];
    const report = await inspect(sampleModel, { stats: true }, { onProgress: (p: { stage: string }) => stages.push(p.stage) });
    const direct = inspectFileSync(sampleModel, { largest: 5, stats: true, bins: 32 });
    assert.deepEqual(report, direct);
    assert.ok(stages.length > 0 && stages[0] === 'reading', stages.join());
  });

  it('tries the execution providers in the child: the CPU starts, the others say why not', async () => {
    const list = await client.providers();
    const cpu = list.find((p) => p.name === 'cpu');
    assert.deepEqual(cpu, { name: 'cpu', offered: true, available: true, reason: null });
    for (const p of list) assert.ok(p.available === (p.reason === null), `${p.name}: available ${p.available}, reason ${p.reason}`);
  });

  it('compares two models in the child, typed errors included', async () => {
    const r = await client.compare({ path: sampleModel, other: sampleModel, spec: { samples: 2 }, providers: ['cpu'], allowCpuFallback: false, policy: { minCosine: 0.99 }, plotPoints: 10, layers: true });
    assert.equal(r.pass, true);
    assert.equal(r.outputs[0].plot?.a.length, 10);
    // A model against itself: every layer matched by name, identical, nothing dropped.
    assert.ok(r.layers!.layers.length >= 8, `${r.layers!.layers.length} layers`);
    assert.ok(r.layers!.layers.every((l) => l.match === 'name' && l.cosine === 1 && l.sqnrDropDb === 0), JSON.stringify(r.layers!.layers[0]));
    await rejectsWith(client.compare({ path: sampleModel, other: sampleModel, spec: { dims: { batch: 2 } }, providers: ['cpu'], allowCpuFallback: false, policy: {}, plotPoints: 0, layers: false }), 'bad-input-spec');
  });

  it('passes the core\'s errors through with their codes', async () => {
    const bad = path.join(tmp, 'bad.onnx');
    fs.writeFileSync(bad, 'not a model');
    const e = await rejectsWith(inspect(bad), 'not-onnx');
    assert.match(e.message, /bad\.onnx/);
    await rejectsWith(inspect(path.join(tmp, 'missing.onnx')), 'not-found');
  });

  it('cancelling kills the child; the next request gets a fresh one', async () => {
    await inspect(sampleModel);
    const pid = client.childPid!;
    const ac = new AbortController();
    const p = inspect(sampleModel, { stats: true }, { signal: ac.signal });
    ac.abort();
    await rejectsWith(p, 'cancelled');
    await client.stopped();
    assert.equal(alive(pid), false, 'old child is gone');
    await inspect(sampleModel);
    assert.notEqual(client.childPid, pid);
  });

  /** A model whose statistics take a while (32 M weights), whatever models this machine has: written once. */
  const busyModel = () => {
    const file = path.join(tmp, 'busy.onnx');
    if (fs.existsSync(file)) return file;
    const n = 1 << 25;
    writeModel(modelFromProto(makeModel({ graph: {
      name: 'busy', node: [node('Identity', ['W'], ['y'], {}, 'id')], initializer: [tensor('W', DataType.FLOAT, [n], new Float32Array(n).fill(0.5))],
      output: [valueInfo('y', DataType.FLOAT, [n])],
    } })), file);
    return file;
  };

  it('a crash of the child is reported, and the next request recovers', async () => {
    await inspect(sampleModel);
    const pid = client.childPid!;
    // Killed while it works: at its first progress message on a model whose statistics take a while.
    const p = inspect(busyModel(), { stats: true }, { onProgress: () => { if (alive(pid)) process.kill(pid, 'SIGKILL'); } });
    const e = await rejectsWith(p, 'crashed');
    assert.match(e.message, /SIGKILL/);
    const report = await inspect(sampleModel);
    assert.equal(report.nodeCount, 12);
  });

  it('a request past its timeout rejects with timeout', async () => {
    await rejectsWith(inspect(busyModel(), { stats: true }, { timeoutMs: 1 }), 'timeout');
  });

  it('a missing child bundle is a clear spawn error', async () => {
    const broken = new JobClient({ childPath: path.join(tmp, 'nope.js') });
    try { await rejectsWith(broken.inspect({ path: sampleModel, largest: 1, stats: false, bins: 8 }), 'spawn-failed'); } finally { broken.dispose(); }
  });
});

describe('model summary as Markdown', () => {
  it('escapes hostile names', () => {
    const report = inspectFileSync(sampleModel);
    report.inputs[0].name = '<script>alert(1)</script>|`x`';
    const md = reportToMarkdown(report);
    // Shown literally: inside a code span wider than the name's own backticks, with the pipe escaped
    // so that it cannot split the table row.
    assert.ok(md.includes('| `` <script>alert(1)</script>\\|`x` `` | `float` |'), md);
    assert.equal(md.split('\n').filter((l) => l.includes('<script>')).length, 1);
  });
});

describe('quantization in the job process', () => {
  let q: JobClient;
  before(() => { q = new JobClient({ childPath, idleShutdownMs: 0, defaultTimeoutMs: 0 }); });
  after(() => q.dispose());

  it('quantizes (static, random calibration) with progress; the report and the file are the core\'s', async () => {
    const output = path.join(tmp, 'sample.static.onnx');
    const stages: string[] = [];
    const report = await q.quantize(
      { path: sampleModel, output, options: { mode: 'static', calibration: { randomSamples: 3 } } },
      { onProgress: (p) => stages.push(`${p.stage}:${p.message}`) },
    );
    assert.equal(report.mode, 'static');
    assert.deepEqual(report.quantized, ['Convolution28', 'Pooling66', 'Convolution110', 'Pooling160', 'Times212_reshape0', 'Times212']);
    assert.equal(report.calibration!.samples, 3);
    assert.ok(fs.statSync(output).size === report.sizeAfter);
    assert.ok(stages.some((s) => /^calibrating:calibrating: sample 3 of 3$/.test(s)), stages.join('\n'));
    assert.match(stages[stages.length - 1], /^finishing:6 nodes quantized$/);
  });

  it('bad options and an output equal to the source fail with the core\'s codes, and nothing is written', async () => {
    const output = path.join(tmp, 'sample.bad.onnx');
    const e = await rejectsWith(q.quantize({ path: sampleModel, output, options: { mode: 'dynamic', weightType: 'int4' } }), 'invalid-options');
    assert.match(e.message, /int4 weights exist only in weight-only mode/);
    assert.equal(fs.existsSync(output), false);
    await rejectsWith(q.quantize({ path: sampleModel, output: sampleModel, options: {} }), 'invalid-options');
  });

  it('cancelling kills the job mid-way: no output, and the temporary files it left are removed', async () => {
    const output = path.join(tmp, 'sample.cancelled.onnx');
    const jobTmp = fs.mkdtempSync(path.join(tmp, 'jobtmp-'));
    const c = new JobClient({ childPath, idleShutdownMs: 0, defaultTimeoutMs: 0, env: { ...process.env, TMPDIR: jobTmp } });
    try {
      const ac = new AbortController();
      const p = c.quantize(
        { path: sampleModel, output, options: { mode: 'static', calibration: { randomSamples: 100000 } } },
        { signal: ac.signal, onProgress: (x) => { if (x.stage === 'calibrating') ac.abort(); } },
      );
      await rejectsWith(p, 'cancelled');
      await c.stopped();
    } finally { c.dispose(); }
    // The killed job left its calibration folder; beside the output, what a job killed while writing leaves.
    const left = fs.readdirSync(jobTmp).filter((n) => n.startsWith('onnxq-'));
    assert.ok(left.some((n) => /^onnxq-\d+-calibration-/.test(n)), left.join());
    const dead = 2 ** 22 + 12345;
    fs.mkdirSync(path.join(tmp, `.onnxq-${dead}-output-abc`));
    fs.writeFileSync(path.join(tmp, `.sample.cancelled.onnx.data.${dead}.abd.tmp`), 'x');
    fs.writeFileSync(path.join(tmp, `.sample.cancelled.onnx.${process.pid}.abe.tmp`), 'x');
    const removed = removeStaleTemps(output, jobTmp).map((f) => path.basename(f)).sort();
    assert.deepEqual(removed, [`.onnxq-${dead}-output-abc`, `.sample.cancelled.onnx.data.${dead}.abd.tmp`, ...left].sort());
    assert.deepEqual(fs.readdirSync(jobTmp).filter((n) => n.startsWith('onnxq-')), []);
    assert.equal(fs.existsSync(path.join(tmp, `.sample.cancelled.onnx.${process.pid}.abe.tmp`)), true, 'a live process\'s file stays');
    assert.equal(fs.existsSync(output), false);
    fs.rmSync(path.join(tmp, `.sample.cancelled.onnx.${process.pid}.abe.tmp`));
  });
});

describe('quantize report as Markdown, default output names', () => {
  it('tables the figures, escapes names, lists weights worst first and skipped nodes', () => {
    const md = quantizeReportToMarkdown({
      mode: 'static', format: 'qdq', weightType: 'int8', activationType: 'uint8', perChannel: true, symmetricWeights: true, reduceRange: false,
      blockSize: null, accuracyLevel: null, opTypes: ['Conv'], sizeBefore: 4000, sizeAfter: 1000, weightBytesBefore: 3000, weightBytesAfter: 800,
      quantized: ['a|b'], emitted: { QuantizeLinear: 2 }, skipped: [{ name: 'c', opType: 'Conv', graph: 'main', reason: 'kept in float' }],
      weights: [{ name: 'w1', nodes: ['a|b'], shape: [4, 4], scheme: 'int8 symmetric per-channel (axis 0)', sqnr: 40.5, bytesBefore: 64, bytesAfter: 20 },
        { name: 'w0', nodes: ['a|b'], shape: [2], scheme: 'int8', sqnr: 30.25, bytesBefore: 8, bytesAfter: 6 }],
      calibration: { method: 'minmax', percentile: null, samples: 4, random: true, source: 'random', tensors: 2, unreached: [], quantizedActivations: 2, foldedActivations: [], foldedIntoConv: [] },
      seconds: { total: 1.5 }, opsetUpgrade: null, notes: ['a note'],
    }, { input: '/m/model.onnx', output: '/m/model.qdq.onnx' });
    assert.match(md, /^# Quantized: model\.qdq\.onnx/);
    assert.match(md, /\| size \| 3\.91 KiB -> 1000 B \(0\.250x\) \|/);
    assert.match(md, /random: not representative/);
    assert.ok(md.indexOf('| w0 |') < md.indexOf('| w1 |'), 'lowest SQNR first');
    assert.match(md, /\| c \| Conv \| kept in float \|/);
    assert.match(md, /- a note/);
  });

  it('a failed quantization says that nothing was written and what to change', () => {
    assert.match(quantizeHintFor({ code: 'calibration-data', message: '' }), /^Nothing was written\. Calibration samples must match the model's inputs/);
    assert.match(quantizeHintFor({ code: 'invalid-options', message: '' }), /run Quantize Model again with other options/);
    assert.match(quantizeHintFor({ code: 'not-onnx', message: '' }), /not an ONNX model/);
    assert.match(quantizeHintFor({ code: 'something-else', message: '' }), /^Nothing was written; details are in/);
  });

  it('names the output beside the source and never reuses a name', () => {
    const src = path.join(tmp, 'net.onnx');
    assert.equal(defaultOutput(src, 'int8'), path.join(tmp, 'net.int8.onnx'));
    fs.writeFileSync(path.join(tmp, 'net.int8.onnx'), 'x');
    assert.equal(defaultOutput(src, 'int8'), path.join(tmp, 'net.int8-2.onnx'));
  });
});
