// The quantizer's entry points. `quantizeModel` rewrites a loaded model in memory; `quantizeFile` does the
// whole job (validate options, load, quantize, write, optionally verify) and publishes the output only when
// every step succeeded: it writes into a temporary folder next to the output, runs the caller's check on
// that file (the CLI creates an onnxruntime session), then renames the file (and its external data) into
// place. Pure core: onnxruntime stays in src/runtime/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel } from '../onnx/load';
import type { Model } from '../onnx/model';
import { writeModel } from '../onnx/write';
import { recordOptions, recordSkipped } from './records';
import { QuantizeError } from './errors';
import { assertAvailable, resolved, type QuantizeOptions, type ResolvedOptions } from './options';
import { runPass } from './pass';
import { assertSomethingToQuantize } from './preview';
import type { QuantizeReport } from '../protocol/quantize';
import { quantizeStatic, type StaticCalibration } from './static/index';
import { makeTempDir } from './tempDir';
import { describeTarget } from './format';

export { QuantizeError } from './errors';
export { resolveOptions, assertAvailable, type QuantizeOptions, type ResolvedOptions } from './options';
export type { CalibrationSummary, QuantizeReport, QuantizedWeight, SkippedNode, SmoothQuantSummary, SmoothedActivation } from '../protocol/quantize';
export { quantizeStatic, type StaticCalibration } from './static/index';
export type { CalibrationRunner, CalibrationSession, Feeds, FeedTensor } from './calibrate/calibrator';

const round3 = (s: number) => Math.round(s * 1000) / 1000;

/**
 * Quantizes `model` as `options` say. The model's protobuf is rewritten in place (take a fresh load if
 * you need the original); the returned Model wraps it, with external data locations kept.
 */
export function quantizeModel(model: Model, options: QuantizeOptions | ResolvedOptions = {}): { model: Model; report: QuantizeReport } {
  const o = resolved(options);
  assertAvailable(o);
  if (o.mode === 'static') {
    throw new QuantizeError('invalid-options', 'static quantization calibrates by running the model: use quantizeStatic (async, with a calibration runner) or quantizeFile with fileOptions.calibration');
  }
  const t0 = performance.now();
  const result = runPass(model, o);
  const seconds = { quantize: round3((performance.now() - t0) / 1000) };
  const out = model.withProto(model.proto);
  const report: QuantizeReport = {
    mode: o.mode, format: o.format, weightType: o.weightType, activationType: o.mode === 'weight-only' ? null : o.activationType,
    perChannel: o.perChannel, symmetricWeights: o.symmetricWeights, reduceRange: o.reduceRange,
    blockSize: o.mode === 'weight-only' ? o.blockSize : null, accuracyLevel: o.mode === 'weight-only' ? o.accuracyLevel : null,
    opTypes: o.opTypes, sizeBefore: model.source.fileBytes, sizeAfter: 0,
    weightBytesBefore: result.weightBytesBefore, weightBytesAfter: result.weightBytesAfter,
    quantized: result.quantized, emitted: result.emitted, skipped: result.skipped, weights: result.weights,
    calibration: null, seconds, opsetUpgrade: result.opsetUpgrade, notes: result.notes,
  };
  return { model: out, report };
}

export interface QuantizeFileOptions {
  /** Write tensors of 1 KiB or more to `<output>.data` (always done past 2 GiB). */
  externalData?: boolean;
  /**
   * Runs on the source before any work (`role` 'source') and on the written file before it is moved into
   * place ('output'); throw to abandon the job.
   */
  verify?: (file: string, role: 'source' | 'output') => Promise<void>;
  /** Static quantization: the runner and the samples (src/runtime/calibration.ts makes them from the options). */
  calibration?: StaticCalibration;
  /**
   * Compares the written model (before it is moved into place) with the source, per output, for the
   * report (src/runtime/quantizeCheck.ts). A failure to compare becomes a note, not an error.
   */
  checkOutputs?: (source: string, written: string, report: QuantizeReport) => Promise<Pick<QuantizeReport, 'outputs' | 'outputsMeasuredOn'>>;
}

/** Bytes of a model file plus the external data files its tensors read. */
function modelBytes(model: Model, file: string): number {
  let total = fs.statSync(file).size;
  const seen = new Set<string>();
  for (const w of model.weights()) {
    if (w.external && !seen.has(w.external.path)) { seen.add(w.external.path); total += fs.statSync(w.external.path).size; }
  }
  return total;
}

