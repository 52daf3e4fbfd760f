// The model editor's webview: three tabs (Graph, Weights, Model) over one model.
//
// Protocol (src/protocol/webview.ts): post `ready` first; the extension answers with the document's
// state (`loading`, `summary` or `loadError`) and sends it again whenever it changes. `summary` carries
// the report and the main graph; the weight list (after the first paint), subgraphs, statistics and
// histograms are asked for by request. After the first complete paint, post `rendered` with what the DOM
// and the canvas show.
// Only UI choices (tab, selection, viewport, sort, filter) are kept with setState; the model's data is
// sent again by the extension (from its cache) when a hidden view comes back.
//
// Every string from the model is attacker-controlled: the DOM is built with createElement/textContent
// only (never innerHTML), and the canvas draws text with fillText.
import { formatBytes, formatOpsets } from '../src/protocol/format';
import { assertNever, parseJsonText, type ErrorData } from '../src/protocol/common';
import type { GraphData, WeightDetail, WeightSummary } from '../src/protocol/graph';
import {
  isExtensionMessage,
  type DocumentStateMessage,
  type EditorTab,
  type ExtensionToWebviewMessage,
  type LoadErrorMessage,
  type LoadingMessage,
  type NodeOverlay,
  type Probe,
  type ProbeMessage,
  type RenderedMessage,
  type SummaryMessage,
} from '../src/protocol/webview';
import { GraphView } from './graph/graphView';
import { summaryView } from './model/summaryView';
import { defaultState, errorText, flushState, loadState, post, request, saveState, saveStateNow, settle, type ViewState } from './rpc';
import { h } from './ui/dom';
import { button, registerToolkit, selectTab, tabs, type PanelsElement } from './ui/toolkit';
import { WeightsView } from './weights/weightsView';

registerToolkit();

const app = document.getElementById('app') ?? document.body.appendChild(document.createElement('main'));
const live = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', id: 'announcer' });
document.body.append(live);

let state: ViewState = loadState() ?? defaultState(document.title.replace(/^ONNX model: /, ''));
/** The last state, when it was a load error (probes answer with it). */
let lastLoadError: LoadErrorMessage | undefined;

/** The editor built for the current summary. */
interface Editor {
  panels: PanelsElement;
  graph: GraphView;
  /**
   * The weight list: asked for (askWeights) once the graph is painted, or sooner when the Weights tab is
   * shown; the extension has it made meanwhile. Then the list, or why there is none.
   */
  weights: Promise<WeightSummary[]>;
  askWeights(): void;
  weightList?: WeightSummary[] | string;
  /** The Weights tab's view once built (weightsOf builds it, when the tab is first shown), and what stands in its place until then. */
  weightsView?: WeightsView;
  weightsSlot: HTMLElement;
  makeWeights(list: WeightSummary[]): WeightsView;
  modelPane: HTMLElement;
  /** Resolves when the graph is laid out and painted for the first time. */
  ready: Promise<void>;
}
let editor: Editor | undefined;
/** Probes that arrived before the editor was built wait for it. */
let editorWaiters: (() => void)[] = [];
/** The figures per node the extension asked to draw (kept for the next editor: a reload rebuilds it). */
let overlays: NodeOverlay[] = [];

/** Weight statistics: one request per summary, shared by the graph's side panel and the weights view. */
let statsPromise: Promise<WeightSummary[]> | undefined;
let statsList: WeightSummary[] | undefined;
const details = new Map<string, Promise<WeightDetail>>();

function save(): void {
  saveStateNow(state);
}

function saveSoon(): void {
  saveState(state);
}

function announce(text: string): void {
  live.textContent = '';
  // A new text node each time, so the same message is read again.
  window.setTimeout(() => (live.textContent = text), 30);
}

