// The model editor's job kinds (openModel, graph, weightStats, weightDetail), through the real job process
// bundle (dist/jobChild.js), against the core called directly.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JobClient, JobError } from '../../src/jobs/client';
import { ModelCache } from '../../src/jobs/modelCache';
import { buildGraphData, buildWeightSummaries, weightDetail } from '../../src/onnx/graphData';
import { inspectFileSync } from '../../src/onnx/inspect';
import { loadModel } from '../../src/onnx/load';
import { modelsDir, noModels, repoRoot, sampleModel } from './helpers/models';
import { parseJsonText } from '../../src/protocol/common';

const childPath = path.join(repoRoot, 'dist', 'jobChild.js');
let client: JobClient;
let tmp = '';

before(() => {
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot, stdio: 'ignore' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-editor-jobs-'));
  client = new JobClient({ childPath, idleShutdownMs: 0 });
});
after(() => {
  client.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('editor job kinds', () => {
  it('openModel gives the summary and the main graph the core builds, weightList the weight list', async () => {
    const t0 = performance.now();
    const r = await client.openModel({ path: sampleModel, largest: 20 });
    const wall = performance.now() - t0;
    const model = loadModel(sampleModel);
    assert.deepEqual(r.report, inspectFileSync(sampleModel, { largest: 20 }));
    // The graph comes as JSON text, passed through to the webview as it is; the weight list by its own request.
    const graph = parseJsonText(r.graph);
    assert.deepEqual(graph, buildGraphData(model, 'main'));
    assert.equal(graph.nodes.length, 12);
    const list = parseJsonText(await client.weightList({ path: sampleModel }));
    assert.deepEqual(list, buildWeightSummaries(model, { stats: false }));
    assert.equal(r.weightCount, 8);
    assert.equal(list.length, 8);
    // Where the child spent its time: each phase in ms, and together no more than the call took here.
    assert.deepEqual(Object.keys(r.timings).sort(), ['encodeMs', 'graphMs', 'parseMs', 'readMs', 'reportMs']);
    const parts = Object.values(r.timings);
    assert.ok(parts.every((ms) => Number.isFinite(ms) && ms >= 0), JSON.stringify(r.timings));
    assert.ok(parts.reduce((a, b) => a + b, 0) <= wall, `${JSON.stringify(r.timings)} within ${wall} ms`);
  });

  it('weightStats and weightDetail answer from the parsed model, with the core\'s numbers', async () => {
    const model = loadModel(sampleModel);
    const stats = await client.weightStats({ path: sampleModel });
    assert.deepEqual(stats, buildWeightSummaries(model, { stats: true }));
    assert.ok(stats.every((w) => w.stats && Number.isFinite(w.stats.outlierScore)));
    const i = stats.findIndex((w) => w.name === 'Parameter87');
    const detail = await client.weightDetail({ path: sampleModel, weight: i, bins: 32 });
    assert.deepEqual(detail, weightDetail(model, i, 32));
    assert.equal(detail.histogram.counts.length, 32);
    assert.equal(detail.channels?.min.length, 16);
    // Bins outside 4..4096 are clamped, not refused.
    assert.equal((await client.weightDetail({ path: sampleModel, weight: i, bins: 1 })).histogram.counts.length, 4);
  });

  it('a graph that does not exist and a weight that does not exist are typed errors', async () => {
    await assert.rejects(client.graph({ path: sampleModel, graph: 'main/nothing' }), (e: unknown) => e instanceof JobError && e.code === 'not-found');
    await assert.rejects(client.weightDetail({ path: sampleModel, weight: 999, bins: 16 }), (e: unknown) => e instanceof JobError && e.code === 'not-found');
  });

  it('subgraphs come by path, as the core builds them', { skip: noModels }, async () => {
    const file = path.join(modelsDir, 'silero', 'silero_vad_v5.onnx');
    const r = await client.openModel({ path: file, largest: 5 });
    const owner = parseJsonText(r.graph).nodes.find((n) => n.subgraphs.length > 0);
    assert.ok(owner, 'silero v5 has an If');
    const sub = await client.graph({ path: file, graph: owner.subgraphs[0].path });
    assert.deepEqual(sub, buildGraphData(loadModel(file), owner.subgraphs[0].path));
    assert.equal(sub.ancestors[0].path, 'main');
  });
});

describe('the job process model cache', () => {
  it('parses a file once, and again when it changes on disk', async () => {
    const file = path.join(tmp, 'm.onnx');
    fs.copyFileSync(sampleModel, file);
    const cache = new ModelCache(2);
    const [a, b] = await Promise.all([cache.get(file), cache.get(file)]);
    assert.equal(a, b, 'concurrent callers share one parse');
    assert.equal(await cache.get(file), a);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(file, later, later);
    assert.notEqual(await cache.get(file), a, 'a changed file is parsed anew');
    await assert.rejects(cache.get(path.join(tmp, 'missing.onnx')), /not found/);
  });
});
