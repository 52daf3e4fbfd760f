// Before static quantization: BatchNormalization after a Conv is folded into the Conv's weight and bias
// (W' = W * gamma / sqrt(var + eps) per output channel, b' = (b - mean) * gamma / sqrt(var + eps) + beta),
// and an Add of a per-channel constant after a Conv into its bias, as onnxruntime does in float at load
// time. Quantized, the Conv's weights are behind a DequantizeLinear
// and onnxruntime can no longer fold: the BatchNormalization would stay, in float, between the Conv and
// the QuantizeLinear its fusion needs, and the int8 weights would carry the unscaled range.
import { DataType } from '../../onnx/dtype';
import { tensor } from '../../onnx/builder';
import type { Model } from '../../onnx/model';
import type { NodeProto } from '../../onnx/proto';
import { floatAttr, type ConstRef, type ModelEditor } from '../graph';

export interface FoldedIntoConv { node: string; opType: 'BatchNormalization' | 'Add'; conv: string }

/** Folds every foldable Conv -> BatchNormalization and Conv -> Add(per-channel constant) in every graph. */
export function foldIntoConv(model: Model, editor: ModelEditor): { folded: FoldedIntoConv[]; replaced: string[] } {
  const folded: FoldedIntoConv[] = [];
  const replaced: string[] = [];
  const uses = editor.useCounts();
  for (const info of model.graphs()) {
    const g = info.graph;
    // Folding moves a BatchNormalization's or an Add's output onto the Conv: the Add pass asks for it there.
    const moved = new Map<string, NodeProto>();
    const producer = (x: string) => moved.get(x) ?? editor.producerIn(x, info);
    const remove = new Set<NodeProto>();
    for (const bn of g.node ?? []) {
      if (bn.op_type !== 'BatchNormalization' || (bn.domain ?? '') !== '') continue;
      if ((bn.output ?? []).slice(1).some((o) => o && (uses.get(o) ?? 0) > 0)) continue; // training outputs in use
      const x = bn.input?.[0] ?? '';
      const conv = producer(x);
      if (!conv || conv.op_type !== 'Conv' || (conv.domain ?? '') !== '' || remove.has(conv)) continue;
      if ((uses.get(x) ?? 0) !== 1 || editor.isGraphOutput(x, info)) continue;
      const consts = [conv.input?.[1], ...(bn.input ?? []).slice(1, 5)].map((name) => (name ? editor.constant(name, info) : { reason: 'absent' }));
      if (consts.some((c) => 'reason' in c || c.ref.dtype !== DataType.FLOAT)) continue;
      const [w, scale, bias, mean, variance] = consts as ConstRef[];
      const M = w.dims[0];
      if ([scale, bias, mean, variance].some((c) => c.dims.length !== 1 || c.dims[0] !== M)) continue;
      let b: ConstRef | undefined;
      if (conv.input?.[2]) {
        const c = editor.constant(conv.input[2], info);
        if ('reason' in c || c.ref.dtype !== DataType.FLOAT || c.dims.length !== 1 || c.dims[0] !== M) continue;
        b = c;
      }
      const eps = floatAttr(bn, 'epsilon', 1e-5);
      const wv = w.ref.values() as Float32Array, sv = scale.ref.values(), bv = bias.ref.values(), mv = mean.ref.values(), vv = variance.ref.values();
      const cb = b ? b.ref.values() : new Float32Array(M);
      const per = wv.length / M;
      const newW = new Float32Array(wv.length), newB = new Float32Array(M);
      for (let m = 0; m < M; m++) {
        const k = sv[m] / Math.sqrt(vv[m] + eps);
        for (let i = m * per; i < (m + 1) * per; i++) newW[i] = wv[i] * k;
        newB[m] = (cb[m] - mv[m]) * k + bv[m];
      }
      const label = conv.name || conv.output?.[0] || 'Conv';
      const wName = editor.uniqueName(`${w.sourceName}_bn_folded`), bName = editor.uniqueName(`${label}_bias_bn_folded`);
      (g.initializer ??= []).push(tensor(wName, DataType.FLOAT, w.dims, newW), tensor(bName, DataType.FLOAT, [M], newB));
      editor.invalidate(info); // the Add pass reads the new bias as a constant (a Conv -> BN -> Add chain)
      replaced.push(conv.input![1], ...(conv.input?.[2] ? [conv.input[2]] : []), ...(bn.input ?? []).slice(1));
      conv.input = [conv.input![0], wName, bName];
      conv.output = [bn.output![0]];
      remove.add(bn);
      moved.set(bn.output![0], conv);
      folded.push({ node: bn.name || bn.output![0], opType: 'BatchNormalization', conv: label });
    }
    // Conv -> Add(constant [1, M, 1, ...] or [M, 1, ...] or one value): the constant joins the bias.
    for (const add of g.node ?? []) {
      if (add.op_type !== 'Add' || (add.domain ?? '') !== '' || remove.has(add) || (add.input ?? []).length !== 2) continue;
      const side = [0, 1].find((i) => producer(add.input![i])?.op_type === 'Conv');
      if (side === undefined) continue;
      const y = add.input![side];
      const conv = producer(y)!;
      if ((conv.domain ?? '') !== '' || (uses.get(y) ?? 0) !== 1 || editor.isGraphOutput(y, info) || conv.output?.length !== 1) continue;
      const c = editor.constant(add.input![1 - side], info);
      const w = conv.input?.[1] ? editor.constant(conv.input[1], info) : { reason: 'absent' };
      if ('reason' in c || 'reason' in w || c.ref.dtype !== DataType.FLOAT) continue;
      const M = w.dims[0], rank = w.dims.length;
      const dims = [...Array(Math.max(0, rank - c.dims.length)).fill(1), ...c.dims];
      const perChannel = dims.length === rank && dims.every((d, i) => d === (i === 1 ? M : 1));
      if (!(c.ref.elements === 1 && c.dims.length <= rank) && !perChannel) continue;
      let b: Float32Array | Float64Array = new Float32Array(M);
      if (conv.input?.[2]) {
        const cb = editor.constant(conv.input[2], info);
        if ('reason' in cb || cb.ref.dtype !== DataType.FLOAT || cb.dims.length !== 1 || cb.dims[0] !== M) continue;
        b = cb.ref.values();
        replaced.push(conv.input[2]);
      }
      const cv = c.ref.values();
      const newB = new Float32Array(M);
      for (let m = 0; m < M; m++) newB[m] = b[m] + cv[c.ref.elements === 1 ? 0 : m];
      const label = conv.name || conv.output?.[0] || 'Conv';
      const bName = editor.uniqueName(`${label}_bias_add_folded`);
      (g.initializer ??= []).push(tensor(bName, DataType.FLOAT, [M], newB));
      editor.invalidate(info);
      replaced.push(add.input![1 - side]);
      conv.input = [conv.input![0], conv.input![1], bName];
      conv.output = [add.output![0]];
      remove.add(add);
      moved.set(add.output![0], conv);
      folded.push({ node: add.name || add.output![0], opType: 'Add', conv: label });
    }
    if (remove.size) g.node = g.node!.filter((n) => !remove.has(n));
    editor.invalidate(info);
  }
  return { folded, replaced };
}
