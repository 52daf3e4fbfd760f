// The walkthrough's one-click steps on the sample model the extension ships (samples/mnist-8.onnx, MIT):
//   onnxqs.openSample       copies it into the extension's storage (the extension folder is read-only and
//                           quantizing writes beside the model) and opens it in the model viewer
//   onnxqs.quantizeSample   static int8 of that copy, calibrated on 32 seeded random samples
//   onnxqs.compareSample    the int8 copy against it, per output and per layer
//   onnxqs.benchmarkSample  both, side by side
// Each later step makes what the earlier ones would have made when it is missing, so any step works first.
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { BENCHMARK_COMMAND } from './benchCommand';
import { COMPARE_WITH_FP32_COMMAND } from './compareCommand';
import { MODEL_VIEW_TYPE } from './modelEditorProvider';
import { QUANTIZE_MODEL_COMMAND } from './quantizeCommand';

export const OPEN_SAMPLE_COMMAND = 'onnxqs.openSample';
export const QUANTIZE_SAMPLE_COMMAND = 'onnxqs.quantizeSample';
export const COMPARE_SAMPLE_COMMAND = 'onnxqs.compareSample';
export const BENCHMARK_SAMPLE_COMMAND = 'onnxqs.benchmarkSample';

/** Inputs for the sample: 8 seeded random digits-sized samples (mnist has no symbolic dims). */
const SPEC = { samples: 8, seed: 1 };

export function registerSampleCommands(extensionUri: vscode.Uri, storage: vscode.Uri): vscode.Disposable {
  const folder = vscode.Uri.joinPath(storage, 'sample');
  const fp32 = vscode.Uri.joinPath(folder, 'mnist-8.onnx');
  const int8 = vscode.Uri.joinPath(folder, 'mnist-8.int8.onnx');
  const copy = (): vscode.Uri => {
    if (!fs.existsSync(fp32.fsPath)) {
      fs.mkdirSync(folder.fsPath, { recursive: true });
      fs.copyFileSync(vscode.Uri.joinPath(extensionUri, 'samples', 'mnist-8.onnx').fsPath, fp32.fsPath);
    }
    return fp32;
  };
  const quantized = async (): Promise<vscode.Uri | undefined> => {
    if (fs.existsSync(int8.fsPath)) return int8;
    const report = await vscode.commands.executeCommand(QUANTIZE_MODEL_COMMAND, copy(), { options: { mode: 'static', calibration: { randomSamples: 32 } }, output: int8.fsPath, spec: SPEC });
    return report ? int8 : undefined;
  };
  return vscode.Disposable.from(
    vscode.commands.registerCommand(OPEN_SAMPLE_COMMAND, async () => {
      const uri = copy();
      await vscode.commands.executeCommand('vscode.openWith', uri, MODEL_VIEW_TYPE);
      return uri;
    }),
    vscode.commands.registerCommand(QUANTIZE_SAMPLE_COMMAND, async () => {
      fs.rmSync(int8.fsPath, { force: true }); // this step always quantizes anew
      return quantized();
    }),
    vscode.commands.registerCommand(COMPARE_SAMPLE_COMMAND, async () => {
      const q = await quantized();
      return q ? vscode.commands.executeCommand(COMPARE_WITH_FP32_COMMAND, q, { reference: copy().fsPath, spec: SPEC }) : undefined;
    }),
    vscode.commands.registerCommand(BENCHMARK_SAMPLE_COMMAND, async () => {
      const q = await quantized();
      return q ? vscode.commands.executeCommand(BENCHMARK_COMMAND, q, { files: [copy().fsPath, q.fsPath], spec: SPEC }) : undefined;
    }),
  );
}
