// The link between the extension (src/jobs/client.ts) and the background job process
// (src/jobs/child.ts, forked with `serialization: 'advanced'`). Both ends import this file.
//
// Parent -> child: requests, each with an id. Child -> parent: progress for a request, then exactly one
// reply for it (a result or a typed error). Cancellation does not travel as a message: the parent kills
// the child (SIGKILL) and forks a fresh one for the next request.
import type { InspectReport } from './inspect';
import type { QuantizeAdvice, QuantizeOptions, QuantizeReport } from './quantize';
import type { ErrorData, JsonText } from './common';
import type { ComparePolicy, CompareResult, Provider, ProviderStatus } from './compare';
import type { InputSpec } from './inputSpec';
import type { BenchOptions, BenchResult } from './bench';
import type { FindResult, GraphData, WeightDetail, WeightSummary } from './graph';

export type { ErrorData } from './common';

/** Bumped when a message changes shape; the child reports it in `ready`. */
export const JOB_PROTOCOL_VERSION = 9;

// ---------------------------------------------------------------------------------------------------
// Parent -> child

/** Read a model and summarise it (`inspectFile` of the core). */
export interface InspectRequest {
  type: 'inspect';
  id: number;
  /** Absolute path of the .onnx file. */
  path: string;
  /** How many of the largest tensors to list. */
  largest: number;
  /** Compute statistics (and histograms) for the listed tensors. */
  stats: boolean;
  /** Histogram bins when `stats` is true. */
  bins: number;
}

/**
 * What the model editor paints first, in one round trip: the summary and the main graph. The child keeps
 * the parsed model for the requests that follow (the weight list, subgraphs, statistics, histograms), so
 * the file is parsed once.
 */
export interface OpenModelRequest {
  type: 'openModel';
  id: number;
  path: string;
  /** How many of the largest tensors the summary lists. */
  largest: number;
}

/** The nodes of every graph of the model that match a query (the graph view's find). */
export interface FindRequest {
  type: 'find';
  id: number;
  path: string;
  query: string;
}

/** One graph of the model (the main graph or a subgraph) as the graph view draws it. */
export interface GraphRequest {
  type: 'graph';
  id: number;
  path: string;
  /** The graph's path: `main` or e.g. `main/If_0.then_branch`. */
  graph: string;
}

/**
 * Every weight of the model without statistics (the Weights tab, a node's weights): asked for as soon as
 * `openModel` answered, so it is made while the webview draws the graph.
 */
export interface WeightListRequest {
  type: 'weightList';
  id: number;
  path: string;
}

/** Every weight of the model with its statistics (min, max, mean, std, sparsity, outlier score). */
export interface WeightStatsRequest {
  type: 'weightStats';
  id: number;
  path: string;
}

/** One weight's histogram, percentiles and per-channel ranges. */
export interface WeightDetailRequest {
  type: 'weightDetail';
  id: number;
  path: string;
  /** The weight's index in the weight list (WeightSummary[]; names can repeat across subgraphs). */
  weight: number;
  bins: number;
  /** A stored-quantized weight's codes rather than the values they stand for. */
  codes?: boolean;
  /** A model compared with this one (its quantized copy, or its FP32 source): the weight against the grid. */
  counterpart?: string;
}

/**
 * Quantize a model into a new file (`quantizeFile` of the core; every result is loaded in onnxruntime
 * before it is moved into place). Static quantization calibrates on `options.calibration` (a data folder
 * or seeded random samples). Runs in a job process of its own, so the editor's requests do not wait.
 */
export interface QuantizeRequest {
  type: 'quantize';
  id: number;
  path: string;
  /** Absolute path of the new model (never the source). */
  output: string;
  options: QuantizeOptions;
  /** What to feed the model: random calibration samples and the comparison of the result with the source. */
  spec?: InputSpec;
}

/** Which kinds of quantization suit the model, in order, and what each would quantize (nothing is written). */
export interface AdviseRequest {
  type: 'advise';
  id: number;
  path: string;
}

/**
 * Run two models on the same inputs and compare every output (`compareModels` of the runtime), or one
 * model against saved outputs (`expected`: a folder of test_data_set_N folders).
 */
export interface CompareRequest {
  type: 'compare';
  id: number;
  /** The reference model (A). */
  path: string;
  /** The candidate model (B); null with `expected`. */
  other: string | null;
  expected?: string;
  spec: InputSpec;
  providers: Provider[];
  allowCpuFallback: boolean;
  policy: ComparePolicy;
  /** Sampled (reference, candidate) pairs per output for the plots. */
  plotPoints: number;
  /** Also compare every layer (the quantized model's tensors against the FP32 ones they stand for). */
  layers: boolean;
}

/** Benchmark `files` (`path` is the first) on each provider: latency, memory, the speed-up and why (src/runtime/bench/). */
export interface BenchRequest extends BenchOptions {
  type: 'bench';
  id: number;
  path: string;
  files: string[];
  spec: InputSpec;
}

/** Which execution providers onnxruntime-node offers here and whether each can start (`path` is unused: ''). */
export interface ProvidersRequest {
  type: 'providers';
  id: number;
  path: string;
}

