// What static quantization must know about each value without running the model: its element type (only
// float tensors are quantized, and calibration declares the outputs it adds) and, where it can be told,
// its rank (the opset upgrade needs it for Softmax). A forward pass over every graph with per-op rules;
// a value whose facts cannot be told is left unknown, and callers treat unknown as "do not touch".
import { DataType } from '../onnx/dtype';
import { constantTensor, type GraphInfo, type Model } from '../onnx/model';
import type { GraphProto, NodeProto, ValueInfoProto } from '../onnx/proto';
import { attr, intAttr, intsAttr, type ModelEditor } from './graph';

export interface ValueFacts { type?: number; rank?: number }

const SAME_TYPE_AND_RANK = new Set([
  'Relu', 'Sigmoid', 'Tanh', 'Clip', 'Sqrt', 'Exp', 'Log', 'Neg', 'Abs', 'Erf', 'HardSigmoid', 'HardSwish', 'LeakyRelu', 'Softmax',
  'LogSoftmax', 'Hardmax', 'Identity', 'Dropout', 'BatchNormalization', 'LayerNormalization', 'InstanceNormalization', 'Floor',
  'Ceil', 'Round', 'Reciprocal', 'Sign', 'Softplus', 'Softsign', 'Gelu', 'Elu', 'Selu', 'Celu', 'PRelu', 'ThresholdedRelu', 'Mish',
  'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Conv', 'ConvTranspose', 'MaxPool',
  'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'LpPool', 'GlobalLpPool', 'Resize', 'Upsample', 'Pad', 'Slice', 'Tile',
  'DepthToSpace', 'SpaceToDepth', 'Transpose', 'LRN', 'MeanVarianceNormalization', 'CumSum', 'ReverseSequence', 'Trilu',
  'GroupNormalization', 'RMSNormalization', 'ScatterND', 'ScatterElements', 'GatherElements', 'Shrink',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Mean', 'Sum', 'Mod', 'And', 'Or', 'Xor', 'Equal', 'Less',
  'Greater', 'LessOrEqual', 'GreaterOrEqual', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor']);
const BOOL_OUT = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);
const REDUCE = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum',
  'ReduceLogSumExp', 'ReduceSumSquare']);

export class ValueFactsIndex {
  private readonly facts = new Map<GraphProto, Map<string, ValueFacts>>();

  constructor(private readonly model: Model, private readonly editor: ModelEditor) {
    for (const g of model.graphs()) if (g.depth === 0) this.inferGraph(g);
  }

  /** The facts of `name` as a node of `info` sees it (its own graph or an enclosing one). */
  get(name: string, info: GraphInfo): ValueFacts {
    for (let g: GraphInfo | undefined = info; g; g = g.parent) {
      const f = this.facts.get(g.graph)?.get(name);
      if (f) return f;
    }
    return {};
  }

  isFloat(name: string, info: GraphInfo): boolean {
    return this.get(name, info).type === DataType.FLOAT;
  }

  private inferGraph(info: GraphInfo): void {
    const map = new Map<string, ValueFacts>();
    this.facts.set(info.graph, map);
    const declare = (v: ValueInfoProto) => {
      const t = v.type?.tensor_type;
      if (!t) return;
      const f: ValueFacts = { type: t.elem_type ?? undefined };
      if (t.shape) f.rank = (t.shape.dim ?? []).length;
      map.set(v.name ?? '', f);
    };
    for (const v of info.graph.input ?? []) declare(v);
    for (const t of info.graph.initializer ?? []) map.set(t.name ?? '', { type: t.data_type ?? undefined, rank: (t.dims ?? []).length });
    const known = (v: ValueInfoProto) => { const had = map.get(v.name ?? ''); declare(v); const now = map.get(v.name ?? ''); if (had && now) map.set(v.name ?? '', { type: now.type ?? had.type, rank: now.rank ?? had.rank }); };
    for (const v of info.graph.value_info ?? []) known(v);
    const children = this.model.graphs().filter((g) => g.parent?.graph === info.graph);
    for (const n of info.graph.node ?? []) {
      for (const g of children) if (g.ownerNode === n) this.inferGraph(g);
      const outs = this.infer(n, info, children.filter((g) => g.ownerNode === n));
      (n.output ?? []).forEach((o, i) => {
        if (!o) return;
        const f = outs[i] ?? {};
        const prior = map.get(o);
        map.set(o, { type: prior?.type ?? f.type, rank: prior?.rank ?? f.rank });
      });
    }
  }

