// onnxqs.keepWorstLayersInFloat: "Keep the N worst layers in float and re-quantize", from the results
// panel of a comparison (its button) or from code. Each step quantizes the FP32 source again in the job
// process with the options the quantized model records (our quantizer writes them into its metadata) and
// the layers with the largest SQNR drop left in float, compares the new model with the source layer by
// layer, and adds a row to a history panel; the models live in a temporary folder until the user saves
// one (Save As…), and go when the panel closes. Called with (uri, RefineCommandArgs) it asks nothing and
// resolves with the history after `steps` steps.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCancelled, loggedError, toErrorData } from '../jobs/errors';
import type { CompareResult } from '../protocol/compare';
import type { InputSpec } from '../protocol/inputSpec';
import type { RefineContent } from '../protocol/results';
import { RefineHistory, type RefineHow, type RefineLatency, type RefineStep } from '../runtime/refine';
import { fp32SourceOf, COMPARE_WITH_FP32_COMMAND } from './compareCommand';
import { withJobProgress } from './jobProgress';
import { MODEL_VIEW_TYPE } from './modelEditorProvider';
import { inputsFor } from './modelInputs';
import { showResults } from './resultsPanel';
import type { Services } from './services';
import { benchSettings, runtimeSettings } from './settings';

export const KEEP_WORST_COMMAND = 'onnxqs.keepWorstLayersInFloat';

export interface RefineCommandArgs {
  /** The FP32 model the quantized one was made from (default: found by name). */
  reference?: string;
  /** Layers each step leaves in float (default: asked, 5). */
  perStep?: number;
  /** Steps to run before resolving (default 0: the panel's button runs them). */
  steps?: number;
  /** What those steps do: leave the layers in float (default) or give them 16-bit activations. */
  how?: RefineHow;
  spec?: InputSpec;
  /** The comparison of the quantized model with the reference, layers included, when already made. */
  result?: CompareResult;
}

const DEFAULT_PER_STEP = 5;

