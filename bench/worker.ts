// One benchmark measurement, run in a fresh process by run.ts (argv[2]: the task as JSON; the result goes
// back over IPC). Fresh processes keep each memory baseline clean and each timing free of the garbage
// left by the one before.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel } from '../src/onnx/load';
import type { Model } from '../src/onnx/model';
import { inspectModel } from '../src/onnx/inspect';
import { tensorStats } from '../src/onnx/stats';
import type { TensorRef } from '../src/onnx/tensor';
import { writeModel } from '../src/onnx/write';
import { ensureTransformer, type TransformerSpec } from './transformer';
import { gc, median, MB, time, timeAll } from './util';

export type Task =
  | { kind: 'generate'; dir: string; spec: TransformerSpec }
  | { kind: 'memory'; file: string }
  | { kind: 'time'; file: string; runs: number }
  | { kind: 'write'; file: string; outDir: string; runs: number }
  | { kind: 'ort'; file: string; sequence: number; vocab: number };

function numericWeights(model: Model): TensorRef[] {
  return model.weights().filter((w) => w.numeric && w.elements > 0);
}

/** Memory the opened model adds over a clean baseline (all code loaded, nothing read). */
function memory(file: string) {
  const fileBytes = fs.statSync(file).size;
  // The model lives only in `held`; the work runs in closures, so that no interpreter register or loop
  // variable keeps a tensor (and with it the file's buffer) alive once `held` is cleared.
  const held: { model?: Model; weights?: TensorRef[] } = {};
  gc();
  const base = process.memoryUsage();
  const baseMaxRss = process.resourceUsage().maxRSS * 1024;
  const openColdMs = (() => {
    const t0 = performance.now();
    held.model = loadModel(file); // a first open in a fresh process (the page cache is warm from earlier runs)
    const ms = performance.now() - t0;
    held.weights = numericWeights(held.model);
    held.model.graphs();
    return ms;
  })();
  gc();
  const open = process.memoryUsage();
  (() => { for (const w of held.weights!) tensorStats(w); })();
  gc();
  const stats = process.memoryUsage();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const tensors = held.weights!.length;
  held.model = undefined;
  held.weights = undefined;
  gc();
  const released = process.memoryUsage();
  const delta = (m: NodeJS.MemoryUsage) => ({
    rss: m.rss - base.rss, heapUsed: m.heapUsed - base.heapUsed, external: m.external - base.external, arrayBuffers: m.arrayBuffers - base.arrayBuffers,
  });
  return {
    fileBytes, tensors, openColdMs,
    baseline: { rss: base.rss, heapUsed: base.heapUsed, external: base.external, arrayBuffers: base.arrayBuffers },
    /** The model open (loadModel + weights() + graphs()), after a full GC. */
    afterOpen: delta(open),
    /** The same model after statistics over all its numeric weights, after a full GC. */
    afterStats: delta(stats),
    /** The model dropped, after a full GC: external/arrayBuffers should be back near 0 (RSS may stay, allocator retention). */
    afterRelease: delta(released),
    /** Highest RSS reached while opening and computing statistics, over the baseline RSS (0 when startup peaked higher). */
    peakRssAdded: Math.max(0, maxRss - base.rss),
    peakRssRaised: maxRss > baseMaxRss,
  };
}

function statsOnce(weights: TensorRef[], perDtype?: Map<string, number>): void {
  for (const w of weights) {
    const t = perDtype ? performance.now() : 0;
    tensorStats(w, { bins: 64 });
    if (perDtype) perDtype.set(w.dtypeName, (perDtype.get(w.dtypeName) ?? 0) + performance.now() - t);
  }
}

