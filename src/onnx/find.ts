// Find across the whole model: nodes of every graph (the main graph and every If/Loop/Scan body at any
// depth) whose op type or name contains the query, or that output a tensor of that name or read a weight
// of that name, in graph order. The graph view finds in the graph it shows at once and asks for this.
import { constantTensor, type Model } from './model';
import type { GraphProto } from './proto';
import type { FindMatch, FindResult } from '../protocol/graph';

/** Matches listed at most (the count says how many there are). */
export const FIND_LIMIT = 500;

export function findInModel(model: Model, query: string, limit = FIND_LIMIT): FindResult {
  const q = query.trim().toLowerCase();
  const matches: FindMatch[] = [];
  let total = 0;
  if (!q) return { query, matches, total };
  const hit = (s: string | undefined) => !!s && s.toLowerCase().includes(q);
  // The weights each graph sees: its own and its enclosing graphs'.
  const visible = new Map<GraphProto, Set<string>>();
  for (const info of model.graphs()) {
    const weights = new Set<string>(info.parent ? visible.get(info.parent.graph) : []);
    for (const t of info.graph.initializer ?? []) if (t.name) weights.add(t.name);
    for (const n of info.graph.node ?? []) if (constantTensor(n) && n.output?.[0]) weights.add(n.output[0]);
    visible.set(info.graph, weights);
    (info.graph.node ?? []).forEach((n, index) => {
      let on: FindMatch['on'] | undefined;
      if (hit(n.op_type)) on = 'op';
      else if (hit(n.name)) on = 'name';
      else if ((n.output ?? []).some(hit) || (n.input ?? []).some((i) => weights.has(i) && hit(i))) on = 'tensor';
      if (!on) return;
      total++;
      if (matches.length < limit) matches.push({ graph: info.path, node: index, op: n.op_type ?? '', name: n.name ?? '', on });
    });
  }
  return { query, matches, total };
}
