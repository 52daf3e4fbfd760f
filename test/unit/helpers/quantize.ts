// Shared by the quantizer tests: seeded roughly-normal data, the check that a quantized model's outputs
// match the original's in names and shapes and are finite, and the worst output's cosine (each on its own).
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { DiffAccumulator } from '../../../src/runtime/compare';
import { seededRandom } from '../../../src/runtime/random';

/** Irwin-Hall of three uniforms: roughly normal, standard deviation `scale`. */
export function randn(seed: number, n: number, scale = 1): Float32Array {
  const r = seededRandom(seed);
  return Float32Array.from({ length: n }, () => (r() + r() + r() - 1.5) * 2 * scale);
}

export function assertSameOutputShapes(ya: Record<string, ort.Tensor>, yb: Record<string, ort.Tensor>): void {
  assert.deepEqual(Object.keys(yb), Object.keys(ya));
  for (const k of Object.keys(ya)) {
    assert.deepEqual(yb[k].dims, ya[k].dims, k);
    if (yb[k].type === 'float32') assert.ok((yb[k].data as Float32Array).every(Number.isFinite), `${k} is finite`);
  }
}

/** The lowest cosine of any float output, each output pooled over `n` inputs on its own (runtime/compare). */
export async function worstOutputCosine(a: string, b: string, n: number, feeds: (i: number) => Record<string, ort.Tensor>): Promise<number> {
  const [sa, sb] = [await ort.InferenceSession.create(a, { graphOptimizationLevel: 'all' }), await ort.InferenceSession.create(b, { graphOptimizationLevel: 'all' })];
  const acc = new Map<string, DiffAccumulator>();
  try {
    for (let i = 0; i < n; i++) {
      const f = feeds(i);
      const [ya, yb] = [await sa.run(f), await sb.run(f)];
      for (const k of Object.keys(ya).filter((k) => ya[k].type === 'float32')) {
        assert.deepEqual(yb[k].dims, ya[k].dims, k);
        if (!acc.has(k)) acc.set(k, new DiffAccumulator());
        acc.get(k)!.add(ya[k].data as Float32Array, yb[k].data as Float32Array);
      }
    }
  } finally { await sa.release(); await sb.release(); }
  return Math.min(...[...acc.values()].map((d) => d.figures().cosine));
}
