// The model editor: a readonly custom editor for *.onnx files.
//
// ModelDocument  one per opened file, shared by all its panels. `create()` starts reading the model in the
//                job process; the InspectReport is cached on the document and read again when the file
//                changes on disk (a FileSystemWatcher) or the summary settings change. Errors become a
//                `loadError` state (shown in the webview), never an exception out of the provider.
// PanelRegistry  the open panels per document, so every view of a file gets the same state.
// Webview link   the webview posts `ready` first and gets the document's state; after painting it posts
//                `rendered`, which the test hooks record. See src/protocol/webview.ts.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCancelled, toErrorData } from '../jobs/errors';
import type { InspectReport } from '../onnx/report';
import { assertNever, type ErrorData } from '../protocol/common';
import {
  isWebviewMessage,
  type DocumentStateMessage,
  type ExtensionToWebviewMessage,
  type WebviewRequest,
  type WebviewRequestKind,
  type WebviewRequestResults,
  type WebviewToExtensionMessage,
} from '../protocol/webview';
import { Disposable } from './dispose';
import { hintFor } from './errorHints';
import { openReportMarkdown } from './reportDocument';
import type { Services } from './services';
import { affectsInspect, inspectSettings } from './settings';
import { webviewHtml, webviewOptions } from './webviewHtml';

/** The custom editor's view type; the same string as `contributes.customEditors[0].viewType`. */
export const MODEL_VIEW_TYPE = 'onnxqs.modelEditor';

export type ModelState =
  | { kind: 'loading'; fileBytes?: number }
  | { kind: 'ready'; report: InspectReport }
  | { kind: 'error'; error: ErrorData };

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
    this.setState(fileBytes === undefined ? { kind: 'loading' } : { kind: 'loading', fileBytes });
    this.loaded = this.read(abort.signal).then((state) => {
      if (generation === this.generation && !this.isDisposed) {
        if (this.abort === abort) this.abort = undefined;
        this.setState(state);
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
    const { largest, bins } = inspectSettings(this.uri);
    const started = Date.now();
    try {
      const report = await this.services.jobs.inspect({ path: this.uri.fsPath, largest, stats: false, bins }, { signal });
      this.services.log.info(`Read ${this.uri.fsPath}: ${report.nodeCount} nodes in ${Date.now() - started} ms.`);
      this.services.hooks.recordReport(this.uri.toString(), report);
      return { kind: 'ready', report };
    } catch (err) {
      const error = toErrorData(err);
      if (isCancelled(err)) this.services.log.info(`Reading ${this.uri.fsPath} was cancelled.`);
      else this.services.log.error(`Could not read ${this.uri.fsPath}: [${error.code}] ${error.message}`);
      return { kind: 'error', error };
    }
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
        return { type: 'summary', fileName: this.fileName, report: state.report };
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

  constructor(
    readonly document: ModelDocument,
    readonly panel: vscode.WebviewPanel,
    private readonly services: Services,
  ) {
    super();
    this.register(panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)));
  }

  post(message: ExtensionToWebviewMessage): void {
    if (!this.ready || this.isDisposed) return;
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
        this.ready = true;
        this.post(this.document.stateMessage());
        return;
      case 'rendered': {
        const { type: _type, ...info } = message;
        this.services.hooks.recordRendered(this.document.uri.toString(), info);
        return;
      }
      case 'reload':
      case 'openMarkdown':
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
      const error = toErrorData(err);
      this.services.log.error(`The model viewer's ${request.type} request failed: ${error.message}`);
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
        if (!report) throw Object.assign(new Error(`${this.document.fileName} has not been read yet.`), { code: 'not-ready' });
        await openReportMarkdown(report, this.document.uri);
        return { opened: true };
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
}

export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider<ModelDocument> {
  static readonly viewType = MODEL_VIEW_TYPE;

  static register(services: Services): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(ModelEditorProvider.viewType, new ModelEditorProvider(services), {
      // The webview keeps its state with setState; no need to keep hidden views alive.
      webviewOptions: { retainContextWhenHidden: false, enableFindWidget: true },
      supportsMultipleEditorsPerDocument: true,
    });
  }

  private readonly panels = new PanelRegistry();

  private constructor(private readonly services: Services) {}

  async openCustomDocument(
    uri: vscode.Uri,
    _openContext: vscode.CustomDocumentOpenContext,
    token: vscode.CancellationToken,
  ): Promise<ModelDocument> {
    const document = await ModelDocument.create(uri, this.services, token);
    document.onDidChangeState((state) => {
      if (state.kind === 'loading') this.services.hooks.forgetRendered(uri.toString());
      this.panels.broadcast(document, document.stateMessage());
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
      styles: ['webview.css'],
    });
    webviewPanel.onDidDispose(() => {
      registration.dispose();
      panel.dispose();
    });
  }
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}
