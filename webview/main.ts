// The model editor's webview: the model summary (the graph view comes later).
//
// Protocol (src/protocol/webview.ts): post `ready` first; the extension answers with the document's
// state (`loading`, `summary` or `loadError`) and sends it again whenever it changes. After painting a
// summary or an error, post `rendered` with what the DOM shows. The last state is kept with setState, so
// a hidden and restored view paints at once.
//
// Every string from the model is attacker-controlled: the DOM is built with createElement/textContent
// only (never innerHTML).
import { assertNever, type ErrorData } from '../src/protocol/common';
import {
  formatBytes,
  formatCompact,
  formatCount,
  formatNumber,
  formatOpsets,
  sortedHistogram,
} from '../src/onnx/format';
import type { InspectReport, TensorSummary, ValueInfo } from '../src/onnx/report';
import {
  isExtensionMessage,
  type DocumentStateMessage,
  type ExtensionToWebviewMessage,
  type LoadErrorMessage,
  type LoadingMessage,
  type RenderedMessage,
  type SummaryMessage,
  type WebviewRequest,
  type WebviewRequestKind,
  type WebviewRequestResults,
  type WebviewToExtensionMessage,
} from '../src/protocol/webview';

interface VsCodeApi {
  postMessage(message: WebviewToExtensionMessage): void;
  getState(): unknown;
  setState(state: ViewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** What survives the view being hidden. */
interface ViewState {
  version: 1;
  last?: DocumentStateMessage;
  scrollY?: number;
}

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') ?? document.body.appendChild(document.createElement('main'));
let state: ViewState = restoreState();

// ---------------------------------------------------------------------------------------------------
// Requests to the extension: an id, one response or responseError, a timeout.

const REQUEST_TIMEOUT_MS = 120_000;
let nextRequestId = 1;
const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: ErrorData) => void; timer: number }>();

function request<K extends WebviewRequestKind>(type: K): Promise<WebviewRequestResults[K]> {
  const id = nextRequestId++;
  return new Promise<WebviewRequestResults[K]>((resolve, reject) => {
    const timer = window.setTimeout(() => {
      pending.delete(id);
      reject({ code: 'timeout', message: `The extension did not answer "${type}" within ${REQUEST_TIMEOUT_MS / 1000} s.` });
    }, REQUEST_TIMEOUT_MS);
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
    vscode.postMessage({ type, id } as WebviewRequest);
  });
}

function settle(id: number, error: ErrorData | undefined, result?: unknown): void {
  const entry = pending.get(id);
  if (!entry) return;
  pending.delete(id);
  window.clearTimeout(entry.timer);
  if (error) entry.reject(error);
  else entry.resolve(result);
}

// ---------------------------------------------------------------------------------------------------
// Messages from the extension

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (!isExtensionMessage(event.data)) return;
  const message: ExtensionToWebviewMessage = event.data;
  switch (message.type) {
    case 'loading':
    case 'summary':
    case 'loadError':
      // The scroll position is kept across reloads (the loading view does not overwrite it).
      saveState({ ...state, last: message });
      paint(message, true);
      return;
    case 'response':
      settle(message.id, undefined, message.result);
      return;
    case 'responseError':
      settle(message.id, message.error);
      return;
    default:
      assertNever(message, 'extension message');
  }
});

function paint(message: DocumentStateMessage, announce: boolean): void {
  switch (message.type) {
    case 'loading':
      renderLoading(message);
      return;
    case 'summary':
      renderSummary(message);
      break;
    case 'loadError':
      renderError(message);
      break;
    default:
      assertNever(message, 'document state');
  }
  if (state.scrollY) window.scrollTo(0, state.scrollY);
  if (announce) vscode.postMessage(readRendered());
}

// ---------------------------------------------------------------------------------------------------
// Views

function renderLoading(message: LoadingMessage): void {
  const size = message.fileBytes === undefined ? '' : ` (${formatBytes(message.fileBytes)})`;
  replace(
    h('header', { class: 'header' }, h('h1', { id: 'title' }, message.fileName)),
    h('p', { class: 'status', role: 'status', 'aria-live': 'polite' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), `Reading ${message.fileName}${size}…`),
  );
  app.setAttribute('aria-busy', 'true');
}

