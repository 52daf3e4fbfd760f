// What a benchmark gives (src/runtime/bench/), as plain data: the CLI prints it (text, JSON, CSV,
// Markdown), the job process sends it to the extension, the results panel draws it; and the messages
// between the benchmark's parent and the child process that runs each model.
import type { DefaultedDim, Provider, ProviderOutcome } from './compare';
import type { InputSpec } from './inputSpec';

/** Warm run times in milliseconds, summarised (percentiles interpolated linearly between ranks, as numpy's default). */
export interface LatencyStats {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
  /** Sample standard deviation (n - 1). */
  stddev: number;
  /** Coefficient of variation: stddev / mean. */
  cv: number;
}

/** Time per run spent in the kernels of one op type (onnxruntime's profile, averaged over the profiled runs). */
export interface OpTypeTime {
  opType: string;
  ms: number;
  /** Share of the time of all kernels. */
  share: number;
  /** Nodes of that op type in the graph onnxruntime ran. */
  nodes: number;
}

/** Time per run of one node of the graph onnxruntime ran (after its fusions). */
export interface NodeTime {
  node: string;
  opType: string;
  ms: number;
  /** The execution provider that ran it (CPUExecutionProvider, CUDAExecutionProvider, ...). */
  provider: string;
  /** The node of the model's own graph it came from (onnxruntime names fused nodes after it), or null (a node it added). */
  source: string | null;
}

/** Time per run of a node of the model's graph: the kernels onnxruntime made of it. */
export interface SourceNodeTime {
  node: string;
  ms: number;
  /** The kernels that came from it, as op type and time. */
  kernels: { opType: string; ms: number }[];
  /** Providers that ran them. */
  providers: string[];
}

export interface BenchProfile {
  /** Runs profiled (in a session of their own, after the timed runs: profiling slows runs down). */
  runs: number;
  /** Sum of the kernel times per run. */
  kernelMs: number;
  byOpType: OpTypeTime[];
  /** Every node, slowest first. */
  byNode: NodeTime[];
  /** The same time per node of the model's own graph (its fused or rewritten nodes summed), slowest first. */
  bySource: SourceNodeTime[];
  /** Under a provider other than the CPU: the nodes that ran on the CPU all the same. */
  cpuNodes: NodeTime[];
}

/** A node of the quantized model that onnxruntime still runs in float between DequantizeLinear (and QuantizeLinear) nodes. */
export interface UnfusedNode {
  node: string;
  opType: string;
  /** Why onnxruntime did not fuse it, where that can be told from the graph. */
  reason: string;
}

/** What onnxruntime made of the model's quantization (its optimized graph, optimization "all"). */
export interface FusionSummary {
  /** Integer kernels that onnxruntime runs, by op type (QLinearConv, QLinearMatMul, DynamicQuantizeMatMul, ...). */
  fused: Record<string, number>;
  /** ConvInteger nodes: on onnxruntime's CPU slower than float Conv. */
  convInteger: number;
  /** MatMulInteger nodes left unfused (the dynamic quantization of their input runs on its own). */
  matMulInteger: number;
  /** Conv/MatMul/Gemm nodes running in float on dequantized inputs. */
  unfused: UnfusedNode[];
  /** QuantizeLinear and DequantizeLinear nodes left in the optimized graph. */
  qdqLeft: number;
  /** Nodes of the optimized graph. */
  nodes: number;
}

/** The CPU's int8 instructions, read from the operating system. */
export interface CpuInt8 {
  arch: string;
  model: string;
  cores: number;
  /** The int8-relevant feature flags found (avx2, avx512_vnni, avx_vnni, amx_int8, asimddp, i8mm, ...). */
  flags: string[];
  /** The best int8 dot-product instruction set onnxruntime's CPU kernels use here. */
  best: 'amx' | 'avx512-vnni' | 'avx-vnni' | 'avx512' | 'avx2' | 'i8mm' | 'dotprod' | 'neon' | 'none' | 'unknown';
  /** What that means for int8 speed, in plain words. */
  note: string;
  /** Where the flags were read ("/proc/cpuinfo", "sysctl"), or why they could not be. */
  source: string;
}

