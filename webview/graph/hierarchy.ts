// Layers of a graph, for folding: a tree of groups from the nodes' name scopes (`/encoder/layer.3/attn/
// MatMul` as PyTorch writes them, `model/dense/MatMul` as tf2onnx does), where a scope with one child and
// nothing else merges into it and a scope of one node is no layer at all. A level with more than
// MAX_UNITS members (groups and nodes) is cut into consecutive runs, run by run, so that no level, the top
// included, holds more than MAX_UNITS: a graph without scopes folds into its repeated blocks (where the op
// sequence repeats) and runs of nodes, one with 3,000 layers into runs of layers. Members keep the graph's
// node order (topological in a valid model).
import type { GraphData } from '../../src/protocol/graph';

/** At most this many members (groups and nodes) per level: a fitted level stays readable. */
export const MAX_UNITS = 32;

export interface Group {
  /** Stable across reloads and re-foldings of the same graph: the scope path, or the runs' place. */
  key: string;
  /** What the group is called on screen: its scope's last segment(s), or the run's first and last member. */
  label: string;
  /** The whole scope (`/encoder/layer.3`); for a run, its parent's scope. */
  scope: string;
  /** A run cut from a level that had too many members, not a scope of the model. */
  artificial: boolean;
  parent: number;
  depth: number;
  /** Child groups and direct nodes, in node order. */
  groups: number[];
  nodes: number[];
  /** The first node (in node order) anywhere below: the group's place among its siblings. */
  first: number;
  /** Nodes anywhere below. */
  size: number;
}

export interface Hierarchy {
  /** groups[0] is the root: the whole graph. */
  groups: Group[];
  /** The innermost group of each node (0 for the root; -1 for a node not drawn). */
  groupOf: Int32Array;
  /** groupContents' answers, kept: a collapsed layer's box asks each time it is laid out. */
  contents: Map<number, GroupContents>;
}

export interface GroupContents {
  /** Op types under the group, the most frequent first. */
  ops: [string, number][];
  /** Elements of the weights its nodes read (each weight once). */
  parameters: number;
}

/** The group ids from the root down to `g` (the root first, `g` last). */
export function ancestry(h: Hierarchy, g: number): number[] {
  const chain: number[] = [];
  for (let x = g; x >= 0; x = h.groups[x].parent) chain.push(x);
  return chain.reverse();
}

/** Every node anywhere under group `g` (its own, then its child groups', depth first). */
export function nodesUnder(h: Hierarchy, g: number): number[] {
  const out: number[] = [];
  const stack = [g];
  while (stack.length) {
    const group = h.groups[stack.pop()!];
    out.push(...group.nodes);
    for (let i = group.groups.length - 1; i >= 0; i--) stack.push(group.groups[i]);
  }
  return out;
}

/** Counts of op types under a group, the most frequent first, and the weight elements its nodes read. */
export function groupContents(graph: GraphData, h: Hierarchy, g: number): GroupContents {
  const known = h.contents.get(g);
  if (known) return known;
  const counts = new Map<string, number>();
  const seen = new Set<number>();
  let parameters = 0;
  for (const n of nodesUnder(h, g)) {
    const node = graph.nodes[n];
    counts.set(node.op, (counts.get(node.op) ?? 0) + 1);
    for (const v of node.inputs) {
      const value = v >= 0 ? graph.values[v] : undefined;
      if (!value || value.weight === undefined || seen.has(v)) continue;
      seen.add(v);
      parameters += (value.shape ?? []).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
    }
  }
  const result: GroupContents = { ops: [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)), parameters };
  h.contents.set(g, result);
  return result;
}

/** A node's scope: the segments of its name before the last `/` (none for a name without one). */
export function scopeOf(name: string): string[] {
  const cut = name.lastIndexOf('/');
  if (cut <= 0) return [];
  return name.slice(0, cut).split('/').filter((s) => s !== '');
}

interface Draft {
  segment: string;
  children: Map<string, Draft>;
  nodes: number[];
}

/**
 * The layers of `graph`: `shown(n)` says which nodes are drawn (hidden weight Constants are not members).
 * `maxUnits` bounds each level's members (MAX_UNITS by default).
 */
