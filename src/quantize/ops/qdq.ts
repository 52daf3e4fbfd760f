// Static quantization in QDQ form: which inputs and outputs of a node get QuantizeLinear/DequantizeLinear.
// As for the dynamic classes (base.ts), these only mark; the static pass (static/plan.ts, static/emit.ts)
// calibrates, computes the parameters and rewrites. Three kinds, after onnxruntime's QDQ fusions:
//  - compute (Conv, MatMul, Gemm): activation input(s), a constant weight (int8 per tensor or per output
//    channel), an optional constant bias (int32, scale = x_scale * w_scale), and for Conv and MatMul the
//    output, which needs a Q for onnxruntime to fuse into QLinearConv / QLinearMatMul (without it MatMul
//    dequantizes its weights on every run and is slower than fp32); QGemm takes a float output;
//  - elementwise (Add, Mul, Concat, AveragePool, GlobalAveragePool, Sigmoid, Softmax, LeakyRelu): every
//    float input (constants quantized like activations) and the output: QLinearAdd, QLinearConcat, ...;
//  - passthrough (Reshape, Transpose, Squeeze, Unsqueeze, Flatten, MaxPool, Resize, Gather, Split, ...):
//    ops that only move data. They are quantized only when their input already is, and their outputs take
//    the input's scale and zero point (no new range, no requantization), so that onnxruntime can drop the
//    DequantizeLinear -> op -> QuantizeLinear around them and move int8 data.
import type { GraphInfo } from '../../onnx/model';
import type { NodeProto } from '../../onnx/proto';
import { floatAttr, intAttr, type ConstRef, type ModelEditor } from '../graph';
import type { ResolvedOptions } from '../options';
import type { ValueFactsIndex } from '../types';
import { constantWeight } from './base';
import { DataType, dtypeName } from '../../onnx/dtype';

export type QdqKind = 'compute' | 'elementwise' | 'passthrough';

export interface QdqWeight {
  index: number;
  const: ConstRef;
  /** The output-channel axis of the stored tensor (Conv 0, MatMul 1, Gemm transB ? 0 : 1). */
  axis: number;
}

export interface QdqMark {
  kind: QdqKind;
  /** Inputs (by index) that are float activations. */
  activations: number[];
  /** Constant float inputs of elementwise ops, quantized per tensor like activations. */
  constants: { index: number; const: ConstRef }[];
  weight?: QdqWeight;
  /** A constant 1-D bias (Conv input 2, Gemm C), quantized to int32 when bias quantization is on. */
  bias?: { index: number; const: ConstRef; factor: number };
  /** Outputs (by index) to quantize; for passthrough ops they share input 0's parameters. */
  outputs: number[];
}

export type QdqVerdict = { qdq: QdqMark } | { skip: string } | { ignore: true };

export interface QdqContext {
  node: NodeProto;
  graph: GraphInfo;
  editor: ModelEditor;
  options: ResolvedOptions;
  facts: ValueFactsIndex;
  /** How many node inputs and graph outputs read each value (ModelEditor.useCounts, computed once). */
  uses: Map<string, number>;
}

export abstract class QdqOpQuantizer {
  abstract readonly kind: QdqKind;
  abstract mark(ctx: QdqContext): QdqVerdict;

  /** A float activation input (not a constant, of type float), or why not. */
  protected activation(ctx: QdqContext, index: number): true | string {
    const name = ctx.node.input?.[index];
    if (!name) return `has no input ${index}`;
    const c = ctx.editor.constant(name, ctx.graph);
    if (!('reason' in c)) return `input "${name}" is a constant`;
    const type = ctx.facts.get(name, ctx.graph).type;
    if (type === undefined) return `the element type of input "${name}" is unknown`;
    if (type !== DataType.FLOAT) return `input "${name}" is ${dtypeName(type)}; only float32 activations are quantized`;
    return true;
  }

  protected floatOutput(ctx: QdqContext, index = 0): boolean {
    const name = ctx.node.output?.[index];
    return !!name && ctx.facts.get(name, ctx.graph).type === DataType.FLOAT;
  }

  /** The constant weight at `index` (see constantWeight). */
  protected weight(ctx: QdqContext, index: number, rank: 2 | 'conv'): ConstRef | { skip: string } {
    return constantWeight(ctx, index, rank);
  }

  /** A constant 1-D float bias of `length` elements at `index`, or why not. */
  protected bias(ctx: QdqContext, index: number, length: number): ConstRef | string | undefined {
    const name = ctx.node.input?.[index];
    if (!name) return undefined;
    const c = ctx.editor.constant(name, ctx.graph);
    if ('reason' in c) return `bias "${name}" ${c.reason}`;
    if (c.ref.dtype !== DataType.FLOAT) return `bias "${name}" is ${dtypeName(c.ref.dtype)}`;
    if (c.dims.length !== 1 || c.dims[0] !== length) return `bias "${name}" has shape [${c.dims.join(', ')}], not [${length}]`;
    return c;
  }
}

const mark = (m: Partial<QdqMark> & Pick<QdqMark, 'kind'>): QdqVerdict => ({ qdq: { activations: [], constants: [], outputs: [0], ...m } });

