// Runs the graph layout off the UI thread: one web worker, started from a blob: URL holding its bundled
// source (a webview cannot start a worker from its resource URIs). If the worker cannot start (a CSP
// without `worker-src blob:`, an old host), the layout runs on the UI thread instead and says so.
import workerSource from 'inline-worker:./layoutWorker';
import { layoutGraph, type LayoutOptions, type LayoutResult } from './layout';
import type { LayoutJob } from './layoutWorker';
import { PendingRequests } from '../../src/protocol/pendingRequests';

export interface LayoutRun {
  result: LayoutResult;
  /** Time the layout itself took (in the worker). */
  ms: number;
  /** True when it ran on the UI thread because no worker could start. */
  inline: boolean;
}

type Reply = { id: number; result?: LayoutResult; ms?: number; error?: string };

export class LayoutClient {
  private worker: Worker | undefined;
  private workerFailed = false;
  private readonly pending = new PendingRequests<Error>();

  /** Lays out a graph; the typed arrays are transferred to the worker (do not use them afterwards). */
  layout(widths: Float64Array, heights: Float64Array, edges: Int32Array, options?: LayoutOptions): Promise<LayoutRun> {
    const worker = this.start();
    if (!worker) {
      const started = performance.now();
      const result = layoutGraph({ widths, heights, edges, options });
      return Promise.resolve({ result, ms: performance.now() - started, inline: true });
    }
    const id = this.pending.newId();
    const run = this.pending.add<LayoutRun>(id);
    const job: LayoutJob = { id, widths, heights, edges, options };
    worker.postMessage(job, [widths.buffer, heights.buffer, edges.buffer]);
    return run;
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.pending.rejectAll(new Error('The layout worker was stopped.'));
  }

  private start(): Worker | undefined {
    if (this.worker || this.workerFailed) return this.worker;
    try {
      const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
      const worker = new Worker(url, { name: 'onnxqs-layout' });
      URL.revokeObjectURL(url);
      worker.onmessage = (event: MessageEvent<Reply>) => {
        const { id, result, ms, error } = event.data;
        this.pending.settle(id, result ? undefined : new Error(error ?? 'The layout failed.'), result && { result, ms: ms ?? 0, inline: false });
      };
      worker.onerror = (event) => {
        event.preventDefault();
        const error = new Error(`The layout worker failed: ${event.message || 'unknown error'}`);
        this.pending.rejectAll(error);
        this.worker?.terminate();
        this.worker = undefined;
      };
      this.worker = worker;
    } catch (err) {
      console.warn(`[onnxqs] the layout worker could not start (${err instanceof Error ? err.message : String(err)}); laying out on the UI thread`);
      this.workerFailed = true;
    }
    return this.worker;
  }
}
