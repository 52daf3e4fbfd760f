// What onnxruntime made of a quantized model: its optimized graph (session option optimizedModelFilePath,
// optimization "all") read back and counted. Integer kernels it runs (QLinearConv, QLinearMatMul,
// DynamicQuantizeMatMul, MatMulIntegerToFloat, ...), ConvInteger (slower than float Conv on its CPU), and
// the Conv/MatMul/Gemm nodes it still runs in float between DequantizeLinear nodes, with the reason where
// the graph tells it: the usual cause of "the int8 model is slower than FP32".
import { dtypeName } from '../../onnx/dtype';
import type { Model } from '../../onnx/model';
import type { NodeProto } from '../../onnx/proto';
import type { FusionSummary, UnfusedNode } from '../../protocol/bench';

/** onnxruntime's integer (and low-bit) kernels: a node of one of these op types runs quantized. */
export const INTEGER_KERNELS = new Set([
  'QLinearConv', 'QLinearMatMul', 'MatMulIntegerToFloat', 'DynamicQuantizeMatMul', 'QGemm', 'QAttention', 'DynamicQuantizeLSTM',
  'QLinearAdd', 'QLinearMul', 'QLinearConcat', 'QLinearAveragePool', 'QLinearGlobalAveragePool', 'QLinearSigmoid',
  'QLinearLeakyRelu', 'QLinearSoftmax', 'QLinearWhere', 'QLinearReduceMean', 'MatMulNBits', 'MatMulBnb4', 'QOrderedMatMul',
]);

/** Float compute that onnxruntime fuses with the Q/DQ around it (and its own fused float variants). */
const COMPUTE = new Set(['Conv', 'MatMul', 'Gemm', 'FusedConv', 'FusedMatMul', 'FusedGemm', 'ConvTranspose']);

const SPEEDY_TYPES = new Set(['uint8', 'int8']);

/** Counts the integer kernels and finds the float compute left between DequantizeLinear nodes in `optimized`. */
export function fusionSummary(optimized: Model): FusionSummary {
  const graph = optimized.proto.graph!;
  const nodes = graph.node ?? [];
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const n of nodes) {
    for (const o of n.output ?? []) producer.set(o, n);
    for (const i of n.input ?? []) if (i) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);
  }
  const initType = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t.data_type ?? 0]));
  const fused: Record<string, number> = {};
  let convInteger = 0, matMulInteger = 0, qdqLeft = 0;
  const unfused: UnfusedNode[] = [];
  /** The integer type a DequantizeLinear reads: its input's initializer type, else the zero point's, else uint8. */
  const dqType = (dq: NodeProto): string => {
    const x = dq.input?.[0] ?? '', zp = dq.input?.[2];
    if (initType.has(x)) return dtypeName(initType.get(x)!);
    if (zp && initType.has(zp)) return dtypeName(initType.get(zp)!);
    const q = producer.get(x);
    const qzp = q?.op_type === 'QuantizeLinear' ? q.input?.[2] : undefined;
    if (qzp && initType.has(qzp)) return dtypeName(initType.get(qzp)!);
    return 'uint8';
  };
  for (const n of nodes) {
    const op = n.op_type ?? '';
    if (INTEGER_KERNELS.has(op)) fused[op] = (fused[op] ?? 0) + 1;
    else if (op === 'ConvInteger') convInteger++;
    else if (op === 'MatMulInteger') matMulInteger++;
    else if (op === 'QuantizeLinear' || op === 'DequantizeLinear') qdqLeft++;
    if (!COMPUTE.has(op)) continue;
    const dqs = (n.input ?? []).slice(0, 2).map((i) => producer.get(i)).filter((p): p is NodeProto => p?.op_type === 'DequantizeLinear');
    if (!dqs.length) continue;
    unfused.push({ node: n.name ?? '', opType: op, reason: unfusedReason(n, dqs.map(dqType), dqs.length, consumers) });
  }
  return { fused, convInteger, matMulInteger, unfused, qdqLeft, nodes: nodes.length };
}

function unfusedReason(n: NodeProto, types: string[], dqInputs: number, consumers: Map<string, NodeProto[]>): string {
  const odd = types.filter((t) => !SPEEDY_TYPES.has(t));
  if (odd.length) {
    const bits = odd.some((t) => /16/.test(t)) ? '16-bit' : odd.some((t) => /4/.test(t)) ? '4-bit' : odd.join('/');
    return `${bits} inputs (${types.join(', ')}): onnxruntime's CPU has integer kernels for 8-bit only, so it dequantizes them and runs the ${n.op_type} in float`;
  }
  if (dqInputs < 2) return 'only one of its inputs is quantized (DequantizeLinear on one side): the integer kernel needs both the activation and the weight quantized';
  const outs = (n.output ?? []).flatMap((o) => consumers.get(o) ?? []);
  if (!outs.some((c) => c.op_type === 'QuantizeLinear')) {
    return 'no QuantizeLinear on its output: onnxruntime fuses DequantizeLinear -> ' + `${n.op_type} -> QuantizeLinear into an integer kernel only with the output's Q (quantize with Q/DQ on the outputs, as onnxq quantize does)`;
  }
  return `onnxruntime did not fuse it (inputs ${types.join(', ')}): a shape, attribute or provider its integer kernel does not take`;
}
