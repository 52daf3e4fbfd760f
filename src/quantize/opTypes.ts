// Every list of op types the quantizer reasons about, in one place: which ops it rewrites, which only move
// data, which are quantized already. The registry (registry.ts) says which class handles each; the
// options (options.ts) which a mode accepts and quantizes by default.

/** Ops with a weight (or two activations) that become integer kernels. */
export const COMPUTE_OPS: readonly string[] = ['Conv', 'MatMul', 'Gemm'];

/** Ops that static QDQ quantizes when named: each adds a requantization (QLinearAdd, QLinearSigmoid, ...). */
export const ELEMENTWISE_OPS: readonly string[] = ['Add', 'Mul', 'Concat', 'AveragePool', 'GlobalAveragePool', 'Sigmoid', 'Softmax', 'LeakyRelu'];

/** Ops that only move data: a quantized input passes through them with the same scale and zero point. */
export const PASSTHROUGH_OPS: readonly string[] = ['Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Flatten', 'MaxPool', 'Resize', 'Gather', 'Split', 'DepthToSpace', 'SpaceToDepth'];

/** Recurrent layers: LSTM has a dynamically quantized kernel (DynamicQuantizeLSTM); GRU and RNN do not. */
export const RECURRENT_OPS: readonly string[] = ['LSTM', 'GRU', 'RNN'];

/** Ops that only move data and can be evaluated on constants (a weight computed at run time is folded). */
export const FOLDABLE_OPS: ReadonlySet<string> = new Set(['Identity', 'Reshape', 'Unsqueeze', 'Squeeze', 'Concat', 'Slice', 'Transpose']);

/** Ops that are already quantized: the quantizer leaves them (and the layers they form) alone. */
export const QUANTIZED_OPS: ReadonlySet<string> = new Set([
  'ConvInteger', 'MatMulInteger', 'QLinearConv', 'QLinearMatMul', 'DynamicQuantizeLinear', 'QuantizeLinear', 'DequantizeLinear',
  'MatMulNBits', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'QGemm', 'QAttention', 'DynamicQuantizeLSTM', 'MatMulBnb4',
  'MatMulFpQ4', 'QLinearAdd', 'QLinearMul', 'QLinearConcat', 'QLinearAveragePool', 'QLinearGlobalAveragePool', 'QLinearLeakyRelu',
  'QLinearSigmoid', 'QLinearSoftmax', 'QLinearWhere', 'QLinearReduceMean', 'GatherBlockQuantized', 'QEmbedLayerNormalization',
]);

/** Layers among QUANTIZED_OPS (the compute ops; the Q/DQ helpers around them are not listed separately). */
export const QUANTIZED_LAYERS: ReadonlySet<string> = new Set([
  'ConvInteger', 'MatMulInteger', 'QLinearConv', 'QLinearMatMul', 'MatMulNBits', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat',
  'QGemm', 'QAttention', 'DynamicQuantizeLSTM', 'MatMulBnb4', 'MatMulFpQ4', 'GatherBlockQuantized', 'QEmbedLayerNormalization',
]);
