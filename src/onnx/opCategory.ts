// Which colour family an operator belongs to in the graph view (see OpCategory in src/protocol/graph.ts).
// Pure: no Node, no vscode; the webview may import it too.
import type { OpCategory } from '../protocol/graph';

const TABLE: Record<string, OpCategory> = {};
const put = (category: OpCategory, ops: string) => { for (const op of ops.split(/\s+/)) if (op) TABLE[op] = category; };

// Quantization first: an int8 Conv is a quantized op before it is a Conv (the view is a quantization tool).
put('quantization', `QuantizeLinear DequantizeLinear DynamicQuantizeLinear QLinearConv QLinearMatMul QLinearAdd QLinearMul
  QLinearSigmoid QLinearLeakyRelu QLinearAveragePool QLinearGlobalAveragePool QLinearConcat QLinearSoftmax QLinearReduceMean
  QLinearWhere QLinearGemm QLinearConvTranspose QGemm QAttention QOrderedMatMul QuickGeluInt8
  MatMulInteger ConvInteger MatMulNBits MatMulBnb4 MatMulFpQ4 MatMulIntegerToFloat DynamicQuantizeMatMul
  DynamicQuantizeLSTM GatherBlockQuantized DequantizeBFP QuantizeBFP QEmbedLayerNormalization`);
put('conv', 'Conv ConvTranspose FusedConv NhwcConv DeformConv Conv1D ConvTransposeWithDynamicPads NhwcFusedConv');
put('matmul', `MatMul Gemm FusedMatMul FusedGemm Einsum Attention MultiHeadAttention GroupQueryAttention
  PackedAttention PackedMultiHeadAttention DecoderMaskedMultiHeadAttention DecoderMaskedSelfAttention
  SparseAttention LongformerAttention RelativePositionBias GemmFastGelu GemmFloat8 TransposeMatMul`);
put('activation', `Relu LeakyRelu PRelu Sigmoid HardSigmoid Tanh Elu Selu Celu Gelu FastGelu BiasGelu QuickGelu
  HardSwish Mish Softplus Softsign ThresholdedRelu Clip Softmax LogSoftmax Hardmax Swish Shrink BiasSoftmax
  ParametricSoftplus ScaledTanh Affine`);
put('normalization', `BatchNormalization LayerNormalization InstanceNormalization GroupNormalization LpNormalization
  MeanVarianceNormalization LRN RMSNormalization SimplifiedLayerNormalization SkipLayerNormalization
  SkipSimplifiedLayerNormalization EmbedLayerNormalization SkipGroupNorm GroupNorm BiasLayerNormalization`);
put('pool', `MaxPool AveragePool GlobalAveragePool GlobalMaxPool GlobalLpPool LpPool MaxRoiPool RoiAlign MaxUnpool NhwcMaxPool`);
put('elementwise', `Add Sub Mul Div Pow Sqrt Exp Log Abs Neg Reciprocal Floor Ceil Round Sign Erf Sin Cos Tan Asin Acos Atan
  Sinh Cosh Asinh Acosh Atanh Max Min Mean Sum Mod BitShift And Or Xor Not Equal Greater Less GreaterOrEqual LessOrEqual
  Where IsNaN IsInf BitwiseAnd BitwiseOr BitwiseXor BitwiseNot BiasAdd BiasDropout Dropout Trilu CumSum`);
put('reduce', `ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp
  ReduceSumSquare ArgMax ArgMin TopK NonMaxSuppression`);
put('shape', `Reshape Transpose Concat Split Slice Gather GatherElements GatherND Scatter ScatterElements ScatterND
  Squeeze Unsqueeze Flatten Shape Size Cast CastLike Expand Tile Pad Resize Upsample DepthToSpace SpaceToDepth
  Identity ConstantOfShape Range NonZero OneHot Compress ReverseSequence Unique EyeLike Col2Im CenterCropPad
  SplitToSequence SequenceAt SequenceConstruct SequenceEmpty SequenceErase SequenceInsert SequenceLength
  ConcatFromSequence Optional OptionalGetElement OptionalHasElement GridSample AffineGrid`);
put('control', 'If Loop Scan');
put('recurrent', 'LSTM GRU RNN AttnLSTM');
put('constant', 'Constant');

/** The colour family of an op type (any domain: ai.onnx and com.microsoft names share one table). */
export function opCategory(op: string, _domain = ''): OpCategory {
  const hit = TABLE[op];
  if (hit) return hit;
  if (op.startsWith('QLinear') || op.startsWith('Quantize') || op.startsWith('Dequantize')) return 'quantization';
  if (op.startsWith('Reduce')) return 'reduce';
  if (op.endsWith('Attention')) return 'matmul';
  if (op.endsWith('Normalization')) return 'normalization';
  if (op.endsWith('Pool')) return 'pool';
  return 'other';
}
