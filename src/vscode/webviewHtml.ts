// The one place webview HTML is made: a strict CSP with a per-load nonce, assets from media/dist only.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** Where the built webview assets live, relative to the extension root. */
const ASSET_DIR = ['media', 'dist'] as const;

/** Options for any webview of this extension: scripts on, and nothing readable outside media/dist. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, ...ASSET_DIR)],
  };
}

export interface WebviewPage {
  /** The document title (escaped here). */
  title: string;
  /** Script files in media/dist, loaded in order with the nonce. */
  scripts: string[];
  /** Stylesheets in media/dist. */
  styles: string[];
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): string {
  const nonce = randomBytes(18).toString('base64');
  const asset = (file: string): string =>
    escapeHtml(webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...ASSET_DIR, file)).toString());
  const csp = [
    `default-src 'none'`,
    // The nonce lets the UI toolkit probe for :focus-visible with a <style> element (it reads the nonce
    // from the csp-nonce meta tag); every other style comes from the stylesheets in media/dist.
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    // The graph layout worker is bundled into the script and started from a blob: URL.
    `worker-src blob:`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta property="csp-nonce" content="${escapeHtml(nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
${page.styles.map((file) => `<link rel="stylesheet" href="${asset(file)}">`).join('\n')}
</head>
<body>
<main id="app" aria-busy="true"></main>
${page.scripts.map((file) => `<script nonce="${nonce}" src="${asset(file)}"></script>`).join('\n')}
</body>
</html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
