// onnxqs.benchmarkModel: measure models on this machine in the job process (each model in a process of its
// own, run in interleaved rounds; progress and Cancel), then a results panel: latency, the speed-up with its
// interval, memory and size, where the time goes, why a quantized model is not faster, and the earlier
// results of the same models. From the palette, the explorer (several models at once), the model viewer's
// title and the quantize result (the FP32 model and its quantized copy side by side). Called with
// (uri, BenchCommandArgs) it asks nothing (tests, other extensions) and resolves with the result.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCancelled, loggedError } from '../jobs/errors';
import type { BenchResult, BenchRun } from '../protocol/bench';
import type { Provider } from '../protocol/compare';
import type { InputSpec } from '../protocol/inputSpec';
import { formatBenchCsv, formatBenchMarkdown } from '../runtime/bench/report';
import { timeOverlay } from '../runtime/bench/timeOverlay';
import { recordBench } from './benchHistory';
import { fp32SourceOf } from './compareCommand';
import { withJobProgress } from './jobProgress';
import { MODEL_VIEW_TYPE } from './modelEditorProvider';
import { inputsFor } from './modelInputs';
import { saveFile, showResults } from './resultsPanel';
import type { Services } from './services';
import { benchSettings } from './settings';

export const BENCHMARK_COMMAND = 'onnxqs.benchmarkModel';
const EDIT_INPUTS_COMMAND_ID = 'onnxqs.editModelInputs';

/** What a programmatic caller gives instead of answering the prompts (unset: the settings). */
export interface BenchCommandArgs {
  /** The models, the reference (FP32) first; default: the clicked model (and its FP32 source by name). */
  files?: string[];
  spec?: InputSpec;
  providers?: Provider[];
  warmup?: number;
  iterations?: number;
  rounds?: number;
  threads?: number;
  profile?: boolean;
  /** Open the models with their kernel time drawn on the graph, as "Show Time on the Graph" does. */
  showTime?: boolean;
}

export async function benchmarkCommand(services: Services, targets: vscode.Uri[], args?: BenchCommandArgs): Promise<BenchResult | undefined> {
  let files = args?.files ?? targets.map((t) => t.fsPath);
  if (!files.length) return undefined;
  if (files.length === 1 && !args) {
    // A quantized model is measured against its FP32 source when one is found beside it by name.
    const source = fp32SourceOf(files[0]);
    if (source) {
      const both = `Against its FP32 source, ${path.basename(source)}`;
      const choice = await vscode.window.showQuickPick([both, `${path.basename(files[0])} alone`], { title: `Benchmark ${path.basename(files[0])}` });
      if (!choice) return undefined;
      if (choice === both) files = [source, files[0]];
    }
  }
  // The reference first: a model whose name looks quantized goes after the others.
  const ordered = [...files].sort((a, b) => Number(fp32SourceOf(a) !== undefined) - Number(fp32SourceOf(b) !== undefined));
  return bench(services, args?.files ? files : ordered, args);
}

async function bench(services: Services, files: string[], args?: BenchCommandArgs): Promise<BenchResult | undefined> {
  const names = files.map((f) => path.basename(f)).join(', ');
  const settings = benchSettings();
  let result: BenchResult;
  try {
    const spec = args?.spec ?? (await inputsFor(services, files[0]));
    if (!spec) return undefined;
    result = await withJobProgress(`Benchmarking ${names}`, (call) => services.quantizer.bench({
      path: files[0], files, spec,
      providers: args?.providers ?? settings.providers, warmup: args?.warmup ?? settings.warmup, iterations: args?.iterations ?? settings.iterations,
      threads: args?.threads ?? settings.threads, rounds: args?.rounds, profile: args?.profile ?? true,
    }, call));
  } catch (err) {
    if (isCancelled(err)) {
      await services.quantizer.stopped();
      services.log.info(`Benchmarking ${names} was cancelled.`);
      return undefined;
    }
    const error = loggedError(err, (l) => services.log.error(l), `Could not benchmark ${names}`);
    const actions = error.code === 'bad-input-spec' || error.code === 'input-mismatch' || error.code === 'run-failed' ? ['Edit Inputs…', 'Show Log'] : error.code === 'provider-unavailable' ? ['Open Settings', 'Show Log'] : ['Show Log'];
    void vscode.window.showErrorMessage(`Could not benchmark ${names}: ${error.message}`, ...actions).then((choice) => {
      if (choice === 'Show Log') services.log.show(true);
      if (choice === 'Edit Inputs…') void vscode.commands.executeCommand(EDIT_INPUTS_COMMAND_ID, vscode.Uri.file(files[0]));
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'onnxqs.bench.executionProviders');
    });
    return undefined;
  }
  services.log.info(`Benchmarked ${names}: ${result.runs.map((r) => `${r.label} on ${r.provider.used} p50 ${r.latencyMs.p50.toFixed(3)} ms`).join(', ')}${result.ratios.map((q) => `; ${result.runs[q.run].label}/${result.runs[q.reference].label} ${q.p50.toFixed(2)} [${q.ci[0].toFixed(2)}, ${q.ci[1].toFixed(2)}]`).join('')}`);
  const history = await recordBench(services, result);
  const timed = result.runs.filter((r) => r.profile);
  const actions = [
    ...(timed.length ? [{ id: 'time', label: 'Show Time on the Graph', icon: 'type-hierarchy', title: 'Open the models in the model viewer with each node coloured by its kernel time per run' }] : []),
    { id: 'csv', label: 'Save as CSV…', icon: 'table' },
    { id: 'md', label: 'Save as Markdown…', icon: 'markdown' },
    { id: 'again', label: 'Run Again', icon: 'refresh', title: 'Benchmark the same models again with the same inputs and settings' },
  ];
  const stem = path.join(path.dirname(files[files.length - 1]), `${path.basename(files[files.length - 1]).replace(/\.onnx$/i, '')}.bench`);
  const shown = showResults(services, `Benchmark: ${names}`, { kind: 'bench', result, history, actions }, {
    markdown: () => formatBenchMarkdown(result), json: () => result, jsonFile: `${stem}.json`,
    onAction: (id) => {
      if (id === 'time') showTime(services, timed);
      if (id === 'csv') void saveFile(services, formatBenchCsv(result), `${stem}.csv`, 'CSV');
      if (id === 'md') void saveFile(services, formatBenchMarkdown(result), `${stem}.md`, 'Markdown');
      if (id === 'again') void bench(services, files, { ...args, showTime: false });
    },
  });
  // As the button would: once the panel has painted (opening editors beside a webview that is still loading
  // can leave it unpainted until it is shown again).
  if (args?.showTime) void shown.rendered.then(() => showTime(services, timed));
  return result;
}

/** Each profiled model opened with its kernel time per node over its graph (a model run on several providers: the first). */
function showTime(services: Services, timed: BenchRun[]): void {
  for (const file of new Set(timed.map((r) => r.file))) {
    const overlay = timeOverlay(timed.find((r) => r.file === file)!);
    if (!overlay) continue;
    const uri = vscode.Uri.file(file);
    // In front of the figures already drawn there (a comparison's SQNR drop), which stay in the picker.
    services.overlays.set(uri, [overlay, ...services.overlays.get(uri).filter((o) => o.label !== overlay.label)]);
    // Beside the results panel, which stays in view.
    void vscode.commands.executeCommand('vscode.openWith', uri, MODEL_VIEW_TYPE, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true });
  }
}