export function buildHierarchy(graph: GraphData, shown: (node: number) => boolean, maxUnits = MAX_UNITS): Hierarchy {
  const root: Draft = { segment: '', children: new Map(), nodes: [] };
  // Nodes of a scope are mostly stored together: the scope of the node before is tried first.
  let lastScope = '';
  let lastDraft = root;
  graph.nodes.forEach((node, i) => {
    if (!shown(i)) return;
    const cut = node.name.lastIndexOf('/');
    const scope = cut <= 0 ? '' : node.name.slice(0, cut);
    if (scope !== lastScope) {
      let at = root;
      for (const segment of scopeOf(node.name)) {
        let next = at.children.get(segment);
        if (!next) at.children.set(segment, (next = { segment, children: new Map(), nodes: [] }));
        at = next;
      }
      lastScope = scope;
      lastDraft = at;
    }
    lastDraft.nodes.push(i);
  });
  const groups: Group[] = [];
  const groupOf = new Int32Array(graph.nodes.length).fill(-1);
  const producer = new Int32Array(graph.values.length).fill(-1);
  graph.nodes.forEach((node, i) => { for (const v of node.outputs) if (v >= 0) producer[v] = i; });
  /**
   * crossings(list)[i]: values made by nodes of `list` and read past the cut before position i (a value read
   * by four nodes counts once: a layer's output feeding Q, K, V and the residual is one wire).
   */
  const crossings = (list: number[]): Int32Array => {
    const at = new Map(list.map((n, i) => [n, i]));
    const lastUse = new Map<number, number>();
    list.forEach((n, pv) => {
      for (const v of graph.nodes[n].inputs) if (v >= 0 && at.has(producer[v])) lastUse.set(v, Math.max(lastUse.get(v) ?? -1, pv));
    });
    const delta = new Int32Array(list.length + 2);
    for (const [v, last] of lastUse) {
      const pu = at.get(producer[v])!;
      if (pu < last) { delta[pu + 1]++; delta[last + 1]--; }
    }
    const cross = new Int32Array(list.length + 1);
    let run = 0;
    for (let i = 0; i <= list.length; i++) { run += delta[i]; cross[i] = run; }
    return cross;
  };
  const make = (label: string, scope: string, key: string, artificial: boolean, parent: number): number => {
    const depth = parent < 0 ? 0 : groups[parent].depth + 1;
    groups.push({ key, label, scope, artificial, parent, depth, groups: [], nodes: [], first: Infinity, size: 0 });
    return groups.length - 1;
  };
  // A member of a level: a group to be, or a node.
  type Member = { draft: Draft; label: string; scope: string; first: number; last: number; size: number } | { node: number; first: number; last: number; size: 1 };
  const membersOf = (d: Draft, scope: string): Member[] => {
    // Many nodes without scopes: repeated blocks, where the op sequence repeats (an exporter that names no
    // scopes still writes each layer's nodes in the same order).
    const blocks = d.nodes.length > maxUnits ? repeatedBlocks(d.nodes.map((n) => graph.nodes[n].op), crossings(d.nodes)) : null;
    const loose = blocks ? [...d.nodes.slice(0, blocks.start), ...d.nodes.slice(blocks.start + blocks.count * blocks.period)] : d.nodes;
    const members: Member[] = loose.map((n) => ({ node: n, first: n, last: n, size: 1 as const }));
    for (let k = 0; blocks && k < blocks.count; k++) {
      const nodes = d.nodes.slice(blocks.start + k * blocks.period, blocks.start + (k + 1) * blocks.period);
      // `//` keeps the key apart from any scope's (whose segments are never empty).
      members.push({ draft: { segment: '', children: new Map(), nodes }, label: `block ${k + 1}`, scope: `${scope}//block ${k + 1}`, first: nodes[0], last: nodes[nodes.length - 1], size: nodes.length });
    }
    for (const child of d.children.values()) {
      // A scope with one child scope and no node of its own is that child, named by both.
      let at = child;
      let label = child.segment;
      while (at.nodes.length === 0 && at.children.size === 1) {
        at = at.children.values().next().value as Draft;
        label += `/${at.segment}`;
      }
      const childScope = `${scope}/${label}`;
      const size = countNodes(at);
      // A scope of one node is no layer: the node joins this level.
      if (size === 1) members.push({ node: firstNode(at), first: firstNode(at), last: firstNode(at), size: 1 });
      else members.push({ draft: at, label, scope: childScope, first: firstNode(at), last: lastNode(at), size });
    }
    return members.sort((a, b) => a.first - b.first);
  };
  const fill = (id: number, members: Member[]): void => {
    const g = groups[id];
    // Too many members: runs of consecutive ones, then runs of runs, until the level holds few enough. The
    // runs of a level are as even as can be (33 members: 17 and 16, never 32 and a run of one).
    let level: (Member | { run: Member[]; first: number; last: number; size: number })[] = members;
    while (level.length > maxUnits) {
      const count = Math.ceil(level.length / maxUnits);
      const runs: { run: typeof level; first: number; last: number; size: number }[] = [];
      for (let k = 0; k < count; k++) {
        const run = level.slice(Math.round((k * level.length) / count), Math.round(((k + 1) * level.length) / count));
        runs.push({ run: run as Member[], first: run[0].first, last: Math.max(...run.map((m) => m.last)), size: run.reduce((s, m) => s + m.size, 0) });
      }
      level = runs as typeof level;
    }
    let runIndex = 0;
    const place = (parent: number, member: (typeof level)[number]): void => {
      const p = groups[parent];
      if ('run' in member) {
        const run = member.run as (typeof level)[number][];
        // `//` never occurs in a scope's key (its segments are not empty): a run's key is never a scope's.
        const id = make(runLabel(run as Named[]), p.scope, `${g.key}//${runIndex++}`, true, parent);
        p.groups.push(id);
        for (const m of run) place(id, m);
        finish(id);
      } else if ('node' in member) {
        p.nodes.push(member.node);
        groupOf[member.node] = parent;
      } else {
        const id = make(member.label, member.scope, member.scope, false, parent);
        p.groups.push(id);
        fill(id, membersOf(member.draft, member.scope));
        finish(id);
      }
    };
    for (const m of level) place(id, m);
  };
  const finish = (id: number): void => {
    const g = groups[id];
    g.first = Math.min(g.nodes.length ? g.nodes[0] : Infinity, ...g.groups.map((c) => groups[c].first));
    g.size = g.nodes.length + g.groups.reduce((s, c) => s + groups[c].size, 0);
  };
  const rootId = make(graph.label || graph.name || 'graph', '', '', false, -1);
  fill(rootId, membersOf(root, ''));
  finish(rootId);
  return { groups, groupOf, contents: new Map() };
}

