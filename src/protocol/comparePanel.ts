// The link between the compare results panel (src/vscode/comparePanel.ts) and its webview
// (webview/compare/main.ts). The webview posts `ready` first; the extension answers with the result.
import type { CompareResult } from './compare';

export interface CompareResultMessage {
  type: 'result';
  /** What was compared, in words ("mnist-8.onnx (FP32) vs mnist-8.int8.onnx"). */
  title: string;
  result: CompareResult;
}

export type ExtensionToCompareMessage = CompareResultMessage;

/** After painting a result: what the DOM shows (the tests read it back). */
export interface CompareRenderedMessage {
  type: 'rendered';
  rows: number;
  plots: number;
  verdict: string;
}

export type CompareToExtensionMessage =
  | { type: 'ready' }
  | { type: 'copyMarkdown' }
  | { type: 'saveJson' }
  | CompareRenderedMessage;

export function isCompareToExtension(value: unknown): value is CompareToExtensionMessage {
  const t = (value as { type?: unknown } | null)?.type;
  return t === 'ready' || t === 'copyMarkdown' || t === 'saveJson' || t === 'rendered';
}

export function isExtensionToCompare(value: unknown): value is ExtensionToCompareMessage {
  return (value as { type?: unknown } | null)?.type === 'result';
}
