// Calibration: run the model on representative inputs and record the range of every activation that static
// quantization will quantize. One base class does the parts every method shares: select the tensors,
// augment a copy of the model so that each of them is a graph output (through the If nodes that hold
// subgraphs, when a tensor lives in a branch), and collect from an async iterable of input feeds; the
// subclasses keep their statistics (MinMax: running extremes; Percentile and Entropy: running histograms)
// and turn them into ranges. Memory does not grow with the number of samples.
//
// Pure core: the model is run through a CalibrationRunner that src/runtime/ implements with onnxruntime.
import { DataType } from '../../onnx/dtype';
import { node as makeNode, tensor as makeTensor, valueInfo } from '../../onnx/builder';
import type { GraphInfo, Model } from '../../onnx/model';
import type { AttributeProto, GraphProto, ModelProto, NodeProto } from '../../onnx/proto';
import { QuantizeError } from '../errors';
import type { CalibrationMethod } from '../options';
import { entropyRange, finiteMinMax, percentileRange, RunningHistogram } from './histogram';

/** A tensor as onnxruntime takes and gives it (ort.Tensor has this shape). */
export interface FeedTensor { readonly type: string; readonly data: unknown; readonly dims: readonly number[] }
export type Feeds = Record<string, FeedTensor>;

export interface CalibrationSession {
  /** Runs one sample and returns the named outputs. */
  run(feeds: Feeds, fetches: string[]): Promise<Record<string, FeedTensor>>;
  release(): Promise<void>;
}

/** Opens a model file for calibration runs (src/runtime/calibration.ts: onnxruntime-node). */
export interface CalibrationRunner {
  /**
   * `deployed`: with every graph optimization, as the model will run (Q/DQ fused into int8 kernels);
   * otherwise basic optimizations only, so that the values asked for stay as the graph computes them.
   */
  open(file: string, options?: { deployed?: boolean }): Promise<CalibrationSession>;
}

/** A value to observe: its name and the graph that defines it. `key` identifies it in the results. */
export interface CalibrationTarget { key: string; name: string; graph: GraphInfo }

/** The key of a value: the path of the graph that defines it and its name. */
export function valueKey(graphPath: string, name: string): string {
  return `${graphPath}::${name}`;
}

export interface TensorRange { min: number; max: number }

export interface AugmentedModel {
  model: Model;
  /** Graph output name -> target key. */
  fetches: Map<string, string>;
  /** Targets that cannot be exposed (inside a Loop or Scan body), with the reason. */
  unreachable: Map<string, string>;
}

export interface CollectOptions {
  /** Stop after this many samples. */
  maxSamples?: number;
  /** Called after each sample. */
  onSample?: (done: number) => void;
  /** Abandon the job. */
  signal?: AbortSignal;
}

export abstract class Calibrator {
  private targets: CalibrationTarget[] = [];
  /** Samples in which each key was seen (a tensor in an If branch is seen only when the branch runs). */
  readonly seen = new Map<string, number>();
  samples = 0;

  abstract readonly method: CalibrationMethod;

  /** The tensors to observe. */
  select(targets: CalibrationTarget[]): void {
    this.targets = [...new Map(targets.map((t) => [t.key, t])).values()];
  }

  get selected(): readonly CalibrationTarget[] { return this.targets; }

