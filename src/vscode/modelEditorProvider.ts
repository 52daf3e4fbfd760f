// The model editor: a readonly custom editor for *.onnx files.
//
// ModelDocument  one per opened file, shared by all its panels. `create()` starts reading the model in the
//                job process (`openModel`: the InspectReport and the main graph in one round trip, then
//                `weightList`, made while the webview draws); that is cached on the document, with what
//                the views ask for later (subgraphs, weight statistics, histograms), and read again when
//                the file changes on disk (a FileSystemWatcher) or the summary settings change. Errors
//                become a `loadError` state (shown in the webview), never an exception out of the provider.
// PanelRegistry  the open panels per document, so every view of a file gets the same state.
// Webview link   the webview posts `ready` first and gets the document's state; after painting it posts
//                `rendered`, which the test hooks record; its requests (weight list, subgraph, statistics,
//                histogram) are answered from the document's cache or the job process. See
//                src/protocol/webview.ts.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCancelled, loggedError, toErrorData } from '../jobs/errors';
import type { InspectReport } from '../protocol/inspect';
import { assertNever, parseJsonText, type ErrorData, type JsonText } from '../protocol/common';
import type { FindResult, GraphData, WeightDetail, WeightSummary } from '../protocol/graph';
import {
  isWebviewMessage,
  type DocumentStateMessage,
  type GraphViewInfo,
  type NodePanelInfo,
  type ExtensionToWebviewMessage,
  type Probe,
  type ProbeResults,
  type WebviewRequest,
  type WebviewRequestKind,
  type WebviewRequestResults,
  type WebviewToExtensionMessage,
} from '../protocol/webview';
import { PendingRequests } from '../protocol/pendingRequests';
import { Disposable } from './dispose';
import { hintFor } from './errorHints';
import { openReportMarkdown } from './reportDocument';
import { saveFile } from './resultsPanel';
import { ModelOutline, OUTLINE_VIEW, outlineText, REVEAL_COMMAND, type OutlineSource } from './outlineView';
import type { Services } from './services';
import { affectsInspect, inspectSettings } from './settings';
import { webviewHtml, webviewOptions } from './webviewHtml';

/** The custom editor's view type; the same string as `contributes.customEditors[0].viewType`. */
export const MODEL_VIEW_TYPE = 'onnxqs.modelEditor';

export type ModelState =
  | { kind: 'loading'; fileBytes?: number }
  | { kind: 'ready'; report: InspectReport; graph: JsonText<GraphData>; weightCount: number }
  | { kind: 'error'; error: ErrorData };

/** Histograms kept per document (a few bin settings of a few weights). */
const DETAIL_CACHE = 32;

/** Quiet time after the last change on disk before the model is read again (writers save in bursts). */
const RELOAD_DEBOUNCE_MS = 300;

export class ModelDocument extends Disposable implements vscode.CustomDocument {
  /** Builds the document and starts reading the model; does not wait for the read to finish. */
  static async create(uri: vscode.Uri, services: Services, token?: vscode.CancellationToken): Promise<ModelDocument> {
    const document = new ModelDocument(uri, services);
    if (token) document.register(token.onCancellationRequested(() => document.abort?.abort()));
    let fileBytes: number | undefined;
    try {
      fileBytes = (await vscode.workspace.fs.stat(uri)).size;
    } catch {
      // Reading reports a missing file with the core's own error.
    }
    void document.load(fileBytes);
    return document;
  }

  private readonly changed = this.register(new vscode.EventEmitter<ModelState>());
  /** Fires on every state change: loading, ready (new report) or error. */
  readonly onDidChangeState = this.changed.event;
  private current: ModelState = { kind: 'loading' };
  private abort: AbortController | undefined;
  private generation = 0;
  private reloadTimer: NodeJS.Timeout | undefined;
  private loaded: Promise<ModelState> = Promise.resolve(this.current);
  /** What the views asked for after the first paint; cleared whenever the model is read again. */
  private subgraphs = new Map<string, Promise<GraphData>>();
  private parsedMain: { text: JsonText<GraphData>; graph: GraphData } | undefined;
  private weights: Promise<JsonText<WeightSummary[]>> | undefined;
  private stats: Promise<WeightSummary[]> | undefined;
  private details = new Map<string, Promise<WeightDetail>>();

