// The Graph tab: a canvas that draws only what is visible, pan (drag, wheel, Shift+arrows), zoom
// (Ctrl+wheel, pinch, + - 0), fit, an overview, keyboard navigation between nodes, find (Ctrl/Cmd+F) by
// node name, op type or tensor name with next/previous, subgraphs (If/Loop/Scan bodies) opened with a
// breadcrumb back, and the side panel for the selection. The layout runs in a web worker.
import { formatCount } from '../../src/protocol/format';
import type { FindMatch, FindResult, GraphData, WeightSummary } from '../../src/protocol/graph';
import type { GraphViewInfo, NodeOverlay, NodePanelInfo } from '../../src/protocol/webview';
import { errorText, type GraphUiState, type Viewport } from '../rpc';
import { h } from '../ui/dom';
import { checkbox, dropdown, focusField, iconButton, progressRing, textField, type CheckElement, type ValueElement } from '../ui/toolkit';
import { buildFoldedScene, layerFigures } from './foldScene';
import { FRAME } from './foldLayout';
import { ancestry, buildHierarchy, type Hierarchy } from './hierarchy';
import { graphLayoutInput, type GraphLayoutInput } from './layout';
import { LayoutClient } from './layoutClient';
import { heatColour, Overview, Renderer, type FrameStats, type View } from './renderer';
import { applyLayout, boxAt, buildScene, isWeight, type Scene } from './scene';
import { SidePanel } from './sidePanel';
import { sceneSvg } from './svgExport';
import { readPalette, type Palette } from './theme';

export interface GraphHost {
  /**
   * Every weight of the model once the list came (just after the first paint; statistics later, through
   * stats()), why it could not come (a string), or undefined while it comes.
   */
  weights(): WeightSummary[] | string | undefined;
  /** Weight statistics: computed once in the job process, on first need. */
  stats(): Promise<WeightSummary[]>;
  /** Statistics when already known. */
  statsNow(): WeightSummary[] | undefined;
  /** A subgraph's data, from the extension. */
  loadGraph(path: string): Promise<GraphData>;
  /** The nodes of every graph of the model that match a query (find beyond the graph shown). */
  findInModel?(query: string): Promise<FindResult>;
  /** Switches to the Weights tab with this weight selected. */
  showWeight(index: number): void;
  /** The persisted UI state of this tab (mutated here); save() at once, saveSoon() for pan and zoom. */
  state: GraphUiState;
  save(): void;
  saveSoon(): void;
  /** Something to say to screen readers. */
  announce(text: string): void;
  /** Saves a picture of the graph (the extension asks where); the path written, null when cancelled. */
  saveImage?(format: 'png' | 'svg', name: string, data: string): Promise<{ path: string | null }>;
  /** The model's file name without its extension, for the names of what is saved. */
  fileStem: string;
}

interface Shown {
  scene: Scene;
  layoutMs: number;
  /** The layout ran on the UI thread (no worker could start). */
  inline: boolean;
}

const MIN_SCALE = 0.002;
const MAX_SCALE = 4;
/** When fitting the whole graph needs a smaller zoom than this, the first view shows its top at 100%. */
const FIT_FIRST_SCALE = 0.85;
/** Zoom below which a node revealed by the keyboard or find is brought closer. */
const READABLE_SCALE = 0.45;
/** Graphs with more nodes than this open folded into their layers (the Layers toggle changes it per graph). */
export const FOLD_ABOVE = 2000;

/** What a box stands for, across re-layouts (box indexes change when a layer folds or unfolds). */
type Identity = { node: number } | { group: string } | { value: number };

export class GraphView {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly overviewCanvas: HTMLCanvasElement;
  private readonly resizer: HTMLElement;
  private readonly stage: HTMLElement;
  private readonly breadcrumb: HTMLElement;
  private readonly status: HTMLElement;
  private readonly busy: HTMLElement;
  private readonly findBar: HTMLElement;
  private readonly findField: ValueElement;
  private readonly findCount: HTMLElement;
  private readonly side: SidePanel;
  private readonly layouts = new LayoutClient();
  private readonly graphs = new Map<string, GraphData>();
  private readonly shown = new Map<string, Shown>();
  private current: Shown | undefined;
  private renderer: Renderer | undefined;
  private overview: Overview | undefined;
  private palette: Palette;
  private view: View = { cx: 0, cy: 0, scale: 1 };
  private width = 0;
  private height = 0;
  private frameRequested = false;
  private lastFrame: FrameStats = { boxes: 0, edges: 0, ms: 0 };
  private firstPaintMs = 0;
  private selected = -1;
  private matches: number[] = [];
  private matchSet = new Set<number>();
  private matchIndex = -1;
  private query = '';
  /** Matches of the query in the other graphs of the model (the model-wide find), and how many there are. */
  private elsewhere: FindMatch[] = [];
  private elsewhereTotal = 0;
  private findToken = 0;
  private findTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly elsewhereList: HTMLElement;
  private readonly layersToggle: CheckElement;
  private readonly foldButtons: HTMLElement;
  /** Per graph path: its layers, and what is drawn (layout items), computed once. */
  private readonly folds = new Map<string, { hierarchy: Hierarchy; input: GraphLayoutInput }>();
  /** Per match box of a collapsed layer: the first and last matching nodes inside it (node order). */
  private hiddenMatches = new Map<number, { first: number; last: number }>();
  private loadToken = 0;
  private visible = false;
  /** Figures per node of the main graph (a comparison's SQNR drop, its graph diff); one drawn at a time. */
  private overlays: NodeOverlay[] = [];
  private active = 0;
  private overlayOn = true;
  /** The active overlay's colour per box of the scene shown; null when none applies. */
  private fills: (string | null)[] | null = null;
  /** The figures the colours span (the overlay's own, or up to a folded layer's larger one). */
  private scale: { min: number; max: number } | null = null;
  private readonly legend: HTMLElement;
  /** Frame times (ms) of the last frames, for the benchmark. */
  readonly frameTimes: number[] = [];

