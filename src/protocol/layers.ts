// Per-layer error of a quantized model against its FP32 source (src/runtime/layerCompare.ts), as plain
// data: the CLI prints it, the job process sends it, the results panel and the graph draw it.
import type { QuantizeOptions } from './quantize';

/** How a tensor of the quantized model was matched to the FP32 tensor it approximates. */
export type LayerMatch =
  /** The same name in both models (a tensor left in float, or one our quantizer kept the name of). */
  | 'name'
  /** The float input of the QuantizeLinear that produced it. */
  | 'quantize-input'
  /** Its name less onnxruntime's suffixes (`_QuantizeLinear_Output`, `_quantized`, ...). */
  | 'suffix'
  /** Our quantizer's record of the tensors it rescaled per channel (equalization, SmoothQuant), undone. */
  | 'metadata';

/** One tensor of the quantized model with its FP32 counterpart and how far apart they are. */
export interface LayerError {
  /** The node of the quantized model that computes the tensor (the op before its QuantizeLinear). */
  node: string;
  opType: string;
  /** The tensor of the quantized model (an integer one is dequantized with its scale and zero point). */
  tensor: string;
  fp32Tensor: string;
  /** The node of the FP32 model that produces `fp32Tensor`; null for a graph input. */
  fp32Node: string | null;
  fp32OpType: string | null;
  match: LayerMatch;
  /**
   * The FP32 node to leave in float (`--exclude`) to keep this layer in float: set when the quantized model
   * computes it in int8 (a quantized kernel, a float op on dequantized inputs, dynamic quantization's
   * rescaling of an integer MatMul) and it is a Conv, ConvTranspose, MatMul or Gemm; else null.
   */
  floatNode: string | null;
  /** The tensor is integer and was compared dequantized. */
  dequantized: boolean;
  /** SQNR of the layer's quantized weight against the FP32 one (floatNode's weight input), when it has one. */
  weightSqnrDb?: number;
  /** Pooled over every sample (runtime/compare). null in JSON when infinite (identical values). */
  sqnrDb: number;
  cosine: number;
  maxAbs: number;
  /**
   * The SQNR of the layer's inputs (the worst of them) less its own: the error this layer adds, told apart
   * from what it only carries. Inputs are the nearest compared tensors upstream in the FP32 graph. SQNRs
   * count at most as the best finite SQNR any compared tensor holds (float32 rounding of computed values
   * sits near 130-140 dB): an exact input (a graph input) counts as that, so quantizing a graph input is
   * ranked by what it loses next to what int8 does elsewhere, and an exact layer drops 0 dB.
   */
  sqnrDropDb: number;
  /** The FP32 tensors the drop is measured from (the worst of them counts). */
  inputs: string[];
}

/** A tensor of the quantized model with no FP32 counterpart, and why. */
export interface UnmappedTensor { tensor: string; node: string; opType: string; reason: string }

export interface LayerComparison {
  /** Worst first: the largest SQNR drop, then the lowest SQNR. */
  layers: LayerError[];
  unmapped: UnmappedTensor[];
  samples: number;
  /** Runs of each model it took (the tensors are exposed in chunks so that intermediates fit in memory). */
  runs: number;
  /** The options our quantizer recorded in the quantized model (null: it did not write it). */
  quantizedWith: QuantizeOptions | null;
  /** How the quantized graph differs from the FP32 one, node by node. */
  diff: GraphDiff;
}

/** The quantized model's main-graph nodes against the FP32 model's (runtime/graphDiff.ts). */
export interface GraphDiff {
  /** Every node of the quantized model (Constants aside): what quantization made of it, and why. */
  nodes: { name: string; opType: string; status: 'quantized' | 'float' | 'added'; detail: string }[];
  /** FP32 nodes the quantized model does not have, and the node that took over their output. */
  removed: { name: string; opType: string; into: string | null; detail: string }[];
  counts: { quantized: number; float: number; added: number; removed: number;
    /** Quantized nodes inside If/Loop/Scan bodies: not in `nodes` (the diff and the layers are the main graph's). */
    inSubgraphs: number };
}

/**
 * The SQNR of float32 rounding itself (6.02 x 24 bits + 1.76 dB): two computations of the same float32
 * value differ by at least that much, so no tensor is counted better than it.
 */
export const EXACT_SQNR_DB = 146.2;
