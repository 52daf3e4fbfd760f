// Node attributes formatted for display: short, one line each, never a whole tensor. Strings are returned
// as they are (the UI escapes them: names and strings in a model are attacker-controlled).
import { dtypeBits, dtypeName, isNumeric } from './dtype';
import type { GraphAttribute } from '../protocol/graph';
import { AttrType, EXTERNAL, int64Exact, type AttributeProto, type GraphProto, type Int64, type SparseTensorProto, type TensorProto, type TypeProto } from './proto';
import { TensorRef, type ExternalLocation } from './tensor';

/** How many list items and tensor values are shown before `…`. */
export const LIST_ITEMS = 8;
export const TENSOR_VALUES = 6;
/** Longest string value shown (characters) before it is cut with `…`. */
export const STRING_CHARS = 256;

const TYPE_NAMES: Record<number, string> = {
  1: 'float', 2: 'int', 3: 'string', 4: 'tensor', 5: 'graph', 6: 'floats', 7: 'ints', 8: 'strings',
  9: 'tensors', 10: 'graphs', 11: 'sparse_tensor', 12: 'sparse_tensors', 13: 'type_proto', 14: 'type_protos',
};

/** An int64 field as exact decimal text (INT64_MAX, common in Slice `ends`, stays exact). */
export function int64Text(v: Int64 | null | undefined): string {
  return int64Exact(v).toString();
}

/** The shortest decimal that reads back as the same float32 (attributes are float32 in ONNX). */
export function float32Text(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const f = Math.fround(x);
  if (f !== x) return shortNumber(x); // not a float32 (a double tensor): up to 9 significant digits
  for (let p = 1; p <= 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === f) return String(Number(s));
  }
  return String(x);
}

function shortNumber(x: number): string {
  if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(9)));
}

function clip(s: string): string {
  return s.length > STRING_CHARS ? `${s.slice(0, STRING_CHARS)}…` : s;
}

const decoder = new TextDecoder('utf-8', { fatal: false });
function text(bytes: Uint8Array | string | undefined): string {
  if (bytes === undefined) return '';
  return typeof bytes === 'string' ? bytes : decoder.decode(bytes);
}

function list(items: string[], total = items.length): string {
  const shown = items.slice(0, LIST_ITEMS);
  const more = total - shown.length;
  return `[${shown.join(', ')}${more > 0 ? `, … (${total})` : ''}]`;
}

/** `[3,3]`: a tensor's dims, compact. */
function dimsText(dims: Int64[] | undefined): string {
  return `[${(dims ?? []).map(int64Text).join(',')}]`;
}

/**
 * `float[3,3] {0.1, 0.2, …}`: dtype (TensorProto name, as edges and tables show it), dims and the first values.
 * Values are read from the tensor's data (external data too, the first few only); if that fails they are left out.
 */
export function tensorSummary(t: TensorProto, external?: ExternalLocation): string {
  const dtype = t.data_type ?? 0;
  const head = `${dtypeName(dtype)}${dimsText(t.dims)}`;
  try {
    const ref = new TensorRef(t, 'constant', '', external);
    if (ref.elements === 0) return `${head} {}`;
    let values: string[];
    if (dtype === 8 /* STRING */) {
      values = (t.string_data ?? []).slice(0, TENSOR_VALUES).map((s) => JSON.stringify(clip(text(s))));
    } else if (isNumeric(dtype)) {
      // Typed fields (float_data, ...) would be converted whole by TensorRef: read the head only.
      const k = Math.min(ref.elements, TENSOR_VALUES);
      const part = headOfTypedFields(t, dtype, k);
      const src = part ? new TensorRef(part, 'constant', '') : ref;
      const first = src.chunks(TENSOR_VALUES).next().value as Float32Array | Float64Array | undefined;
      const wide = first instanceof Float64Array;
      values = Array.from(first ?? [], (x) => (wide ? shortNumber(x) : float32Text(x))).slice(0, TENSOR_VALUES);
    } else {
      return head;
    }
    const more = ref.elements > values.length ? ', …' : '';
    return `${head} {${values.join(', ')}${more}}`;
  } catch {
    return head;
  }
}

/** A copy of `t` holding only its first `k` elements, when its data is in typed fields (undefined otherwise). */
function headOfTypedFields(t: TensorProto, dtype: number, k: number): TensorProto | undefined {
  if ((t.raw_data && t.raw_data.length > 0) || t.data_location === EXTERNAL) return undefined;
  const bits = dtypeBits(dtype) ?? 8;
  const n = bits < 8 ? Math.ceil((k * bits) / 8) : k; // sub-byte types: one packed byte per int32 entry
  return {
    data_type: dtype, dims: [k],
    ...(t.float_data?.length ? { float_data: t.float_data.slice(0, n) } : {}),
    ...(t.int32_data?.length ? { int32_data: t.int32_data.slice(0, n) } : {}),
    ...(t.int64_data?.length ? { int64_data: t.int64_data.slice(0, n) } : {}),
    ...(t.uint64_data?.length ? { uint64_data: t.uint64_data.slice(0, n) } : {}),
    ...(t.double_data?.length ? { double_data: t.double_data.slice(0, n) } : {}),
  };
}

