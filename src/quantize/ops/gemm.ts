// Gemm: Y = alpha * A' x B' + beta * C, rewritten as a product with a constant B plus an Add: alpha folds
// into the weight's scales, transB into a transposed copy of the weight, beta into a constant C.
import { floatAttr, intAttr } from '../graph';
import { OpQuantizer, type MarkContext, type Pattern, type Verdict } from './base';

export class GemmQuantizer extends OpQuantizer {
  constructor(private readonly pattern: Extract<Pattern, 'matmul-integer' | 'matmul-nbits'>) { super(); }

  mark(ctx: MarkContext): Verdict {
    const { node, editor, graph } = ctx;
    const alpha = floatAttr(node, 'alpha', 1), beta = floatAttr(node, 'beta', 1);
    if (intAttr(node, 'transA', 0) !== 0) return { skip: 'Gemm with transA = 1 is not rewritten (A would need a Transpose)' };
    if (!Number.isFinite(alpha) || alpha === 0) return { skip: `Gemm alpha is ${alpha}` };
    const problem = this.activationProblem(ctx, 0);
    if (problem) return { skip: problem };
    const w = this.weight(ctx, 1, 2);
    if ('skip' in w) return w;
    const transpose = intAttr(node, 'transB', 0) !== 0;
    const cName = node.input?.[2];
    let bias: { name: string; const?: typeof w; factor: number } | undefined;
    if (cName && beta !== 0) {
      const c = editor.constant(cName, graph);
      if ('reason' in c) {
        if (beta !== 1) return { skip: `Gemm beta is ${beta} and C "${cName}" is not a constant, so beta cannot be folded` };
        bias = { name: cName, factor: 1 };
      } else {
        const N = transpose ? w.dims[0] : w.dims[1];
        const last = c.dims[c.dims.length - 1];
        const fits = c.dims.length === 0 || (c.dims.length <= 2 && (last === N || last === 1));
        if (!fits) return { skip: `Gemm C "${cName}" has shape [${c.dims.join(', ')}], which does not broadcast over N = ${N}` };
        bias = { name: cName, const: c, factor: beta };
      }
    }
    return { mark: { pattern: this.pattern, input: node.input![0], weight: { const: w, transpose, factor: alpha }, bias } };
  }
}