  /**
   * A copy of `model` whose main graph outputs every selected tensor. Tensors in If branches are passed
   * out through the If node: the branch outputs them (through an Identity), the other branch outputs an
   * empty tensor, and the If node gets an output for each. The original model is not modified (the copy
   * shares its tensors).
   */
  augment(model: Model): AugmentedModel {
    const copy = model.withProto(cloneStructure(model.proto));
    const byPath = new Map(copy.graphs().map((g) => [g.path, g]));
    const taken = new Set<string>();
    for (const { node, graph } of copy.nodes()) {
      taken.add(node.name ?? '');
      for (const x of [...(node.input ?? []), ...(node.output ?? [])]) taken.add(x);
      for (const v of [...(graph.graph.input ?? []), ...(graph.graph.output ?? [])]) taken.add(v.name ?? '');
    }
    const unique = (base: string) => { let n = base, i = 0; while (taken.has(n)) n = `${base}_${++i}`; taken.add(n); return n; };

    // Values to pass out of each graph: [name in that graph, target key].
    const pending = new Map<GraphInfo, [string, string][]>();
    const unreachable = new Map<string, string>();
    for (const t of this.targets) {
      const g = byPath.get(t.graph.path);
      if (!g) { unreachable.set(t.key, `graph ${t.graph.path} not found`); continue; }
      const list = pending.get(g) ?? [];
      list.push([t.name, t.key]);
      pending.set(g, list);
    }
    const fetches = new Map<string, string>();
    const graphs = [...copy.graphs()].sort((a, b) => b.depth - a.depth);
    const doneIf = new Set<NodeProto>();
    for (const g of graphs) {
      if (g.depth === 0) continue;
      const owner = g.ownerNode!;
      if (doneIf.has(owner)) continue;
      const parent = g.parent!;
      if (owner.op_type !== 'If' || (owner.domain ?? '') !== '') {
        for (const [, key] of pending.get(g) ?? []) unreachable.set(key, `it is inside a ${owner.op_type} body, which calibration cannot expose`);
        continue;
      }
      doneIf.add(owner);
      const branches = (owner.attribute ?? []).filter((a) => a.g && (a.name === 'then_branch' || a.name === 'else_branch'));
      const lists = branches.map((a) => pending.get(graphs.find((x) => x.graph === a.g)!) ?? []);
      if (lists.every((l) => l.length === 0)) continue;
      const outs: [string, string][] = [];
      branches.forEach((_a, bi) => {
        for (const [name, key] of lists[bi]) {
          const ifOut = unique(`${name}_calibration`);
          branches.forEach((b, bj) => {
            const body = b.g!;
            const out = unique(`${name}_calibration_out`);
            if (bi === bj) body.node!.push(makeNode('Identity', [name], [out], {}, unique(`${out}_Identity`)));
            else body.node = [...(body.node ?? []), makeNode('Constant', [], [out], { value: makeTensor(unique(`${out}_empty`), DataType.FLOAT, [0], new Float32Array(0)) }, unique(`${out}_Constant`))];
            body.output = [...(body.output ?? []), valueInfo(out, DataType.FLOAT, null)];
          });
          owner.output = [...(owner.output ?? []), ifOut];
          outs.push([ifOut, key]);
        }
      });
      const list = pending.get(parent) ?? [];
      list.push(...outs);
      pending.set(parent, list);
    }
    const main = graphs.find((g) => g.depth === 0)!;
    const existing = new Set((main.graph.output ?? []).map((v) => v.name ?? ''));
    for (const [name, key] of pending.get(main) ?? []) {
      if (!existing.has(name)) {
        main.graph.output = [...(main.graph.output ?? []), valueInfo(name, DataType.FLOAT, null)];
        existing.add(name);
      }
      fetches.set(name, key);
    }
    return { model: model.withProto(copy.proto), fetches, unreachable };
  }

  /**
   * Runs every sample of `feeds` through `file` (the augmented model) and observes the fetched tensors.
   * Returns the number of samples.
   */
  async collect(runner: CalibrationRunner, file: string, fetches: Map<string, string>, feeds: AsyncIterable<Feeds> | Iterable<Feeds>, options: CollectOptions = {}): Promise<number> {
    const names = [...fetches.keys()];
    const session = await runner.open(file);
    try {
      for await (const sample of feeds) {
        if (options.signal?.aborted) throw new QuantizeError('cancelled', 'calibration was cancelled');
        if (options.maxSamples !== undefined && this.samples >= options.maxSamples) break;
        const out = await session.run(sample, names);
        for (const [name, key] of fetches) {
          const t = out[name];
          if (!t || t.type !== 'float32') continue;
          const data = t.data as Float32Array;
          if (data.length === 0) continue; // the branch that holds it did not run
          this.observeTensor(key, data, t.dims);
          this.seen.set(key, (this.seen.get(key) ?? 0) + 1);
        }
        this.samples++;
        options.onSample?.(this.samples);
      }
    } finally {
      await session.release();
    }
    return this.samples;
  }

  /** Adds one sample's values of the tensor `key`. */
  protected abstract observe(key: string, data: Float32Array): void;

  /** Adds one sample's values with their dims (for statistics per channel); by default `observe`. */
  protected observeTensor(key: string, data: Float32Array, _dims: readonly number[]): void {
    this.observe(key, data);
  }

  /** The range of every tensor that was seen at least once. */
  abstract ranges(): Map<string, TensorRange>;
}

export class MinMaxCalibrator extends Calibrator {
  readonly method = 'minmax' as const;
  private readonly stats = new Map<string, TensorRange>();

  protected observe(key: string, data: Float32Array): void {
    const { min, max } = finiteMinMax(data);
    if (!(min <= max)) return;
    const s = this.stats.get(key);
    if (!s) this.stats.set(key, { min, max });
    else { s.min = Math.min(s.min, min); s.max = Math.max(s.max, max); }
  }

  ranges(): Map<string, TensorRange> {
    return new Map([...this.stats].map(([k, v]) => [k, { ...v }]));
  }
}

/**
 * Per-channel abs-max: for each selected tensor, the running max |x| of every channel along one axis
 * (SmoothQuant's statistic). `axes` gives the axis per key (negative counts from the end; default -1).
 */
