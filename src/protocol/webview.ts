// The link between the model editor (src/vscode/modelEditorProvider.ts) and its webview (webview/main.ts).
// Both ends import this file; it must stay free of vscode and Node imports.
//
// The webview posts `ready` first; the extension answers with the current state of the document
// (`loading`, then `summary` or `loadError`, again whenever the file changes on disk). `summary` carries
// everything the first paint needs: the report and the main graph (no tensors). The weight list, subgraphs,
// weight statistics and histograms are asked for later, by request. After
// painting, the webview posts `rendered` with what it read back from its DOM. Requests from the webview
// carry an id and get exactly one `response` or `responseError`. `probe` (extension -> webview, for the
// integration tests) asks the view to do what a user does (select a node, show a weight) and answers
// with one `probeResult` read back from its DOM.
import type { InspectReport } from './inspect';
import type { ErrorData, JsonText } from './common';
import type { FindResult, GraphData, WeightDetail, WeightSummary } from './graph';

export type { ErrorData } from './common';

// ---------------------------------------------------------------------------------------------------
// Extension -> webview

/** The model is being read (first open, or the file changed on disk). */
export interface LoadingMessage {
  type: 'loading';
  fileName: string;
  /** Size of the file when known, for "Reading x.onnx (12.0 MiB)". */
  fileBytes?: number;
}

