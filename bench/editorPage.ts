// The model editor's webview outside VS Code, for the editor benchmark (bench/editor.ts) and quick
// screenshots: the built bundle (media/dist) served from a local HTTP server into a plain page in headless
// Chromium (Debian's, driven by playwright-core from test/harness/node_modules), with the webview's own CSP
// (script nonce, `worker-src blob:`), a stand-in for acquireVsCodeApi, VS Code's theme variables (captured
// from code-server's Dark Modern and Light Modern themes, bench/themes/*.json) and the extension's side of
// the protocol answered by the same functions the job process runs (src/jobs/modelJobs.ts).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Model } from '../src/onnx/model';
import { graphData, weightDetailData, weightList, weightStats } from '../src/jobs/modelJobs';
import type { JsonText } from '../src/protocol/common';
import type { WeightSummary } from '../src/protocol/graph';
import type { SummaryMessage, WebviewToExtensionMessage } from '../src/protocol/webview';

export const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'media', 'dist');
const THEMES = path.join(__dirname, 'themes');

// playwright-core lives in the test harness's own node_modules (it never goes into the .vsix, and the
// type check must pass before scripts/setup-test-env.sh installed it): the little of it used here is
// typed by hand.
const harnessRequire = createRequire(path.join(ROOT, 'test', 'harness', 'package.json'));