export class ChannelAbsMaxCalibrator extends Calibrator {
  readonly method = 'minmax' as const;
  private readonly stats = new Map<string, Float64Array>();

  constructor(private readonly axes: ReadonlyMap<string, number> = new Map()) { super(); }

  protected observe(key: string, data: Float32Array): void {
    this.observeTensor(key, data, [data.length]);
  }

  protected override observeTensor(key: string, data: Float32Array, dims: readonly number[]): void {
    if (!dims.length) return;
    const a = this.axes.get(key) ?? -1;
    const axis = a < 0 ? dims.length + a : a;
    if (axis < 0 || axis >= dims.length) return;
    const C = dims[axis];
    const inner = dims.slice(axis + 1).reduce((x, y) => x * y, 1);
    const outer = C * inner === 0 ? 0 : data.length / (C * inner);
    let m = this.stats.get(key);
    if (!m) { m = new Float64Array(C); this.stats.set(key, m); }
    if (m.length !== C) return; // a tensor whose channel count changes between samples is not per-channel
    for (let o = 0; o < outer; o++) for (let c = 0; c < C; c++) {
      let v = m[c];
      const start = (o * C + c) * inner;
      for (let i = start; i < start + inner; i++) { const x = Math.abs(data[i]); if (x > v && Number.isFinite(x)) v = x; }
      m[c] = v;
    }
  }

  /** max |x| per channel of `key`, or undefined when it was never seen. */
  channels(key: string): Float64Array | undefined {
    const m = this.stats.get(key);
    return m ? Float64Array.from(m) : undefined;
  }

  ranges(): Map<string, TensorRange> {
    const out = new Map<string, TensorRange>();
    for (const [k, m] of this.stats) { let v = 0; for (const x of m) v = Math.max(v, x); out.set(k, { min: -v, max: v }); }
    return out;
  }
}

/** Percentile and Entropy: one running histogram per tensor. */
export abstract class HistogramCalibrator extends Calibrator {
  protected readonly histograms = new Map<string, RunningHistogram>();

  constructor(protected readonly bins = 4096) { super(); }

  protected observe(key: string, data: Float32Array): void {
    let h = this.histograms.get(key);
    if (!h) { h = new RunningHistogram(this.bins); this.histograms.set(key, h); }
    h.add(data);
  }

  /** The histogram of a tensor (for reports and tests). */
  histogram(key: string): RunningHistogram | undefined { return this.histograms.get(key); }
}

export class PercentileCalibrator extends HistogramCalibrator {
  readonly method = 'percentile' as const;
  constructor(readonly percentile = 99.999, readonly symmetric = false, bins = 4096) { super(bins); }

  ranges(): Map<string, TensorRange> {
    const out = new Map<string, TensorRange>();
    for (const [k, h] of this.histograms) if (h.total > 0) out.set(k, percentileRange(h, this.percentile, this.symmetric));
    return out;
  }
}

export class EntropyCalibrator extends HistogramCalibrator {
  readonly method = 'entropy' as const;
  /** `levels`: integer levels of the activation type (256 for 8 bits). */
  constructor(readonly levels = 256, readonly symmetric = false, bins = 4096) { super(bins); }

  ranges(): Map<string, TensorRange> {
    const out = new Map<string, TensorRange>();
    for (const [k, h] of this.histograms) if (h.total > 0) out.set(k, entropyRange(h, Math.min(this.levels, h.bins), this.symmetric));
    return out;
  }
}

export function makeCalibrator(method: CalibrationMethod, o: { percentile: number; symmetric: boolean; levels: number }): Calibrator {
  switch (method) {
    case 'minmax': return new MinMaxCalibrator();
    case 'percentile': return new PercentileCalibrator(o.percentile, o.symmetric);
    case 'entropy': return new EntropyCalibrator(o.levels, o.symmetric);
  }
}

/** A copy of the model's graph structure (opset imports, graphs, nodes, value infos); tensors and attributes without graphs are shared. */
export function cloneStructure(m: ModelProto): ModelProto {
  const graph = (g: GraphProto): GraphProto => ({
    ...g,
    node: (g.node ?? []).map(node),
    input: [...(g.input ?? [])], output: [...(g.output ?? [])], initializer: [...(g.initializer ?? [])],
  });
  const attribute = (a: AttributeProto): AttributeProto => (a.g || a.graphs?.length ? { ...a, ...(a.g ? { g: graph(a.g) } : {}), ...(a.graphs?.length ? { graphs: a.graphs.map(graph) } : {}) } : a);
  const node = (n: NodeProto): NodeProto => ({ ...n, input: [...(n.input ?? [])], output: [...(n.output ?? [])], attribute: (n.attribute ?? []).map(attribute) });
  return { ...m, opset_import: (m.opset_import ?? []).map((o) => ({ ...o })), graph: m.graph ? graph(m.graph) : m.graph };
}
