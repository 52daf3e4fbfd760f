// What to tell the user when a model cannot be read: the cause (from the typed error) and what to do.
// Pure: no vscode import.
import type { ErrorData } from '../protocol/common';

const HINTS: Record<string, string> = {
  // The core's OnnxError codes.
  'not-found': 'The file was moved, deleted or cannot be read. Check that it exists and that you may read it, then reload.',
  'empty-file': 'The file is empty; it may still be being written or copied. Wait until it is complete, then reload.',
  'not-onnx': 'This file is not an ONNX model (a serialized ModelProto). Open the .onnx file your framework exported, or export the model again.',
  truncated: 'The file ends too early, as after an interrupted download or copy. Download or export it again.',
  'invalid-tensor': 'A weight tensor in the file is malformed (its data does not match its type and shape). Export the model again.',
  'external-data':
    'The model keeps its weights in external data files that are missing or shorter than the model says. Put them next to the model under the names it expects, then reload.',
  'unsafe-path':
    'An external data location points outside the model\'s folder, so it is not read. Fix the model\'s external data locations (they must be relative paths inside its folder).',
  'too-large':
    'The model is too large to read in one piece. Save it with external data (onnx.save_model(..., save_as_external_data=True)) and open that copy.',
  unsupported: 'The model uses something this version of the extension cannot read yet.',
  // The job layer's codes.
  cancelled: 'Reading was cancelled. Reload to read the model again.',
  timeout: 'Reading the model took too long and was stopped. Reload to try again; very large models may need a faster disk.',
  crashed:
    'The background process that reads models stopped unexpectedly (possibly out of memory). Reload to try again; details are in the "ONNX Quantization Studio" output.',
  'spawn-failed': 'The background process that reads models could not start. Reinstall or rebuild the extension; details are in the "ONNX Quantization Studio" output.',
  disposed: 'The extension was shutting down. Reopen the model.',
  'unsupported-scheme': 'Only models on a file system the extension host can read are supported. Copy the model into your workspace and open it there.',
};

const FALLBACK = 'Details are in the "ONNX Quantization Studio" output. Fix the file, then reload.';

export function hintFor(error: ErrorData): string {
  return HINTS[error.code] ?? FALLBACK;
}

/** The same for a failed quantization: nothing was written, and what to change. */
const QUANTIZE_HINTS: Record<string, string> = {
  // The quantizer's QuantizeError codes: the message already names the option and what to use instead.
  'invalid-options': 'Nothing was written; run Quantize Model again with other options.',
  'not-available': 'Nothing was written; run Quantize Model again with another mode or format.',
  'unsupported-model': 'Nothing was written. Leave the nodes it names out, or try another mode.',
  'nothing-to-quantize': 'Run Quantize Model again as the message says.',
  internal: 'Nothing was written.',
  'calibration-data':
    'Nothing was written. Calibration samples must match the model\'s inputs (names, types, shapes): .npz files with arrays named after the inputs, .npy or .pb files for one-input models, or test_data_set_*/input_*.pb folders.',
  crashed: 'The quantization process stopped unexpectedly (possibly out of memory); nothing was written. Details are in the "ONNX Quantization Studio" output.',
  'spawn-failed': 'The background process could not start. Reinstall or rebuild the extension; details are in the "ONNX Quantization Studio" output.',
};

export function quantizeHintFor(error: ErrorData): string {
  return QUANTIZE_HINTS[error.code] ?? (error.code in HINTS && !['cancelled', 'timeout', 'disposed'].includes(error.code) ? HINTS[error.code] : 'Nothing was written; details are in the "ONNX Quantization Studio" output.');
}
