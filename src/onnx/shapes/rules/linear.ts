// MatMul and Gemm, convolutions and pooling (the output size arithmetic of kernel, stride, dilation,
// padding and auto_pad), and their quantized forms (integer kernels, QLinear*, onnxruntime's contrib ops).
import { DataType } from '../../dtype';
import { intAttr, intsAttr, stringAttr } from '../../nodeAttributes';
import { broadcast, isKnown, type Dim } from '../dims';
import type { NodeContext, ShapeRule, ValueShape } from '../types';
import { FLOAT, sameAs } from './common';

/** numpy matmul: 1-D operands get a dim added and removed again; the batch dims broadcast. */
export function matmulShape(a: Dim[] | null | undefined, b: Dim[] | null | undefined): Dim[] | null {
  if (!a || !b || !a.length || !b.length) return null;
  const A = a.length === 1 ? [1, a[0]] : a, B = b.length === 1 ? [b[0], 1] : b;
  const batch = broadcast([A.slice(0, -2), B.slice(0, -2)]);
  if (!batch) return null;
  const out = [...batch, ...(a.length === 1 ? [] : [A[A.length - 2]]), ...(b.length === 1 ? [] : [B[B.length - 1]])];
  return out;
}

function gemmShape(cx: NodeContext, a: number, b: number): Dim[] | null {
  const A = cx.input(a)?.shape, B = cx.input(b)?.shape;
  const m = A && A.length === 2 ? A[intAttr(cx.node, 'transA', 0) ? 1 : 0] : null;
  const n = B && B.length === 2 ? B[intAttr(cx.node, 'transB', 0) ? 0 : 1] : null;
  return [m, n];
}

/** One spatial output size (onnxruntime's pool and conv arithmetic, ceil_mode included). */
function outputSize(input: Dim, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number, autoPad: string, ceil: boolean): Dim {
  if (!isKnown(input)) return null;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(input / stride);
  const pads = autoPad === 'VALID' ? 0 : padBegin + padEnd;
  const span = dilation * (kernel - 1) + 1;
  if (!ceil) return Math.floor((input + pads - span) / stride) + 1;
  let out = Math.ceil((input + pads - span) / stride) + 1;
  // The last window must start inside the input or its leading pad.
  if ((out - 1) * stride >= input + (autoPad === 'VALID' ? 0 : padBegin)) out--;
  return out;
}

/** [N, C_out, spatial...] of a convolution or a pooling of `x` with `kernel` (per spatial axis). */
function windowed(cx: NodeContext, x: Dim[] | null | undefined, channels: Dim, kernel: (number | undefined)[] | undefined, ceil: boolean): Dim[] | null {
  if (!x || x.length < 3) return null;
  const spatial = x.length - 2;
  const k = kernel ?? [];
  if (k.length !== spatial || k.some((v) => v === undefined)) return [x[0], channels, ...Array(spatial).fill(null)];
  const strides = intsAttr(cx.node, 'strides') ?? Array(spatial).fill(1);
  const dilations = intsAttr(cx.node, 'dilations') ?? Array(spatial).fill(1);
  const pads = intsAttr(cx.node, 'pads') ?? Array(spatial * 2).fill(0);
  const autoPad = stringAttr(cx.node, 'auto_pad', 'NOTSET');
  return [x[0], channels, ...x.slice(2).map((d, i) => outputSize(d, k[i]!, strides[i] ?? 1, dilations[i] ?? 1, pads[i] ?? 0, pads[i + spatial] ?? 0, autoPad, ceil))];
}

/** A convolution with data input `xi` and weight input `wi`. */
function convShape(cx: NodeContext, xi: number, wi: number): Dim[] | null {
  const w = cx.input(wi)?.shape;
  const kernel = intsAttr(cx.node, 'kernel_shape') ?? w?.slice(2).map((d) => (isKnown(d) ? d : undefined));
  return windowed(cx, cx.input(xi)?.shape, w ? w[0] : null, kernel, false);
}

function convTransposeShape(cx: NodeContext): Dim[] | null {
  const x = cx.input(0)?.shape, w = cx.input(1)?.shape;
  if (!x || x.length < 3) return null;
  const spatial = x.length - 2;
  const group = intAttr(cx.node, 'group', 1);
  const channels = w && isKnown(w[1]) ? w[1] * group : null;
  const given = intsAttr(cx.node, 'output_shape');
  if (given) return [x[0], channels, ...given.slice(-spatial)];
  const kernel = intsAttr(cx.node, 'kernel_shape') ?? w?.slice(2).map((d) => (isKnown(d) ? d : NaN));
  const strides = intsAttr(cx.node, 'strides') ?? Array(spatial).fill(1);
  const dilations = intsAttr(cx.node, 'dilations') ?? Array(spatial).fill(1);
  const outPad = intsAttr(cx.node, 'output_padding') ?? Array(spatial).fill(0);
  const pads = intsAttr(cx.node, 'pads') ?? Array(spatial * 2).fill(0);
  const autoPad = stringAttr(cx.node, 'auto_pad', 'NOTSET');
  return [x[0], channels, ...x.slice(2).map((d, i) => {
    const k = kernel?.[i];
    if (!isKnown(d) || k === undefined || Number.isNaN(k)) return null;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return d * strides[i];
    return strides[i] * (d - 1) + outPad[i] + (k - 1) * dilations[i] + 1 - pads[i] - pads[i + spatial];
  })];
}

