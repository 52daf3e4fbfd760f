// Recurrent layers in dynamic mode. LSTM becomes onnxruntime's com.microsoft DynamicQuantizeLSTM (int8 W
// and R, the input quantized at run time); GRU and RNN have no such kernel and stay in float, with the
// reason in the report.
import { DataType, dtypeName } from '../../onnx/dtype';
import { intAttr } from '../graph';
import { OpQuantizer, type MarkContext, type Verdict } from './base';

export class LstmQuantizer extends OpQuantizer {
  mark(ctx: MarkContext): Verdict {
    const { node } = ctx;
    if (intAttr(node, 'layout', 0) !== 0) return { skip: 'LSTM with layout = 1 (batch first): DynamicQuantizeLSTM takes the sequence-first layout only' };
    const problem = this.activationProblem(ctx, 0);
    if (problem) return { skip: problem };
    const w = recurrentWeight(ctx, 1), r = recurrentWeight(ctx, 2);
    if ('skip' in w) return w;
    if ('skip' in r) return r;
    return {
      mark: {
        pattern: 'dynamic-lstm', input: node.input![0],
        weight: { const: w, transpose: false, factor: 1 }, recurrent: { const: r, transpose: false, factor: 1 },
        attributes: (node.attribute ?? []).filter((a) => a.name !== 'layout'),
      },
    };
  }
}

/** GRU and RNN: marked only to say why they stay in float. */
export class RecurrentInFloat extends OpQuantizer {
  mark(ctx: MarkContext): Verdict {
    return { skip: `${ctx.node.op_type} stays in float: onnxruntime has a dynamically quantized kernel for LSTM only (DynamicQuantizeLSTM)` };
  }
}

/** W [directions, 4 x hidden, input] or R [directions, 4 x hidden, hidden]: a float32 constant of rank 3. */
function recurrentWeight(ctx: MarkContext, index: number) {
  const name = ctx.node.input?.[index];
  if (!name) return { skip: 'has no weight input' };
  const c = ctx.editor.constant(name, ctx.graph);
  if ('reason' in c) return { skip: `weight "${name}" ${c.reason}` };
  if (c.ref.dtype !== DataType.FLOAT) return { skip: `weight "${name}" is ${dtypeName(c.ref.dtype)}; only float32 weights are quantized` };
  if (c.dims.length !== 3 || c.dims.some((d) => d === 0)) return { skip: `weight "${name}" has shape [${c.dims.join(', ')}]; an LSTM weight is [directions, 4 x hidden, size]` };
  return c;
}
