// Which kind of quantization suits a model, from what it contains: the "Quantize Model…" choices are
// ordered by it, and a choice that would quantize nothing says so before anything runs.
import type { Model } from '../onnx/model';
import type { ModeAdvice, QuantizeAdvice } from '../protocol/quantize';
import { ModelEditor } from './graph';
import { resolveOptions } from './options';
import { previewMode } from './preview';

/**
 * A MatMul weight of this many elements or more is LLM-sized (2048 x 2048): there, memory bandwidth for
 * the weights dominates and 4-bit weights (MatMulNBits) pay most.
 */
export const LARGE_MATMUL = 2048 * 2048;

export function adviseModes(model: Model): QuantizeAdvice {
  const count = (mode: 'dynamic' | 'static' | 'weight-only'): ModeAdvice => {
    const p = previewMode(model, resolveOptions({ mode }));
    return { mode, count: p.count, byOp: p.byOp, why: '' };
  };
  const dynamic = count('dynamic'), stat = count('static'), weightOnly = count('weight-only');
  const lstm = dynamic.byOp.LSTM ?? 0, conv = stat.byOp.Conv ?? 0;
  const matmuls = (dynamic.byOp.MatMul ?? 0) + (dynamic.byOp.Gemm ?? 0);
  const largest = largestMatMulWeight(model);
  let order: ModeAdvice[];
  let why: string;
  if (lstm > 0) {
    order = [dynamic, stat, weightOnly];
    why = `${lstm} LSTM: dynamic int8 runs them as DynamicQuantizeLSTM, with no calibration`;
  } else if (conv > 0 && conv >= matmuls) {
    order = [stat, dynamic, weightOnly];
    why = `mostly Conv (${conv} Conv, ${matmuls} MatMul/Gemm): static int8 runs them in int8 kernels; dynamic leaves Conv in float`;
  } else if (matmuls > 0 && largest >= LARGE_MATMUL) {
    order = [weightOnly, dynamic, stat];
    why = `large MatMul weights (up to ${largest.toLocaleString('en-US')} values): 4-bit weights cut the memory their reads take`;
  } else if (matmuls > 0) {
    order = [dynamic, stat, weightOnly];
    why = `mostly MatMul/Gemm (${matmuls}${conv ? `, ${conv} Conv` : ''}): dynamic int8 needs no calibration and runs int8 kernels`;
  } else {
    order = [stat, dynamic, weightOnly];
    why = stat.count ? 'static int8 is the one kind that finds something to quantize here' : 'no kind of quantization finds anything to quantize in this model';
  }
  // A choice that finds nothing goes last, whatever the rule said; the reason belongs to the rule's pick.
  const pick = order[0];
  order = [...order.filter((m) => m.count > 0), ...order.filter((m) => m.count === 0)];
  order[0].why = order[0] === pick ? why : `${pick.mode} finds nothing to quantize here; ${order[0].mode} finds ${order[0].count} node${order[0].count === 1 ? '' : 's'}`;
  return { order, largestMatMul: largest };
}

function largestMatMulWeight(model: Model): number {
  const editor = new ModelEditor(model);
  let largest = 0;
  for (const info of model.graphs()) {
    for (const n of info.graph.node ?? []) {
      if ((n.domain ?? '') !== '' || (n.op_type !== 'MatMul' && n.op_type !== 'Gemm') || !n.input?.[1]) continue;
      const c = editor.constant(n.input[1], info);
      if (!('reason' in c)) largest = Math.max(largest, c.dims.reduce((a, b) => a * b, 1));
    }
  }
  return largest;
}
