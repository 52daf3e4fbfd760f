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
import type { Model } from '../../onnx/model';
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
    return await new FallbackSearch(input, dir).run();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const keyOf = (nodes: string[]) => [...nodes].sort().join('\n');
const union = (gs: Group[]) => [...new Set(gs.flatMap((g) => g.nodes))];

/** One search: every model it measures, by the sorted labels of the nodes in float, and the steps it took. */
class FallbackSearch {
  // The search reads one number per model: the smallest margin of any output over its target (>= 0: met).
  private readonly outputs: string[];
  private readonly measured = new Map<string, Margin>();
  private readonly steps: FallbackSummary['steps'] = [];
  private expected: Values | undefined;
  private evaluations = 0;

  constructor(private readonly input: FallbackInput, private readonly dir: string) {
    this.outputs = [...input.targets.keys()];
  }

  async run(): Promise<FallbackOutcome> {
    const first = await this.instrumented([]);
    if (first.margin >= 0 || this.input.maxNodes < 1) return this.summary([], first.margin);
    const groups = groupsOf(this.input, first.plan);
    const grown = await this.grow(groups, first);
    let { kept, best } = grown;
    if (best >= 0 && grown.batch.length > 1) ({ kept, best } = await this.shortestPrefix(grown.keptBefore, grown.batch));
    let inFloat = union(kept);
    if (best >= 0) {
      // The ranking is not a proof, and a group may carry nodes the target does not need: give back to int8
      // what the target holds without, pairs of nodes first (two nodes each within the noise of the target
      // may be needed only one at a time), then single ones, again after a pass that gave one back (a node
      // needed beside one given back later may not be needed any more).
      ({ inFloat, best } = await this.giveBack(inFloat, best, 2));
      for (let gave = true; gave && this.evaluations < MAX_EVALUATIONS;) {
        const before = inFloat.length;
        ({ inFloat, best } = await this.giveBack(inFloat, best, 1));
        gave = inFloat.length < before;
      }
    }
    return this.summary(inFloat, best);
  }

  private cancelled(): QuantizeError {
    return new QuantizeError('cancelled', 'quantization was cancelled');
  }

  private counted(): void {
    this.evaluations++;
    this.input.onEvaluation?.(this.evaluations);
  }

  /** The outputs only. */
  private async marginOf(nodes: string[]): Promise<number> {
    const { input } = this;
    const known = this.measured.get(keyOf(nodes));
    if (known) return known.margin;
    if (input.signal?.aborted) throw this.cancelled();
    this.expected ??= await runAll(input, this.dir, 'reference.onnx', input.reference, this.outputs, input.samples, false);
    const got = await runAll(input, this.dir, 'candidate.onnx', input.build(nodes).model, this.outputs, input.samples, true);
    this.counted();
    const m = outputMargin(this.expected, got, input.targets);
    this.measured.set(keyOf(nodes), m);
    return m.margin;
  }

  /** Every layer, the outputs among them: the margin and what ranks the groups, in one evaluation. */
  private async instrumented(nodes: string[]): Promise<{ margin: number; layers: MeasuredLayers; plan: QdqPlan }> {
    const { input } = this;
    if (input.signal?.aborted) throw this.cancelled();
    const c = input.build(nodes);
    // The activations the plan quantizes and the outputs: what ranks the groups and judges the target.
    const only = new Set([...this.outputs, ...[...c.plan.tensors.values()].filter((t) => t.home.depth === 0).map((t) => t.name)]);
    const layers = await measureLayers(input.reference, c.model, mapLayers(input.reference, c.model, only),
      (file, which) => input.runner.open(file, { deployed: which === 'quantized' }), () => input.samples,
      { signal: input.signal, workDir: input.workDir, cancelled: () => this.cancelled() });
    this.counted();
    const cosines = new Map<string, number>();
    // An output's quantized copy (before its last DequantizeLinear) is what the output holds.
    for (const l of layers.layers) if (input.targets.has(l.fp32Tensor)) cosines.set(l.fp32Tensor, Math.min(cosines.get(l.fp32Tensor) ?? 1, l.cosine));
    if (cosines.size < this.outputs.length) { this.evaluations--; return { margin: await this.marginOf(nodes), layers, plan: c.plan }; }
    const m = marginFrom(cosines, input.targets);
    this.measured.set(keyOf(nodes), m);
    return { margin: m.margin, layers, plan: c.plan };
  }

