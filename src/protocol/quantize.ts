// What the quantizer takes and gives, as plain data: the options of a quantization (the CLI parses them,
// the extension sends them to the job process) and its report (printed, sent back, shown in a panel).

export type QuantMode = 'dynamic' | 'static' | 'weight-only';
export type QuantFormat = 'qdq' | 'qoperator';
export type WeightType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int4' | 'uint4';
export type ActivationType = 'uint8' | 'int8' | 'uint16' | 'int16';
export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';

export interface CalibrationOptions {
  method?: CalibrationMethod;
  /** Percentile for the `percentile` method, in (90, 100]; default 99.999. */
  percentile?: number;
  /** A folder of .npy/.npz files or test_data_set_* folders of TensorProto .pb files. */
  dataDir?: string;
  /** Seeded random inputs instead of data (flagged in the report as unrepresentative). */
  randomSamples?: number;
  /** Use at most this many samples. */
  maxSamples?: number;
}

/** What the caller asks for. Every field is optional; `resolveOptions` supplies the defaults. */
export interface QuantizeOptions {
  mode?: QuantMode;
  /** qoperator (dynamic, weight-only) or qdq (the default of static). */
  format?: QuantFormat;
  weightType?: WeightType;
  activationType?: ActivationType;
  /** One scale per output channel (Conv axis 0, MatMul/Gemm B's output-feature axis). Default: true for static, else false. */
  perChannel?: boolean;
  /** Symmetric weights (zero point in the middle of the range). Default: true for signed types, false for unsigned. */
  symmetricWeights?: boolean;
  /** Symmetric activations (static only). */
  symmetricActivations?: boolean;
  /** 7-bit weights, for CPUs without VNNI (dynamic and static). */
  reduceRange?: boolean;
  /** Op types to quantize (default: MatMul and Gemm; dynamic mode also takes Conv when named). */
  opTypes?: string[];
  /** Quantize only nodes whose name matches one of these names or glob patterns (`*`, `?`). */
  include?: string[];
  /** Leave nodes whose name matches one of these names or glob patterns in float. */
  exclude?: string[];
  /**
   * Static QDQ: quantize the input and output activations of nodes matching these names or globs to 16 bits
   * (uint16, or int16 with int8 activations) and the rest to the activation type: more accurate for layers
   * that lose much to 8 bits, at about their float speed (onnxruntime has no 16-bit kernel for them).
   */
  activations16?: string[];
  /** Keep the first quantizable node of the main graph in float. */
  keepFirstLayer?: boolean;
  /** Keep the last quantizable node of the main graph in float. */
  keepLastLayer?: boolean;
  /** Weight-only: elements per block along K, a power of two in 16..256 (default 32). */
  blockSize?: number;
  /** Weight-only: MatMulNBits accuracy_level 0..4 (default 4: int8 compute, the fast CPU path). */
  accuracyLevel?: number;
  /** Static: quantize constant biases of Conv and Gemm to int32 (default true: onnxruntime fuses only such nodes). */
  quantizeBias?: boolean;
  /** Static: how activation ranges are found. */
  calibration?: CalibrationOptions;
  /** Static: SmoothQuant with this alpha in (0, 1) (true: 0.5). */
  smoothQuant?: boolean | number;
  /** Static: equalize the channels of the activation between a Conv and a depthwise Conv (default true; exact in float). */
  equalize?: boolean;
  /**
   * Static: keep the nodes that lose the most in float until every float output reaches this cosine
   * similarity with the float model's on the calibration samples (in (0, 1); e.g. 0.99), or each output
   * its own: `{ scores: 0.99, boxes: 0.999 }` (`*`: the outputs not named).
   */
  accuracyTarget?: AccuracyTargetSpec;
  /** Static, with an accuracy target: keep at most this many nodes in float (default: no limit). */
  maxFloatNodes?: number;
}

// The result of a quantization, as plain JSON (it crosses the job-process and webview boundaries and is
// what `onnxq quantize --json` prints).

