// Shows an InspectReport as an untitled Markdown document.
import * as vscode from 'vscode';
import type { InspectReport } from '../protocol/inspect';
import { reportToMarkdown } from './reportMarkdown';

export async function openReportMarkdown(report: InspectReport, uri: vscode.Uri): Promise<vscode.TextEditor> {
  const content = reportToMarkdown(report, { path: uri.scheme === 'file' ? uri.fsPath : uri.toString(true) });
  const document = await vscode.workspace.openTextDocument({ language: 'markdown', content });
  return vscode.window.showTextDocument(document, { preview: false });
}
