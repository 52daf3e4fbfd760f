// Shows an InspectReport as a read-only Markdown document (a virtual document of our own scheme: nothing
// to save, no prompt on close; a second summary of the same model replaces the first's text).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { InspectReport } from '../protocol/inspect';
import { reportToMarkdown } from './reportMarkdown';

export const SUMMARY_SCHEME = 'onnxqs-summary';

class SummaryDocuments implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }

  forget(uri: vscode.Uri): void {
    this.contents.delete(uri.toString());
  }

  set(uri: vscode.Uri, content: string): void {
    this.contents.set(uri.toString(), content);
    this.changed.fire(uri);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

const documents = new SummaryDocuments();

/** The provider of the summary documents; registered once, at activation. */
export function registerSummaryDocuments(): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.workspace.registerTextDocumentContentProvider(SUMMARY_SCHEME, documents),
    // A closed summary's text goes with it.
    vscode.workspace.onDidCloseTextDocument((d) => { if (d.uri.scheme === SUMMARY_SCHEME) documents.forget(d.uri); }),
    documents,
  );
}

export async function openReportMarkdown(report: InspectReport, uri: vscode.Uri): Promise<vscode.TextEditor> {
  const content = reportToMarkdown(report, { path: uri.scheme === 'file' ? uri.fsPath : uri.toString(true) });
  // One document per model: the path names the model (the tab's title), the query keeps models of the same name apart.
  const doc = vscode.Uri.from({ scheme: SUMMARY_SCHEME, path: `/${path.basename(uri.path)} summary.md`, query: uri.toString() });
  documents.set(doc, content);
  const document = await vscode.workspace.openTextDocument(doc);
  return vscode.window.showTextDocument(document, { preview: false });
}
