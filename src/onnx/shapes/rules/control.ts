// Subgraph ops (If, Loop, Scan: outputs from their bodies), recurrent layers, and quantize/dequantize.
import { DataType } from '../../dtype';
import { attr, intAttr, intsAttr, stringAttr } from '../../nodeAttributes';
import { normalizeAxis, unifyDim, unifyShapes, type Dim } from '../dims';
import type { NodeContext, ShapeRule, ValueShape } from '../types';
import { BOOL, FLOAT, INT64, sameAs, shapeOf } from './common';

/** The branch the condition takes where it is known; else both branches' outputs, the dims they agree on. */
function ifRule(cx: NodeContext): ValueShape[] {
  const a = cx.subgraph('then_branch', []) ?? [], b = cx.subgraph('else_branch', []) ?? [];
  const n = (cx.node.output ?? []).length;
  const cond = cx.numbers(0);
  if (cond?.length === 1) return Array.from({ length: n }, (_, i) => (cond[0] ? a[i] : b[i]) ?? shapeOf(undefined, null));
  return Array.from({ length: n }, (_, i) => {
    const x = a[i], y = b[i];
    if (!x || !y) return shapeOf(x?.dtype ?? y?.dtype, null);
    return shapeOf(x.dtype ?? y.dtype, x.shape && y.shape && x.shape.length === y.shape.length ? x.shape.map((d, j) => (d === y.shape![j] ? d : null)) : null);
  });
}

/**
 * Loop(M, cond, v...): the body takes (iteration, cond, v...) and gives (cond, v'..., scan...); the node
 * gives the final v (their shapes as far as each iteration keeps them) and each scan output stacked on a
 * new first axis of unknown length.
 */
function loop(cx: NodeContext): ValueShape[] {
  const carried = (cx.node.input ?? []).slice(2).map((_, i) => cx.input(i + 2));
  const body = cx.subgraph('body', [shapeOf(INT64, []), shapeOf(BOOL, []), ...carried]) ?? [];
  const n = (cx.node.output ?? []).length;
  return Array.from({ length: n }, (_, i) => {
    if (i < carried.length) {
      const init = carried[i], next = body[i + 1];
      return shapeOf(init?.dtype ?? next?.dtype, init?.shape && next?.shape ? unifyShapes(init.shape, next.shape) : null);
    }
    const s = body[i + 1];
    return shapeOf(s?.dtype, s?.shape ? [null, ...s.shape] : null);
  });
}

/** Scan: state variables keep their shapes; scan inputs lose the scan axis in the body, scan outputs gain it. */
function scan(cx: NodeContext): ValueShape[] {
  const ins = (cx.node.input ?? []).map((_, i) => cx.input(i));
  const nScan = intAttr(cx.node, 'num_scan_inputs', 0);
  const nState = ins.length - nScan;
  const inAxes = intsAttr(cx.node, 'scan_input_axes') ?? Array(nScan).fill(0);
  let length: Dim = null;
  const bodyInputs = ins.map((x, i) => {
    if (i < nState || !x?.shape) return x;
    const a = normalizeAxis(inAxes[i - nState], x.shape.length) ?? 0;
    length = unifyDim(length, x.shape[a]);
    return shapeOf(x.dtype, x.shape.filter((_, j) => j !== a));
  });
  const body = cx.subgraph('body', bodyInputs) ?? [];
  const outAxes = intsAttr(cx.node, 'scan_output_axes');
  return (cx.node.output ?? []).map((_, i) => {
    const s = body[i];
    if (i < nState) return shapeOf(ins[i]?.dtype ?? s?.dtype, ins[i]?.shape ?? s?.shape ?? null);
    if (!s?.shape) return shapeOf(s?.dtype, null);
    const a = normalizeAxis(outAxes?.[i - nState] ?? 0, s.shape.length + 1) ?? 0;
    const out = [...s.shape];
    out.splice(a, 0, length);
    return shapeOf(s.dtype, out);
  });
}

/** LSTM/GRU/RNN: Y [seq, directions, batch, hidden] and Y_h (and Y_c) [directions, batch, hidden]; batch-first with layout 1. */
function recurrent(cx: NodeContext): ValueShape[] {
  const x = cx.input(0);
  const dtype = x?.dtype;
  const hidden = intAttr(cx.node, 'hidden_size', 0) || null;
  const dirs = stringAttr(cx.node, 'direction', 'forward') === 'bidirectional' ? 2 : 1;
  const batchFirst = intAttr(cx.node, 'layout', 0) === 1;
  const [seq, batch] = x?.shape?.length === 3 ? (batchFirst ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]]) : [null, null];
  const y = batchFirst ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden];
  const state = batchFirst ? [batch, dirs, hidden] : [dirs, batch, hidden];
  return [shapeOf(dtype, y), shapeOf(dtype, state), shapeOf(dtype, state)];
}

export const controlRules: Record<string, ShapeRule> = {
  If: ifRule,
  Loop: loop,
  Scan: scan,
  LSTM: recurrent,
  GRU: recurrent,
  RNN: recurrent,
  // The quantized type is the zero point's (or output_dtype's), uint8 without either.
  QuantizeLinear: (cx) => [sameAs(cx, 0, cx.has(2) ? cx.input(2)?.dtype : intAttr(cx.node, 'output_dtype', 0) || DataType.UINT8)],
  DequantizeLinear: (cx) => [sameAs(cx, 0, attr(cx.node, 'output_dtype') ? intAttr(cx.node, 'output_dtype', FLOAT) : cx.input(1)?.dtype ?? FLOAT)],
  DynamicQuantizeLinear: (cx) => [sameAs(cx, 0, DataType.UINT8), shapeOf(FLOAT, []), shapeOf(DataType.UINT8, [])],
};

export const microsoftControlRules: Record<string, ShapeRule> = {
  DynamicQuantizeLSTM: recurrent,
  QuantizeLinear: controlRules.QuantizeLinear,
  DequantizeLinear: (cx) => [sameAs(cx, 0, cx.input(1)?.dtype ?? FLOAT)],
};
