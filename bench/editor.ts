// `npm run bench:editor`: the model editor's targets (issue 3), measured the way the issue defines them.
//
// For each model: the extension side (read the file, decode it, build the summary and the main graph:
// src/jobs/modelJobs.ts, what the job process runs; the weight list, made while the webview draws, timed
// apart) in this Node process; then the webview
// bundle (media/dist, production build) in a plain page in headless Chromium (bench/editorPage.ts: the
// webview's CSP, VS Code's Dark Modern theme variables), handed that data: the time until the graph is laid
// out (in the web worker) and painted, then pan and zoom steps, the JavaScript heap, and the size of what
// the webview received. Median of 3 runs, a fresh page each. Written to bench/editor-results.json.
//
// Models: IS-Net (ONNXQ_MODELS, default ../shared/models; skipped when absent), a generated ~10,000-node
// transformer encoder (300 layers of hidden 96, seeded; cached in bench/.cache), generated encoders of about
// 50,000 and 100,000 nodes (hidden 16), and the sample.
// Env: ONNXQ_BENCH_RUNS (default 3), ONNXQ_BENCH_STRICT=1 (exit 1 when a target is missed),
// ONNXQ_BENCH_SMOKE=1 (one run of a tiny encoder and the sample, no shared models, results in a temporary
// folder; the development build's bundle does as well as the production one).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { warmUpDecoder } from '../src/onnx/load';
import { ModelCache } from '../src/jobs/modelCache';
import { openModelData, weightList } from '../src/jobs/modelJobs';
import type { SummaryMessage } from '../src/protocol/webview';
import { receivedBytes as receivedBytesOf } from '../src/vscode/testApi';
import type { JsonText } from '../src/protocol/common';
import type { WeightSummary } from '../src/protocol/graph';
import { attachHost, handSummary, launch, ROOT, serveEditor, type Browser, type EditorServer } from './editorPage';
import { ensureTransformer, SMOKE_SPEC, type TransformerSpec } from './transformer';
import { cacheDir, fmt, median, resultsFile, SMOKE, table } from './util';

const RUNS = SMOKE ? 1 : Math.max(1, Number(process.env.ONNXQ_BENCH_RUNS ?? 3) || 3);
const MODELS_DIR = path.resolve(ROOT, process.env.ONNXQ_MODELS ?? '../shared/models');
const CACHE_DIR = cacheDir();
const RESULTS = resultsFile('editor-results.json');

/** The issue's generated encoder: 300 layers of hidden 96, seeded. */
export const ENCODER_10K: TransformerSpec = { layers: 300, hidden: 96, heads: 4, ffn: 384, vocab: 1000, seed: 20240917, version: 2, scoped: true };

/** Graphs of about 50,000 and 100,000 nodes. */
export const BIG_ENCODERS: TransformerSpec[] = [
  { layers: 1613, hidden: 16, heads: 2, ffn: 64, vocab: 100, seed: 20240917, version: 2, scoped: true },
  { layers: 3226, hidden: 16, heads: 2, ffn: 64, vocab: 100, seed: 20240917, version: 2, scoped: true },
];

const TARGETS = {
  isnetOpenMs: 800,
  /** Issue 14: open to a readable folded top level in 1 s at 10,000 nodes, 2 s at 50,000, 3 s at 100,000. */
  encoderOpenMs: 1000,
  bigEncoderOpenMs: [2000, 3000],
  /** Issue 14: expanding a layer. */
  expandMs: 200,
  frameMs: 33,
  heapBytes: 200 * 1024 * 1024,
  /** Issue 14: the webview's heap at 100,000 nodes. */
  bigHeapBytes: 300 * 1024 * 1024,
  /** "A few MB": what the webview receives for models up to the 10,000-node encoder (issue 6's). */
  receivedBytes: 5 * 1024 * 1024,
};

interface ModelCase {
  name: string;
  file: string;
  /** The open-to-graph target for this model, when the issue sets one. */
  targetMs?: number;
  heapBytes?: number;
  /** No bound on the bytes received (the graphs of 50,000 and more nodes: 20-45 MB of names and shapes). */
  anyReceived?: boolean;
}

/**
 * Runs in the page (a string: the TypeScript loader would wrap named functions in a helper the page lacks).
 * Pan and zoom steps drawn synchronously from the first view and from fit-all, then an animated pan (one
 * step per animation frame, as a drag does) with the intervals between frames.
 */