function renderError(message: LoadErrorMessage): void {
  const { error } = message;
  replace(
    h('header', { class: 'header' }, h('h1', { id: 'title' }, message.fileName), toolbar(false)),
    h(
      'section',
      { class: 'error', role: 'alert', 'aria-labelledby': 'error-heading', 'data-error-code': error.code },
      h('h2', { id: 'error-heading' }, `Could not read ${message.fileName}`),
      h('p', { class: 'error-message' }, error.message),
      h('p', { class: 'error-hint' }, message.hint),
      h('p', { class: 'error-code' }, 'Error code: ', h('code', {}, error.code), error.file ? ' · File: ' : '', error.file ? h('code', {}, error.file) : ''),
    ),
  );
}

function renderSummary(message: SummaryMessage): void {
  const r = message.report;
  const ops = sortedHistogram(r.opHistogram);
  const parts: Node[] = [
    h(
      'header',
      { class: 'header' },
      h('h1', { id: 'title' }, message.fileName),
      h('p', { class: 'subtitle' }, `ONNX model · ${formatBytes(r.fileBytes)} · IR ${r.irVersion} · ${formatOpsets(r.opsets)}`),
      toolbar(true),
    ),
    section('model', 'Model', overview(r)),
  ];
  if (r.docString.trim()) parts.push(section('description', 'Description', h('p', { class: 'doc' }, r.docString)));
  const metadata = Object.entries(r.metadata);
  if (metadata.length > 0) {
    parts.push(
      section(
        'metadata',
        `Metadata (${metadata.length})`,
        table({ id: 'metadata-table', caption: 'Metadata properties', headers: [{ label: 'Key' }, { label: 'Value' }], rows: metadata.map(([k, v]) => [k, h('span', { class: 'value' }, v)]) }),
      ),
    );
  }
  parts.push(section('inputs', `Inputs (${r.inputs.length})`, valueTable('inputs-table', 'Graph inputs', r.inputs)));
  parts.push(section('outputs', `Outputs (${r.outputs.length})`, valueTable('outputs-table', 'Graph outputs', r.outputs)));
  parts.push(
    section(
      'operators',
      `Operators (${ops.length} op types)`,
      h('p', {}, h('span', { id: 'node-count', 'data-node-count': String(r.nodeCount) }, formatCount(r.nodeCount)), ` nodes${r.subgraphCount > 0 ? `, in the main graph and ${r.subgraphCount} subgraph${r.subgraphCount === 1 ? '' : 's'}` : ''}.`),
      ops.length === 0
        ? h('p', {}, 'The graph has no nodes.')
        : table({
            id: 'ops-table',
            caption: 'Nodes per op type',
            headers: [{ label: 'Op type' }, { label: 'Count', numeric: true }, { label: 'Share', numeric: true }],
            rows: ops.map(([op, n]) => [op || '(empty)', formatCount(n), share(n, r.nodeCount)]),
          }),
      r.functions.length === 0
        ? null
        : table({
            id: 'functions-table',
            caption: 'Model-local functions',
            headers: [{ label: 'Name' }, { label: 'Domain' }, { label: 'Nodes', numeric: true }],
            rows: r.functions.map((f) => [f.name, f.domain || 'ai.onnx', formatCount(f.nodeCount)]),
          }),
    ),
  );
  const dtypes = Object.entries(r.parameters.byDtype).sort(([, a], [, b]) => b.bytes - a.bytes);
  parts.push(
    section(
      'parameters',
      'Parameters by dtype',
      h('p', {}, `${formatCount(r.parameters.count)} parameters (${formatCompact(r.parameters.count)}) in ${formatBytes(r.parameters.bytes)}.`),
      dtypes.length === 0
        ? h('p', {}, 'The model has no weights.')
        : table({
            id: 'dtypes-table',
            caption: 'Parameters per data type',
            headers: [{ label: 'Dtype' }, { label: 'Parameters', numeric: true }, { label: 'Size', numeric: true }, { label: 'Share of size', numeric: true }],
            rows: dtypes.map(([dtype, d]) => [dtype, formatCount(d.count), formatBytes(d.bytes), share(d.bytes, r.parameters.bytes)]),
          }),
    ),
  );
  if (r.tensors.length > 0) parts.push(section('tensors', `Largest tensors (${r.tensors.length})`, tensorTable(r.tensors)));
  if (r.externalData.length > 0) {
    parts.push(
      section(
        'external',
        `External data files (${r.externalData.length})`,
        table({
          id: 'external-table',
          caption: 'Files holding tensor data outside the model',
          headers: [{ label: 'Location' }, { label: 'Tensors', numeric: true }, { label: 'Size', numeric: true }],
          rows: r.externalData.map((e) => [e.location, formatCount(e.tensors), formatBytes(e.bytes)]),
        }),
      ),
    );
  }
  replace(...parts);
}

