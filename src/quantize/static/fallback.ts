// The accuracy target of static quantization: keep the nodes whose quantization costs the most in float
// until the quantized model's outputs are close enough to the float model's (each float output's cosine
// similarity over the samples pooled, on the calibration samples, with the quantized model run as it will be
// deployed: fused).
//
// The unit is an activation, not a node: an activation stays in float only when its producer and all its
// readers do. Activations kept by the same nodes form one group.
// 1. Order: one instrumented run of the fully quantized model against the float one, layer by layer
//    (runtime/layerCompare: the noise each layer adds on its own), ranks the groups, the noisiest first.
// 2. The shortest prefix of that order that meets the target, found by doubling and then bisection.
// 3. Then each group of that prefix, least noisy first, goes back to int8 if the target still holds
//    without it, while the evaluation budget lasts.
// The ranges stay those of the one calibration run: the plan without a node quantizes a subset of the
// tensors of the plan with it. Before this order, a search measured every group in float one by one: 227
// full-model comparisons for PP-OCRv4 rec at 0.996 (166 s), 156 for det at 0.995.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataType } from '../../onnx/dtype';
import { valueInfo } from '../../onnx/builder';
import { Model } from '../../onnx/model';
import type { TensorProto } from '../../onnx/proto';
import { writeModel } from '../../onnx/write';
import { cloneStructure, type CalibrationRunner, type Feeds } from '../calibrate/calibrator';
import { QuantizeError } from '../errors';
import type { AccuracyTargetSpec, FallbackSummary } from '../../protocol/quantize';
import { OutputComparer } from '../../runtime/compare';
import { measureLayers, type MeasuredLayers } from '../../runtime/layerCompare';
import { mapLayers } from '../../runtime/layerMap';
import type { EmitResult } from './emit';
import type { QdqPlan } from './plan';
import { makeTempDir } from '../tempDir';

export interface Candidate { model: Model; plan: QdqPlan; result: EmitResult }

export interface FallbackInput {
  /** The float model the plans were made on (not modified). */
  reference: Model;
  /** Tensors of the models stored in external data files. */
  externals: Map<TensorProto, NonNullable<ReturnType<Model['externalOf']>>>;
  /** Emits the quantized model with these extra node labels left in float. */
  build: (inFloat: string[]) => Candidate;
  /** Quantize-dequantize of one value of a tensor of the full plan, by key (undefined: no parameters). */
  quantized: (key: string) => boolean;
  /** The cosine each float output must reach, by output name (outputs not named are not judged). */
  targets: Map<string, number>;
  /** The target as the user gave it, for the report. */
  target: AccuracyTargetSpec;
  /** Most nodes to leave in float. */
  maxNodes: number;
  samples: Feeds[];
  runner: CalibrationRunner;
  workDir?: string;
  signal?: AbortSignal;
  /** Called after each model compared, with the number compared so far. */
  onEvaluation?: (done: number) => void;
}

export interface FallbackOutcome { inFloat: string[]; summary: Omit<FallbackSummary, 'seconds'> }

/**
 * Model evaluations the search may spend, the instrumented run included: the budget (a ranking from
 * one instrumented run needs a handful, where measuring every group took 227 on PP-OCRv4 rec). Pruning
 * stops there; the prefix search itself takes about 2 log2(groups).
 */
export const MAX_EVALUATIONS = 40;
/**
 * Groups added between two rankings, at most: a layer behind a noisier one shows its own drop only once that
 * one is in float, so larger batches pick from a stale order (PP-OCRv4 det: 8 nodes in float where batches
 * of up to 4 leave 6).
 */
const MAX_BATCH = 4;

interface Group { nodes: string[]; tensors: string[] }

type Values = Map<string, { data: Float32Array; dims: readonly number[] }>[];

const round5 = (x: number) => Math.round(x * 1e5) / 1e5;

