// The background job process (bundled to dist/jobChild.js), forked by src/jobs/client.ts with
// `serialization: 'advanced'`. It runs the pure core and answers each request with a result or a typed
// error. Cancellation is a SIGKILL from the parent, so nothing here needs to be interruptible.
// No vscode import: it runs in a plain Node process.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatBytes } from '../protocol/format';
import { inspectModel } from '../onnx/inspect';
import { quantizeFile, resolveOptions } from '../quantize/index';
import { describeTarget } from '../quantize/format';
import { warmUpDecoder } from '../onnx/load';
import { assertNever } from '../protocol/common';
import {
  JOB_PROTOCOL_VERSION,
  isJobRequest,
  type ChildMessage,
  type BenchRequest,
  type CompareRequest,
  type FindRequest,
  type GraphRequest,
  type InspectRequest,
  type JobProgressMessage,
  type JobRequest,
  type OpenModelRequest,
  type QuantizeRequest,
  type WeightDetailRequest,
  type WeightListRequest,
  type WeightStatsRequest,
} from '../protocol/jobs';
import { toErrorData } from './errors';
import { ModelCache, type LoadedModel } from './modelCache';
import { graphData, openModelData, weightDetailData, weightList, weightStats } from './modelJobs';
import { findInModel } from '../onnx/find';
import { weightQuantization } from '../quantize/weightGrid';

/** Parsed models, so that the editor's follow-up requests do not parse the file again. */
const models = new ModelCache(2);

function send(message: ChildMessage): void {
  if (!process.send || !process.connected) return;
  process.send(message, (err: Error | null) => {
    // The parent went away; 'disconnect' below ends this process.
    if (err) process.exitCode = 1;
  });
}

function progress(id: number, stage: JobProgressMessage['stage'], message: string, fraction?: number): void {
  send(fraction === undefined ? { type: 'progress', id, stage, message } : { type: 'progress', id, stage, message, fraction });
}

/** Reads (or finds in the cache) the model a request is about, reporting progress while reading. */
async function readModel(request: JobRequest): Promise<LoadedModel> {
  let size = '';
  try {
    size = ` (${formatBytes((await fs.promises.stat(request.path)).size)})`;
  } catch {
    // The cache reports a missing or unreadable file with the core's own error.
  }
  progress(request.id, 'reading', `reading${size}`, 0);
  return models.get(request.path);
}

async function runInspect(request: InspectRequest): Promise<void> {
  const { model } = await readModel(request);
  if (request.stats) progress(request.id, 'statistics', 'computing statistics', 0.5);
  const report = inspectModel(model, { largest: request.largest, stats: request.stats, bins: request.bins });
  progress(request.id, 'finishing', `${report.nodeCount} nodes`, 1);
  send({ type: 'result', id: request.id, kind: 'inspect', result: report });
}

async function runOpenModel(request: OpenModelRequest): Promise<void> {
  const loaded = await readModel(request);
  const result = openModelData(loaded, request.largest);
  progress(request.id, 'finishing', `${result.report.nodeCount} nodes`, 1);
  send({ type: 'result', id: request.id, kind: 'openModel', result });
}

async function runFind(request: FindRequest): Promise<void> {
  const { model } = await readModel(request);
  send({ type: 'result', id: request.id, kind: 'find', result: findInModel(model, request.query) });
}

async function runGraph(request: GraphRequest): Promise<void> {
  const { model } = await readModel(request);
  send({ type: 'result', id: request.id, kind: 'graph', result: graphData(model, request.graph) });
}

async function runWeightList(request: WeightListRequest): Promise<void> {
  const { model } = await readModel(request);
  send({ type: 'result', id: request.id, kind: 'weightList', result: weightList(model) });
}

async function runWeightStats(request: WeightStatsRequest): Promise<void> {
  const { model } = await readModel(request);
  progress(request.id, 'statistics', 'computing weight statistics', 0.5);
  send({ type: 'result', id: request.id, kind: 'weightStats', result: weightStats(model) });
}

async function runWeightDetail(request: WeightDetailRequest): Promise<void> {
  const { model } = await readModel(request);
  const detail = weightDetailData(model, request.weight, request.bins, request.codes === true);
  if (request.counterpart) {
    // Against the model it was compared with: the FP32 weight over the quantized one's grid.
    try {
      const other = (await models.get(request.counterpart)).model;
      detail.quantization = weightQuantization(model, other, detail.name, !detail.name.endsWith('_quantized'), path.basename(request.counterpart));
    } catch (e) {
      detail.quantization = { error: (e as Error).message };
    }
  }
  send({ type: 'result', id: request.id, kind: 'weightDetail', result: detail });
}

/**
 * Quantizes into a new file. onnxruntime (calibration runs, the check of the result) is loaded here only,
 * so the editor's job process never pays for it.
 */
