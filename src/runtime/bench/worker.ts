// The child process that benchmarks one model on one execution provider (bundled to dist/benchWorker.js,
// forked by runner.ts): its memory, caches and threads are its own. It opens the session (timed), runs the
// first run and the warm-up, then runs rounds when told, and at the end reports its peak memory, writes
// the graph onnxruntime optimized and profiles a few runs in sessions of their own (profiling slows runs).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../../onnx/load';
import type { FromWorker, ToWorker, WorkerFinish, WorkerOpen } from '../../protocol/bench';
import { DEFAULT_SAMPLES, resolveInputSpec } from '../inputSpec';
import { modelInputs, modelOutputs } from '../modelIo';
import { providerStatus } from '../providers';
import { ModelSession, RuntimeError } from '../session';

/** Memory in MiB, as every size the tool shows (protocol/format.ts formatBytes). */
const MIB = 1024 * 1024;

let session: ModelSession | undefined;
const samples: Record<string, ort.Tensor>[] = [];
let next = 0;
let opened: WorkerOpen | undefined;
const nonFinite = new Set<string>();

const send = (m: FromWorker) => process.send!(m);

/** Notes the float outputs that hold NaN or infinity. */
function checkFinite(outputs: Record<string, ort.Tensor>): void {
  for (const [name, t] of Object.entries(outputs)) {
    if (t.type !== 'float32' && t.type !== 'float64') continue;
    const data = t.data as Float32Array | Float64Array;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) { nonFinite.add(name); break; }
  }
}

async function timedRun(check: boolean): Promise<number> {
  const feeds = samples[next++ % samples.length];
  const t = performance.now();
  const out = await session!.run(feeds);
  const ms = performance.now() - t;
  if (check) checkFinite(out);
  return ms;
}

async function open(m: WorkerOpen): Promise<void> {
  opened = m;
  const model = loadModel(m.file);
  const io = { inputs: modelInputs(model), outputs: modelOutputs(model) };
  const resolved = resolveInputSpec(m.spec, io.inputs);
  // A folder of samples: the first DEFAULT_SAMPLES unless --samples says how many (all of them in memory).
  const limit = m.spec.samples ?? DEFAULT_SAMPLES;
  for await (const f of resolved.feeds()) { samples.push(f); if (samples.length >= limit) break; }
  if (!samples.length) throw new RuntimeError('bad-input-spec', `${resolved.source}: no samples to run`);
  const shapes: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(samples[0])) shapes[k] = [...t.dims];
  await providerStatus(m.provider); // a GPU provider's probe is not part of the session's time
  const baseRssMb = process.memoryUsage.rss() / MIB;
  const t = performance.now();
  session = await ModelSession.open(m.file, { providers: [m.provider], threads: m.threads, optimization: 'all', io });
  const sessionMs = performance.now() - t;
  const firstRunMs = await timedRun(true);
  const warmMs: number[] = [];
  // Every sample runs once (its outputs checked) even when the warm-up is shorter.
  for (let i = 0; i < Math.max(m.warmup, samples.length - 1); i++) warmMs.push(await timedRun(i < samples.length));
  send({
    type: 'opened', provider: session.provider, sessionMs, firstRunMs, warmMs: warmMs.slice(0, Math.max(m.warmup, 1)), baseRssMb,
    nonFinite: [...nonFinite], inputs: { source: resolved.source, random: resolved.random, samples: samples.length, shapes, defaulted: resolved.defaulted },
  });
}

async function finish(m: WorkerFinish): Promise<void> {
  // Linux and macOS give ru_maxrss in kilobytes (macOS: bytes, but Node normalises it to kilobytes).
  const peakRssMb = (process.resourceUsage().maxRSS * 1024) / MIB;
  await session?.release();
  session = undefined;
  const o = opened!;
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all', logSeverityLevel: 4, executionProviders: [o.provider],
    ...(o.threads ? { intraOpNumThreads: o.threads } : {}),
  };
  let optimizedFile: string | null = null, profileFile: string | null = null;
  if (m.optimizedGraph) {
    const out = path.join(m.tempDir, `optimized-${process.pid}.onnx`);
    try {
      const s = await ort.InferenceSession.create(o.file, { ...base, optimizedModelFilePath: out });
      await s.release();
      if (fs.existsSync(out)) optimizedFile = out;
    } catch { /* the summary then says the graph could not be read */ }
  }
  if (m.profileRuns > 0) {
    // One run more than asked: summariseProfile drops the first (arena growth, a GPU's algorithm search).
    // A profile that fails costs the diagnostics, not the measured rounds.
    const prefix = `profile-${process.pid}`;
    let s: ort.InferenceSession | undefined;
    try {
      s = await ort.InferenceSession.create(o.file, { ...base, enableProfiling: true, profileFilePrefix: path.join(m.tempDir, prefix) });
      for (let i = 0; i <= m.profileRuns; i++) await s.run(samples[i % samples.length]);
      s.endProfiling();
      const f = fs.readdirSync(m.tempDir).find((x) => x.startsWith(prefix) && x.endsWith('.json'));
      profileFile = f ? path.join(m.tempDir, f) : null;
    } catch {
      profileFile = null;
    } finally {
      await s?.release().catch(() => undefined);
    }
  }
  send({ type: 'finished', peakRssMb, optimizedFile, profileFile, profileRuns: m.profileRuns });
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'open': return open(m);
    case 'round': {
      const times: number[] = [];
      for (let i = 0; i < m.rewarm; i++) await timedRun(false);
      for (let i = 0; i < m.runs; i++) times.push(await timedRun(false));
      send({ type: 'round', times });
      return;
    }
    case 'finish': return finish(m);
    default: { const never: never = m; throw new Error(`unknown message ${JSON.stringify(never)}`); }
  }
}

if (!process.send) {
  process.stderr.write('benchWorker.js is a child process of onnxq bench; it must be forked with an IPC channel.\n');
  process.exit(2);
}
process.on('message', (m: ToWorker) => {
  handle(m).catch((e: unknown) => {
    const err = e as Error & { kind?: string };
    send({ type: 'error', kind: err.name === 'RuntimeError' ? err.kind ?? 'run-failed' : err.name === 'OnnxError' ? 'model-rejected' : 'internal', message: err.message });
  });
});
process.on('disconnect', () => process.exit(0));
