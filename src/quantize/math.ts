// Scale / zero-point math with ONNX semantics, exactly:
//   QuantizeLinear     q = saturate(round_half_to_even(x / scale) + zero_point), x / scale in float32
//   DequantizeLinear   x = (q - zero_point) * scale
//   DynamicQuantizeLinear (uint8): scale = (max(0, max x) - min(0, min x)) / 255,
//                      zero_point = saturate(round(0 - min / scale)), then QuantizeLinear
// Rounding uses the 2^52 + 2^51 trick, which rounds half to even in double arithmetic (Math.round rounds
// half up, which ONNX does not); float32 division is emulated with Math.fround, which is exact for
// division of float32 operands. Hot loops are plain, monomorphic and allocation-free.
import type { ActivationType, WeightType } from './options';

const RHE = 6755399441055744; // 2^52 + 2^51

/** Round half to even for |x| < 2^51 (and NaN stays NaN). */
export function roundHalfEven(x: number): number {
  return (x + RHE) - RHE;
}

export interface QRange { qmin: number; qmax: number }

/**
 * The integer range a type quantizes to. Symmetric ranges are centred on their zero point: int8 [-127, 127]
 * (zero point 0), uint8 [1, 255] (zero point 128). `reduceRange` (7-bit weights for CPUs without VNNI)
 * follows onnxruntime: int8 [-64, 64], uint8 [0, 127] (symmetric: [1, 127], zero point 64).
 */
export function quantRange(type: WeightType | ActivationType, { symmetric = false, reduceRange = false } = {}): QRange {
  switch (type) {
    case 'int8': return reduceRange ? { qmin: -64, qmax: 64 } : symmetric ? { qmin: -127, qmax: 127 } : { qmin: -128, qmax: 127 };
    case 'uint8': return reduceRange ? (symmetric ? { qmin: 1, qmax: 127 } : { qmin: 0, qmax: 127 }) : symmetric ? { qmin: 1, qmax: 255 } : { qmin: 0, qmax: 255 };
    case 'int16': return symmetric ? { qmin: -32767, qmax: 32767 } : { qmin: -32768, qmax: 32767 };
    case 'uint16': return symmetric ? { qmin: 1, qmax: 65535 } : { qmin: 0, qmax: 65535 };
    case 'int4': return symmetric ? { qmin: -7, qmax: 7 } : { qmin: -8, qmax: 7 };
    case 'uint4': return symmetric ? { qmin: 1, qmax: 15 } : { qmin: 0, qmax: 15 };
  }
}

/** The smallest normal float32: scales below it are replaced by 1 (onnxruntime does the same). */
const FLOAT32_TINY = 1.1754943508222875e-38;

/**
 * Scale and zero point for values in [rmin, rmax]. The range always includes 0, so that 0.0 is exactly
 * representable. Symmetric: zero point in the middle of [qmin, qmax] and scale = absmax / (qmax - zp),
 * e.g. int8 absmax / 127. Asymmetric: scale = (rmax - rmin) / (qmax - qmin), zp = round(qmin - rmin / scale).
 * The scale is a float32.
 */
export function scaleZeroPoint(rmin: number, rmax: number, { qmin, qmax }: QRange, symmetric: boolean): { scale: number; zeroPoint: number } {
  rmin = Math.min(rmin, 0);
  rmax = Math.max(rmax, 0);
  if (symmetric) {
    const zeroPoint = (qmin + qmax) / 2;
    if (!Number.isInteger(zeroPoint)) throw new Error(`symmetric range [${qmin}, ${qmax}] has no integer centre`);
    const absmax = Math.max(-rmin, rmax);
    let scale = Math.fround(absmax / (qmax - zeroPoint));
    if (!(scale >= FLOAT32_TINY) || !Number.isFinite(scale)) scale = 1;
    return { scale, zeroPoint };
  }
  let scale = Math.fround((rmax - rmin) / (qmax - qmin));
  if (!(scale >= FLOAT32_TINY) || !Number.isFinite(scale)) scale = 1;
  const zeroPoint = Math.min(qmax, Math.max(qmin, roundHalfEven(qmin - Math.fround(rmin / scale))));
  return { scale, zeroPoint };
}

