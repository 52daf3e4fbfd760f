// What our quantizer records in the model's metadata so that a per-layer comparison (runtime/layerMap.ts)
// matches each tensor exactly and judges it fairly:
// - rescaled: tensors scaled per channel before quantizing (equalization of Conv -> depthwise Conv,
//   SmoothQuant). The float model's output is unchanged, but these intermediates are not the FP32 model's
//   values any more: the comparison divides the factors out.
// - clamped: activations whose range was narrowed to what their readers tell apart (HardSwish is 0 below
//   -3): a value past the clamp reads the same as the clamp, so the comparison clamps both sides.
// - options: the options the model was quantized with, so that it can be quantized again with some
//   layers left in float ("keep the worst layers in float").
// - skipped: why each node of the main graph that could have been quantized was left in float (the
//   graph diff says it beside the node).
import type { ModelProto } from '../onnx/proto';
import type { QuantizeOptions } from '../protocol/quantize';

/** The metadata key (a JSON list of Rescaled). */
export const RESCALED_KEY = 'onnxqs.rescaled';

/** quantized value = FP32 value x factors[c], c the index along `axis` (negative: from the end). */
export interface Rescaled { tensor: string; fp32Tensor: string; axis: number; factors: number[] }

/** The metadata key of the clamped activations (a JSON list of Clamped). */
export const CLAMPED_KEY = 'onnxqs.clamped';

/** Values of `tensor` below `min` or above `max` read the same to every reader as `min` or `max` (null: no bound). */
export interface Clamped { tensor: string; min: number | null; max: number | null }

/** The JSON value stored under `key`; undefined when absent or not JSON (not ours, or damaged). */
function readJson(proto: ModelProto, key: string): unknown {
  const raw = (proto.metadata_props ?? []).find((p) => p.key === key)?.value;
  if (!raw) return undefined;
  try { return JSON.parse(raw) as unknown; } catch { return undefined; }
}

/** Stores `value` as JSON under `key` (undefined removes the key). */
function writeJson(proto: ModelProto, key: string, value: unknown): void {
  const props = (proto.metadata_props ?? []).filter((p) => p.key !== key);
  if (value !== undefined) props.push({ key, value: JSON.stringify(value) });
  proto.metadata_props = props;
}

/** A stored list, its malformed entries dropped (the comparison then treats those tensors as any other). */
function readList<T>(proto: ModelProto, key: string, valid: (x: T) => boolean): T[] {
  const list = readJson(proto, key);
  return Array.isArray(list) ? list.filter((x) => x && typeof x === 'object' && valid(x)) : [];
}

const writeList = (proto: ModelProto, key: string, list: unknown[]) => writeJson(proto, key, list.length ? list : undefined);

export function readRescaled(proto: ModelProto): Rescaled[] {
  return readList<Rescaled>(proto, RESCALED_KEY, (r) => typeof r.tensor === 'string' && typeof r.fp32Tensor === 'string' && Number.isInteger(r.axis) && Array.isArray(r.factors));
}

export function readClamped(proto: ModelProto): Clamped[] {
  return readList<Clamped>(proto, CLAMPED_KEY, (c) => typeof c.tensor === 'string' && (c.min === null || typeof c.min === 'number') && (c.max === null || typeof c.max === 'number'));
}

/** Replaces the model's record of clamped activations. */
export function recordClamped(proto: ModelProto, list: Clamped[]): void {
  writeList(proto, CLAMPED_KEY, list);
}

/** Adds `entries` to the model's record (a tensor rescaled twice gets its factors multiplied). */
export function recordRescaled(proto: ModelProto, entries: Rescaled[]): void {
  if (!entries.length) return;
  const list = readRescaled(proto);
  for (const e of entries) {
    const prior = list.find((r) => r.tensor === e.tensor && r.axis === e.axis && r.factors.length === e.factors.length);
    if (prior) prior.factors = prior.factors.map((f, i) => f * e.factors[i]);
    else list.push({ ...e, factors: [...e.factors] });
  }
  writeList(proto, RESCALED_KEY, list);
}

/** The metadata key of the options the model was quantized with (JSON of QuantizeOptions). */
export const OPTIONS_KEY = 'onnxqs.quantize';

export function recordOptions(proto: ModelProto, options: QuantizeOptions): void {
  writeJson(proto, OPTIONS_KEY, options);
}

/** The options our quantizer recorded in the model; undefined for a model it did not write. */
export function readOptions(proto: ModelProto): QuantizeOptions | undefined {
  const o = readJson(proto, OPTIONS_KEY);
  return o && typeof o === 'object' && !Array.isArray(o) ? (o as QuantizeOptions) : undefined;
}

/** The metadata key of the nodes left in float, with the reason (a JSON object: node name -> reason). */
export const SKIPPED_KEY = 'onnxqs.skipped';

export function recordSkipped(proto: ModelProto, skipped: { name: string; graph: string; reason: string }[]): void {
  const main = Object.fromEntries(skipped.filter((x) => x.graph === 'main').map((x) => [x.name, x.reason]));
  writeJson(proto, SKIPPED_KEY, Object.keys(main).length ? main : undefined);
}

export function readSkipped(proto: ModelProto): Map<string, string> {
  const o = readJson(proto, SKIPPED_KEY);
  if (!o || typeof o !== 'object' || Array.isArray(o)) return new Map();
  return new Map(Object.entries(o as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
