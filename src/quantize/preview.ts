// What a mode would quantize in a model, found by marking alone (nothing is rewritten): a choice that
// would quantize nothing is refused before any work, naming a mode that would.
import type { Model } from '../onnx/model';
import { cloneStructure } from './calibrate/calibrator';
import { QuantizeError } from './errors';
import { ModelEditor } from './graph';
import { COMPUTE_OPS, QUANTIZED_LAYERS, RECURRENT_OPS } from './opTypes';
import { formatOpCounts as opList } from '../protocol/format';
import { resolveOptions, type QuantizeOptions, type ResolvedOptions } from './options';
import { markCandidates, prepareWeights } from './pass';
import { planStatic } from './static/plan';

export interface ModePreview {
  /** Nodes that would be rewritten, by op type. */
  byOp: Record<string, number>;
  count: number;
  /** Why the others were left (the first few reasons, with how many nodes each). */
  skipped: { reason: string; count: number }[];
}

/** What `o` would rewrite in `source`, found on a scratch copy: the model itself is not changed. */
export function previewMode(source: Model, o: ResolvedOptions): ModePreview {
  // A copy whose graphs can be edited (the tensors' data is shared, never written).
  const model = source.withProto(cloneStructure(source.proto));
  const editor = new ModelEditor(model);
  const labels: { op: string }[] = [];
  const reasons = new Map<string, number>();
  if (o.mode === 'static') {
    const plan = planStatic(model, editor, o);
    for (const n of plan.nodes) if (n.mark.kind !== 'passthrough') labels.push({ op: n.node.op_type ?? '' });
    for (const s of plan.skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
  } else {
    prepareWeights(model, editor, o);
    const m = markCandidates(model, o, editor);
    for (const c of m.candidates) labels.push({ op: c.node.op_type ?? '' });
    for (const s of m.skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
  }
  const byOp: Record<string, number> = {};
  for (const l of labels) byOp[l.op] = (byOp[l.op] ?? 0) + 1;
  return { byOp, count: labels.length, skipped: [...reasons].map(([reason, count]) => ({ reason, count })) };
}


/** The other choices worth naming when one finds nothing, as a user would type them. */
const ALTERNATIVES: { flags: string; options: QuantizeOptions }[] = [
  { flags: '--mode dynamic', options: { mode: 'dynamic' } },
  { flags: '--mode static', options: { mode: 'static' } },
  { flags: '--mode weight-only', options: { mode: 'weight-only' } },
  { flags: '--mode dynamic --op-types Conv,MatMul,Gemm', options: { mode: 'dynamic', opTypes: ['Conv', 'MatMul', 'Gemm'] } },
];

/**
 * Throws QuantizeError('nothing-to-quantize') when `o` would rewrite no node of `model`: what the mode
 * found, and which other mode (same name filters) would quantize how much. Returns the preview otherwise.
 */
export function assertSomethingToQuantize(model: Model, o: ResolvedOptions): ModePreview {
  const mine = previewMode(model, o);
  if (mine.count > 0) return mine;
  const quantizedLayers = new Map<string, number>();
  for (const { node: n } of model.nodes()) if (QUANTIZED_LAYERS.has(n.op_type ?? '')) quantizedLayers.set(n.op_type!, (quantizedLayers.get(n.op_type!) ?? 0) + 1);
  const floatSkips = mine.skipped.filter((s) => !s.reason.startsWith('already quantized'));
  const handled = o.mode === 'static' ? COMPUTE_OPS : o.opTypes.filter((t) => !RECURRENT_OPS.includes(t) || t === 'LSTM');
  const why = floatSkips.length
    ? `every candidate was left in float: ${floatSkips.slice(0, 3).map((s) => `${s.count} ${s.reason}`).join('; ')}`
    : quantizedLayers.size ? `it is already quantized (${opList(Object.fromEntries(quantizedLayers))})`
      : `the model has no ${handled.slice(0, -1).join(', ')}${handled.length > 1 ? ' or ' : ''}${handled[handled.length - 1]} node${o.mode === 'static' ? '' : ' with a constant weight'}`;
  const others: string[] = [];
  for (const alt of ALTERNATIVES) {
    const ao = resolveOptions({ ...alt.options, include: o.include, exclude: o.exclude });
    if (ao.mode === o.mode && ao.opTypes.join() === o.opTypes.join()) continue;
    const p = previewMode(model, ao);
    if (p.count > 0) others.push(`${alt.flags} would quantize ${p.count} node${p.count === 1 ? '' : 's'} (${opList(p.byOp)})`);
  }
  const modeName = o.mode === 'static' ? `static ${o.format === 'qdq' ? 'QDQ' : 'QOperator'}` : o.mode;
  const advice = others.length ? others.join('; ')
    : floatSkips.length ? 'no other mode would quantize them either: change what left them in float'
      : quantizedLayers.size ? 'quantize its float source instead'
        : 'no other mode would either: the model has no Conv, MatMul or Gemm node with weights to quantize';
  throw new QuantizeError('nothing-to-quantize', `nothing to quantize in ${modeName} mode: ${why}; ${advice}. Nothing was written`);
}