export class QdqConvQuantizer extends QdqOpQuantizer {
  readonly kind = 'compute' as const;
  mark(ctx: QdqContext): QdqVerdict {
    const a = this.activation(ctx, 0);
    if (a !== true) return { skip: a };
    const w = this.weight(ctx, 1, 'conv');
    if ('skip' in w) return w;
    const b = this.bias(ctx, 2, w.dims[0]);
    if (typeof b === 'string') return { skip: `${b}; only constant biases are quantized` };
    return mark({ kind: 'compute', activations: [0], weight: { index: 1, const: w, axis: 0 }, ...(b ? { bias: { index: 2, const: b, factor: 1 } } : {}) });
  }
}

export class QdqMatMulQuantizer extends QdqOpQuantizer {
  readonly kind = 'compute' as const;
  mark(ctx: QdqContext): QdqVerdict {
    const { node, editor, graph } = ctx;
    if ((node.input?.length ?? 0) !== 2) return { skip: 'MatMul needs exactly two inputs' };
    const a = this.activation(ctx, 0);
    const bConst = !('reason' in editor.constant(node.input![1], graph));
    if (a !== true) {
      if (!('reason' in editor.constant(node.input![0], graph)) && !bConst) return { skip: 'the constant is input A (W x X); only X x W with a constant B is quantized' };
      return { skip: a };
    }
    if (!bConst) {
      const b = this.activation(ctx, 1);
      if (b !== true) return { skip: b };
      return mark({ kind: 'compute', activations: [0, 1] });
    }
    const w = this.weight(ctx, 1, 2);
    if ('skip' in w) return w;
    return mark({ kind: 'compute', activations: [0], weight: { index: 1, const: w, axis: 1 } });
  }
}

export class QdqGemmQuantizer extends QdqOpQuantizer {
  readonly kind = 'compute' as const;
  mark(ctx: QdqContext): QdqVerdict {
    const { node } = ctx;
    const a = this.activation(ctx, 0);
    if (a !== true) return { skip: a };
    const w = this.weight(ctx, 1, 2);
    if ('skip' in w) return w;
    const transB = intAttr(node, 'transB', 0) !== 0;
    const N = transB ? w.dims[0] : w.dims[1];
    const beta = floatAttr(node, 'beta', 1);
    const cName = node.input?.[2];
    let bias: QdqMark['bias'];
    if (cName && beta !== 0) {
      const c = this.bias(ctx, 2, N);
      // A C that is not a constant [N] stays in float (onnxruntime then runs Gemm without QGemm).
      if (c && typeof c !== 'string') bias = { index: 2, const: c, factor: beta };
    }
    // No QuantizeLinear on the output: onnxruntime fuses DequantizeLinear -> Gemm into QGemm with a float
    // output, and the extra rounding would cost accuracy (an LSTM's gate pre-activations, for one).
    return mark({ kind: 'compute', activations: [0], weight: { index: 1, const: w, axis: transB ? 0 : 1 }, outputs: [], ...(bias ? { bias } : {}) });
  }
}

/** Add, Mul (two inputs), Concat (any number): every float input, constants quantized like activations. */
export class QdqElementwiseQuantizer extends QdqOpQuantizer {
  readonly kind = 'elementwise' as const;
  constructor(private readonly arity: number | 'variadic') { super(); }

  mark(ctx: QdqContext): QdqVerdict {
    const inputs = ctx.node.input ?? [];
    if (this.arity !== 'variadic' && inputs.length !== this.arity) return { skip: `has ${inputs.length} inputs, not ${this.arity}` };
    if (!this.floatOutput(ctx)) return { ignore: true };
    const activations: number[] = [], constants: QdqMark['constants'] = [];
    for (let i = 0; i < inputs.length; i++) {
      const c = ctx.editor.constant(inputs[i], ctx.graph);
      if (!('reason' in c)) {
        if (c.ref.dtype !== DataType.FLOAT) return { ignore: true };
        constants.push({ index: i, const: c });
        continue;
      }
      const a = this.activation(ctx, i);
      if (a !== true) return { skip: a };
      activations.push(i);
    }
    if (!activations.length) return { ignore: true }; // all constant: folded by onnxruntime
    return mark({ kind: 'elementwise', activations, constants });
  }
}

/** AveragePool, GlobalAveragePool, Sigmoid, Softmax, LeakyRelu: input 0 and the output. */
export class QdqUnaryQuantizer extends QdqOpQuantizer {
  readonly kind = 'elementwise' as const;
  mark(ctx: QdqContext): QdqVerdict {
    if ((ctx.node.output ?? []).filter(Boolean).length !== 1) return { skip: 'has more than one output' };
    const a = this.activation(ctx, 0);
    if (a !== true) return { skip: a };
    return mark({ kind: 'elementwise', activations: [0] });
  }
}

/** Ops that only move data: quantized when input 0 is, outputs sharing its parameters. */
export class QdqPassthroughQuantizer extends QdqOpQuantizer {
  readonly kind = 'passthrough' as const;
  mark(ctx: QdqContext): QdqVerdict {
    const { node } = ctx;
    const outs = (node.output ?? []);
    if (node.op_type === 'MaxPool' && outs[1] && (ctx.uses.get(outs[1]) ?? 0) > 0) return { ignore: true }; // the indices output is used
    if (this.activation(ctx, 0) !== true) return { ignore: true };
    const outputs = node.op_type === 'Split' ? outs.map((_, i) => i).filter((i) => outs[i]) : [0];
    return mark({ kind: 'passthrough', activations: [0], outputs });
  }
}

