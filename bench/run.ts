// `npm run bench`: open/read/statistics/memory per model, writeModel against a plain copy, and the
// performance targets, written to bench/results.json and printed as tables.
//
// Models: every .onnx under ONNXQ_MODELS (default ../shared/models from the repo root) plus a seeded,
// generated ~400 MiB fp32 transformer encoder cached in ONNXQ_BENCH_CACHE (default bench/.cache).
// Each measurement runs in a fresh child process (worker.ts). MB = 10^6 bytes throughout.
//
// Options (environment): ONNXQ_BENCH_RUNS (timed runs per measurement, default 5), ONNXQ_BENCH_ONLY
// (regular expression: only models whose name matches; the generated one is `generated/...`),
// ONNXQ_BENCH_SKIP_WRITE=1 (skip the write benchmark), ONNXQ_BENCH_STRICT=1 (exit with status 1 when a
// target fails; by default the exit status only reports errors, since timings on a busy machine vary),
// ONNXQ_BENCH_SMOKE=1 (once, on the sample and a tiny generated transformer, results in a temporary
// folder, no targets; a model that fails is an error).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_SPEC, parameterCount, SMOKE_SPEC, type GeneratedModel } from './transformer';
import { cacheDir, fmt, MB, resultsFile, runInChild, SMOKE, table } from './util';

const ROOT = path.join(__dirname, '..');
const RUNS = SMOKE ? 1 : Math.max(1, Number(process.env.ONNXQ_BENCH_RUNS ?? 5) || 5);
const ONLY = process.env.ONNXQ_BENCH_ONLY ? new RegExp(process.env.ONNXQ_BENCH_ONLY) : undefined;
const MODELS_DIR = path.resolve(ROOT, process.env.ONNXQ_MODELS ?? '../shared/models');
const CACHE_DIR = cacheDir();
const RESULTS = resultsFile('results.json');
const ISNET = 'imgly/isnet_quint8_dynamic_small.onnx';

type MemoryResult = {
  openColdMs: number;
  afterOpen: { rss: number; external: number; arrayBuffers: number; heapUsed: number };
  afterStats: { rss: number; external: number; arrayBuffers: number; heapUsed: number };
  afterRelease: { rss: number; external: number; arrayBuffers: number; heapUsed: number };
  peakRssAdded: number;
};
type TimeResult = {
  readMs: number; openMs: number; openColdMs: number; openOverReadPaired: number; openOverReadCpu: number; statsCpuMs: number; statsColdMs: number;
  openIndexMs: number; inspectMs: number; statsMs: number; nodes: number; weights: number;
  numericWeights: number; numericElements: number; fp32Bytes: number; statsFp32MBps?: number; statsFp32EquivMBps?: number;
  statsByDtype: Record<string, unknown>; readSamples: number[]; openSamples: number[]; statsSamples: number[]; readReps: number; openReps: number;
};

interface ModelResult {
  name: string;
  file: string;
  fileBytes: number;
  generated?: boolean;
  readMs?: number;
  openMs?: number;
  openOverRead?: number;
  /** Median of per-run open/read ratios (read and open samples are interleaved). */
  openOverReadPaired?: number;
  /** open/read in CPU time (user + system) rather than wall time. */
  openOverReadCpu?: number;
  /** The first open in a fresh process (page cache warm, code not yet optimised): the better of two such processes. */
  openColdMs?: number;
  /** loadModel plus model.weights() and model.graphs(). */
  openIndexMs?: number;
  inspectMs?: number;
  statsMs?: number;
  /** fp32 bytes over the time its fp32 tensors took (undefined without fp32 weights). */
  statsMBps?: number;
  /** All numeric elements counted as fp32 (4 bytes), over the whole statistics time. */
  statsFp32EquivMBps?: number;
  memAddedBytes?: number;
  memOverFile?: number;
  memExternalAddedBytes?: number;
  memArrayBuffersAddedBytes?: number;
  memHeapAddedBytes?: number;
  /** RSS added with the model still open after statistics over all its weights, after a full GC. */
  memAfterStatsBytes?: number;
  memAfterStatsOverFile?: number;
  /** Highest RSS over the baseline while opening and computing statistics. */
  memPeakRssAddedBytes?: number;
  /** external memory left once the model is dropped and collected (a leak check; should be ~0). */
  memExternalAfterReleaseBytes?: number;
  nodes?: number;
  weights?: number;
  numericElements?: number;
  fp32Bytes?: number;
  /** Generated model only: the check that onnxruntime-node loads it and runs it on a small input. */
  onnxruntime?: Record<string, unknown>;
  detail?: { time: TimeResult; memory: MemoryResult };
  error?: string;
}

