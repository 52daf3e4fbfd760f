// The background job process, forked for real from the bundle the extension ships (dist/jobChild.js).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JobClient, JobError } from '../../src/jobs/client';
import { reportToMarkdown } from '../../src/vscode/reportMarkdown';
import { inspectFileSync } from '../../src/onnx/inspect';
import { modelsDir, noModels, repoRoot, sampleModel } from './helpers/models';

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
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(pid), false, 'old child is gone');
    await inspect(sampleModel);
    assert.notEqual(client.childPid, pid);
  });

  it('a crash of the child is reported, and the next request recovers', async () => {
    await inspect(sampleModel);
    const pid = client.childPid!;
    const big = noModels ? sampleModel : path.join(modelsDir, 'imgly/isnet_quint8_dynamic_small.onnx');
    const p = inspect(big, { stats: true });
    process.kill(pid, 'SIGKILL');
    const e = await rejectsWith(p, 'crashed');
    assert.match(e.message, /SIGKILL/);
    const report = await inspect(sampleModel);
    assert.equal(report.nodeCount, 12);
  });

  it('a request past its timeout rejects with timeout', async () => {
    const big = noModels ? sampleModel : path.join(modelsDir, 'imgly/isnet_quint8_dynamic_small.onnx');
    await rejectsWith(inspect(big, { stats: true }, { timeoutMs: 1 }), 'timeout');
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
