// The compare results panel: a webview panel per comparison (webview/compare/main.ts), in theme colours,
// with Copy as Markdown and Save as JSON. Markdown is the same table the CLI prints.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CompareResult } from '../protocol/compare';
import { isCompareToExtension, type CompareRenderedMessage, type ExtensionToCompareMessage } from '../protocol/comparePanel';
import { formatCompareMarkdown } from '../runtime/compareReport';
import type { Services } from './services';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const COMPARE_VIEW_TYPE = 'onnxqs.compareResults';

/** Opens a panel showing `result`; resolves when the webview has painted it (with what it shows). */
export function showCompareResult(services: Services, title: string, result: CompareResult): { panel: vscode.WebviewPanel; rendered: Promise<CompareRenderedMessage> } {
  const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, title, { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, {
    ...webviewOptions(services.extensionUri), retainContextWhenHidden: false,
  });
  panel.webview.html = webviewHtml(panel.webview, services.extensionUri, { title, scripts: ['compare.js'], styles: ['codicon.css', 'webview.css'] });
  let resolveRendered: (m: CompareRenderedMessage) => void = () => undefined;
  const rendered = new Promise<CompareRenderedMessage>((resolve) => { resolveRendered = resolve; });
  const post = (m: ExtensionToCompareMessage) => void panel.webview.postMessage(m);
  const sub = panel.webview.onDidReceiveMessage(async (m: unknown) => {
    if (!isCompareToExtension(m)) return;
    switch (m.type) {
      case 'ready':
        post({ type: 'result', title, result });
        return;
      case 'rendered':
        services.hooks.recordCompareRendered(m);
        resolveRendered(m);
        return;
      case 'copyMarkdown':
        await vscode.env.clipboard.writeText(formatCompareMarkdown(result));
        void vscode.window.showInformationMessage('Copied the comparison as Markdown.');
        return;
      case 'saveJson':
        await saveJson(services, result);
        return;
    }
  });
  panel.onDidDispose(() => sub.dispose());
  return { panel, rendered };
}

async function saveJson(services: Services, result: CompareResult): Promise<void> {
  const stem = path.basename(result.b.file).replace(/\.onnx$/i, '');
  const target = await vscode.window.showSaveDialog({
    title: 'Save the comparison as JSON', saveLabel: 'Save',
    defaultUri: vscode.Uri.file(path.join(path.dirname(result.b.file), `${stem}.compare.json`)), filters: { JSON: ['json'] },
  });
  if (!target) return;
  // Written beside the target and renamed into place: a failed write leaves no half file.
  const tmp = `${target.fsPath}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(result, null, 2)}\n`);
    fs.renameSync(tmp, target.fsPath);
    services.log.info(`Saved the comparison to ${target.fsPath}.`);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    void vscode.window.showErrorMessage(`Could not save ${path.basename(target.fsPath)}: ${(e as Error).message}`);
  }
}
