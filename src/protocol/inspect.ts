// The shape of `onnxq inspect --json` and of the summary the editor shows. Plain JSON: it crosses the
// job-process and webview boundaries as is.

/** A dimension: a number, a symbolic name, or null when unknown. */
export type Dim = number | string | null;

export interface ValueInfo {
  name: string;
  /** ONNX TensorProto type name in lower case (`float`, `int64`, ...); `sequence`, `map`, `optional` or `unknown` for non-tensors. */
  dtype: string;
  /** null when the rank is unknown. */
  shape: Dim[] | null;
  /** The shape was seen in one run on the input spec (rules cannot tell it: it depends on the data). */
  observed?: true;
}

export interface TensorStats {
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Fraction of elements that are exactly zero (0..1). */
  sparsity: number;
  zeros: number;
  nan: number;
  inf: number;
  /** Finite elements counted in the histogram. */
  count: number;
  histogram: { min: number; max: number; counts: number[] };
  percentiles: Record<string, number>;
}

/** What every listing of a weight says about it. */
export interface TensorIdentity {
  name: string;
  dtype: string;
  shape: number[];
  elements: number;
  bytes: number;
  /** Where the tensor lives: an initializer, a Constant node's value, a sparse initializer. */
  origin: 'initializer' | 'constant' | 'sparse-initializer';
  /** The graph holding it: `main`, or a path like `main/If_0.then_branch`. */
  graph: string;
}

export interface TensorSummary extends TensorIdentity {
  external?: { location: string; offset: number; length: number };
  stats?: TensorStats;
}

export interface InspectReport {
  file: string;
  fileBytes: number;
  irVersion: number;
  /** Opset version per domain; the default domain is `ai.onnx`. */
  opsets: Record<string, number>;
  producer: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  metadata: Record<string, string>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Every node of the main graph and all nested subgraphs, Constant nodes included, function bodies not. */
  nodeCount: number;
  opHistogram: Record<string, number>;
  subgraphCount: number;
  functions: { domain: string; name: string; nodeCount: number }[];
  parameters: { count: number; bytes: number; byDtype: Record<string, { count: number; bytes: number }> };
  externalData: { location: string; bytes: number; tensors: number }[];
  /** The largest tensors (by bytes), statistics included when asked for. */
  tensors: TensorSummary[];
  /**
   * With --shapes: every value of the main graph (its inputs, initializers and node outputs, in that order)
   * with the dtype and shape the model declares or shape inference gives (`unknown` and null where neither).
   */
  valueInfo?: ValueInfo[];
}
