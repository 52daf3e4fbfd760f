// "Keep the N worst layers in float and re-quantize": the loop that closes the per-layer comparison. Each
// step takes the layers of the last comparison with the largest SQNR drop, quantizes the source again
// with the same options and those nodes left in float, compares the new model with the source (layers
// too), and adds a row to the history, from which the user keeps the step they want. The quantizer and
// the comparison are given (in-process for the tests, the job process in VS Code); nothing here imports
// onnxruntime, so the extension can drive the loop.
import type { CompareResult } from '../protocol/compare';
import type { LayerComparison } from '../protocol/layers';
import type { QuantizeOptions, QuantizeReport } from '../protocol/quantize';
import type { RefineHow, RefineLatency, RefineStep } from '../protocol/refine';
import { judgedCosine } from './compare';

export type { RefineHow, RefineLatency, RefineStep } from '../protocol/refine';

/**
 * The FP32 names of the `n` quantized layers with the largest SQNR drop that are not in `already` (rows the
 * comparison could not tie to a quantized Conv/MatMul/Gemm, such as data movement or the quantization of a
 * graph input, are not layers one can leave in float).
 */
export function worstLayerNodes(layers: LayerComparison, n: number, already: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of layers.layers) {
    if (out.length >= n) break;
    if (!l.floatNode || !(l.sqnrDropDb > 0)) continue;
    if (!already.includes(l.floatNode) && !out.includes(l.floatNode)) out.push(l.floatNode);
  }
  return out;
}

/** One row of the history from a comparison with the source, and the quantization's report where there is one. */
export function refineStep(index: number, file: string, options: QuantizeOptions, added: string[], how: RefineHow, result: CompareResult, size: { ratio: number; quantized: number | null }): RefineStep {
  const worst = result.outputs.find((o) => o.name === result.worstOutput) ?? result.outputs[0];
  return {
    index, file, inFloat: [...(options.exclude ?? [])], in16: [...(options.activations16 ?? [])], added, how,
    worstOutput: worst.name, cosine: judgedCosine(worst), sqnrDb: worst.pooled.sqnrDb, sizeRatio: size.ratio, quantized: size.quantized, latency: null,
  };
}

/** Size against the source and nodes quantized, from a report. */
export const reportSize = (r: QuantizeReport) => ({ ratio: r.sizeBefore ? r.sizeAfter / r.sizeBefore : 1, quantized: r.quantized.length });

export interface RefineDeps {
  /** Quantizes the source with `options` into `output`. */
  quantize(options: QuantizeOptions, output: string): Promise<QuantizeReport>;
  /** Compares `file` with the source, layers included. */
  compare(file: string): Promise<CompareResult>;
  /** Measures `file`'s latency against the source's (undefined: not measured). */
  latency?(file: string): Promise<RefineLatency | undefined>;
}

/** The loop's state: the options of the first quantization, and every step since. */
export class RefineHistory {
  readonly steps: RefineStep[] = [];
  private last: { options: QuantizeOptions; layers: LayerComparison };

  /** `first.size`: from its report, or the file sizes when the model was quantized before (no report). */
  constructor(private readonly deps: RefineDeps, options: QuantizeOptions, first: { file: string; size: { ratio: number; quantized: number | null }; result: CompareResult }) {
    if (!first.result.layers) throw new Error('the first comparison has no layers: compare with layers');
    this.steps.push(refineStep(0, first.file, options, [], 'float', first.result, first.size));
    this.last = { options, layers: first.result.layers };
  }

  /**
   * The nodes the next step would take: for 'float', never the last quantized layer (the model would be
   * the FP32 one, which the quantizer refuses to write as "nothing to quantize"); empty when no step is
   * left (`int16`: no layer left at 8 bits).
   */
  next(n: number, how: RefineHow = 'float'): string[] {
    const o = this.last.options;
    const already = [...(o.exclude ?? []), ...(how === 'int16' ? o.activations16 ?? [] : [])];
    if (how === 'int16') return worstLayerNodes(this.last.layers, n, already);
    // Quantized layers left: those the comparison tied to a float node, whatever their drop.
    const quantized = new Set(this.last.layers.layers.filter((l) => l.floatNode && !already.includes(l.floatNode)).map((l) => l.floatNode)).size;
    return worstLayerNodes(this.last.layers, Math.min(n, quantized - 1), already);
  }

  /** 16-bit activations apply to static QDQ quantization (not QOperator, not 16-bit activations already). */
  get canWiden(): boolean {
    const o = this.last.options;
    return o.mode === 'static' && (o.format ?? 'qdq') === 'qdq' && !(o.activationType ?? 'uint8').endsWith('16');
  }

  /** Quantizes again with the `n` worst layers in float (or with 16-bit activations) too, into `output`, and compares. */
  async step(n: number, output: string, how: RefineHow = 'float'): Promise<RefineStep> {
    if (how === 'int16' && !this.canWiden) throw new Error('16-bit activations for some layers apply to static QDQ quantization with 8-bit activations');
    const added = this.next(n, how);
    if (!added.length) throw new Error(how === 'float' ? 'no layer can go to float: the comparison ties at most one quantized layer to the source, and in float too it would leave no layer quantized' : 'no layer with 8-bit activations is left');
    const o = this.last.options;
    const options: QuantizeOptions = how === 'float'
      // A layer kept in float no longer needs 16-bit activations.
      ? { ...o, exclude: [...(o.exclude ?? []), ...added], ...(o.activations16 ? { activations16: o.activations16.filter((x) => !added.includes(x)) } : {}) }
      : { ...o, activations16: [...(o.activations16 ?? []), ...added] };
    const report = await this.deps.quantize(options, output);
    const result = await this.deps.compare(output);
    if (!result.layers) throw new Error('the comparison has no layers: compare with layers');
    const s = refineStep(this.steps.length, output, options, added, how, result, reportSize(report));
    s.latency = (await this.deps.latency?.(output)) ?? null;
    this.steps.push(s);
    this.last = { options, layers: result.layers };
    return s;
  }
}
