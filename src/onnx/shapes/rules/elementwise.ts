// Ops whose output has the shape of an input (unary maps, activations, normalizations that keep the
// shape), and the broadcasting ops. Shapes being computed pass through the integer arithmetic.
import { intAttr } from '../../nodeAttributes';
import { broadcast, dimAdd, dimDiv, dimMul, dimSub, type Dim } from '../dims';
import type { NodeContext, ShapeRule, ValueShape } from '../types';
import { DataType } from '../../dtype';
import { BOOL, MAX_VALUE_ELEMENTS, sameAs } from './common';

const FLOATS = new Set<number>([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16]);

const UNARY = [
  'Abs', 'Acos', 'Acosh', 'Asin', 'Asinh', 'Atan', 'Atanh', 'BitwiseNot', 'Ceil', 'Celu', 'Clip', 'Cos', 'Cosh', 'CumSum', 'Elu', 'Erf',
  'Exp', 'Floor', 'Gelu', 'HardSigmoid', 'HardSwish', 'Hardmax', 'Identity', 'InstanceNormalization', 'LeakyRelu', 'Log', 'LogSoftmax',
  'LpNormalization', 'LRN', 'MeanVarianceNormalization', 'Mish', 'Neg', 'Reciprocal', 'Relu', 'ReverseSequence', 'Round', 'Selu',
  'Shrink', 'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Softmax', 'Softplus', 'Softsign', 'Sqrt', 'Tan', 'Tanh', 'ThresholdedRelu', 'Trilu',
  'ScatterND', 'ScatterElements', 'Scatter', 'GroupNormalization', 'RMSNormalization', 'Bernoulli', 'EyeLike', 'RandomNormalLike',
  'RandomUniformLike', 'QuickGelu', 'FastGelu', 'BiasGelu', 'FusedConvTranspose',
];
const BROADCAST = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Mean', 'Sum', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor'];
const COMPARE = ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor'];

const truth = (f: (x: number, y: number) => boolean) => (a: Dim, b: Dim): Dim => (typeof a === 'number' && typeof b === 'number' ? Number(f(a, b)) : a !== null && a === b && f(0, 0) ? 1 : null);
/** Comparisons of known contents (1 for true): an If whose condition they compute takes one branch. */
const COMPARISONS: Record<string, (a: Dim, b: Dim) => Dim> = {
  Equal: truth((x, y) => x === y), Less: truth((x, y) => x < y), Greater: truth((x, y) => x > y),
  LessOrEqual: truth((x, y) => x <= y), GreaterOrEqual: truth((x, y) => x >= y),
  And: truth((x, y) => !!x && !!y), Or: truth((x, y) => !!x || !!y),
};

/** Division of float contents (a scale computed from sizes): no truncation. */
const floatDiv = (a: Dim, b: Dim): Dim => (typeof a === 'number' && typeof b === 'number' && b !== 0 ? a / b : b === 1 ? a : null);

/** Elementwise arithmetic on the contents of shapes being computed (a scalar broadcasts); Div truncates on integers only. */
function arithmetic(op: string, a: Dim[] | undefined, b: Dim[] | undefined, integer: boolean): Dim[] | undefined {
  if (!a || !b || (a.length !== b.length && a.length !== 1 && b.length !== 1)) return undefined;
  const f = op in COMPARISONS ? COMPARISONS[op] : op === 'Add' ? dimAdd : op === 'Sub' ? dimSub : op === 'Mul' ? dimMul : op === 'Div' ? (integer ? dimDiv : floatDiv) : undefined;
  if (!f) return undefined;
  const n = Math.max(a.length, b.length);
  if (n > MAX_VALUE_ELEMENTS) return undefined;
  return Array.from({ length: n }, (_, i) => f(a[a.length === 1 ? 0 : i], b[b.length === 1 ? 0 : i]));
}

const broadcasting = (dtype?: (cx: NodeContext) => number | undefined): ShapeRule => (cx) => {
  const inputs = (cx.node.input ?? []).map((_, i) => cx.input(i));
  const out: ValueShape = { dtype: dtype ? dtype(cx) : inputs[0]?.dtype, shape: broadcast(inputs.map((x) => x?.shape)) };
  if (inputs.length === 2) {
    // Contents only when both have some (a weight's are decoded on first read: most Adds add a bias to an activation).
    const a = inputs[0]?.value;
    const v = a && arithmetic(cx.node.op_type ?? '', a, inputs[1]?.value, !FLOATS.has(inputs[0]?.dtype ?? 0));
    if (v) out.value = v;
  }
  return [out];
};

export const elementwiseRules: Record<string, ShapeRule> = {
  ...Object.fromEntries(UNARY.map((op) => [op, (cx: NodeContext) => [sameAs(cx)]])),
  ...Object.fromEntries(BROADCAST.map((op) => [op, broadcasting()])),
  ...Object.fromEntries(COMPARE.map((op) => [op, broadcasting(() => BOOL)])),
  Not: (cx) => { const v = cx.input(0)?.value; return [{ ...sameAs(cx, 0, BOOL), ...(v ? { value: v.map((d) => (typeof d === 'number' ? Number(!d) : null)) } : {}) }]; },
  IsNaN: (cx) => [sameAs(cx, 0, BOOL)],
  IsInf: (cx) => [sameAs(cx, 0, BOOL)],
  PRelu: (cx) => [sameAs(cx)],
  Where: (cx) => [{ dtype: cx.input(1)?.dtype, shape: broadcast([0, 1, 2].map((i) => cx.input(i)?.shape)) }],
  Dropout: (cx) => [sameAs(cx), sameAs(cx, 0, BOOL)],
  Cast: (cx) => {
    const x = cx.input(0);
    const to = intAttr(cx.node, 'to', 0);
    // To an integer type, float contents are truncated (as onnxruntime casts); names pass as they are.
    const value = x?.value && (FLOATS.has(to) ? x.value : x.value.map((d) => (typeof d === 'number' ? Math.trunc(d) : d)));
    return [{ dtype: to || undefined, shape: x?.shape ?? null, ...(value ? { value } : {}) }];
  },
  CastLike: (cx) => [sameAs(cx, 0, cx.input(1)?.dtype)],
  // Identity keeps a computed shape's contents too.
  Identity: (cx) => { const x = cx.input(0); return [x ? { ...x } : { shape: null }]; },
};
