// An optional transform (SmoothQuant, Conv -> depthwise Conv equalization) is kept only where it helps the
// worst output: a copy of the float source is prepared and calibrated without it, both models are
// quantized with every node in int8, and both are compared with the float source on the first calibration
// samples. SmoothQuant is judged first (the user asked for it); equalization (on by default) is then
// judged on what stays.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Model } from '../../onnx/model';
import { writeModel } from '../../onnx/write';
import type { EqualizationSummary, SmoothQuantSummary, TransformComparison } from '../../protocol/quantize';
import { OutputComparer } from '../../runtime/compare';
import { cloneStructure, type CalibrationRunner, type FeedTensor } from '../calibrate/calibrator';
import { QuantizeError } from '../errors';
import type { ResolvedOptions } from '../options';
import { makeTempDir } from '../tempDir';
import { floatOutputs } from './fallback';
import { emitCopy, prepareAndCalibrate, round3, type Calibrated, type StaticCalibration } from './calibrated';

export interface CheckedTransforms {
  smoothQuant?: SmoothQuantSummary;
  equalization?: EqualizationSummary;
  /** Seconds each check took (`smoothQuantCheck`, `equalizationCheck`). */
  seconds: Record<string, number>;
  /** What was dropped and why. */
  notes: string[];
}

/** What the transforms did, not measured (the check is off, or they changed nothing). */
export function uncheckedTransforms(c: Calibrated): CheckedTransforms {
  const alpha = c.options.smoothQuantAlpha;
  return {
    ...(alpha !== null ? { smoothQuant: { alpha, smoothed: c.smoothed?.smoothed ?? [], samples: c.smoothed?.samples ?? 0, comparison: null, kept: true } } : {}),
    ...(c.equalized.length ? { equalization: { pairs: c.equalized, comparison: null, kept: true } } : {}),
    seconds: {}, notes: [],
  };
}

export async function keepTransformsThatHelp(source: Model, calibrated: Calibrated, cal: StaticCalibration, samples: number): Promise<{ calibrated: Calibrated; transforms: CheckedTransforms }> {
  let c = calibrated;
  const out = uncheckedTransforms(c);
  // Outputs to compare are float ones: a model without any (class ids only) keeps its transforms unjudged.
  if (!floatOutputs(source).length) return { calibrated: c, transforms: out };
  const sq = out.smoothQuant;
  if (sq && sq.smoothed.length) {
    const t = performance.now();
    const r = await judge(source, c, { ...c.options, smoothQuantAlpha: null }, cal, samples);
    out.seconds.smoothQuantCheck = round3((performance.now() - t) / 1000);
    sq.comparison = r.comparison;
    if (!r.kept) {
      sq.kept = false;
      c = r.without;
      out.notes.push(`SmoothQuant (alpha ${sq.alpha}) was dropped: it made the worst output worse (${inWords(r.comparison)}); the model is written without it`);
    }
  }
  if (c.equalized.length) {
    const t = performance.now();
    const pairs = c.equalized;
    const r = await judge(source, c, { ...c.options, equalize: false }, cal, samples);
    out.seconds.equalizationCheck = round3((performance.now() - t) / 1000);
    out.equalization = { pairs, comparison: r.comparison, kept: r.kept };
    if (!r.kept) {
      c = r.without;
      out.notes.push(`Conv -> depthwise Conv equalization (${pairs.length} pair${pairs.length === 1 ? '' : 's'}) was dropped: it made the worst output worse (${inWords(r.comparison)}); the model is written without it`);
    }
  }
  return { calibrated: c, transforms: out };
}

/** The comparison in words, as the notes give it. */
export function inWords(c: TransformComparison): string {
  return `cosine vs float ${c.cosineWith} with it, ${c.cosineWithout} without, on ${c.samples} calibration sample${c.samples === 1 ? '' : 's'}, every node in int8`;
}

/** The source prepared and calibrated with `without`, and whether `c` quantizes better than it. */
async function judge(source: Model, c: Calibrated, without: ResolvedOptions, cal: StaticCalibration, samples: number): Promise<{ kept: boolean; comparison: TransformComparison; without: Calibrated }> {
  const other = await prepareAndCalibrate(source.withProto(cloneStructure(source.proto)), without, { ...cal, onSample: undefined });
  const comparison = await compareOutputs(source, [emitCopy(other), emitCopy(c)], cal, samples);
  return { kept: helps(comparison), comparison, without: other };
}

/** Better or equal on the worst output's cosine (rounded to 5 digits, as reported); on a tie, by its SQNR (null: exact). */
function helps(c: TransformComparison): boolean {
  if (c.cosineWith !== c.cosineWithout) return c.cosineWith > c.cosineWithout;
  return (c.sqnrWith ?? Infinity) >= (c.sqnrWithout ?? Infinity);
}

/**
 * Runs the float model and the two candidates (without, with) on the first `n` calibration samples; per
 * candidate, the cosine similarity and SQNR (dB) of its worst output (each output pooled over the samples).
 */
async function compareOutputs(reference: Model, candidates: [Model, Model], cal: StaticCalibration, n: number): Promise<TransformComparison> {
  const dir = makeTempDir('compare', cal.workDir);
  const sessions: Awaited<ReturnType<CalibrationRunner['open']>>[] = [];
  try {
    for (const [i, m] of [reference, ...candidates].entries()) {
      const file = path.join(dir, `model${i}.onnx`);
      writeModel(m, file);
      sessions.push(await cal.runner.open(file));
    }
    const names = floatOutputs(reference);
    const comparers = candidates.map(() => new OutputComparer(names));
    let samples = 0;
    for await (const f of cal.feeds(reference)) {
      if (samples >= n) break;
      const outs: Record<string, FeedTensor>[] = [];
      for (const s of sessions) outs.push(await s.run(f, names));
      comparers.forEach((c, ci) => c.add(outs[0], outs[ci + 1]));
      samples++;
    }
    if (samples === 0) throw new QuantizeError('calibration-data', 'the check of SmoothQuant and equalization got no calibration samples');
    const worst = (c: OutputComparer) => {
      const r = c.results().map((o) => o.pooled).sort((x, y) => x.cosine - y.cosine)[0];
      return { cosine: Math.round(r.cosine * 1e5) / 1e5, sqnr: Number.isFinite(r.sqnrDb) ? Math.round(r.sqnrDb * 100) / 100 : null };
    };
    const [without, withIt] = comparers.map(worst);
    return { samples, cosineWithout: without.cosine, cosineWith: withIt.cosine, sqnrWithout: without.sqnr, sqnrWith: withIt.sqnr };
  } finally {
    for (const s of sessions) await s.release();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
