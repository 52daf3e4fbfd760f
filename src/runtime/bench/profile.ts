// onnxruntime's profile (session option enableProfiling: a Chrome trace of JSON events) summarised: the
// kernel time per run of each node and of each op type of the graph it ran, and, under a GPU provider,
// the nodes that ran on the CPU all the same.
import * as fs from 'node:fs';
import type { BenchProfile, NodeTime, OpTypeTime, SourceNodeTime } from '../../protocol/bench';

interface TraceEvent { cat?: string; name?: string; ts?: number; dur?: number; args?: { op_name?: string; provider?: string } }

const KERNEL = '_kernel_time';

/** The summary of the trace in `file`, over `runs` profiled runs; `provider` is the one asked for. */
export function readProfile(file: string, runs: number, provider: string, graph?: SourceGraph): BenchProfile {
  return summariseProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as TraceEvent[], runs, provider, graph);
}

/** What of the model's own graph the profile's node names are matched against. */
export interface SourceGraph {
  names: ReadonlySet<string>;
  /** Tensor name -> the node that computes it. */
  producer: ReadonlyMap<string, { name: string; opType: string; input: string }>;
}

/** How far back from a fused activation's output the op that the kernel runs is looked for (Conv -> BatchNorm -> Relu). */
const FUSED_DEPTH = 3;

/**
 * The node of the model's graph a node of onnxruntime's optimized graph came from. onnxruntime names what
 * it fuses or rewrites after the node it starts from (`conv1/MatMulAddFusion`, `p2o.Conv.58_token_232`)
 * or, for its NCHWc layout, after the output tensor (`relu_1.tmp_0_nchwc`, the output of a Relu fused into
 * a Conv: then the Conv that feeds it, `opType` the kernel's). Null for the nodes it adds (reorders).
 */
export function sourceNode(name: string, opType: string, graph: SourceGraph): string | null {
  const viaTensor = (tensor: string): string | null => {
    let p = graph.producer.get(tensor);
    const first = p?.name ?? null;
    for (let depth = 0; p && depth < FUSED_DEPTH; depth++) {
      if (p.opType === opType) return p.name;
      p = graph.producer.get(p.input);
    }
    return first;
  };
  if (graph.names.has(name)) return name;
  if (graph.producer.has(name)) return viaTensor(name);
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/' && name[i] !== '_') continue;
    const head = name.slice(0, i);
    if (graph.names.has(head)) return head;
    if (graph.producer.has(head)) return viaTensor(head);
  }
  return null;
}

/**
 * Kernel times per run over `runs` runs. When the trace holds one `model_run` more than `runs`, the first
 * run's events are dropped: it pays one-time costs (memory arenas growing, a GPU provider's algorithm search).
 */
export function summariseProfile(events: TraceEvent[], runs: number, provider: string, graph: SourceGraph = { names: new Set(), producer: new Map() }): BenchProfile {
  const modelRuns = events.filter((e) => e.cat === 'Session' && e.name === 'model_run' && typeof e.ts === 'number').sort((a, b) => a.ts! - b.ts!);
  const after = modelRuns.length === runs + 1 ? modelRuns[0].ts! + (modelRuns[0].dur ?? 0) : -Infinity;
  const byNode = new Map<string, NodeTime>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith(KERNEL) || typeof e.dur !== 'number') continue;
    if ((e.ts ?? 0) < after) continue;
    const node = e.name.slice(0, -KERNEL.length);
    const opType = e.args?.op_name ?? '?';
    const t = byNode.get(node) ?? { node, opType, ms: 0, provider: e.args?.provider ?? '?', source: sourceNode(node, opType, graph) };
    t.ms += e.dur / 1000 / runs;
    byNode.set(node, t);
  }
  const nodes = [...byNode.values()].sort((a, b) => b.ms - a.ms);
  const kernelMs = nodes.reduce((s, n) => s + n.ms, 0);
  const ops = new Map<string, OpTypeTime>();
  for (const n of nodes) {
    const o = ops.get(n.opType) ?? { opType: n.opType, ms: 0, share: 0, nodes: 0 };
    o.ms += n.ms; o.nodes++;
    ops.set(n.opType, o);
  }
  const byOpType = [...ops.values()].map((o) => ({ ...o, share: kernelMs > 0 ? o.ms / kernelMs : 0 })).sort((a, b) => b.ms - a.ms);
  const cpuNodes = provider === 'cpu' ? [] : nodes.filter((n) => n.provider === 'CPUExecutionProvider');
  const sources = new Map<string, SourceNodeTime>();
  for (const n of nodes) {
    if (!n.source) continue;
    const s = sources.get(n.source) ?? { node: n.source, ms: 0, kernels: [], providers: [] };
    s.ms += n.ms;
    s.kernels.push({ opType: n.opType, ms: n.ms });
    if (!s.providers.includes(n.provider)) s.providers.push(n.provider);
    sources.set(n.source, s);
  }
  const bySource = [...sources.values()].sort((a, b) => b.ms - a.ms);
  return { runs, kernelMs, byOpType, byNode: nodes, bySource, cpuNodes };
}