  private constructor(
    readonly uri: vscode.Uri,
    private readonly services: Services,
  ) {
    super();
    if (uri.scheme === 'file') {
      const watcher = this.register(
        vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.joinPath(uri, '..'), path.basename(uri.path))),
      );
      const onDisk = (changed: vscode.Uri): void => {
        if (changed.toString() === uri.toString()) this.scheduleReload();
      };
      this.register(watcher.onDidChange(onDisk));
      this.register(watcher.onDidCreate(onDisk));
      this.register(watcher.onDidDelete(onDisk));
    }
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsInspect(e, uri)) this.scheduleReload();
      }),
    );
    this.register({
      dispose: () => {
        if (this.reloadTimer) clearTimeout(this.reloadTimer);
        this.abort?.abort();
      },
    });
  }

  get fileName(): string {
    return path.basename(this.uri.path);
  }

  get state(): ModelState {
    return this.current;
  }

  /** The cached report, when the last read succeeded. */
  get report(): InspectReport | undefined {
    return this.current.kind === 'ready' ? this.current.report : undefined;
  }

  /** Settles when the read in progress (if any) is done. */
  whenLoaded(): Promise<ModelState> {
    return this.loaded;
  }

  /** Reads the model (again), cancelling a read in progress. Never rejects. */
  load(fileBytes?: number): Promise<ModelState> {
    if (this.isDisposed) return Promise.resolve(this.current);
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    const generation = ++this.generation;
    this.subgraphs = new Map();
    this.parsedMain = undefined;
    this.weights = undefined;
    this.stats = undefined;
    this.details = new Map();
    this.setState(fileBytes === undefined ? { kind: 'loading' } : { kind: 'loading', fileBytes });
    this.loaded = this.read(abort.signal).then((state) => {
      if (generation === this.generation && !this.isDisposed) {
        if (this.abort === abort) this.abort = undefined;
        this.setState(state);
        // The weight list is made while the webview draws the graph; the webview asks for it after its first paint.
        if (state.kind === 'ready') this.weightList().catch(() => undefined);
      }
      return this.current;
    });
    return this.loaded;
  }

  private async read(signal: AbortSignal): Promise<ModelState> {
    if (this.uri.scheme !== 'file') {
      return {
        kind: 'error',
        error: { code: 'unsupported-scheme', message: `${this.uri.toString(true)} is not a file on disk.`, file: this.uri.toString(true) },
      };
    }
    const { largest } = inspectSettings(this.uri);
    const started = Date.now();
    try {
      const { report, graph, weightCount, timings } = await this.services.jobs.openModel({ path: this.uri.fsPath, largest }, { signal });
      const t = timings;
      this.services.log.info(
        `Read ${this.uri.fsPath}: ${report.nodeCount} nodes, ${weightCount} weights in ${Date.now() - started} ms ` +
          `(read ${ms(t.readMs)}, decode ${ms(t.parseMs)}, summary ${ms(t.reportMs)}, graph ${ms(t.graphMs)}, JSON ${ms(t.encodeMs)}).`,
      );
      this.services.hooks.recordReport(this.uri.toString(), report);
      return { kind: 'ready', report, graph, weightCount };
    } catch (err) {
      if (isCancelled(err)) {
        this.services.log.info(`Reading ${this.uri.fsPath} was cancelled.`);
        return { kind: 'error', error: toErrorData(err) };
      }
      return { kind: 'error', error: loggedError(err, (l) => this.services.log.error(l), `Could not read ${this.uri.fsPath}`) };
    }
  }

  /** A graph of the model by path (`main` or a subgraph), cached. */
  graph(graphPath: string): Promise<GraphData> {
    const state = this.current;
    if (state.kind !== 'ready') return Promise.reject(notReady(this.fileName));
    if (graphPath === 'main') return Promise.resolve(this.mainGraph(state));
    let graph = this.subgraphs.get(graphPath);
    if (!graph) {
      graph = this.services.jobs.graph({ path: this.uri.fsPath, graph: graphPath });
      this.cache(this.subgraphs, graphPath, graph);
    }
    return graph;
  }

  /** The main graph of a read, parsed from the text the webview gets when something here needs it (the outline). */
  mainGraph(state: Extract<ModelState, { kind: 'ready' }>): GraphData {
    if (this.parsedMain?.text !== state.graph) this.parsedMain = { text: state.graph, graph: parseJsonText(state.graph) };
    return this.parsedMain.graph;
  }

  /** The nodes of every graph that match `query` (the job process keeps the parsed model). */
  find(query: string): Promise<FindResult> {
    if (this.current.kind !== 'ready') return Promise.reject(notReady(this.fileName));
    return this.services.jobs.find({ path: this.uri.fsPath, query });
  }

  /** Every weight without statistics (JSON text), made once per read of the model. */
  weightList(): Promise<JsonText<WeightSummary[]>> {
    if (this.current.kind !== 'ready') return Promise.reject(notReady(this.fileName));
    if (!this.weights) {
      const weights = this.services.jobs.weightList({ path: this.uri.fsPath });
      this.weights = weights;
      weights.catch(() => {
        if (this.weights === weights) this.weights = undefined;
      });
    }
    return this.weights;
  }

  /** Every weight with statistics, computed once per read of the model. */
  weightStats(): Promise<WeightSummary[]> {
    if (this.current.kind !== 'ready') return Promise.reject(notReady(this.fileName));
    if (!this.stats) {
      const started = Date.now();
      const stats = this.services.jobs.weightStats({ path: this.uri.fsPath });
      this.stats = stats;
      stats.then(
        (list) => this.services.log.info(`Statistics of ${list.length} weights of ${this.uri.fsPath} in ${Date.now() - started} ms.`),
        () => {
          if (this.stats === stats) this.stats = undefined;
        },
      );
    }
    return this.stats;
  }

  /** One weight's histogram and per-channel ranges (of its codes, for a stored-quantized weight, with `codes`), cached per (weight, bins, codes). */
  weightDetail(weight: number, bins: number, codes = false): Promise<WeightDetail> {
    if (this.current.kind !== 'ready') return Promise.reject(notReady(this.fileName));
    const counterpart = this.services.overlays.counterpart(this.uri);
    const key = `${weight}/${bins}/${codes}/${counterpart ?? ''}`;
    let detail = this.details.get(key);
    if (!detail) {
      detail = this.services.jobs.weightDetail({ path: this.uri.fsPath, weight, bins, ...(codes ? { codes } : {}), ...(counterpart ? { counterpart } : {}) });
      this.cache(this.details, key, detail);
      while (this.details.size > DETAIL_CACHE) this.details.delete(this.details.keys().next().value as string);
    }
    return detail;
  }

  /** Keeps a pending answer in `map`, and forgets it if it fails (the next ask tries again). */
  private cache<T>(map: Map<string, Promise<T>>, key: string, value: Promise<T>): void {
    map.set(key, value);
    value.catch(() => {
      if (map.get(key) === value) map.delete(key);
    });
  }

  private scheduleReload(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      this.services.log.info(`${this.uri.fsPath} changed; reading it again.`);
      void this.load();
    }, RELOAD_DEBOUNCE_MS);
  }

  private setState(state: ModelState): void {
    this.current = state;
    this.changed.fire(state);
  }

  /** The state as the webview receives it. */
  stateMessage(): DocumentStateMessage {
    const state = this.current;
    switch (state.kind) {
      case 'loading':
        return state.fileBytes === undefined
          ? { type: 'loading', fileName: this.fileName }
          : { type: 'loading', fileName: this.fileName, fileBytes: state.fileBytes };
      case 'ready':
        return {
          type: 'summary',
          fileName: this.fileName,
          report: state.report,
          graph: state.graph,
          weightCount: state.weightCount,
          bins: inspectSettings(this.uri).bins,
        };
      case 'error':
        return { type: 'loadError', fileName: this.fileName, error: state.error, hint: hintFor(state.error) };
      default:
        return assertNever(state, 'model state');
    }
  }
}

