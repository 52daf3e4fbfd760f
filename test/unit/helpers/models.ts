// Where the shared real models are, and what each must give. The folder comes from ONNXQ_MODELS
// (default ../shared/models beside the repository); tests that need it skip with a reason when absent.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const modelsDir = path.resolve(process.env.ONNXQ_MODELS ?? path.join(repoRoot, '..', 'shared', 'models'));
export const sampleModel = path.join(repoRoot, 'samples', 'mnist-8.onnx');

/** A skip reason for node:test when the models folder is missing, else false. */
export const noModels: string | false = fs.existsSync(modelsDir)
  ? false
  : `models folder ${modelsDir} not found (set ONNXQ_MODELS to a copy of the shared models); skipping`;
if (noModels) console.log(`# ${noModels}`);

/** Every .onnx file under the models folder, relative paths, sorted. */
export function sharedModels(): string[] {
  if (noModels) return [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.onnx')) out.push(path.relative(modelsDir, p));
    }
  };
  walk(modelsDir);
  return out.sort();
}

export interface Expected {
  irVersion: number;
  nodeCount: number;
  params: number;
  bytesByDtype: Record<string, number>;
  inputs: string[];
}

/** Figures from the models folder's README (made with python3-onnx, independently of this code). */
export const expected: Record<string, Expected> = {
  'cntk/mnist-8_cntk.onnx': { irVersion: 3, nodeCount: 12, params: 5998, bytesByDtype: { float: 23976, int64: 32 }, inputs: ['Input3'] },
  'external/mnist_external.onnx': { irVersion: 3, nodeCount: 12, params: 5998, bytesByDtype: { float: 23976, int64: 32 }, inputs: ['Input3'] },
  'external/melspectrogram_external.onnx': { irVersion: 7, nodeCount: 29, params: 271404, bytesByDtype: { int64: 24, float: 1085604 }, inputs: ['input'] },
  'openwakeword/melspectrogram.onnx': { irVersion: 7, nodeCount: 29, params: 271404, bytesByDtype: { int64: 24, float: 1085604 }, inputs: ['input'] },
  'openwakeword/hey_jarvis_v0.1.onnx': { irVersion: 7, nodeCount: 63, params: 316747, bytesByDtype: { float: 1266988 }, inputs: ['x.1'] },
  'imgly/isnet_quint8_dynamic_small.onnx': { irVersion: 8, nodeCount: 1084, params: 44018860, bytesByDtype: { float: 58356, int64: 5056, uint8: 44003639 }, inputs: ['input'] },
  'ppocr/ch_PP-OCRv4_det_infer.onnx': { irVersion: 8, nodeCount: 672, params: 1171841, bytesByDtype: { float: 4687364 }, inputs: ['x'] },
  'ppocr/ch_PP-OCRv4_rec_infer.onnx': { irVersion: 8, nodeCount: 765, params: 2690312, bytesByDtype: { float: 10761184, int64: 8, int32: 60 }, inputs: ['x'] },
  'ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx': { irVersion: 8, nodeCount: 471, params: 133665, bytesByDtype: { float: 534656, int32: 4 }, inputs: ['x'] },
  'silero/silero_vad_op18_ifless.onnx': { irVersion: 10, nodeCount: 90, params: 545689, bytesByDtype: { float: 2182684, int64: 144 }, inputs: ['input', 'sr', 'state'] },
  'silero/silero_vad_v5.onnx': { irVersion: 8, nodeCount: 689, params: 545597, bytesByDtype: { int64: 2488, float: 2181144 }, inputs: ['input', 'state', 'sr'] },
};

/** Sizes for the symbolic dims of each model's inputs, and fixed values (see the models README). */
export const runHints: Record<string, { dims?: Record<string, number>; int64?: Record<string, bigint> }> = {
  'openwakeword/melspectrogram.onnx': { dims: { batch_size: 1, samples: 1280 } },
  'external/melspectrogram_external.onnx': { dims: { batch_size: 1, samples: 1280 } },
  'ppocr/ch_PP-OCRv4_det_infer.onnx': { dims: { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 64, 'p2o.DynamicDimension.2': 64 } },
  'ppocr/ch_PP-OCRv4_rec_infer.onnx': { dims: { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 96 } },
  'ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx': { dims: { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 48, 'p2o.DynamicDimension.2': 192 } },
  'silero/silero_vad_op18_ifless.onnx': { dims: { batch: 1, sequence: 512, 'state:1': 1 }, int64: { sr: 16000n } },
  'silero/silero_vad_v5.onnx': { dims: { 'input:0': 1, 'input:1': 512, 'state:1': 1 }, int64: { sr: 16000n } },
};

/** Models onnxruntime refuses to load (known, see the models README). */
export const ortRefuses = new Set(['conformance/test_gru_batchwise/model.onnx', 'conformance/test_lstm_batchwise/model.onnx']);
