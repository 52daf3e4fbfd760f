// onnxqs.quantizeModel: quantize a model into a new file, in a job process of its own (the editor's
// requests do not wait), with progress and Cancel; then the report in a results panel (with Open Model,
// Compare with FP32, and Quantize again with the nodes it suggests in float). The source is never written: the core refuses an output equal to it, and writes
// to a temporary file that is renamed into place only when onnxruntime has loaded the result.
//
// From the explorer or the palette it asks: what kind of quantization, the calibration samples for static
// quantization (a folder, or random samples flagged as unrepresentative), an accuracy target when chosen,
// and where to write. Called with (uri, { options, output }) it asks nothing (tests, other extensions);
// it resolves with the report, or undefined when cancelled or failed (failures are shown and logged).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCancelled, loggedError, toErrorData } from '../jobs/errors';
import { removeStaleTemps } from '../jobs/staleTemps';
import type { InputSpec } from '../protocol/inputSpec';
import { formatOpCounts } from '../protocol/format';
import type { QuantizeAdvice, QuantizeOptions, QuantizeReport } from '../protocol/quantize';
import { COMPARE_WITH_FP32_COMMAND } from './compareCommand';
import { hintFor, quantizeHintFor } from './errorHints';
import { withJobProgress } from './jobProgress';
import { MODEL_VIEW_TYPE } from './modelEditorProvider';
import { inputsFor, rememberedInputs } from './modelInputs';
import { defaultOutput } from './outputPath';
import { editorWording } from './editorWording';
import { quantizeReportContent, floatActionId } from './quantizeReportContent';
import { quantizeReportToMarkdown } from './quantizeReportMarkdown';
import { showResults } from './resultsPanel';
import type { Services } from './services';

export const QUANTIZE_MODEL_COMMAND = 'onnxqs.quantizeModel';

/** What a programmatic caller gives instead of answering the prompts. */
export interface QuantizeCommandArgs {
  options: QuantizeOptions;
  /** Absolute path of the new model; default beside the source (`<name>.int8.onnx`, ...). */
  output?: string;
  /** What to feed the model (random calibration samples, the comparison with the source); default: the inputs remembered for it. */
  spec?: InputSpec;
}

interface Choice extends vscode.QuickPickItem { options: QuantizeOptions; suffix: string; target?: boolean }

const CHOICES: Choice[] = [
  {
    label: 'Dynamic int8', description: 'no calibration data',
    detail: 'MatMul/Gemm weights to int8, activations quantized at run time. Transformers, MLPs, RNN cells.',
    options: { mode: 'dynamic' }, suffix: 'int8',
  },
  {
    label: 'Static int8 (QDQ)', description: 'calibrated on sample inputs',
    detail: 'Conv, MatMul and Gemm with int8 weights per channel and uint8 activations; onnxruntime fuses them into int8 kernels.',
    options: { mode: 'static' }, suffix: 'qdq',
  },
  {
    label: 'Static int8 with an accuracy target', description: 'keeps the layers that lose the most in float',
    detail: 'Static int8, then the layers whose quantization costs the most stay in float until the outputs are as close to the float model\'s as you ask.',
    options: { mode: 'static' }, suffix: 'qdq', target: true,
  },
  {
    label: 'Weight-only int4 (MatMulNBits)', description: 'block 32, no calibration data',
    detail: 'MatMul weights to 4 bits in blocks of 32; activations stay in float. LLM-style MatMul layers.',
    options: { mode: 'weight-only' }, suffix: 'int4',
  },
];

/** benchCommand.ts's command, by id. */
const BENCHMARK_COMMAND_ID = 'onnxqs.benchmarkModel';

