// The side panel of the graph view: what the selected node is (op type and domain, name, attributes,
// inputs and outputs with dtype and shape, the weights it consumes with their statistics, a link to the
// operator's documentation), or the selected graph input / output, or, with nothing selected, the graph's
// totals, the colour legend and the keys. Text only through text nodes.
import { formatBytes, formatCount, formatNumber } from '../../src/protocol/format';
import type { GraphData, GraphNodeData, WeightSummary } from '../../src/protocol/graph';
import type { NodeOverlay, NodePanelInfo } from '../../src/protocol/webview';
import { h, icon, percentText, typeText } from '../ui/dom';
import { button, link } from '../ui/toolkit';
import { ancestry, groupContents, MAX_UNITS, nodesUnder } from './hierarchy';
import { isWeight, type Box, type Scene } from './scene';
import { CATEGORY_LABELS, type BoxCategory, type Palette } from './theme';

export interface SidePanelActions {
  /** Select the box that produces / consumes a value. */
  goToValue(value: number, direction: 'producer' | 'consumer'): void;
  openSubgraph(path: string): void;
  showWeight(index: number): void;
  /** Select (and reveal) the node of the graph shown with this name. */
  selectNamed(name: string): void;
  /** Expand or collapse a layer of a folded graph. */
  setLayer(group: number, expanded: boolean): void;
}

/** Nodes the overview lists as the overlay's worst. */
const WORST_LISTED = 10;

/** The operator's documentation page, for the default ONNX domain, ai.onnx.ml and onnxruntime's com.microsoft. */
export function docsUrl(op: string, domain: string): string | null {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(op)) return null;
  if (domain === '' || domain === 'ai.onnx') return `https://onnx.ai/onnx/operators/onnx__${op}.html`;
  if (domain === 'ai.onnx.ml') return `https://onnx.ai/onnx/operators/onnx_aionnxml_${op}.html`;
  if (domain === 'com.microsoft') return `https://github.com/microsoft/onnxruntime/blob/main/docs/ContribOperators.md#com.microsoft.${op}`;
  return null;
}

/** One line of a weight's statistics. */
export function statsLine(w: WeightSummary): string {
  const s = w.stats;
  if (!s) return w.statsError ? `statistics failed: ${w.statsError}` : w.dtype === 'string' ? 'no numeric values' : '';
  const parts = [
    `min ${formatNumber(s.min)}`,
    `max ${formatNumber(s.max)}`,
    `mean ${formatNumber(s.mean)}`,
    `std ${formatNumber(s.std)}`,
    `zeros ${percentText(s.sparsity)}`,
    `outlier ${formatNumber(s.outlierScore)}`,
  ];
  if (s.nan > 0) parts.push(`NaN ${formatCount(s.nan)}`);
  if (s.inf > 0) parts.push(`±Inf ${formatCount(s.inf)}`);
  return parts.join(' · ');
}

export class SidePanel {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  /** The figure per node drawn over the graph: its lines in a node's view, its worst nodes in the overview. */
  private overlay: NodeOverlay | null = null;
  private readonly overlayLines = new Map<string, NodeOverlay['nodes'][number]['lines']>();

  setOverlay(overlay: NodeOverlay | null): void {
    this.overlay = overlay;
    this.overlayLines.clear();
    for (const n of overlay?.nodes ?? []) this.overlayLines.set(n.name, n.lines);
  }

  constructor(private readonly actions: SidePanelActions) {
    this.body = h('div', { class: 'side-body' });
    this.element = h('aside', { class: 'side-panel', id: 'side-panel', 'aria-label': 'Details of the selection', tabindex: '-1' }, this.body);
  }

  /** Shows the box `b` of `scene` (or the graph's overview when b < 0). `stats` when known. */
  show(scene: Scene, b: number, weights: WeightSummary[] | string | undefined, stats: WeightSummary[] | undefined, palette: Palette): void {
    const graph = scene.graph;
    if (b < 0) this.body.replaceChildren(...this.overview(scene, palette));
    else {
      const box = scene.boxes[b];
      this.body.replaceChildren(...(box.kind === 'node' ? [...this.nodeView(graph, graph.nodes[box.node], weights, stats, palette), ...this.layerOf(scene, box.node)]
        : box.kind === 'group' ? this.groupView(scene, box.group) : this.valueView(scene, box, palette)));
    }
  }