export interface QuantizedWeight {
  /** The weight as stored in the source model. */
  name: string;
  /** Node(s) that read it. */
  nodes: string[];
  shape: number[];
  /** e.g. `int8 symmetric per-channel`, `int4 symmetric block 32`. */
  scheme: string;
  /** Quantization signal-to-noise ratio in dB: 10 log10(sum w^2 / sum (w - dequant(q))^2); null when exact. */
  sqnr: number | null;
  bytesBefore: number;
  bytesAfter: number;
}

export interface SkippedNode {
  name: string;
  opType: string;
  /** The graph holding it: `main` or a subgraph path. */
  graph: string;
  reason: string;
}

/** How static quantization found its activation ranges. */
export interface CalibrationSummary {
  method: CalibrationMethod;
  /** The percentile of the `percentile` method, else null. */
  percentile: number | null;
  /** Samples run through the model. */
  samples: number;
  /** Seeded random inputs: not representative of real data, so the ranges (and the accuracy) are not either. */
  random: boolean;
  /** Where the samples came from: the data folder, or `random (seed S)`. */
  source: string;
  /** Activation tensors whose range was calibrated (tensors that share a range through data-movement ops not counted). */
  tensors: number;
  /** Activation tensors no sample reached (in an If branch that never ran): their nodes stay in float. */
  unreached: string[];
  /** Activation tensors that got QuantizeLinear/DequantizeLinear (calibrated and propagated). */
  quantizedActivations: number;
  /** Relu/Clip nodes merged into the quantization of the value they read. */
  foldedActivations: string[];
  /** BatchNormalization nodes, and Adds of a per-channel constant, folded into the Conv before them. */
  foldedIntoConv: string[];
}

/**
 * An accuracy target: the cosine similarity every float output must reach, or one per output name
 * (`*` for the outputs not named).
 */
export type AccuracyTargetSpec = number | Record<string, number>;

/** What the accuracy target (--accuracy-target) did: the nodes it kept in float and the closeness it reached. */
export interface FallbackSummary {
  /** The cosine similarity asked for, of each float output on its own (quantized against float). */
  target: AccuracyTargetSpec;
  /** Calibration samples the outputs were compared on. */
  samples: number;
  /** Cosine of the worst output (the one furthest below its target) with every node quantized, and with the nodes below in float. */
  cosineBefore: number;
  cosineAfter: number;
  /** Every judged output reached its target. */
  met: boolean;
  /** The output furthest below (or least above) its target at the end. */
  worstOutput: string;
  /** Per judged output: its target and cosine before and after. */
  outputs: { name: string; target: number; cosineBefore: number; cosineAfter: number }[];
  /** Nodes kept in float, in the order they were chosen. */
  inFloat: string[];
  /** The --max-float-nodes limit; null: none. */
  maxNodes: number | null;
  /** Models built and compared. */
  evaluations: number;
  /**
   * The models compared: why (measure: the groups of activations that dropped the SQNR most in the run
   * before, added in batches of 1, 2, 4, 4, ... with every layer measured; prefix: the shortest part of
   * the last batch that still met the target; prune: nodes given back to int8 where the target held
   * without them), the activations and nodes in float, and the output cosine.
   */
  steps: { phase: 'measure' | 'prefix' | 'prune'; tensors: number; nodes: number; cosine: number; worstOutput: string }[];
  seconds: number;
}

/** One smoothed activation, for the report. */
export interface SmoothedActivation {
  /** The activation's name. */
  activation: string;
  /** The nodes that read it (their weights took s). */
  consumers: string[];
  /** Where 1/s went: the producer's op type (folded), or `Mul` (inserted). */
  foldedInto: string;
  channels: number;
  /** max s / min s over the channels: how unequal the channels were. */
  spread: number;
}

/**
 * An optional transform's gain: the model quantized with every node in int8, without and with it, against
 * the float model on the first calibration samples: cosine similarity and SQNR (dB) of the worst output
 * (each output on its own).
 */
export interface TransformComparison { samples: number; cosineWithout: number; cosineWith: number; sqnrWithout: number | null; sqnrWith: number | null }

