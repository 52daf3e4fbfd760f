// ONNX tensor element types: names as users know them, and how many bits each element takes.

/** TensorProto.DataType numbers. */
export const DataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
  FLOAT8E4M3FN: 17, FLOAT8E4M3FNUZ: 18, FLOAT8E5M2: 19, FLOAT8E5M2FNUZ: 20, UINT4: 21, INT4: 22,
  FLOAT4E2M1: 23, FLOAT8E8M0: 24, UINT2: 25, INT2: 26,
} as const;

const NAMES: Record<number, string> = {};
for (const [name, value] of Object.entries(DataType)) NAMES[value] = name.toLowerCase();

/** The TensorProto type name in lower case (`float`, `int64`, ...), or `type<N>` for unknown numbers. */
export function dtypeName(type: number): string {
  return NAMES[type] ?? `type${type}`;
}

const BITS: Record<number, number> = {
  [DataType.FLOAT]: 32, [DataType.UINT8]: 8, [DataType.INT8]: 8, [DataType.UINT16]: 16, [DataType.INT16]: 16,
  [DataType.INT32]: 32, [DataType.INT64]: 64, [DataType.BOOL]: 8, [DataType.FLOAT16]: 16, [DataType.DOUBLE]: 64,
  [DataType.UINT32]: 32, [DataType.UINT64]: 64, [DataType.COMPLEX64]: 64, [DataType.COMPLEX128]: 128,
  [DataType.BFLOAT16]: 16, [DataType.FLOAT8E4M3FN]: 8, [DataType.FLOAT8E4M3FNUZ]: 8, [DataType.FLOAT8E5M2]: 8,
  [DataType.FLOAT8E5M2FNUZ]: 8, [DataType.UINT4]: 4, [DataType.INT4]: 4, [DataType.FLOAT4E2M1]: 4,
  [DataType.FLOAT8E8M0]: 8, [DataType.UINT2]: 2, [DataType.INT2]: 2,
};

/** Bits per element in raw_data; undefined for strings and unknown types. */
export function dtypeBits(type: number): number | undefined {
  return BITS[type];
}

/** Bytes that `count` elements take in raw_data (sub-byte types are packed, rounded up). */
export function rawByteLength(type: number, count: number): number | undefined {
  const bits = BITS[type];
  return bits === undefined ? undefined : Math.ceil((count * bits) / 8);
}

/** Element types whose values have a meaningful numeric distribution (complex and strings do not). */
export function isNumeric(type: number): boolean {
  return BITS[type] !== undefined && type !== DataType.COMPLEX64 && type !== DataType.COMPLEX128;
}
