// The extension's commands (ids as in package.json).
//   onnxqs.openModel     open the model(s) in the model editor
//   onnxqs.inspectModel  read a model in the background (progress, cancellable) and show its summary in a
//                        results panel (Markdown one click away); resolves with the InspectReport (undefined when
//                        cancelled or failed: failures are shown to the user and logged)
//   onnxqs.quantizeModel quantize a model into a new file (quantizeCommand.ts)
//   onnxqs.compareWithFp32, onnxqs.compareModels, onnxqs.editModelInputs  run and compare (compareCommand.ts)
//   onnxqs.chooseProviders  the execution providers to run on (providersCommand.ts)
//   onnxqs.benchmarkModel   latency, memory and the speed-up of models on this machine (benchCommand.ts)
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCancelled, loggedError } from '../jobs/errors';
import type { InspectReport } from '../protocol/inspect';
import { hintFor } from './errorHints';
import { withJobProgress } from './jobProgress';
import { MODEL_VIEW_TYPE } from './modelEditorProvider';
import { openReportMarkdown } from './reportDocument';
import { summaryMarkdown } from './reportMarkdown';
import { showResults } from './resultsPanel';
import { summaryContent } from './summaryContent';
import {
  COMPARE_MODELS_COMMAND, COMPARE_WITH_FP32_COMMAND, compareModelsCommand, compareWithFp32Command, EDIT_INPUTS_COMMAND, editInputsCommand, type CompareCommandArgs,
} from './compareCommand';
import { CHOOSE_PROVIDERS_COMMAND, chooseProvidersCommand } from './providersCommand';
import { BENCHMARK_COMMAND, benchmarkCommand, type BenchCommandArgs } from './benchCommand';
import { QUANTIZE_MODEL_COMMAND, quantizeModelCommand, type QuantizeCommandArgs } from './quantizeCommand';
import type { Services } from './services';
import { inspectSettings } from './settings';

export const OPEN_MODEL_COMMAND = 'onnxqs.openModel';
export const INSPECT_MODEL_COMMAND = 'onnxqs.inspectModel';

import { KEEP_WORST_COMMAND, keepWorstLayersCommand, type RefineCommandArgs } from './refineCommand';

/**
 * Commands that run a model in onnxruntime (a crafted model could exploit it) need a trusted workspace;
 * viewing does not. In an untrusted one they say so and offer to manage trust, and do nothing.
 */
function trusted<A extends unknown[], R>(what: string, run: (...args: A) => Promise<R>): (...args: A) => Promise<R | undefined> {
  return async (...args: A) => {
    if (vscode.workspace.isTrusted) return run(...args);
    const manage = 'Manage Workspace Trust';
    void vscode.window.showWarningMessage(`${what} runs the model in onnxruntime, which this untrusted workspace does not allow. Trust the workspace to ${what.toLowerCase()}; the model viewer works either way.`, manage)
      .then((c) => { if (c === manage) void vscode.commands.executeCommand('workbench.trust.manage'); });
    return undefined;
  };
}

export function registerCommands(services: Services): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(OPEN_MODEL_COMMAND, (uri?: unknown, selection?: unknown) => openModel(services, uri, selection)),
    vscode.commands.registerCommand(INSPECT_MODEL_COMMAND, (uri?: unknown, selection?: unknown) => inspectModels(services, uri, selection)),
    vscode.commands.registerCommand(COMPARE_WITH_FP32_COMMAND, trusted('Comparing', async (uri?: unknown, second?: unknown) => {
      const args = isCompareArgs(second) ? second : undefined;
      const [target] = await resolveTargets(uri, args ? undefined : second, 'Compare with FP32');
      return compareWithFp32Command(services, target, args);
    })),
    vscode.commands.registerCommand(COMPARE_MODELS_COMMAND, trusted('Comparing', async (uri?: unknown, second?: unknown, third?: unknown) => {
      // From the explorer: (clicked, selection); from code also (clicked, selection, what to do).
      const args = isCompareArgs(second) ? second : isCompareArgs(third) ? third : undefined;
      const targets = await resolveTargets(uri, Array.isArray(second) ? second : undefined, 'Compare Models');
      if (!targets.length) return undefined;
      return compareModelsCommand(services, targets, args);
    })),
    vscode.commands.registerCommand(BENCHMARK_COMMAND, trusted('Benchmarking', async (uri?: unknown, second?: unknown) => {
      // From the explorer: (clicked, selection); from the palette: nothing (the active model viewer's file, else a dialog); from code: (uri, args).
      const args = isArgs(second, BENCH_KEYS) ? (second as BenchCommandArgs) : undefined;
      const targets = args?.files ? [] : await resolveTargets(uri, Array.isArray(second) ? second : undefined, 'Benchmark Model');
      return benchmarkCommand(services, targets, args);
    })),
    vscode.commands.registerCommand(CHOOSE_PROVIDERS_COMMAND, () => chooseProvidersCommand(services)),
    vscode.commands.registerCommand(EDIT_INPUTS_COMMAND, async (uri?: unknown, selection?: unknown) => {
      const [target] = await resolveTargets(uri, selection, 'Edit Model Inputs');
      return editInputsCommand(services, target);
    }),
    vscode.commands.registerCommand(KEEP_WORST_COMMAND, trusted('Re-quantizing', async (uri?: unknown, args?: unknown) => {
      const [target] = await resolveTargets(uri, undefined, 'Keep the Worst Layers in Float');
      return keepWorstLayersCommand(services, target, isArgs(args, REFINE_KEYS) ? (args as RefineCommandArgs) : {});
    })),
    vscode.commands.registerCommand(QUANTIZE_MODEL_COMMAND, trusted('Quantizing', async (uri?: unknown, second?: unknown) => {
      // From a context menu the second argument is the selection; from code, what to do.
      const args = isQuantizeArgs(second) ? second : undefined;
      const [target] = await resolveTargets(uri, args ? undefined : second, 'Quantize Model');
      return quantizeModelCommand(services, target, args);
    })),
  );
}