function overview(r: InspectReport): HTMLElement {
  const rows: [string, Node | string][] = [
    ['IR version', String(r.irVersion)],
    ['Opsets', formatOpsets(r.opsets)],
    ['Producer', `${r.producer} ${r.producerVersion}`.trim() || '(none)'],
  ];
  if (r.domain) rows.push(['Domain', r.domain]);
  rows.push(['Model version', String(r.modelVersion)]);
  rows.push(['Nodes', formatCount(r.nodeCount)]);
  if (r.subgraphCount > 0) rows.push(['Subgraphs', formatCount(r.subgraphCount)]);
  if (r.functions.length > 0) rows.push(['Functions', formatCount(r.functions.length)]);
  rows.push(['Parameters', `${formatCompact(r.parameters.count)} (${formatBytes(r.parameters.bytes)})`]);
  rows.push(['File size', formatBytes(r.fileBytes)]);
  return h('dl', { class: 'facts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function valueTable(id: string, caption: string, values: ValueInfo[]): HTMLElement {
  if (values.length === 0) return h('p', {}, 'None.');
  return table({
    id,
    caption,
    headers: [{ label: 'Name' }, { label: 'Type' }, { label: 'Shape' }],
    rows: values.map((v) => [v.name || '(unnamed)', v.dtype, shapeNode(v.shape)]),
  });
}

/** A shape with symbolic dims marked, and unknown dims (or rank) as `?` with an explanation. */
function shapeNode(shape: ValueInfo['shape']): HTMLElement {
  const node = h('code', { class: 'shape' });
  if (shape === null) {
    node.append(h('abbr', { title: 'unknown rank' }, '?'));
    return node;
  }
  node.append('[');
  shape.forEach((d, i) => {
    if (i > 0) node.append(', ');
    if (d === null) node.append(h('abbr', { title: 'unknown dimension' }, '?'));
    else if (typeof d === 'string') node.append(h('span', { class: 'dim-symbolic', title: 'symbolic dimension' }, d));
    else node.append(String(d));
  });
  node.append(']');
  return node;
}

function tensorTable(tensors: TensorSummary[]): HTMLElement {
  const withStats = tensors.some((t) => t.stats);
  const headers: Header[] = [
    { label: 'Name' },
    { label: 'Dtype' },
    { label: 'Shape' },
    { label: 'Elements', numeric: true },
    { label: 'Size', numeric: true },
    { label: 'Where' },
  ];
  if (withStats) headers.push({ label: 'Min', numeric: true }, { label: 'Max', numeric: true }, { label: 'Mean', numeric: true }, { label: 'Std', numeric: true });
  return table({
    id: 'tensors-table',
    caption: 'The largest weight tensors, by size',
    headers,
    rows: tensors.map((t) => {
      const where = [t.origin, t.graph !== 'main' ? `in ${t.graph}` : '', t.external ? `external: ${t.external.location}` : ''].filter(Boolean).join(', ');
      const row: Cell[] = [t.name || '(unnamed)', t.dtype, shapeNode(t.shape), formatCount(t.elements), formatBytes(t.bytes), where];
      if (withStats) {
        const s = t.stats;
        row.push(...(s ? [formatNumber(s.min), formatNumber(s.max), formatNumber(s.mean), formatNumber(s.std)] : ['', '', '', '']));
      }
      return row;
    }),
  });
}

function toolbar(canShowMarkdown: boolean): HTMLElement {
  const bar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Model actions' });
  const reload = h('button', { type: 'button', class: 'secondary', title: 'Read the model again from disk' }, 'Reload');
  reload.addEventListener('click', () => void run(reload, 'reload'));
  bar.append(reload);
  if (canShowMarkdown) {
    const markdown = h('button', { type: 'button', class: 'secondary', title: 'Open this summary as a Markdown document' }, 'Open as Markdown');
    markdown.addEventListener('click', () => void run(markdown, 'openMarkdown'));
    bar.append(markdown);
  }
  bar.append(h('span', { class: 'toolbar-status', role: 'status', 'aria-live': 'polite' }));
  return bar;
}

async function run(button: HTMLButtonElement, kind: WebviewRequestKind): Promise<void> {
  const status = button.parentElement?.querySelector('.toolbar-status');
  button.disabled = true;
  if (status) status.textContent = '';
  try {
    await request(kind);
  } catch (err) {
    if (status) status.textContent = `Failed: ${(err as ErrorData).message ?? String(err)}`;
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading back what was painted (for the `rendered` message)

function readRendered(): RenderedMessage {
  const title = document.getElementById('title')?.textContent ?? '';
  const count = document.getElementById('node-count')?.getAttribute('data-node-count');
  const names = (id: string): string[] =>
    Array.from(document.querySelectorAll(`#${id} tbody th[scope="row"]`), (cell) => cell.textContent ?? '');
  const rendered: RenderedMessage = {
    type: 'rendered',
    title,
    nodeCount: count ? Number(count) : 0,
    opTypes: document.querySelectorAll('#ops-table tbody tr').length,
    inputs: names('inputs-table'),
    outputs: names('outputs-table'),
  };
  const error = document.querySelector('[data-error-code]')?.getAttribute('data-error-code');
  if (error) rendered.error = error;
  return rendered;
}

// ---------------------------------------------------------------------------------------------------
// DOM helpers: text only through text nodes

type Child = Node | string | null | undefined;
type Cell = Node | string;
interface Header {
  label: string;
  numeric?: boolean;
}

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) if (child !== null && child !== undefined && child !== '') node.append(child);
  return node;
}

function section(id: string, heading: string, ...content: Child[]): HTMLElement {
  return h('section', { id, 'aria-labelledby': `${id}-heading` }, h('h2', { id: `${id}-heading` }, heading), ...content);
}

/** A real table: caption, column headers, the first cell of each row as its row header. */
function table(spec: { id: string; caption: string; headers: Header[]; rows: Cell[][] }): HTMLElement {
  const head = h('tr', {}, ...spec.headers.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : '' }, c.label)));
  const body = h('tbody');
  for (const row of spec.rows) {
    const tr = h('tr');
    row.forEach((cell, i) => {
      const numeric = spec.headers[i]?.numeric ? 'num' : '';
      tr.append(i === 0 ? h('th', { scope: 'row', class: numeric }, cell) : h('td', { class: numeric }, cell));
    });
    body.append(tr);
  }
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', { id: spec.id }, h('caption', { class: 'visually-hidden' }, spec.caption), h('thead', {}, head), body),
  );
}

