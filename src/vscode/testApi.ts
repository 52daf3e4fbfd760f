// What `activate()` returns (the extension's `exports`): hooks for the integration tests. Keys are
// `vscode.Uri.toString()` of the model.
import type { InspectReport } from '../protocol/inspect';
import type { ResultsRenderedMessage } from '../protocol/results';
import { parseJsonText, type JsonText } from '../protocol/common';
import type { GraphData, WeightSummary } from '../protocol/graph';
import type { ExtensionToWebviewMessage, Probe, ProbeResults, RenderedMessage, ResponseMessage, SummaryMessage } from '../protocol/webview';

/** The last summary as a test reads it: the main graph parsed, and the weight list once it came. */
export type SummaryData = Omit<SummaryMessage, 'graph'> & { graph: GraphData; weights: WeightSummary[] | undefined };

/** What the webview painted, read back from its DOM. */
export type RenderedInfo = Omit<RenderedMessage, 'type'>;

/** What the extension posted to a model viewer, as the webview received it. */
export interface PostedInfo {
  /** Message types in the order they were posted (since the view was opened or the model reloaded). */
  types: string[];
  /** What the webview received to show the model (the last `summary` and the weight list after it), in bytes (receivedBytes). */
  summaryBytes?: number;
  /** Nodes of the graph the last `summary` carried, and weights of the list after it. */
  graphNodes?: number;
  graphValues?: number;
  weights?: number;
  /** The largest of the last responses to each kind of webview request (subgraph, statistics, histogram), as JSON bytes. */
  largestResponseBytes: number;
}

/** What is kept per viewer: the message types, and references to the data messages (measured only when asked). */
interface Posted {
  types: string[];
  summary?: Extract<ExtensionToWebviewMessage, { type: 'summary' }>;
  responses: Map<string, ExtensionToWebviewMessage>;
}

export interface TestApi {
  /**
   * Resolves with what the model editor's webview for `uri` painted last, waiting for the next paint
   * when the view has not painted since it was opened or the model was reloaded. Rejects after
   * `timeoutMs` (default 20 s).
   */
  waitForRendered(uri: string, timeoutMs?: number): Promise<RenderedInfo>;
  /** The last InspectReport read for `uri` (by the model editor or the inspect command). */
  lastReport(uri: string): InspectReport | undefined;
  /** What the extension posted to the viewer of `uri` (sizes measured as JSON). */
  posted(uri: string): PostedInfo | undefined;
  /** The last `summary` posted to the viewer of `uri` (the report, the main graph) and the weight list after it, when it came. */
  lastSummary(uri: string): SummaryData | undefined;
  /** Asks the viewer of `uri` to act as a user would (select a node, show a weight) and to say what it shows. */
  probe<K extends Probe['kind']>(uri: string, probe: Extract<Probe, { kind: K }>, timeoutMs?: number): Promise<ProbeResults[K]>;
  /** What the last results panel of `kind` painted (rows, plots, the verdict line); undefined before one. */
  lastResultsRendered(kind: ResultsRenderedMessage['kind']): Omit<ResultsRenderedMessage, 'type'> | undefined;
  /** The model outline's items as text, depth-first, indented two spaces a level (the active model viewer's). */
  outline(): Promise<string[]>;
}

type Prober = (uri: string, probe: Probe, timeoutMs: number) => Promise<unknown>;

/** The extension's side of the hooks: the editor and the commands record into it. */
export class TestHooks implements TestApi {
  private readonly rendered = new Map<string, RenderedInfo>();
  private readonly reports = new Map<string, InspectReport>();
  private readonly waiters = new Map<string, Set<(info: RenderedInfo) => void>>();
  private readonly postedInfo = new Map<string, Posted>();
  private prober: Prober | undefined;
  private outlineReader: (() => Promise<string[]>) | undefined;

  outline(): Promise<string[]> {
    return this.outlineReader ? this.outlineReader() : Promise.resolve([]);
  }

  setOutline(reader: () => Promise<string[]>): void {
    this.outlineReader = reader;
  }