function sparseSummary(s: SparseTensorProto): string {
  const nnz = s.values?.dims?.length ? int64Text(s.values.dims[0]) : '0';
  return `sparse ${dtypeName(s.values?.data_type ?? 0)}${dimsText(s.dims)} (${nnz} non-zero)`;
}

/** `<graph name: N nodes>` */
export function graphSummary(g: GraphProto): string {
  const n = g.node?.length ?? 0;
  return `<graph ${g.name ?? ''}: ${n} node${n === 1 ? '' : 's'}>`;
}

/** `tensor(float)`, `seq(tensor(int64))`, ... as ONNX writes types. */
export function typeText(t: TypeProto | null | undefined): string {
  if (!t) return '?';
  const tensor = t.tensor_type ?? t.sparse_tensor_type;
  if (tensor) return `${t.sparse_tensor_type ? 'sparse_tensor' : 'tensor'}(${dtypeName(tensor.elem_type ?? 0)})`;
  if (t.sequence_type) return `seq(${typeText(t.sequence_type.elem_type)})`;
  if (t.optional_type) return `optional(${typeText(t.optional_type.elem_type)})`;
  if (t.map_type) return `map(${dtypeName(t.map_type.key_type ?? 0)}, ${typeText(t.map_type.value_type)})`;
  if (t.opaque_type) return `opaque(${t.opaque_type.domain ?? ''}.${t.opaque_type.name ?? ''})`;
  return '?';
}

/** The attribute's type number; older writers leave `type` unset, so it is inferred from the field present. */
function attrType(a: AttributeProto): number {
  if (a.type) return a.type;
  if (a.g) return AttrType.GRAPH;
  if (a.t) return AttrType.TENSOR;
  if (a.sparse_tensor) return AttrType.SPARSE_TENSOR;
  if (a.tp) return 13;
  if (a.s !== undefined && a.s.length > 0) return AttrType.STRING;
  if (a.graphs?.length) return AttrType.GRAPHS;
  if (a.tensors?.length) return AttrType.TENSORS;
  if (a.sparse_tensors?.length) return 12;
  if (a.type_protos?.length) return 14;
  if (a.strings?.length) return AttrType.STRINGS;
  if (a.floats?.length) return AttrType.FLOATS;
  if (a.ints?.length) return AttrType.INTS;
  if (a.f !== undefined && a.f !== 0) return AttrType.FLOAT;
  return AttrType.INT;
}

/** One attribute, formatted. `externalOf` finds the bytes of tensors stored as external data. */
export function formatAttribute(a: AttributeProto, externalOf?: (t: TensorProto) => ExternalLocation | undefined): GraphAttribute {
  const type = attrType(a);
  const name = a.name ?? '';
  const typeName = TYPE_NAMES[type] ?? `type${type}`;
  if (a.ref_attr_name) return { name, type: typeName, value: `@${a.ref_attr_name}` };
  let value: string;
  switch (type) {
    case AttrType.FLOAT: value = float32Text(a.f ?? 0); break;
    case AttrType.INT: value = int64Text(a.i); break;
    case AttrType.STRING: value = clip(text(a.s)); break;
    case AttrType.TENSOR: value = a.t ? tensorSummary(a.t, externalOf?.(a.t)) : '?'; break;
    case AttrType.GRAPH: value = a.g ? graphSummary(a.g) : '?'; break;
    case AttrType.FLOATS: value = list((a.floats ?? []).slice(0, LIST_ITEMS).map(float32Text), a.floats?.length ?? 0); break;
    case AttrType.INTS: value = list((a.ints ?? []).slice(0, LIST_ITEMS).map(int64Text), a.ints?.length ?? 0); break;
    case AttrType.STRINGS: value = list((a.strings ?? []).slice(0, LIST_ITEMS).map((s) => JSON.stringify(clip(text(s)))), a.strings?.length ?? 0); break;
    case AttrType.TENSORS: value = list((a.tensors ?? []).slice(0, LIST_ITEMS).map((t) => tensorSummary(t, externalOf?.(t))), a.tensors?.length ?? 0); break;
    case AttrType.GRAPHS: value = list((a.graphs ?? []).slice(0, LIST_ITEMS).map(graphSummary), a.graphs?.length ?? 0); break;
    case AttrType.SPARSE_TENSOR: value = a.sparse_tensor ? sparseSummary(a.sparse_tensor) : '?'; break;
    case 12: value = list((a.sparse_tensors ?? []).slice(0, LIST_ITEMS).map(sparseSummary), a.sparse_tensors?.length ?? 0); break;
    case 13: value = typeText(a.tp); break;
    case 14: value = list((a.type_protos ?? []).slice(0, LIST_ITEMS).map(typeText), a.type_protos?.length ?? 0); break;
    default: value = '?';
  }
  return { name, type: typeName, value };
}
