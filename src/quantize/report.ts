// The result of a quantization, as plain JSON (it crosses the job-process and webview boundaries and is
// what `onnxq quantize --json` prints).
import type { QuantFormat, QuantMode } from './options';

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
  /** Seconds per phase (load, quantize, write, check, ...) and in total. */
  seconds: Record<string, number>;
  opsetUpgrade: { from: number; to: number; rewritten: string[] } | null;
  /** Things worth knowing that are not errors (unmatched name patterns, forced schemes, nothing to do). */
  notes: string[];
}