function poolShape(cx: NodeContext, xi = 0): Dim[] | null {
  const x = cx.input(xi)?.shape;
  return windowed(cx, x, x ? x[1] : null, intsAttr(cx.node, 'kernel_shape'), intAttr(cx.node, 'ceil_mode', 0) === 1);
}

function globalPool(x: Dim[] | null | undefined, channelsLast = false): Dim[] | null {
  if (!x || x.length < 3) return null;
  return channelsLast ? [x[0], ...x.slice(1, -1).map(() => 1), x[x.length - 1]] : [x[0], x[1], ...x.slice(2).map(() => 1)];
}

/** The dtype of a quantized output: its zero point's, else uint8. */
const zpType = (cx: NodeContext, i: number) => (cx.has(i) ? cx.input(i)?.dtype : DataType.UINT8);

const out = (dtype: number | undefined, shape: Dim[] | null): ValueShape => ({ dtype, shape });

export const linearRules: Record<string, ShapeRule> = {
  MatMul: (cx) => [out(cx.input(0)?.dtype, matmulShape(cx.input(0)?.shape, cx.input(1)?.shape))],
  MatMulInteger: (cx) => [out(DataType.INT32, matmulShape(cx.input(0)?.shape, cx.input(1)?.shape))],
  QLinearMatMul: (cx) => [out(zpType(cx, 7), matmulShape(cx.input(0)?.shape, cx.input(3)?.shape))],
  Gemm: (cx) => [out(cx.input(0)?.dtype, gemmShape(cx, 0, 1))],
  Conv: (cx) => [out(cx.input(0)?.dtype, convShape(cx, 0, 1))],
  ConvInteger: (cx) => [out(DataType.INT32, convShape(cx, 0, 1))],
  QLinearConv: (cx) => [out(zpType(cx, 7), convShape(cx, 0, 3))],
  ConvTranspose: (cx) => [out(cx.input(0)?.dtype, convTransposeShape(cx))],
  MaxPool: (cx) => { const s = poolShape(cx); return [out(cx.input(0)?.dtype, s), out(DataType.INT64, s)]; },
  AveragePool: (cx) => [out(cx.input(0)?.dtype, poolShape(cx))],
  LpPool: (cx) => [out(cx.input(0)?.dtype, poolShape(cx))],
  GlobalAveragePool: (cx) => [out(cx.input(0)?.dtype, globalPool(cx.input(0)?.shape))],
  GlobalMaxPool: (cx) => [out(cx.input(0)?.dtype, globalPool(cx.input(0)?.shape))],
  GlobalLpPool: (cx) => [out(cx.input(0)?.dtype, globalPool(cx.input(0)?.shape))],
};

/** onnxruntime's com.microsoft ops that our quantizer writes or its optimizer leaves in saved models. */
export const microsoftLinearRules: Record<string, ShapeRule> = {
  // Quantized output when y_scale (input 7) is given: y_zero_point's type (input 8), uint8 without one.
  QGemm: (cx) => [out(cx.has(7) ? zpType(cx, 8) : FLOAT, gemmShape(cx, 0, 3))],
  QLinearAdd: (cx) => [out(zpType(cx, 7), broadcast([cx.input(0)?.shape, cx.input(3)?.shape]))],
  QLinearMul: (cx) => [out(zpType(cx, 7), broadcast([cx.input(0)?.shape, cx.input(3)?.shape]))],
  QLinearSigmoid: (cx) => [sameAs(cx)],
  QLinearLeakyRelu: (cx) => [sameAs(cx)],
  QLinearSoftmax: (cx) => [sameAs(cx)],
  QLinearGlobalAveragePool: (cx) => [out(cx.input(0)?.dtype, globalPool(cx.input(0)?.shape, intAttr(cx.node, 'channels_last', 0) === 1))],
  QLinearAveragePool: (cx) => [out(cx.input(0)?.dtype, poolShape(cx))],
  QLinearConv: linearRules.QLinearConv,
  FusedConv: linearRules.Conv,
  FusedGemm: linearRules.Gemm,
  FusedMatMul: (cx) => {
    const t = (s: Dim[] | null | undefined, flag: string) => (s && s.length >= 2 && intAttr(cx.node, flag, 0) ? [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]] : s);
    return [out(cx.input(0)?.dtype, matmulShape(t(cx.input(0)?.shape, 'transA'), t(cx.input(1)?.shape, 'transB')))];
  },
  MatMulNBits: (cx) => {
    const a = cx.input(0)?.shape;
    return [out(cx.input(0)?.dtype, a && a.length ? [...a.slice(0, -1), intAttr(cx.node, 'N', 0) || null] : null)];
  },
  MatMulIntegerToFloat: (cx) => [out(FLOAT, matmulShape(cx.input(0)?.shape, cx.input(1)?.shape))],
  DynamicQuantizeMatMul: (cx) => [out(FLOAT, matmulShape(cx.input(0)?.shape, cx.input(1)?.shape))],
};
