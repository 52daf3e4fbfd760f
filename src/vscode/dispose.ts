// Dispose discipline: every subscription, emitter, panel and child process is owned by something that
// disposes it. (The shape of vscode-hexeditor's and the VS Code samples' helper.)
import type * as vscode from 'vscode';

export interface IDisposable {
  dispose(): unknown;
}

/** Disposes every item, even when some throw; rethrows the first error afterwards. */
export function disposeAll(disposables: Iterable<IDisposable>): void {
  let first: unknown;
  let failed = false;
  for (const d of disposables) {
    try {
      d.dispose();
    } catch (err) {
      if (!failed) {
        failed = true;
        first = err;
      }
    }
  }
  if (failed) throw first;
}

export abstract class Disposable implements vscode.Disposable {
  private disposables: IDisposable[] = [];
  private disposedFlag = false;

  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    const items = this.disposables;
    this.disposables = [];
    disposeAll(items.reverse());
  }

  /** Owns `value`: it is disposed with this object (at once if this object is already disposed). */
  protected register<T extends IDisposable>(value: T): T {
    if (this.disposedFlag) value.dispose();
    else this.disposables.push(value);
    return value;
  }
}
