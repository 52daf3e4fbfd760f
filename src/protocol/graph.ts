// What the model editor's webview receives to draw a graph and its weights: compact, plain JSON, never
// protobuf and never whole tensors. Built by src/onnx/graphData.ts (core), laid out by
// webview/graph/layout.ts (in a web worker), drawn by webview/graph/*. Both ends import this file.
//
// Changes by the core side (graphData.ts), all additive: GraphData.label; WeightSummary.consumers[].graph
// and .index (empty or repeated node names cannot identify a node); WeightSummary.statsError; WeightDetail.index.
// Quantized ops (ConvInteger, QLinearConv, MatMulInteger, QLinearMatMul, MatMulNBits, ...) are category
// 'quantization', not 'conv' / 'matmul' (the issue asks for them to stand out); the comments below say so.
// Attribute values: tensors read `float[3,3] {0.1, 0.2, …}` (dtype as GraphValueData.dtype names it),
// graphs `<graph name: N nodes>`, long lists `[1, 2, 3, 4, 5, 6, 7, 8, … (100)]`; strings are raw (escape them).
import type { Dim, TensorIdentity, TensorStats } from './inspect';

/** Colour families of the graph view. */
export type OpCategory =
  | 'conv'            // Conv, ConvTranspose (float; the integer / QLinear forms are 'quantization')
  | 'matmul'          // MatMul, Gemm, Einsum, Attention-like ops (float)
  | 'activation'      // Relu, Sigmoid, Tanh, Gelu, HardSigmoid, Clip, Softmax, ...
  | 'normalization'   // BatchNormalization, LayerNormalization, InstanceNormalization, ...
  | 'pool'            // MaxPool, AveragePool, GlobalAveragePool, ...
  | 'elementwise'     // Add, Mul, Sub, Div, Pow, Sqrt, ...
  | 'reduce'          // ReduceMean, ReduceSum, ArgMax, ...
  | 'shape'           // Reshape, Transpose, Concat, Slice, Gather, Squeeze, Shape, Cast, ...
  | 'quantization'    // QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, QLinear*, ConvInteger, MatMulInteger, MatMulNBits
  | 'control'         // If, Loop, Scan
  | 'recurrent'       // LSTM, GRU, RNN
  | 'constant'        // Constant
  | 'other';

export interface GraphAttribute {
  name: string;
  /** ONNX attribute type in lower case: `int`, `floats`, `tensor`, `graph`, ... */
  type: string;
  /** Formatted for display; tensors are summarised (dtype, shape, a few values), never sent whole. */
  value: string;
}

export interface GraphNodeData {
  op: string;
  /** '' for the default ONNX domain. */
  domain: string;
  name: string;
  category: OpCategory;
  /** Value ids (indexes into GraphData.values); -1 for an omitted optional input. */
  inputs: number[];
  outputs: number[];
  attributes: GraphAttribute[];
  /** Subgraphs held by this node's attributes (If branches, Loop/Scan bodies). */
  subgraphs: { attribute: string; path: string }[];
}

export type ValueKind = 'input' | 'output' | 'weight' | 'intermediate' | 'outer';

export interface GraphValueData {
  name: string;
  /** Lower-case TensorProto type name, or null when unknown. */
  dtype: string | null;
  /** null when the shape is unknown; dims as in ValueInfo (number, symbolic name, or null). */
  shape: Dim[] | null;
  kind: ValueKind;
  /** Index into the model's weight list (WeightSummary[]) for initializers and Constant outputs. */
  weight?: number;
}

/** One graph: the main graph or a subgraph, addressed by its path (`main`, `main/If_0.then_branch`). */
export interface GraphData {
  path: string;
  name: string;
  /** Breadcrumb label of this graph: the main graph's name (or `main`), else `<node>.<attribute>`. */
  label: string;
  /** From the main graph down to this one's parent, for the breadcrumb. */
  ancestors: { path: string; label: string }[];
  nodes: GraphNodeData[];
  values: GraphValueData[];
  /** Value ids of the graph's inputs (initializers excluded) and outputs. */
  inputs: number[];
  outputs: number[];
}

