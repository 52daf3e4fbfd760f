// Runs a model file in onnxruntime-node on seeded inputs (or given feeds) and returns its outputs.
import * as ort from 'onnxruntime-node';
import { inspectFileSync } from '../../../src/onnx/inspect';
import { randomFeeds } from '../../../src/runtime/inputs';
import { runHints } from './models';

export async function runModel(file: string, hintKey: string, feeds?: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
  try {
    if (!feeds) {
      const hints = runHints[hintKey] ?? {};
      const values = Object.fromEntries(Object.entries(hints.int64 ?? {}).map(([k, v]) => [k, new ort.Tensor('int64', BigInt64Array.from([v]), [])]));
      feeds = randomFeeds(inspectFileSync(file).inputs, { seed: 7, dims: hints.dims, values });
    }
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Byte-for-byte equality of two sets of outputs. */
export function sameOutputs(a: Record<string, ort.Tensor>, b: Record<string, ort.Tensor>): string | undefined {
  const names = Object.keys(a);
  if (names.join() !== Object.keys(b).join()) return `output names differ: ${names} vs ${Object.keys(b)}`;
  for (const n of names) {
    if (a[n].dims.join() !== b[n].dims.join()) return `${n}: dims ${a[n].dims} vs ${b[n].dims}`;
    const x = a[n].data as ArrayLike<number>, y = b[n].data as ArrayLike<number>;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `${n}[${i}]: ${x[i]} vs ${y[i]}`;
  }
  return undefined;
}
