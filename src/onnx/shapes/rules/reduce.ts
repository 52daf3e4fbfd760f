// Reductions (the reduced axes kept as 1 or dropped), ArgMax/ArgMin, and normalizations with statistics outputs.
import { attr, intAttr, intsAttr } from '../../nodeAttributes';
import { normalizeAxis, type Dim } from '../dims';
import type { NodeContext, ShapeRule, ValueShape } from '../types';
import { FLOAT, INT64, sameAs, shapeOf } from './common';

const REDUCE = ['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'];

function reduced(x: Dim[], axes: number[] | undefined, keep: boolean): Dim[] {
  const set = new Set((axes ?? x.map((_, i) => i)).map((a) => normalizeAxis(a, x.length)));
  return keep ? x.map((d, i) => (set.has(i) ? 1 : d)) : x.filter((_, i) => !set.has(i));
}

function reduce(cx: NodeContext): ValueShape {
  const x = cx.input(0);
  if (!x?.shape) return shapeOf(x?.dtype, null);
  const fromInput = cx.node.op_type === 'ReduceSum' ? cx.opset >= 13 : cx.opset >= 18;
  const keep = intAttr(cx.node, 'keepdims', 1) === 1;
  let axes: number[] | undefined;
  if (fromInput) {
    if (cx.has(1)) {
      axes = cx.numbers(1);
      if (!axes) return shapeOf(x.dtype, keep ? x.shape.map(() => null) : null); // axes computed at run time
    }
    if ((!axes || !axes.length) && intAttr(cx.node, 'noop_with_empty_axes', 0) === 1) return shapeOf(x.dtype, x.shape);
  } else axes = intsAttr(cx.node, 'axes');
  return shapeOf(x.dtype, reduced(x.shape, axes && axes.length ? axes : undefined, keep));
}

function argReduce(cx: NodeContext): ValueShape {
  const x = cx.input(0)?.shape;
  if (!x) return shapeOf(INT64, null);
  return shapeOf(INT64, reduced(x, [intAttr(cx.node, 'axis', 0)], intAttr(cx.node, 'keepdims', 1) === 1));
}

/** Y, and the mean and inverse standard deviation over the normalized axes (kept as 1). */
function layerNorm(cx: NodeContext): ValueShape[] {
  const x = cx.input(0);
  const stats = x?.shape ? x.shape.map((d, i) => (i >= (normalizeAxis(intAttr(cx.node, 'axis', -1), x.shape!.length) ?? 0) ? 1 : d)) : null;
  const stash = attr(cx.node, 'stash_type') ? intAttr(cx.node, 'stash_type', FLOAT) : FLOAT;
  return [sameAs(cx), shapeOf(stash, stats), shapeOf(stash, stats)];
}

export const reduceRules: Record<string, ShapeRule> = {
  ...Object.fromEntries(REDUCE.map((op) => [op, (cx: NodeContext) => [reduce(cx)]])),
  ArgMax: (cx) => [argReduce(cx)],
  ArgMin: (cx) => [argReduce(cx)],
  LayerNormalization: layerNorm,
  // Y; in training mode the running mean and variance (and, before opset 14, the saved ones), per channel.
  BatchNormalization: (cx) => [sameAs(cx), sameAs(cx, 3), sameAs(cx, 4), sameAs(cx, 3), sameAs(cx, 4)],
};

export const microsoftReduceRules: Record<string, ShapeRule> = {
  LayerNormalization: layerNorm,
  SimplifiedLayerNormalization: (cx) => [sameAs(cx)],
  SkipLayerNormalization: (cx) => [sameAs(cx), shapeOf(FLOAT, null), shapeOf(FLOAT, null), sameAs(cx)],
  SkipSimplifiedLayerNormalization: (cx) => [sameAs(cx), shapeOf(FLOAT, null), shapeOf(FLOAT, null), sameAs(cx)],
};

