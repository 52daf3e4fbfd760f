// The quantize report's `outputs`: the written model against the source, per output, on samples that
// calibration did not use where there are any (random ones flagged as such). Same figures as compare.
import * as fs from 'node:fs';
import type { InputSpec } from '../protocol/inputSpec';
import type { ResolvedOptions } from '../quantize/options';
import type { OutputAccuracy, QuantizeReport } from '../protocol/quantize';
import { compareModels } from './compareModels';
import { listSamples } from './inputs';
import { loadModel } from '../onnx/load';
import type { Model } from '../onnx/model';
import { discontinuousPath } from '../quantize/discontinuous';
import { modelInputs } from './modelIo';

/** Below this cosine an output counts as dropped (compare's default tolerance) unless it has its own target. */
const DROP = 0.99;

/** Samples compared by default: enough to see a collapsed output, few enough for big models. */
export const CHECK_SAMPLES = 4;

const round = (x: number, places: number) => Math.round(x * 10 ** places) / 10 ** places;

export function outputCheck(o: ResolvedOptions, spec: InputSpec = {}, samples = CHECK_SAMPLES) {
  return async (source: string, written: string, report: QuantizeReport): Promise<Pick<QuantizeReport, 'outputs' | 'outputsMeasuredOn'>> => {
    // The source's structure, read once and only when needed (sample matching, the discontinuous-op walk).
    let model: Model | undefined;
    const sourceModel = () => (model ??= loadModel(source));
    let evalSpec: InputSpec = { ...spec, samples };
    let skip = 0, heldOut = true;
    if (o.mode === 'static' && o.calibration.dataDir !== undefined) {
      const dir = o.calibration.dataDir;
      const total = fs.statSync(dir).isDirectory() ? listSamples(dir, modelInputs(sourceModel())).length : 1;
      const used = report.calibration?.samples ?? total;
      heldOut = total > used;
      skip = heldOut ? used : 0;
      evalSpec = { ...spec, inputs: dir, samples: skip + samples };
    } else if (o.mode === 'static') {
      // Random calibration used seeds seed..seed+n-1: the next seeds are samples it never saw.
      evalSpec = { ...spec, seed: (spec.seed ?? 1) + (report.calibration?.samples ?? 0), samples };
    }
    const r = await compareModels(source, written, { spec: evalSpec, skipSamples: skip, optimization: 'all' });
    const outputs: OutputAccuracy[] = r.outputs.map((x) => ({
      name: x.name, cosine: round(x.pooled.cosine, 6), sqnrDb: Number.isFinite(x.pooled.sqnrDb) ? round(x.pooled.sqnrDb, 2) : null,
      maxAbs: x.pooled.maxAbs, worstCosine: round(x.worst.cosine, 6),
    }));
    // An output that dropped behind a discontinuous op: name the op and the quantized nodes feeding it.
    const quantized = new Set(report.quantized);
    for (const out of outputs) {
      const t = report.accuracy?.outputs.find((x) => x.name === out.name)?.target ?? DROP;
      if (out.cosine >= t) continue;
      const p = discontinuousPath(sourceModel(), out.name, quantized);
      if (!p.ops.length) continue;
      const ops = p.ops.slice(0, 5).map((x) => `${x.opType} "${x.node}"`).join(', ') + (p.ops.length > 5 ? ` and ${p.ops.length - 5} more` : '');
      if (p.feeding.length) (report.floatSuggestions ??= []).push({ output: out.name, ops: p.ops.map((x) => x.node), nodes: p.feeding });
      report.notes.push(`output "${out.name}" (cosine ${out.cosine} with the source) is computed through ${ops}: a discontinuous op, where a small change of its input flips its output${p.feeding.length ? `; the quantized nodes that feed it are ${p.feeding.join(', ')}: keep them in float (--exclude ${p.feeding.join(',')}) if this output matters` : ''}`);
    }
    return { outputs, outputsMeasuredOn: { source: r.inputs.source + (skip ? ` after the ${skip} used for calibration` : ''), samples: r.inputs.samples, random: r.inputs.random, heldOut } };
  };
}