export async function keepWorstLayersCommand(services: Services, target: vscode.Uri | undefined, args: RefineCommandArgs = {}): Promise<RefineStep[] | undefined> {
  if (!target) return undefined;
  const quantized = target.fsPath, name = path.basename(quantized);
  const reference = args.reference ?? fp32SourceOf(quantized);
  if (!reference) {
    void vscode.window.showErrorMessage(`No FP32 model found beside ${name} by its name; compare it with its FP32 model first (Compare with FP32…) and use the button of the results.`);
    return undefined;
  }
  const settings = runtimeSettings();
  const fail = (what: string, err: unknown) => {
    if (isCancelled(err)) { services.log.info(`${what}: cancelled.`); return; }
    const e = loggedError(err, (l) => services.log.error(l), what);
    void vscode.window.showErrorMessage(`${what}: ${e.message}`, 'Show Log').then((c) => { if (c) services.log.show(true); });
  };
  let spec = args.spec;
  try { spec ??= await inputsFor(services, reference); } catch (err) { fail(`Could not read the inputs of ${path.basename(reference)}`, err); return undefined; }
  if (!spec) return undefined;
  const compare = async (file: string): Promise<CompareResult> => withJobProgress(`Comparing ${path.basename(file)} with ${path.basename(reference)} layer by layer`, (call) => services.quantizer.compare({
    path: reference, other: file, spec: spec!, providers: settings.providers, allowCpuFallback: settings.allowCpuFallback,
    policy: { minCosine: settings.minCosine }, plotPoints: 0, layers: true,
  }, call));
  let result = args.result;
  try { result ??= await compare(quantized); } catch (err) { fail(`Could not compare ${name}`, err); return undefined; }
  const options = result.layers?.quantizedWith;
  if (!options) {
    void vscode.window.showErrorMessage(`${name} does not record how it was quantized (ONNX Quantization Studio writes its options into the models it quantizes): quantize ${path.basename(reference)} here first, then keep its worst layers in float.`);
    return undefined;
  }
  let perStep = args.perStep;
  if (perStep === undefined) {
    const value = await vscode.window.showInputBox({
      title: 'Keep the worst layers in float', value: String(DEFAULT_PER_STEP),
      prompt: 'Layers each step leaves in float: those with the largest SQNR drop in the last comparison',
      validateInput: (v) => (Number.isInteger(Number(v)) && Number(v) >= 1 ? undefined : 'A whole number of layers, 1 or more'),
    });
    if (value === undefined) return undefined;
    perStep = Number(value);
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxqs-refine-'));
  const stem = name.replace(/\.onnx$/i, '');
  const size = (f: string) => fs.statSync(f).size;
  const latency = (file: string) => measureLatency(services, reference, file, spec!);
  const history = new RefineHistory({
    quantize: async (o, output) => withJobProgress(`Quantizing ${path.basename(reference)} with ${(o.exclude ?? []).length} nodes in float`, (call) => services.quantizer.quantize({ path: reference, output, options: o, spec: spec! }, call)),
    compare, latency,
  }, options, { file: quantized, size: { ratio: size(quantized) / size(reference), quantized: null }, result });
  history.steps[0].latency = (await latency(quantized)) ?? null;
  let busy = false;
  const content = (): RefineContent => ({
    kind: 'refine', source: reference, steps: [...history.steps], next: history.next(perStep!),
    next16: history.canWiden ? history.next(perStep!, 'int16') : null, perStep: perStep!, busy,
  });
  const title = `Keep worst layers in float: ${name}`;
  const step = async (how: RefineHow): Promise<void> => {
    if (busy || !history.next(perStep!, how).length || (how === 'int16' && !history.canWiden)) return;
    busy = true;
    panel.update(content());
    try {
      const s = await history.step(perStep!, path.join(dir, `${stem}.step${history.steps.length}.onnx`), how);
      services.log.info(`Step ${s.index}: ${s.added.join(', ')} ${how === 'float' ? 'in float' : 'with 16-bit activations'}; worst output ${s.worstOutput} cosine ${s.cosine.toFixed(6)}, ${s.sizeRatio.toFixed(3)}x the size.`);
    } catch (err) {
      fail(`Could not re-quantize ${path.basename(reference)}`, err);
    } finally {
      busy = false;
      panel.update(content());
    }
  };
  const panel = showResults(services, title, content(), {
    markdown: () => refineMarkdown(reference, history.steps), json: () => ({ source: reference, steps: history.steps }),
    jsonFile: path.join(path.dirname(quantized), `${stem}.refine.json`),
    onAction: (id) => {
      if (id === 'next') { void step('float'); return; }
      if (id === 'next16') { void step('int16'); return; }
      const m = /^(open|compare|save)-(\d+)$/.exec(id);
      const s = m ? history.steps[Number(m[2])] : undefined;
      if (!m || !s) return;
      if (m[1] === 'open') void vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(s.file), MODEL_VIEW_TYPE);
      if (m[1] === 'compare') void vscode.commands.executeCommand(COMPARE_WITH_FP32_COMMAND, vscode.Uri.file(s.file), { reference, spec });
      if (m[1] === 'save') void saveStep(services, s, quantized);
    },
  });
  panel.panel.onDidDispose(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (let i = 0; i < (args.steps ?? 0); i++) await step(args.how ?? 'float');
  return history.steps;
}

/** Quick runs per model for a step's latency: 30 in 5 interleaved rounds (the benchmark's full default is 100 in 10). */
const STEP_ITERATIONS = 30, STEP_ROUNDS = 5;

/** A step's latency against the source's on the first benchmark provider; undefined (logged) when it cannot be measured. */
async function measureLatency(services: Services, reference: string, file: string, spec: InputSpec): Promise<RefineLatency | undefined> {
  const settings = benchSettings();
  try {
    const r = await withJobProgress(`Measuring the latency of ${path.basename(file)} against ${path.basename(reference)}`, (call) => services.quantizer.bench({
      path: reference, files: [reference, file], spec, providers: [settings.providers[0]], threads: settings.threads,
      warmup: 2, iterations: STEP_ITERATIONS, rounds: STEP_ROUNDS, profile: false,
    }, call));
    const q = r.ratios[0];
    return { p50Ms: r.runs[1].latencyMs.p50, sourceP50Ms: r.runs[0].latencyMs.p50, ratio: q.p50, ci: q.ci, provider: r.runs[1].provider.used };
  } catch (err) {
    if (isCancelled(err)) await services.quantizer.stopped();
    services.log.warn(`The latency of ${file} was not measured: ${toErrorData(err).message}`);
    return undefined;
  }
}

/** Copies a step's model to where the user says (beside the target, then renamed: never half a file). */
async function saveStep(services: Services, s: RefineStep, quantized: string): Promise<void> {
  const suggested = quantized.replace(/\.onnx$/i, s.index ? `.float${s.inFloat.length}.onnx` : '.onnx');
  const target = await vscode.window.showSaveDialog({ title: 'Save this step\'s model as', saveLabel: 'Save', defaultUri: vscode.Uri.file(suggested), filters: { 'ONNX models': ['onnx'] } });
  if (!target) return;
  if (path.resolve(target.fsPath) === path.resolve(s.file)) return;
  const tmp = `${target.fsPath}.${process.pid}.tmp`;
  try {
    fs.copyFileSync(s.file, tmp);
    fs.renameSync(tmp, target.fsPath);
    services.log.info(`Saved step ${s.index} as ${target.fsPath}.`);
    void vscode.window.showInformationMessage(`Saved ${path.basename(target.fsPath)} (${s.inFloat.length} nodes in float).`);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    void vscode.window.showErrorMessage(`Could not save ${path.basename(target.fsPath)}: ${(e as Error).message}`);
  }
}

function refineMarkdown(source: string, steps: RefineStep[]): string {
  const lines = [`Keeping the worst layers of ${path.basename(source)}'s quantization in float or at 16 bits`, '', '| step | nodes in float | 16-bit | added | worst output | cosine | SQNR | size | latency p50 |', '|---|---|---|---|---|---|---|---|---|'];
  for (const s of steps) {
    lines.push(`| ${s.index || 'first'} | ${s.inFloat.length} | ${s.in16.length} | ${s.added.length ? `${s.added.join(', ')}${s.how === 'int16' ? ' (16-bit)' : ' (float)'}` : '-'} | ${s.worstOutput} | ${s.cosine.toFixed(6)} | ${Number.isFinite(s.sqnrDb) ? `${s.sqnrDb.toFixed(2)} dB` : 'exact'} | ${s.sizeRatio.toFixed(3)}x | ${s.latency ? `${s.latency.p50Ms.toFixed(2)} ms (${s.latency.ratio.toFixed(2)}x FP32)` : '-'} |`);
  }
  return `${lines.join('\n')}\n`;
}
