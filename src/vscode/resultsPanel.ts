// A results panel: a webview panel per result (webview/results/), in theme colours, with Copy as
// Markdown and Save as JSON, and the buttons the content offers. Used by compare, Quantize Model and the benchmark.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isResultsToExtension, type ExtensionToResultsMessage, type ResultsContent, type ResultsRenderedMessage } from '../protocol/results';
import type { Services } from './services';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const RESULTS_VIEW_TYPE = 'onnxqs.results';

export interface ResultsPanelOptions {
  /** What Copy as Markdown copies. */
  markdown: () => string;
  /** What Save as JSON writes, and the file it suggests. */
  json: () => unknown;
  jsonFile: string;
  /** A button of the content was pressed. */
  onAction?: (id: string) => void;
}

/**
 * Opens a panel showing `content`; `rendered` resolves when the webview has painted it; `update` shows new
 * content in the same panel (the refine history grows step by step).
 */
export function showResults(services: Services, title: string, content: ResultsContent, options: ResultsPanelOptions): { panel: vscode.WebviewPanel; rendered: Promise<ResultsRenderedMessage>; update: (next: ResultsContent) => void } {
  const panel = vscode.window.createWebviewPanel(RESULTS_VIEW_TYPE, title, { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, {
    ...webviewOptions(services.extensionUri), retainContextWhenHidden: false,
  });
  panel.webview.html = webviewHtml(panel.webview, services.extensionUri, { title, scripts: ['results.js'], styles: ['codicon.css', 'webview.css'] });
  let resolveRendered: (m: ResultsRenderedMessage) => void = () => undefined;
  const rendered = new Promise<ResultsRenderedMessage>((resolve) => { resolveRendered = resolve; });
  const post = (m: ExtensionToResultsMessage) => void panel.webview.postMessage(m);
  let current = content;
  const sub = panel.webview.onDidReceiveMessage(async (m: unknown) => {
    if (!isResultsToExtension(m)) return;
    switch (m.type) {
      case 'ready':
        post({ type: 'show', title, content: current });
        return;
      case 'rendered':
        services.hooks.recordResultsRendered(m);
        resolveRendered(m);
        return;
      case 'copyMarkdown':
        await vscode.env.clipboard.writeText(options.markdown());
        void vscode.window.showInformationMessage(`Copied ${title} as Markdown.`);
        return;
      case 'saveJson':
        await saveJson(services, options.json(), options.jsonFile);
        return;
      case 'action':
        options.onAction?.(m.id);
        return;
    }
  });
  panel.onDidDispose(() => sub.dispose());
  const update = (next: ResultsContent) => { current = next; post({ type: 'show', title, content: next }); };
  return { panel, rendered, update };
}

async function saveJson(services: Services, value: unknown, suggested: string): Promise<void> {
  await saveFile(services, `${JSON.stringify(value, null, 2)}\n`, suggested, 'JSON');
}

const EXTENSIONS = { JSON: 'json', CSV: 'csv', Markdown: 'md', PNG: 'png', SVG: 'svg' } as const;

/**
 * Asks where, then writes `data` there (a temporary file renamed into place: a failed write leaves no half
 * file). The path written, or undefined when the dialog was cancelled or the write failed (which it says).
 */
export async function saveFile(services: Services, data: string | Uint8Array, suggested: string, format: keyof typeof EXTENSIONS): Promise<string | undefined> {
  const target = await vscode.window.showSaveDialog({ title: `Save as ${format}`, saveLabel: 'Save', defaultUri: vscode.Uri.file(suggested), filters: { [format]: [EXTENSIONS[format]] } });
  if (!target) return undefined;
  const tmp = `${target.fsPath}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, target.fsPath);
    services.log.info(`Saved ${target.fsPath}.`);
    return target.fsPath;
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    void vscode.window.showErrorMessage(`Could not save ${path.basename(target.fsPath)}: ${(e as Error).message}`);
    return undefined;
  }
}
