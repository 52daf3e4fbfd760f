// An FP32 weight against its quantized form in another model: the representable values (the grid), the
// share of values clipped to its ends, and the SQNR of the dequantized weight per tensor and per channel.
// The quantized form is found the way our quantizer and onnxruntime's name it (`W_quantized`, read by a
// DequantizeLinear or a QLinear op with its scale and zero point); the other direction works too (the
// quantized model's `W_quantized` against the FP32 model's `W`).
import type { Model } from '../onnx/model';
import type { NodeProto } from '../onnx/proto';
import type { WeightQuantization } from '../protocol/graph';
import { sqnrFromEnergy } from '../runtime/compare';
import { intAttr, ModelEditor } from './graph';

/** Grids with more values than this are not listed (16-bit): the step and the ends say it. */
const MAX_GRID = 1024;

const RANGES: Record<string, [number, number]> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535], int4: [-8, 7], uint4: [0, 15], int32: [-(2 ** 31), 2 ** 31 - 1],
};

/** Where each quantized op reads a weight's scale and zero point: input position -> [scale, zero point]. */
const WEIGHT_PARAMS: Record<string, Record<number, [number, number]>> = {
  DequantizeLinear: { 0: [1, 2] }, QLinearConv: { 3: [4, 5] }, QLinearMatMul: { 3: [4, 5], 0: [1, 2] }, QGemm: { 3: [4, 5] },
};

/**
 * `weight` of `own` against the other model's form of it; `ownIsFp32` says which model is which. Throws
 * an Error that says why when the other model holds no quantized form of it.
 */
export function weightQuantization(own: Model, other: Model, weight: string, ownIsFp32: boolean, otherName: string): WeightQuantization {
  const [fp32Model, qModel] = ownIsFp32 ? [own, other] : [other, own];
  const fp32Name = ownIsFp32 ? weight : weight.replace(/_quantized$/, '');
  const qName = ownIsFp32 ? `${weight}_quantized` : weight;
  if (!ownIsFp32 && fp32Name === weight) throw new Error(`"${weight}" is not a quantized weight (its name does not end in _quantized)`);
  const main = (m: Model) => m.graphs().find((g) => g.depth === 0)!;
  const fEd = new ModelEditor(fp32Model), qEd = new ModelEditor(qModel);
  const w = fEd.constant(fp32Name, main(fp32Model));
  if ('reason' in w) throw new Error(`the FP32 model has no weight "${fp32Name}"`);
  const q = qEd.constant(qName, main(qModel));
  if ('reason' in q) throw new Error(`${otherName} has no quantized form of "${fp32Name}" (no "${qName}": it stayed in float, or was rescaled before quantizing)`);
  // Its scale and zero point: from the op that reads it.
  let reader: { n: NodeProto; at: [number, number] } | undefined;
  for (const n of main(qModel).graph.node ?? []) {
    const i = (n.input ?? []).indexOf(qName);
    const at = i >= 0 ? WEIGHT_PARAMS[n.op_type ?? '']?.[i] : undefined;
    if (at) { reader = { n, at }; break; }
  }
  if (!reader) throw new Error(`no DequantizeLinear or QLinear op of ${otherName} reads "${qName}" with a scale`);
  const scaleRef = qEd.constant(reader.n.input![reader.at[0]], main(qModel));
  if ('reason' in scaleRef) throw new Error(`the scale of "${qName}" is not a constant`);
  const zpName = reader.n.input?.[reader.at[1]];
  const zpRef = zpName ? qEd.constant(zpName, main(qModel)) : undefined;
  const scales = Array.from(scaleRef.ref.values()), zps = zpRef && !('reason' in zpRef) ? Array.from(zpRef.ref.values()) : scales.map(() => 0);
  const dims = w.dims;
  if (q.dims.join() !== dims.join()) throw new Error(`"${qName}" has shape [${q.dims.join(', ')}], "${fp32Name}" [${dims.join(', ')}]: not the same weight`);
  // The axis: DequantizeLinear's attribute (default 1), QLinear ops' output channels (0).
  let axis: number | null = null;
  if (scales.length > 1) {
    const a = reader.n.op_type === 'DequantizeLinear' ? intAttr(reader.n, 'axis', 1) : 0;
    axis = a < 0 ? dims.length + a : a;
    if (dims[axis] !== scales.length) throw new Error(`${scales.length} scales for axis ${axis} of shape [${dims.join(', ')}]`);
  }
  const type = q.ref.dtypeName;
  const [qmin, qmax] = RANGES[type] ?? [-(2 ** 31), 2 ** 31 - 1];
  const C = scales.length, inner = axis === null ? 1 : dims.slice(axis + 1).reduce((x, y) => x * y, 1);
  const wv = w.ref.values(), qv = q.ref.values();
  const signal = new Float64Array(C), noise = new Float64Array(C), clipped = new Float64Array(C), count = new Float64Array(C);
  for (let i = 0; i < wv.length; i++) {
    const c = axis === null ? 0 : Math.floor(i / inner) % C;
    const s = scales[c], z = zps[c];
    const x = wv[i], d = x - (qv[i] - z) * s;
    signal[c] += x * x; noise[c] += d * d; count[c]++;
    // Past half a step beyond either end of the grid: clipped, not rounded.
    if (x < (qmin - z - 0.5) * s || x > (qmax - z + 0.5) * s) clipped[c]++;
  }
  const channels = Array.from({ length: C }, (_, c) => ({ sqnrDb: sqnrFromEnergy(signal[c], noise[c]), clipped: count[c] ? clipped[c] / count[c] : 0, scale: scales[c], zeroPoint: zps[c] }));
  let gridChannel = 0;
  channels.forEach((ch, c) => { if (ch.sqnrDb < channels[gridChannel].sqnrDb) gridChannel = c; });
  const g = channels[gridChannel];
  const lowest = (qmin - g.zeroPoint) * g.scale, highest = (qmax - g.zeroPoint) * g.scale;
  const levels = qmax - qmin + 1;
  return {
    model: otherName, fp32: fp32Name, quantized: qName, type, axis,
    sqnrDb: sqnrFromEnergy(signal.reduce((a, b) => a + b, 0), noise.reduce((a, b) => a + b, 0)),
    clipped: clipped.reduce((a, b) => a + b, 0) / Math.max(1, wv.length),
    channels, gridChannel,
    grid: levels <= MAX_GRID ? Array.from({ length: levels }, (_, k) => (qmin + k - g.zeroPoint) * g.scale) : [],
    step: g.scale, lowest, highest,
  };
}
