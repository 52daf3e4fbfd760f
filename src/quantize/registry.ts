// Which class marks which op type, per mode and format. Adding an op family is one class in ops/ and one
// line here; the pass does the rest.
import type { OpQuantizer } from './ops/base';
import { ConvQuantizer } from './ops/conv';
import { GemmQuantizer } from './ops/gemm';
import { MatMulQuantizer } from './ops/matmul';
import type { QuantFormat, QuantMode } from './options';

type Registry = Partial<Record<QuantMode, Partial<Record<QuantFormat, Record<string, () => OpQuantizer>>>>>;

const REGISTRY: Registry = {
  dynamic: {
    qoperator: {
      MatMul: () => new MatMulQuantizer('matmul-integer'),
      Gemm: () => new GemmQuantizer('matmul-integer'),
      Conv: () => new ConvQuantizer(),
    },
  },
  'weight-only': {
    qoperator: {
      MatMul: () => new MatMulQuantizer('matmul-nbits'),
      Gemm: () => new GemmQuantizer('matmul-nbits'),
    },
  },
};

/** The quantizer for each op type of a mode and format (an empty table when none is built). */
export function quantizersFor(mode: QuantMode, format: QuantFormat): Map<string, OpQuantizer> {
  const table = REGISTRY[mode]?.[format] ?? {};
  return new Map(Object.entries(table).map(([op, make]) => [op, make()]));
}