export async function quantizeModelCommand(services: Services, target: vscode.Uri | undefined, args?: QuantizeCommandArgs): Promise<QuantizeReport | undefined> {
  if (!target) return undefined;
  const name = path.basename(target.path);
  if (target.scheme !== 'file') {
    void vscode.window.showErrorMessage(`Cannot quantize ${name}: ${hintFor({ code: 'unsupported-scheme', message: '' })}`);
    return undefined;
  }
  const request = args ?? (await ask(services, target));
  if (!request) return undefined;
  const output = request.output ?? defaultOutput(target.fsPath, CHOICES.find((c) => c.options.mode === request.options.mode)?.suffix ?? 'quantized');

  let report: QuantizeReport;
  try {
    report = await withJobProgress(`Quantizing ${name}`, (call) => services.quantizer.quantize(
      { path: target.fsPath, output, options: request.options, spec: request.spec ?? rememberedInputs(services, target.fsPath) }, call));
  } catch (err) {
    await services.quantizer.stopped();
    const left = removeStaleTemps(output);
    if (left.length) services.log.info(`Removed ${left.length} temporary file(s) of the stopped job: ${left.join(', ')}`);
    if (isCancelled(err)) {
      services.log.info(`Quantizing ${target.fsPath} was cancelled; nothing was written.`);
      void vscode.window.showInformationMessage(`Quantizing ${name} was cancelled; nothing was written.`);
      return undefined;
    }
    const error = loggedError(err, (l) => services.log.error(l), `Could not quantize ${target.fsPath}`);
    const said = editorWording(error.message);
    void vscode.window.showErrorMessage(`Could not quantize ${name}: ${/[.!?]$/.test(said) ? said : `${said}.`} ${quantizeHintFor(error)}`, 'Show Log').then((choice) => {
      if (choice) services.log.show(true);
    });
    return undefined;
  }

  services.log.info(`Quantized ${target.fsPath} -> ${output}: ${report.quantized.length} nodes, ${report.sizeBefore} -> ${report.sizeAfter} bytes.`);
  const paths = { input: target.fsPath, output };
  const content = quantizeReportContent(report, paths);
  showResults(services, `Quantized: ${path.basename(output)}`, content, {
    markdown: () => quantizeReportToMarkdown(report, paths), json: () => report, jsonFile: `${output.replace(/\.onnx$/i, '')}.report.json`,
    onAction: (id) => {
      if (id === 'open') void vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(output), MODEL_VIEW_TYPE);
      if (id === 'compare') void vscode.commands.executeCommand(COMPARE_WITH_FP32_COMMAND, vscode.Uri.file(output), { reference: target.fsPath });
      if (id === 'bench') void vscode.commands.executeCommand(BENCHMARK_COMMAND_ID, vscode.Uri.file(output), { files: [target.fsPath, output], ...(request.spec ? { spec: request.spec } : {}) });
      const i = (report.floatSuggestions ?? []).findIndex((_, k) => floatActionId(k) === id);
      if (i >= 0) {
        // The same quantization with those nodes left in float, into a new file beside the first.
        const nodes = report.floatSuggestions![i].nodes;
        const again: QuantizeCommandArgs = {
          options: { ...request.options, exclude: [...(request.options.exclude ?? []), ...nodes] },
          output: defaultOutput(target.fsPath, `${CHOICES.find((c) => c.options.mode === request.options.mode)?.suffix ?? 'quantized'}-float`),
          ...(request.spec ? { spec: request.spec } : {}),
        };
        void vscode.commands.executeCommand(QUANTIZE_MODEL_COMMAND, target, again);
      }
    },
  });
  const ratio = report.sizeBefore ? (report.sizeAfter / report.sizeBefore).toFixed(2) : '-';
  void vscode.window.showInformationMessage(
    `Quantized ${name} into ${path.basename(output)}: ${report.quantized.length} node${report.quantized.length === 1 ? '' : 's'}, ${ratio}x the size.`,
  );
  return report;
}

/**
 * The choices in the order that suits the model (src/quantize/advice.ts), each saying what it would
 * quantize; one that would quantize nothing says so and comes last.
 */