function timings(file: string, runs: number) {
  const fileBytes = fs.statSync(file).size;
  fs.readFileSync(file); // page cache warm
  // The first open in a fresh process (code not yet optimised), as a user opening one model sees it.
  let t0 = performance.now();
  loadModel(file);
  const openColdMs = performance.now() - t0;
  // Read and open interleaved, so that load from other processes hits both alike.
  const io = timeAll({
    read: () => fs.readFileSync(file),
    open: () => loadModel(file),
    openIndex: () => { const m = loadModel(file); m.weights(); m.graphs(); },
  }, runs);
  const ratios = io.read.samples.map((r, i) => io.open.samples[i] / r);
  const model = loadModel(file);
  const inspect = time(() => inspectModel(model), runs);
  const weights = numericWeights(model);
  const byDtype: Record<string, { tensors: number; elements: number; bytes: number; ms?: number; mElementsPerS?: number }> = {};
  for (const w of weights) {
    const e = (byDtype[w.dtypeName] ??= { tensors: 0, elements: 0, bytes: 0 });
    e.tensors++; e.elements += w.elements; e.bytes += w.byteLength;
  }
  const elements = weights.reduce((a, w) => a + w.elements, 0);
  const fp32Bytes = byDtype.float?.bytes ?? 0;
  // Statistics: the first run over the whole set in a fresh process, then warm-up and timed runs, with per-dtype splits.
  t0 = performance.now();
  statsOnce(weights);
  const statsColdMs = performance.now() - t0;
  statsOnce(weights);
  const samples: number[] = [];
  const cpuSamples: number[] = [];
  const splits: Map<string, number>[] = [];
  for (let r = 0; r < runs; r++) {
    gc();
    const split = new Map<string, number>();
    const c = process.cpuUsage();
    const t = performance.now();
    statsOnce(weights, split);
    samples.push(performance.now() - t);
    const used = process.cpuUsage(c);
    cpuSamples.push((used.user + used.system) / 1000);
    splits.push(split);
  }
  for (const [name, e] of Object.entries(byDtype)) {
    e.ms = median(splits.map((s) => s.get(name) ?? 0));
    e.mElementsPerS = e.ms > 0 ? e.elements / 1e6 / (e.ms / 1000) : undefined;
  }
  const statsMs = median(samples);
  return {
    fileBytes,
    readMs: io.read.ms, readCpuMs: io.read.cpuMs, readSamples: io.read.samples, readReps: io.read.reps,
    openMs: io.open.ms, openCpuMs: io.open.cpuMs, openSamples: io.open.samples, openReps: io.open.reps,
    openColdMs,
    /** Median of the per-run open/read ratios (paired samples). */
    openOverReadPaired: median(ratios),
    openOverReadCpu: io.open.cpuMs / io.read.cpuMs,
    openIndexMs: io.openIndex.ms,
    inspectMs: inspect.ms,
    nodes: [...model.nodes()].length,
    weights: model.weights().length,
    numericWeights: weights.length,
    numericElements: elements,
    fp32Bytes,
    statsMs, statsCpuMs: median(cpuSamples), statsColdMs, statsSamples: samples,
    statsByDtype: byDtype,
    /** fp32 data only: its bytes over the time its tensors took. */
    statsFp32MBps: byDtype.float?.ms ? fp32Bytes / MB / (byDtype.float.ms / 1000) : undefined,
    /** Every numeric element counted as 4 bytes of fp32, over the time of the whole set. */
    statsFp32EquivMBps: statsMs > 0 ? (elements * 4) / MB / (statsMs / 1000) : undefined,
  };
}

function rmModel(file: string): void {
  fs.rmSync(file, { force: true });
  fs.rmSync(`${file}.data`, { force: true });
}

function writeFileFsync(file: string, bytes: Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, bytes.length - done, done);
    fs.fsyncSync(fd);
  } finally { fs.closeSync(fd); }
}

/**
 * writeModel of a loaded model (plain, external data) against the same bytes copied with plain fs calls:
 * read + write + fsync of the file, and write + fsync alone of the file's bytes already in memory
 * (writeModel also works from memory and also fsyncs). Samples are interleaved; run -1 is a warm-up.
 */