/** One model on one execution provider. */
export interface BenchRun {
  /** A short name for tables (the file name, made unique). */
  label: string;
  file: string;
  sizeBytes: number;
  provider: ProviderOutcome;
  /** Session creation (load, optimize, kernels), timed on its own. */
  sessionMs: number;
  /** The first run after the session was created (allocations, lazy initialisation), not in latencyMs. */
  firstRunMs: number;
  warmup: number;
  /** Timed runs (all rounds). */
  iterations: number;
  latencyMs: LatencyStats;
  throughput: {
    inferencesPerSec: number;
    /** Batch size: the first dim of the first input when it is above 1, else null. */
    batch: number | null;
    samplesPerSec: number | null;
  };
  /** Peak resident memory of the process that ran it (Node and onnxruntime included), in MiB. */
  peakRssMb: number;
  /** The same process's resident memory before the session was created: peakRssMb less this is the model's. */
  baseRssMb: number;
  /** Every timed run, in milliseconds, round by round. */
  roundsMs: number[][];
  /** Coefficient of variation above NOISY_CV: the machine was busy or the run time varies by itself. */
  noisy: boolean;
  /** Outputs that held NaN or infinity on the benchmark's inputs (the run may have taken a cheap path). */
  nonFinite: string[];
  graph: FusionSummary | null;
  profile: BenchProfile | null;
}

/** `run` against `reference` (same provider, the first model): p50 over p50 with a bootstrap interval. */
export interface BenchRatio {
  run: number;
  reference: number;
  /** p50 of run / p50 of reference: below 1 is faster. */
  p50: number;
  /** 95% confidence interval of that ratio (percentile bootstrap over rounds, the rounds paired). */
  ci: [number, number];
  verdict: 'faster' | 'slower' | 'same';
}

export interface BenchDiagnostic {
  level: 'info' | 'warning';
  /** The run it is about (index into runs), when it is about one. */
  run?: number;
  text: string;
}

export interface BenchSettings {
  warmup: number;
  /** Timed runs per model asked for; null when --duration or the default chose them. */
  iterations: number | null;
  /** Seconds of timed runs per model asked for, or null. */
  durationS: number | null;
  rounds: number;
  threads: number | null;
  providers: Provider[];
  profile: boolean;
}

export interface BenchResult {
  runs: BenchRun[];
  ratios: BenchRatio[];
  cpu: CpuInt8;
  inputs: { source: string; random: boolean; samples: number; shapes: Record<string, number[]>; defaulted: DefaultedDim[] };
  settings: BenchSettings;
  diagnostics: BenchDiagnostic[];
  /** The slowest nodes of the models' graphs, with their time per run in each run (null: not profiled, or no such node), side by side. */
  slowestNodes: { node: string; ms: (number | null)[] }[];
  /** onnxruntime-node's version. */
  runtime: string;
  date: string;
  seconds: number;
}

export interface BenchOptions {
  spec?: InputSpec;
  /** Each provider is benchmarked on its own (default: the CPU). */
  providers?: Provider[];
  threads?: number;
  warmup?: number;
  iterations?: number;
  durationS?: number;
  rounds?: number;
  /** Profile each model per node and read its optimized graph (default true). */
  profile?: boolean;
}

// ---- parent <-> child process (src/runtime/bench/worker.ts) ------------------------------------------

export interface WorkerOpen {
  type: 'open';
  file: string;
  provider: Provider;
  threads?: number;
  spec: InputSpec;
  warmup: number;
}
/** `rewarm` untimed runs first: the other models' rounds flushed the caches and this process's threads went to sleep. */
export interface WorkerRound { type: 'round'; runs: number; rewarm: number }
export interface WorkerFinish { type: 'finish'; profileRuns: number; optimizedGraph: boolean; tempDir: string }
export type ToWorker = WorkerOpen | WorkerRound | WorkerFinish;

export interface WorkerOpened {
  type: 'opened';
  provider: ProviderOutcome;
  sessionMs: number;
  firstRunMs: number;
  warmMs: number[];
  baseRssMb: number;
  nonFinite: string[];
  inputs: BenchResult['inputs'];
}
export interface WorkerRoundDone { type: 'round'; times: number[] }
export interface WorkerFinished {
  type: 'finished';
  peakRssMb: number;
  /** The optimized graph onnxruntime wrote (in the parent's temp folder), or null. */
  optimizedFile: string | null;
  /** The profile onnxruntime wrote, or null. */
  profileFile: string | null;
  profileRuns: number;
}
export interface WorkerFailed { type: 'error'; kind: string; message: string }
export type FromWorker = WorkerOpened | WorkerRoundDone | WorkerFinished | WorkerFailed;