function findModels(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.onnx')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

async function measureModel(name: string, file: string, generated: boolean): Promise<ModelResult> {
  const fileBytes = fs.statSync(file).size;
  const r: ModelResult = { name, file: path.relative(ROOT, file), fileBytes, ...(generated ? { generated } : {}) };
  try {
    const memory = await runInChild<MemoryResult>({ kind: 'memory', file });
    const t = await runInChild<TimeResult>({ kind: 'time', file, runs: RUNS });
    // Memory added: the model open (loadModel + weights() + graphs()), after a full GC. The same after
    // statistics over every weight is reported beside it (statistics stream in bounded chunks).
    const held = memory.afterOpen;
    Object.assign(r, {
      readMs: t.readMs, openMs: t.openMs, openOverRead: t.openMs / t.readMs, openOverReadPaired: t.openOverReadPaired,
      openOverReadCpu: t.openOverReadCpu, openColdMs: Math.min(t.openColdMs, memory.openColdMs), openIndexMs: t.openIndexMs, inspectMs: t.inspectMs,
      statsMs: t.statsMs, statsMBps: t.statsFp32MBps, statsFp32EquivMBps: t.statsFp32EquivMBps,
      memAddedBytes: held.rss, memOverFile: held.rss / fileBytes,
      memExternalAddedBytes: held.external, memArrayBuffersAddedBytes: held.arrayBuffers, memHeapAddedBytes: held.heapUsed,
      memAfterStatsBytes: memory.afterStats.rss, memAfterStatsOverFile: memory.afterStats.rss / fileBytes,
      memPeakRssAddedBytes: memory.peakRssAdded, memExternalAfterReleaseBytes: memory.afterRelease.external,
      nodes: t.nodes, weights: t.weights, numericElements: t.numericElements, fp32Bytes: t.fp32Bytes,
      detail: { time: t, memory },
    });
  } catch (e) {
    r.error = (e as Error).message;
  }
  return r;
}

interface Target { name: string; value: number | null; limit: number; op: '<=' | '>='; unit: string; pass: boolean; model?: string; note?: string }

function target(name: string, value: number | undefined, op: '<=' | '>=', limit: number, unit: string, model?: string): Target {
  const ok = value !== undefined && !Number.isNaN(value) && (op === '<=' ? value <= limit : value >= limit);
  return { name, value: value ?? null, limit, op, unit, pass: ok, ...(model ? { model } : {}) };
}

async function main(): Promise<void> {
  const started = performance.now();
  const cpus = os.cpus();
  const machine = {
    cpus: cpus.length, model: cpus[0]?.model ?? 'unknown', node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`, totalMemBytes: os.totalmem(),
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
  log(`onnxq bench: ${machine.cpus} x ${machine.model}, node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}; ${RUNS} timed runs per measurement (medians), MB = 10^6 B`);
  if (machine.loadAverageAtStart[0] > machine.cpus / 2) log(`note: the machine is busy (load ${machine.loadAverageAtStart[0]} on ${machine.cpus} CPUs); wall-clock times will be noisy`);

  // 1. Models on disk.
  const models: { name: string; file: string; generated: boolean; onnxruntime?: Record<string, unknown> }[] = [];
  if (SMOKE) {
    // The shared models are not in a user's clone; the sample always is.
    models.push({ name: 'samples/mnist-8.onnx', file: path.join(ROOT, 'samples', 'mnist-8.onnx'), generated: false });
    log('smoke run: the sample and a tiny generated transformer, once each; the shared models are skipped');
  } else if (fs.existsSync(MODELS_DIR)) {
    for (const f of findModels(MODELS_DIR)) models.push({ name: path.relative(MODELS_DIR, f).split(path.sep).join('/'), file: f, generated: false });
    log(`models folder ${MODELS_DIR}: ${models.length} .onnx files`);
    if (!models.some((m) => m.name === ISNET)) log(`note: ${ISNET} is not in the models folder; its targets will fail`);
  } else {
    log(`models folder ${MODELS_DIR} not found (set ONNXQ_MODELS); skipping the models on disk`);
  }

  // 2. The generated transformer (cached), checked once in onnxruntime-node.
  const spec = SMOKE ? SMOKE_SPEC : DEFAULT_SPEC;
  const genName = `generated/transformer-${spec.layers}x${spec.hidden}-ffn${spec.ffn}-seed${spec.seed}`;
  let generated: (GeneratedModel & { parameters: number }) | undefined;
  let ort: Record<string, unknown> = { ok: false };
  if (!ONLY || ONLY.test(genName)) {
    log(`generating or reusing ${genName} in ${path.relative(ROOT, CACHE_DIR) || CACHE_DIR} ...`);
    const g = await runInChild<GeneratedModel>({ kind: 'generate', dir: CACHE_DIR, spec });
    generated = { ...g, parameters: parameterCount(spec) };
    log(`  ${g.reused ? 'reused' : `generated in ${fmt((g.generateMs ?? 0) / 1000)} s, written in ${fmt((g.writeMs ?? 0) / 1000)} s:`} ${path.relative(ROOT, g.file)} (${fmt(g.bytes / MB)} MB)`);
    try {
      ort = await runInChild<Record<string, unknown>>({ kind: 'ort', file: g.file, sequence: 16, vocab: spec.vocab });
    } catch (e) {
      ort = { ok: false, error: (e as Error).message };
    }
    log(`  onnxruntime-node: ${ort.ok ? `loads and runs, output ${JSON.stringify(ort.outputShape)} finite` : `FAILED ${String(ort.error ?? JSON.stringify(ort))}`}`);
    models.push({ name: genName, file: g.file, generated: true, onnxruntime: ort });
  }

  // 3. Per model: memory (fresh process), then timings (fresh process).
  const results: ModelResult[] = [];
  for (const m of models) {
    if (ONLY && !ONLY.test(m.name)) continue;
    const t = performance.now();
    const r = await measureModel(m.name, m.file, m.generated);
    if (m.onnxruntime) r.onnxruntime = m.onnxruntime;
    results.push(r);
    log(r.error ? `  ${m.name}: ERROR ${r.error.split('\n')[0]}`
      : `  ${m.name}: open ${fmt(r.openMs, 2)} ms / read ${fmt(r.readMs, 2)} ms, stats ${fmt(r.statsMs, 1)} ms, +${fmt((r.memAddedBytes ?? 0) / MB)} MB  [${fmt((performance.now() - t) / 1000)} s]`);
  }

  // 4. writeModel of the generated model against a plain copy.
  let write: Record<string, unknown> | undefined;
  if (generated && process.env.ONNXQ_BENCH_SKIP_WRITE !== '1') {
    log('timing writeModel (plain, external data) and a plain read+write+fsync copy of the generated model ...');
    try {
      write = await runInChild<Record<string, unknown>>({ kind: 'write', file: generated.file, outDir: path.join(CACHE_DIR, 'write-tmp'), runs: RUNS });
      write = { model: genName, ...write };
    } catch (e) {
      write = { model: genName, error: (e as Error).message };
    }
  }

  // 5. Targets.
  const byName = (n: string) => results.find((r) => r.name === n);
  const targets: Target[] = [];
  // A smoke run's models are not the targets' models: nothing to judge.
  for (const [label, name] of SMOKE ? [] : [['IS-Net', ISNET], ['transformer-400MB', genName]] as const) {
    if (ONLY && !ONLY.test(name)) continue;
    const r = byName(name);
    const missing = !r ? { note: 'model not measured (not found, or excluded)' } : r.error ? { note: `error: ${r.error.split('\n')[0]}` } : {};
    targets.push({ ...target(`open structure <= 1.5x read (${label})`, r?.openOverRead, '<=', 1.5, 'x read time', name), ...missing });
    targets.push({ ...target(`memory added <= 1.5x file size (${label})`, r?.memOverFile, '<=', 1.5, 'x file size', name), ...missing });
  }
  if (!SMOKE && (!ONLY || ONLY.test(genName))) {
    targets.push(target('statistics >= 400 MB/s of fp32 data (transformer-400MB)', byName(genName)?.statsMBps, '>=', 400, 'MB/s', genName));
  }

  const totalS = (performance.now() - started) / 1000;
  const out = {
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    date: new Date().toISOString(),
    runs: RUNS,
    units: { time: 'ms (median of runs)', throughput: 'MB/s, MB = 10^6 bytes', memory: 'bytes: RSS added over a fresh process baseline, after a full GC' },
    modelsDir: fs.existsSync(MODELS_DIR) ? MODELS_DIR : null,
    generated: generated ? { name: genName, file: path.relative(ROOT, generated.file), bytes: generated.bytes, parameters: generated.parameters, spec, reused: generated.reused, onnxruntime: ort } : null,
    models: results,
    write: write ?? null,
    targets,
    benchSeconds: totalS,
  };
  fs.writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n');

  // 6. Tables.
  const rows = results.map((r) => r.error ? [r.name, fmt(r.fileBytes / MB, 2), 'ERROR', r.error.split('\n')[0]] : [
    r.name, fmt(r.fileBytes / MB, 2), fmt(r.readMs, 2), fmt(r.openMs, 2), `${fmt(r.openOverRead, 2)}x`, fmt(r.openColdMs, 1), fmt(r.statsMs, 1),
    fmt(r.statsMBps, 0), fmt(r.statsFp32EquivMBps, 0), fmt((r.memAddedBytes ?? 0) / MB, 1), fmt((r.memExternalAddedBytes ?? 0) / MB, 1),
    fmt((r.memArrayBuffersAddedBytes ?? 0) / MB, 1), r.fileBytes >= 1e6 ? `${fmt(r.memOverFile, 2)}x` : '-',
    fmt((r.memAfterStatsBytes ?? 0) / MB, 1), r.fileBytes >= 1e6 ? `${fmt(r.memAfterStatsOverFile, 2)}x` : '-',
  ]);
  console.log();
  console.log(table(['model', 'file MB', 'read ms', 'open ms', 'open/read', 'cold open', 'stats ms', 'fp32 MB/s', 'equiv MB/s', '+RSS MB', '+ext MB', '+AB MB', 'mem/file', '+RSS stats', 'stats/file'], rows));
  console.log('read/open/stats: medians of warm runs; cold open: first loadModel in a fresh process (page cache warm), best of 2 processes.');
  console.log('fp32 MB/s: fp32 bytes / time of the fp32 tensors; equiv MB/s: every numeric element as 4 bytes / whole statistics time.');
  console.log('+RSS/+ext/+AB: RSS, external, arrayBuffers added by the open model over a fresh process baseline, after a full GC;');
  console.log('+RSS stats: RSS added with the model still open after statistics over all weights, after a full GC (x/file from 1 MB up).');
  if (write) {
    console.log();
    if (write.error) console.log(`write: ERROR ${String(write.error).split('\n')[0]}`);
    else {
      const w = write as {
        fileBytes: number; plainMs: number; externalMs: number; copyMs: number; writeOnlyMs: number; plainBytes: number; externalBytes: number;
        externalDataBytes: number; plainIdenticalToSource: boolean; plainWeightsEqual: boolean; externalWeightsEqual: boolean;
      };
      const row = (name: string, ms: number, note: string) =>
        [name, fmt(ms, 0), fmt(w.fileBytes / MB / (ms / 1000), 0), `${fmt(ms / w.copyMs, 2)}x`, `${fmt(ms / w.writeOnlyMs, 2)}x`, note];
      console.log(table(['write (generated model, all with fsync)', 'ms', 'MB/s', 'x copy', 'x write-only', 'output'], [
        row('writeModel plain', w.plainMs, `${fmt(w.plainBytes / MB)} MB; weights equal: ${w.plainWeightsEqual}; bytes identical to source: ${w.plainIdenticalToSource}`),
        row('writeModel externalData', w.externalMs, `${fmt(w.externalBytes / 1e3)} kB + ${fmt(w.externalDataBytes / MB)} MB .data; weights equal: ${w.externalWeightsEqual}`),
        row('fs copy: readFileSync + write', w.copyMs, 'reference'),
        row('fs write-only of bytes in memory', w.writeOnlyMs, 'reference (writeModel also writes from memory)'),
      ]));
    }
  }
  console.log();
  console.log(table(['target', 'value', 'limit', 'result'], targets.map((t) => [t.name, t.value === null ? 'n/a' : fmt(t.value, 2), `${t.op} ${t.limit}`, t.pass ? 'pass' : 'FAIL'])));
  if (generated) console.log(`\ngenerated model in onnxruntime-node: ${ort.ok ? `OK (session ${fmt(Number(ort.sessionCreateMs), 0)} ms, run [1,16] ${fmt(Number(ort.runMs), 1)} ms, output ${JSON.stringify(ort.outputShape)} finite)` : `FAILED ${String(ort.error ?? '')}`}`);
  console.log(`\n${targets.filter((t) => t.pass).length}/${targets.length} targets pass; results in ${path.relative(process.cwd(), RESULTS)}; bench took ${fmt(totalS)} s`);
  if (process.env.ONNXQ_BENCH_STRICT === '1' && targets.some((t) => !t.pass)) process.exitCode = 1;
  // A smoke run exists to catch what broke: any model, onnxruntime check or write that failed fails it.
  if (SMOKE && (results.some((r) => r.error) || (generated && !ort.ok) || write?.error)) {
    console.error('smoke run: FAILED (errors above)');
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
