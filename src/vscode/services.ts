// The long-lived objects the providers and commands share: the log, the job process clients, the test
// hooks. Owned (and disposed) by the extension context.
import * as vscode from 'vscode';
import { JobClient } from '../jobs/client';
import { Disposable } from './dispose';
import { OverlayStore } from './overlays';
import { TestHooks } from './testApi';

export const OUTPUT_CHANNEL_NAME = 'ONNX Quantization Studio';

export class Services extends Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly jobs: JobClient;
  /** Quantization runs in a job process of its own: minutes long, cancelled by killing it, and the editor's requests do not queue behind it. */
  readonly quantizer: JobClient;
  readonly hooks = new TestHooks();
  /** Figures drawn over model graphs (the layer error of a comparison), per model file. */
  readonly overlays = this.register(new OverlayStore());

  /** `workspaceState`: where per-model choices (the inputs of a model) are remembered. */
  constructor(readonly extensionUri: vscode.Uri, readonly workspaceState?: vscode.Memento) {
    super();
    this.log = this.register(vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true }));
    const log = this.log;
    const childPath = vscode.Uri.joinPath(extensionUri, 'dist', 'jobChild.js').fsPath;
    const toLog = (level: 'info' | 'warn' | 'error', message: string) => log[level](message);
    this.jobs = this.register(new JobClient({ childPath, log: toLog }));
    this.quantizer = this.register(new JobClient({ childPath, log: toLog, defaultTimeoutMs: 0, idleShutdownMs: 30_000 }));
  }
}