const MEASURE_IN_PAGE = `(async () => {
  const g = window.onnxqsDebug.graph();
  const start = g.currentView;
  const steps = (from) => {
    const pan = [];
    const zoom = [];
    for (let i = 1; i <= 30; i++) pan.push(g.setView({ ...from, cx: from.cx + (i * 40) / from.scale, cy: from.cy + (i * 25) / from.scale }));
    for (let i = 1; i <= 15; i++) zoom.push(g.setView({ ...from, scale: from.scale * 1.1 ** i }));
    for (let i = 1; i <= 15; i++) zoom.push(g.setView({ ...from, scale: from.scale / 1.1 ** i }));
    g.setView(from);
    return { pan, zoom };
  };
  const initial = steps(start);
  g.fit();
  const fitView = g.currentView;
  const fitFrameMs = g.setView(fitView);
  const fitDrawn = g.info().drawnNodes;
  const atFit = steps(fitView);
  g.setView(start);
  const intervals = await new Promise((resolve) => {
    const out = [];
    let last = 0;
    let i = 0;
    const frame = (t) => {
      out.push(t - last);
      last = t;
      const v = g.currentView;
      g.setView({ ...v, cy: v.cy + 12 / v.scale });
      if (++i < 60) requestAnimationFrame(frame);
      else resolve(out.slice(1));
    };
    requestAnimationFrame((t) => { last = t; requestAnimationFrame(frame); });
  });
  // A folded graph: expand the first collapsed layer, then the first inside it, and so on (three levels),
  // each timed from the call to the frame drawn with it.
  const expandMs = [];
  for (let level = 0; level < 3; level++) {
    const layers = g.info().layers;
    if (!layers || layers.collapsed.length === 0) break;
    const label = layers.collapsed[0];
    const t0 = performance.now();
    g.setLayerByLabel(label, true);
    g.renderNow();
    expandMs.push(performance.now() - t0);
  }
  return { initial, atFit, fitFrameMs, fitDrawn, fitScale: fitView.scale, intervals, expandMs, folded: !!g.info().layers };
})()`;

interface PageRun {
  pageMs: number;
  parseMs: number;
  layoutMs: number;
  firstFrameMs: number;
  loadToReadyMs: number;
}

/**
 * The job process's part: openModel (timed: the graph waits for it), then the weight list (timed apart: the
 * extension asks for it as soon as openModel answered, and the job process makes it while the webview draws).
 */
async function extensionSide(file: string): Promise<{ ms: number[]; breakdown: Record<string, number>; message: SummaryMessage; weightList: JsonText<WeightSummary[]>; weightListMs: number[] }> {
  const ms: number[] = [];
  const weightListMs: number[] = [];
  const parts: Record<string, number[]> = {};
  let message: SummaryMessage | undefined;
  let list: JsonText<WeightSummary[]> | undefined;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const loaded = await new ModelCache(1).get(file);
    const data = openModelData(loaded, 20);
    const t1 = performance.now();
    ms.push(t1 - t0);
    list = weightList(loaded.model);
    weightListMs.push(performance.now() - t1);
    for (const [k, v] of Object.entries(data.timings)) (parts[k] ??= []).push(v);
    message = { type: 'summary', fileName: path.basename(file), report: data.report, graph: data.graph, weightCount: data.weightCount, bins: 64 };
  }
  const breakdown = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, round(median(v))]));
  return { ms, breakdown, message: message!, weightList: list!, weightListMs };
}

async function webviewRun(browser: Browser, server: EditorServer, message: SummaryMessage, weightList: JsonText<WeightSummary[]>, measureMore: boolean) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e: Error) => errors.push(String(e)));
  await attachHost(page, undefined, weightList);
  const t0 = Date.now();
  await page.goto(`${server.url}/dark.html`);
  await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'));
  const loadToReadyMs = Date.now() - t0;
  const r = await handSummary(page, message);
  const rendered = r.rendered as { graph: { layoutMs: number; paintMs: number; nodes: number; edges: number; drawnNodes: number } };
  const run: PageRun = { pageMs: r.ms, parseMs: r.parseMs, layoutMs: rendered.graph.layoutMs, firstFrameMs: rendered.graph.paintMs, loadToReadyMs };
  let more: Record<string, unknown> | undefined;
  if (measureMore) {
    more = (await page.evaluate(MEASURE_IN_PAGE)) as Record<string, unknown>;
    const cdp = await context.newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
    more.heapUsed = heap.usedSize;
    more.heapTotal = heap.totalSize;
    more.cspViolations = await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
  }
  await context.close();
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  return { run, rendered, more };
}

function round(x: number, d = 1): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

function stats(xs: number[]): { median: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: round(median(s), 2), p95: round(s[Math.min(s.length - 1, Math.floor(s.length * 0.95))], 2), max: round(s[s.length - 1], 2) };
}