/**
 * What code passes to a command, told from what the workbench passes: a plain object with at least one
 * of `keys` (an editor title button passes `{ groupId, editorIndex }`, the explorer a list of URIs).
 */
function isArgs(value: unknown, keys: readonly string[]): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof vscode.Uri) && keys.some((k) => k in value);
}

const COMPARE_KEYS = ['reference', 'spec', 'minCosine', 'providers', 'allowCpuFallback', 'layers'] as const;
const BENCH_KEYS = ['files', 'spec', 'providers', 'warmup', 'iterations', 'rounds', 'threads', 'profile', 'showTime'] as const;
const REFINE_KEYS = ['reference', 'perStep', 'steps', 'how', 'spec', 'result'] as const;
const isCompareArgs = (value: unknown): value is CompareCommandArgs => isArgs(value, COMPARE_KEYS);


function isQuantizeArgs(value: unknown): value is QuantizeCommandArgs {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { options?: unknown }).options === 'object';
}

async function openModel(services: Services, uri: unknown, selection: unknown): Promise<void> {
  const targets = await resolveTargets(uri, selection, 'Open in Model Viewer');
  for (const target of targets) {
    try {
      await vscode.commands.executeCommand('vscode.openWith', target, MODEL_VIEW_TYPE);
    } catch (err) {
      const error = loggedError(err, (l) => services.log.error(l), `Could not open ${target.toString(true)} in the model viewer`);
      void vscode.window.showErrorMessage(`Could not open ${path.basename(target.path)} in the model viewer: ${error.message}`);
    }
  }
}

/** Inspects each target; resolves with the last report (the one shown last). */
async function inspectModels(services: Services, uri: unknown, selection: unknown): Promise<InspectReport | undefined> {
  const targets = await resolveTargets(uri, selection, 'Show Model Summary');
  let last: InspectReport | undefined;
  for (const target of targets) last = (await inspectModel(services, target)) ?? last;
  return last;
}

async function inspectModel(services: Services, uri: vscode.Uri): Promise<InspectReport | undefined> {
  const name = path.basename(uri.path);
  if (uri.scheme !== 'file') {
    void vscode.window.showErrorMessage(`Cannot read ${name}: ${hintFor({ code: 'unsupported-scheme', message: '' })}`);
    return undefined;
  }
  const { largest, bins } = inspectSettings(uri);
  let report: InspectReport;
  try {
    report = await withJobProgress(`Reading ${name}`, (call) => services.jobs.inspect({ path: uri.fsPath, largest, stats: true, bins }, call));
  } catch (err) {
    if (isCancelled(err)) {
      services.log.info(`Inspecting ${uri.fsPath} was cancelled.`);
      return undefined;
    }
    const error = loggedError(err, (l) => services.log.error(l), `Could not inspect ${uri.fsPath}`);
    void vscode.window.showErrorMessage(`Could not read ${name}: ${error.message} ${hintFor(error)}`, 'Show Log').then((choice) => {
      if (choice) services.log.show(true);
    });
    return undefined;
  }
  services.hooks.recordReport(uri.toString(), report);
  // A results panel like the others; the same summary one click away as Markdown.
  const content = summaryContent(report, uri.fsPath);
  showResults(services, `Summary: ${name}`, content, {
    markdown: () => summaryMarkdown(content),
    json: () => report,
    jsonFile: path.join(path.dirname(uri.fsPath), `${name.replace(/\.onnx$/i, '')}.summary.json`),
    onAction: (id) => { if (id === 'markdown') void openReportMarkdown(report, uri); },
  });
  return report;
}

/**
 * What a command acts on: the explorer's multi-selection or the clicked file (VS Code passes both from
 * a context menu), else the model in the active editor tab, else a file picker.
 */
async function resolveTargets(uri: unknown, selection: unknown, title: string): Promise<vscode.Uri[]> {
  if (Array.isArray(selection)) {
    const uris = selection.filter((u): u is vscode.Uri => u instanceof vscode.Uri);
    if (uris.length > 0) return uris;
  }
  if (uri instanceof vscode.Uri) return [uri];
  if (typeof uri === 'string' && uri) return [uri.includes('://') || uri.startsWith('file:') ? vscode.Uri.parse(uri) : vscode.Uri.file(uri)];
  const active = activeModel();
  if (active) return [active];
  const picked = await vscode.window.showOpenDialog({
    title,
    canSelectMany: true,
    openLabel: title,
    filters: { 'ONNX models': ['onnx'] },
  });
  return picked ?? [];
}

function activeModel(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const candidates: (vscode.Uri | undefined)[] = [
    input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined,
    vscode.window.activeTextEditor?.document.uri,
  ];
  return candidates.find((u) => u !== undefined && u.path.toLowerCase().endsWith('.onnx'));
}