/** QuantizeLinear of one value (float32 semantics). */
export function quantizeValue(x: number, scale: number, zeroPoint: number, { qmin, qmax }: QRange): number {
  const q = roundHalfEven(Math.fround(x / scale)) + zeroPoint;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

/** DequantizeLinear of one value (float32 result). */
export function dequantizeValue(q: number, scale: number, zeroPoint: number): number {
  return Math.fround((q - zeroPoint) * scale);
}

/** Signal and error energies of a quantization, for SQNR. */
export interface ErrorEnergy { signal: number; noise: number }


/**
 * A tensor viewed as [outer, channels, inner] around its quantization axis (channels = 1 for per-tensor).
 * E.g. Conv weights [M, C, kH, kW] per output channel: outer 1, channels M, inner C*kH*kW; MatMul B
 * [K, N] per output feature: outer K, channels N, inner 1.
 */
export interface AxisLayout { outer: number; channels: number; inner: number }

export function axisLayout(dims: number[], axis: number | null): AxisLayout {
  const total = dims.reduce((a, b) => a * b, 1);
  if (axis === null) return { outer: 1, channels: 1, inner: total };
  const channels = dims[axis];
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  return { outer, channels, inner: channels === 0 ? 0 : total / outer / channels };
}

/** Minimum and maximum per channel (NaN elements are ignored). */
export function channelMinMax(data: Float32Array, { outer, channels, inner }: AxisLayout): { min: Float64Array; max: Float64Array } {
  const min = new Float64Array(channels).fill(Infinity);
  const max = new Float64Array(channels).fill(-Infinity);
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const base = o * channels;
      for (let c = 0; c < channels; c++) {
        const v = data[base + c];
        if (v < min[c]) min[c] = v;
        if (v > max[c]) max[c] = v;
      }
    }
    return { min, max };
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      let lo = min[c], hi = max[c];
      const start = (o * channels + c) * inner, end = start + inner;
      for (let i = start; i < end; i++) {
        const v = data[i];
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      // Math.min/max propagate NaN; a channel that saw one falls back to the branchy scan.
      if (Number.isNaN(lo) || Number.isNaN(hi)) {
        lo = min[c]; hi = max[c];
        for (let i = start; i < end; i++) { const v = data[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
      }
      min[c] = lo; max[c] = hi;
    }
  }
  return { min, max };
}

/** Scales and zero points per channel. */
export interface QuantParams { scales: Float32Array; zeroPoints: Int32Array; range: QRange }

export function channelParams(data: Float32Array, layout: AxisLayout, range: QRange, symmetric: boolean): QuantParams {
  const { min, max } = channelMinMax(data, layout);
  const scales = new Float32Array(layout.channels);
  const zeroPoints = new Int32Array(layout.channels);
  for (let c = 0; c < layout.channels; c++) {
    const lo = Number.isFinite(min[c]) ? min[c] : 0, hi = Number.isFinite(max[c]) ? max[c] : 0;
    const { scale, zeroPoint } = scaleZeroPoint(lo, hi, range, symmetric);
    scales[c] = scale;
    zeroPoints[c] = zeroPoint;
  }
  return { scales, zeroPoints, range };
}

type IntArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array;

/** Elements per call of the inner loops: short calls get V8's optimizing compiler sooner than one long loop's OSR. */
const RUN = 1 << 16;

/** Quantizes data[start, end) with one scale and zero point; adds x^2 and error^2 sums into acc[0], acc[1]. */
function quantizeRun(data: Float32Array, start: number, end: number, s: number, z: number, qmin: number, qmax: number, out: IntArray, acc: Float64Array): void {
  let signal = 0, noise = 0;
  for (let i = start; i < end; i++) {
    const x = data[i];
    let q = ((Math.fround(x / s) + RHE) - RHE) + z;
    q = q < qmin ? qmin : q > qmax ? qmax : q;
    out[i] = q;
    const e = x - Math.fround((q - z) * s);
    signal += x * x; noise += e * e;
  }
  acc[0] += signal; acc[1] += noise;
}

/** Quantizes whole rows [rowStart, rowEnd) of a row-major matrix whose columns are the channels. */
function quantizeRows(data: Float32Array, rowStart: number, rowEnd: number, channels: number, scales: Float32Array, zps: Int32Array,
  qmin: number, qmax: number, out: IntArray, acc: Float64Array): void {
  let signal = 0, noise = 0;
  for (let r = rowStart; r < rowEnd; r++) {
    const base = r * channels;
    for (let c = 0; c < channels; c++) {
      const x = data[base + c], s = scales[c], z = zps[c];
      let q = ((Math.fround(x / s) + RHE) - RHE) + z;
      q = q < qmin ? qmin : q > qmax ? qmax : q;
      out[base + c] = q;
      const e = x - Math.fround((q - z) * s);
      signal += x * x; noise += e * e;
    }
  }
  acc[0] += signal; acc[1] += noise;
}

/**
 * QuantizeLinear of a whole tensor with per-channel (or per-tensor) parameters into `out`, returning the
 * signal and error energies. `out` is an Int8Array/Uint8Array/Int16Array/Uint16Array/Int32Array: values
 * are rounded and saturated before they are stored, so typed-array wrapping never happens.
 */
export function quantizeTensor(data: Float32Array, layout: AxisLayout, params: QuantParams, out: IntArray): ErrorEnergy {
  const { outer, channels, inner } = layout;
  const { scales, zeroPoints, range: { qmin, qmax } } = params;
  const acc = new Float64Array(2);
  if (inner === 1 && channels > 1) {
    const rows = Math.max(1, Math.floor(RUN / channels));
    for (let r = 0; r < outer; r += rows) quantizeRows(data, r, Math.min(outer, r + rows), channels, scales, zeroPoints, qmin, qmax, out, acc);
  } else {
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++) {
        const start = (o * channels + c) * inner, end = start + inner;
        for (let i = start; i < end; i += RUN) quantizeRun(data, i, Math.min(end, i + RUN), scales[c], zeroPoints[c], qmin, qmax, out, acc);
      }
    }
  }
  return { signal: acc[0], noise: acc[1] };
}