async function runQuantize(request: QuantizeRequest): Promise<void> {
  const options = resolveOptions(request.options); // bad options fail before onnxruntime loads
  progress(request.id, 'quantizing', 'preparing', 0);
  const { checkSession } = await import('../runtime/check.js');
  let calibration;
  if (options.mode === 'static') {
    const { calibrationFor } = await import('../runtime/calibration.js');
    const samples = options.calibration.randomSamples ?? options.calibration.maxSamples;
    calibration = {
      ...calibrationFor(options, request.spec ?? {}),
      onSample: (done: number) => progress(request.id, 'calibrating', `calibrating: sample ${done}${samples ? ` of ${samples}` : ''}`, samples ? Math.min(1, done / samples) : undefined),
      onComparison: (done: number) => progress(request.id, 'comparing', `comparing with the float model (accuracy target ${describeTarget(options.accuracyTarget!)}): model ${done}`),
    };
  }
  const { outputCheck } = await import('../runtime/quantizeCheck.js');
  const checkOutputs = async (...args: Parameters<ReturnType<typeof outputCheck>>) => {
    progress(request.id, 'comparing', `comparing the outputs of ${path.basename(request.output)} with the source`);
    return outputCheck(options, request.spec ?? {})(...args);
  };
  const report = await quantizeFile(request.path, request.output, options, { verify: checkSession, calibration, checkOutputs });
  progress(request.id, 'finishing', `${report.quantized.length} nodes quantized`, 1);
  send({ type: 'result', id: request.id, kind: 'quantize', result: report });
}

/** Runs two models on the same inputs (or one against saved outputs) and compares every output. */
async function runCompare(request: CompareRequest): Promise<void> {
  const { compareModels, compareWithExpected } = await import('../runtime/compareModels.js');
  progress(request.id, 'comparing', 'loading the models');
  const options = {
    spec: request.spec, providers: request.providers, allowCpuFallback: request.allowCpuFallback, policy: request.policy, plotPoints: request.plotPoints,
    layers: request.layers,
    onSample: (done: number, total: number) => progress(request.id, 'comparing', `sample ${done} of ${total}`, total ? done / total : undefined),
    onLayers: (measured: number, total: number) => progress(request.id, 'comparing', `layer by layer: ${measured} of ${total} tensors`, total ? measured / total : undefined),
  };
  const result = request.other !== null
    ? await compareModels(request.path, request.other, options)
    : await compareWithExpected(request.path, request.expected ?? path.dirname(request.path), options);
  send({ type: 'result', id: request.id, kind: 'compare', result });
}

/** Benchmarks models, each in a process of its own (the job process only schedules them). */
async function runBench(request: BenchRequest): Promise<void> {
  const { benchmark } = await import('../runtime/bench/runner.js');
  const { files, spec, type: _type, id: _id, path: _path, ...options } = request;
  const result = await benchmark(files, {
    ...options, spec,
    onProgress: (p) => {
      if (p.phase === 'rounds') progress(request.id, 'benchmarking', `round ${p.round} of ${p.rounds}, ${(p.elapsedMs / 1000).toFixed(0)} s of about ${(p.estimateMs / 1000).toFixed(0)} s`, 0.1 + 0.8 * (p.round / p.rounds));
      else progress(request.id, 'benchmarking', `${p.phase === 'open' ? 'opening' : 'profiling'} ${p.label} (${p.done + 1} of ${p.total})`, p.phase === 'open' ? (0.1 * p.done) / p.total : 0.9 + (0.1 * p.done) / p.total);
    },
  });
  progress(request.id, 'finishing', 'done', 1);
  send({ type: 'result', id: request.id, kind: 'bench', result });
}

async function handle(request: JobRequest): Promise<void> {
  try {
    switch (request.type) {
      case 'inspect':
        await runInspect(request);
        return;
      case 'openModel':
        await runOpenModel(request);
        return;
      case 'graph':
        await runGraph(request);
        return;
      case 'find':
        await runFind(request);
        return;
      case 'weightList':
        await runWeightList(request);
        return;
      case 'weightStats':
        await runWeightStats(request);
        return;
      case 'weightDetail':
        await runWeightDetail(request);
        return;
      case 'quantize':
        await runQuantize(request);
        return;
      case 'advise': {
        const { adviseModes } = await import('../quantize/advice.js');
        send({ type: 'result', id: request.id, kind: 'advise', result: adviseModes((await models.get(request.path)).model) });
        return;
      }
      case 'compare':
        await runCompare(request);
        return;
      case 'bench':
        await runBench(request);
        return;
      case 'providers': {
        const { detectProviders } = await import('../runtime/providers.js');
        send({ type: 'result', id: request.id, kind: 'providers', result: await detectProviders() });
        return;
      }
      default:
        assertNever(request, 'job request');
    }
  } catch (err) {
    const error = toErrorData(err);
    if (error.file === undefined && 'path' in request) error.file = request.path;
    send({ type: 'error', id: request.id, error });
  }
}

function main(): void {
  if (!process.send) {
    process.stderr.write('jobChild.js is the background process of ONNX Quantization Studio; it must be forked with an IPC channel.\n');
    process.exit(2);
  }
  process.on('message', (message: unknown) => {
    if (!isJobRequest(message)) {
      send({ type: 'log', level: 'warn', message: `Ignored a request that is not in the job protocol: ${String((message as { type?: unknown } | null)?.type)}` });
      return;
    }
    void handle(message);
  });
  // The parent closed the channel (shut down, or died): nothing left to answer.
  process.on('disconnect', () => process.exit(0));
  process.on('unhandledRejection', (reason) => {
    const e = toErrorData(reason);
    send({ type: 'log', level: 'error', message: `Unhandled rejection in the job process: ${e.message}${e.trace ? `\n${e.trace}` : ''}` });
  });
  send({ type: 'ready', pid: process.pid, protocol: JOB_PROTOCOL_VERSION, node: process.version });
  // While the extension has nothing for us yet: the first model then opens at warm speed.
  setImmediate(warmUpDecoder);
}

main();