// ---------------------------------------------------------------------------------------------------
// Messages from the extension

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (!isExtensionMessage(event.data)) return;
  const message: ExtensionToWebviewMessage = event.data;
  switch (message.type) {
    case 'loading':
    case 'summary':
    case 'loadError':
      paint(message);
      return;
    case 'response':
      settle(message.id, undefined, message.result);
      return;
    case 'responseError':
      settle(message.id, message.error);
      return;
    case 'probe':
      void answerProbe(message);
      return;
    case 'overlay':
      overlays = message.overlays;
      editor?.graph.setOverlays(overlays);
      return;
    default:
      assertNever(message, 'extension message');
  }
});

function paint(message: DocumentStateMessage): void {
  lastLoadError = message.type === 'loadError' ? message : undefined;
  switch (message.type) {
    case 'loading':
      // A reload keeps the editor on screen until the new model is there.
      if (!editor) renderLoading(message);
      else editor.panels.setAttribute('aria-busy', 'true');
      return;
    case 'summary':
      void renderEditor(message);
      return;
    case 'loadError':
      disposeEditor();
      renderError(message);
      post(readRendered());
      for (const waiter of editorWaiters) waiter();
      editorWaiters = [];
      return;
    default:
      assertNever(message, 'document state');
  }
}

// ---------------------------------------------------------------------------------------------------
// Views

function renderLoading(message: LoadingMessage): void {
  const size = message.fileBytes === undefined ? '' : ` (${formatBytes(message.fileBytes)})`;
  replace(
    h('header', { class: 'header' }, h('h1', { id: 'title' }, message.fileName)),
    h('p', { class: 'status', role: 'status', 'aria-live': 'polite' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), `Reading ${message.fileName}${size}…`),
  );
  app.setAttribute('aria-busy', 'true');
}

function renderError(message: LoadErrorMessage): void {
  const { error } = message;
  replace(
    h('header', { class: 'header' }, h('h1', { id: 'title' }, message.fileName), toolbar(false)),
    h(
      'section',
      { class: 'error', role: 'alert', 'aria-labelledby': 'error-heading', 'data-error-code': error.code },
      h('h2', { id: 'error-heading' }, `Could not read ${message.fileName}`),
      h('p', { class: 'error-message' }, error.message),
      h('p', { class: 'error-hint' }, message.hint),
      h('p', { class: 'error-code' }, 'Error code: ', h('code', {}, error.code), error.file ? ' · File: ' : '', error.file ? h('code', {}, error.file) : ''),
    ),
  );
}