/** Everything needed to paint the editor: the summary and the main graph (the weight list comes by request). */
export interface SummaryMessage {
  type: 'summary';
  fileName: string;
  report: InspectReport;
  /** The main graph, as JSON text (JsonText says why). */
  graph: JsonText<GraphData>;
  /**
   * How many weights (initializers, sparse initializers, Constant-node tensors) the model has: the Weights
   * tab's title. The list comes with the `weightList` request.
   */
  weightCount: number;
  /** Histogram bins the weights view starts with (`onnxqs.statistics.histogramBins`). */
  bins: number;
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

/** What a test asks the view to do, as a user would; answered by one `probeResult`. */
export type Probe =
  /** Select a node of the graph shown (by node name; `index` when names repeat or are empty). */
  | { kind: 'selectNode'; name?: string; index?: number }
  /** Open the Weights tab, select a weight and draw its histogram with `bins` bins. */
  | { kind: 'showWeight'; name: string; bins: number; log?: boolean; codes?: boolean }
  /** Switch to a tab. */
  | { kind: 'tab'; tab: EditorTab }
  /** Open a subgraph (a path of GraphData.nodes[].subgraphs) or go back up (`main` or an ancestor). */
  | { kind: 'openGraph'; path: string }
  /** Find (Ctrl/Cmd+F) and go to the first match. */
  | { kind: 'find'; query: string }
  /** Expands or collapses the layer with this label in the graph shown (as a double click does). */
  | { kind: 'setLayer'; label: string; expanded: boolean }
  /** Draws the graph shown folded into layers or flat (the Layers toggle). */
  | { kind: 'setFolded'; folded: boolean }
  /** What the graph view shows now. */
  | { kind: 'graphInfo' }
  /** Colour the graph by the overlay of this label (the legend's picker). */
  | { kind: 'overlay'; label: string }
  /** What the whole view shows now (as in `rendered`). */
  | { kind: 'rendered' };

export type EditorTab = 'graph' | 'weights' | 'model';

/** What the side panel shows for the selected node. */
export interface NodePanelInfo {
  op: string;
  domain: string;
  name: string;
  attributes: { name: string; value: string }[];
  inputs: { name: string; type: string }[];
  outputs: { name: string; type: string }[];
  /** The weights the node consumes, as listed (name, and the statistics line once known). */
  weights: { name: string; stats: string }[];
  docsUrl: string | null;
  /** The overlay's lines for this node (its layer error), when one is shown and has the node. */
  figures: { label: string; value: string }[];
}

/** What the graph view shows. */
export interface GraphViewInfo {
  path: string;
  /** Breadcrumb labels, main graph first. */
  breadcrumb: string[];
  nodes: number;
  edges: number;
  /** Nodes drawn in the last frame (only what is visible is drawn). */
  drawnNodes: number;
  /** Zoom: screen pixels per layout unit. */
  scale: number;
  /** Index of the selected node, -1 when none. */
  selected: number;
  /** Find: number of matches and the index of the current one (-1 when none). */
  /** Matches in the graph shown, the current one, and how many more the other graphs hold. */
  find: { query: string; matches: number; current: number; elsewhere: number };
  layoutMs: number;
  paintMs: number;
  /** The figure per node drawn over the graph: its label, the nodes coloured, whether it is on, the worst listed; the others offered. */
  overlay: { label: string; nodes: number; on: boolean; worst: string[]; offered: string[] } | null;
  /** A graph drawn folded into layers: the collapsed layers drawn (their labels) and the expanded ones' frames; null when flat. */
  layers: { collapsed: string[]; expanded: string[]; selected: string | null } | null;
}

export interface WeightViewInfo {
  name: string;
  bins: number;
  log: boolean;
  /** For a stored-quantized weight: what the histogram is of. */
  values: 'dequantized' | 'codes' | null;
  /** The bin counts the histogram drew (read back from the drawing). */
  counts: number[];
  histogram: { min: number; max: number };
  /** Per output channel ranges drawn, when the weight has them. */
  channels: number;
  /** Rows of the weights table after filtering. */
  rows: number;
  /** Against the quantized copy it was compared with: the text shown, and the grid lines drawn. */
  quantization: { text: string; gridLines: number } | null;
}

export interface ProbeResults {
  selectNode: NodePanelInfo;
  showWeight: WeightViewInfo;
  tab: { tab: EditorTab };
  openGraph: GraphViewInfo;
  find: GraphViewInfo;
  setLayer: GraphViewInfo;
  setFolded: GraphViewInfo;
  graphInfo: GraphViewInfo;
  overlay: GraphViewInfo;
  rendered: Omit<RenderedMessage, 'type'>;
}

export interface ProbeMessage {
  type: 'probe';
  id: number;
  probe: Probe;
}

/**
 * A figure per node drawn over the main graph: a colour from `min` (none) to `max` (full), or one colour
 * per category; a legend, the worst nodes (or the nodes of the other model it does not have) listed beside
 * the graph, and each node's lines in the side panel. A comparison gives two: the layer error (SQNR drop
 * per node) and the graph diff (quantized, left in float, added); a benchmark's time per op can be another.
 */
export interface NodeOverlay {
  /** What it shows, e.g. "SQNR drop against mnist-8.onnx (4 samples)". */
  title: string;
  /** The figure's name and unit, for the legend and the overlay picker: "SQNR drop", "dB". */
  label: string;
  unit: string;
  min: number;
  max: number;
  /** Categories instead of a scale: each node's `category` is an index into these. */
  categories?: { label: string; colour: string }[];
  /** A folded layer shows the sum of its nodes' figures (time), not its worst node's (an error). */
  additive?: boolean;
  /** By node name of the main graph, the worst first. */
  nodes: { name: string; value: number; category?: number; lines: { label: string; value: string }[] }[];
  /** Nodes of the other model this graph does not have (a diff's removed nodes), and where they went. */
  absent?: { name: string; opType: string; detail: string }[];
}

/** Draw these figures over the graph, the first shown (an empty list removes them). */
export interface OverlayMessage {
  type: 'overlay';
  overlays: NodeOverlay[];
}

export type ExtensionToWebviewMessage =
  | LoadingMessage
  | SummaryMessage
  | LoadErrorMessage
  | ResponseMessage
  | ResponseErrorMessage
  | ProbeMessage
  | OverlayMessage;

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
  /** The graph view after its first complete paint (absent for the error view). */
  graph?: GraphViewInfo;
  /** Weights listed in the weights table (before filtering). */
  weights?: number;
  /** The tab shown. */
  tab?: EditorTab;
}

