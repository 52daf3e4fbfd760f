// Shared by the quantizer tests: seeded roughly-normal data, and the check that a quantized model's
// outputs match the original's in names and shapes and are finite.
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
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

/** Cosine between two models' outputs joined over `n` inputs (each output's dims must agree). */
export async function outputCosine(a: string, b: string, n: number, feeds: (i: number) => Record<string, ort.Tensor>): Promise<number> {
  const [sa, sb] = [await ort.InferenceSession.create(a, { graphOptimizationLevel: 'all' }), await ort.InferenceSession.create(b, { graphOptimizationLevel: 'all' })];
  let ab = 0, aa = 0, bb = 0;
  try {
    for (let i = 0; i < n; i++) {
      const f = feeds(i);
      const [ya, yb] = [await sa.run(f), await sb.run(f)];
      for (const k of Object.keys(ya)) {
        assert.deepEqual(yb[k].dims, ya[k].dims, k);
        const x = ya[k].data as Float32Array, y = yb[k].data as Float32Array;
        for (let j = 0; j < x.length; j++) { ab += x[j] * y[j]; aa += x[j] * x[j]; bb += y[j] * y[j]; }
      }
    }
  } finally { await sa.release(); await sb.release(); }
  return ab / Math.sqrt(aa * bb);
}
