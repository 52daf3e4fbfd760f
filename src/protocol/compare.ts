// What a comparison of two models' outputs gives (src/runtime/compareModels.ts), as plain data: the CLI
// prints it, the job process sends it to the extension, the results panel draws it.
import type { LayerComparison } from './layers';

/** The execution providers onnxruntime-node knows by name (see its `listSupportedBackends`). */
export const PROVIDERS = ['cpu', 'webgpu', 'cuda', 'tensorrt', 'dml', 'coreml'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const isProvider = (s: unknown): s is Provider => typeof s === 'string' && (PROVIDERS as readonly string[]).includes(s);

/** Whether an execution provider onnxruntime-node has can start on this machine. */
export interface ProviderStatus {
  name: Provider;
  /** Part of the onnxruntime-node build for this platform (perhaps after an opt-in download). */
  offered: boolean;
  /** A session started on it here. */
  available: boolean;
  /** Why it cannot start, and what to do (null when available). */
  reason: string | null;
}

/** Which provider ran a model, and what happened to those before it in the list. */
export interface ProviderOutcome {
  requested: Provider[];
  used: Provider;
  /** The providers that could not start, each with the reason. */
  skipped: { provider: Provider; reason: string }[];
  /** The CPU ran it because none of the requested providers could start and the user allowed it. */
  cpuFallback: boolean;
}

/**
 * The difference between a reference (A) and a candidate (B). cosine: 1 when both are all zeros, 0 when
 * only one is. sqnrDb: 10 log10(sum a^2 / sum (a - b)^2), +Infinity when identical, -Infinity when A is all
 * zeros and B is not (JSON, and structured clone to a webview, keep numbers; JSON writes both as null).
 */
export interface DiffFigures {
  /** Elements compared. */
  count: number;
  maxAbs: number;
  meanAbs: number;
  rmse: number;
  cosine: number;
  sqnrDb: number;
  /** B equals A element for element. */
  identical: boolean;
  /** Elements where one side is NaN or infinite and the other is not the same value. */
  nonFiniteMismatch: number;
}

/** |a - b| <= atol + rtol * |a| element-wise (numpy.allclose with A as the reference). */
export interface Tolerance { atol: number; rtol: number }

/** How the top-k of a classifier output agree: rows over the last axis, over every sample. */
export interface TopKAgreement {
  k: number;
  rows: number;
  /** Share of rows whose reference top-1 class is among the candidate's top k. */
  agreement: number;
}

/** Sampled values of one output for the plots: pairs (reference, candidate) and a histogram of b - a. */
export interface OutputPlot {
  /** Up to a few thousand pairs, sampled evenly over every sample's values. */
  a: number[];
  b: number[];
  /** Counts of b - a in `bins` equal bins from `min` to `max` (over the sampled pairs). */
  errorHistogram: { min: number; max: number; counts: number[] };
}

export interface OutputComparison {
  name: string;
  /** Element type and shape (of the first sample). */
  type: string;
  dims: number[];
  /** One entry per sample, in order. */
  samples: DiffFigures[];
  worst: DiffFigures;
  mean: DiffFigures;
  /** Every sample pooled into one vector (what the accuracy target reads). */
  pooled: DiffFigures;
  topK?: TopKAgreement;
  /** With a tolerance: elements outside it, over every sample. */
  outside?: number;
  /** When asked for (the results panel). */
  plot?: OutputPlot;
}

export interface ComparePolicy {
  tolerance?: Tolerance;
  /** Lowest acceptable cosine of any sample of an output, and of all its samples pooled. */
  minCosine?: number;
  /** Per output name: the k of a top-k agreement to report. */
  topK?: Record<string, number>;
}

/** A dim that no input spec entry sized: it is 1. */
export interface DefaultedDim { input: string; axis: number; name: string | null }

export interface ModelRun {
  file: string;
  provider: ProviderOutcome;
}

export interface JudgedOutput extends OutputComparison {
  /** Against the policy: null when no tolerance was given. */
  pass: boolean | null;
  failures: string[];
}

export interface CompareResult {
  /** The reference (A) and the candidate (B; the same file when checked against saved outputs). */
  a: ModelRun;
  b: ModelRun;
  /** Saved outputs the model was checked against (--expected), else null. */
  expected: string | null;
  inputs: { source: string; random: boolean; samples: number; shapes: Record<string, number[]>; defaulted: DefaultedDim[] };
  outputs: JudgedOutput[];
  policy: ComparePolicy;
  /** The worst output decides; null when no tolerance was given. */
  pass: boolean | null;
  /** The output with the lowest worst-sample cosine. */
  worstOutput: string | null;
  /** Per layer, when asked for (compare --layers). */
  layers?: LayerComparison;
  seconds: number;
}
