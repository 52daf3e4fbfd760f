// onnxqs.compareWithFp32 and onnxqs.compareModels: run two models on the same inputs in the job process
// (progress, Cancel), judge each output, and show the results panel.
//
// "Compare with FP32…" starts from a quantized model (explorer, the model editor's title, the quantize
// result) and finds its source by name (model.int8.onnx -> model.onnx) or asks; "Compare Models…" takes
// two models selected in the explorer (a name that looks quantized goes second). The inputs are asked
// for once per model (modelInputs.ts). Called with (uri, CompareCommandArgs) it asks nothing (tests, other
// extensions) and resolves with the result; undefined when cancelled or failed (failures are shown).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCancelled, loggedError, toErrorData } from '../jobs/errors';
import type { CompareResult, Provider } from '../protocol/compare';
import type { InputSpec } from '../protocol/inputSpec';
import { formatCompareMarkdown } from '../runtime/compareReport';
import { layerOverlays } from '../runtime/layerOverlay';
import { MODEL_VIEW_TYPE } from './modelEditorProvider';
import { showResults } from './resultsPanel';
import { withJobProgress } from './jobProgress';
import { inputsFor } from './modelInputs';
import type { Services } from './services';
import { runtimeSettings } from './settings';

export const COMPARE_WITH_FP32_COMMAND = 'onnxqs.compareWithFp32';
export const COMPARE_MODELS_COMMAND = 'onnxqs.compareModels';
export const EDIT_INPUTS_COMMAND = 'onnxqs.editModelInputs';
/** refineCommand.ts's command (by id: that module imports this one). */
const KEEP_WORST_COMMAND_ID = 'onnxqs.keepWorstLayersInFloat';

/** What a programmatic caller gives instead of answering the prompts. */
export interface CompareCommandArgs {
  /** The FP32 model (A); default: found by name, or asked. */
  reference?: string;
  spec?: InputSpec;
  minCosine?: number;
  providers?: Provider[];
  allowCpuFallback?: boolean;
  /** Compare every layer too (default true). */
  layers?: boolean;
}

/** Pairs (reference, candidate) sampled per output for the panel's scatter plot. */
const PLOT_POINTS = 2000;

const QUANTIZED_NAME = /\.(int8|uint8|qdq|qop|int4|uint4|int16|quantized|quant|q)(-\d+)?\.onnx$/i;

/** The FP32 model a quantized file was made from, by name (`m.int8.onnx`, `m.qdq-2.onnx` -> `m.onnx`). */
export function fp32SourceOf(file: string): string | undefined {
  if (!QUANTIZED_NAME.test(file)) return undefined;
  const source = file.replace(QUANTIZED_NAME, '.onnx');
  return fs.existsSync(source) ? source : undefined;
}

export async function compareWithFp32Command(services: Services, target: vscode.Uri | undefined, args?: CompareCommandArgs): Promise<CompareResult | undefined> {
  if (!target) return undefined;
  let reference = args?.reference ?? fp32SourceOf(target.fsPath);
  if (args && !reference) {
    void vscode.window.showErrorMessage(`No FP32 model found beside ${path.basename(target.fsPath)} by its name; give the reference model.`);
    return undefined;
  }
  if (!args) {
    const guess = reference;
    const choose = 'Choose the FP32 model…';
    const picked = guess
      ? await vscode.window.showQuickPick([{ label: path.basename(guess), description: 'the source, by name', file: guess }, { label: choose, file: '' }], { title: `Compare ${path.basename(target.fsPath)} with FP32`, placeHolder: 'The FP32 model it was made from' })
      : { file: '' };
    if (!picked) return undefined;
    reference = picked.file;
    if (!reference) {
      const files = await vscode.window.showOpenDialog({ title: `The FP32 model ${path.basename(target.fsPath)} was made from`, canSelectMany: false, openLabel: 'Compare', filters: { 'ONNX models': ['onnx'] }, defaultUri: vscode.Uri.file(path.dirname(target.fsPath)) });
      if (!files?.[0]) return undefined;
      reference = files[0].fsPath;
    }
  }
  return compare(services, reference!, target.fsPath, args);
}