async function renderEditor(message: SummaryMessage): Promise<void> {
  // The closures below keep what they read alive: never the message (its graph text is tens of MB).
  const { report: r, fileName, bins, weightCount } = message;
  const mainGraph = parseJsonText(message.graph);
  // The weight list is asked for once the graph is painted (or the Weights tab shown); the extension has
  // the job process make it meanwhile. The Weights tab is built when first shown.
  let askWeights: () => void = () => undefined;
  const weights = new Promise<void>((resolve) => (askWeights = resolve))
    .then(() => request('weightList', {}))
    .then((text) => parseJsonText(text));
  if (state.fileName !== fileName) state = defaultState(fileName);
  disposeEditor();
  statsPromise = undefined;
  statsList = undefined;
  details.clear();

  const stats = (): Promise<WeightSummary[]> => {
    if (!statsPromise) {
      const asked: Promise<WeightSummary[]> = request('weightStats', {}).then((list) => {
        // An answer for a model read before (a reload came in between) is not this one's.
        if (statsPromise !== asked) return list;
        statsList = list;
        editor?.weightsView?.statsArrived(list);
        return list;
      });
      statsPromise = asked;
      asked.catch(() => {
        if (statsPromise === asked) statsPromise = undefined;
      });
    }
    return statsPromise;
  };
  const graph = new GraphView(
    {
      weights: () => (editor?.weights === weights ? editor.weightList : undefined),
      stats,
      statsNow: () => statsList,
      loadGraph: (path: string): Promise<GraphData> => request('graph', { path }),
      findInModel: (query: string) => request('find', { query }),
      saveImage: (format, name, data) => request('saveImage', { format, name, data }),
      fileStem: fileName.replace(/\.onnx$/i, ''),
      showWeight: (index) => {
        switchTab('weights');
        const e = editor;
        // A list that could not be read says so in the tab.
        if (e) e.weights.then(() => weightsOf(e).select(index, true)).catch(() => undefined);
        e?.askWeights();
      },
      state: state.graph,
      save,
      saveSoon,
      announce,
    },
    mainGraph,
  );
  const makeWeights = (list: WeightSummary[]) => new WeightsView({
    weights: list,
    stats,
    statsNow: () => statsList,
    detail: (weight, bins, codes) => {
      const key = `${weight}/${bins}/${codes}`;
      let d = details.get(key);
      if (!d) {
        d = request('weightDetail', { weight, bins, ...(codes ? { codes } : {}) });
        details.set(key, d);
        d.catch(() => details.delete(key));
      }
      return d;
    },
    showNode: (path, node) => {
      switchTab('graph');
      void openGraphAndSelect(path, node);
    },
    defaultBins: bins,
    state: state.weights,
    save,
    saveSoon,
  });
  const weightsSlot = h('div', { class: 'weights-view' }, h('p', { class: 'status', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Reading the weight list…'));
  const modelPane = h('div', { class: 'model-pane', tabindex: '-1' }, summaryView(r));
  modelPane.addEventListener('scroll', () => {
    state.modelScrollTop = modelPane.scrollTop;
    saveSoon();
  });
  const panels = tabs(
    [
      { id: 'graph', label: 'Graph', panel: graph.element },
      { id: 'weights', label: `Weights (${weightCount})`, panel: weightsSlot },
      { id: 'model', label: 'Model', panel: modelPane },
    ],
    state.tab,
    (id) => switchTab(id as EditorTab, false),
  );
  let resolveReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  const shown: Editor = { panels, graph, weights, askWeights, weightsSlot, makeWeights, modelPane, ready };
  editor = shown;
  weights.then(
    (list) => {
      if (editor !== shown) return;
      shown.weightList = list;
      graph.weightsArrived();
      if (state.tab === 'weights') weightsOf(shown).setVisible(true);
    },
    (err: unknown) => {
      if (editor !== shown) return;
      const why = `Could not list the weights: ${errorText(err)}`;
      shown.weightList = why;
      graph.weightsArrived();
      shown.weightsSlot.replaceChildren(h('p', { class: 'error-message', role: 'alert' }, `${why}. Reload the model (the toolbar's Reload) to try again.`));
    },
  );
  if (overlays.length) graph.setOverlays(overlays);
  replace(
    h(
      'header',
      { class: 'header compact' },
      h('h1', { id: 'title' }, fileName),
      subtitle(r),
      toolbar(true),
    ),
    panels,
  );
  setVisibleTab(state.tab);
  const path = state.graph.path;
  try {
    await graph.open(path);
  } catch {
    // A subgraph of the last session may be gone (the file changed): show the main graph.
    if (path !== mainGraph.path) await graph.open(mainGraph.path);
  }
  if (editor?.graph !== graph) return;
  if (state.tab === 'model') modelPane.scrollTop = state.modelScrollTop;
  resolveReady();
  for (const waiter of editorWaiters) waiter();
  editorWaiters = [];
  post(readRendered());
  askWeights();
}

/** One line under the title: size, IR, the default opset (all opsets in the tooltip and the Model tab), producer. */
function subtitle(r: SummaryMessage['report']): HTMLElement {
  const others = Object.keys(r.opsets).filter((d) => d !== 'ai.onnx').length;
  const main = r.opsets['ai.onnx'] !== undefined ? `opset ${r.opsets['ai.onnx']}` : 'no ai.onnx opset';
  const text = [formatBytes(r.fileBytes), `IR ${r.irVersion}`, others > 0 ? `${main} + ${others} domain${others === 1 ? '' : 's'}` : main, `${r.producer} ${r.producerVersion}`.trim()]
    .filter(Boolean)
    .join(' · ');
  return h('p', { class: 'subtitle', title: formatOpsets(r.opsets) }, text);
}

/** The Weights tab's view, built the first time it is needed (after the weight list came). */
function weightsOf(e: Editor): WeightsView {
  if (!e.weightsView) {
    if (typeof e.weightList === 'string') throw new Error(e.weightList);
    if (!e.weightList) throw new Error('The weight list has not come yet.');
    e.weightsView = e.makeWeights(e.weightList);
    e.weightsSlot.replaceWith(e.weightsView.element);
  }
  return e.weightsView;
}

function disposeEditor(): void {
  editor?.graph.dispose();
  editor = undefined;
}

function switchTab(tab: EditorTab, select = true): void {
  state.tab = tab;
  save();
  if (editor && select) selectTab(editor.panels, tab);
  setVisibleTab(tab);
}

function setVisibleTab(tab: EditorTab): void {
  if (!editor) return;
  // The panels component switches after its own change event: wait for the layout to settle.
  requestAnimationFrame(() => {
    if (!editor) return;
    editor.graph.setVisible(tab === 'graph');
    if (tab !== 'weights') editor.weightsView?.setVisible(false);
    else if (Array.isArray(editor.weightList)) weightsOf(editor).setVisible(true);
    else editor.askWeights();
  });
}

async function openGraphAndSelect(path: string, node: number): Promise<void> {
  if (!editor) return;
  await editor.graph.open(path);
  editor.graph.selectNode(undefined, node);
  editor.graph.focus();
}

function toolbar(canShowMarkdown: boolean): HTMLElement {
  const bar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Model actions' });
  const status = h('span', { class: 'toolbar-status', role: 'status', 'aria-live': 'polite' });
  const run = async (b: HTMLElement, kind: 'reload' | 'openMarkdown') => {
    b.setAttribute('disabled', '');
    status.textContent = '';
    try {
      await request(kind, {});
    } catch (err) {
      status.textContent = `Failed: ${(err as ErrorData).message ?? String(err)}`;
    } finally {
      b.removeAttribute('disabled');
    }
  };
  const reload: HTMLElement = button('Reload', { icon: 'refresh', title: 'Read the model again from disk', onClick: () => void run(reload, 'reload') });
  bar.append(reload);
  if (canShowMarkdown) {
    const markdown: HTMLElement = button('Open as Markdown', { icon: 'markdown', title: 'Open the summary as a Markdown document', onClick: () => void run(markdown, 'openMarkdown') });
    bar.append(markdown);
  }
  bar.append(status);
  return bar;
}

function replace(...nodes: Node[]): void {
  app.replaceChildren(...nodes);
  app.setAttribute('aria-busy', 'false');
}

// ---------------------------------------------------------------------------------------------------
// Reading back what was painted (for `rendered` and the tests' probes)

function readRendered(): RenderedMessage {
  const title = document.getElementById('title')?.textContent ?? '';
  const count = document.getElementById('node-count')?.getAttribute('data-node-count');
  const names = (id: string): string[] => Array.from(document.querySelectorAll(`#${id} tbody th[scope="row"]`), (cell) => cell.textContent ?? '');
  const rendered: RenderedMessage = {
    type: 'rendered',
    title,
    nodeCount: count ? Number(count) : 0,
    opTypes: document.querySelectorAll('#ops-table tbody tr').length,
    inputs: names('inputs-table'),
    outputs: names('outputs-table'),
  };
  const error = document.querySelector('[data-error-code]')?.getAttribute('data-error-code');
  if (error) rendered.error = error;
  if (editor) {
    rendered.graph = editor.graph.info();
    if (editor.weightsView) rendered.weights = editor.weightsView.rowCount;
    rendered.tab = state.tab;
  }
  return rendered;
}

async function answerProbe(message: ProbeMessage): Promise<void> {
  try {
    const result = await runProbe(message.probe);
    post({ type: 'probeResult', id: message.id, result });
  } catch (err) {
    post({ type: 'probeResult', id: message.id, error: { code: 'probe-failed', message: errorText(err) } });
  }
}

async function runProbe(probe: Probe) {
  if (!editor && !lastLoadError) {
    await new Promise<void>((resolve) => {
      editorWaiters.push(resolve);
      window.setTimeout(resolve, 60_000);
    });
  }
  if (!editor) throw new Error(lastLoadError ? `The model could not be read: ${lastLoadError.error.message}` : 'The model is not shown yet.');
  await editor.ready;
  // A reload may replace the editor while a probe waits: the probe stays with the one it began on.
  const e = editor;
  switch (probe.kind) {
    case 'selectNode':
      switchTab('graph');
      // The side panel lists the node's weights once the list came (just after the first paint).
      await e.weights.catch(() => undefined);
      return e.graph.selectNode(probe.name, probe.index);
    case 'showWeight':
      switchTab('weights');
      e.askWeights();
      await e.weights;
      await nextFrame();
      return weightsOf(e).showByName(probe.name, probe.bins, probe.log, probe.codes);
    case 'tab':
      switchTab(probe.tab);
      if (probe.tab === 'weights') {
        e.askWeights();
        await e.weights;
      }
      await nextFrame();
      return { tab: state.tab };
    case 'openGraph':
      switchTab('graph');
      await editor.graph.open(probe.path);
      return editor.graph.info();
    case 'find':
      switchTab('graph');
      await nextFrame();
      return editor.graph.find(probe.query);
    case 'setLayer':
      switchTab('graph');
      editor.graph.setLayerByLabel(probe.label, probe.expanded);
      await nextFrame();
      return editor.graph.info();
    case 'setFolded':
      switchTab('graph');
      await editor.graph.setFolded(probe.folded);
      await nextFrame();
      return editor.graph.info();
    case 'graphInfo':
      return editor.graph.info();
    case 'overlay': {
      switchTab('graph');
      const i = overlays.findIndex((o) => o.label === probe.label);
      if (i < 0) throw new Error(`No overlay "${probe.label}"; there are ${overlays.map((o) => `"${o.label}"`).join(', ') || 'none'}.`);
      editor.graph.showOverlay(i);
      await nextFrame();
      return editor.graph.info();
    }
    case 'rendered': {
      const { type: _type, ...rendered } = readRendered();
      return rendered;
    }
    default:
      return assertNever(probe, 'probe');
  }
}

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
}

// ---------------------------------------------------------------------------------------------------
// Keys, theme, lifetime

window.addEventListener('keydown', (event) => {
  if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 'f') {
    if (!editor) return;
    event.preventDefault();
    if (state.tab === 'weights') editor.weightsView?.focusFilter();
    else {
      if (state.tab !== 'graph') switchTab('graph');
      editor.graph.openFind();
    }
  }
});

// VS Code changes the theme through body classes and the variables on <html>.
const themeObserver = new MutationObserver(() => editor?.graph.themeChanged());
themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class'] });
themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });

window.addEventListener('pagehide', flushState);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') flushState();
});

// Benchmark hooks (bench/editor.ts sets window.onnxqsBench before loading this script).
const benchWindow = window as unknown as { onnxqsBench?: boolean; onnxqsDebug?: unknown };
if (benchWindow.onnxqsBench) {
  benchWindow.onnxqsDebug = {
    graph: () => editor?.graph,
    ready: () => editor?.ready,
    rendered: () => readRendered(),
  };
}

renderLoading({ type: 'loading', fileName: state.fileName });
post({ type: 'ready' });