/** One open editor panel of a document. */
class ModelPanel extends Disposable {
  /** True once the webview said `ready`: before that, posted messages could be lost. */
  private ready = false;
  private readonly probes = new PendingRequests<Error>();

  constructor(
    readonly document: ModelDocument,
    readonly panel: vscode.WebviewPanel,
    private readonly services: Services,
  ) {
    super();
    this.register(panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)));
    // A hidden webview is not kept alive (retainContextWhenHidden is off): the one shown next is a new
    // instance, which says `ready` again. Until then nothing can be posted to it, and its last paint is gone.
    this.register(
      panel.onDidChangeViewState(() => {
        if (panel.visible) return;
        this.ready = false;
        this.services.hooks.forgetRendered(document.uri.toString());
      }),
    );
  }

  /** Asks the webview to act as a user would and read back what it shows (integration tests). */
  probe<K extends Probe['kind']>(probe: Extract<Probe, { kind: K }>, timeoutMs: number): Promise<ProbeResults[K]> {
    if (!this.ready || this.isDisposed) return Promise.reject(new Error('The model viewer is not ready.'));
    const id = this.probes.newId();
    const answer = this.probes.add<ProbeResults[K]>(id, {
      timeoutMs, onTimeout: () => new Error(`The model viewer did not answer the ${probe.kind} probe within ${timeoutMs} ms.`),
    });
    this.post({ type: 'probe', id, probe });
    return answer;
  }

  override dispose(): void {
    this.probes.rejectAll(new Error('The model viewer was closed.'));
    super.dispose();
  }

  post(message: ExtensionToWebviewMessage): void {
    if (!this.ready || this.isDisposed) return;
    this.services.hooks.recordPosted(this.document.uri.toString(), message);
    this.panel.webview.postMessage(message).then(undefined, (err: unknown) => {
      this.services.log.warn(`Could not post ${message.type} to the model viewer of ${this.document.uri.fsPath}: ${toErrorData(err).message}`);
    });
  }

  private onMessage(raw: unknown): void {
    if (!isWebviewMessage(raw)) {
      this.services.log.warn(`Ignored a message from the model viewer that is not in the protocol: ${describe(raw)}`);
      return;
    }
    const message: WebviewToExtensionMessage = raw;
    switch (message.type) {
      case 'ready':
        // A new webview instance (first open, or shown again after it was hidden): its paint is to come.
        this.ready = true;
        this.services.hooks.forgetRendered(this.document.uri.toString());
        this.post(this.document.stateMessage());
        if (this.services.overlays.get(this.document.uri).length) this.post({ type: 'overlay', overlays: this.services.overlays.get(this.document.uri) });
        return;
      case 'rendered': {
        const { type: _type, ...info } = message;
        this.services.hooks.recordRendered(this.document.uri.toString(), info);
        return;
      }
      case 'probeResult': {
        this.probes.settle(message.id, message.error ? Object.assign(new Error(message.error.message), { code: message.error.code }) : undefined, message.result);
        return;
      }
      case 'reload':
      case 'openMarkdown':
      case 'graph':
      case 'find':
      case 'weightList':
      case 'weightStats':
      case 'weightDetail':
      case 'saveImage':
        void this.answer(message);
        return;
      default:
        assertNever(message, 'webview message');
    }
  }

  /** Runs a request from the webview and posts exactly one response or responseError. */
  private async answer(request: WebviewRequest): Promise<void> {
    try {
      const result = await this.run(request);
      this.post({ type: 'response', id: request.id, kind: request.type, result });
    } catch (err) {
      const error = loggedError(err, (l) => this.services.log.error(l), `The model viewer's ${request.type} request failed`);
      this.post({ type: 'responseError', id: request.id, error });
    }
  }

  private async run(request: WebviewRequest): Promise<WebviewRequestResults[WebviewRequestKind]> {
    switch (request.type) {
      case 'reload': {
        const state = await this.document.load();
        return { state: state.kind === 'ready' ? 'ready' : 'error' };
      }
      case 'openMarkdown': {
        const report = this.document.report;
        if (!report) throw notReady(this.document.fileName);
        await openReportMarkdown(report, this.document.uri);
        return { opened: true };
      }
      case 'graph':
        return this.document.graph(request.path);
      case 'find':
        return this.document.find(request.query);
      case 'weightList':
        return this.document.weightList();
      case 'weightStats':
        return this.document.weightStats();
      case 'weightDetail':
        return this.document.weightDetail(request.weight, request.bins, request.codes === true);
      case 'saveImage': {
        // Beside the model, under the name the view suggests (never a path of the webview's choosing).
        const suggested = path.join(path.dirname(this.document.uri.fsPath), path.basename(request.name) || `picture.${request.format}`);
        const data = request.format === 'png' ? Buffer.from(request.data, 'base64') : request.data;
        // What the view hands over is checked before anything is asked: a PNG, or an SVG document.
        const ok = typeof data === 'string' ? data.startsWith('<svg ') : data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
        if (!ok) throw new Error(`the view sent no ${request.format.toUpperCase()} picture to save`);
        return { path: (await saveFile(this.services, data, suggested, request.format === 'png' ? 'PNG' : 'SVG')) ?? null };
      }
      default:
        return assertNever(request, 'webview request');
    }
  }
}

