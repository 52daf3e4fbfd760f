// The figures drawn over a model's graph (a comparison's SQNR drop per node, its graph diff), per model
// file: set by a command, sent to every model viewer of that file, and again to one that opens or reloads
// later; and which model each was last compared with (the weights view draws a weight against the
// quantized copy's grid).
import * as vscode from 'vscode';
import type { NodeOverlay } from '../protocol/webview';
import { Disposable } from './dispose';

export class OverlayStore extends Disposable {
  private readonly byUri = new Map<string, NodeOverlay[]>();
  private readonly changed = this.register(new vscode.EventEmitter<vscode.Uri>());
  /** Fires with the model whose overlay was set or removed. */
  readonly onDidChange = this.changed.event;

  /** The figures to draw over `uri`'s graph, the first shown (empty: none). */
  set(uri: vscode.Uri, overlays: NodeOverlay[]): void {
    if (overlays.length) this.byUri.set(uri.toString(), overlays);
    else this.byUri.delete(uri.toString());
    this.changed.fire(uri);
  }

  get(uri: vscode.Uri): NodeOverlay[] {
    return this.byUri.get(uri.toString()) ?? [];
  }

  private readonly counterparts = new Map<string, string>();

  /** Two models just compared (an FP32 model and its quantized copy): each is the other's counterpart. */
  pair(a: vscode.Uri, b: vscode.Uri): void {
    this.counterparts.set(a.toString(), b.fsPath);
    this.counterparts.set(b.toString(), a.fsPath);
  }

  /** The file last compared with `uri` (its weights are drawn against that one's grid), if any. */
  counterpart(uri: vscode.Uri): string | undefined {
    return this.counterparts.get(uri.toString());
  }
}
