// Outputs computed through a discontinuous op (a comparison, an arg-max, a top-k, a rounding, a mask): a
// small change of its input can flip its output, so quantization noise before it shows up as a large
// error after it. The quantize report names such ops for an output whose figure dropped, with the
// quantized nodes that feed them, which the user may keep in float.
import type { Model } from '../onnx/model';
import type { NodeProto } from '../onnx/proto';
import { ModelEditor } from './graph';
import { nodeLabel } from './pass';

/** Ops whose output does not depend on their input's values: neither noise nor a flip passes through them. */
const VALUE_FREE = new Set(['Shape', 'Size']);

const DISCONTINUOUS = new Set(['Equal', 'Greater', 'GreaterOrEqual', 'Less', 'LessOrEqual', 'ArgMax', 'ArgMin', 'TopK', 'NonMaxSuppression', 'Round', 'Floor', 'Ceil', 'Sign']);

export interface DiscontinuousPath {
  /** The discontinuous nodes the output is computed through (by label) with their op types. */
  ops: { node: string; opType: string }[];
  /** The nearest quantized nodes upstream of those ops' inputs (by label). */
  feeding: string[];
}

/** For `output` of the main graph: the discontinuous ops it depends on, and the quantized nodes feeding them. */
export function discontinuousPath(model: Model, output: string, quantized: ReadonlySet<string>): DiscontinuousPath {
  const editor = new ModelEditor(model);
  const main = model.graphs()[0];
  const producer = (x: string) => editor.producerIn(x, main);
  const isDiscontinuous = (n: NodeProto) => DISCONTINUOUS.has(n.op_type ?? '') || (n.op_type === 'Where' && !!producer(n.input?.[0] ?? ''));

  // Whether a node's inputs carry values computed from the graph's inputs (not only shapes or constants).
  const valueMemo = new Map<NodeProto, boolean>();
  const graphInputs = new Set((model.proto.graph?.input ?? []).map((v) => v.name ?? ''));
  const dependsOnValues = (start: NodeProto): boolean => {
    const known = valueMemo.get(start);
    if (known !== undefined) return known;
    const seenHere = new Set<NodeProto>();
    const todo = [start];
    let found = false;
    while (todo.length && !found) {
      const n = todo.pop()!;
      if (seenHere.has(n)) continue;
      seenHere.add(n);
      for (const i of n.input ?? []) {
        const p = producer(i);
        if (!p) { if (graphInputs.has(i)) found = true; continue; }
        if (!VALUE_FREE.has(p.op_type ?? '')) todo.push(p);
      }
    }
    valueMemo.set(start, found);
    return found;
  };

  const ops: DiscontinuousPath['ops'] = [];
  const opNodes: NodeProto[] = [];
  const seen = new Set<NodeProto>();
  const stack = [producer(output)].filter((n): n is NodeProto => !!n);
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (VALUE_FREE.has(n.op_type ?? '')) continue;
    if (isDiscontinuous(n) && dependsOnValues(n)) { ops.push({ node: nodeLabel(n), opType: n.op_type ?? '' }); opNodes.push(n); }
    for (const i of n.input ?? []) { const p = producer(i); if (p) stack.push(p); }
  }

  // Upstream of each discontinuous op, the first quantized node on each path.
  const feeding = new Set<string>();
  const visited = new Set<NodeProto>();
  for (const start of opNodes) {
    const up = (start.input ?? []).map((i) => producer(i)).filter((n): n is NodeProto => !!n);
    while (up.length) {
      const n = up.pop()!;
      if (visited.has(n)) continue;
      visited.add(n);
      if (VALUE_FREE.has(n.op_type ?? '')) continue;
      if (quantized.has(nodeLabel(n))) { feeding.add(nodeLabel(n)); continue; }
      for (const i of n.input ?? []) { const p = producer(i); if (p) up.push(p); }
    }
  }
  return { ops, feeding: [...feeding] };
}
