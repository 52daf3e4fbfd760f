// The link between the model editor (src/vscode/modelEditorProvider.ts) and its webview (webview/main.ts).
// Both ends import this file; it must stay free of vscode and Node imports.
//
// The webview posts `ready` first; the extension answers with the current state of the document
// (`loading`, then `summary` or `loadError`, again whenever the file changes on disk). After painting, the
// webview posts `rendered` with what it read back from its DOM. Requests from the webview carry an id and
// get exactly one `response` or `responseError`.
import type { InspectReport } from '../onnx/report';
import type { ErrorData } from './common';

export type { ErrorData } from './common';

// ---------------------------------------------------------------------------------------------------
// Extension -> webview

/** The model is being read (first open, or the file changed on disk). */
export interface LoadingMessage {
  type: 'loading';
  fileName: string;
  /** Size of the file when known, for "Reading x.onnx (12 MB)". */
  fileBytes?: number;
}

/** Everything needed to paint the summary view. */
export interface SummaryMessage {
  type: 'summary';
  fileName: string;
  report: InspectReport;
}

/** The model could not be read: what went wrong and what the user can do about it. */
export interface LoadErrorMessage {
  type: 'loadError';
  fileName: string;
  error: ErrorData;
  /** What to do next, in one or two sentences. */
  hint: string;
}

export interface ResponseMessage<K extends WebviewRequestKind = WebviewRequestKind> {
  type: 'response';
  id: number;
  kind: K;
  result: WebviewRequestResults[K];
}

export interface ResponseErrorMessage {
  type: 'responseError';
  id: number;
  error: ErrorData;
}

export type ExtensionToWebviewMessage =
  | LoadingMessage
  | SummaryMessage
  | LoadErrorMessage
  | ResponseMessage
  | ResponseErrorMessage;

/** The messages that describe the document's state (the ones the webview keeps with `setState`). */
export type DocumentStateMessage = LoadingMessage | SummaryMessage | LoadErrorMessage;

// ---------------------------------------------------------------------------------------------------
// Webview -> extension

/** First message of every webview instance (also after it was hidden and restored). */
export interface ReadyMessage {
  type: 'ready';
}

/** What the webview painted, read back from its DOM. */
export interface RenderedMessage {
  type: 'rendered';
  /** The heading: the model's file name. */
  title: string;
  nodeCount: number;
  /** Rows in the op histogram table (distinct op types). */
  opTypes: number;
  inputs: string[];
  outputs: string[];
  /** Present only when the error view was painted: the error code shown. */
  error?: string;
}

/** Read the model again from disk. */
export interface ReloadRequest {
  type: 'reload';
  id: number;
}

/** Open the summary as a Markdown document (the `onnxqs.inspectModel` command on this file). */
export interface OpenMarkdownRequest {
  type: 'openMarkdown';
  id: number;
}

export type WebviewRequest = ReloadRequest | OpenMarkdownRequest;
export type WebviewRequestKind = WebviewRequest['type'];
export interface WebviewRequestResults {
  /** `ready` when the model was read, `error` when a `loadError` was posted instead. */
  reload: { state: 'ready' | 'error' };
  /** false when the user cancelled. */
  openMarkdown: { opened: boolean };
}

export type WebviewToExtensionMessage = ReadyMessage | RenderedMessage | WebviewRequest;

/** Type guard for messages arriving from the webview (untrusted shape). */
export function isWebviewMessage(value: unknown): value is WebviewToExtensionMessage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { type?: unknown; id?: unknown };
  switch (v.type) {
    case 'ready':
    case 'rendered':
      return true;
    case 'reload':
    case 'openMarkdown':
      return typeof v.id === 'number';
    default:
      return false;
  }
}

/** Type guard for messages arriving at the webview. */
export function isExtensionMessage(value: unknown): value is ExtensionToWebviewMessage {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return (
    type === 'loading' ||
    type === 'summary' ||
    type === 'loadError' ||
    type === 'response' ||
    type === 'responseError'
  );
}
