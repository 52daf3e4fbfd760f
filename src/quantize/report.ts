// The result of a quantization, as plain JSON (it crosses the job-process and webview boundaries and is
// what `onnxq quantize --json` prints).
import type { CalibrationMethod, QuantFormat, QuantMode } from './options';

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
   * The models compared: why (each group of activations measured on top of those kept, the best groups
   * added while they helped, the noisiest of the others added until the target, then each of those
   * given back to int8 if the target held without it), the activations and nodes in float, and the
   * output cosine.
   */
  steps: { phase: 'measure' | 'greedy' | 'prefix' | 'prune'; tensors: number; nodes: number; cosine: number; worstOutput: string }[];
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

/** What SmoothQuant did, and what it gave. */
export interface SmoothQuantSummary {
  alpha: number;
  smoothed: SmoothedActivation[];
  /** Calibration samples its per-channel statistics came from. */
  samples: number;
  /**
   * The quantized model's outputs against the float model's, without and with SmoothQuant, on the first
   * calibration samples: cosine similarity and SQNR (dB) of all outputs joined. Null when not measured.
   */
  comparison: { samples: number; cosineWithout: number; cosineWith: number; sqnrWithout: number | null; sqnrWith: number | null } | null;
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

/** The target as the user gave it: `0.99` or `scores=0.99,boxes=0.999`. */
export function describeTarget(t: AccuracyTargetSpec): string {
  return typeof t === 'number' ? String(t) : Object.entries(t).map(([k, v]) => `${k}=${v}`).join(',');
}