/** What Conv -> depthwise Conv equalization did, and what it gave. */
export interface EqualizationSummary {
  /** The pairs equalized (`conv -> depthwise`). */
  pairs: string[];
  /** Null when not measured. */
  comparison: TransformComparison | null;
  /** False when it made the worst output worse: the model was written without it. */
  kept: boolean;
}

/** What SmoothQuant did, and what it gave. */
export interface SmoothQuantSummary {
  alpha: number;
  smoothed: SmoothedActivation[];
  /** Calibration samples its per-channel statistics came from. */
  samples: number;
  /** Null when not measured. */
  comparison: TransformComparison | null;
  /** False when it made the worst output worse: the model was written without it. */
  kept: boolean;
}

export interface QuantizeReport {
  mode: QuantMode;
  format: QuantFormat;
  weightType: string;
  activationType: string | null;
  perChannel: boolean;
  symmetricWeights: boolean;
  reduceRange: boolean;
  blockSize: number | null;
  accuracyLevel: number | null;
  opTypes: string[];
  /** Bytes of the source model (file plus external data), when it came from a file. */
  sizeBefore: number;
  /** Bytes written (file plus external data); 0 until written. */
  sizeAfter: number;
  /** Weight bytes of the tensors that were quantized, before and after. */
  weightBytesBefore: number;
  weightBytesAfter: number;
  /** Names of the nodes that were quantized (unnamed nodes by their first output). */
  quantized: string[];
  /** Op types emitted for the quantized nodes, with counts. */
  emitted: Record<string, number>;
  skipped: SkippedNode[];
  weights: QuantizedWeight[];
  /** Static quantization: calibration method, samples and what came of it; null for other modes. */
  calibration: CalibrationSummary | null;
  /** Seconds per phase (load, calibrate, quantize, write, check, ...) and in total. */
  seconds: Record<string, number>;
  opsetUpgrade: { from: number; to: number; rewritten: string[] } | null;
  /** Things worth knowing that are not errors (unmatched name patterns, forced schemes, nothing to do). */
  notes: string[];
  /** Static quantization with SmoothQuant (--smooth-quant): what was smoothed and the gain. */
  smoothQuant?: SmoothQuantSummary;
  /** Static quantization of a model with Conv -> depthwise Conv pairs (unless --no-equalize). */
  equalization?: EqualizationSummary;
  /** Static quantization with an accuracy target (--accuracy-target): the nodes kept in float. */
  accuracy?: FallbackSummary;
  /** The accuracy target's verdict, in short (the details are in `accuracy`). */
  accuracyTarget?: { target: AccuracyTargetSpec; met: boolean; worstOutput: string };
  /**
   * The written model against the source, per output, measured after quantizing (when the caller asked
   * for it): on samples not used for calibration where there are any.
   */
  outputs?: OutputAccuracy[];
  outputsMeasuredOn?: { source: string; samples: number; random: boolean; heldOut: boolean };
  /**
   * Outputs that dropped behind a discontinuous op (ArgMax, a comparison, ...): the quantized nodes that
   * feed it, which the user may keep in float (the notes say the same in words).
   */
  floatSuggestions?: { output: string; ops: string[]; nodes: string[] }[];
}

/** One output of the quantized model against the source model's: pooled over the samples. */
export interface OutputAccuracy {
  name: string;
  cosine: number;
  /** null: infinite (identical outputs). */
  sqnrDb: number | null;
  maxAbs: number;
  /** The cosine of the worst sample. */
  worstCosine: number;
}

/** What one kind of quantization would do to a model, found by marking alone (src/quantize/advice.ts). */
export interface ModeAdvice {
  mode: QuantMode;
  /** Nodes it would quantize, and by op type. */
  count: number;
  byOp: Record<string, number>;
  /** Why it comes first (only the first of QuantizeAdvice.order has one). */
  why: string;
}

/** The kinds of quantization in the order that suits the model: the first is the one to try. */
export interface QuantizeAdvice {
  order: ModeAdvice[];
  /** Elements of the largest constant MatMul/Gemm weight. */
  largestMatMul: number;
}
