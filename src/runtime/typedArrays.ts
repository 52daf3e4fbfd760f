// One place that maps element type names (onnxruntime's, which .npy files share) to typed arrays.

export type ElementType = 'float32' | 'float64' | 'float16' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool';

export type NumericArray = Float32Array | Float64Array | Uint16Array | Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** A typed array over `buffer` for `type` (float16 as raw Uint16Array bits, bool as Uint8Array). */
export function viewAs(type: ElementType, buffer: ArrayBuffer): NumericArray {
  switch (type) {
    case 'float32': return new Float32Array(buffer);
    case 'float64': return new Float64Array(buffer);
    case 'float16': case 'uint16': return new Uint16Array(buffer);
    case 'int8': return new Int8Array(buffer);
    case 'uint8': case 'bool': return new Uint8Array(buffer);
    case 'int16': return new Int16Array(buffer);
    case 'int32': return new Int32Array(buffer);
    case 'uint32': return new Uint32Array(buffer);
    case 'int64': return new BigInt64Array(buffer);
    case 'uint64': return new BigUint64Array(buffer);
  }
}
