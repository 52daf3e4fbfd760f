// Lookup tables that turn the bit patterns of small float formats (float16, float8 variants, float4)
// into float32 values. Built once on first use; a table lookup is the fastest decode in plain JS.
import { DataType } from './dtype';

/** Decodes a sign/exponent/mantissa pattern; `variant` picks the NaN/Inf conventions of each format. */
function miniFloat(bits: number, expBits: number, mantBits: number, bias: number,
  variant: 'ieee' | 'fn' | 'fnuz' | 'finite'): number {
  const sign = (bits >> (expBits + mantBits)) & 1 ? -1 : 1;
  const exp = (bits >> mantBits) & ((1 << expBits) - 1);
  const mant = bits & ((1 << mantBits) - 1);
  const expMax = (1 << expBits) - 1;
  if (variant === 'fnuz' && bits === 1 << (expBits + mantBits)) return NaN; // 0x80: the only NaN, no -0
  if (variant === 'ieee' && exp === expMax) return mant === 0 ? sign * Infinity : NaN;
  if (variant === 'fn' && exp === expMax && mant === (1 << mantBits) - 1) return NaN;
  if (exp === 0) return sign * (mant / (1 << mantBits)) * 2 ** (1 - bias);
  return sign * (1 + mant / (1 << mantBits)) * 2 ** (exp - bias);
}

function table(size: number, f: (bits: number) => number): Float32Array {
  const t = new Float32Array(size);
  for (let i = 0; i < size; i++) t[i] = f(i);
  return t;
}

const cache = new Map<number, Float32Array>();

/** The decode table for a float type stored in 4, 8 or 16 bits; undefined for other types. */
export function floatTable(type: number): Float32Array | undefined {
  let t = cache.get(type);
  if (t) return t;
  switch (type) {
    case DataType.FLOAT16: t = table(65536, (b) => miniFloat(b, 5, 10, 15, 'ieee')); break;
    case DataType.FLOAT8E4M3FN: t = table(256, (b) => miniFloat(b, 4, 3, 7, 'fn')); break;
    case DataType.FLOAT8E4M3FNUZ: t = table(256, (b) => miniFloat(b, 4, 3, 8, 'fnuz')); break;
    case DataType.FLOAT8E5M2: t = table(256, (b) => miniFloat(b, 5, 2, 15, 'ieee')); break;
    case DataType.FLOAT8E5M2FNUZ: t = table(256, (b) => miniFloat(b, 5, 2, 16, 'fnuz')); break;
    case DataType.FLOAT8E8M0: t = table(256, (b) => (b === 255 ? NaN : 2 ** (b - 127))); break;
    case DataType.FLOAT4E2M1: t = table(16, (b) => miniFloat(b, 2, 1, 1, 'finite')); break;
    default: return undefined;
  }
  cache.set(type, t);
  return t;
}

const word = new Uint32Array(1);
const single = new Float32Array(word.buffer);

/** The float16 bit pattern nearest to `value` (IEEE round half to even; overflow gives ±Inf). */
export function float16Bits(value: number): number {
  single[0] = value;
  const x = word[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  let shift = 13;
  let half: number;
  if (e <= 0) { // subnormal in float16
    if (e < -10) return sign;
    mant |= 0x800000;
    shift = 14 - e;
    half = mant >>> shift;
  } else {
    half = (e << 10) | (mant >>> 13);
  }
  const rest = mant & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (half & 1))) half++; // a carry may roll into the exponent: correct
  return sign | half;
}
