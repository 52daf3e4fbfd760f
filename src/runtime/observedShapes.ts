// The shape of every main-graph value on the first sample of an input spec: shape inference with that
// sample's input shapes and fixed small values (an If on `sr` takes its branch); where rules cannot tell
// (a shape read from the data: NonZero, a mask), the shape one onnxruntime run gives, marked as seen.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { valueInfo as makeValueInfo } from '../onnx/builder';
import { DataType, dtypeName } from '../onnx/dtype';
import type { Model } from '../onnx/model';
import { inferShapes } from '../onnx/shapes/infer';
import { writeModel } from '../onnx/write';
import type { InputSpec } from '../protocol/inputSpec';
import type { ValueInfo } from '../protocol/inspect';
import { cloneStructure } from '../quantize/calibrate/calibrator';
import { makeTempDir } from '../quantize/tempDir';
import { resolveInputSpec } from './inputSpec';
import { modelInputs, modelOutputs } from './modelIo';
import { ModelSession } from './session';

/** Inputs with at most this many elements give inference their contents (a sample rate, a step count). */
const SMALL_INPUT = 64;

export async function shapesOnSample(model: Model, spec: InputSpec, workDir?: string): Promise<ValueInfo[]> {
  const inputs = modelInputs(model);
  let sample: Record<string, ort.Tensor> | undefined;
  for await (const f of resolveInputSpec(spec, inputs).feeds()) { sample = f; break; }
  if (!sample) return [];
  const inputShapes = Object.fromEntries(Object.entries(sample).map(([k, t]) => [k, [...t.dims]]));
  const inputValues: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(sample)) {
    if (t.size <= SMALL_INPUT && t.type !== 'string') inputValues[k] = Array.from(t.data as ArrayLike<number | bigint>, Number);
  }
  const shapes = inferShapes(model, { inputShapes, inputValues });
  const main = model.graphs()[0];
  const facts = [...shapes.graph(main)];
  const unknown = facts.filter(([, f]) => f.dtype !== undefined && (!f.shape || f.shape.some((d) => typeof d !== 'number'))).map(([name]) => name);
  const seen = unknown.length ? await runOnce(model, unknown, sample, (name) => shapes.get(name, main)?.dtype ?? DataType.FLOAT, workDir) : new Map<string, number[]>();
  return facts.map(([name, f]) => {
    const dims = seen.get(name);
    const dtype = f.dtype !== undefined ? dtypeName(f.dtype) : 'unknown';
    return dims ? { name, dtype, shape: dims, observed: true } : { name, dtype, shape: f.shape };
  });
}

/** The shapes of `names` on one run of `sample` (each fetched as an extra graph output). */
async function runOnce(model: Model, names: string[], sample: Record<string, ort.Tensor>, dtypeOf: (name: string) => number, workDir?: string): Promise<Map<string, number[]>> {
  const proto = cloneStructure(model.proto);
  const g = proto.graph!;
  // A declared output without an element type (onnxruntime refuses those) takes the inferred one.
  g.output = (g.output ?? []).map((o) => (o.type?.tensor_type && !o.type.tensor_type.elem_type && o.name ? makeValueInfo(o.name, dtypeOf(o.name), null) : o));
  const present = new Set(g.output.map((o) => o.name));
  const inputsAndWeights = new Set([...(g.input ?? []).map((v) => v.name), ...(g.initializer ?? []).map((t) => t.name)]);
  const fetch = names.filter((n) => !inputsAndWeights.has(n));
  for (const n of fetch) if (!present.has(n)) (g.output ??= []).push(makeValueInfo(n, dtypeOf(n), null));
  const dir = makeTempDir('shapes', workDir);
  try {
    const file = path.join(dir, 'all-values.onnx');
    const copy = model.withProto(proto);
    writeModel(copy, file);
    const session = await ModelSession.open(file, { optimization: 'disabled', io: { inputs: modelInputs(copy), outputs: modelOutputs(copy) } });
    try {
      const out = await session.run(sample, fetch);
      return new Map(Object.entries(out).map(([k, t]) => [k, [...t.dims]]));
    } finally {
      await session.release();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
