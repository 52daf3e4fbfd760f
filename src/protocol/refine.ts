// The history of "Keep the N worst layers in float and re-quantize" (src/runtime/refine.ts): one row per
// quantization of the same source, as the results panel shows it.

/** A step leaves its layers in float, or gives them 16-bit activations (static QDQ only). */
export type RefineHow = 'float' | 'int16';

export interface RefineStep {
  /** 0: the first quantization; then one per step. */
  index: number;
  /** The model this step wrote. */
  file: string;
  /** Every node left in float by the loop so far (the quantizer's --exclude), and those this step added. */
  inFloat: string[];
  /** Every node given 16-bit activations so far (--activations16). */
  in16: string[];
  added: string[];
  /** What this step did to the layers it added. */
  how: RefineHow;
  /** The output with the lowest cosine against the source, its cosine (worst sample, or pooled) and SQNR. */
  worstOutput: string;
  cosine: number;
  sqnrDb: number;
  /** Size of the model against the source's. */
  sizeRatio: number;
  /** Nodes quantized (null where the step has no report: a model quantized before the loop). */
  quantized: number | null;
  /** Its latency against the source's, measured side by side (the benchmark); null where not measured. */
  latency: RefineLatency | null;
}

/** A step's p50 latency and the source's, measured interleaved, and their ratio with its 95% interval. */
export interface RefineLatency {
  p50Ms: number;
  sourceP50Ms: number;
  ratio: number;
  ci: [number, number];
  provider: string;
}
