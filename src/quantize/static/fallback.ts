// The accuracy target of static quantization: keep the nodes whose quantization costs the most in float
// until the quantized model's outputs are close enough to the float model's (cosine similarity of all float
// outputs joined, on the calibration samples, with the quantized model run as it will be deployed: fused).
//
// The unit is an activation, not a node: an activation stays in float only when its producer and all its
// readers do. Activations kept by the same nodes form one group.
// 1. Order: one unfused run of the float model exposes the activations the plan quantizes; each one's noise
//    is that of its own quantization, per channel (see noisiestTensors).
// 2. Rounds of measuring: each group in float on top of those kept so far, every one of them measured (the
//    output cosine, fused), then the best added one by one while each still helps by more than the noise of
//    the measure (MIN_GAIN). Two rounds: the second finds the groups that help only next to one kept in the
//    first (on PP-OCRv4 det, Conv.2 in float alone gives nothing, but with Conv.1 in float it takes the
//    cosine from 0.976 to 0.995: the activation between them is quantized while either is).
// 3. Still short of the target: the shortest prefix of the other groups, noisiest first, that reaches it,
//    found by doubling and then bisection. On PP-OCRv4 rec no single group moves the cosine by more than the
//    noise of the measure (the error is spread over the whole backbone), so this is what finds its set.
// 4. Then each group of that prefix, least noisy first, goes back to int8 if the target still holds
//    without it.
// The ranges stay those of the one calibration run: the plan without a node quantizes a subset of the
// tensors of the plan with it.
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
import { nodeLabel } from '../pass';
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
  quantizer: (key: string) => ((v: number) => number) | undefined;
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

/** Groups of activations measured one by one per round, at most (the noisiest). */
const MAX_MEASURED = 96;
/** Rounds of measuring and adding, at most. */
const ROUNDS = 6;
/**
 * A change of the output cosine smaller than this is not taken for a gain: on PP-OCRv4 rec, two sets of 16
 * samples differ by 0.002, and fused and unfused runs of the same model by 0.003.
 */
const MIN_GAIN = 1e-3;
/** Samples of the unfused run that orders the activations by their noise. */
const NOISE_SAMPLES = 8;

interface Group { nodes: string[]; tensors: string[]; gain: number | undefined }

type Values = Map<string, { data: Float32Array; dims: readonly number[] }>[];

const round5 = (x: number) => Math.round(x * 1e5) / 1e5;