export type JobRequest = InspectRequest | OpenModelRequest | GraphRequest | FindRequest | WeightListRequest | WeightStatsRequest | WeightDetailRequest | QuantizeRequest | AdviseRequest | CompareRequest | BenchRequest | ProvidersRequest;
export type JobKind = JobRequest['type'];
/** The fields of a request other than `type` and `id`. */
export type JobParams<K extends JobKind> = Omit<Extract<JobRequest, { type: K }>, 'type' | 'id'>;
/** What each kind of request answers with. */
export interface JobResults {
  inspect: InspectReport;
  openModel: OpenModelResult;
  graph: GraphData;
  find: FindResult;
  /** JSON text, passed through to the webview as it is (JsonText says why). */
  weightList: JsonText<WeightSummary[]>;
  weightStats: WeightSummary[];
  weightDetail: WeightDetail;
  quantize: QuantizeReport;
  advise: QuantizeAdvice;
  compare: CompareResult;
  bench: BenchResult;
  providers: ProviderStatus[];
}

export interface OpenModelResult {
  report: InspectReport;
  /** The main graph as JSON text, passed through to the webview as it is (JsonText says why). */
  graph: JsonText<GraphData>;
  /** How many weights the model has (the list comes with `weightList`). */
  weightCount: number;
  /** Where the child spent its time (ms): reading the file, decoding, building the summary and the graph, writing the graph as JSON. */
  timings: { readMs: number; parseMs: number; reportMs: number; graphMs: number; encodeMs: number };
}

// ---------------------------------------------------------------------------------------------------
// Child -> parent

/** Sent once, when the child has loaded and listens. */
export interface ChildReadyMessage {
  type: 'ready';
  pid: number;
  protocol: number;
  node: string;
}

export type JobStage = 'reading' | 'statistics' | 'calibrating' | 'comparing' | 'quantizing' | 'benchmarking' | 'finishing';

export interface JobProgressMessage {
  type: 'progress';
  id: number;
  stage: JobStage;
  /** Short text for a progress notification, e.g. "Reading mnist.onnx (26 KB)". */
  message: string;
  /** 0..1 when known. */
  fraction?: number;
}

export interface JobResultMessage<K extends JobKind = JobKind> {
  type: 'result';
  id: number;
  kind: K;
  result: JobResults[K];
}

export interface JobErrorMessage {
  type: 'error';
  id: number;
  error: ErrorData;
}

/** Something the child wants written to the extension's log (never shown as a UI error by itself). */
export interface ChildLogMessage {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
}

export type ChildMessage = ChildReadyMessage | JobProgressMessage | JobResultMessage | JobErrorMessage | ChildLogMessage;

// ---------------------------------------------------------------------------------------------------
// Error codes that the job layer itself produces (the core adds its own, e.g. from OnnxError).

export type JobErrorCode =
  /** The caller aborted the request; the child was killed. */
  | 'cancelled'
  /** The request ran longer than its timeout; the child was killed. */
  | 'timeout'
  /** The child exited or was killed by a signal while requests were pending. */
  | 'crashed'
  /** The child could not be started (missing bundle, fork failure). */
  | 'spawn-failed'
  /** The client was disposed while the request was pending. */
  | 'disposed'
  /** The child sent something that does not fit this protocol. */
  | 'protocol'
  /** An unexpected exception in the child that is not a typed core error. */
  | 'internal';

/** Type guard for messages arriving from the child over IPC (untrusted shape). */
export function isChildMessage(value: unknown): value is ChildMessage {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'ready' || type === 'progress' || type === 'result' || type === 'error' || type === 'log';
}

/** Type guard for messages arriving at the child. */
export function isJobRequest(value: unknown): value is JobRequest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { type?: unknown; id?: unknown; path?: unknown; graph?: unknown; bins?: unknown };
  if (typeof v.id !== 'number' || typeof v.path !== 'string') return false;
  switch (v.type) {
    case 'inspect':
    case 'openModel':
    case 'weightList':
    case 'weightStats':
    case 'providers':
    case 'advise':
      return true;
    case 'graph':
      return typeof v.graph === 'string';
    case 'find':
      return typeof (value as { query?: unknown }).query === 'string';
    case 'weightDetail':
      return typeof (value as { weight?: unknown }).weight === 'number' && typeof v.bins === 'number';
    case 'compare': {
      const c = value as { other?: unknown; spec?: unknown; providers?: unknown; policy?: unknown };
      return (c.other === null || typeof c.other === 'string') && typeof c.spec === 'object' && Array.isArray(c.providers) && typeof c.policy === 'object';
    }
    case 'bench': {
      const b = value as { files?: unknown; spec?: unknown };
      return Array.isArray(b.files) && b.files.every((f) => typeof f === 'string') && typeof b.spec === 'object' && b.spec !== null;
    }
    case 'quantize': {
      const q = value as { output?: unknown; options?: unknown };
      return typeof q.output === 'string' && typeof q.options === 'object' && q.options !== null;
    }
    default:
      return false;
  }
}
