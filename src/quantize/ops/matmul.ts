// MatMul with a constant 2-D B: Y = A x B, B [K, N] (N output features).
import { OpQuantizer, type MarkContext, type Pattern, type Verdict } from './base';

export class MatMulQuantizer extends OpQuantizer {
  constructor(private readonly pattern: Extract<Pattern, 'matmul-integer' | 'matmul-nbits'>) { super(); }

  mark(ctx: MarkContext): Verdict {
    const { node, editor, graph } = ctx;
    if ((node.input?.length ?? 0) !== 2) return { skip: 'MatMul needs exactly two inputs' };
    const a = editor.constant(node.input![0], graph);
    if (!('reason' in a) && 'reason' in editor.constant(node.input![1], graph)) {
      return { skip: 'the constant is input A (W x X); only X x W with a constant B is quantized' };
    }
    const problem = this.activationProblem(ctx, 0);
    if (problem) return { skip: problem };
    const w = this.weight(ctx, 1, 2);
    if ('skip' in w) return w;
    return { mark: { pattern: this.pattern, input: node.input![0], weight: { const: w, transpose: false, factor: 1 } } };
  }
}