export async function keepWorstInFloat(input: FallbackInput): Promise<FallbackOutcome> {
  const dir = makeTempDir('accuracy', input.workDir);
  try {
    // The search reads one number per model: the smallest margin of any output over its target (>= 0: met).
    const outputs = [...input.targets.keys()];
    const expected = await runAll(input, dir, 'reference.onnx', input.reference, outputs, input.samples, false);
    let evaluations = 0;
    const measured = new Map<string, Margin>(); // by the sorted labels of the nodes in float
    const marginOf = async (c: Candidate, nodes: string[]): Promise<number> => {
      if (input.signal?.aborted) throw new QuantizeError('cancelled', 'quantization was cancelled');
      const got = await runAll(input, dir, 'candidate.onnx', c.model, outputs, input.samples, true);
      evaluations++;
      input.onEvaluation?.(evaluations);
      const m = outputMargin(expected, got, input.targets);
      measured.set([...nodes].sort().join('\n'), m);
      return m.margin;
    };

    const first = input.build([]);
    const before = await marginOf(first, []);
    const summary = (inFloat: string[], after: number, steps: FallbackSummary['steps']) => {
      const a = measured.get([...inFloat].sort().join('\n'))!, b = measured.get('')!;
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

    // 1. The activations, noisiest first, grouped by the nodes that keep them in float.
    const byNodes = new Map<string, Group>(); // in the order of the noisiest tensor of each group
    for (const t of await noisiestTensors(input, dir, first)) {
      const id = [...t.nodes].sort().join('\n');
      const g = byNodes.get(id);
      if (g) g.tensors.push(t.key); else byNodes.set(id, { nodes: t.nodes, tensors: [t.key], gain: undefined });
    }
    const groups = [...byNodes.values()];
    const steps: FallbackSummary['steps'] = [];
    const union = (gs: Group[]) => [...new Set(gs.flatMap((g) => g.nodes))];
    const tryGroups = async (gs: Group[], phase: FallbackSummary['steps'][number]['phase']): Promise<number> => {
      const nodes = union(gs);
      const margin = await marginOf(input.build(nodes), nodes);
      const m = measured.get([...nodes].sort().join('\n'))!;
      steps.push({ phase, tensors: gs.reduce((n, g) => n + g.tensors.length, 0), nodes: nodes.length, cosine: round5(m.cosines.get(m.worst)!), worstOutput: m.worst });
      return margin;
    };
    const fits = (gs: Group[]) => union(gs).length <= input.maxNodes;

    // 2. Rounds: each group measured on top of those kept so far, then added best first while it helps by
    //    more than the noise of the measure. The first round measures every group (the first MAX_MEASURED);
    //    the next one only the groups next to those just kept (they may help only beside them: the
    //    activation between a layer kept in float and the next one is quantized while the next one is),
    //    and when that finds nothing, every group again; a round over every group that finds nothing ends it.
    const near = neighbours(input.reference);
    let kept: Group[] = [];
    let best = before;
    let fresh: Group[] = [];
    let full = true;
    for (let round = 0; round < ROUNDS && best < 0; round++) {
      const base = best;
      const around = new Set(fresh.flatMap((g) => g.nodes.flatMap((n) => [n, ...(near.get(n) ?? [])])));
      const candidates = full
        ? groups.filter((g) => !kept.includes(g)).slice(0, MAX_MEASURED)
        : groups.filter((g) => !kept.includes(g) && g.nodes.some((n) => around.has(n)));
      for (const g of candidates) g.gain = fits([...kept, g]) ? (await tryGroups([...kept, g], 'measure')) - base : undefined;
      const keptBefore = kept.length;
      for (const g of candidates.filter((x) => (x.gain ?? 0) >= MIN_GAIN).sort((x, y) => y.gain! - x.gain!)) {
        if (best >= 0) break;
        if (!fits([...kept, g])) continue;
        // The first of a round was measured just now, on top of the same set.
        const cosine = kept.length > keptBefore ? await tryGroups([...kept, g], 'greedy') : base + g.gain!;
        if (cosine >= best + MIN_GAIN || (cosine >= 0 && cosine > best)) { kept.push(g); best = cosine; }
      }
      fresh = kept.slice(keptBefore);
      if (!fresh.length && full) break; // a round over every group found nothing more
      full = !fresh.length; // the neighbours found nothing: every group again
    }

    // 3. Still short: the shortest prefix of the remaining groups, noisiest first, that reaches the target
    //    on top of those (doubling, then bisection).
    if (best < 0) {
      const rest = groups.filter((g) => !kept.includes(g));
      let limit = rest.length;
      while (limit > 0 && !fits([...kept, ...rest.slice(0, limit)])) limit--;
      const tried = new Map<number, number>([[0, best]]);
      const at = async (k: number) => {
        if (!tried.has(k)) tried.set(k, await tryGroups([...kept, ...rest.slice(0, k)], 'prefix'));
        return tried.get(k)!;
      };
      let lo = 0, hi = 0;
      for (let k = 1; k <= limit; k = Math.min(limit, k * 2)) {
        if (await at(k) >= 0) { hi = k; break; }
        lo = k;
        if (k >= limit) break;
      }
      if (hi) {
        while (hi - lo > 1) {
          const mid = (lo + hi) >> 1;
          if (await at(mid) >= 0) hi = mid; else lo = mid;
        }
      } else {
        hi = [...tried].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0][0]; // not reached: the closest
      }
      const prefix = rest.slice(0, hi);
      best = tried.get(hi)!;
      // 4. The prefix takes whole runs of the order to reach the one activation that matters: give back to
      //    int8 each of its groups, least noisy first, whose absence keeps the target.
      if (best >= 0) {
        for (let i = prefix.length - 1; i >= 0; i--) {
          const without = prefix.filter((_, j) => j !== i);
          const cosine = await tryGroups([...kept, ...without], 'prune');
          if (cosine >= 0) { prefix.splice(i, 1); best = cosine; }
        }
      }
      kept = [...kept, ...prefix];
    }
    const inFloat = union(kept);
    return summary(inFloat, best, steps);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * For each node of the main graph, the nodes it is connected to through nodes that are not quantizable
 * layers (activation functions, elementwise ops, data movement): by node label, both ways.
 */
function neighbours(m: Model): Map<string, Set<string>> {
  const g = m.proto.graph!;
  const nodes = g.node ?? [];
  const layer = (op: string | undefined) => op === 'Conv' || op === 'MatMul' || op === 'Gemm' || op === 'ConvTranspose';
  const readers = new Map<string, typeof nodes>();
  for (const n of nodes) for (const i of n.input ?? []) if (i) { const l = readers.get(i) ?? []; l.push(n); readers.set(i, l); }
  const out = new Map<string, Set<string>>();
  const link = (a: string, b: string) => {
    if (!out.has(a)) out.set(a, new Set());
    if (!out.has(b)) out.set(b, new Set());
    out.get(a)!.add(b); out.get(b)!.add(a);
  };
  for (const start of nodes) {
    if (!layer(start.op_type)) continue;
    const from = nodeLabel(start);
    const seen = new Set<typeof start>();
    const stack = [...(start.output ?? []).flatMap((o) => readers.get(o) ?? [])];
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      if (layer(n.op_type)) { link(from, nodeLabel(n)); continue; }
      if (seen.size > 256) break; // a long run of ops between two layers: near enough for this use
      for (const o of n.output ?? []) stack.push(...(readers.get(o) ?? []));
    }
  }
  return out;
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
  const cosines = new Map(comparer.results().map((o) => [o.name, o.pooled.cosine]));
  let worst = names[0], margin = Infinity;
  for (const n of names) { const d = cosines.get(n)! - targets.get(n)!; if (d < margin) { margin = d; worst = n; } }
  return { margin, worst, cosines };
}

/**
 * The activations of the main graph, the noisiest first, each with the nodes that would have to stay in
 * float for it to stay in float (its producer when that is quantized, and every quantized node that reads
 * it or a value that shares its parameters). The noise of a tensor is that of its own quantization (its
 * scale and zero point applied to the float model's values), per channel (axis 1 of NCHW values, the last
 * axis of others) and averaged over the channels: a channel whose values are small next to the others'
 * loses them to one per-tensor scale, and its share of the tensor's energy says nothing of what the layers
 * after it make of it. Values past a tensor's clamp (HardSwish below -3, ...) are not noise.
 */
async function noisiestTensors(input: FallbackInput, dir: string, c: Candidate): Promise<{ key: string; nsr: number; nodes: string[] }[]> {
  const plan = c.plan;
  const touching = new Map<string, Set<string>>();
  const touch = (key: string, label: string) => {
    const set = touching.get(key) ?? new Set<string>();
    set.add(label);
    touching.set(key, set);
  };
  for (const n of plan.nodes) {
    if (n.graph.depth !== 0 || n.mark.kind === 'passthrough') continue;
    for (const k of [...n.reads, ...n.writes]) { const root = plan.root(k)?.key; if (root !== undefined) touch(root, n.label); }
  }
  const watched = [...plan.tensors.values()].filter((t) => !t.alias && t.home.depth === 0 && t.producer && touching.has(t.key) && input.quantizer(t.key));
  const samples = input.samples.slice(0, NOISE_SAMPLES);
  const values = await runAll(input, dir, 'reference-inner.onnx', input.reference, [...new Set(watched.map((t) => t.name))], samples, false);
  const out: { key: string; nsr: number; nodes: string[] }[] = [];
  for (const t of watched) {
    const fq = input.quantizer(t.key)!;
    const lo = t.clamp?.min ?? -Infinity, hi = t.clamp?.max ?? Infinity;
    let ee: Float64Array | undefined, yy: Float64Array | undefined;
    for (const sample of values) {
      const x = sample.get(t.name);
      if (!x) continue;
      const d = x.dims;
      const channels = d.length === 4 ? d[1] : d.length ? d[d.length - 1] : 1;
      const inner = d.length === 4 ? d[2] * d[3] : 1;
      if (!ee || ee.length !== channels) { ee = new Float64Array(channels); yy = new Float64Array(channels); }
      for (let i = 0; i < x.data.length; i++) {
        const ch = Math.floor(i / inner) % channels;
        const v = Math.min(hi, Math.max(lo, x.data[i])), e = fq(v) - v;
        ee[ch] += e * e; yy![ch] += v * v;
      }
    }
    if (!ee || !yy) continue;
    let sum = 0, n = 0;
    for (let ch = 0; ch < ee.length; ch++) if (yy[ch] > 0) { sum += Math.min(1, ee[ch] / yy[ch]); n++; }
    if (n) out.push({ key: t.key, nsr: sum / n, nodes: [...touching.get(t.key)!] });
  }
  return out.sort((a, b) => b.nsr - a.nsr);
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