function orderChoices(choices: readonly Choice[], advice: QuantizeAdvice): Choice[] {
  const rank = (c: Choice) => advice.order.findIndex((a) => a.mode === c.options.mode);
  const ordered = [...choices].sort((a, b) => rank(a) - rank(b) || choices.indexOf(a) - choices.indexOf(b));
  return ordered.map((c, i) => {
    const a = advice.order[rank(c)];
    if (!a) return c;
    const what = a.count === 0 ? 'nothing to quantize in this model' : `${i === 0 ? 'recommended: ' : ''}${a.count} node${a.count === 1 ? '' : 's'} (${formatOpCounts(a.byOp)})`;
    return { ...c, description: `${what} · ${c.description}`, ...(i === 0 && a.why ? { detail: `${a.why}. ${c.detail}` } : {}) };
  });
}

/** The prompts: kind, calibration, accuracy target, output file. Undefined when the user backs out. */
async function ask(services: Services, target: vscode.Uri): Promise<QuantizeCommandArgs | undefined> {
  const advice = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Looking at ${path.basename(target.path)}` },
    () => services.quantizer.advise({ path: target.fsPath })).then((a) => a, (err: unknown) => {
    services.log.warn(`Could not look at ${target.fsPath} to order the kinds of quantization: ${toErrorData(err).message}`);
    return undefined;
  });
  const choice = await vscode.window.showQuickPick(advice ? orderChoices(CHOICES, advice) : CHOICES, { title: `Quantize ${path.basename(target.path)}`, placeHolder: 'What kind of quantization?', matchOnDetail: true });
  if (!choice) return undefined;
  const options: QuantizeOptions = { ...choice.options };
  if (options.mode === 'static') {
    const folder = 'Choose a folder of samples…';
    const random = 'Random samples (32; not representative of real data)';
    const how = await vscode.window.showQuickPick([
      { label: folder, detail: '.npz files, .npy or .pb files (one-input models), or test_data_set_*/input_*.pb folders, as the model takes them' },
      { label: random, detail: 'Only to try the workflow: the activation ranges and the accuracy will not be those of real inputs' },
    ], { title: 'Calibration samples', placeHolder: 'Static quantization measures activation ranges on sample inputs' });
    if (!how) return undefined;
    if (how.label === folder) {
      const picked = await vscode.window.showOpenDialog({ title: 'Calibration samples', canSelectFiles: false, canSelectFolders: true, openLabel: 'Calibrate on this folder', defaultUri: vscode.Uri.file(path.dirname(target.fsPath)) });
      if (!picked?.[0]) return undefined;
      options.calibration = { dataDir: picked[0].fsPath };
    } else {
      options.calibration = { randomSamples: 32 };
    }
    if (choice.target) {
      const value = await vscode.window.showInputBox({
        title: 'Accuracy target', value: '0.99',
        prompt: 'Cosine similarity of the quantized model\'s outputs to the float model\'s, on the calibration samples (0 to 1)',
        validateInput: (v) => (Number(v) > 0 && Number(v) < 1 ? undefined : 'A number between 0 and 1, e.g. 0.99'),
      });
      if (value === undefined) return undefined;
      options.accuracyTarget = Number(value);
    }
  }
  // The inputs (asked once per model, then remembered): random calibration samples and the comparison of
  // the result with the source. Samples from a folder carry their own.
  let spec: InputSpec | undefined;
  if (options.calibration?.dataDir === undefined) {
    spec = await inputsFor(services, target.fsPath);
    if (!spec) return undefined;
  }
  const saved = await vscode.window.showSaveDialog({
    title: 'Save the quantized model as', saveLabel: 'Quantize',
    defaultUri: vscode.Uri.file(defaultOutput(target.fsPath, choice.suffix)), filters: { 'ONNX models': ['onnx'] },
  });
  if (!saved) return undefined;
  return { options, output: saved.fsPath, ...(spec ? { spec } : {}) };
}
