// A seeded, generated transformer encoder (~400 MiB of fp32 weights) for the benchmark: token embedding,
// then per layer multi-head self-attention (Q/K/V/O MatMul + bias, Reshape/Transpose/MatMul/Softmax),
// residual + LayerNormalization, FFN (MatMul, x*sigmoid(1.702x) GELU approximation, MatMul), residual +
// LayerNormalization. Opset 17. The file is written with the project's own writeModel and cached with a
// JSON sidecar holding its spec, so a run with the same spec and seed reuses it.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { floatTensor, int64Tensor, makeModel, modelFromProto, node, tensor, valueInfo } from '../src/onnx/builder';
import { DataType } from '../src/onnx/dtype';
import type { NodeProto, TensorProto } from '../src/onnx/proto';
import { writeModel } from '../src/onnx/write';
import { seededRandom } from '../src/runtime/random';

export interface TransformerSpec {
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  vocab: number;
  seed: number;
  /** Bumped when the graph layout changes, so older cached files are not reused. */
  version: number;
  /** Node names with PyTorch's name scopes (`/encoder/layer.3/q/MatMul`) instead of their output's name. */
  scoped?: boolean;
}

export const DEFAULT_SPEC: TransformerSpec = { layers: 8, hidden: 1024, heads: 16, ffn: 4096, vocab: 4096, seed: 20240917, version: 1 };
/** The smoke runs' stand-in (ONNXQ_BENCH_SMOKE=1): the same graph, about 60 kB. */
export const SMOKE_SPEC: TransformerSpec = { layers: 2, hidden: 32, heads: 2, ffn: 64, vocab: 64, seed: 20240917, version: 1 };

/** fp32 parameter count of a spec (what the file will hold, plus a few hundred bytes of structure). */
export function parameterCount(s: TransformerSpec): number {
  const h = s.hidden, f = s.ffn;
  const perLayer = 4 * (h * h + h) + (h * f + f) + (f * h + h) + 4 * h;
  return s.vocab * h + s.layers * perLayer;
}

/** Roughly normal values (Irwin-Hall of 3 uniforms) with standard deviation `std`. */
function randomWeights(rand: () => number, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  const k = std * 2; // the sum of 3 U(0,1) has variance 1/4
  for (let i = 0; i < n; i++) out[i] = (rand() + rand() + rand() - 1.5) * k;
  return out;
}

export function specKey(s: TransformerSpec): string {
  return crypto.createHash('sha256').update(JSON.stringify(s)).digest('hex').slice(0, 12);
}

