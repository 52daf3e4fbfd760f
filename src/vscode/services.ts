// The long-lived objects the providers and commands share: the log, the job process client, the test
// hooks. Owned (and disposed) by the extension context.
import * as vscode from 'vscode';
import { JobClient } from '../jobs/client';
import { Disposable } from './dispose';
import { TestHooks } from './testApi';

export const OUTPUT_CHANNEL_NAME = 'ONNX Quantization Studio';

export class Services extends Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly jobs: JobClient;
  readonly hooks = new TestHooks();

  constructor(readonly extensionUri: vscode.Uri) {
    super();
    this.log = this.register(vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true }));
    const log = this.log;
    this.jobs = new JobClient({
      childPath: vscode.Uri.joinPath(extensionUri, 'dist', 'jobChild.js').fsPath,
      log: (level, message) => {
        switch (level) {
          case 'info':
            log.info(message);
            return;
          case 'warn':
            log.warn(message);
            return;
          case 'error':
            log.error(message);
            return;
        }
      },
    });
    this.register(this.jobs);
  }
}
