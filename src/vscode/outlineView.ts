// The outline of the model in the active model viewer, in the Explorer: its inputs and outputs, its
// nodes by op type, and its subgraphs (If/Loop/Scan bodies, at any depth). A node or a subgraph is revealed
// in the viewer on a click (the graph opened, the node selected).
import * as vscode from 'vscode';
import type { GraphData } from '../protocol/graph';
import type { GraphViewInfo, NodePanelInfo } from '../protocol/webview';
import { formatShape } from '../protocol/format';

export const OUTLINE_VIEW = 'onnxqs.modelOutline';
export const REVEAL_COMMAND = 'onnxqs.outline.reveal';

/** Nodes listed under one op type, at most (the count says how many there are). */
const NODES_PER_OP = 500;

/** What the outline needs of the open viewers. */
export interface OutlineSource {
  /** The model of the active model viewer tab, when there is one and it was read. */
  active(): { uri: vscode.Uri; graph: GraphData; loadGraph(path: string): Promise<GraphData> } | undefined;
  /** Opens `graph` in the viewer of `uri` and selects node `node` (-1: none). */
  reveal(uri: vscode.Uri, graph: string, node: number): Promise<GraphViewInfo | NodePanelInfo>;
  /** Fires when the active viewer or its model changes. */
  onDidChange: vscode.Event<void>;
}

type Item =
  | { kind: 'group'; label: string; children: Item[]; icon: string }
  | { kind: 'value'; label: string; description: string }
  | { kind: 'op'; op: string; graph: GraphData; nodes: number[] }
  | { kind: 'node'; graph: string; index: number; label: string; description: string }
  | { kind: 'subgraph'; path: string; label: string };

export class ModelOutline implements vscode.TreeDataProvider<Item>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly source: OutlineSource) {
    this.subscription = source.onDidChange(() => this.changed.fire());
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }

  getTreeItem(item: Item): vscode.TreeItem {
    const uri = this.source.active()?.uri;
    switch (item.kind) {
      case 'group': {
        const t = new vscode.TreeItem(item.label, vscode.TreeItemCollapsibleState.Expanded);
        t.iconPath = new vscode.ThemeIcon(item.icon);
        return t;
      }
      case 'value': {
        const t = new vscode.TreeItem(item.label, vscode.TreeItemCollapsibleState.None);
        t.description = item.description;
        return t;
      }
      case 'op': {
        const t = new vscode.TreeItem(item.op, vscode.TreeItemCollapsibleState.Collapsed);
        t.description = String(item.nodes.length);
        t.iconPath = new vscode.ThemeIcon('symbol-class');
        return t;
      }
      case 'node': {
        const t = new vscode.TreeItem(item.label, vscode.TreeItemCollapsibleState.None);
        t.description = item.description;
        t.command = uri ? { command: REVEAL_COMMAND, title: 'Show in the model viewer', arguments: [uri, item.graph, item.index] } : undefined;
        return t;
      }
      case 'subgraph': {
        const t = new vscode.TreeItem(item.label, vscode.TreeItemCollapsibleState.Collapsed);
        t.iconPath = new vscode.ThemeIcon('type-hierarchy-sub');
        t.description = item.path;
        t.command = uri ? { command: REVEAL_COMMAND, title: 'Open in the model viewer', arguments: [uri, item.path, -1] } : undefined;
        return t;
      }
    }
  }

  async getChildren(item?: Item): Promise<Item[]> {
    const model = this.source.active();
    if (!model) return [];
    if (!item) return rootItems(model.graph);
    switch (item.kind) {
      case 'group': return item.children;
      case 'op': return item.nodes.slice(0, NODES_PER_OP).map((i) => nodeItem(item.graph, i));
      case 'subgraph': return graphItems(await model.loadGraph(item.path));
      default: return [];
    }
  }
}

function nodeItem(g: GraphData, index: number): Item {
  const n = g.nodes[index];
  return { kind: 'node', graph: g.path, index, label: n.name || `${n.op} #${index}`, description: n.name ? n.op : '' };
}

/** Nodes by op type (the most frequent first) and the subgraphs of one graph. */
function graphItems(g: GraphData): Item[] {
  const byOp = new Map<string, number[]>();
  g.nodes.forEach((n, i) => {
    const list = byOp.get(n.op);
    if (list) list.push(i); else byOp.set(n.op, [i]);
  });
  const ops: Item[] = [...byOp].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0])).map(([op, nodes]) => ({ kind: 'op', op, graph: g, nodes }));
  const subgraphs: Item[] = g.nodes.flatMap((n) => n.subgraphs.map((s) => ({ kind: 'subgraph' as const, path: s.path, label: `${n.name || n.op}.${s.attribute}` })));
  return [
    { kind: 'group', label: `Nodes by op type (${g.nodes.length})`, children: ops, icon: 'symbol-class' },
    ...(subgraphs.length ? [{ kind: 'group' as const, label: `Subgraphs (${subgraphs.length})`, children: subgraphs, icon: 'type-hierarchy-sub' }] : []),
  ];
}

function rootItems(g: GraphData): Item[] {
  const io = (ids: number[]): Item[] => ids.map((i) => ({ kind: 'value', label: g.values[i].name, description: `${g.values[i].dtype ?? '?'}${formatShape(g.values[i].shape)}` }));
  return [
    { kind: 'group', label: `Inputs (${g.inputs.length})`, children: io(g.inputs), icon: 'arrow-down' },
    { kind: 'group', label: `Outputs (${g.outputs.length})`, children: io(g.outputs), icon: 'arrow-up' },
    ...graphItems(g),
  ];
}

/** The outline's labels as plain text, depth-first (what the tests read); subgraphs are not opened. */
export async function outlineText(outline: ModelOutline, item?: Item, depth = 0): Promise<string[]> {
  const out: string[] = [];
  for (const child of await outline.getChildren(item)) {
    const t = outline.getTreeItem(child);
    out.push(`${'  '.repeat(depth)}${typeof t.label === 'string' ? t.label : t.label?.label ?? ''}${t.description ? ` — ${t.description}` : ''}`);
    if (child.kind === 'group' || (child.kind === 'op' && depth < 2)) out.push(...await outlineText(outline, child, depth + 1));
  }
  return out;
}