  waitForRendered(uri: string, timeoutMs = 20_000): Promise<RenderedInfo> {
    const known = this.rendered.get(uri);
    if (known) return Promise.resolve(known);
    return new Promise<RenderedInfo>((resolve, reject) => {
      let set = this.waiters.get(uri);
      if (!set) this.waiters.set(uri, (set = new Set()));
      const waiter = (info: RenderedInfo): void => {
        clearTimeout(timer);
        resolve(info);
      };
      const timer = setTimeout(() => {
        set.delete(waiter);
        reject(new Error(`The model editor for ${uri} did not render within ${timeoutMs} ms.`));
      }, timeoutMs);
      set.add(waiter);
    });
  }

  lastReport(uri: string): InspectReport | undefined {
    return this.reports.get(uri);
  }

  lastSummary(uri: string): SummaryData | undefined {
    const info = this.postedInfo.get(uri);
    if (!info?.summary) return undefined;
    const list = weightListOf(info);
    return { ...info.summary, graph: parseJsonText(info.summary.graph), weights: list && parseJsonText(list) };
  }

  posted(uri: string): PostedInfo | undefined {
    const info = this.postedInfo.get(uri);
    if (!info) return undefined;
    const out: PostedInfo = { types: [...info.types], largestResponseBytes: 0 };
    for (const message of info.responses.values()) out.largestResponseBytes = Math.max(out.largestResponseBytes, jsonBytes(message));
    const data = this.lastSummary(uri);
    if (info.summary && data) {
      out.summaryBytes = receivedBytes(info.summary, weightListOf(info));
      out.graphNodes = data.graph.nodes.length;
      out.graphValues = data.graph.values.length;
      if (data.weights) out.weights = data.weights.length;
    }
    return out;
  }

  probe<K extends Probe['kind']>(uri: string, probe: Extract<Probe, { kind: K }>, timeoutMs = 30_000): Promise<ProbeResults[K]> {
    if (!this.prober) return Promise.reject(new Error('The model editor is not registered.'));
    return this.prober(uri, probe, timeoutMs) as Promise<ProbeResults[K]>;
  }

  /** The model editor answers probes through this. */
  setProber(prober: Prober): void {
    this.prober = prober;
  }

  /** A view painted `info` for `uri`. */
  recordRendered(uri: string, info: RenderedInfo): void {
    this.rendered.set(uri, info);
    const set = this.waiters.get(uri);
    if (!set) return;
    this.waiters.delete(uri);
    for (const waiter of set) waiter(info);
  }

  /** A new view opened or the model is being read again: the last paint is stale. */
  forgetRendered(uri: string): void {
    this.rendered.delete(uri);
    this.postedInfo.delete(uri);
  }

  private readonly resultsRendered = new Map<string, Omit<ResultsRenderedMessage, 'type'>>();

  lastResultsRendered(kind: ResultsRenderedMessage['kind']): Omit<ResultsRenderedMessage, 'type'> | undefined {
    return this.resultsRendered.get(kind);
  }

  recordResultsRendered(m: ResultsRenderedMessage): void {
    const { type: _type, ...rest } = m;
    this.resultsRendered.set(m.kind, rest);
  }

  recordReport(uri: string, report: InspectReport): void {
    this.reports.set(uri, report);
  }

  /** The extension posted `message` to a viewer of `uri` (kept by reference: sizes are measured only when a test asks). */
  recordPosted(uri: string, message: ExtensionToWebviewMessage): void {
    let info = this.postedInfo.get(uri);
    if (!info) this.postedInfo.set(uri, (info = { types: [], responses: new Map() }));
    info.types.push(message.type);
    if (info.types.length > 200) info.types.splice(0, info.types.length - 200);
    if (message.type === 'summary') {
      info.summary = message;
      info.responses.delete('weightList');
    } else if (message.type === 'response') info.responses.set(message.kind, message);
  }
}

/** The weight list posted after the last summary, when it came. */
function weightListOf(info: Posted): JsonText<WeightSummary[]> | undefined {
  return (info.responses.get('weightList') as ResponseMessage<'weightList'> | undefined)?.result;
}

/**
 * What the webview receives to show a model, in bytes: the summary and the weight list, their JSON texts
 * counted as they are (the transport's escaping of them is VS Code's).
 */
export function receivedBytes(summary: SummaryMessage, weightList: string | undefined): number {
  const { graph, ...rest } = summary;
  return jsonBytes(rest) + Buffer.byteLength(graph, 'utf8') + (weightList === undefined ? 0 : Buffer.byteLength(weightList, 'utf8'));
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}