function share(part: number, whole: number): Node {
  const fraction = whole > 0 ? part / whole : 0;
  const percent = fraction * 100;
  const text = `${percent >= 10 || percent === 0 ? percent.toFixed(0) : percent.toFixed(1)}%`;
  const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
  // CSSOM, not a style attribute: allowed by the CSP.
  bar.style.width = `${Math.max(0, Math.min(100, percent))}%`;
  return h('span', { class: 'share' }, h('span', { class: 'bar-track', 'aria-hidden': 'true' }, bar), text);
}

function replace(...nodes: Node[]): void {
  app.replaceChildren(...nodes);
  app.setAttribute('aria-busy', 'false');
}

// ---------------------------------------------------------------------------------------------------
// State

function restoreState(): ViewState {
  const saved = vscode.getState() as Partial<ViewState> | undefined;
  if (saved && saved.version === 1) return { version: 1, last: saved.last, scrollY: saved.scrollY };
  return { version: 1 };
}

function saveState(next: ViewState): void {
  state = next;
  vscode.setState(state);
}

let scrollTimer: number | undefined;
window.addEventListener('scroll', () => {
  if (scrollTimer !== undefined || state.last?.type === 'loading') return;
  scrollTimer = window.setTimeout(() => {
    scrollTimer = undefined;
    if (state.last?.type !== 'loading') saveState({ ...state, scrollY: window.scrollY });
  }, 200);
});

// Paint what was shown before the view was hidden, then ask for the current state.
if (state.last) paint(state.last, false);
else renderLoading({ type: 'loading', fileName: document.title.replace(/^ONNX model: /, '') });
vscode.postMessage({ type: 'ready' });
