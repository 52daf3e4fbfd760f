// Shared by the quantizer tests: seeded roughly-normal data, and the check that a quantized model's
// outputs match the original's in names and shapes and are finite.
import assert from 'node:assert/strict';
import type * as ort from 'onnxruntime-node';
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
