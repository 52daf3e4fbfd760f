// The seam between "what to quantize" and "how": one small class per op family looks at a node and
// either marks it (which input is the activation, which constant is the weight and how it is laid out,
// what bias follows) or says why it stays in float. It computes nothing and edits nothing: the pass
// (pass.ts) computes the parameters and rewrites the graph for every mark.
import { DataType, dtypeName } from '../../onnx/dtype';
import type { GraphInfo } from '../../onnx/model';
import type { AttributeProto, NodeProto } from '../../onnx/proto';
import type { ConstRef, ModelEditor } from '../graph';
import type { ResolvedOptions } from '../options';

/** How a marked node is rewritten. */
export type Pattern =
  /** DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul (x_scale * w_scale) [-> Add bias] */
  | 'matmul-integer'
  /** DynamicQuantizeLinear -> ConvInteger (uint8 weights) -> Cast -> Mul [-> Add bias] */
  | 'conv-integer'
  /** com.microsoft MatMulNBits (block-wise 4/8-bit weights) [-> Add bias] */
  | 'matmul-nbits'
  /** com.microsoft DynamicQuantizeLSTM (int8 W and R, transposed to [directions, size, 4 x hidden]) */
  | 'dynamic-lstm';

export interface WeightUse {
  const: ConstRef;
  /** The stored matrix is [N, K] (Gemm transB = 1) and is used transposed. */
  transpose: boolean;
  /** A factor folded into the weight's scales (Gemm alpha). */
  factor: number;
}

export interface BiasUse {
  /** The value added after the product (a constant or a computed tensor). */
  name: string;
  const?: ConstRef;
  /** A factor the constant bias is multiplied by first (Gemm beta). */
  factor: number;
}

export interface Mark {
  pattern: Pattern;
  /** The float activation input. */
  input: string;
  weight: WeightUse;
  /** An LSTM's second weight, R. */
  recurrent?: WeightUse;
  bias?: BiasUse;
  /** Attributes carried over to the integer op (Conv's strides, pads, group, ...). */
  attributes?: AttributeProto[];
}

export type Verdict = { mark: Mark } | { skip: string };

export interface MarkContext {
  node: NodeProto;
  graph: GraphInfo;
  editor: ModelEditor;
  options: ResolvedOptions;
}

export abstract class OpQuantizer {
  /** Marks `ctx.node` for quantization or says why it stays in float. */
  abstract mark(ctx: MarkContext): Verdict;

  /** The node's constant weight at `index` (see constantWeight). */
  protected weight(ctx: MarkContext, index: number, rank: 2 | 'conv'): ConstRef | { skip: string } {
    return constantWeight(ctx, index, rank);
  }

  /** Why the activation input cannot be the dynamically quantized side, or undefined when it can. */
  protected activationProblem(ctx: MarkContext, index: number): string | undefined {
    const name = ctx.node.input?.[index];
    if (!name) return 'has no activation input';
    const c = ctx.editor.constant(name, ctx.graph);
    if (!('reason' in c)) return `both inputs are constants ("${name}" too); fold the node instead of quantizing it`;
    return undefined;
  }
}

/** A node's constant weight at `index`, checked to be a float32 tensor of `rank` dims (any rank >= 3
 *  when rank is 'conv'), or why it cannot be quantized. Shared by the dynamic and the QDQ quantizers. */
export function constantWeight(ctx: { node: NodeProto; graph: GraphInfo; editor: ModelEditor }, index: number, rank: 2 | 'conv'): ConstRef | { skip: string } {
  const name = ctx.node.input?.[index];
  if (!name) return { skip: 'has no weight input' };
  const c = ctx.editor.constant(name, ctx.graph);
  if ('reason' in c) return { skip: `weight "${name}" ${c.reason}` };
  if (c.ref.dtype !== DataType.FLOAT) return { skip: `weight "${name}" is ${dtypeName(c.ref.dtype)}; only float32 weights are quantized` };
  if (rank === 2 && c.dims.length !== 2) return { skip: `weight "${name}" has shape [${c.dims.join(', ')}]; only 2-D weights are quantized` };
  if (rank === 'conv' && c.dims.length < 3) return { skip: `weight "${name}" has shape [${c.dims.join(', ')}]; a Conv weight needs at least 3 dims` };
  if (c.dims.some((d) => d === 0)) return { skip: `weight "${name}" is empty` };
  return c;
}