/** ONNX DynamicQuantizeLinear (uint8), the reference the quantized graph's first op follows. */
export function dynamicQuantizeLinear(x: Float32Array): { y: Uint8Array; scale: number; zeroPoint: number } {
  let lo = 0, hi = 0;
  for (let i = 0; i < x.length; i++) { const v = x[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
  const scale = Math.fround(Math.fround(hi - lo) / 255);
  const zp = scale === 0 ? 0 : Math.min(255, Math.max(0, roundHalfEven(Math.fround(0 - Math.fround(lo / scale)))));
  const y = new Uint8Array(x.length);
  if (scale !== 0) for (let i = 0; i < x.length; i++) y[i] = quantizeValue(x[i], scale, zp, { qmin: 0, qmax: 255 });
  else y.fill(zp);
  return { y, scale, zeroPoint: zp };
}

/** ONNX QuantizeLinear with a per-tensor or per-axis scale (the conformance tests' semantics). */
export function quantizeLinear(x: Float32Array, dims: number[], scale: ArrayLike<number>, zeroPoint: ArrayLike<number>,
  axis: number, range: QRange): Float64Array {
  const perAxis = scale.length > 1;
  const layout = axisLayout(dims, perAxis ? (axis < 0 ? axis + dims.length : axis) : null);
  const out = new Float64Array(x.length);
  const { outer, channels, inner } = layout;
  for (let o = 0; o < outer; o++) for (let c = 0; c < channels; c++) {
    const s = scale[perAxis ? c : 0], z = zeroPoint.length ? zeroPoint[perAxis ? c : 0] : 0;
    for (let i = 0; i < inner; i++) { const at = (o * channels + c) * inner + i; out[at] = quantizeValue(x[at], s, z, range); }
  }
  return out;
}

/** ONNX DequantizeLinear with a per-tensor or per-axis scale. */
export function dequantizeLinear(q: ArrayLike<number>, dims: number[], scale: ArrayLike<number>, zeroPoint: ArrayLike<number>, axis: number): Float32Array {
  const perAxis = scale.length > 1;
  const { outer, channels, inner } = axisLayout(dims, perAxis ? (axis < 0 ? axis + dims.length : axis) : null);
  const out = new Float32Array(q.length);
  for (let o = 0; o < outer; o++) for (let c = 0; c < channels; c++) {
    const s = scale[perAxis ? c : 0], z = zeroPoint.length ? zeroPoint[perAxis ? c : 0] : 0;
    for (let i = 0; i < inner; i++) { const at = (o * channels + c) * inner + i; out[at] = dequantizeValue(q[at], s, z); }
  }
  return out;
}

/** Transposes a row-major [rows, cols] matrix (tiles keep both sides in cache). */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = data[r * cols + c];
    }
  }
  return out;
}

/** MatMulNBits weights: B [N][blocks][blob], scales [N * blocks], zero points packed per row (asymmetric only). */
export interface BlockQuantized {
  packed: Uint8Array;
  scales: Float32Array;
  zeroPoints: Uint8Array | null;
  blocks: number;
  blobSize: number;
  energy: ErrorEnergy;
}

/**
 * Block-wise quantization of a row-major [K, N] weight along K for com.microsoft MatMulNBits, in
 * `bits` (4 or 8) bits. Symmetric: the element of largest magnitude (with its sign) maps to the most
 * negative code, scale = that value / -2^(bits-1), codes stored with the default zero point 2^(bits-1)
 * (8 for 4 bits). Asymmetric: [min(0, min), max(0, max)] onto [0, 2^bits - 1] with a zero point per
 * block. Codes are packed low bits first along K; the last block is padded with quantized zeros.
 */
