// The link between a results panel (src/vscode/resultsPanel.ts) and its webview (webview/results/):
// the comparison of two models, or the report of a quantization. The webview posts `ready` first; the
// extension answers with what to show. Buttons come back as actions.
import type { BenchResult } from './bench';
import type { CompareResult } from './compare';
import type { RefineStep } from './refine';

/** A comparison of two models' outputs. */
export interface CompareContent {
  kind: 'compare';
  result: CompareResult;
  /** Buttons beyond Copy and Save (Keep the worst layers in float…). */
  actions?: ReportAction[];
}

/** "Keep the N worst layers in float and re-quantize": the history, one row per quantization. */
export interface RefineContent {
  kind: 'refine';
  /** The FP32 model every step is compared with. */
  source: string;
  steps: RefineStep[];
  /** The nodes the next step would leave in float (empty: none is left), and how many a step takes. */
  next: string[];
  /** The nodes the next step would give 16-bit activations; null where the format cannot (QOperator, 16-bit already). */
  next16: string[] | null;
  perStep: number;
  /** A step is running. */
  busy: boolean;
}

/** An earlier benchmark of a model in this workspace. */
export interface BenchHistoryEntry {
  date: string;
  provider: string;
  p50: number;
  p90: number;
  p99: number;
  sizeBytes: number;
}

/** A benchmark: the result, and the earlier results of the same models (by run index, newest first). */
export interface BenchContent {
  kind: 'bench';
  result: BenchResult;
  history: BenchHistoryEntry[][];
  actions: ReportAction[];
}

/** A fact of a quantize report, as the editor words it. */
export interface ReportFact { label: string; value: string; warning?: boolean }

/** A button the report offers (Open Model, Compare with FP32, Quantize again with some nodes in float). */
export interface ReportAction { id: string; label: string; icon?: string; primary?: boolean; title?: string }

/**
 * A quantize report, prepared by the extension for the editor (notes speak of the editor's choices, not
 * of command-line flags); the webview lays it out.
 */
export interface QuantizeContent {
  kind: 'quantize';
  output: string;
  /** One line: what was done, and whether the accuracy target was met. */
  verdict: { text: string; ok: boolean | null };
  facts: ReportFact[];
  /** The new model against the source, per output (with the accuracy target's, where one was set). */
  outputs: { name: string; cosine: number; worstCosine: number; sqnrDb: number | null; maxAbs: number; target: number | null }[];
  outputsNote: string | null;
  notes: { text: string; action?: ReportAction }[];
  weights: { name: string; shape: string; scheme: string; sqnr: number | null; bytes: string }[];
  /** How many weights there are in all (the list holds the lowest SQNR first, up to a limit). */
  weightCount: number;
  skipped: { name: string; opType: string; reason: string }[];
  skippedCount: number;
  actions: ReportAction[];
}

/** A table of the model summary: plain texts (each renderer escapes them); `code` columns hold names from the model. */
export interface SummarySection {
  id: string;
  title: string;
  /** Heading level in Markdown (2 unless given). */
  level?: 3;
  /** What to say when there are no rows ('' for a section left out then). */
  empty: string;
  headers: { label: string; numeric?: boolean; code?: boolean }[];
  rows: string[][];
}

/** The model summary (Show Model Summary): facts, the model's description, its tables. */
export interface SummaryContent {
  kind: 'summary';
  file: string;
  facts: { label: string; value: string; code?: boolean }[];
  description: string | null;
  sections: SummarySection[];
  actions: ReportAction[];
}

export type ResultsContent = CompareContent | QuantizeContent | RefineContent | BenchContent | SummaryContent;

export interface ShowResultsMessage {
  type: 'show';
  title: string;
  content: ResultsContent;
}

export type ExtensionToResultsMessage = ShowResultsMessage;

/** After painting: what the DOM shows (the tests read it back). */
export interface ResultsRenderedMessage {
  type: 'rendered';
  kind: ResultsContent['kind'];
  /** Rows of the main table (outputs). */
  rows: number;
  /** Plots drawn. */
  plots: number;
  /** Rows of the layers table (compare; 0 when the layers were not compared). */
  layerRows?: number;
  /** Rows of the earlier results (bench). */
  historyRows?: number;
  /** The verdict line as shown. */
  verdict: string;
}

export type ResultsToExtensionMessage =
  | { type: 'ready' }
  | { type: 'copyMarkdown' }
  | { type: 'saveJson' }
  | { type: 'action'; id: string }
  | ResultsRenderedMessage;

export function isResultsToExtension(value: unknown): value is ResultsToExtensionMessage {
  const t = (value as { type?: unknown } | null)?.type;
  return t === 'ready' || t === 'copyMarkdown' || t === 'saveJson' || t === 'rendered' || (t === 'action' && typeof (value as { id?: unknown }).id === 'string');
}

export function isExtensionToResults(value: unknown): value is ExtensionToResultsMessage {
  return (value as { type?: unknown } | null)?.type === 'show';
}
