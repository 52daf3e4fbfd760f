// Runs two models on the same inputs (or one model against saved outputs) and judges each output on its
// own: the figures come from compare.ts, the samples from the input spec, the sessions from session.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { InputSpec } from '../protocol/inputSpec';
import type { ValueInfo } from '../protocol/inspect';
import type { CompareResult } from '../protocol/compare';
import { failures, judgedCosine, OutputComparer, type ComparePolicy, type OutputComparison } from './compare';

export type { CompareResult, JudgedOutput, ModelRun } from '../protocol/compare';
import { readSample, readTensorFile } from './inputs';
import { defaultedAdvice, resolveInputSpec, type DefaultedDim } from './inputSpec';
import { ModelSession, RuntimeError, type SessionOptions } from './session';
import { loadModel } from '../onnx/load';
import type { LayerComparison } from '../protocol/layers';
import { measureLayers, type LayerSession } from './layerCompare';
import { weightQuantization } from '../quantize/weightGrid';
import { graphDiff } from './graphDiff';
import { mapLayers } from './layerMap';

export interface CompareOptions extends SessionOptions {
  spec?: InputSpec;
  policy?: ComparePolicy;
  signal?: AbortSignal;
  /** Called after each sample with the number done and the total. */
  onSample?: (done: number, total: number) => void;
  /** Skip this many samples of a sample folder first (those calibration used). */
  skipSamples?: number;
  /** Keep this many sampled (reference, candidate) pairs per output for plots (default 0). */
  plotPoints?: number;
  /** Also compare every layer (layerCompare.ts), on the same samples. */
  layers?: boolean;
  /** Called as the layers are measured, with the tensors done and in all. */
  onLayers?: (measured: number, total: number) => void;
}

/** Exit code of `onnxq compare` when an output is outside the tolerance (errors are 1, usage 2). */
export const EXIT_OUTSIDE_TOLERANCE = 3;

const names = (xs: ValueInfo[]) => xs.map((v) => v.name);

function sameSignature(a: ModelSession, b: ModelSession): void {
  const diff = (what: 'inputs' | 'outputs') => {
    const x = new Map(a[what].map((v) => [v.name, v.dtype])), y = new Map(b[what].map((v) => [v.name, v.dtype]));
    const onlyA = [...x.keys()].filter((k) => !y.has(k)), onlyB = [...y.keys()].filter((k) => !x.has(k));
    const typed = [...x].filter(([k, t]) => y.has(k) && y.get(k) !== t).map(([k, t]) => `"${k}" is ${t} in the first and ${y.get(k)} in the second`);
    const parts = [
      onlyA.length ? `only the first model has ${onlyA.map((s) => `"${s}"`).join(', ')}` : '',
      onlyB.length ? `only the second model has ${onlyB.map((s) => `"${s}"`).join(', ')}` : '',
      ...typed,
    ].filter(Boolean);
    if (parts.length) {
      throw new RuntimeError(what === 'inputs' ? 'input-mismatch' : 'output-mismatch', `the two models do not have the same ${what} (${parts.join('; ')}): compare a model with a quantized copy of itself`);
    }
  };
  diff('inputs');
  diff('outputs');
}

function judge(outputs: OutputComparison[], policy: ComparePolicy): Pick<CompareResult, 'outputs' | 'pass' | 'worstOutput'> {
  const checked = policy.tolerance !== undefined || policy.minCosine !== undefined;
  const judged = outputs.map((o) => {
    const f = failures(o, policy);
    return { ...o, pass: checked || f.length ? f.length === 0 : null, failures: f };
  });
  const worst = [...judged].sort((x, y) => judgedCosine(x) - judgedCosine(y))[0];
  const any = judged.some((o) => o.pass !== null);
  return { outputs: judged, pass: any ? judged.every((o) => o.pass !== false) : null, worstOutput: worst?.name ?? null };
}