export interface Page {
  goto(url: string): Promise<unknown>;
  evaluate<R>(fn: string | (() => R | Promise<R>)): Promise<R>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  waitForFunction(fn: () => unknown): Promise<unknown>;
  exposeFunction(name: string, fn: (json: string) => void): Promise<void>;
  on(event: 'pageerror', listener: (error: Error) => void): void;
  on(event: 'console', listener: (message: { text(): string }) => void): void;
  screenshot(options: { path: string }): Promise<unknown>;
  waitForTimeout(ms: number): Promise<void>;
  mouse: { click(x: number, y: number): Promise<void> };
  keyboard: { press(key: string): Promise<void> };
}
export interface CdpSession {
  send(method: string, params?: object): Promise<unknown>;
}
export interface BrowserContext {
  newPage(): Promise<Page>;
  newCDPSession(page: Page): Promise<CdpSession>;
  close(): Promise<void>;
}
export interface Browser {
  newContext(options: { viewport: { width: number; height: number } }): Promise<BrowserContext>;
  newPage(options: { viewport: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}
interface Playwright {
  chromium: { launch(options: { executablePath: string; headless: boolean; args: string[] }): Promise<Browser> };
}
export function playwright(): Playwright {
  return harnessRequire('playwright-core') as Playwright;
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launch(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM || '/usr/lib/chromium/chromium';
  if (!fs.existsSync(executablePath)) throw new Error(`no chromium at ${executablePath}: run scripts/setup-test-env.sh or set CHROMIUM`);
  return playwright().chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

export type ThemeName = 'dark' | 'light';

/** VS Code's theme: the CSS variables on <html> and the body class, as a webview gets them. */
export function themeOf(name: ThemeName): { style: string; bodyClass: string } {
  const file = path.join(THEMES, `${name}.json`);
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { style: string; bodyClass: string };
  return data;
}

export interface EditorServer {
  url: string;
  close(): Promise<void>;
}

/** Serves media/dist and a page per theme (`/dark.html`, `/light.html`) with the webview's CSP. */
export async function serveEditor(): Promise<EditorServer> {
  if (!fs.existsSync(path.join(DIST, 'webview.js'))) throw new Error('media/dist/webview.js is missing: run `npm run build` first');
  let origin = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const name = path.basename(url.pathname);
    const theme = /^(dark|light)\.html$/.exec(name)?.[1] as ThemeName | undefined;
    if (theme) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(pageHtml(origin, theme));
      return;
    }
    const file = path.join(DIST, name);
    if (!name || !fs.existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    const type = name.endsWith('.js') ? 'text/javascript' : name.endsWith('.css') ? 'text/css' : name.endsWith('.ttf') ? 'font/ttf' : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: origin, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function pageHtml(origin: string, theme: ThemeName): string {
  const nonce = randomBytes(18).toString('base64');
  const t = themeOf(theme);
  const csp = [`default-src 'none'`, `style-src ${origin} 'nonce-${nonce}'`, `font-src ${origin}`, `img-src ${origin}`, `script-src 'nonce-${nonce}'`, `worker-src blob:`].join('; ');
  // The stand-in for VS Code's webview API: messages to the extension go to window.__host (a function the
  // benchmark exposes); state lives in window.__state.
  const shim = `window.onnxqsBench = true;
window.__state = undefined;
window.__posted = [];
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber + ':' + e.columnNumber + ' ' + e.sample));
window.acquireVsCodeApi = () => ({
  postMessage: (m) => {
    window.__posted.push(m);
    if (m.type === 'rendered' && window.__onRendered) window.__onRendered(m);
    if (window.__host) window.__host(JSON.stringify(m));
  },
  getState: () => window.__state,
  setState: (s) => { window.__state = s; },
});`;
  return `<!DOCTYPE html>
<html lang="en" style="${t.style.replace(/"/g, '&quot;')}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta property="csp-nonce" content="${nonce}">
<title>ONNX model: bench.onnx</title>
<link rel="stylesheet" href="${origin}/codicon.css">
<link rel="stylesheet" href="${origin}/webview.css">
</head>
<body class="${t.bodyClass}">
<main id="app" aria-busy="true"></main>
<script nonce="${nonce}">${shim}</script>
<script nonce="${nonce}" src="${origin}/webview.js"></script>
</body>
</html>`;
}

/**
 * Answers the webview's requests the way the extension does (the weight list, subgraphs, statistics,
 * histograms), from a parsed model, or only the weight list, from its text. Posts each answer into the page.
 */
export async function attachHost(page: Page, model: Model | undefined, list?: JsonText<WeightSummary[]>): Promise<void> {
  await page.exposeFunction('__host', (json: string) => {
    const message = JSON.parse(json) as WebviewToExtensionMessage;
    if (!('id' in message) || message.type === 'probeResult') return;
    // Without a model, only the weight list (given as text) is answered.
    if (!model && !(message.type === 'weightList' && list)) return;
    let reply: unknown;
    try {
      switch (message.type) {
        case 'weightList':
          reply = { type: 'response', id: message.id, kind: 'weightList', result: list ?? weightList(model!) };
          break;
        case 'graph':
          reply = { type: 'response', id: message.id, kind: 'graph', result: graphData(model!, message.path) };
          break;
        case 'weightStats':
          reply = { type: 'response', id: message.id, kind: 'weightStats', result: weightStats(model!) };
          break;
        case 'weightDetail':
          reply = { type: 'response', id: message.id, kind: 'weightDetail', result: weightDetailData(model!, message.weight, message.bins) };
          break;
        default:
          reply = { type: 'responseError', id: message.id, error: { code: 'unsupported', message: `${message.type} is not available in the benchmark page` } };
      }
    } catch (err) {
      reply = { type: 'responseError', id: message.id, error: { code: 'internal', message: (err as Error).message } };
    }
    void page.evaluate((m: string) => window.postMessage(JSON.parse(m), '*'), JSON.stringify(reply)).catch(() => undefined);
  });
}

/** Hands the summary to the page and resolves when the graph is painted: page-side milliseconds. */
export async function handSummary(page: Page, message: SummaryMessage): Promise<{ ms: number; parseMs: number; rendered: unknown }> {
  // The JSON goes into the page first (the transfer through the debugging protocol is not the webview's
  // cost); the clock starts when the page has it and dispatches it as VS Code does.
  await page.evaluate((json: string) => {
    (window as unknown as { __pending: string }).__pending = json;
  }, JSON.stringify(message));
  return page.evaluate(
    () =>
      new Promise<{ ms: number; parseMs: number; rendered: unknown }>((resolve) => {
        const w = window as unknown as { __pending: string; __onRendered?: (m: unknown) => void };
        const t0 = performance.now();
        const data = JSON.parse(w.__pending);
        const parseMs = performance.now() - t0;
        w.__onRendered = (rendered) => {
          w.__onRendered = undefined;
          // The frame that shows it.
          requestAnimationFrame(() => resolve({ ms: performance.now() - t0, parseMs, rendered }));
        };
        window.postMessage(data, '*');
      }),
  );
}
