// Entry point: registers the model editor and the commands; nothing else lives here.
import type * as vscode from 'vscode';
import { registerCommands } from './vscode/commands';
import { registerSummaryDocuments } from './vscode/reportDocument';
import { ModelEditorProvider } from './vscode/modelEditorProvider';
import { registerSampleCommands } from './vscode/sampleCommands';
import { Services } from './vscode/services';
import type { TestApi } from './vscode/testApi';

export type { TestApi } from './vscode/testApi';

export function activate(context: vscode.ExtensionContext): TestApi {
  const services = new Services(context.extensionUri, context.workspaceState);
  context.subscriptions.push(services, ModelEditorProvider.register(services), registerCommands(services), registerSummaryDocuments(), registerSampleCommands(context.extensionUri, context.globalStorageUri));
  const { hooks } = services;
  return {
    waitForRendered: (uri, timeoutMs) => hooks.waitForRendered(uri, timeoutMs),
    lastReport: (uri) => hooks.lastReport(uri),
    posted: (uri) => hooks.posted(uri),
    lastSummary: (uri) => hooks.lastSummary(uri),
    probe: (uri, probe, timeoutMs) => hooks.probe(uri, probe, timeoutMs),
    lastResultsRendered: (kind) => hooks.lastResultsRendered(kind),
    outline: () => hooks.outline(),
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