function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try { return fs.realpathSync(a) === fs.realpathSync(b); } catch { return false; }
}

/** Validates, loads `input`, quantizes, writes `output` (only if everything succeeds) and returns the report. */
export async function quantizeFile(input: string, output: string, options: QuantizeOptions | ResolvedOptions = {}, fileOptions: QuantizeFileOptions = {}): Promise<QuantizeReport> {
  const o = resolved(options);
  assertAvailable(o);
  if (sameFile(input, output)) throw new QuantizeError('invalid-options', 'the output path is the input model; write the quantized model to another file');
  const outDir = path.dirname(path.resolve(output));
  if (!fs.existsSync(outDir)) throw new QuantizeError('invalid-options', `the output folder ${outDir} does not exist`);
  const tAll = performance.now();

  let t = performance.now();
  const source = loadModel(input);
  const sizeBefore = modelBytes(source, input);
  // Before any work: a mode that finds nothing is refused (naming one that would), and a model onnxruntime
  // cannot load even in float is reported as such, not as a failed quantization.
  assertSomethingToQuantize(source, o);
  await fileOptions.verify?.(input, 'source');
  const load = (performance.now() - t) / 1000;

  let quantized: { model: Model; report: QuantizeReport };
  if (o.mode === 'static') {
    if (!fileOptions.calibration) throw new QuantizeError('invalid-options', 'static quantization needs calibration samples: give --calib-data DIR or --calib-random N');
    quantized = await quantizeStatic(source, o, fileOptions.calibration);
  } else quantized = quantizeModel(source, o);
  const { model, report } = quantized;
  // The preview found nodes, yet none was quantized (static: calibration never reached them): still nothing to write.
  if (!report.quantized.length) {
    const a = report.accuracy;
    if (a?.met && a.inFloat.length) {
      throw new QuantizeError('nothing-to-quantize', `the accuracy target ${describeTarget(a.target)} holds only with every quantizable node in float (${a.inFloat.length}: ${a.inFloat.slice(0, 5).join(', ')}${a.inFloat.length > 5 ? ', ...' : ''}): there is nothing left to quantize; lower the target, or calibrate on real samples. Nothing was written`);
    }
    const why = [...new Set(report.skipped.map((s) => s.reason))].slice(0, 2).join('; ');
    throw new QuantizeError('nothing-to-quantize', `nothing was quantized in ${o.mode} mode${why ? `: ${why}` : ''}. Nothing was written`);
  }
  report.sizeBefore = sizeBefore;
  recordOptions(model.proto, o.given);
  recordSkipped(model.proto, report.skipped);

  const finalData = path.join(outDir, `${path.basename(output)}.data`);
  for (const w of model.weights()) {
    if (w.external && sameFile(w.external.path, finalData)) {
      throw new QuantizeError('invalid-options', `the output's external data file ${finalData} is the one the input model reads its weights from; choose another output name`);
    }
  }
  const tmpDir = makeTempDir('output', outDir, true);
  try {
    t = performance.now();
    const tmpFile = path.join(tmpDir, path.basename(output));
    const written = writeModel(model, tmpFile, { externalData: fileOptions.externalData ?? false });
    report.seconds.write = round3((performance.now() - t) / 1000);
    report.sizeAfter = written.bytes + (written.externalData?.bytes ?? 0);
    if (fileOptions.verify) {
      t = performance.now();
      await fileOptions.verify(tmpFile, 'output');
      report.seconds.check = round3((performance.now() - t) / 1000);
    }
    if (fileOptions.checkOutputs) {
      t = performance.now();
      try {
        Object.assign(report, await fileOptions.checkOutputs(input, tmpFile, report));
      } catch (e) {
        if (e instanceof QuantizeError && e.code === 'cancelled') throw e;
        report.notes.push(`the outputs could not be compared with the source model's: ${(e as Error).message}`);
      }
      report.seconds.outputs = round3((performance.now() - t) / 1000);
    }
    if (written.externalData) fs.renameSync(written.externalData.file, finalData);
    fs.renameSync(tmpFile, path.resolve(output));
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  report.seconds = { load: round3(load), ...report.seconds, total: round3((performance.now() - tAll) / 1000) };
  return report;
}
