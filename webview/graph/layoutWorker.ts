// The layout web worker. esbuild bundles this file into the webview script as a string (see
// scripts/build.mjs, `inline-worker:`), and layoutClient.ts starts it from a blob: URL: a worker cannot
// be loaded from a webview resource URI (another origin). The CSP allows exactly that (`worker-src blob:`).
import { layoutGraph, layoutTransferables, type LayoutOptions } from './layout';

export interface LayoutJob {
  id: number;
  widths: Float64Array;
  heights: Float64Array;
  edges: Int32Array;
  options?: LayoutOptions;
}

const scope = self as unknown as { onmessage: ((event: MessageEvent<LayoutJob>) => void) | null; postMessage(message: unknown, transfer: Transferable[]): void };

scope.onmessage = (event) => {
  const { id, widths, heights, edges, options } = event.data;
  const started = performance.now();
  try {
    const result = layoutGraph({ widths, heights, edges, options });
    scope.postMessage({ id, result, ms: performance.now() - started }, layoutTransferables(result));
  } catch (err) {
    scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) }, []);
  }
};
