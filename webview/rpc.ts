// The webview's end of src/protocol/webview.ts: the VS Code API object, requests with an id, a timeout
// and exactly one answer, and the view state kept across hide/show (setState).
import type { ErrorData } from '../src/protocol/common';
import { PendingRequests } from '../src/protocol/pendingRequests';
import type {
  EditorTab,
  WebviewRequest,
  WebviewRequestKind,
  WebviewRequestParams,
  WebviewRequestResults,
  WebviewToExtensionMessage,
} from '../src/protocol/webview';

interface VsCodeApi {
  postMessage(message: WebviewToExtensionMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

export function post(message: WebviewToExtensionMessage): void {
  vscode.postMessage(message);
}

// ---------------------------------------------------------------------------------------------------
// Requests: an id, one response or responseError, a timeout.

const REQUEST_TIMEOUT_MS = 300_000;
const pending = new PendingRequests<ErrorData>();

export function request<K extends WebviewRequestKind>(type: K, params: WebviewRequestParams<K>): Promise<WebviewRequestResults[K]> {
  const id = pending.newId();
  const answer = pending.add<WebviewRequestResults[K]>(id, {
    timeoutMs: REQUEST_TIMEOUT_MS, onTimeout: () => ({ code: 'timeout', message: `The extension did not answer "${type}" within ${REQUEST_TIMEOUT_MS / 1000} s.` }),
  });
  post({ ...params, type, id } as WebviewRequest);
  return answer;
}

export function settle(id: number, error: ErrorData | undefined, result?: unknown): void {
  pending.settle(id, error, result);
}

/** The message of an error from a request (ErrorData) or a thrown Error. */
export function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}

// ---------------------------------------------------------------------------------------------------
// View state: small (UI choices only, never model data: the extension sends that again on `ready`).

export interface Viewport {
  /** Layout units at the centre of the view, and the zoom (screen px per layout unit). */
  cx: number;
  cy: number;
  scale: number;
}

export interface GraphUiState {
  /** Graph shown: `main` or a subgraph path. */
  path: string;
  /** Selected node index in that graph, -1 for none. */
  selected: number;
  /** Viewport per graph path. */
  viewports: Record<string, Viewport>;
  showNames: boolean;
  sidePanel: boolean;
  /** The side panel's width in CSS pixels (dragged or set with the keyboard); undefined: the default. */
  sideWidth?: number;
  /** The overview in the corner of the graph (hidden with its toolbar button). */
  overview?: boolean;
  /** Per graph path: drawn folded into layers (true) or flat (false); absent: folded above a size. */
  layers?: Record<string, boolean>;
  /** Per graph path: the keys of its expanded layers (hierarchy.ts's Group.key). */
  expanded?: Record<string, string[]>;
}

export interface WeightsUiState {
  filter: string;
  sort: string;
  descending: boolean;
  /** Selected weight (index in the weight list), -1 for none. */
  selected: number;
  bins: number;
  log: boolean;
  /** For a weight the model stores quantized: its codes rather than the values they stand for. */
  codes: boolean;
  scrollTop: number;
}

export interface ViewState {
  version: 2;
  /** The file the state belongs to (a different file starts from defaults). */
  fileName: string;
  tab: EditorTab;
  graph: GraphUiState;
  weights: WeightsUiState;
  modelScrollTop: number;
}

export function defaultState(fileName: string): ViewState {
  return {
    version: 2,
    fileName,
    tab: 'graph',
    graph: { path: 'main', selected: -1, viewports: {}, showNames: false, sidePanel: true },
    weights: { filter: '', sort: 'bytes', descending: true, selected: -1, bins: 0, log: false, codes: false, scrollTop: 0 },
    modelScrollTop: 0,
  };
}

export function loadState(): ViewState | undefined {
  const saved = vscode.getState() as Partial<ViewState> | undefined;
  if (!saved || saved.version !== 2 || typeof saved.fileName !== 'string') return undefined;
  const base = defaultState(saved.fileName);
  return {
    ...base,
    ...saved,
    graph: { ...base.graph, ...(saved.graph ?? {}) },
    weights: { ...base.weights, ...(saved.weights ?? {}) },
  } as ViewState;
}

let saveTimer: number | undefined;
let latest: ViewState | undefined;

/** Saves the state now (a tab, a selection: the view may be hidden, and so destroyed, at any moment). */
export function saveStateNow(state: ViewState): void {
  latest = state;
  flushState();
}

/** Saves the state soon (coalesced: pan and zoom change it on every frame). */
export function saveState(state: ViewState): void {
  latest = state;
  if (saveTimer !== undefined) return;
  saveTimer = window.setTimeout(() => {
    saveTimer = undefined;
    if (latest) vscode.setState(latest);
  }, 150);
}

/** Saves at once (before the view may go away). */
export function flushState(): void {
  if (saveTimer !== undefined) window.clearTimeout(saveTimer);
  saveTimer = undefined;
  if (latest) vscode.setState(latest);
}
