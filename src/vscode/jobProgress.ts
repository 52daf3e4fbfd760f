// A job run under a cancellable progress notification: Cancel aborts the job (its process is killed), and
// the job's progress messages and fractions show in the notification.
import * as vscode from 'vscode';
import type { JobCallOptions, JobProgress } from '../jobs/client';

export function withJobProgress<T>(title: string, run: (options: Required<Pick<JobCallOptions, 'signal' | 'onProgress'>>) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const subscription = token.onCancellationRequested(() => abort.abort());
    let shown = 0; // percent; withProgress adds increments, the job says where it is
    const onProgress = (p: JobProgress) => {
      const at = p.fraction === undefined ? undefined : Math.round(p.fraction * 100);
      progress.report({ message: p.message, increment: at !== undefined && at > shown ? at - shown : undefined });
      if (at !== undefined && at > shown) shown = at;
    };
    try {
      return await run({ signal: abort.signal, onProgress });
    } finally {
      subscription.dispose();
    }
  });
}
