// onnxruntime's profile (session option enableProfiling: a Chrome trace of JSON events) summarised: the
// kernel time per run of each node and of each op type of the graph it ran, and, under a GPU provider,
// the nodes that ran on the CPU all the same.
import * as fs from 'node:fs';
import type { BenchProfile, NodeTime, OpTypeTime } from '../../protocol/bench';

interface TraceEvent { cat?: string; name?: string; dur?: number; args?: { op_name?: string; provider?: string } }

const KERNEL = '_kernel_time';

/** The summary of the trace in `file`, over `runs` profiled runs; `provider` is the one asked for. */
export function readProfile(file: string, runs: number, provider: string, sourceNodes?: ReadonlySet<string>): BenchProfile {
  return summariseProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as TraceEvent[], runs, provider, sourceNodes);
}

/**
 * The node of the model's graph a node of onnxruntime's optimized graph came from: the same name, or the
 * longest name that it extends after "/" or "_" (onnxruntime names what it fuses or rewrites after the
 * node it starts from: `conv1/MatMulAddFusion`, `p2o.Conv.58_token_232`, `relu1_Output_0_nchwc`).
 */
export function sourceNode(name: string, sourceNodes: ReadonlySet<string>): string | null {
  if (sourceNodes.has(name)) return name;
  for (let i = name.length - 1; i > 0; i--) {
    if ((name[i] === '/' || name[i] === '_') && sourceNodes.has(name.slice(0, i))) return name.slice(0, i);
  }
  return null;
}

export function summariseProfile(events: TraceEvent[], runs: number, provider: string, sourceNodes: ReadonlySet<string> = new Set()): BenchProfile {
  const byNode = new Map<string, NodeTime>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith(KERNEL) || typeof e.dur !== 'number') continue;
    const node = e.name.slice(0, -KERNEL.length);
    const t = byNode.get(node) ?? { node, opType: e.args?.op_name ?? '?', ms: 0, provider: e.args?.provider ?? '?', source: sourceNode(node, sourceNodes) };
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
  return { runs, kernelMs, byOpType, byNode: nodes, cpuNodes };
}