/** Runs the model at `fileA` and at `fileB` on the same samples and compares every output. */
export async function compareModels(fileA: string, fileB: string, options: CompareOptions = {}): Promise<CompareResult> {
  const t0 = performance.now();
  const a = await ModelSession.open(fileA, options);
  let b: ModelSession | undefined;
  try {
    b = await ModelSession.open(fileB, options);
    sameSignature(a, b);
    const inputs = resolveInputSpec(options.spec ?? {}, a.inputs);
    const policy = options.policy ?? {};
    checkTopK(policy, a.outputs);
    const fetch = names(a.outputs);
    const comparer = new OutputComparer(fetch, policy, options.plotPoints ?? 0);
    let done = 0, skipped = 0;
    // The shapes that ran: sample files carry their own.
    const shapes: Record<string, number[]> = {};
    for await (const feeds of inputs.feeds()) {
      if (options.signal?.aborted) throw new RuntimeError('cancelled', 'the comparison was cancelled');
      if (skipped < (options.skipSamples ?? 0)) { skipped++; continue; }
      if (!done) for (const [k, t] of Object.entries(feeds)) shapes[k] = [...t.dims];
      const ya = await runWithAdvice(a, feeds, fetch, inputs.defaulted);
      const yb = await runWithAdvice(b, feeds, fetch, inputs.defaulted);
      addSample(comparer, ya, yb, done);
      done++;
      options.onSample?.(done, inputs.count - skipped);
    }
    if (!done) throw new RuntimeError('bad-input-spec', `${inputs.source}: no samples to compare on`);
    const layers = options.layers ? await compareLayers(fileA, fileB, inputs, options) : undefined;
    return {
      a: { file: fileA, provider: a.provider }, b: { file: fileB, provider: b.provider }, expected: null,
      inputs: { source: inputs.source, random: inputs.random, samples: done, shapes, defaulted: inputs.defaulted },
      ...judge(comparer.results(), policy), policy, ...(layers ? { layers } : {}), seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await Promise.allSettled([a.release(), b?.release()]);
  }
}

/** Every mapped layer of B against A, on the samples the outputs were compared on. */
async function compareLayers(fileA: string, fileB: string, inputs: ReturnType<typeof resolveInputSpec>, options: CompareOptions): Promise<LayerComparison> {
  const [ma, mb] = [loadModel(fileA), loadModel(fileB)];
  const map = mapLayers(ma, mb);
  const open = async (file: string): Promise<LayerSession> => {
    const s = await ModelSession.open(file, options);
    return { run: (f, fetch) => runWithAdvice(s, f as Record<string, ort.Tensor>, fetch, inputs.defaulted), release: () => s.release() };
  };
  const feeds = async function* () {
    let skipped = 0;
    for await (const f of inputs.feeds()) { if (skipped++ < (options.skipSamples ?? 0)) continue; yield f; }
  };
  const layers = await measureLayers(ma, mb, map, open, feeds, {
    signal: options.signal, onProgress: options.onLayers, cancelled: () => new RuntimeError('cancelled', 'the comparison was cancelled'),
  });
  // Each quantized layer's weight error: its FP32 weight against the quantized copy's grid.
  const nodes = new Map((ma.proto.graph?.node ?? []).map((n) => [n.name ?? '', n]));
  for (const l of layers.layers) {
    const w = l.floatNode ? nodes.get(l.floatNode)?.input?.[1] : undefined;
    if (!w) continue;
    try { l.weightSqnrDb = weightQuantization(ma, mb, w, true, path.basename(fileB)).sqnrDb; } catch { /* not quantized as W_quantized */ }
  }
  return { ...layers, diff: graphDiff(ma, mb) };
}

/** The ONNX backend tests' tolerance (onnx.backend.test.runner: rtol 1e-3, atol 1e-7). */
export const EXPECTED_TOLERANCE = { atol: 1e-7, rtol: 1e-3 } as const;

/**
 * Runs the model on the inputs of each `test_data_set_N` folder of `dir` (or of `dir` itself when it is
 * one) and checks its outputs against the saved `output_M.pb` files.
 */
export async function compareWithExpected(file: string, dir: string, options: CompareOptions = {}): Promise<CompareResult> {
  const t0 = performance.now();
  const sets = expectedSets(dir);
  const session = await ModelSession.open(file, options);
  try {
    const policy: ComparePolicy = { ...options.policy, tolerance: options.policy?.tolerance ?? { ...EXPECTED_TOLERANCE } };
    checkTopK(policy, session.outputs);
    const fetch = names(session.outputs);
    const comparer = new OutputComparer(fetch, policy, options.plotPoints ?? 0);
    let done = 0;
    const shapes: Record<string, number[]> = {};
    for (const set of sets) {
      if (options.signal?.aborted) throw new RuntimeError('cancelled', 'the comparison was cancelled');
      let feeds: Record<string, ort.Tensor>;
      try { feeds = readSample({ label: path.basename(set), path: set, kind: 'folder' }, session.inputs); } catch (e) {
        throw new RuntimeError('bad-expected', (e as Error).message);
      }
      if (!done) for (const [k, t] of Object.entries(feeds)) shapes[k] = [...t.dims];
      const expected = expectedOutputs(set, session.outputs);
      const got = await session.run(feeds, fetch);
      addSample(comparer, expected, got, done);
      done++;
      options.onSample?.(done, sets.length);
    }
    const run = { file, provider: session.provider };
    return {
      a: run, b: run, expected: dir,
      inputs: { source: `${sets.length} test data set${sets.length === 1 ? '' : 's'} in ${dir}`, random: false, samples: done, shapes, defaulted: [] },
      ...judge(comparer.results(), policy), policy, seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await session.release();
  }
}

function addSample(comparer: OutputComparer, a: Record<string, ort.Tensor | { type: string; data: unknown; dims: readonly number[] }>, b: Record<string, ort.Tensor>, index: number): void {
  try { comparer.add(a, b); } catch (e) {
    throw new RuntimeError('output-mismatch', `sample ${index + 1}: ${(e as Error).message}`);
  }
}

async function runWithAdvice(s: ModelSession, feeds: Record<string, ort.Tensor>, fetch: string[], defaulted: DefaultedDim[]): Promise<Record<string, ort.Tensor>> {
  try { return await s.run(feeds, fetch); } catch (e) {
    if (e instanceof RuntimeError && (e.kind === 'input-mismatch' || e.kind === 'run-failed') && defaulted.length) {
      throw new RuntimeError(e.kind, `${e.message}${defaultedAdvice(defaulted)}`);
    }
    throw e;
  }
}

function checkTopK(policy: ComparePolicy, outputs: ValueInfo[]): void {
  for (const name of Object.keys(policy.topK ?? {})) {
    if (!outputs.some((o) => o.name === name)) {
      throw new RuntimeError('bad-input-spec', `--top-k names "${name}", which is not an output of the model; its outputs are ${outputs.map((o) => `"${o.name}"`).join(', ')}`);
    }
  }
}

/** The test data set folders of `dir`: its test_data_set_N folders, or `dir` itself when it holds output_M.pb files. */
function expectedSets(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new RuntimeError('bad-expected', `${dir}: not a folder; --expected takes a folder with test_data_set_N folders (input_M.pb and output_M.pb), or one such folder`);
  const own = fs.readdirSync(dir).filter((f) => /^output_\d+\.pb$/.test(f));
  if (own.length) return [dir];
  const sets = fs.readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.readdirSync(path.join(dir, e.name)).some((f) => /^output_\d+\.pb$/.test(f)))
    .map((e) => path.join(dir, e.name)).sort((x, y) => x.localeCompare(y, 'en', { numeric: true }));
  if (!sets.length) throw new RuntimeError('bad-expected', `${dir}: no saved outputs (output_M.pb) in it or in its test_data_set_N folders`);
  return sets;
}

/** The saved outputs of a test data set, by output name (by the name in the file, else by position). */
function expectedOutputs(set: string, outputs: ValueInfo[]): Record<string, ort.Tensor> {
  const files = fs.readdirSync(set).filter((f) => /^output_\d+\.pb$/.test(f)).sort((x, y) => x.localeCompare(y, 'en', { numeric: true }));
  if (files.length !== outputs.length) {
    throw new RuntimeError('bad-expected', `${set}: ${files.length} saved output${files.length === 1 ? '' : 's'}, but the model has ${outputs.length} (${outputs.map((o) => `"${o.name}"`).join(', ')})`);
  }
  const known = new Set(outputs.map((o) => o.name));
  const out: Record<string, ort.Tensor> = {};
  files.forEach((f, i) => {
    let t: { name: string; tensor: ort.Tensor };
    try { t = readTensorFile(path.join(set, f)); } catch (e) { throw new RuntimeError('bad-expected', (e as Error).message); }
    out[known.has(t.name) ? t.name : outputs[i].name] = t.tensor;
  });
  return out;
}