function writes(file: string, outDir: string, runs: number) {
  fs.mkdirSync(outDir, { recursive: true });
  const model = loadModel(file);
  const source = fs.readFileSync(file);
  const outs = {
    plain: path.join(outDir, 'plain.onnx'), external: path.join(outDir, 'external.onnx'),
    copy: path.join(outDir, 'copy.onnx'), writeOnly: path.join(outDir, 'write-only.onnx'),
  };
  const variants: Record<keyof typeof outs, () => unknown> = {
    plain: () => writeModel(model, outs.plain),
    external: () => writeModel(model, outs.external, { externalData: true }),
    copy: () => writeFileFsync(outs.copy, fs.readFileSync(file)),
    writeOnly: () => writeFileFsync(outs.writeOnly, source),
  };
  const names = Object.keys(variants) as (keyof typeof outs)[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<keyof typeof outs, number[]>;
  for (let r = -1; r < runs; r++) {
    for (const name of names) {
      rmModel(outs[name]);
      gc();
      const t = performance.now();
      variants[name]();
      if (r >= 0) samples[name].push(performance.now() - t);
    }
  }
  const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
  const check = (f: string) => {
    const w = loadModel(f).weights();
    const ref = model.weights();
    let same = w.length === ref.length;
    for (let i = 0; same && i < w.length; i++) same = Buffer.compare(w[i].readBytes(), ref[i].readBytes()) === 0;
    return same;
  };
  const result = {
    fileBytes: source.length,
    runs,
    plainMs: median(samples.plain), plainSamples: samples.plain,
    externalMs: median(samples.external), externalSamples: samples.external,
    copyMs: median(samples.copy), copySamples: samples.copy,
    writeOnlyMs: median(samples.writeOnly), writeOnlySamples: samples.writeOnly,
    plainBytes: size(outs.plain),
    plainIdenticalToSource: Buffer.compare(fs.readFileSync(outs.plain), source) === 0,
    plainWeightsEqual: check(outs.plain),
    externalBytes: size(outs.external),
    externalDataBytes: size(`${outs.external}.data`),
    externalWeightsEqual: check(outs.external),
  };
  for (const f of Object.values(outs)) rmModel(f);
  fs.rmSync(outDir, { recursive: true, force: true });
  return result;
}

/** The generated model loads in onnxruntime-node and runs on a small input with finite outputs. */
async function ort(file: string, sequence: number, vocab: number) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(file);
  const t1 = performance.now();
  const ids = BigInt64Array.from({ length: sequence }, (_, i) => BigInt((i * 37 + 11) % vocab));
  const feeds = { [session.inputNames[0]]: new ort.Tensor('int64', ids, [1, sequence]) };
  await session.run(feeds); // warm-up
  const t2 = performance.now();
  const out = await session.run(feeds);
  const t3 = performance.now();
  const y = out[session.outputNames[0]];
  const data = y.data as Float32Array;
  let finite = true, sum = 0;
  for (const v of data) { if (!Number.isFinite(v)) finite = false; sum += v; }
  await session.release();
  return {
    ok: finite && data.length > 0,
    runtime: `onnxruntime-node ${ort.env.versions?.node ?? ''}`.trim(),
    inputs: session.inputNames, outputs: session.outputNames,
    inputShape: [1, sequence], outputShape: y.dims, outputFinite: finite, outputMean: sum / data.length,
    sessionCreateMs: t1 - t0, runMs: t3 - t2,
  };
}

async function main(): Promise<unknown> {
  const task = JSON.parse(process.argv[2]) as Task;
  switch (task.kind) {
    case 'generate': return ensureTransformer(task.dir, task.spec);
    case 'memory': return memory(task.file);
    case 'time': return timings(task.file, task.runs);
    case 'write': return writes(task.file, task.outDir, task.runs);
    case 'ort': return ort(task.file, task.sequence, task.vocab);
  }
}

/** Sends the result to run.ts, or prints it when run by hand: `node --expose-gc --import tsx bench/worker.ts '<task json>'`. */
function reply(message: { ok: boolean; value?: unknown; error?: string }): void {
  const code = message.ok ? 0 : 1;
  if (process.send) process.send(message, () => process.exit(code));
  else { console.log(JSON.stringify(message, null, 2)); process.exit(code); }
}

main().then(
  (value) => reply({ ok: true, value }),
  (e: unknown) => reply({ ok: false, error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) }),
);
