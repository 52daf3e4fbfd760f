// Writes a generated encoder to a file, for the UI tests (a graph that opens folded into its layers):
//   node --import tsx bench/encoderFile.ts OUT.onnx [layers] [hidden]
// The model is bench/transformer.ts's, with PyTorch's name scopes; cached in bench/.cache like the benchmark's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureTransformer, type TransformerSpec } from './transformer';
import { cacheDir } from './util';

const [out, layers = '300', hidden = '16'] = process.argv.slice(2);
if (!out) {
  console.error('usage: node --import tsx bench/encoderFile.ts OUT.onnx [layers] [hidden]');
  process.exit(2);
}
const spec: TransformerSpec = { layers: Number(layers), hidden: Number(hidden), heads: 2, ffn: 4 * Number(hidden), vocab: 100, seed: 20240917, version: 2, scoped: true };
const made = ensureTransformer(cacheDir(), spec);
fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
fs.copyFileSync(made.file, out);
console.log(`${out}: ${spec.layers} layers of hidden ${spec.hidden} (${(made.bytes / 1e6).toFixed(1)} MB)`);