async function main(): Promise<void> {
  // The browser part needs the UI-test harness (playwright-core, Chromium) that `npm test` installs.
  if (!fs.existsSync(path.join(ROOT, 'test', 'harness', 'node_modules', 'playwright-core'))) {
    console.log('editor benchmark skipped: the UI-test harness is not installed; run `npm test` once (or `bash scripts/setup-test-env.sh`), then `npm run bench:editor`');
    return;
  }
  warmUpDecoder();
  const cases: ModelCase[] = [];
  const isnet = path.join(MODELS_DIR, 'imgly', 'isnet_quint8_dynamic_small.onnx');
  if (SMOKE) console.log('smoke run: the shared models are skipped');
  else if (fs.existsSync(isnet)) cases.push({ name: 'IS-Net (imgly/isnet_quint8_dynamic_small.onnx)', file: isnet, targetMs: TARGETS.isnetOpenMs });
  else console.log(`IS-Net skipped: no ${isnet} (set ONNXQ_MODELS)`);
  for (const rel of SMOKE ? [] : ['ppocr/ch_PP-OCRv4_rec_infer.onnx', 'ppocr/ch_PP-OCRv4_det_infer.onnx']) {
    const f = path.join(MODELS_DIR, rel);
    if (fs.existsSync(f)) cases.push({ name: rel, file: f });
  }
  const t = Date.now();
  const spec = SMOKE ? SMOKE_SPEC : ENCODER_10K;
  const encoder = ensureTransformer(CACHE_DIR, spec);
  console.log(`generated encoder: ${path.relative(ROOT, encoder.file)} (${fmt(encoder.bytes / 1e6)} MB, ${encoder.reused ? 'cached' : `made in ${Date.now() - t} ms`})`);
  // The open-to-graph target is set for the 10,000-node encoder only.
  cases.push({ name: `generated encoder (${spec.layers} layers, hidden ${spec.hidden})`, file: encoder.file, ...(SMOKE ? {} : { targetMs: TARGETS.encoderOpenMs }) });
  // Issue 14's sizes: about 50,000 and 100,000 nodes (31 per layer), narrow so that the files stay small.
  (SMOKE ? [] : BIG_ENCODERS).forEach((spec, i) => {
    const big = ensureTransformer(CACHE_DIR, spec);
    cases.push({ name: `generated encoder (${spec.layers} layers, hidden ${spec.hidden})`, file: big.file, targetMs: TARGETS.bigEncoderOpenMs[i], heapBytes: TARGETS.bigHeapBytes, anyReceived: true });
  });
  cases.push({ name: 'samples/mnist-8.onnx', file: path.join(ROOT, 'samples', 'mnist-8.onnx') });

  const server = await serveEditor();
  const browser = await launch();
  const results: Record<string, unknown>[] = [];
  try {
    for (const c of cases) {
      const ext = await extensionSide(c.file);
      const receivedBytes = receivedBytesOf(ext.message, ext.weightList);
      const runs: PageRun[] = [];
      let rendered: unknown;
      let more: Record<string, unknown> | undefined;
      for (let i = 0; i < RUNS; i++) {
        const r = await webviewRun(browser, server, ext.message, ext.weightList, i === RUNS - 1);
        runs.push(r.run);
        rendered = r.rendered;
        if (r.more) more = r.more;
      }
      const totals = runs.map((r, i) => r.pageMs + ext.ms[i]);
      const m = more as {
        initial: { pan: number[]; zoom: number[] };
        atFit: { pan: number[]; zoom: number[] };
        fitFrameMs: number;
        fitDrawn: number;
        fitScale: number;
        intervals: number[];
        expandMs: number[];
        folded: boolean;
        heapUsed: number;
        heapTotal: number;
        cspViolations: string[];
      };
      const frames = [...m.initial.pan, ...m.initial.zoom, ...m.atFit.pan, ...m.atFit.zoom];
      const g = (rendered as { graph: { nodes: number; edges: number; drawnNodes: number } }).graph;
      const result = {
        model: c.name,
        file: path.relative(ROOT, c.file),
        nodes: ext.message.report.nodeCount,
        graphNodes: g.nodes,
        graphEdges: g.edges,
        weights: ext.message.weightCount,
        weightListMs: { median: round(median(ext.weightListMs)), runs: ext.weightListMs.map((x) => round(x)) },
        extensionMs: { median: round(median(ext.ms)), runs: ext.ms.map((x) => round(x)), breakdown: ext.breakdown },
        webviewMs: {
          median: round(median(runs.map((r) => r.pageMs))),
          runs: runs.map((r) => round(r.pageMs)),
          layoutMs: round(median(runs.map((r) => r.layoutMs))),
          firstFrameMs: round(median(runs.map((r) => r.firstFrameMs))),
          jsonParseMs: round(median(runs.map((r) => r.parseMs))),
          bundleLoadMs: round(median(runs.map((r) => r.loadToReadyMs))),
        },
        openToGraphMs: { median: round(median(totals)), runs: totals.map((x) => round(x)), target: c.targetMs ?? null, met: c.targetMs === undefined ? null : median(totals) <= c.targetMs },
        frames: {
          drawMs: stats(frames),
          panAtStart: stats(m.initial.pan),
          zoomAtStart: stats(m.initial.zoom),
          panFitAll: stats(m.atFit.pan),
          zoomFitAll: stats(m.atFit.zoom),
          fitAllFrameMs: round(m.fitFrameMs, 2),
          fitAllDrawnNodes: m.fitDrawn,
          fitAllScale: round(m.fitScale, 4),
          animatedPanIntervalsMs: stats(m.intervals),
          target: TARGETS.frameMs,
          met: Math.max(...frames) < TARGETS.frameMs,
        },
        folded: m.folded,
        expandLayerMs: m.expandMs.length ? { runs: m.expandMs.map((x) => round(x)), max: round(Math.max(...m.expandMs)), target: TARGETS.expandMs, met: Math.max(...m.expandMs) <= TARGETS.expandMs } : null,
        heap: { usedBytes: m.heapUsed, totalBytes: m.heapTotal, target: c.heapBytes ?? TARGETS.heapBytes, met: m.heapUsed <= (c.heapBytes ?? TARGETS.heapBytes) },
        received: { summaryBytes: receivedBytes, target: c.anyReceived ? null : TARGETS.receivedBytes, met: c.anyReceived ? null : receivedBytes < TARGETS.receivedBytes },
        cspViolations: m.cspViolations,
      };
      results.push(result);
      console.log(
        `${c.name}: open-to-graph ${fmt(result.openToGraphMs.median)} ms (extension ${fmt(result.extensionMs.median)} + webview ${fmt(result.webviewMs.median)}; layout ${fmt(result.webviewMs.layoutMs)}), ` +
          `weight list ${fmt(median(ext.weightListMs))} ms after, frames median ${result.frames.drawMs.median} max ${result.frames.drawMs.max} ms, heap ${fmt(m.heapUsed / 1048576)} MiB, received ${fmt(receivedBytes / 1048576, 2)} MiB` +
          (result.expandLayerMs ? `; folded, expanding a layer ${result.expandLayerMs.runs.join(', ')} ms` : ''),
      );
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const out = {
    date: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version, chromium: '/usr/lib/chromium/chromium (headless, --disable-gpu)' },
    runs: RUNS,
    method:
      'Graphs of more than 2,000 nodes open folded into their layers (webview/graph/hierarchy.ts), so open-to-graph is open to the folded top level for the generated encoders. ' +
      'open-to-graph = extension side (read + decode + summary + main graph as JSON text, in Node; the weight list, which the job process makes while the webview draws, timed apart as weightListMs and answered to the page when it asks after its first paint) + webview (JSON handed to a plain page running the production bundle with the webview CSP: parse, build, layout in the web worker, first frame, next animation frame). Median of the per-run sums; a fresh page per run. Frames: synchronous draw time of pan/zoom steps at the first view and at fit-all. Heap: page JS heap after GC (CDP Runtime.getHeapUsage; the layout worker has its own heap).',
    targets: TARGETS,
    results,
  };
  fs.writeFileSync(RESULTS, `${JSON.stringify(out, null, 2)}\n`);
  console.log();
  console.log(
    table(
      ['model', 'nodes', 'open→graph ms', 'target', 'frame max ms', 'heap MiB', 'received MiB'],
      (results as { model: string; nodes: number; openToGraphMs: { median: number; target: number | null }; frames: { drawMs: { max: number } }; heap: { usedBytes: number }; received: { summaryBytes: number } }[]).map((r) => [
        r.model,
        String(r.nodes),
        fmt(r.openToGraphMs.median),
        r.openToGraphMs.target === null ? '-' : `≤ ${r.openToGraphMs.target}`,
        fmt(r.frames.drawMs.max),
        fmt(r.heap.usedBytes / 1048576),
        fmt(r.received.summaryBytes / 1048576, 2),
      ]),
    ),
  );
  console.log(`results in ${path.relative(process.cwd(), RESULTS)}`);
  const missed = results.filter((r) => {
    const x = r as { openToGraphMs: { met: boolean | null }; frames: { met: boolean }; heap: { met: boolean }; received: { met: boolean | null }; expandLayerMs: { met: boolean } | null };
    return x.openToGraphMs.met === false || !x.frames.met || !x.heap.met || x.received.met === false || x.expandLayerMs?.met === false;
  });
  if (missed.length > 0) console.log(`targets missed: ${missed.map((r) => r.model).join(', ')}`);
  if (missed.length > 0 && process.env.ONNXQ_BENCH_STRICT === '1') process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
