// What `activate()` returns (the extension's `exports`): hooks for the integration tests. Keys are
// `vscode.Uri.toString()` of the model.
import type { InspectReport } from '../onnx/report';
import type { RenderedMessage } from '../protocol/webview';

/** What the webview painted, read back from its DOM. */
export type RenderedInfo = Omit<RenderedMessage, 'type'>;

export interface TestApi {
  /**
   * Resolves with what the model editor's webview for `uri` painted last, waiting for the next paint
   * when the view has not painted since it was opened or the model was reloaded. Rejects after
   * `timeoutMs` (default 20 s).
   */
  waitForRendered(uri: string, timeoutMs?: number): Promise<RenderedInfo>;
  /** The last InspectReport read for `uri` (by the model editor or the inspect command). */
  lastReport(uri: string): InspectReport | undefined;
}

/** The extension's side of the hooks: the editor and the commands record into it. */
export class TestHooks implements TestApi {
  private readonly rendered = new Map<string, RenderedInfo>();
  private readonly reports = new Map<string, InspectReport>();
  private readonly waiters = new Map<string, Set<(info: RenderedInfo) => void>>();

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
  }

  recordReport(uri: string, report: InspectReport): void {
    this.reports.set(uri, report);
  }
}