export function quantizeBlockwise(w: Float32Array, K: number, N: number, blockSize: number, bits: 4 | 8, symmetric: boolean): BlockQuantized {
  const blocks = Math.ceil(K / blockSize);
  const blobSize = (blockSize * bits) / 8;
  const levels = (1 << bits) - 1; // 15 or 255
  const mid = 1 << (bits - 1); // 8 or 128
  const packed = new Uint8Array(N * blocks * blobSize);
  const scales = new Float32Array(N * blocks);
  const zpRow = bits === 4 ? Math.ceil(blocks / 2) : blocks;
  const zeroPoints = symmetric ? null : new Uint8Array(N * zpRow);
  const lo = new Float32Array(N), hi = new Float32Array(N), sc = new Float32Array(N), zp = new Int32Array(N);
  let signal = 0, noise = 0;
  for (let b = 0; b < blocks; b++) {
    const k0 = b * blockSize, k1 = Math.min(K, k0 + blockSize);
    lo.fill(Infinity); hi.fill(-Infinity);
    for (let k = k0; k < k1; k++) {
      const row = k * N;
      for (let n = 0; n < N; n++) {
        const v = w[row + n];
        if (v < lo[n]) lo[n] = v;
        if (v > hi[n]) hi[n] = v;
      }
    }
    for (let n = 0; n < N; n++) {
      const mn = Number.isFinite(lo[n]) ? lo[n] : 0, mx = Number.isFinite(hi[n]) ? hi[n] : 0;
      let s: number, z: number;
      if (symmetric) {
        const absmax = Math.abs(mx) > Math.abs(mn) ? mx : mn;
        s = Math.fround(absmax / -mid);
        z = mid;
      } else {
        const a = Math.min(mn, 0), c = Math.max(mx, 0);
        s = Math.fround((c - a) / levels);
        z = s === 0 ? mid : Math.min(levels, Math.max(0, roundHalfEven(Math.fround(-a / s))));
      }
      sc[n] = s; zp[n] = z;
      scales[n * blocks + b] = s;
      if (zeroPoints) {
        if (bits === 4) zeroPoints[n * zpRow + (b >> 1)] |= z << ((b & 1) * 4);
        else zeroPoints[n * zpRow + b] = z;
      }
    }
    for (let k = k0; k < k0 + blockSize; k++) {
      const row = k * N, inBlock = k - k0;
      const real = k < k1;
      for (let n = 0; n < N; n++) {
        const s = sc[n], z = zp[n];
        const x = real ? w[row + n] : 0;
        let q: number;
        if (s === 0) q = z;
        else {
          q = ((Math.fround(x / s) + RHE) - RHE) + z;
          q = q < 0 ? 0 : q > levels ? levels : q;
        }
        const at = (n * blocks + b) * blobSize;
        if (bits === 4) packed[at + (inBlock >> 1)] |= q << ((inBlock & 1) * 4);
        else packed[at + inBlock] = q;
        if (real) {
          const e = x - Math.fround((q - z) * s);
          signal += x * x; noise += e * e;
        }
      }
    }
  }
  return { packed, scales, zeroPoints, blocks, blobSize, energy: { signal, noise } };
}

/** Dequantizes MatMulNBits weights back to a row-major [K, N] matrix (the reference the tests check against). */
export function dequantizeBlockwise(q: BlockQuantized, K: number, N: number, blockSize: number, bits: 4 | 8): Float32Array {
  const out = new Float32Array(K * N);
  const mid = 1 << (bits - 1);
  const zpRow = bits === 4 ? Math.ceil(q.blocks / 2) : q.blocks;
  for (let n = 0; n < N; n++) for (let b = 0; b < q.blocks; b++) {
    const s = q.scales[n * q.blocks + b];
    const z = !q.zeroPoints ? mid : bits === 4 ? (q.zeroPoints[n * zpRow + (b >> 1)] >> ((b & 1) * 4)) & 15 : q.zeroPoints[n * zpRow + b];
    for (let i = 0; i < blockSize; i++) {
      const k = b * blockSize + i;
      if (k >= K) break;
      const at = (n * q.blocks + b) * q.blobSize;
      const code = bits === 4 ? (q.packed[at + (i >> 1)] >> ((i & 1) * 4)) & 15 : q.packed[at + i];
      out[k * N + n] = Math.fround((code - z) * s);
    }
  }
  return out;
}