function countNodes(d: Draft): number {
  let n = d.nodes.length;
  for (const c of d.children.values()) n += countNodes(c);
  return n;
}

function lastNode(d: Draft): number {
  let last = d.nodes.length ? d.nodes[d.nodes.length - 1] : -1;
  for (const c of d.children.values()) last = Math.max(last, lastNode(c));
  return last;
}

function firstNode(d: Draft): number {
  let first = d.nodes.length ? d.nodes[0] : Infinity;
  for (const c of d.children.values()) first = Math.min(first, firstNode(c));
  return first;
}

/** Blocks of at least this many nodes count as repeated layers (Conv -> BN -> Relu three times is not one). */
const MIN_BLOCK = 6;

/**
 * The longest stretch of an op sequence that repeats with some period (at least three times), as
 * consecutive blocks: the smallest period that covers nearly as much as the best one (the layer, not two).
 * Where the stretch leaves room, the blocks start where their cuts cross the fewest edges (`cross[i]`:
 * edges over the cut before position i): a layer that ends like the part before it (Add, LayerNorm) is not
 * shifted by that.
 */
export function repeatedBlocks(ops: string[], cross?: ArrayLike<number>): { start: number; period: number; count: number } | null {
  const n = ops.length;
  const ids = new Map<string, number>();
  const a = Int32Array.from(ops, (op) => { let id = ids.get(op); if (id === undefined) ids.set(op, (id = ids.size)); return id; });
  const found: { start: number; period: number; count: number; covered: number; slack: number }[] = [];
  for (let p = MIN_BLOCK; p <= Math.min(256, Math.floor(n / 3)); p++) {
    let best = 0, bestStart = 0, run = 0;
    for (let i = 0; i + p < n; i++) {
      run = a[i] === a[i + p] ? run + 1 : 0;
      if (run > best) { best = run; bestStart = i - run + 1; }
    }
    const count = Math.floor(best / p) + 1;
    if (count >= 3) found.push({ start: bestStart, period: p, count, covered: count * p, slack: best + p - count * p });
  }
  if (found.length === 0) return null;
  const most = Math.max(...found.map((f) => f.covered));
  const pick = found.find((f) => f.covered >= 0.95 * most)!;
  let start = pick.start;
  if (cross) {
    const cost = (s: number) => { let c = 0; for (let k = 0; k <= pick.count; k++) c += cross[s + k * pick.period]; return c; };
    // The periodic stretch is pick.slack nodes longer than its blocks: any of those starts repeats as well.
    let best = cost(start);
    for (let s = pick.start + 1; s <= pick.start + pick.slack; s++) { const c = cost(s); if (c < best) { best = c; start = s; } }
  }
  return { start, period: pick.period, count: pick.count };
}

type Named = { label?: string; node?: number; run?: Named[]; first: number; last: number };

/** A run's name: its first and last layer (`layer.0 – layer.31`), else the node numbers it spans (1-based). */
function runLabel(run: Named[]): string {
  const edge = (m: Named, last: boolean): Named => (m.run ? edge(m.run[last ? m.run.length - 1 : 0], last) : m);
  const a = edge(run[0], false), b = edge(run[run.length - 1], true);
  if (a.label !== undefined && b.label !== undefined) return `${a.label} – ${b.label}`;
  return `nodes ${a.first + 1}–${Math.max(...run.map((m) => m.last)) + 1}`;
}