  /** A step of the search, for the report: `nodes` in float, from `tensors` activations (0 when pruning). */
  private step(nodes: string[], phase: FallbackSummary['steps'][number]['phase'], tensors = 0): void {
    const m = this.measured.get(keyOf(nodes))!;
    this.steps.push({ phase, tensors, nodes: nodes.length, cosine: round5(m.cosines.get(m.worst)!), worstOutput: m.worst });
  }

  /**
   * Phase 1: batches of 1, 2, 4, ... groups, each the worst by SQNR drop in the run before it, until the
   * target holds (a layer behind a noisier one shows its own drop only once that one is in float).
   */
  private async grow(groups: Group[], first: { margin: number; layers: MeasuredLayers; plan: QdqPlan }): Promise<{ kept: Group[]; keptBefore: Group[]; batch: Group[]; best: number }> {
    const fits = (gs: Group[]) => union(gs).length <= this.input.maxNodes;
    let last = first, kept: Group[] = [], keptBefore: Group[] = [], batch: Group[] = [];
    let best = first.margin;
    for (let size = 1; best < 0 && this.evaluations < MAX_EVALUATIONS - 1; size = Math.min(size * 2, MAX_BATCH)) {
      const order = ranked(groups.filter((g) => !kept.includes(g)), last.layers, last.plan);
      batch = [];
      for (const g of order) { if (batch.length >= size) break; if (fits([...kept, ...batch, g])) batch.push(g); }
      if (!batch.length) break; // every group is in float, or no more fit
      keptBefore = kept;
      kept = [...kept, ...batch];
      last = await this.instrumented(union(kept));
      best = last.margin;
      this.step(union(kept), 'measure', kept.reduce((n, g) => n + g.tensors.length, 0));
    }
    return { kept, keptBefore, batch, best };
  }

  /** Phase 2: the shortest prefix of the last batch that still reaches the target (bisection). */
  private async shortestPrefix(keptBefore: Group[], batch: Group[]): Promise<{ kept: Group[]; best: number }> {
    let lo = 0, hi = batch.length;
    while (hi - lo > 1 && this.evaluations < MAX_EVALUATIONS) {
      const mid = (lo + hi) >> 1;
      const gs = [...keptBefore, ...batch.slice(0, mid)];
      const n0 = this.evaluations;
      const margin = await this.marginOf(union(gs));
      if (this.evaluations > n0) this.step(union(gs), 'prefix', gs.reduce((n, g) => n + g.tensors.length, 0));
      if (margin >= 0) hi = mid; else lo = mid;
    }
    const kept = [...keptBefore, ...batch.slice(0, hi)];
    return { kept, best: this.measured.get(keyOf(union(kept)))!.margin };
  }

  /** Phase 3: gives back to int8, `size` nodes at a time, the last added first, what the target holds without. */
  private async giveBack(start: string[], best: number, size: number): Promise<{ inFloat: string[]; best: number }> {
    let inFloat = start;
    for (let end = inFloat.length; end > 0 && best >= 0 && this.evaluations < MAX_EVALUATIONS; end -= size) {
      const drop = inFloat.slice(Math.max(0, end - size), end);
      const without = inFloat.filter((x) => !drop.includes(x));
      const n0 = this.evaluations;
      const margin = await this.marginOf(without); // a set tried before is not compared again
      if (this.evaluations > n0) this.step(without, 'prune');
      if (margin >= 0) { inFloat = without; best = margin; end = Math.min(end, inFloat.length + size); }
    }
    return { inFloat, best };
  }

  private summary(inFloat: string[], after: number): FallbackOutcome {
    const { input, outputs } = this;
    const a = this.measured.get(keyOf(inFloat))!, b = this.measured.get('')!;
    return {
      inFloat,
      summary: {
        target: input.target, samples: input.samples.length,
        cosineBefore: round5(b.cosines.get(b.worst)!), cosineAfter: round5(a.cosines.get(a.worst)!),
        met: after >= 0, worstOutput: a.worst,
        outputs: outputs.map((name) => ({ name, target: input.targets.get(name)!, cosineBefore: round5(b.cosines.get(name)!), cosineAfter: round5(a.cosines.get(name)!) })),
        inFloat: [...inFloat], maxNodes: Number.isFinite(input.maxNodes) ? input.maxNodes : null,
        evaluations: this.evaluations, steps: this.steps,
      },
    };
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
  writeModel(model.withProto(proto), at);
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
