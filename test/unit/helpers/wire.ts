// A minimal protobuf wire-format walker, independent of protobufjs and of src/onnx: the tests count
// nodes with it to check the reader's counts against a second implementation.

function varint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0, mul = 1;
  for (;;) {
    const b = buf[pos++];
    result += (b & 0x7f) * mul;
    if (b < 0x80) return [result, pos];
    mul *= 128;
  }
}

/** The length-delimited fields of a message: [field number, bytes]. */
function fields(buf: Uint8Array): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  let pos = 0;
  while (pos < buf.length) {
    let key: number;
    [key, pos] = varint(buf, pos);
    const wire = key & 7, id = Math.floor(key / 8);
    if (wire === 0) [, pos] = varint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      let len: number;
      [len, pos] = varint(buf, pos);
      out.push([id, buf.subarray(pos, pos + len)]);
      pos += len;
    } else throw new Error(`wire type ${wire}`);
  }
  return out;
}

/** op_type counts over the main graph and every graph held in node attributes (ModelProto.graph = 7,
 *  GraphProto.node = 1, NodeProto.op_type = 4 / attribute = 5, AttributeProto.g = 6 / graphs = 11). */
export function countOps(model: Uint8Array): Record<string, number> {
  const counts: Record<string, number> = {};
  const graphs = fields(model).filter(([id]) => id === 7).map(([, b]) => b);
  while (graphs.length) {
    const g = graphs.pop()!;
    for (const [id, nodeBytes] of fields(g)) {
      if (id !== 1) continue;
      for (const [nid, b] of fields(nodeBytes)) {
        if (nid === 4) { const op = new TextDecoder().decode(b); counts[op] = (counts[op] ?? 0) + 1; }
        if (nid === 5) for (const [aid, ab] of fields(b)) if (aid === 6 || aid === 11) graphs.push(ab);
      }
    }
  }
  return counts;
}