  private infer(n: NodeProto, info: GraphInfo, subgraphs: GraphInfo[]): ValueFacts[] {
    const op = n.op_type ?? '';
    const domain = n.domain ?? '';
    const inputs = (n.input ?? []).map((x) => (x ? this.get(x, info) : {}));
    const x0 = inputs[0] ?? {};
    const outs = (n.output ?? []).length;
    const all = (f: ValueFacts) => Array.from({ length: outs }, () => f);
    if (domain !== '' && domain !== 'ai.onnx') {
      if (domain === 'com.microsoft' && op === 'DequantizeLinear') return [{ type: DataType.FLOAT, rank: x0.rank }];
      if (domain === 'com.microsoft' && op === 'QuantizeLinear') return [{ type: inputs[2]?.type ?? DataType.UINT8, rank: x0.rank }];
      return all({});
    }
    const rankOf = (name: string | undefined): number | undefined => {
      if (!name) return undefined;
      const c = this.editor.constant(name, info);
      return 'reason' in c ? undefined : c.dims.reduce((a, b) => a * b, 1);
    };
    const axesCount = (): number | undefined => {
      const a = intsAttr(n, 'axes');
      if (a) return a.length;
      return n.input?.[1] ? rankOf(n.input[1]) : undefined;
    };
    const add = (r: number | undefined, d: number | undefined) => (r === undefined || d === undefined ? undefined : r + d);
    if (op === 'Constant') {
      const t = constantTensor(n);
      if (t) return [{ type: t.data_type ?? undefined, rank: (t.dims ?? []).length }];
      const a = (n.attribute ?? [])[0];
      if (a?.name === 'value_float') return [{ type: DataType.FLOAT, rank: 0 }];
      if (a?.name === 'value_floats') return [{ type: DataType.FLOAT, rank: 1 }];
      if (a?.name === 'value_int') return [{ type: DataType.INT64, rank: 0 }];
      if (a?.name === 'value_ints') return [{ type: DataType.INT64, rank: 1 }];
      return [{}];
    }
    if (SAME_TYPE_AND_RANK.has(op)) {
      const out = all({ type: x0.type, rank: x0.rank });
      if (op === 'MaxPool' && outs > 1) out[1] = { type: DataType.INT64, rank: x0.rank };
      if (op === 'Dropout' && outs > 1) out[1] = { type: DataType.BOOL, rank: x0.rank };
      if (op === 'LayerNormalization' && outs > 1) for (let i = 1; i < outs; i++) out[i] = { type: DataType.FLOAT, rank: x0.rank };
      return out;
    }
    if (BROADCAST.has(op)) {
      const ranks = inputs.map((f) => f.rank);
      const rank = ranks.every((r) => r !== undefined) ? Math.max(...(ranks as number[])) : undefined;
      return [{ type: BOOL_OUT.has(op) ? DataType.BOOL : x0.type ?? inputs.find((f) => f.type !== undefined)?.type, rank }];
    }
    if (BOOL_OUT.has(op)) return [{ type: DataType.BOOL, rank: x0.rank }];
    if (REDUCE.has(op)) {
      const keep = intAttr(n, 'keepdims', 1) === 1;
      const count = axesCount();
      const rank = keep ? x0.rank : count === undefined ? (n.input?.[1] || attr(n, 'axes') ? undefined : 0) : add(x0.rank, -count);
      return [{ type: x0.type, rank }];
    }
    switch (op) {
      case 'Cast': return [{ type: intAttr(n, 'to', 0) || undefined, rank: x0.rank }];
      case 'CastLike': return [{ type: inputs[1]?.type, rank: x0.rank }];
      case 'Shape': return [{ type: DataType.INT64, rank: 1 }];
      case 'Size': return [{ type: DataType.INT64, rank: 0 }];
      case 'NonZero': return [{ type: DataType.INT64, rank: 2 }];
      case 'ArgMax': case 'ArgMin': return [{ type: DataType.INT64, rank: intAttr(n, 'keepdims', 1) === 1 ? x0.rank : add(x0.rank, -1) }];
      case 'Where': return [{ type: inputs[1]?.type ?? inputs[2]?.type, rank: inputs.every((f) => f.rank !== undefined) ? Math.max(...inputs.map((f) => f.rank!)) : undefined }];
      case 'MatMul': case 'MatMulInteger': {
        const [a, b] = [inputs[0]?.rank, inputs[1]?.rank];
        const rank = a === undefined || b === undefined ? undefined : a === 1 && b === 1 ? 0 : a === 1 ? b - 1 : b === 1 ? a - 1 : Math.max(a, b);
        return [{ type: op === 'MatMulInteger' ? DataType.INT32 : x0.type, rank }];
      }
      case 'Gemm': return [{ type: x0.type, rank: 2 }];
      case 'Flatten': return [{ type: x0.type, rank: 2 }];
      case 'Reshape': return [{ type: x0.type, rank: rankOf(n.input?.[1]) }];
      case 'Expand': {
        const r = rankOf(n.input?.[1]);
        return [{ type: x0.type, rank: r === undefined || x0.rank === undefined ? undefined : Math.max(r, x0.rank) }];
      }
      case 'Squeeze': return [{ type: x0.type, rank: add(x0.rank, axesCount() === undefined ? undefined : -axesCount()!) }];
      case 'Unsqueeze': return [{ type: x0.type, rank: add(x0.rank, axesCount()) }];
      case 'Concat': return [{ type: inputs.find((f) => f.type !== undefined)?.type, rank: inputs.find((f) => f.rank !== undefined)?.rank }];
      case 'Split': return all({ type: x0.type, rank: x0.rank });
      case 'Gather': return [{ type: x0.type, rank: x0.rank === undefined || inputs[1]?.rank === undefined ? undefined : x0.rank - 1 + inputs[1].rank }];
      case 'TopK': return [{ type: x0.type, rank: x0.rank }, { type: DataType.INT64, rank: x0.rank }];
      case 'Range': return [{ type: x0.type, rank: 1 }];
      case 'ConstantOfShape': {
        const v = constantTensor({ op_type: 'Constant', attribute: (n.attribute ?? []).filter((a) => a.name === 'value') });
        return [{ type: v?.data_type ?? DataType.FLOAT, rank: rankOf(n.input?.[0]) }];
      }
      case 'QuantizeLinear': return [{ type: inputs[2]?.type ?? DataType.UINT8, rank: x0.rank }];
      case 'DequantizeLinear': return [{ type: inputs[1]?.type ?? DataType.FLOAT, rank: x0.rank }];
      case 'DynamicQuantizeLinear': return [{ type: DataType.UINT8, rank: x0.rank }, { type: DataType.FLOAT, rank: 0 }, { type: DataType.UINT8, rank: 0 }];
      case 'ConvInteger': return [{ type: DataType.INT32, rank: x0.rank }];
      case 'LSTM': case 'GRU': case 'RNN': return all({ type: x0.type });
      case 'If': {
        const then = subgraphs.find((g) => g.path.endsWith('.then_branch'));
        if (!then) return all({});
        const f = this.facts.get(then.graph);
        return (then.graph.output ?? []).map((v) => {
          const own = f?.get(v.name ?? '') ?? this.get(v.name ?? '', then);
          const declared = v.type?.tensor_type;
          return { type: declared?.elem_type || own.type, rank: declared?.shape ? (declared.shape.dim ?? []).length : undefined };
        });
      }
      case 'Loop': case 'Scan': {
        const body = subgraphs[0];
        if (!body) return all({});
        // Loop: outputs = body outputs after cond (states, then scan outputs of one more rank).
        const skip = op === 'Loop' ? 1 : 0;
        return (body.graph.output ?? []).slice(skip).map((v) => ({ type: v.type?.tensor_type?.elem_type || this.get(v.name ?? '', body).type }));
      }
    }
    return all({});
  }
}