/** The answer to a `probe`: its result, or why it could not be done. */
export interface ProbeResultMessage {
  type: 'probeResult';
  id: number;
  result?: ProbeResults[Probe['kind']];
  error?: ErrorData;
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

/** A subgraph (If/Loop/Scan body) by its path. */
export interface GraphDataRequest {
  type: 'graph';
  id: number;
  path: string;
}

/** The nodes of every graph that match a query (find, beyond the graph on screen). */
export interface FindRequest {
  type: 'find';
  id: number;
  query: string;
}

/** Every weight, without statistics: asked for after the first paint (the extension has it made meanwhile). */
export interface WeightListRequest {
  type: 'weightList';
  id: number;
}

/** Every weight with its statistics (computed once per document, in the job process). */
export interface WeightStatsRequest {
  type: 'weightStats';
  id: number;
}

/** One weight's histogram (with `bins` bins), percentiles and per-channel ranges. */
export interface WeightDetailRequest {
  type: 'weightDetail';
  id: number;
  /** Index in the weight list. */
  weight: number;
  bins: number;
  /** A stored-quantized weight's codes rather than the values they stand for. */
  codes?: boolean;
}

/** The largest picture the view may hand over (characters of SVG or base64): a whole-graph PNG of 100 Mpx stays well below. */
export const MAX_IMAGE_CHARS = 512 * 1024 * 1024;

/** Save a picture of the graph: asks where (a save dialog), then writes it. */
export interface SaveImageRequest {
  type: 'saveImage';
  id: number;
  format: 'png' | 'svg';
  /** The file name suggested (beside the model). */
  name: string;
  /** SVG text, or the PNG's bytes in base64. */
  data: string;
}

export type WebviewRequest = ReloadRequest | OpenMarkdownRequest | GraphDataRequest | FindRequest | WeightListRequest | WeightStatsRequest | WeightDetailRequest | SaveImageRequest;
export type WebviewRequestKind = WebviewRequest['type'];
/** A request's fields other than `type` and `id`. */
export type WebviewRequestParams<K extends WebviewRequestKind> = Omit<Extract<WebviewRequest, { type: K }>, 'type' | 'id'>;
export interface WebviewRequestResults {
  /** `ready` when the model was read, `error` when a `loadError` was posted instead. */
  reload: { state: 'ready' | 'error' };
  /** false when the user cancelled. */
  openMarkdown: { opened: boolean };
  graph: GraphData;
  find: FindResult;
  /** JSON text (JsonText says why). */
  weightList: JsonText<WeightSummary[]>;
  weightStats: WeightSummary[];
  weightDetail: WeightDetail;
  /** Where it was written; null when the user cancelled the dialog. */
  saveImage: { path: string | null };
}

export type WebviewToExtensionMessage = ReadyMessage | RenderedMessage | ProbeResultMessage | WebviewRequest;

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
    case 'weightList':
    case 'weightStats':
    case 'probeResult':
      return typeof v.id === 'number';
    case 'graph':
      return typeof v.id === 'number' && typeof (value as { path?: unknown }).path === 'string';
    case 'find':
      return typeof v.id === 'number' && typeof (value as { query?: unknown }).query === 'string';
    case 'weightDetail':
      return typeof v.id === 'number' && typeof (value as { weight?: unknown }).weight === 'number' && typeof (value as { bins?: unknown }).bins === 'number';
    case 'saveImage': {
      const m = value as { format?: unknown; name?: unknown; data?: unknown };
      return typeof v.id === 'number' && (m.format === 'png' || m.format === 'svg') && typeof m.name === 'string' && m.name.length <= 255
        && typeof m.data === 'string' && m.data.length <= MAX_IMAGE_CHARS;
    }
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
    type === 'responseError' ||
    type === 'probe' ||
    type === 'overlay'
  );
}