export async function keepWorstInFloat(input: FallbackInput): Promise<FallbackOutcome> {
  const dir = makeTempDir('accuracy', input.workDir);
  try {
    // The search reads one number per model: the smallest margin of any output over its target (>= 0: met).
    const outputs = [...input.targets.keys()];
    let expected: Values | undefined;
    let evaluations = 0;
    const counted = () => { evaluations++; input.onEvaluation?.(evaluations); };
    const measured = new Map<string, Margin>(); // by the sorted labels of the nodes in float
    const keyOf = (nodes: string[]) => [...nodes].sort().join('\n');
    const cancelled = () => new QuantizeError('cancelled', 'quantization was cancelled');
    /** The outputs only. */
    const marginOf = async (nodes: string[]): Promise<number> => {
      const known = measured.get(keyOf(nodes));
      if (known) return known.margin;
      if (input.signal?.aborted) throw cancelled();
      expected ??= await runAll(input, dir, 'reference.onnx', input.reference, outputs, input.samples, false);
      const got = await runAll(input, dir, 'candidate.onnx', input.build(nodes).model, outputs, input.samples, true);
      counted();
      const m = outputMargin(expected, got, input.targets);
      measured.set(keyOf(nodes), m);
      return m.margin;
    };
    /** Every layer, the outputs among them: the margin and what ranks the groups, in one evaluation. */
    const instrumented = async (nodes: string[]): Promise<{ margin: number; layers: MeasuredLayers; plan: QdqPlan }> => {
      if (input.signal?.aborted) throw cancelled();
      const c = input.build(nodes);
      // The activations the plan quantizes and the outputs: what ranks the groups and judges the target.
      const only = new Set([...outputs, ...[...c.plan.tensors.values()].filter((t) => t.home.depth === 0).map((t) => t.name)]);
      const layers = await measureLayers(input.reference, c.model, mapLayers(input.reference, c.model, only),
        (file, which) => input.runner.open(file, { deployed: which === 'quantized' }), () => input.samples,
        { signal: input.signal, workDir: input.workDir, cancelled });
      counted();
      const cosines = new Map<string, number>();
      // An output's quantized copy (before its last DequantizeLinear) is what the output holds.
      for (const l of layers.layers) if (input.targets.has(l.fp32Tensor)) cosines.set(l.fp32Tensor, Math.min(cosines.get(l.fp32Tensor) ?? 1, l.cosine));
      if (cosines.size < outputs.length) { evaluations--; return { margin: await marginOf(nodes), layers, plan: c.plan }; }
      const m = marginFrom(cosines, input.targets);
      measured.set(keyOf(nodes), m);
      return { margin: m.margin, layers, plan: c.plan };
    };

    let last = await instrumented([]);
    const before = last.margin;
    const summary = (inFloat: string[], after: number, steps: FallbackSummary['steps']) => {
      const a = measured.get(keyOf(inFloat))!, b = measured.get('')!;
      return {
        inFloat,
        summary: {
          target: input.target, samples: input.samples.length,
          cosineBefore: round5(b.cosines.get(b.worst)!), cosineAfter: round5(a.cosines.get(a.worst)!),
          met: after >= 0, worstOutput: a.worst,
          outputs: outputs.map((name) => ({ name, target: input.targets.get(name)!, cosineBefore: round5(b.cosines.get(name)!), cosineAfter: round5(a.cosines.get(name)!) })),
          inFloat: [...inFloat], maxNodes: Number.isFinite(input.maxNodes) ? input.maxNodes : null,
          evaluations, steps,
        },
      };
    };
    if (before >= 0 || input.maxNodes < 1) return summary([], before, []);

    const groups = groupsOf(input, last.plan);
    const steps: FallbackSummary['steps'] = [];
    const union = (gs: Group[]) => [...new Set(gs.flatMap((g) => g.nodes))];
    const fits = (gs: Group[]) => union(gs).length <= input.maxNodes;
    const step = (gs: Group[], phase: FallbackSummary['steps'][number]['phase']) => {
      const m = measured.get(keyOf(union(gs)))!;
      steps.push({ phase, tensors: gs.reduce((n, g) => n + g.tensors.length, 0), nodes: union(gs).length, cosine: round5(m.cosines.get(m.worst)!), worstOutput: m.worst });
    };

    // 1. Batches of 1, 2, 4, ... groups, each the worst by SQNR drop in the run before it, until the target
    //    holds (a layer behind a noisier one shows its own drop only once that one is in float).
    let kept: Group[] = [], keptBefore: Group[] = [], batch: Group[] = [];
    let best = before;
    for (let size = 1; best < 0 && evaluations < MAX_EVALUATIONS - 1; size = Math.min(size * 2, MAX_BATCH)) {
      const order = ranked(groups.filter((g) => !kept.includes(g)), last.layers, last.plan);
      batch = [];
      for (const g of order) { if (batch.length >= size) break; if (fits([...kept, ...batch, g])) batch.push(g); }
      if (!batch.length) break; // every group is in float, or no more fit
      keptBefore = kept;
      kept = [...kept, ...batch];
      last = await instrumented(union(kept));
      best = last.margin;
      step(kept, 'measure');
    }
    // 2. The shortest prefix of the last batch that still reaches it (bisection).
    if (best >= 0 && batch.length > 1) {
      let lo = 0, hi = batch.length;
      while (hi - lo > 1 && evaluations < MAX_EVALUATIONS) {
        const mid = (lo + hi) >> 1;
        const n0 = evaluations;
        const margin = await marginOf(union([...keptBefore, ...batch.slice(0, mid)]));
        if (evaluations > n0) step([...keptBefore, ...batch.slice(0, mid)], 'prefix');
        if (margin >= 0) { hi = mid; best = margin; } else lo = mid;
      }
      kept = [...keptBefore, ...batch.slice(0, hi)];
      best = measured.get(keyOf(union(kept)))!.margin;
    }
    // 3. The ranking is not a proof, and a group may carry nodes the target does not need: give back to
    //    int8 what the target holds without, the last added first, while the budget lasts: pairs of nodes
    //    first (two nodes each within the noise of the target may be needed only one at a time), then
    //    single ones, again after a pass that gave one back (a node needed beside one given back later
    //    may not be needed any more).
    let inFloat = union(kept);
    const giveBack = async (size: number): Promise<boolean> => {
      let gave = false;
      for (let end = inFloat.length; end > 0 && best >= 0 && evaluations < MAX_EVALUATIONS; end -= size) {
        const drop = inFloat.slice(Math.max(0, end - size), end);
        const without = inFloat.filter((x) => !drop.includes(x));
        const n0 = evaluations;
        const margin = await marginOf(without); // a set tried before is not compared again
        const m = measured.get(keyOf(without))!;
        if (evaluations > n0) steps.push({ phase: 'prune', tensors: 0, nodes: without.length, cosine: round5(m.cosines.get(m.worst)!), worstOutput: m.worst });
        if (margin >= 0) { inFloat = without; best = margin; gave = true; end = Math.min(end, inFloat.length + size); }
      }
      return gave;
    };
    if (best >= 0) {
      await giveBack(2);
      while (await giveBack(1) && evaluations < MAX_EVALUATIONS);
    }
    return summary(inFloat, best, steps);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface Margin { margin: number; worst: string; cosines: Map<string, number> }

/**
 * Per output, the cosine over every sample pooled (runtime/compare, the one implementation); the margin is
 * the smallest of (cosine - target) over the outputs, and `worst` the output it belongs to.
 */
function outputMargin(expected: Values, got: Values, targets: Map<string, number>): Margin {
  const names = [...targets.keys()];
  const comparer = new OutputComparer(names);
  const asTensors = (m: Values[number]) => Object.fromEntries([...m].map(([k, v]) => [k, { type: 'float32', data: v.data, dims: v.dims }]));
  for (let s = 0; s < expected.length; s++) comparer.add(asTensors(expected[s]), asTensors(got[s]));
  return marginFrom(new Map(comparer.results().map((o) => [o.name, o.pooled.cosine])), targets);
}

/** The smallest of (cosine - target) over the outputs, and the output it belongs to. */
function marginFrom(cosines: Map<string, number>, targets: Map<string, number>): Margin {
  let worst = [...targets.keys()][0], margin = Infinity;
  for (const [n, t] of targets) { const d = cosines.get(n)! - t; if (d < margin) { margin = d; worst = n; } }
  return { margin, worst, cosines };
}

/**
 * The activations of the main graph, each with the nodes that would have to stay in float for it to stay in
 * float (its producer when that is quantized, and every quantized node that reads it or a value that shares
 * its parameters), grouped by those nodes.
 */
function groupsOf(input: FallbackInput, plan: QdqPlan): Group[] {
  const touching = new Map<string, Set<string>>();
  for (const n of plan.nodes) {
    if (n.graph.depth !== 0 || n.mark.kind === 'passthrough') continue;
    for (const k of [...n.reads, ...n.writes]) {
      const root = plan.root(k)?.key;
      if (root === undefined) continue;
      const set = touching.get(root) ?? new Set<string>();
      set.add(n.label);
      touching.set(root, set);
    }
  }
  const byNodes = new Map<string, Group>();
  for (const t of plan.tensors.values()) {
    if (t.alias || t.home.depth !== 0 || !touching.has(t.key) || !input.quantized(t.key)) continue;
    const nodes = [...touching.get(t.key)!];
    const id = [...nodes].sort().join('\n');
    const g = byNodes.get(id);
    if (g) g.tensors.push(t.key); else byNodes.set(id, { nodes, tensors: [t.key] });
  }
  return [...byNodes.values()];
}

/**
 * `groups` by the largest SQNR drop (runtime/layerCompare) across a layer that writes one of their
 * activations or a value sharing its parameters, in the run of `layers`; groups no layer measured last.
 */
function ranked(groups: Group[], layers: MeasuredLayers, plan: QdqPlan): Group[] {
  const drop = new Map<string, number>();
  for (const l of layers.layers) drop.set(l.fp32Tensor, Math.max(drop.get(l.fp32Tensor) ?? -Infinity, l.sqnrDropDb));
  const byRoot = new Map<string, number>();
  for (const t of plan.tensors.values()) {
    if (t.home.depth !== 0) continue;
    const root = plan.root(t.key)?.key;
    if (root !== undefined) byRoot.set(root, Math.max(byRoot.get(root) ?? -Infinity, drop.get(t.name) ?? -Infinity));
  }
  const score = (g: Group) => Math.max(...g.tensors.map((k) => byRoot.get(k) ?? -Infinity));
  return groups.map((g) => ({ g, s: score(g) })).sort((x, y) => y.s - x.s).map((x) => x.g);
}

/** The float outputs of the main graph, by name. */
export function floatOutputs(m: Model): string[] {
  return (m.proto.graph?.output ?? []).filter((v) => v.type?.tensor_type?.elem_type === DataType.FLOAT).map((v) => v.name ?? '').filter(Boolean);
}

/** Runs `model` (with `fetch` exposed as outputs) on `samples`; the float32 results, copied. */
async function runAll(input: FallbackInput, dir: string, file: string, model: Model, fetch: string[], samples: Feeds[], deployed: boolean): Promise<Values> {
  const proto = cloneStructure(model.proto);
  const g = proto.graph!;
  const present = new Set((g.output ?? []).map((v) => v.name));
  for (const name of fetch) if (!present.has(name)) (g.output ??= []).push(valueInfo(name, DataType.FLOAT, null));
  const at = path.join(dir, file);
  writeModel(new Model(proto, model.source, input.externals), at);
  const session = await input.runner.open(at, { deployed });
  try {
    const all: Values = [];
    for (const f of samples) {
      const out = await session.run(f, fetch);
      const m: Values[number] = new Map();
      for (const name of fetch) {
        const t = out[name];
        if (t && t.type === 'float32') m.set(name, { data: Float32Array.from(t.data as Float32Array), dims: [...t.dims] });
      }
      all.push(m);
    }
    return all;
  } finally {
    await session.release();
  }
}