  /** What the panel shows for a node, read back from its DOM (for the tests' probes). */
  read(): NodePanelInfo {
    const text = (sel: string) => this.body.querySelector(sel)?.textContent ?? '';
    const rows = (id: string) =>
      Array.from(this.body.querySelectorAll(`#${id} tbody tr`), (tr) => ({
        name: tr.querySelector('th')?.textContent ?? '',
        value: tr.querySelector('td')?.textContent ?? '',
      }));
    return {
      op: text('#side-op'),
      domain: text('#side-domain'),
      name: text('#side-name'),
      attributes: rows('side-attributes'),
      inputs: rows('side-inputs').map((r) => ({ name: r.name, type: r.value })),
      outputs: rows('side-outputs').map((r) => ({ name: r.name, type: r.value })),
      weights: Array.from(this.body.querySelectorAll('#side-weights .weight-item'), (li) => ({
        name: li.querySelector('.weight-name')?.textContent ?? '',
        stats: li.querySelector('.weight-stats')?.textContent ?? '',
      })),
      docsUrl: this.body.querySelector('#side-docs')?.getAttribute('href') ?? null,
      figures: rows('side-figures').map((r) => ({ label: r.name, value: r.value })),
    };
  }

  private nodeView(graph: GraphData, node: GraphNodeData, weights: WeightSummary[] | string | undefined, stats: WeightSummary[] | undefined, palette: Palette): Node[] {
    const out: Node[] = [];
    out.push(
      h(
        'header',
        { class: 'side-header' },
        swatch(node.category, palette),
        h('h2', { id: 'side-op', class: 'side-title' }, node.op || '(empty op)'),
        h('span', { id: 'side-domain', class: 'side-domain', title: 'Operator domain' }, node.domain || 'ai.onnx'),
      ),
    );
    out.push(h('p', { class: 'side-name' }, h('span', { class: 'side-label' }, 'Name '), h('code', { id: 'side-name' }, node.name), node.name ? null : h('span', { class: 'muted' }, '(unnamed)')));
    out.push(h('p', { class: 'side-category muted' }, CATEGORY_LABELS[node.category]));
    const figures = this.overlayLines.get(node.name);
    if (this.overlay && figures) {
      out.push(h('h3', {}, this.overlay.label));
      out.push(kvTable('side-figures', this.overlay.title, figures.map((l) => [l.label, h('code', {}, l.value)])));
    }
    const url = docsUrl(node.op, node.domain);
    if (url) {
      const a = link(`${node.op} documentation`, url, url);
      a.id = 'side-docs';
      out.push(h('p', { class: 'side-docs' }, icon('book'), ' ', a));
    }

    out.push(h('h3', {}, `Attributes (${node.attributes.length})`));
    out.push(
      node.attributes.length === 0
        ? h('p', { class: 'muted' }, 'None.')
        : kvTable(
            'side-attributes',
            'Attributes',
            node.attributes.map((a) => [a.name, h('code', { class: 'attr-value', title: `${a.type}` }, a.value)]),
          ),
    );

    const valueRows = (ids: number[], direction: 'producer' | 'consumer') =>
      ids.map((id, slot): [Node | string, Node | string] => {
        if (id < 0) return [`#${slot}`, h('span', { class: 'muted' }, '(omitted)')];
        const v = graph.values[id];
        const name = h('button', { type: 'button', class: 'link-button', title: direction === 'producer' ? 'Select the node that produces it' : 'Select a node that consumes it' }, v.name || '(unnamed)');
        name.addEventListener('click', () => this.actions.goToValue(id, direction));
        return [isWeight(v) ? v.name || '(unnamed)' : name, h('code', {}, typeText(v.dtype, v.shape))];
      });
    out.push(h('h3', {}, `Inputs (${node.inputs.length})`));
    out.push(node.inputs.length === 0 ? h('p', { class: 'muted' }, 'None.') : kvTable('side-inputs', 'Inputs', valueRows(node.inputs, 'producer')));
    out.push(h('h3', {}, `Outputs (${node.outputs.length})`));
    out.push(node.outputs.length === 0 ? h('p', { class: 'muted' }, 'None.') : kvTable('side-outputs', 'Outputs', valueRows(node.outputs, 'consumer')));

    const used = node.inputs.filter((id) => id >= 0 && graph.values[id].weight !== undefined).map((id) => graph.values[id].weight as number);
    if (used.length > 0 && !Array.isArray(weights)) {
      // The list comes just after the first paint (the panel is shown again then), or says why it cannot.
      out.push(h('h3', {}, `Weights (${used.length})`), h('p', { class: 'muted' }, weights ?? 'Reading the weight list…'));
    } else if (used.length > 0 && Array.isArray(weights)) {
      out.push(h('h3', {}, `Weights (${used.length})`));
      const list = h('ul', { id: 'side-weights', class: 'weight-list' });
      for (const index of used) {
        const w = weights[index];
        if (!w) continue;
        const s = stats?.[index];
        const show = button('Weights view', { icon: 'graph', title: `Show ${w.name} in the Weights view (histogram, per-channel ranges)`, onClick: () => this.actions.showWeight(index) });
        list.append(
          h(
            'li',
            { class: 'weight-item' },
            h('code', { class: 'weight-name' }, w.name),
            h('span', { class: 'weight-type muted' }, `${typeText(w.dtype, w.shape)} · ${formatCount(w.elements)} values · ${formatBytes(w.bytes)}`),
            h('span', { class: 'weight-stats' }, s ? statsLine(s) : stats ? '' : 'computing statistics…'),
            show,
          ),
        );
      }
      out.push(list);
    }

    if (node.subgraphs.length > 0) {
      out.push(h('h3', {}, `Subgraphs (${node.subgraphs.length})`));
      const list = h('div', { class: 'side-subgraphs' });
      for (const sg of node.subgraphs) {
        list.append(button(`Open ${sg.attribute}`, { icon: 'type-hierarchy-sub', title: `Open the ${sg.attribute} graph (${sg.path})`, onClick: () => this.actions.openSubgraph(sg.path) }));
      }
      out.push(list);
    }
    return out;
  }

