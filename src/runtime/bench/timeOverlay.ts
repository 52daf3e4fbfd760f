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
  const nodes = p.bySource.map((s) => ({
    name: s.node, value: s.ms,
    lines: [
      { label: 'Time per run', value: ms(s.ms) },
      { label: 'Share', value: `${((100 * s.ms) / (p.kernelMs || 1)).toFixed(1)}%` },
      { label: 'Kernels', value: s.kernels.map((k) => `${k.opType} ${ms(k.ms)}`).join(', ') },
      { label: 'Ran on', value: s.providers.map((x) => x.replace(/ExecutionProvider$/, '')).join(', ') },
    ],
  }));
  const max = Math.max(0, ...nodes.map((n) => n.value));
  return {
    title: `Kernel time per run on ${run.provider.used} (onnxruntime's profile of ${p.runs} runs)`,
    label: 'Time', unit: 'ms', min: 0, max: max > 0 ? max : 1, nodes, additive: true,
  };
}