  constructor(
    private readonly host: GraphHost,
    main: GraphData,
  ) {
    this.graphs.set(main.path, main);
    this.palette = readPalette();
    this.canvas = h('canvas', {
      class: 'graph-canvas',
      tabindex: '0',
      role: 'application',
      'aria-roledescription': 'graph',
      'aria-describedby': 'graph-help',
    });
    this.overviewCanvas = h('canvas', { class: 'graph-overview', 'aria-hidden': 'true', title: 'Overview: click or drag to move the view' });
    this.breadcrumb = h('nav', { class: 'breadcrumb', 'aria-label': 'Graph path' });
    this.status = h('div', { class: 'graph-status', role: 'status', 'aria-live': 'polite' });
    this.busy = h('div', { class: 'graph-busy', hidden: '' }, progressRing('Laying out the graph'), h('span', {}, 'Laying out the graph…'));
    this.findCount = h('span', { class: 'find-count', 'aria-live': 'polite' }, 'No results');
    this.findField = textField({
      label: 'Find a node by name or op type, or a tensor by name',
      placeholder: 'Find node, op type, tensor',
      icon: 'search',
      id: 'graph-find',
      onInput: (value) => this.setQuery(value),
    });
    this.findField.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === 'F3') {
        event.preventDefault();
        this.step(event.shiftKey ? -1 : 1);
      } else if (event.key === 'Escape') {
        event.preventDefault();
        this.closeFind();
      }
    });
    this.elsewhereList = h('div', { class: 'find-elsewhere', id: 'find-elsewhere', role: 'list', 'aria-label': 'Matches in other graphs', hidden: '' });
    this.findBar = h(
      'div',
      { class: 'find-bar', role: 'search', hidden: '' },
      h('div', { class: 'find-row' },
        this.findField,
        this.findCount,
        iconButton('arrow-up', 'Previous match (Shift+Enter)', () => this.step(-1)),
        iconButton('arrow-down', 'Next match (Enter)', () => this.step(1)),
        iconButton('close', 'Close find (Escape)', () => this.closeFind()),
      ),
      this.elsewhereList,
    );
    this.side = new SidePanel({
      goToValue: (value, direction) => this.goToValue(value, direction),
      openSubgraph: (path) => void this.open(path),
      showWeight: (index) => this.host.showWeight(index),
      selectNamed: (name) => { try { this.selectNode(name); } catch { /* not in the graph shown */ } },
      setLayer: (group, expanded) => this.setLayer(group, expanded),
    });
    this.legend = h('div', { class: 'heat-legend', hidden: '', role: 'group', 'aria-label': 'Overlay legend' });
    this.side.element.hidden = !host.state.sidePanel;
    if (host.state.sideWidth) Object.assign(this.side.element.style, { width: `${host.state.sideWidth}px`, maxWidth: '60%' });
    this.overviewCanvas.hidden = host.state.overview === false;
    this.resizer = this.makeResizer();

    const names = checkbox({
      label: 'Names',
      checked: host.state.showNames,
      id: 'graph-names',
      title: 'Show node names in the boxes',
      onChange: (checked) => {
        host.state.showNames = checked;
        host.save();
        // Wider boxes move every node: keep the selection, and the node it shows (or the one nearest the
        // centre) where it was on screen, at the same zoom.
        this.shown.clear();
        void this.relayOut();
      },
    });
    this.layersToggle = checkbox({
      label: 'Layers',
      checked: false,
      id: 'graph-layers',
      title: 'Fold the graph into its layers (name scopes; repeated blocks or runs of nodes where there are none): double-click a layer or press Enter to expand it',
      // Also fired when the view sets it (updateFoldControls): only a change of what is drawn counts.
      onChange: (checked) => { if (checked !== !!this.current?.scene.fold) void this.setFolded(checked); },
    });
    this.foldButtons = h('span', { class: 'fold-buttons' },
      iconButton('expand-all', 'Expand every layer', () => this.setAllLayers(true), 'graph-expand-all'),
      iconButton('collapse-all', 'Collapse every layer', () => this.setAllLayers(false), 'graph-collapse-all'));
    const toolbar = h(
      'div',
      { class: 'graph-toolbar', role: 'toolbar', 'aria-label': 'Graph' },
      this.breadcrumb,
      h('span', { class: 'spacer' }),
      iconButton('search', 'Find (Ctrl/Cmd+F)', () => this.openFind(), 'graph-find-button'),
      iconButton('zoom-out', 'Zoom out (-)', () => this.zoomBy(1 / 1.25)),
      iconButton('zoom-in', 'Zoom in (+)', () => this.zoomBy(1.25)),
      iconButton('screen-full', 'Fit the graph (0)', () => this.fit(), 'graph-fit'),
      iconButton('desktop-download', 'Save the view or the whole graph as PNG or SVG', (event) => this.openExportMenu((event?.currentTarget as HTMLElement | null) ?? this.canvas), 'graph-export'),
      names,
      this.layersToggle,
      this.foldButtons,
      iconButton('map', 'Show or hide the overview', () => this.toggleOverview(), 'graph-overview-toggle'),
      iconButton('layout-sidebar-right', 'Show or hide the side panel', () => this.toggleSide(), 'graph-side-toggle'),
    );
    this.stage = h(
      'div',
      { class: 'graph-stage' },
      this.canvas,
      this.overviewCanvas,
      this.findBar,
      this.busy,
      this.legend,
      h('p', { id: 'graph-help', class: 'visually-hidden' }, 'Arrow keys move between nodes: down to a consumer, up to a producer, left and right within a row. Enter opens a subgraph, Backspace goes back. Plus, minus and zero zoom. Control F finds.'),
    );
    this.element = h('div', { class: 'graph-view' }, toolbar, h('div', { class: 'graph-main' }, h('div', { class: 'graph-column' }, this.stage, this.status), this.resizer, this.side.element));
    this.attachEvents();
  }

  // -------------------------------------------------------------------------------------------------
  // Opening graphs

  /** Shows a graph (laying it out first when needed). Resolves when it is painted. */
  async open(path: string, keepView = false): Promise<void> {
    const token = ++this.loadToken;
    const previous = this.host.state.path;
    if (this.current && !keepView) this.saveViewport();
    let shown = this.shown.get(path);
    if (!shown) {
      this.busy.hidden = false;
      try {
        let graph = this.graphs.get(path);
        if (!graph) {
          graph = await this.host.loadGraph(path);
          this.graphs.set(path, graph);
        }
        shown = await this.layOut(graph);
      } catch (err) {
        this.busy.hidden = true;
        this.status.textContent = `Could not show ${path}: ${err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err)}`;
        throw err;
      }
      if (token !== this.loadToken) return;
      this.shown.set(path, shown);
      this.busy.hidden = true;
    }
    if (token !== this.loadToken) return;
    const samePath = previous === path;
    this.current = shown;
    this.host.state.path = path;
    this.computeFills();
    if (this.overlays.length) this.updateLegend();
    if (!samePath) this.host.state.selected = -1;
    if (this.renderer) this.renderer.setScene(shown.scene);
    else this.renderer = new Renderer(shown.scene);
    if (this.overview) this.overview.setScene(shown.scene);
    else this.overview = new Overview(shown.scene);
    // A selection from before a reload may point past a graph that shrank.
    this.selected = this.host.state.selected < shown.scene.boxes.length ? this.host.state.selected : -1;
    this.matches = [];
    this.matchSet = new Set();
    this.matchIndex = -1;
    if (this.query) this.runFind(false);
    this.measure();
    const saved = this.host.state.viewports[path];
    if (saved && Number.isFinite(saved.scale) && saved.scale > 0) this.view = { ...saved };
    else this.view = this.initialView();
    this.updateBreadcrumb();
    this.updateFoldControls();
    this.updateSide();
    this.host.save();
    const started = performance.now();
    this.renderNow();
    this.firstPaintMs = performance.now() - started;
    this.updateStatus();
  }

  private async layOut(graph: GraphData): Promise<Shown> {
    if (this.isFolded(graph)) return this.layOutFolded(graph);
    const measure = measurer(this.palette);
    const { scene, input } = buildScene(graph, { showNames: this.host.state.showNames, measure });
    const edges = Int32Array.from(input.edges);
    const run = await this.layouts.layout(input.widths as Float64Array, input.heights as Float64Array, edges);
    return { scene: applyLayout(scene, run.result), layoutMs: run.ms, inline: run.inline };
  }

  // -------------------------------------------------------------------------------------------------
  // Layers (a folded graph)

  private isFolded(graph: GraphData): boolean {
    return this.host.state.layers?.[graph.path] ?? graph.nodes.length > FOLD_ABOVE;
  }

  private foldOf(graph: GraphData): { hierarchy: Hierarchy; input: GraphLayoutInput } {
    let f = this.folds.get(graph.path);
    if (!f) {
      const input = graphLayoutInput(graph, () => ({ width: 0, height: 0 }));
      f = { hierarchy: buildHierarchy(graph, (n) => input.nodeItem[n] >= 0), input };
      this.folds.set(graph.path, f);
    }
    return f;
  }

  /** Lays out a folded graph on this thread: only its visible levels, each small. */
  private layOutFolded(graph: GraphData, expanded?: Set<number>): Shown {
    const started = performance.now();
    const { hierarchy, input } = this.foldOf(graph);
    if (!expanded) {
      const keys = new Set(this.host.state.expanded?.[graph.path] ?? []);
      expanded = new Set([0]);
      hierarchy.groups.forEach((g, i) => { if (keys.has(g.key)) expanded!.add(i); });
    }
    const scene = buildFoldedScene(graph, input, hierarchy, expanded, { showNames: this.host.state.showNames, measure: measurer(this.palette) });
    return { scene, layoutMs: performance.now() - started, inline: false };
  }

  /** Draws the graph shown folded into layers or flat; keeps the selection and what is in view. */
  async setFolded(folded: boolean): Promise<void> {
    const path = this.host.state.path;
    this.host.state.layers = { ...(this.host.state.layers ?? {}), [path]: folded };
    this.host.save();
    this.shown.delete(path);
    await this.relayOut();
  }

  /** Lays out the graph shown again (Names, Layers), keeping the selection and the view's anchor. */
  private async relayOut(): Promise<void> {
    const anchor = this.viewAnchor();
    const selected = this.identity(this.selected);
    await this.open(this.host.state.path, true);
    this.restoreAnchor(anchor);
    const scene = this.current?.scene;
    if (scene && selected) { this.selected = this.boxFor(scene, selected); this.host.state.selected = this.selected; this.updateSide(); this.requestRender(); }
  }

  /** Expands (with its enclosing layers) or collapses a layer of the graph shown. */
  setLayer(group: number, expanded: boolean): void {
    const fold = this.current?.scene.fold;
    if (!fold) return;
    const next = new Set(fold.expanded);
    if (expanded) for (const g of ancestry(fold.hierarchy, group)) next.add(g);
    else if (group > 0) next.delete(group);
    this.refold(next);
  }

  /** The setLayer probe: the first layer with this label. */
  setLayerByLabel(label: string, expanded: boolean): void {
    const fold = this.current?.scene.fold;
    if (!fold) throw new Error('The graph shown is not folded into layers.');
    const g = fold.hierarchy.groups.findIndex((x, i) => i > 0 && x.label === label);
    if (g < 0) throw new Error(`No layer "${label}" in the graph shown.`);
    this.setLayer(g, expanded);
  }

  private setAllLayers(expanded: boolean): void {
    const fold = this.current?.scene.fold;
    if (!fold) return;
    this.refold(new Set(expanded ? fold.hierarchy.groups.map((_, i) => i) : [0]));
  }

  /** Expands every layer around a node, so that it has a box of its own. */
  private expandTo(node: number): void {
    const fold = this.current?.scene.fold;
    if (!fold || this.current!.scene.boxOfNode[node] >= 0 || fold.hierarchy.groupOf[node] < 0) return;
    this.setLayer(fold.hierarchy.groupOf[node], true);
  }

  /**
   * Lays the folded graph out with another set of expanded layers, keeping what was under the view's anchor
   * where it was; the selection follows its node (into the layer now holding it) or, for an expanded
   * layer, moves to its first member.
   */
  private refold(expanded: Set<number>): void {
    const scene = this.current?.scene;
    const fold = scene?.fold;
    if (!scene || !fold) return;
    const path = scene.graph.path;
    const anchor = this.viewAnchor();
    const selected = this.identity(this.selected);
    const match = this.matchIndex >= 0 ? this.identity(this.matches[this.matchIndex]) : undefined;
    const next = this.layOutFolded(scene.graph, expanded);
    this.host.state.expanded = { ...(this.host.state.expanded ?? {}), [path]: [...expanded].filter((g) => g > 0).map((g) => fold.hierarchy.groups[g].key) };
    this.shown.set(path, next);
    this.current = next;
    this.renderer?.setScene(next.scene);
    this.overview?.setScene(next.scene);
    this.computeFills();
    if (this.overlays.length) this.updateLegend();
    this.selected = selected ? this.boxFor(next.scene, selected) : -1;
    this.host.state.selected = this.selected;
    this.restoreAnchor(anchor);
    // The selection moved into a layer just opened (its first member): bring that into view.
    if (this.selected >= 0 && JSON.stringify(this.identity(this.selected)) !== JSON.stringify(selected)) this.reveal(this.selected);
    // The matches again, in the new boxes (the current one kept; the other graphs' are unchanged).
    if (this.query) this.localMatches(match ? this.boxFor(next.scene, match) : -1);
    this.updateFoldControls();
    this.updateSide();
    this.updateStatus();
    this.host.save();
    this.requestRender();
  }

  /** What box b stands for, to find it again after a re-layout. */
  private identity(b: number): Identity | undefined {
    const scene = this.current?.scene;
    const box = b >= 0 ? scene?.boxes[b] : undefined;
    if (!scene || !box) return undefined;
    if (box.kind === 'node') return { node: box.node };
    if (box.kind === 'group') return { group: scene.fold!.hierarchy.groups[box.group].key };
    return { value: box.value };
  }

  /** The box standing for `id` in `scene`: a node's own box or its collapsed layer's; an expanded layer's first member. */
  private boxFor(scene: Scene, id: Identity): number {
    if ('value' in id) return scene.boxes.findIndex((box) => box.kind !== 'node' && box.kind !== 'group' && box.value === id.value);
    const fold = scene.fold;
    if ('node' in id) return fold ? fold.unitOfNode[id.node] : scene.boxOfNode[id.node];
    // A layer in a graph now drawn flat: its first node.
    const hierarchy = fold?.hierarchy ?? this.folds.get(scene.graph.path)?.hierarchy;
    const g = hierarchy ? hierarchy.groups.findIndex((x) => x.key === id.group) : -1;
    if (g < 0 || !hierarchy) return -1;
    if (!fold) return scene.boxOfNode[hierarchy.groups[g].first] ?? -1;
    const own = scene.boxes.findIndex((box) => box.kind === 'group' && box.group === g);
    return own >= 0 ? own : fold.unitOfNode[fold.hierarchy.groups[g].first] ?? -1;
  }

  private updateFoldControls(): void {
    const scene = this.current?.scene;
    this.layersToggle.checked = !!scene?.fold;
    this.foldButtons.hidden = !scene?.fold;
  }

  /** The expanded layer whose title band is at (x, y), or -1. */
  private frameAt(x: number, y: number): number {
    const frames = this.current?.scene.frames ?? [];
    // Innermost first: frames are listed outside in.
    for (let i = frames.length - 1; i >= 0; i--) {
      const f = frames[i];
      if (x >= f.x && x <= f.x + f.w && y >= f.y && y <= f.y + FRAME.header) return f.group;
    }
    return -1;
  }

  /** The graph shown and its scene (for tests and the benchmark). */
  get scene(): Scene | undefined {
    return this.current?.scene;
  }

  // -------------------------------------------------------------------------------------------------
  // Viewport

  private measure(): boolean {
    const rect = this.canvas.getBoundingClientRect();
    const w = Math.max(0, Math.round(rect.width));
    const hgt = Math.max(0, Math.round(rect.height));
    const dpr = window.devicePixelRatio || 1;
    const changed = w !== this.width || hgt !== this.height || this.canvas.width !== Math.round(w * dpr);
    this.width = w;
    this.height = hgt;
    if (changed) {
      this.canvas.width = Math.max(1, Math.round(w * dpr));
      this.canvas.height = Math.max(1, Math.round(hgt * dpr));
      const o = this.overviewCanvas.getBoundingClientRect();
      this.overviewCanvas.width = Math.max(1, Math.round(o.width * dpr));
      this.overviewCanvas.height = Math.max(1, Math.round(o.height * dpr));
    }
    return changed;
  }

  private fitScale(): number {
    const scene = this.current?.scene;
    if (!scene || this.width === 0 || this.height === 0) return 1;
    return Math.min(this.width / scene.width, this.height / scene.height) * 0.96;
  }

  private initialView(): View {
    const scene = this.current?.scene;
    if (!scene) return { cx: 0, cy: 0, scale: 1 };
    const fit = this.fitScale();
    if (fit >= FIT_FIRST_SCALE) return { cx: scene.width / 2, cy: scene.height / 2, scale: Math.min(fit, 1.25) };
    // Too big to read when fitted: 100% on the top of the graph, where its inputs are (the overview
    // shows the whole of it; 0 fits it).
    const scale = 1;
    let cx = scene.width / 2;
    if (scene.width * scale > this.width) {
      const first = scene.boxes.find((b) => b.kind === 'input') ?? scene.boxes[0];
      if (first) cx = Math.min(scene.width - this.width / 2 / scale, Math.max(this.width / 2 / scale, first.x + first.w / 2));
    }
    return { cx, cy: this.height / 2 / scale, scale };
  }

  fit(): void {
    const scene = this.current?.scene;
    if (!scene) return;
    this.view = { cx: scene.width / 2, cy: scene.height / 2, scale: clamp(this.fitScale(), MIN_SCALE, MAX_SCALE) };
    this.viewChanged();
  }

  zoomBy(factor: number, atX = this.width / 2, atY = this.height / 2): void {
    const v = this.view;
    const scale = clamp(v.scale * factor, Math.min(MIN_SCALE, this.fitScale() * 0.5), MAX_SCALE);
    // Keep the layout point under (atX, atY) where it is.
    const wx = v.cx + (atX - this.width / 2) / v.scale;
    const wy = v.cy + (atY - this.height / 2) / v.scale;
    this.view = { cx: wx - (atX - this.width / 2) / scale, cy: wy - (atY - this.height / 2) / scale, scale };
    this.viewChanged();
  }

  panBy(dx: number, dy: number): void {
    this.view = { ...this.view, cx: this.view.cx + dx / this.view.scale, cy: this.view.cy + dy / this.view.scale };
    this.viewChanged();
  }

  /** Sets the view (layout units at the centre, zoom) and paints at once; returns the frame's time (benchmark). */
  setView(view: View): number {
    this.view = { ...view };
    this.renderNow();
    return this.lastFrame.ms;
  }

  get currentView(): View {
    return { ...this.view };
  }

  private viewChanged(): void {
    this.saveViewport();
    this.requestRender();
    this.updateStatusSoon();
  }

  /** The selected box (else the one nearest the view's centre), by what it stands for, with its top centre's offset from the view's centre. */
  private viewAnchor(): { id: Identity; dx: number; dy: number; scale: number } | undefined {
    const scene = this.current?.scene;
    if (!scene || !scene.boxes.length) return undefined;
    let b = this.selected;
    if (b < 0) {
      let best = Infinity;
      scene.boxes.forEach((box, i) => {
        const d = (box.x + box.w / 2 - this.view.cx) ** 2 + (box.y + box.h / 2 - this.view.cy) ** 2;
        if (d < best) { best = d; b = i; }
      });
    }
    const box = scene.boxes[b];
    return { id: this.identity(b)!, dx: box.x + box.w / 2 - this.view.cx, dy: box.y - this.view.cy, scale: this.view.scale };
  }

  /** Puts the anchor's box (or the layer now holding it, or an expanded layer's frame) where it was on screen. */
  private restoreAnchor(anchor: ReturnType<GraphView['viewAnchor']>): void {
    const scene = this.current?.scene;
    if (!scene || !anchor) return;
    let rect: { x: number; y: number; w: number } | undefined;
    if ('group' in anchor.id && scene.fold) {
      const key = anchor.id.group;
      const g = scene.fold.hierarchy.groups.findIndex((x) => x.key === key);
      rect = scene.frames.find((f) => f.group === g);
    }
    if (!rect) {
      const b = this.boxFor(scene, anchor.id);
      rect = b >= 0 ? scene.boxes[b] : undefined;
    }
    if (!rect) return;
    this.view = { cx: rect.x + rect.w / 2 - anchor.dx, cy: rect.y - anchor.dy, scale: anchor.scale };
    this.saveViewport();
    this.requestRender();
  }

  private saveViewport(): void {
    if (!this.current) return;
    const v: Viewport = { cx: this.view.cx, cy: this.view.cy, scale: this.view.scale };
    this.host.state.viewports[this.host.state.path] = v;
    this.host.saveSoon();
  }

  /** Brings box `b` into view: the smallest pan that shows it with a margin, or centred when it is far. */
  private reveal(b: number): void {
    const scene = this.current?.scene;
    if (!scene || b < 0) return;
    const box = scene.boxes[b];
    let scale = this.view.scale;
    if (scale < READABLE_SCALE) scale = Math.min(1, Math.max(READABLE_SCALE, this.fitScale()));
    const view = { ...this.view, scale };
    const [x0, y0, x1, y1] = Renderer.worldRect(view, this.width, this.height);
    const margin = 40 / scale;
    const far = box.x + box.w < x0 - (x1 - x0) || box.x > x1 + (x1 - x0) || box.y + box.h < y0 - (y1 - y0) || box.y > y1 + (y1 - y0);
    if (far || box.w + 2 * margin > x1 - x0 || box.h + 2 * margin > y1 - y0) {
      view.cx = box.x + box.w / 2;
      view.cy = box.y + box.h / 2;
    } else {
      if (box.x < x0 + margin) view.cx -= x0 + margin - box.x;
      else if (box.x + box.w > x1 - margin) view.cx += box.x + box.w - (x1 - margin);
      if (box.y < y0 + margin) view.cy -= y0 + margin - box.y;
      else if (box.y + box.h > y1 - margin) view.cy += box.y + box.h - (y1 - margin);
    }
    if (view.cx === this.view.cx && view.cy === this.view.cy && view.scale === this.view.scale) return;
    this.view = view;
    this.saveViewport();
  }

  // -------------------------------------------------------------------------------------------------
  // Painting

  requestRender(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.renderNow();
    });
  }

  renderNow(): void {
    if (!this.renderer || !this.current || !this.visible) return;
    this.measure();
    if (this.width === 0 || this.height === 0) return;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    this.lastFrame = this.renderer.draw(ctx, this.width, this.height, dpr, this.view, this.palette, {
      selected: this.selected,
      matches: this.matchSet,
      current: this.matchIndex >= 0 ? this.matches[this.matchIndex] : -1,
      fills: this.overlayOn ? this.fills : null,
    });
    this.keepOverviewOffSelection();
    const octx = this.overviewCanvas.getContext('2d');
    const o = this.overviewCanvas.getBoundingClientRect();
    if (octx && this.overview && o.width > 0 && !this.overviewCanvas.hidden) this.overview.draw(octx, o.width, o.height, dpr, this.palette, this.view, this.width, this.height);
    this.frameTimes.push(this.lastFrame.ms);
    if (this.frameTimes.length > 240) this.frameTimes.splice(0, this.frameTimes.length - 240);
  }

  /** The overview moves to the other bottom corner when the selected box is under it. */
  private keepOverviewOffSelection(): void {
    const scene = this.current?.scene;
    if (!scene || this.selected < 0 || this.overviewCanvas.hidden) return;
    const box = scene.boxes[this.selected];
    const s = this.view.scale;
    const left = (box.x - this.view.cx) * s + this.width / 2, top = (box.y - this.view.cy) * s + this.height / 2;
    const right = left + box.w * s, bottom = top + box.h * s;
    const ow = this.overviewCanvas.offsetWidth, oh = this.overviewCanvas.offsetHeight, m = 10;
    const under = (x0: number) => right > x0 && left < x0 + ow && bottom > this.height - m - oh && top < this.height - m;
    const onLeft = this.overviewCanvas.classList.contains('left');
    if (!onLeft && under(this.width - m - ow)) this.overviewCanvas.classList.add('left');
    else if (onLeft && under(m) && !under(this.width - m - ow)) this.overviewCanvas.classList.remove('left');
  }

  /** The tab became visible or hidden. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) {
      this.measure();
      this.renderNow();
    }
  }

  /** The theme changed: colours are read again. */
  themeChanged(): void {
    this.palette = readPalette();
    this.overview?.invalidate();
    this.updateSide();
    this.requestRender();
  }

  private updateStatus(): void {
    const shown = this.current;
    if (!shown) return;
    const g = shown.scene.graph;
    const parts = [
      `${formatCount(g.nodes.length)} nodes`,
      `${formatCount(shown.scene.edges.length)} edges`,
      `laid out in ${Math.round(shown.layoutMs)} ms${shown.inline ? ' (on the UI thread)' : ''}`,
      `zoom ${Math.round(this.view.scale * 100)}%`,
    ];
    if (shown.scene.hiddenConstants > 0) parts.splice(2, 0, `${formatCount(shown.scene.hiddenConstants)} Constants shown as weights`);
    if (shown.scene.fold) {
      const folded = shown.scene.boxes.reduce((n, b) => n + (b.kind === 'group' ? 1 : 0), 0);
      parts.splice(1, 1, `${formatCount(folded)} ${folded === 1 ? 'layer' : 'layers'} folded, ${formatCount(shown.scene.frames.length)} open`);
    }
    this.status.textContent = parts.join(' · ');
  }

  private statusTimer: number | undefined;
  private updateStatusSoon(): void {
    if (this.statusTimer !== undefined) return;
    this.statusTimer = window.setTimeout(() => {
      this.statusTimer = undefined;
      this.updateStatus();
    }, 250);
  }

  private updateBreadcrumb(): void {
    const g = this.current?.scene.graph;
    if (!g) return;
    const list = h('ol', {});
    for (const a of g.ancestors) {
      const b = h('button', { type: 'button', class: 'link-button', title: `Back to ${a.label}` }, a.label);
      b.addEventListener('click', () => void this.open(a.path));
      list.append(h('li', {}, b));
    }
    list.append(h('li', {}, h('span', { 'aria-current': 'page', class: 'crumb-current' }, g.label || g.name || g.path)));
    this.breadcrumb.replaceChildren(list);
    this.canvas.setAttribute('aria-label', `Graph ${g.label || g.name || g.path}: ${g.nodes.length} nodes`);
  }

  private updateSide(): void {
    const scene = this.current?.scene;
    if (!scene) return;
    this.side.show(scene, this.selected, this.host.weights(), this.host.statsNow(), this.palette);
    // Statistics of the selected node's weights arrive later: show them when they do.
    if (this.selected >= 0 && !this.host.statsNow()) {
      const box = scene.boxes[this.selected];
      if (box.kind === 'node' && box.weights.length > 0) {
        const selected = this.selected;
        void this.host.stats().then(
          () => {
            if (this.selected === selected && this.current?.scene === scene) this.side.show(scene, selected, this.host.weights(), this.host.statsNow(), this.palette);
          },
          () => undefined,
        );
      }
    }
  }

  private toggleSide(): void {
    this.host.state.sidePanel = !this.host.state.sidePanel;
    this.side.element.hidden = !this.host.state.sidePanel;
    this.resizer.hidden = !this.host.state.sidePanel;
    this.host.save();
    this.requestRender();
  }

  private toggleOverview(): void {
    this.host.state.overview = this.host.state.overview === false;
    this.overviewCanvas.hidden = !this.host.state.overview;
    this.host.save();
    this.requestRender();
  }

  /** The side panel's width: between 200 px and 60% of the editor, the graph keeping the rest. */
  private setSideWidth(px: number): void {
    const total = this.element.getBoundingClientRect().width || window.innerWidth;
    const w = Math.round(Math.max(200, Math.min(px, total * 0.6)));
    // A width the user chose may take up to 60% (the default keeps to 45%).
    Object.assign(this.side.element.style, { width: `${w}px`, maxWidth: '60%' });
    this.host.state.sideWidth = w;
    this.resizer.setAttribute('aria-valuenow', String(w));
    this.host.saveSoon();
    this.requestRender();
  }

  /** A separator to drag (or move with the arrow keys) between the graph and the side panel. */
  private makeResizer(): HTMLElement {
    const r = h('div', { class: 'side-resizer', role: 'separator', 'aria-orientation': 'vertical', 'aria-label': 'Side panel width', tabindex: '0', title: 'Drag to resize the side panel' });
    r.hidden = !this.host.state.sidePanel;
    r.addEventListener('pointerdown', (event) => {
      event.preventDefault();
      r.setPointerCapture(event.pointerId);
      const right = (this.element.querySelector('.graph-main') as HTMLElement | null)?.getBoundingClientRect().right ?? window.innerWidth;
      const move = (e: PointerEvent) => { if (e.buttons === 0) up(); else this.setSideWidth(right - e.clientX); };
      // However the drag ends (released, cancelled, the capture lost), the listeners go.
      const up = () => {
        for (const [type, f] of [['pointermove', move], ['pointerup', up], ['pointercancel', up], ['lostpointercapture', up]] as const) r.removeEventListener(type, f as EventListener);
        this.host.save();
      };
      r.addEventListener('pointermove', move);
      r.addEventListener('pointerup', up);
      r.addEventListener('pointercancel', up);
      r.addEventListener('lostpointercapture', up);
    });
    r.addEventListener('keydown', (event) => {
      if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
      event.preventDefault();
      this.setSideWidth(this.side.element.getBoundingClientRect().width + (event.key === 'ArrowLeft' ? 24 : -24));
    });
    return r;
  }

  // -------------------------------------------------------------------------------------------------
  // Selection

  select(b: number, reveal = true): void {
    const scene = this.current?.scene;
    if (!scene) return;
    this.selected = b;
    this.host.state.selected = b;
    this.host.save();
    if (reveal && b >= 0) this.reveal(b);
    this.updateSide();
    this.updateStatus();
    this.requestRender();
    if (b >= 0) {
      const box = scene.boxes[b];
      const what = box.kind === 'node' ? `${box.title} ${scene.graph.nodes[box.node].name}`.trim()
        : box.kind === 'group' ? `Layer ${box.title}, ${box.subtitle}; Enter expands it` : `${box.kind} ${box.title}`;
      this.host.announce(`${what}. ${scene.edgesIn[b].length} in, ${scene.edgesOut[b].length} out.`);
    }
  }

  /** Selects a node of the graph shown by name (first match) or index; for the tests' probes. */
  selectNode(name?: string, index?: number): NodePanelInfo {
    const scene = this.current?.scene;
    if (!scene) throw new Error('No graph is shown.');
    let node = index ?? -1;
    if (node < 0 && name !== undefined) node = scene.graph.nodes.findIndex((n) => n.name === name);
    if (node < 0 || node >= scene.graph.nodes.length) throw new Error(`The graph has no node ${name ?? index}.`);
    // Inside a collapsed layer: open the layers around it first.
    this.expandTo(node);
    const b = this.current!.scene.boxOfNode[node];
    if (b < 0) throw new Error(`Node ${name ?? index} is a Constant shown as a weight of its consumers.`);
    this.select(b);
    this.renderNow();
    return this.side.read();
  }

  private nodeMenu: HTMLElement | undefined;

  /** A node's actions at (x, y): copy its name, its weights, its producer and consumer, its subgraphs. */
  private openNodeMenu(b: number, x: number, y: number): void {
    const scene = this.current?.scene;
    const box = scene?.boxes[b];
    if (!scene || !box || box.kind !== 'node') return;
    this.closeNodeMenu();
    const node = scene.graph.nodes[box.node];
    const values = scene.graph.values;
    const weight = node.inputs.map((v) => values[v]).find((v) => v && isWeight(v) && v.weight !== undefined);
    const fed = node.inputs.find((v) => v >= 0 && scene.producer[v] !== undefined && scene.producer[v] >= 0);
    const feeds = node.outputs.find((v) => v >= 0 && (scene.consumers[v]?.length ?? 0) > 0);
    const items: [string, () => void][] = [
      [`Copy name${node.name ? '' : ' (none: copy the op type)'}`, () => void navigator.clipboard?.writeText(node.name || node.op).catch(() => { /* no clipboard here */ })],
      ...(weight ? [[`Show ${weight.name} in Weights`, () => this.host.showWeight(weight.weight!)] as [string, () => void]] : []),
      ...(fed !== undefined ? [['Go to its producer', () => this.goToValue(fed, 'producer')] as [string, () => void]] : []),
      ...(feeds !== undefined ? [['Go to its consumer', () => this.goToValue(feeds, 'consumer')] as [string, () => void]] : []),
      ...node.subgraphs.map((sg) => [`Open ${sg.attribute}`, () => void this.open(sg.path)] as [string, () => void]),
    ];
    this.showMenu(`${node.op} ${node.name}`, items, x, y);
  }

  /** A menu of actions at (x, y) in the page: arrow keys move in it, Escape or a click elsewhere closes it. */
  private showMenu(label: string, items: [string, () => void][], x: number, y: number): void {
    this.closeNodeMenu();
    const menu = h('div', { class: 'node-menu', role: 'menu', 'aria-label': label, id: 'node-menu' });
    for (const [text, act] of items) {
      const item = h('button', { type: 'button', role: 'menuitem', class: 'node-menu-item' }, text);
      item.addEventListener('click', () => { this.closeNodeMenu(); act(); });
      menu.append(item);
    }
    menu.addEventListener('keydown', (event) => {
      const list = Array.from(menu.querySelectorAll<HTMLElement>('[role=menuitem]'));
      const at = list.indexOf(document.activeElement as HTMLElement);
      if (event.key === 'Escape') { event.preventDefault(); this.closeNodeMenu(); this.canvas.focus(); }
      else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        list[(at + (event.key === 'ArrowDown' ? 1 : list.length - 1)) % list.length]?.focus();
      }
    });
    const stage = this.stage.getBoundingClientRect();
    menu.style.left = `${Math.max(0, Math.min(x - stage.left, stage.width - 220))}px`;
    menu.style.top = `${Math.max(0, Math.min(y - stage.top, stage.height - 30 * items.length))}px`;
    this.stage.append(menu);
    this.nodeMenu = menu;
    (menu.firstElementChild as HTMLElement | null)?.focus();
    // A click anywhere else closes it.
    setTimeout(() => document.addEventListener('pointerdown', this.closeOnOutside, { once: true }), 0);
  }

  /** The export menu under its toolbar button: the view or the whole graph, as PNG or SVG. */
  private openExportMenu(anchor: HTMLElement): void {
    const r = anchor.getBoundingClientRect();
    this.showMenu('Save the graph as a picture', [
      ['Save the view as PNG…', () => void this.saveImage('view')],
      ['Save the whole graph as PNG…', () => void this.saveImage('png')],
      ['Save the whole graph as SVG…', () => void this.saveImage('svg')],
    ], Math.max(0, r.right - 220), r.bottom + 2);
  }

  /** Draws the picture and hands it to the extension, which asks where to save it. */
  async saveImage(what: 'view' | 'png' | 'svg'): Promise<string | null> {
    const scene = this.current?.scene;
    const save = this.host.saveImage;
    if (!scene || !save) return null;
    const stem = `${this.host.fileStem}${scene.graph.path === 'main' ? '' : `-${scene.graph.path.replace(/^main\//, '').replace(/[^A-Za-z0-9._-]+/g, '_')}`}`;
    try {
      if (what === 'svg') {
        const ctx = document.createElement('canvas').getContext('2d');
        if (ctx) ctx.font = `10px ${this.palette.monoFont}`;
        const svg = sceneSvg(scene, this.palette, (t) => (ctx ? ctx.measureText(t).width : t.length * 6));
        return (await save('svg', `${stem}.svg`, svg)).path;
      }
      const png = what === 'view' ? this.canvas.toDataURL('image/png') : this.wholeGraphPng(scene);
      // A canvas the browser could not make gives "data:," (no image): say so rather than save nothing.
      if (!png.startsWith('data:image/png;base64,')) throw new Error('the browser could not draw a picture that large; save the view, or SVG');
      return (await save('png', `${stem}${what === 'view' ? '-view' : ''}.png`, png.slice(png.indexOf(',') + 1))).path;
    } catch (err) {
      this.status.textContent = `Could not save the picture: ${errorText(err)}`;
      return null;
    }
  }

  /** The whole graph drawn at full detail, scaled down only as far as a canvas allows (16,384 px a side, 100 Mpx). */
  private wholeGraphPng(scene: Scene): string {
    const scale = Math.min(1, 16384 / scene.width, 16384 / scene.height, Math.sqrt(100e6 / (scene.width * scene.height)));
    const w = Math.max(1, Math.floor(scene.width * scale)), hgt = Math.max(1, Math.floor(scene.height * scale));
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = hgt;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas here');
    new Renderer(scene).draw(ctx, w, hgt, 1, { cx: scene.width / 2, cy: scene.height / 2, scale }, this.palette, { selected: -1, matches: new Set(), current: -1, fills: this.overlayOn ? this.fills : null });
    return canvas.toDataURL('image/png');
  }

  private readonly closeOnOutside = (event: PointerEvent): void => {
    if (this.nodeMenu && !this.nodeMenu.contains(event.target as Node)) this.closeNodeMenu();
    else if (this.nodeMenu) document.addEventListener('pointerdown', this.closeOnOutside, { once: true });
  };

  private closeNodeMenu(): void {
    this.nodeMenu?.remove();
    this.nodeMenu = undefined;
  }

  private goToValue(value: number, direction: 'producer' | 'consumer'): void {
    const scene = this.current?.scene;
    if (!scene) return;
    const target = direction === 'producer' ? scene.producer[value] : scene.consumers[value]?.[0];
    if (target !== undefined && target >= 0) this.select(target);
  }

  /** Arrow keys: along the data flow (up, down) or across a row (left, right). */
  private move(key: string): void {
    const scene = this.current?.scene;
    if (!scene || scene.boxes.length === 0) return;
    const s = this.selected;
    if (s < 0) {
      this.select(0);
      return;
    }
    const box = scene.boxes[s];
    const centre = box.x + box.w / 2;
    const nearest = (candidates: number[]) => {
      let best = -1;
      let bestD = Infinity;
      for (const c of candidates) {
        const b = scene.boxes[c];
        const d = Math.abs(b.x + b.w / 2 - centre);
        if (d < bestD) {
          bestD = d;
          best = c;
        }
      }
      return best;
    };
    let next = -1;
    if (key === 'ArrowDown') next = nearest(scene.edgesOut[s].map((e) => scene.edges[e].to));
    else if (key === 'ArrowUp') next = nearest(scene.edgesIn[s].map((e) => scene.edges[e].from));
    else {
      const layer = scene.layers[box.rank] ?? [];
      const at = layer.indexOf(s);
      next = layer[at + (key === 'ArrowRight' ? 1 : -1)] ?? -1;
    }
    if (next >= 0) this.select(next);
  }

  /**
   * Opens a node's subgraph; a node with several (an If's two branches) moves the focus to the side panel's
   * list of them instead, so that each is one key away.
   */
  private openSubgraphOf(node: number): void {
    const subgraphs = this.current?.scene.graph.nodes[node]?.subgraphs ?? [];
    if (subgraphs.length === 1) { void this.open(subgraphs[0].path); return; }
    const first = this.side.element.querySelector<HTMLElement>('.side-subgraphs vscode-button, .side-subgraphs button');
    if (first) {
      first.focus();
      this.host.announce(`${subgraphs.length} subgraphs: ${subgraphs.map((s) => s.attribute).join(', ')}. Tab between them, Enter opens one.`);
    } else void this.open(subgraphs[0].path);
  }

  // -------------------------------------------------------------------------------------------------
  // Find

  openFind(): void {
    this.findBar.hidden = false;
    focusField(this.findField);
  }

  closeFind(): void {
    this.findBar.hidden = true;
    this.findToken++;
    this.setElsewhere([], 0);
    this.matches = [];
    this.matchSet = new Set();
    this.matchIndex = -1;
    this.query = '';
    this.findField.value = '';
    this.requestRender();
    this.canvas.focus();
  }

  private setQuery(value: string): void {
    this.query = value;
    this.runFind(true);
  }

  /**
   * Finds `query` and goes to the first match, in the graph shown or, when it has none, in the first other
   * graph that has one (for the tests' probes: resolves once the model-wide find answered).
   */
  async find(query: string): Promise<GraphViewInfo> {
    this.findBar.hidden = false;
    this.findField.value = query;
    this.query = query;
    this.runFind(true, 0);
    if (this.matchIndex >= 0) this.goToMatch(this.matchIndex, true);
    await this.elsewhereAnswered;
    if (this.matches.length === 0 && this.elsewhere.length > 0) await this.goElsewhere(this.elsewhere[0]);
    this.renderNow();
    return this.info();
  }

  private elsewhereAnswered: Promise<void> = Promise.resolve();
  private settleElsewhere: (() => void) | undefined;

  /** Asks for the matches in the other graphs (after `delay` ms: typing restarts it). */
  private findElsewhere(delay: number): void {
    const token = ++this.findToken;
    clearTimeout(this.findTimer);
    // A search superseded before it ran still settles (find() may be waiting on it).
    this.settleElsewhere?.();
    this.setElsewhere([], 0);
    const query = this.query.trim();
    const ask = this.host.findInModel;
    if (!query || !ask) { this.elsewhereAnswered = Promise.resolve(); return; }
    this.elsewhereAnswered = new Promise((resolve) => {
      this.settleElsewhere = resolve;
      this.findTimer = setTimeout(() => {
        ask(query).then((r) => {
          if (token !== this.findToken) return;
          const here = this.current?.scene.graph.path;
          const others = r.matches.filter((m) => m.graph !== here);
          // The total counts every graph: those shown here are the local matches.
          this.setElsewhere(others, r.total - (r.matches.length - others.length));
        }, () => { /* find elsewhere is a help: the local matches stand */ }).finally(resolve);
      }, delay);
    });
  }

  private setElsewhere(matches: FindMatch[], total: number): void {
    this.elsewhere = matches;
    this.elsewhereTotal = total;
    const shown = matches.slice(0, 50);
    this.elsewhereList.replaceChildren(...shown.map((m) => {
      // The op and the graph first: exporters' node names repeat the path and run long.
      const b = h('button', { type: 'button', class: 'link-button', role: 'listitem', title: `${m.name || m.op}: open ${m.graph} and select it` },
        m.op, h('span', { class: 'muted' }, ` in ${m.graph.replace(/^main\//, '')}`), m.name ? ` ${m.name}` : '');
      b.addEventListener('click', () => void this.goElsewhere(m));
      return b;
    }), ...(total > shown.length ? [h('span', { class: 'muted' }, `and ${formatCount(total - shown.length)} more`)] : []));
    this.elsewhereList.hidden = matches.length === 0;
    this.updateFindCount();
  }

  /** Opens the graph of a match elsewhere and selects it (a Constant node shows as its consumers' weight). */
  private async goElsewhere(m: FindMatch): Promise<void> {
    await this.open(m.graph);
    try { this.selectNode(undefined, m.node); } catch { /* a Constant: shown inside the node that reads it */ }
  }

  private runFind(go: boolean, delay = 150): void {
    this.localMatches(-1);
    // Typing goes to the first match without opening layers (Enter and F3 do).
    if (go && this.matchIndex >= 0) this.goToMatch(0, false);
    this.findElsewhere(delay);
    this.requestRender();
  }

  /**
   * The matches of the query among the boxes of the graph shown, in reading order; `current` (a box)
   * stays the current match when it is one. A collapsed layer holding matches is one match.
   */
  private localMatches(current: number): void {
    const scene = this.current?.scene;
    const q = this.query.trim().toLowerCase();
    this.matches = [];
    this.hiddenMatches = new Map();
    if (scene && q) {
      const { graph } = scene;
      const hit = (s: string) => s.toLowerCase().includes(q);
      // A tensor is found where it is made: the node that outputs it, or the node that reads it as a weight.
      const nodeHit = (i: number) => {
        const n = graph.nodes[i];
        return hit(n.op) || hit(n.name) || n.outputs.some((v) => v >= 0 && hit(graph.values[v].name)) || n.inputs.some((v) => v >= 0 && isWeight(graph.values[v]) && hit(graph.values[v].name));
      };
      scene.boxes.forEach((box, b) => {
        if (box.kind === 'group') return;
        if (box.kind !== 'node' ? hit(graph.values[box.value].name) : nodeHit(box.node)) this.matches.push(b);
      });
      const fold = scene.fold;
      if (fold) {
        graph.nodes.forEach((_, i) => {
          const u = fold.unitOfNode[i];
          if (u < 0 || scene.boxOfNode[i] >= 0 || !nodeHit(i)) return;
          const seen = this.hiddenMatches.get(u);
          if (seen) seen.last = i;
          else { this.hiddenMatches.set(u, { first: i, last: i }); this.matches.push(u); }
        });
      }
      // In reading order: top to bottom, left to right.
      this.matches.sort((a, b) => scene.boxes[a].y - scene.boxes[b].y || scene.boxes[a].x - scene.boxes[b].x);
    }
    this.matchSet = new Set(this.matches);
    const at = this.matches.indexOf(current);
    this.matchIndex = at >= 0 ? at : this.matches.length > 0 ? 0 : -1;
    this.updateFindCount();
  }

  private step(direction: 1 | -1): void {
    if (this.matches.length === 0) {
      // Nothing here: the first match in another graph.
      if (this.elsewhere.length > 0) void this.goElsewhere(this.elsewhere[direction > 0 ? 0 : this.elsewhere.length - 1]);
      return;
    }
    // On a folded layer with matches (typing stopped there): open it, at its first (or last) match.
    const here = this.matches[this.matchIndex];
    if (this.matchIndex >= 0 && this.hiddenMatches.has(here) && this.selected === here) { this.goToMatch(this.matchIndex, true, direction); return; }
    this.goToMatch((this.matchIndex + direction + this.matches.length) % this.matches.length, true, direction);
  }

  /**
   * Selects match i. A collapsed layer with matches is opened (`open`) at its first matching node, or its
   * last when stepping backwards; without `open` the layer itself is selected.
   */
  private goToMatch(i: number, open: boolean, direction: 1 | -1 = 1): void {
    const box = this.current?.scene.boxes[this.matches[i]];
    const hidden = open ? this.hiddenMatches.get(this.matches[i]) : undefined;
    if (hidden && box) {
      const group = box.group;
      this.expandTo(hidden.first);
      // The layer's matches in reading order (its branches side by side): the first, or the last going back.
      const scene = this.current!.scene;
      const hierarchy = scene.fold!.hierarchy;
      this.localMatches(-1);
      const inside = this.matches.map((b, k) => [b, k] as const).filter(([b]) => {
        const x = scene.boxes[b];
        const g = x.kind === 'node' ? hierarchy.groupOf[x.node] : x.kind === 'group' ? hierarchy.groups[x.group].parent : -1;
        return g >= 0 && ancestry(hierarchy, g).includes(group);
      });
      i = inside.length ? inside[direction > 0 ? 0 : inside.length - 1][1] : Math.max(0, this.matches.indexOf(scene.boxOfNode[hidden.first]));
      // A match still folded deeper (a layer inside the layer) opens in turn.
      if (this.hiddenMatches.has(this.matches[i])) { this.goToMatch(i, true, direction); return; }
    }
    this.matchIndex = i;
    this.updateFindCount();
    this.select(this.matches[i]);
  }

  private updateFindCount(): void {
    // A folded layer with matches counts once (going to it opens it and counts again).
    const folded = this.hiddenMatches.size ? ` (${this.hiddenMatches.size} folded ${this.hiddenMatches.size === 1 ? 'layer' : 'layers'})` : '';
    const here = this.matches.length === 0 ? (this.query ? (this.elsewhereTotal ? 'None here' : 'No results') : '') : `${this.matchIndex + 1} of ${this.matches.length}${folded}`;
    this.findCount.textContent = this.elsewhereTotal ? `${here} · ${formatCount(this.elsewhereTotal)} in other graphs` : here;
  }

  // -------------------------------------------------------------------------------------------------
  // Reading back

  info(): GraphViewInfo {
    const scene = this.current?.scene;
    return {
      path: scene?.graph.path ?? this.host.state.path,
      breadcrumb: Array.from(this.breadcrumb.querySelectorAll('li'), (li) => li.textContent ?? ''),
      nodes: scene?.graph.nodes.length ?? 0,
      edges: scene?.edges.length ?? 0,
      drawnNodes: this.lastFrame.boxes,
      scale: this.view.scale,
      selected: this.selected >= 0 && scene ? scene.boxes[this.selected].node : -1,
      find: { query: this.query, matches: this.matches.length, current: this.matchIndex, elsewhere: this.elsewhereTotal },
      layoutMs: this.current?.layoutMs ?? 0,
      paintMs: this.firstPaintMs,
      overlay: this.overlays.length ? {
        label: this.overlays[this.active].label, on: this.overlayOn && this.fills !== null,
        nodes: this.fills ? this.fills.reduce((n, v) => n + (v ? 1 : 0), 0) : 0,
        worst: Array.from(this.side.element.querySelectorAll('#side-worst li button'), (b) => b.textContent ?? ''),
        offered: this.overlays.map((o) => o.label),
      } : null,
      layers: scene?.fold ? {
        collapsed: scene.boxes.filter((b) => b.kind === 'group').map((b) => scene.fold!.hierarchy.groups[b.group].label),
        expanded: scene.frames.map((f) => scene.fold!.hierarchy.groups[f.group].label),
        selected: this.selected >= 0 && scene.boxes[this.selected].kind === 'group' ? scene.fold.hierarchy.groups[scene.boxes[this.selected].group].label : null,
      } : null,
    };
  }

  /** The weight list came (after the first paint), or could not: the side panel lists a selected node's weights. */
  weightsArrived(): void {
    this.updateSide();
  }

  // -------------------------------------------------------------------------------------------------
  // Overlay

  /** Draws figures per node over the main graph, the first one shown (empty removes them), with a legend. */
  setOverlays(overlays: NodeOverlay[]): void {
    this.overlays = overlays;
    this.active = 0;
    this.overlayOn = true;
    this.showOverlay(0);
  }

  /** Shows the overlay of index `i` (by label: `overlay` probe, the legend's picker). */
  showOverlay(i: number): void {
    this.active = Math.max(0, Math.min(i, this.overlays.length - 1));
    this.side.setOverlay(this.overlays[this.active] ?? null);
    this.computeFills();
    this.updateLegend();
    this.updateSide();
    this.requestRender();
  }

  private computeFills(): void {
    const scene = this.current?.scene;
    const o = this.overlays[this.active];
    this.fills = null;
    this.scale = null;
    if (!scene || !o || scene.graph.path !== 'main') return;
    const byName = new Map(o.nodes.map((n) => [n.name, n]));
    // A collapsed layer's figure: its nodes' sum (time) or its worst node's; the scale then reaches the
    // largest figure drawn, so that a folded view still tells its layers apart.
    const layer = layerFigures(scene, byName, o.additive === true);
    let max = o.max;
    for (const f of layer.values()) max = Math.max(max, f.value);
    this.scale = { min: o.min, max };
    const span = max - o.min || 1;
    const colour = (f: { value: number; category?: number }) => (o.categories ? o.categories[f.category ?? -1]?.colour ?? null : heatColour((f.value - o.min) / span));
    this.fills = scene.boxes.map((box, b) => {
      if (box.kind === 'group') { const f = layer.get(b); return f ? colour(f) : null; }
      if (box.kind !== 'node') return null;
      const n = byName.get(scene.graph.nodes[box.node].name);
      return n ? colour(n) : null;
    });
  }

  private updateLegend(): void {
    const o = this.overlays[this.active];
    this.legend.hidden = !o;
    if (!o) { this.legend.replaceChildren(); return; }
    const toggle = checkbox({
      label: o.label, checked: this.overlayOn, id: 'graph-overlay', title: `Colour the nodes by ${o.label} (${o.title}); off: by op category`,
      onChange: (checked) => { this.overlayOn = checked; this.requestRender(); },
    });
    const picker = this.overlays.length > 1
      ? dropdown({ label: 'What the colours show', id: 'graph-overlay-pick', value: String(this.active), options: this.overlays.map((x, i) => ({ value: String(i), label: x.label })), onChange: (v) => this.showOverlay(Number(v)) })
      : null;
    let key: HTMLElement;
    if (o.categories) {
      key = h('span', { class: 'heat-scale' }, ...o.categories.map((c) => {
        const sw = h('span', { class: 'heat-swatch', 'aria-hidden': 'true' });
        sw.style.background = c.colour; // CSSOM, not a style attribute: allowed by the CSP.
        return h('span', { class: 'heat-category' }, sw, c.label);
      }));
    } else {
      const bar = h('span', { class: 'heat-bar', 'aria-hidden': 'true' });
      bar.style.background = `linear-gradient(to right, ${heatColour(0)}, ${heatColour(0.5)}, ${heatColour(1)})`;
      const fmt = (v: number) => `${Number(v.toPrecision(3))} ${o.unit}`.trim();
      const scale = this.scale ?? o;
      key = h('span', { class: 'heat-scale' }, h('span', {}, fmt(scale.min)), bar, h('span', {}, fmt(scale.max)));
    }
    this.legend.replaceChildren(...(picker ? [picker] : []), toggle, key, h('span', { class: 'muted heat-title' }, o.title));
  }

  focus(): void {
    this.canvas.focus();
  }

  dispose(): void {
    this.layouts.dispose();
  }

  // -------------------------------------------------------------------------------------------------
  // Events

  private attachEvents(): void {
    const canvas = this.canvas;
    let drag: { x: number; y: number; moved: boolean; id: number } | undefined;
    canvas.addEventListener('pointerdown', (event) => {
      if (event.button !== 0) return;
      canvas.focus();
      canvas.setPointerCapture(event.pointerId);
      drag = { x: event.clientX, y: event.clientY, moved: false, id: event.pointerId };
    });
    canvas.addEventListener('pointermove', (event) => {
      if (drag && drag.id === event.pointerId) {
        const dx = event.clientX - drag.x;
        const dy = event.clientY - drag.y;
        if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
        drag.moved = true;
        drag.x = event.clientX;
        drag.y = event.clientY;
        canvas.classList.add('panning');
        this.panBy(-dx, -dy);
        return;
      }
      this.hover(event);
    });
    const end = (event: PointerEvent) => {
      if (!drag || drag.id !== event.pointerId) return;
      const click = !drag.moved;
      drag = undefined;
      canvas.classList.remove('panning');
      if (click && event.type === 'pointerup') {
        const b = this.boxAtEvent(event);
        this.select(b, false);
      }
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    canvas.addEventListener('contextmenu', (event) => {
      const b = this.boxAtEvent(event);
      const box = b >= 0 ? this.current?.scene.boxes[b] : undefined;
      if (!box || box.kind !== 'node') return;
      event.preventDefault();
      this.select(b, false);
      this.openNodeMenu(b, event.clientX, event.clientY);
    });
    canvas.addEventListener('dblclick', (event) => {
      const b = this.boxAtEvent(event);
      const scene = this.current?.scene;
      if (!scene) return;
      if (b < 0) {
        // On an expanded layer's title band: fold it again.
        const [x, y] = this.toWorld(event);
        const g = this.frameAt(x, y);
        if (g > 0) this.setLayer(g, false);
        return;
      }
      const box = scene.boxes[b];
      if (box.kind === 'node' && box.hasSubgraphs) this.openSubgraphOf(box.node);
      else if (box.kind === 'group') this.setLayer(box.group, true);
      else this.zoomBy(2, event.offsetX, event.offsetY);
    });
    canvas.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault();
        const unit = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? this.height : 1;
        if (event.ctrlKey || event.metaKey) this.zoomBy(Math.exp(-event.deltaY * unit * 0.0025), event.offsetX, event.offsetY);
        else this.panBy(event.deltaX * unit, event.deltaY * unit);
      },
      { passive: false },
    );
    canvas.addEventListener('keydown', (event) => this.onKey(event));
    canvas.addEventListener('focus', () => {
      if (this.selected < 0 && this.current) this.status.textContent = 'Arrow keys move between nodes; Enter opens a subgraph.';
    });

    // The overview: click or drag to move the view there.
    let overviewDrag = false;
    const overviewMove = (event: PointerEvent) => {
      if (!this.overview) return;
      const [x, y] = this.overview.toWorld(event.offsetX, event.offsetY);
      this.view = { ...this.view, cx: x, cy: y };
      this.viewChanged();
    };
    this.overviewCanvas.addEventListener('pointerdown', (event) => {
      overviewDrag = true;
      this.overviewCanvas.setPointerCapture(event.pointerId);
      overviewMove(event);
    });
    this.overviewCanvas.addEventListener('pointermove', (event) => {
      if (overviewDrag) overviewMove(event);
    });
    this.overviewCanvas.addEventListener('pointerup', () => (overviewDrag = false));

    new ResizeObserver(() => {
      if (this.measure()) this.renderNow();
    }).observe(this.stage);
  }

  private onKey(event: KeyboardEvent): void {
    const pan = 80;
    if (event.key === 'ContextMenu' || (event.key === 'F10' && event.shiftKey)) {
      event.preventDefault();
      const scene = this.current?.scene;
      if (scene && this.selected >= 0) {
        const box = scene.boxes[this.selected];
        const r = this.canvas.getBoundingClientRect();
        this.openNodeMenu(this.selected, r.left + (box.x + box.w - this.view.cx) * this.view.scale + this.width / 2, r.top + (box.y + box.h / 2 - this.view.cy) * this.view.scale + this.height / 2);
      }
      return;
    }
    switch (event.key) {
      case 'ArrowUp':
      case 'ArrowDown':
      case 'ArrowLeft':
      case 'ArrowRight':
        event.preventDefault();
        if (event.altKey && event.key === 'ArrowUp') this.goUp();
        else if (event.shiftKey) {
          const dx = event.key === 'ArrowLeft' ? -pan : event.key === 'ArrowRight' ? pan : 0;
          const dy = event.key === 'ArrowUp' ? -pan : event.key === 'ArrowDown' ? pan : 0;
          this.panBy(dx, dy);
        } else this.move(event.key);
        return;
      case 'Enter': {
        event.preventDefault();
        const scene = this.current?.scene;
        if (!scene || this.selected < 0) return;
        const box = scene.boxes[this.selected];
        if (event.shiftKey && scene.fold) {
          // Fold the innermost layer around the selection.
          const g = box.kind === 'group' ? scene.fold.hierarchy.groups[box.group].parent : box.kind === 'node' ? scene.fold.hierarchy.groupOf[box.node] : 0;
          if (g > 0) this.setLayer(g, false);
        } else if (box.kind === 'group') this.setLayer(box.group, true);
        else if (box.kind === 'node' && box.hasSubgraphs) this.openSubgraphOf(box.node);
        else this.side.element.focus();
        return;
      }
      case 'Backspace':
        event.preventDefault();
        this.goUp();
        return;
      case '+':
      case '=':
        event.preventDefault();
        this.zoomBy(1.25);
        return;
      case '-':
      case '_':
        event.preventDefault();
        this.zoomBy(1 / 1.25);
        return;
      case '0':
        event.preventDefault();
        this.fit();
        return;
      case 'Home':
        event.preventDefault();
        this.select(0);
        return;
      case 'End':
        event.preventDefault();
        if (this.current) this.select(this.current.scene.boxes.length - 1);
        return;
      case 'F3':
        event.preventDefault();
        if (this.matches.length === 0) this.openFind();
        else this.step(event.shiftKey ? -1 : 1);
        return;
      case 'Escape':
        if (!this.findBar.hidden) this.closeFind();
        else this.select(-1, false);
        return;
      default:
    }
  }

  private goUp(): void {
    const g = this.current?.scene.graph;
    const parent = g?.ancestors[g.ancestors.length - 1];
    if (parent) void this.open(parent.path);
  }

  private toWorld(event: MouseEvent): [number, number] {
    return [this.view.cx + (event.offsetX - this.width / 2) / this.view.scale, this.view.cy + (event.offsetY - this.height / 2) / this.view.scale];
  }

  private boxAtEvent(event: MouseEvent): number {
    const scene = this.current?.scene;
    if (!scene) return -1;
    const [x, y] = this.toWorld(event);
    return boxAt(scene, x, y);
  }

  private hovered = -1;
  private hoveredFrame = -1;
  private hover(event: PointerEvent): void {
    const b = this.boxAtEvent(event);
    const frame = b < 0 ? this.frameAt(...this.toWorld(event)) : -1;
    if (b === this.hovered && frame === this.hoveredFrame) return;
    this.hovered = b;
    this.hoveredFrame = frame;
    const scene = this.current?.scene;
    if (scene?.fold && frame > 0) {
      this.canvas.classList.add('over-node');
      this.canvas.setAttribute('title', `${scene.fold.hierarchy.groups[frame].scope || scene.fold.hierarchy.groups[frame].label} (double-click to fold it)`);
      return;
    }
    if (!scene || b < 0) {
      this.canvas.removeAttribute('title');
      this.canvas.classList.remove('over-node');
      return;
    }
    const box = scene.boxes[b];
    this.canvas.classList.add('over-node');
    const text =
      box.kind === 'group' ? `Layer ${scene.fold!.hierarchy.groups[box.group].scope || box.title}: ${box.subtitle} (double-click or Enter to expand)`
      : box.kind === 'node'
        ? `${scene.graph.nodes[box.node].op}${scene.graph.nodes[box.node].name ? ` — ${scene.graph.nodes[box.node].name}` : ''}${box.hasSubgraphs ? (scene.graph.nodes[box.node].subgraphs.length > 1 ? ` (double-click to choose one of its ${scene.graph.nodes[box.node].subgraphs.length} subgraphs)` : ' (double-click to open its subgraph)') : ''}`
        : `${box.kind === 'input' ? 'Input' : box.kind === 'output' ? 'Output' : 'From the enclosing graph'}: ${scene.graph.values[box.value].name} ${box.subtitle}`;
    this.canvas.setAttribute('title', text);
  }
}

/** Text widths in layout units, per font role, cached. */
function measurer(palette: Palette): (text: string, role: 'title' | 'text' | 'mono') => number {
  const ctx = document.createElement('canvas').getContext('2d');
  const fonts = { title: `600 12px ${palette.font}`, text: `12px ${palette.font}`, mono: `10.5px ${palette.monoFont}` };
  const caches = { title: new Map<string, number>(), text: new Map<string, number>(), mono: new Map<string, number>() };
  let font = '';
  return (text, role) => {
    const cache = caches[role];
    let w = cache.get(text);
    if (w !== undefined) return w;
    if (!ctx) return text.length * 7;
    if (font !== role) {
      ctx.font = fonts[role];
      font = role;
    }
    w = ctx.measureText(text).width;
    cache.set(text, w);
    return w;
  };
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
