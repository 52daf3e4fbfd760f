// Conv with a constant weight [M, C/group, k...]: ConvInteger takes the same attributes; the bias becomes
// an Add after the rescale. Weights are uint8: onnxruntime's CPU ConvInteger takes uint8 x uint8, and only
// a per-tensor weight zero point.
import { OpQuantizer, type MarkContext, type Verdict } from './base';

export class ConvQuantizer extends OpQuantizer {
  mark(ctx: MarkContext): Verdict {
    const { node, editor, graph } = ctx;
    const problem = this.activationProblem(ctx, 0);
    if (problem) return { skip: problem };
    const w = this.weight(ctx, 1, 'conv');
    if ('skip' in w) return w;
    const bName = node.input?.[2];
    let bias;
    if (bName) {
      const b = editor.constant(bName, graph);
      if ('reason' in b) return { skip: `bias "${bName}" ${b.reason}` };
      if (b.dims.length !== 1 || b.dims[0] !== w.dims[0]) return { skip: `bias "${bName}" has shape [${b.dims.join(', ')}], not [${w.dims[0]}]` };
      bias = { name: bName, const: b, factor: 1 };
    }
    const attributes = (node.attribute ?? []).filter((a) => ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'].includes(a.name ?? ''));
    return { mark: { pattern: 'conv-integer', input: node.input![0], weight: { const: w, transpose: false, factor: 1 }, bias, attributes } };
  }
}