  /** A collapsed layer: its scope, size, parameters and op counts, and a button to expand it. */
  private groupView(scene: Scene, g: number): Node[] {
    const h_ = scene.fold!.hierarchy;
    const group = h_.groups[g];
    const { ops, parameters } = groupContents(scene.graph, h_, g);
    // The overlay's figure for the layer: its nodes' sum (time) or its worst.
    const o = this.overlay;
    const values: number[] = [];
    if (o) {
      const byName = new Map(o.nodes.map((n) => [n.name, n.value]));
      for (const n of nodesUnder(h_, g)) { const v = byName.get(scene.graph.nodes[n].name); if (v !== undefined) values.push(v); }
    }
    const figure = o && values.length && !o.categories
      ? kvTable('side-figures', o.title, [[o.additive ? `${o.label} (sum of ${values.length} nodes)` : `${o.label} (worst of ${values.length} nodes)`,
        h('code', {}, `${Number((o.additive ? values.reduce((a, b) => a + b, 0) : Math.max(...values)).toPrecision(4))} ${o.unit}`.trim())]])
      : null;
    return [
      h('header', { class: 'side-header' }, h('h2', { id: 'side-op', class: 'side-title' }, group.label)),
      h('p', { class: 'side-name' }, h('span', { class: 'side-label' }, group.artificial ? 'Run of ' : 'Scope '),
        group.artificial ? `${formatCount(group.groups.length + group.nodes.length)} members of ${group.scope || 'the graph'} (a level of more than ${MAX_UNITS} is cut into runs)` : h('code', { id: 'side-name' }, group.scope)),
      h('p', {}, `${plural(group.size, 'node')}${parameters > 0 ? `, ${formatCount(parameters)} parameters` : ''}.`),
      h('div', { class: 'side-subgraphs' }, button('Expand', { icon: 'unfold', title: 'Show its members (Enter, or a double click on the box)', onClick: () => this.actions.setLayer(g, true) })),
      ...(figure ? [h('h3', {}, o!.label), figure] : []),
      h('h3', {}, `Ops (${ops.length})`),
      kvTable('side-ops', 'Op types in the layer', ops.map(([op, n]) => [op, formatCount(n)])),
    ];
  }

  /** The layers a node is in (a folded graph), innermost last, each one click from collapsing. */
  private layerOf(scene: Scene, node: number): Node[] {
    const fold = scene.fold;
    if (!fold) return [];
    const chain = ancestry(fold.hierarchy, fold.hierarchy.groupOf[node]).slice(1);
    if (chain.length === 0) return [];
    const list = h('div', { class: 'side-subgraphs', id: 'side-layers' });
    for (const g of chain.reverse()) {
      list.append(button(`Collapse ${fold.hierarchy.groups[g].label}`, { icon: 'fold', title: 'Fold this layer into one box (Shift+Enter folds the innermost)', onClick: () => this.actions.setLayer(g, false) }));
    }
    return [h('h3', {}, 'Layers'), list];
  }

