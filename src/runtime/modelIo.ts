// A model's real inputs and its outputs, as the runtime feeds and reads them.
import { valueInfo } from '../onnx/valueInfo';
import type { Model } from '../onnx/model';
import type { ValueInfo } from '../protocol/inspect';

/** The model's real inputs (an IR < 4 model also lists its initializers as inputs). */
export function modelInputs(model: Model): ValueInfo[] {
  const main = model.proto.graph!;
  const inits = new Set([...(main.initializer ?? []).map((t) => t.name ?? ''), ...(main.sparse_initializer ?? []).map((s) => s.values?.name ?? '')]);
  return (main.input ?? []).filter((v) => !inits.has(v.name ?? '')).map(valueInfo);
}

export function modelOutputs(model: Model): ValueInfo[] {
  return (model.proto.graph!.output ?? []).map(valueInfo);
}
