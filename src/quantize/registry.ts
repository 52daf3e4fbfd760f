// Which class marks which op type, per mode and format. Adding an op family is one class in ops/ and one
// line here; the pass does the rest.
import type { OpQuantizer } from './ops/base';
import { ConvQuantizer } from './ops/conv';
import { GemmQuantizer } from './ops/gemm';
import { MatMulQuantizer } from './ops/matmul';
import { LstmQuantizer, RecurrentInFloat } from './ops/recurrent';
import type { QuantFormat, QuantMode } from './options';
import {
  QdqConvQuantizer, QdqElementwiseQuantizer, QdqGemmQuantizer, QdqMatMulQuantizer, QdqPassthroughQuantizer, QdqUnaryQuantizer, type QdqOpQuantizer,
} from './ops/qdq';
import { PASSTHROUGH_OPS } from './opTypes';

type Registry = Partial<Record<QuantMode, Partial<Record<QuantFormat, Record<string, () => OpQuantizer>>>>>;

const REGISTRY: Registry = {
  dynamic: {
    qoperator: {
      MatMul: () => new MatMulQuantizer('matmul-integer'),
      Gemm: () => new GemmQuantizer('matmul-integer'),
      Conv: () => new ConvQuantizer(),
      LSTM: () => new LstmQuantizer(),
      GRU: () => new RecurrentInFloat(),
      RNN: () => new RecurrentInFloat(),
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

/** Static quantization in QDQ form: the marking class of every op type it handles. */
const QDQ: Record<string, () => QdqOpQuantizer> = {
  Conv: () => new QdqConvQuantizer(),
  MatMul: () => new QdqMatMulQuantizer(),
  Gemm: () => new QdqGemmQuantizer(),
  Add: () => new QdqElementwiseQuantizer(2),
  Mul: () => new QdqElementwiseQuantizer(2),
  Concat: () => new QdqElementwiseQuantizer('variadic'),
  AveragePool: () => new QdqUnaryQuantizer(),
  GlobalAveragePool: () => new QdqUnaryQuantizer(),
  Sigmoid: () => new QdqUnaryQuantizer(),
  Softmax: () => new QdqUnaryQuantizer(),
  LeakyRelu: () => new QdqUnaryQuantizer(),
  ...Object.fromEntries(PASSTHROUGH_OPS.map((op) => [op, () => new QdqPassthroughQuantizer()])),
};


export function qdqQuantizersFor(opTypes: readonly string[]): Map<string, QdqOpQuantizer> {
  return new Map(opTypes.filter((op) => QDQ[op]).map((op) => [op, QDQ[op]()]));
}