  private valueView(scene: Scene, box: Box, palette: Palette): Node[] {
    const v = scene.graph.values[box.value];
    const kind = box.kind === 'input' ? 'Graph input' : box.kind === 'output' ? 'Graph output' : 'Value from the enclosing graph';
    const out: Node[] = [
      h('header', { class: 'side-header' }, swatch(box.category, palette), h('h2', { id: 'side-op', class: 'side-title' }, kind)),
      h('p', { class: 'side-name' }, h('span', { class: 'side-label' }, 'Name '), h('code', { id: 'side-name' }, v.name)),
      h('p', {}, h('span', { class: 'side-label' }, 'Type '), h('code', {}, typeText(v.dtype, v.shape))),
    ];
    const consumers = scene.consumers[box.value] ?? [];
    if (box.kind !== 'output') {
      out.push(h('h3', {}, `Consumers (${consumers.length})`));
      const list = h('ul', { class: 'plain-list' });
      for (const c of consumers) {
        const target = scene.boxes[c];
        const b = h('button', { type: 'button', class: 'link-button' }, target.kind === 'node' ? `${target.title} ${scene.graph.nodes[target.node].name}` : target.kind === 'group' ? `layer ${target.title}` : target.title);
        b.addEventListener('click', () => this.actions.goToValue(box.value, 'consumer'));
        list.append(h('li', {}, b));
      }
      out.push(list);
    }
    return out;
  }

  private overview(scene: Scene, palette: Palette): Node[] {
    const g = scene.graph;
    const counts = new Map<BoxCategory, number>();
    // Drawn nodes only (Constants shown as weights are not boxes).
    for (const b of scene.boxes) if (b.kind === 'node') counts.set(b.category, (counts.get(b.category) ?? 0) + 1);
    const legend = h('ul', { class: 'legend', 'aria-label': 'Colours of the op categories' });
    const cats = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    for (const [c, n] of cats) legend.append(h('li', {}, swatch(c, palette), `${CATEGORY_LABELS[c]} `, h('span', { class: 'muted' }, formatCount(n))));
    for (const c of ['input', 'output'] as BoxCategory[]) legend.append(h('li', {}, swatch(c, palette, true), CATEGORY_LABELS[c]));
    const worst: Node[] = [];
    const o = this.overlay;
    if (o && scene.graph.path === 'main') {
      worst.push(h('h3', {}, o.categories ? o.label : `Worst by ${o.label}`), h('p', { class: 'muted' }, o.title));
      if (!o.categories) {
        const list = h('ol', { id: 'side-worst', class: 'worst-list' });
        for (const n of o.nodes.slice(0, WORST_LISTED)) {
          const b = h('button', { type: 'button', class: 'link-button', title: `Select ${n.name}` }, n.name);
          b.addEventListener('click', () => this.actions.selectNamed(n.name));
          list.append(h('li', {}, b, h('span', { class: 'muted' }, ` ${n.lines[0]?.value ?? ''}`)));
        }
        worst.push(list);
      }
      if (o.absent?.length) {
        worst.push(h('h4', {}, `Not in this graph (${o.absent.length})`),
          h('ul', { id: 'side-absent', class: 'worst-list' }, ...o.absent.map((a) => h('li', {}, h('code', {}, a.name), ` ${a.opType}: ${a.detail}`))));
      }
    }
    return [
      h('header', { class: 'side-header' }, h('h2', { class: 'side-title' }, g.label || g.name || g.path)),
      ...worst,
      h(
        'p',
        { class: 'muted' },
        `${plural(g.nodes.length, 'node')}, ${plural(g.inputs.length, 'input')}, ${plural(g.outputs.length, 'output')}` +
          (scene.hiddenConstants > 0 ? `; ${formatCount(scene.hiddenConstants)} Constant nodes are shown as weights inside their consumers.` : '.'),
      ),
      h('h3', {}, 'Colours'),
      legend,
      h('h3', {}, 'Keys'),
      h(
        'dl',
        { class: 'keys' },
        ...(
          [
            ['Click, Tab to the graph', 'select a node'],
            ['↑ ↓', 'producer / consumer of the selection'],
            ['← →', 'neighbour in the same row'],
            ['Enter', 'open a subgraph (Loop, Scan; an If\'s branches are listed to choose from), expand a layer'],
            ['Shift+Enter', 'fold the layer the selection is in'],
            ['Backspace', 'back to the enclosing graph'],
            ['Ctrl/Cmd+F, F3', 'find nodes, op types, tensors'],
            ['+ − 0', 'zoom in, out, fit'],
            ['Drag, wheel, Shift+arrows', 'pan; Ctrl+wheel zooms'],
          ] as [string, string][]
        ).flatMap(([k, d]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, d)]),
      ),
    ];
  }
}

function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
}

function swatch(category: BoxCategory, palette: Palette, round = false): HTMLElement {
  const s = h('span', { class: `swatch${round ? ' round' : ''}`, 'aria-hidden': 'true' });
  s.style.background = palette.tint[category];
  s.style.borderColor = palette.category[category];
  return s;
}

function kvTable(id: string, caption: string, rows: [Node | string, Node | string][]): HTMLElement {
  const body = h('tbody');
  for (const [k, v] of rows) body.append(h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v)));
  return h('table', { id, class: 'kv' }, h('caption', { class: 'visually-hidden' }, caption), body);
}
