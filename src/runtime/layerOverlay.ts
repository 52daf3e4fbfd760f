// A comparison drawn over the quantized model's graph (the model editor's overlays): the layer error, each
// node coloured by the largest SQNR drop of the tensors it computes from 0 dB (none) to the worst drop,
// with its figures for the side panel; and the graph diff, each node coloured by what quantization made
// of it, the FP32 nodes it no longer has listed. Pure: the extension builds them.
import type { CompareResult } from '../protocol/compare';
import type { NodeOverlay } from '../protocol/webview';
import { formatFigure } from './compare';

const base = (file: string) => file.split(/[\\/]/).pop() ?? file;

/** The overlay of `result` (compared with layers) on the graph of its model B; undefined without layers. */
export function layerOverlay(result: CompareResult): NodeOverlay | undefined {
  const layers = result.layers;
  if (!layers) return undefined;
  const byNode = new Map<string, NodeOverlay['nodes'][number]>();
  for (const l of layers.layers) {
    const prior = byNode.get(l.node);
    if (prior && prior.value >= l.sqnrDropDb) continue;
    byNode.set(l.node, {
      name: l.node, value: Number.isFinite(l.sqnrDropDb) ? l.sqnrDropDb : 0,
      lines: [
        { label: 'SQNR drop', value: formatFigure(l.sqnrDropDb, 'sqnrDb') },
        { label: 'SQNR', value: formatFigure(l.sqnrDb, 'sqnrDb') },
        { label: 'Cosine', value: formatFigure(l.cosine, 'cosine') },
        { label: 'Max abs error', value: formatFigure(l.maxAbs, 'maxAbs') },
        ...(l.weightSqnrDb !== undefined ? [{ label: 'Weight SQNR', value: formatFigure(l.weightSqnrDb, 'sqnrDb') }] : []),
        { label: 'Tensor', value: l.tensor === l.fp32Tensor ? l.tensor : `${l.tensor} (FP32 ${l.fp32Tensor})` },
        ...(l.inputs.length ? [{ label: 'Measured from', value: l.inputs.join(', ') }] : []),
      ],
    });
  }
  const nodes = [...byNode.values()].sort((x, y) => y.value - x.value);
  const worst = Math.max(0, ...nodes.map((n) => n.value));
  return {
    title: `SQNR drop against ${base(result.a.file)} (${layers.samples} sample${layers.samples === 1 ? '' : 's'})`,
    label: 'SQNR drop', unit: 'dB', min: 0, max: worst > 0 ? worst : 1, nodes,
  };
}

/** The colours of the graph diff (VS Code's chart colours, readable on light and dark themes). */
const DIFF_CATEGORIES: { status: 'quantized' | 'float' | 'added'; label: string; colour: string }[] = [
  { status: 'quantized', label: 'quantized', colour: 'rgba(56, 158, 92, 0.75)' },
  { status: 'float', label: 'left in float', colour: 'rgba(209, 154, 38, 0.8)' },
  { status: 'added', label: 'added by quantization', colour: 'rgba(59, 125, 216, 0.6)' },
];

/** The graph diff of `result` (compared with layers) over B's graph; undefined without layers. */
export function diffOverlay(result: CompareResult): NodeOverlay | undefined {
  const d = result.layers?.diff;
  if (!d) return undefined;
  return {
    title: `Against ${base(result.a.file)}: ${d.counts.quantized} quantized, ${d.counts.float} left in float, ${d.counts.added} added, ${d.counts.removed} gone${d.counts.inSubgraphs ? `; ${d.counts.inSubgraphs} quantized inside subgraphs (not drawn here)` : ''}`,
    label: 'Quantization', unit: '', min: 0, max: 1,
    categories: DIFF_CATEGORIES.map((c) => ({ label: c.label, colour: c.colour })),
    nodes: d.nodes.map((n) => ({
      name: n.name, value: 1, category: DIFF_CATEGORIES.findIndex((c) => c.status === n.status),
      lines: [{ label: 'Quantization', value: DIFF_CATEGORIES.find((c) => c.status === n.status)!.label }, { label: 'Why', value: n.detail }],
    })),
    absent: d.removed.map((r) => ({ name: r.name, opType: r.opType, detail: r.detail })),
  };
}

/** Every overlay a comparison gives (the layer error first), those with something to draw. */
export function layerOverlays(result: CompareResult): NodeOverlay[] {
  return [layerOverlay(result), diffOverlay(result)].filter((o): o is NodeOverlay => !!o && o.nodes.length > 0);
}
