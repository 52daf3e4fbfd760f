// The layer error of a comparison as a figure per node of the quantized model's graph (the model
// editor's heat map): each node coloured by the largest SQNR drop of the tensors it computes, from 0 dB
// (none) to the worst drop, with its figures for the side panel. Pure: the extension builds it.
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
