// A node's attributes by name, read by their declared type (protobuf leaves defaults in the other fields).
import { AttrType, int64, int64Exact, type AttributeProto, type NodeProto } from './proto';

export function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  if (!a) return fallback;
  return a.type === AttrType.INT || a.type === undefined ? int64(a.i) : fallback;
}

export function floatAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  if (!a) return fallback;
  return a.type === AttrType.FLOAT || a.type === undefined ? a.f ?? fallback : fallback;
}

export function intsAttr(node: NodeProto, name: string): number[] | undefined {
  return intsAttrExact(node, name)?.map(Number);
}

/** The values exactly: INT64_MAX and INT64_MIN (old Slice `ends`/`starts`) must reach the new inputs as they were. */
export function intsAttrExact(node: NodeProto, name: string): bigint[] | undefined {
  const a = attr(node, name);
  return a && (a.type === AttrType.INTS || a.type === undefined) ? (a.ints ?? []).map(int64Exact) : undefined;
}

export function stringAttr(node: NodeProto, name: string, fallback: string): string {
  const a = attr(node, name);
  if (!a || (a.type !== AttrType.STRING && a.type !== undefined) || !a.s) return fallback;
  return new TextDecoder().decode(a.s);
}