export async function compareModelsCommand(services: Services, targets: vscode.Uri[], args?: CompareCommandArgs): Promise<CompareResult | undefined> {
  let files = targets.map((t) => t.fsPath);
  if (files.length === 1) {
    const other = await vscode.window.showOpenDialog({ title: `Compare ${path.basename(files[0])} with`, canSelectMany: false, openLabel: 'Compare', filters: { 'ONNX models': ['onnx'] }, defaultUri: vscode.Uri.file(path.dirname(files[0])) });
    if (!other?.[0]) return undefined;
    files = [files[0], other[0].fsPath];
  }
  if (files.length !== 2) {
    void vscode.window.showErrorMessage(`Compare Models takes two models; ${files.length} are selected. Select the FP32 model and its quantized copy in the Explorer.`);
    return undefined;
  }
  // The reference is the one that does not look quantized.
  const [a, b] = QUANTIZED_NAME.test(files[0]) && !QUANTIZED_NAME.test(files[1]) ? [files[1], files[0]] : files;
  return compare(services, a, b, args);
}

async function compare(services: Services, a: string, b: string, args?: CompareCommandArgs): Promise<CompareResult | undefined> {
  const title = `${path.basename(a)} vs ${path.basename(b)}`;
  const settings = runtimeSettings();
  let result: CompareResult;
  let spec: InputSpec | undefined;
  try {
    const asked = args?.spec ?? (await inputsFor(services, a));
    if (!asked) return undefined;
    spec = asked;
    result = await withJobProgress(`Comparing ${title}`, (call) => services.quantizer.compare({
      path: a, other: b, spec: asked,
      providers: args?.providers ?? settings.providers, allowCpuFallback: args?.allowCpuFallback ?? settings.allowCpuFallback,
      policy: { minCosine: args?.minCosine ?? settings.minCosine }, plotPoints: PLOT_POINTS, layers: args?.layers ?? true,
    }, call));
  } catch (err) {
    if (isCancelled(err)) {
      await services.quantizer.stopped();
      services.log.info(`Comparing ${a} with ${b} was cancelled.`);
      return undefined;
    }
    const error = loggedError(err, (l) => services.log.error(l), `Could not compare ${a} with ${b}`);
    const actions = error.code === 'bad-input-spec' || error.code === 'input-mismatch' || error.code === 'run-failed' ? ['Edit Inputs…', 'Show Log'] : ['Show Log'];
    void vscode.window.showErrorMessage(`Could not compare ${title}: ${error.message}`, ...actions).then((choice) => {
      if (choice === 'Show Log') services.log.show(true);
      if (choice === 'Edit Inputs…') void vscode.commands.executeCommand(EDIT_INPUTS_COMMAND, vscode.Uri.file(a));
    });
    return undefined;
  }
  services.log.info(`Compared ${a} with ${b}: ${result.outputs.map((o) => `${o.name} cosine ${o.worst.cosine.toFixed(6)}${o.pass === false ? ' FAIL' : ''}`).join(', ')}`);
  const stem = path.basename(b).replace(/\.onnx$/i, '');
  // A model our quantizer wrote records its options: it can be quantized again with its worst layers in float.
  const overlays = layerOverlays(result);
  const actions = [
    ...(overlays.length ? [{ id: 'graph', label: 'Show on the Graph', icon: 'type-hierarchy', title: `Open ${path.basename(b)} in the model viewer with each node coloured by its SQNR drop` }] : []),
    ...(result.layers?.quantizedWith ? [{ id: 'refine', label: 'Keep the Worst Layers in Float…', icon: 'layers', title: 'Quantize the FP32 model again with the layers of largest SQNR drop left in float, and compare' }] : []),
  ];
  // The layer error and the graph diff drawn over B's graph in every model viewer of it, open now or later.
  if (overlays.length) services.overlays.set(vscode.Uri.file(b), overlays);
  if (result.layers) services.overlays.pair(vscode.Uri.file(a), vscode.Uri.file(b));
  showResults(services, title, { kind: 'compare', result, actions }, {
    markdown: () => formatCompareMarkdown(result), json: () => result, jsonFile: path.join(path.dirname(b), `${stem}.compare.json`),
    onAction: (id) => {
      if (id === 'graph') void vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(b), MODEL_VIEW_TYPE);
      if (id === 'refine') void vscode.commands.executeCommand(KEEP_WORST_COMMAND_ID, vscode.Uri.file(b), { reference: a, spec, result });
    },
  });
  return result;
}

/** Asks for the inputs of `target` again (prefilled with what is remembered). */
export async function editInputsCommand(services: Services, target: vscode.Uri | undefined): Promise<InputSpec | undefined> {
  if (!target) return undefined;
  try {
    return await inputsFor(services, target.fsPath, { ask: true });
  } catch (err) {
    void vscode.window.showErrorMessage(`Could not read the inputs of ${path.basename(target.fsPath)}: ${toErrorData(err).message}`);
    return undefined;
  }
}