/** The open panels per document (keyed by the document's URI). */
class PanelRegistry {
  private readonly panels = new Map<string, Set<ModelPanel>>();

  add(panel: ModelPanel): vscode.Disposable {
    const key = panel.document.uri.toString();
    let set = this.panels.get(key);
    if (!set) this.panels.set(key, (set = new Set()));
    set.add(panel);
    return new vscode.Disposable(() => {
      set.delete(panel);
      if (set.size === 0 && this.panels.get(key) === set) this.panels.delete(key);
    });
  }

  get(uri: vscode.Uri): readonly ModelPanel[] {
    return [...(this.panels.get(uri.toString()) ?? [])];
  }

  broadcast(document: ModelDocument, message: ExtensionToWebviewMessage): void {
    for (const panel of this.get(document.uri)) panel.post(message);
  }

  /** The panel of `uri` a test talks to: the visible one, else the last opened. */
  pick(uri: string): ModelPanel | undefined {
    const set = [...(this.panels.get(uri) ?? [])];
    return set.find((p) => p.panel.visible) ?? set[set.length - 1];
  }
}

export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider<ModelDocument> {
  static readonly viewType = MODEL_VIEW_TYPE;

  static register(services: Services): vscode.Disposable {
    const provider = new ModelEditorProvider(services);
    const outline = new ModelOutline(provider.outlineSource());
    services.hooks.setOutline(() => outlineText(outline));
    return vscode.Disposable.from(
      vscode.window.registerCustomEditorProvider(ModelEditorProvider.viewType, provider, {
        // The webview keeps its state with setState; no need to keep hidden views alive. Ctrl/Cmd+F is the
        // view's own find (nodes, op types, tensors; the weights filter), so VS Code's text find widget is off.
        webviewOptions: { retainContextWhenHidden: false, enableFindWidget: false },
        supportsMultipleEditorsPerDocument: true,
      }),
      vscode.window.createTreeView(OUTLINE_VIEW, { treeDataProvider: outline }),
      outline,
      vscode.commands.registerCommand(REVEAL_COMMAND, (uri: vscode.Uri, graph: string, node: number) => provider.reveal(uri, graph, node)),
      provider.outlineChanged,
      ...provider.subscriptions,
    );
  }

  private readonly panels = new PanelRegistry();
  private readonly outlineChanged = new vscode.EventEmitter<void>();
  private readonly subscriptions: vscode.Disposable[] = [];

  /** The model of the active model viewer tab, for the outline. */
  private outlineSource(): OutlineSource {
    this.subscriptions.push(
      vscode.window.tabGroups.onDidChangeTabs(() => this.outlineChanged.fire()),
      vscode.window.tabGroups.onDidChangeTabGroups(() => this.outlineChanged.fire()),
    );
    return {
      active: () => {
        const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
        if (!(input instanceof vscode.TabInputCustom) || input.viewType !== MODEL_VIEW_TYPE) return undefined;
        const document = this.panels.get(input.uri)[0]?.document;
        const state = document?.state;
        if (!document || state?.kind !== 'ready') return undefined;
        return { uri: input.uri, graph: document.mainGraph(state), loadGraph: (path: string) => document.graph(path) };
      },
      reveal: (uri, graph, node) => this.reveal(uri, graph, node),
      onDidChange: this.outlineChanged.event,
    };
  }

  /** Shows graph `graph` of the model of `uri` in its viewer and selects node `node` (-1: none). */
  async reveal(uri: vscode.Uri, graph: string, node: number): Promise<GraphViewInfo | NodePanelInfo> {
    const panel = this.panels.pick(uri.toString());
    if (!panel) throw new Error(`No model viewer is open on ${uri.fsPath}.`);
    panel.panel.reveal(undefined, false);
    const shown = await panel.probe({ kind: 'openGraph', path: graph }, 30_000);
    return node >= 0 ? panel.probe({ kind: 'selectNode', index: node }, 30_000) : shown;
  }

  private constructor(private readonly services: Services) {
    services.hooks.setProber((uri, probe, timeoutMs) => {
      const panel = this.panels.pick(uri);
      if (!panel) return Promise.reject(new Error(`No model viewer is open on ${uri}.`));
      return panel.probe(probe, timeoutMs);
    });
    // The store's emitter goes with the services, and this listener with it.
    services.overlays.onDidChange((uri) => {
      for (const panel of this.panels.get(uri)) panel.post({ type: 'overlay', overlays: services.overlays.get(uri) });
    });
  }

  async openCustomDocument(
    uri: vscode.Uri,
    _openContext: vscode.CustomDocumentOpenContext,
    token: vscode.CancellationToken,
  ): Promise<ModelDocument> {
    const document = await ModelDocument.create(uri, this.services, token);
    document.onDidChangeState((state) => {
      if (state.kind === 'loading') this.services.hooks.forgetRendered(uri.toString());
      this.panels.broadcast(document, document.stateMessage());
      this.outlineChanged.fire();
    });
    return document;
  }

  resolveCustomEditor(document: ModelDocument, webviewPanel: vscode.WebviewPanel): void {
    const { extensionUri } = this.services;
    this.services.hooks.forgetRendered(document.uri.toString());
    const panel = new ModelPanel(document, webviewPanel, this.services);
    const registration = this.panels.add(panel);
    webviewPanel.webview.options = webviewOptions(extensionUri);
    webviewPanel.webview.html = webviewHtml(webviewPanel.webview, extensionUri, {
      title: `ONNX model: ${document.fileName}`,
      scripts: ['webview.js'],
      styles: ['codicon.css', 'webview.css'],
    });
    webviewPanel.onDidDispose(() => {
      registration.dispose();
      panel.dispose();
    });
  }
}

function notReady(fileName: string): Error {
  return Object.assign(new Error(`${fileName} has not been read yet.`), { code: 'not-ready' });
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}
