// Where the time goes, drawn over the model's graph (the model editor's overlays): each node of the model
// coloured by the kernel time per run of what onnxruntime made of it (its fused or rewritten nodes summed),
// from onnxruntime's profile. Pure: the extension builds it from a benchmark's result.
import type { BenchRun } from '../../protocol/bench';
import type { NodeOverlay } from '../../protocol/webview';

const ms = (x: number) => `${x < 0.01 ? x.toFixed(4) : x < 1 ? x.toFixed(3) : x.toFixed(2)} ms`;

/** The time overlay of `run`; undefined without a profile. */
export function timeOverlay(run: BenchRun): NodeOverlay | undefined {
  const p = run.profile;
  if (!p) return undefined;
  const bySource = new Map<string, { ms: number; kernels: string[]; provider: Set<string> }>();
  for (const n of p.byNode) {
    if (!n.source) continue;
    const s = bySource.get(n.source) ?? { ms: 0, kernels: [], provider: new Set<string>() };
    s.ms += n.ms;
    s.kernels.push(`${n.opType} ${ms(n.ms)}`);
    s.provider.add(n.provider.replace(/ExecutionProvider$/, ''));
    bySource.set(n.source, s);
  }
  const nodes = [...bySource].map(([name, s]) => ({
    name, value: s.ms,
    lines: [
      { label: 'Time per run', value: ms(s.ms) },
      { label: 'Share', value: `${((100 * s.ms) / (p.kernelMs || 1)).toFixed(1)}%` },
      { label: 'Kernels', value: s.kernels.join(', ') },
      { label: 'Ran on', value: [...s.provider].join(', ') },
    ],
  })).sort((a, b) => b.value - a.value);
  const max = Math.max(0, ...nodes.map((n) => n.value));
  return {
    title: `Kernel time per run on ${run.provider.used} (onnxruntime's profile of ${p.runs} runs)`,
    label: 'Time', unit: 'ms', min: 0, max: max > 0 ? max : 1, nodes,
  };
}
