// `npm run bench:layout`: how long the graph view's data and layout take in Node, and how big the data is.
// For each model: read + parse (loadModel), buildGraphData (what the webview receives), graphLayoutInput and
// layoutGraph (what the worker does), and the JSON size of the graph and of the weight table.
//
// Cold: each run in a fresh process (what a user opening a model gets: nothing compiled yet), median of 3.
// Warm: median of 3 runs in one process after one untimed run.
// Models: IS-Net (1,084 nodes), PP-OCRv4 det and rec from ONNXQ_MODELS (default ../shared/models), and a
// generated transformer encoder of 300 layers, hidden 96, seeded (about 9,300 nodes; built in memory with
// src/onnx/builder.ts, not written to disk). Writes bench/layout-results.json.
// ONNXQ_BENCH_SMOKE=1: one cold and one warm run of the sample and a tiny encoder, no shared models,
// results in a temporary folder.
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { modelFromProto } from '../src/onnx/builder';
import { buildGraphData, buildWeightSummaries } from '../src/onnx/graphData';
import { loadModel } from '../src/onnx/load';
import type { Model } from '../src/onnx/model';
import type { GraphData } from '../src/protocol/graph';
import { graphLayoutInput, layoutGraph, type LayoutItem } from '../webview/graph/layout';
import { buildTransformer, SMOKE_SPEC, type TransformerSpec } from './transformer';
import { fmt, median, resultsFile, SMOKE, table } from './util';

const ROOT = path.join(__dirname, '..');
const MODELS_DIR = path.resolve(ROOT, process.env.ONNXQ_MODELS ?? '../shared/models');
const RESULTS = resultsFile('layout-results.json');
const RUNS = SMOKE ? 1 : 3;
const ENCODER: TransformerSpec = SMOKE ? SMOKE_SPEC : { layers: 300, hidden: 96, heads: 4, ffn: 384, vocab: 1000, seed: 20240917, version: 1 };
const ENCODER_NAME = `generated/encoder-${ENCODER.layers}x${ENCODER.hidden}`;
const SAMPLE = 'samples/mnist-8.onnx';
// A smoke run reads the sample (in every clone) in place of the shared models.
const MODELS = SMOKE ? [SAMPLE] : ['imgly/isnet_quint8_dynamic_small.onnx', 'ppocr/ch_PP-OCRv4_det_infer.onnx', 'ppocr/ch_PP-OCRv4_rec_infer.onnx'];
const modelFile = (name: string) => (name === SAMPLE ? path.join(ROOT, SAMPLE) : path.join(MODELS_DIR, name));

interface Run {
  loadMs: number;
  graphDataMs: number;
  layoutInputMs: number;
  layoutMs: number;
  /** buildGraphData + graphLayoutInput + layoutGraph (what happens after the model is read). */
  totalMs: number;
  /** CPU time (user + system, all threads: V8 compiles on background threads) of buildGraphData and of layoutGraph. */
  graphDataCpuMs: number;
  layoutCpuMs: number;
}

interface Shape {
  nodes: number; values: number; items: number; edges: number; ranks: number; dummies: number; crossings: number;
  width: number; height: number; graphJsonBytes: number; weightsJsonBytes: number;
}

/** Box sizes as the view might measure them: op type (and a line for the name) at about 7 px a character. */
function sizer(g: GraphData) {
  return (item: LayoutItem) => {
    if (item.kind !== 'node') return { width: Math.max(60, 16 + 7 * g.values[item.value].name.length), height: 24 };
    const n = g.nodes[item.node];
    return { width: Math.max(60, 16 + 7 * n.op.length), height: 30 };
  };
}

function openModel(name: string): { model: Model; loadMs: number } {
  const t = performance.now();
  const model = name === ENCODER_NAME ? modelFromProto(buildTransformer(ENCODER)) : loadModel(modelFile(name));
  return { model, loadMs: name === ENCODER_NAME ? NaN : performance.now() - t };
}