export function buildTransformer(s: TransformerSpec) {
  const rand = seededRandom(s.seed);
  const h = s.hidden, f = s.ffn, headDim = h / s.heads;
  if (!Number.isInteger(headDim)) throw new Error(`hidden ${h} is not divisible by heads ${s.heads}`);
  const inits: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  const weight = (name: string, dims: number[], std: number) => {
    inits.push(tensor(name, DataType.FLOAT, dims, randomWeights(rand, dims.reduce((a, b) => a * b, 1), std)));
    return name;
  };
  const filled = (name: string, n: number, v: number) => { inits.push(floatTensor(name, [n], new Float32Array(n).fill(v))); return name; };
  const names = new Map<string, number>();
  const add = (op: string, inputs: string[], output: string, attrs: Parameters<typeof node>[3] = {}) => {
    nodes.push(node(op, inputs, [output], attrs, s.scoped ? scopedName(op, output, names) : output));
    return output;
  };

  inits.push(int64Tensor('shape_heads', [4], [0, 0, s.heads, headDim]));
  inits.push(int64Tensor('shape_hidden', [3], [0, 0, h]));
  inits.push(floatTensor('attn_scale', [], [1 / Math.sqrt(headDim)]));
  inits.push(floatTensor('gelu_k', [], [1.702]));

  let x = add('Gather', [weight('embed.tokens', [s.vocab, h], 0.02), 'input_ids'], 'embed.out', { axis: 0 });
  for (let l = 0; l < s.layers; l++) {
    const p = `layer${l}`;
    const proj = (name: string, input: string, inDim: number, outDim: number) => {
      const mm = add('MatMul', [input, weight(`${p}.${name}.weight`, [inDim, outDim], 0.02)], `${p}.${name}.mm`);
      return add('Add', [mm, weight(`${p}.${name}.bias`, [outDim], 0.01)], `${p}.${name}.out`);
    };
    const heads = (name: string, perm: number[]) => {
      const r = add('Reshape', [proj(name, x, h, h), 'shape_heads'], `${p}.${name}.heads`);
      return add('Transpose', [r], `${p}.${name}.t`, { perm });
    };
    const q = heads('q', [0, 2, 1, 3]); // [B, H, S, D]
    const k = heads('k', [0, 2, 3, 1]); // [B, H, D, S]
    const v = heads('v', [0, 2, 1, 3]); // [B, H, S, D]
    const scores = add('Mul', [add('MatMul', [q, k], `${p}.scores`), 'attn_scale'], `${p}.scores.scaled`);
    const probs = add('Softmax', [scores], `${p}.probs`, { axis: -1 });
    const ctx = add('Transpose', [add('MatMul', [probs, v], `${p}.ctx`)], `${p}.ctx.t`, { perm: [0, 2, 1, 3] });
    const merged = add('Reshape', [ctx, 'shape_hidden'], `${p}.ctx.merged`);
    const attn = proj('o', merged, h, h);
    const ln1 = add('LayerNormalization', [add('Add', [x, attn], `${p}.res1`), filled(`${p}.ln1.scale`, h, 1), filled(`${p}.ln1.bias`, h, 0)],
      `${p}.ln1.out`, { axis: -1, epsilon: 1e-5 });
    const up = proj('ffn.up', ln1, h, f);
    const gate = add('Sigmoid', [add('Mul', [up, 'gelu_k'], `${p}.gelu.scaled`)], `${p}.gelu.sigmoid`);
    const act = add('Mul', [up, gate], `${p}.gelu.out`);
    const down = proj('ffn.down', act, f, h);
    x = add('LayerNormalization', [add('Add', [ln1, down], `${p}.res2`), filled(`${p}.ln2.scale`, h, 1), filled(`${p}.ln2.bias`, h, 0)],
      `${p}.ln2.out`, { axis: -1, epsilon: 1e-5 });
  }
  add('Identity', [x], 'hidden_states');
  return makeModel({
    opset: 17,
    producer: 'onnxq-bench',
    graph: {
      name: `bench_transformer_${specKey(s)}`,
      node: nodes,
      initializer: inits,
      input: [valueInfo('input_ids', DataType.INT64, ['batch', 'sequence'])],
      output: [valueInfo('hidden_states', DataType.FLOAT, ['batch', 'sequence', h])],
    },
  });
}

/**
 * `layer3.ffn.up.mm` made by MatMul -> `/encoder/layer.3/ffn.up/MatMul`, as torch.onnx.export names nodes
 * (a second MatMul in the same scope is `MatMul_1`, as there).
 */
function scopedName(op: string, output: string, seen: Map<string, number>): string {
  const parts = output.split('.');
  const layer = /^layer(\d+)$/.exec(parts[0]);
  const inner = parts.slice(1, -1).join('.');
  const base = layer ? ['', 'encoder', `layer.${layer[1]}`, ...(inner ? [inner] : []), op].join('/') : `/${parts.slice(0, -1).join('.') || 'model'}/${op}`;
  const k = seen.get(base) ?? 0;
  seen.set(base, k + 1);
  return k === 0 ? base : `${base}_${k}`;
}

export interface GeneratedModel { file: string; bytes: number; spec: TransformerSpec; reused: boolean; generateMs?: number; writeMs?: number }

/** The cached model for `spec` in `dir`, generated (and written with writeModel) when missing or stale. */
export function ensureTransformer(dir: string, spec: TransformerSpec = DEFAULT_SPEC): GeneratedModel {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `transformer-${specKey(spec)}.onnx`);
  const sidecar = `${file}.json`;
  try {
    const meta = JSON.parse(fs.readFileSync(sidecar, 'utf8')) as { spec: TransformerSpec; bytes: number };
    const size = fs.statSync(file).size;
    if (JSON.stringify(meta.spec) === JSON.stringify(spec) && meta.bytes === size) return { file, bytes: size, spec, reused: true };
  } catch { /* not cached yet */ }
  fs.rmSync(sidecar, { force: true });
  const t0 = performance.now();
  const proto = buildTransformer(spec);
  const t1 = performance.now();
  const result = writeModel(modelFromProto(proto), file);
  const t2 = performance.now();
  fs.writeFileSync(sidecar, JSON.stringify({ spec, bytes: result.bytes, parameters: parameterCount(spec) }, null, 2) + '\n');
  return { file, bytes: result.bytes, spec, reused: false, generateMs: t1 - t0, writeMs: t2 - t1 };
}