/** A node found by the model-wide find: in which graph, which node, and on what the query matched. */
export interface FindMatch {
  /** The graph's path (`main`, `main/If_0.then_branch`). */
  graph: string;
  /** Index in that graph's GraphData.nodes. */
  node: number;
  op: string;
  name: string;
  on: 'op' | 'name' | 'tensor';
}

export interface FindResult {
  query: string;
  /** In graph order (the main graph first, then each subgraph as Model.graphs() lists them), at most FIND_LIMIT. */
  matches: FindMatch[];
  /** How many nodes match in all. */
  total: number;
}

/** How the model stores a quantized weight: the op that gives its scale and zero point, and how they apply. */
export interface StoredQuantization {
  /** The consuming op that holds the scale (`DequantizeLinear`, `QLinearConv`, `MatMulNBits`, ...). */
  via: string;
  /** `per tensor`, `per channel (axis 0)`, `blocks of 32 along axis 1`, ... */
  scheme: string;
  /** How many scales. */
  scales: number;
  /** Dims of the values the codes stand for (MatMulNBits unpacks [N, blocks, bytes] codes to [N, K]). */
  dims: number[];
}

/** A weight as the weights table shows it: statistics without the histogram (that comes on request). */
export interface WeightSummary extends TensorIdentity {
  /** Names of the nodes that consume it (for "used by", and to pick the per-channel axis). */
  consumers: {
    node: string; op: string; input: number;
    /** The consuming node's graph path and its index in GraphData.nodes of that graph. */
    graph: string; index: number;
  }[];
  stats?: Omit<TensorStats, 'histogram' | 'percentiles'> & {
    /** max |x| / std: how far the largest value stands out. */
    outlierScore: number;
  };
  /** Why stats are missing although asked for (for example an unreadable external data file). */
  statsError?: string;
  /**
   * For a weight the model stores quantized (integer codes read by a quantized op): how. `stats` are then
   * those of the values the codes stand for ((code - zero point) x scale), the codes one request away.
   */
  stored?: StoredQuantization;
}

/** What the weights view shows for a selected weight. */
export interface WeightDetail {
  name: string;
  /** For a stored-quantized weight: whether the figures are of the values the codes stand for or of the codes. */
  values?: 'dequantized' | 'codes';
  /** Index in the weight list (WeightSummary[]). */
  index: number;
  bins: number;
  histogram: { min: number; max: number; counts: number[] };
  percentiles: Record<string, number>;
  /** Per output channel, for Conv / MatMul / Gemm weights. */
  channels?: { axis: number; min: number[]; max: number[] };
  /**
   * How a quantized copy of the model (the one last compared with it) holds this weight: the FP32 values
   * against the quantization grid. An error string when the copy has no quantized form of it.
   */
  quantization?: WeightQuantization | { error: string };
}

/** An FP32 weight against its quantized form in another model (src/quantize/weightGrid.ts). */
export interface WeightQuantization {
  /** The other model's file name, and the FP32 and quantized tensor names. */
  model: string;
  fp32: string;
  quantized: string;
  /** int8, uint8, int4, ... */
  type: string;
  /** Per channel along `axis`, or one scale (axis null). */
  axis: number | null;
  /** Over the whole tensor: SQNR of the dequantized values (null in JSON when exact), share of values clipped to the grid's ends. */
  sqnrDb: number;
  clipped: number;
  /** Per channel (one entry without an axis). */
  channels: { sqnrDb: number; clipped: number; scale: number; zeroPoint: number }[];
  /** The channel the grid is drawn for: the lowest SQNR. */
  gridChannel: number;
  /** The representable values of that channel, lowest to highest (every one, at most 1024; else none). */
  grid: number[];
  /** Its step (the scale) and ends. */
  step: number;
  lowest: number;
  highest: number;
}