function once(model: Model, loadMs: number): { run: Run; shape: Shape } {
  const cpu = (since: NodeJS.CpuUsage) => { const u = process.cpuUsage(since); return (u.user + u.system) / 1000; };
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const g = buildGraphData(model);
  const t1 = performance.now();
  const graphDataCpuMs = cpu(c0);
  const li = graphLayoutInput(g, sizer(g));
  const t2 = performance.now();
  const c2 = process.cpuUsage();
  const r = layoutGraph(li);
  const t3 = performance.now();
  const layoutCpuMs = cpu(c2);
  return {
    run: { loadMs, graphDataMs: t1 - t0, layoutInputMs: t2 - t1, layoutMs: t3 - t2, totalMs: t3 - t0, graphDataCpuMs, layoutCpuMs },
    shape: {
      nodes: g.nodes.length, values: g.values.length, items: li.items.length, edges: li.edges.length / 2,
      ranks: r.ranks, dummies: r.dummies, crossings: r.crossings, width: Math.round(r.width), height: Math.round(r.height),
      graphJsonBytes: JSON.stringify(g).length,
      weightsJsonBytes: JSON.stringify(buildWeightSummaries(model, { stats: false })).length,
    },
  };
}

function medianRun(runs: Run[]): Run {
  const keys = Object.keys(runs[0]) as (keyof Run)[];
  return Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]))])) as unknown as Run;
}

/** One cold run of `name` in a fresh process. */
function coldRun(name: string): Promise<{ run: Run; shape: Shape }> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--cold', name], { execArgv: ['--import', 'tsx'], cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: { run: Run; shape: Shape } | undefined;
    child.on('message', (m) => { result = m as typeof result; });
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`cold run of ${name} exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const names = [...MODELS.filter((m) => fs.existsSync(modelFile(m))), ENCODER_NAME];
  for (const m of MODELS) if (!names.includes(m)) console.log(`note: ${m} is not in ${MODELS_DIR}; skipped`);
  const results: Record<string, unknown>[] = [];
  for (const name of names) {
    const cold: Run[] = [];
    let shape: Shape | undefined;
    for (let i = 0; i < RUNS; i++) { const c = await coldRun(name); cold.push(c.run); shape = c.shape; }
    const { model, loadMs } = openModel(name);
    once(model, loadMs); // warm-up
    const warm: Run[] = [];
    for (let i = 0; i < RUNS; i++) warm.push(once(model, loadMs).run);
    results.push({ name, ...shape!, cold: medianRun(cold), warm: medianRun(warm), coldRuns: cold, warmRuns: warm });
    console.log(`${name}: done`);
  }
  const rows = results.map((r) => {
    const c = r.cold as Run, w = r.warm as Run, s = r as unknown as Shape;
    return [String(r.name), String(s.nodes), String(s.ranks), String(s.crossings), fmt(c.loadMs), fmt(c.graphDataMs), fmt(c.layoutMs), fmt(c.layoutCpuMs), fmt(c.totalMs),
      fmt(w.graphDataMs), fmt(w.layoutMs), fmt(w.totalMs), fmt(s.graphJsonBytes / 1e6, 2), fmt(s.weightsJsonBytes / 1e6, 2)];
  });
  console.log(`\nGraph data + layout in Node (ms, median of ${RUNS}; cold = a fresh process each run; MB = 10^6 bytes)\n`);
  console.log(table(['model', 'nodes', 'ranks', 'crossings', 'cold load', 'cold data', 'cold layout', 'cold layout cpu', 'cold total',
    'warm data', 'warm layout', 'warm total', 'graph MB', 'weights MB'], rows));
  fs.writeFileSync(RESULTS, JSON.stringify({
    date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, cpus: os.cpus().length, loadAverage: os.loadavg(), runs: RUNS,
    encoder: ENCODER, results,
  }, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(ROOT, RESULTS)}`);
}

if (process.argv[2] === '--cold') {
  const { model, loadMs } = openModel(process.argv[3]);
  process.send!(once(model, loadMs));
} else {
  main().catch((e) => { console.error(e); process.exit(1); });
}
