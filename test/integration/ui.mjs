#!/usr/bin/env node
// UI test: the real workbench (code-server 4.100.3 in headless chromium, driven by playwright-core).
// Opens the sample model (and PP-OCRv4 rec from the shared models, when there) through Quick Open, drives
// the custom editor's webview with mouse and keyboard (tabs, node selection with the arrow keys, find,
// the weights table), quantizes the sample through the Quantize Model… prompts, and saves screenshots of the graph, the side panel and the weights view in a light
// and a dark theme to test-results/screenshots/ (look at them).
//   node test/integration/ui.mjs        (needs scripts/setup-test-env.sh and `npm run build`)
// or through the driver: node test/harness/driver.mjs --ui=test/integration/ui.mjs FOLDER
// Prints `N passed, N failed` last; results also in test-results/ui.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const LIGHT = 'Default Light Modern';
const DARK = 'Default Dark Modern';

/**
 * Opens the quick input with `key` and types `text` into it. A webview that takes the focus just then (a
 * panel closed, an editor brought forward) can swallow the key press, or close the quick input as soon as
 * it opened: then the side bar's title takes the focus and it is tried again.
 */
async function openQuickInput(page, key, text) {
  const input = page.locator('.quick-input-widget input');
  for (let attempt = 0; ; attempt++) {
    try {
      await page.keyboard.press(key);
      await input.waitFor({ timeout: 5000 });
      await input.fill(text, { timeout: 5000 });
      return input;
    } catch (e) {
      if (attempt >= 2) throw e;
      await page.locator('.part.sidebar .title-label').first().click({ timeout: 5000 }).catch(() => {});
    }
  }
}

export async function quickOpen(page, name) {
  await openQuickInput(page, 'Control+P', name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 30000 });
  await page.keyboard.press('Enter');
}

export async function palette(page, title) {
  await openQuickInput(page, 'F1', `>${title}`);
  // click the row whose label is exactly `title` (the first row may be a fuzzy match, e.g.
  // "Preferences: Browse Color Themes in Marketplace" before "Preferences: Color Theme")
  const exact = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  await page.locator('.quick-input-list .monaco-list-row .label-name', { hasText: exact }).first().click({ timeout: 30000 });
}

async function closeAllEditors(page) {
  await palette(page, 'View: Close All Editors');
  // An untitled document asks whether to save it (our summaries and reports are not untitled; a test's may be).
  for (let i = 0; i < 5; i++) {
    const dontSave = page.locator('.monaco-dialog-box .monaco-button', { hasText: "Don't Save" });
    try { await dontSave.first().click({ timeout: 1500 }); } catch { break; }
  }
  await page.waitForFunction(() => document.querySelectorAll('iframe.webview').length === 0, null, { timeout: 15000 }).catch(() => {});
}

/** Switches the colour theme the way a user does (Preferences: Color Theme); the workbench writes
 *  workbench.colorTheme into the user settings. (code-server does not notice edits of settings.json
 *  made behind its back while it runs, so the start theme comes from the settings file and later
 *  ones from the theme picker.) */
async function setTheme(ctx, theme) {
  const { page } = ctx;
  const want = theme.includes('Dark') ? '.monaco-workbench.vs-dark' : '.monaco-workbench.vs';
  if (await page.locator(want).count()) return;
  await palette(page, 'Preferences: Color Theme');
  // rows read "Dark Modern" with the theme's id "Default Dark Modern" as their description
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Default Light Modern' }).first().waitFor({ timeout: 15000 });
  await page.locator('.quick-input-widget input').fill(theme.replace(/^Default /, ''));
  await page.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first().click({ timeout: 15000 });
  await page.locator(want).waitFor({ timeout: 30000 });
  await page.waitForFunction(() => !document.querySelector('.quick-input-widget') || getComputedStyle(document.querySelector('.quick-input-widget')).display === 'none', null, { timeout: 5000 }).catch(() => {});
}

function check(cond, msg) { if (!cond) throw new Error(msg); }

const PPOCR_REC = 'ppocr/ch_PP-OCRv4_rec_infer.onnx';
const ISNET = 'imgly/isnet_quint8_dynamic_small.onnx';
const SILERO = 'silero/silero_vad_v5.onnx';
const ENCODER = 'encoder-300.onnx';

/** Opens a model through Quick Open and waits until its graph is drawn. */
export async function openModel(ctx, name) {
  const { page } = ctx;
  await quickOpen(page, name);
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: 30000 });
  const view = ctx.webview();
  await view.locator('canvas.graph-canvas').waitFor({ state: 'visible', timeout: 60000 });
  await view.locator('.graph-status', { hasText: /nodes/ }).waitFor({ timeout: 60000 });
  return view;
}

async function showTab(view, tab) {
  await view.locator(`#tab-${tab}`).click();
  await view.locator(`#view-${tab}`).waitFor({ state: 'visible', timeout: 15000 });
}

/** Selects the first node after the graph's first input with the keyboard (Home, then Down). */
async function selectFirstNode(ctx, view) {
  const canvas = view.locator('canvas.graph-canvas');
  await canvas.focus();
  await ctx.page.keyboard.press('Home');
  await ctx.page.keyboard.press('ArrowDown');
  await view.locator('#side-op').waitFor({ timeout: 15000 });
  // The consumed weights' statistics come from the job process: wait until they replace "computing…".
  if (await view.locator('#side-weights').count()) {
    await view.locator('#side-weights .weight-stats', { hasText: /^min / }).first().waitFor({ timeout: 30000 });
  }
  return (await view.locator('#side-op').innerText()).trim();
}

/** The Weights tab with its first row (the largest weight) selected and its histogram drawn. */
async function showLargestWeight(view, log) {
  await showTab(view, 'weights');
  await view.locator('#weights-table tbody tr[data-index] th').first().waitFor({ timeout: 30000 });
  // Statistics fill the table once computed.
  await view.locator('#weights-table tbody tr[data-index] td.num', { hasText: /\d/ }).nth(3).waitFor({ timeout: 60000 });
  await view.locator('#weights-table tbody tr[data-index] th').first().click();
  await view.locator('#histogram-box svg.histogram').waitFor({ timeout: 30000 });
  if (log) {
    await view.locator('#weights-log').click();
    await view.locator('#weights-log[aria-checked="true"], #weights-log.checked').first().waitFor({ timeout: 5000 }).catch(() => {});
  }
  const bars = await view.locator('#histogram-box svg.histogram rect.hbar').count();
  return { name: (await view.locator('#weight-name').innerText()).trim(), bars, channels: await view.locator('svg.channels').count() };
}

/** Explorer context menu of `file` > Compare with FP32…, the source found by name; the results panel's frame. */
export async function compareWithFp32FromExplorer(page, file) {
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: file }).first().click({ button: 'right' });
  // The workbench's menu acts on the highlighted item: hover it, then Enter (as a keyboard user would).
  await page.locator('.context-view .action-item', { hasText: 'Compare with FP32…' }).first().hover({ timeout: 15000 });
  await page.keyboard.press('Enter');
  // The source, found by name, is offered first.
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'the source, by name' }).first().click({ timeout: 15000 });
  return page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
}

/** Graph, side panel and weights screenshots of the model in the active editor, in the current theme. */
async function shootModel(ctx, view, prefix, theme, { log = false } = {}) {
  const { page } = ctx;
  await showTab(view, 'graph');
  await page.waitForTimeout(300);
  await ctx.screenshot(`${prefix}-graph-${theme}`);
  const op = await selectFirstNode(ctx, view);
  await page.waitForTimeout(300);
  await ctx.screenshot(`${prefix}-side-panel-${theme}`);
  const weight = await showLargestWeight(view, log);
  await page.waitForTimeout(300);
  await ctx.screenshot(`${prefix}-weights-${theme}`);
  ctx.log(`${prefix} (${theme}): selected ${op}; weight ${weight.name}, ${weight.bars} bins${weight.channels ? ', per-channel ranges' : ''}`);
  await showTab(view, 'graph');
  return { op, weight };
}

/** @param {{ page: import('playwright-core').Page, webview: () => import('playwright-core').FrameLocator, setSettings: (s: object) => void, screenshot: (n: string) => Promise<string>, test: (n: string, f: () => Promise<void>) => Promise<void>, log: Function }} ctx */
export async function run(ctx) {
  const { page } = ctx;
  // The driver starts the workbench with workbench.colorTheme = LIGHT in the user settings (ui.mjs
  // run directly); through `driver.mjs --ui` it may start dark: switch.
  await setTheme(ctx, LIGHT);

  await ctx.test('Quick Open opens mnist-8.onnx in the model viewer and the graph renders', async () => {
    const view = await openModel(ctx, 'mnist-8.onnx');
    const status = await view.locator('.graph-status').innerText();
    ctx.log(`graph status: ${status}`);
    check(/^12 nodes · 13 edges/.test(status), `status: ${status}`);
  });

  await ctx.test('the webview shows the file name as its title, and Graph, Weights and Model tabs', async () => {
    const view = ctx.webview();
    const heading = view.getByRole('heading', { name: /mnist-8\.onnx/ });
    check(await heading.count() > 0, 'no heading with "mnist-8.onnx"');
    for (const tab of ['Graph', 'Weights (8)', 'Model']) check(await view.getByRole('tab', { name: tab }).count() === 1, `no tab "${tab}"`);
  });

  await ctx.test('the Model tab has tables of inputs, outputs and the op histogram', async () => {
    const view = ctx.webview();
    await showTab(view, 'model');
    const tables = view.locator('#view-model table');
    const n = await tables.count();
    check(n >= 3, `expected at least 3 tables (inputs, outputs, op histogram), found ${n}`);
    check(await tables.filter({ hasText: 'Input3' }).count() > 0, 'no table lists the input Input3');
    check(await tables.filter({ hasText: 'Plus214_Output_0' }).count() > 0, 'no table lists the output Plus214_Output_0');
    const ops = tables.filter({ hasText: 'MaxPool' });
    check(await ops.count() > 0, 'no table lists the op type MaxPool');
    const opsText = await ops.first().innerText();
    for (const op of ['Conv', 'MatMul', 'Add', 'Relu', 'Reshape']) check(opsText.includes(op), `op histogram lacks ${op}`);
    await ctx.screenshot('mnist-8-model-light');
    const f = path.join(ctx.screenshotDir, 'mnist-8-ops-light.png');
    await ops.first().screenshot({ path: f });
    ctx.log(`screenshot ${path.relative(process.cwd(), f)}`);
    await showTab(view, 'graph');
  });

  await ctx.test(`graph, side panel and weights of mnist-8 in the light theme (${LIGHT})`, async () => {
    check(await page.locator('.monaco-workbench.vs').count() === 1, 'the workbench is not in a light theme');
    const { op, weight } = await shootModel(ctx, ctx.webview(), 'mnist-8', 'light');
    check(op === 'Conv', `the first node after Input3 is ${op}, not Conv`);
    check(weight.name === 'Parameter87' && weight.bars === 64 && weight.channels === 1, `weights view: ${JSON.stringify(weight)}`);
  });

  await ctx.test('Quantize Model… from the palette: pick Dynamic int8, accept the suggested file, the report opens', async () => {
    await palette(page, 'ONNX: Quantize Model…');
    // The choices come in the order that suits the model: mnist is mostly Conv, so static int8 first.
    const first = page.locator('.quick-input-list .monaco-list-row').first();
    await first.waitFor({ timeout: 30000 });
    const firstText = (await first.innerText()).replace(/\s+/g, ' ');
    check(/Static int8 \(QDQ\)/.test(firstText) && /recommended: 3 nodes \(2 Conv, 1 MatMul\)/.test(firstText), `first choice: ${firstText}`);
    await ctx.screenshot('quantize-choices-light');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Dynamic int8' }).first().click({ timeout: 15000 });
    // The inputs, asked once per model (then remembered for quantize and compare), prefilled from the
    // model (mnist has no symbolic dims) and checked as they are typed.
    await page.waitForFunction(() => /--samples 8 --seed 1/.test(document.querySelector('.quick-input-widget input')?.value ?? ''), null, { timeout: 30000 });
    const spec = page.locator('.quick-input-widget input');
    await spec.fill('--samples 4 --dims batch=2');
    await page.locator('.quick-input-message', { hasText: '"batch" is not a dim of its inputs' }).waitFor({ timeout: 10000 });
    await spec.fill('--samples 4 --seed 3');
    await page.keyboard.press('Enter');
    // The save dialog (code-server's simple file dialog) suggests mnist-8.int8.onnx beside the source.
    const input = page.locator('.quick-input-widget input');
    await page.waitForFunction(() => /mnist-8\.int8\.onnx$/.test(document.querySelector('.quick-input-widget input')?.value ?? ''), null, { timeout: 15000 });
    ctx.log(`save dialog suggests: ${await input.inputValue()}`);
    await page.keyboard.press('Enter');
    await page.locator('.notification-list-item', { hasText: /Quantized mnist-8\.onnx into mnist-8\.int8\.onnx: \d+ nodes?, [0-9.]+x the size/ }).waitFor({ timeout: 60000 });
    // The report opens in a results panel (not an untitled document that asks to be saved).
    const report = page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
    await report.locator('h1', { hasText: 'Quantized: mnist-8.int8.onnx' }).waitFor({ timeout: 30000 });
    await report.locator('#outputs').waitFor({ timeout: 10000 });
    const notes = await report.locator('.notes').innerText();
    check(!/--op-types/.test(notes) && /Static int8 \(Quantize Model…\) quantizes Conv layers/.test(notes), `notes speak of the editor's choices: ${notes}`);
    await palette(page, 'Notifications: Clear All Notifications');
    await ctx.screenshot('quantize-report-light');
    // Back to the model for the tests that follow.
    await page.locator('.tabs-container .tab', { hasText: /^mnist-8\.onnx/ }).first().click();
    await ctx.webview().locator('canvas.graph-canvas').waitFor({ state: 'visible', timeout: 30000 });
  });

  await ctx.test('Quantize Model…: static int8 with an accuracy target, on random samples, through every prompt', async () => {
    await palette(page, 'ONNX: Quantize Model…');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Static int8 with an accuracy target' }).first().click({ timeout: 15000 });
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Random samples' }).first().click({ timeout: 15000 });
    // The accuracy target: an input box that refuses what is not a cosine, then takes 0.999.
    const input = page.locator('.quick-input-widget input');
    await page.waitForFunction(() => document.querySelector('.quick-input-widget input')?.value === '0.99', null, { timeout: 15000 });
    await input.fill('2');
    await page.locator('.quick-input-message', { hasText: 'A number between 0 and 1' }).waitFor({ timeout: 10000 });
    await input.fill('0.999');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /mnist-8\.qdq\.onnx$/.test(document.querySelector('.quick-input-widget input')?.value ?? ''), null, { timeout: 15000 });
    await page.keyboard.press('Enter');
    await page.locator('.notification-list-item', { hasText: /Quantized mnist-8\.onnx into mnist-8\.qdq\.onnx/ }).waitFor({ timeout: 90000 });
    const report = page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
    await report.locator('h1', { hasText: 'Quantized: mnist-8.qdq.onnx' }).waitFor({ timeout: 30000 });
    const text = (await report.locator('main').innerText()).replace(/\s+/g, ' ');
    await page.locator('.tabs-container .tab', { hasText: /^mnist-8\.onnx/ }).first().click();
    await ctx.webview().locator('canvas.graph-canvas').waitFor({ state: 'visible', timeout: 30000 });
    // mnist's static int8 outputs keep a cosine above 0.9999 (the unit tests): a target of 0.999 is met.
    check(/random: not representative/.test(text) && /Accuracy target 0\.999:? met/.test(text) && /Outputs against the source model/.test(text), `report: ${text.slice(0, 800)}`);
  });

  await ctx.test('Compare with FP32… from the Explorer\'s context menu of the quantized model: the inputs remembered, the results panel', async () => {
    // No inputs prompt: those given when the model was quantized are remembered (4 samples, seed 3).
    const panel = await compareWithFp32FromExplorer(page, 'mnist-8.int8.onnx');
    await panel.locator('#outputs').waitFor({ timeout: 60000 });
    const verdict = await panel.locator('.verdict-line').innerText();
    const plots = await panel.locator('svg.scatter').count();
    const points = Number(await panel.locator('svg.scatter').first().getAttribute('data-points'));
    check(/Every output within tolerance|outside tolerance/.test(verdict) && plots === 1 && points === 40, `panel: ${verdict}, ${plots} plots, ${points} points`);
    const layerRows = await panel.locator('#layers tbody tr').count();
    check(layerRows >= 8, `${layerRows} rows in the layers table`);
    await palette(page, 'Notifications: Clear All Notifications');
    await ctx.screenshot('compare-results-light');
  });

  await ctx.test('Show on the Graph: the quantized model coloured by SQNR drop, with the legend and the worst layers', async () => {
    const results = page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
    await results.locator('#action-graph').click({ timeout: 15000 });
    const view = page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
    await view.locator('.heat-legend').waitFor({ state: 'visible', timeout: 30000 });
    await view.locator('#side-worst li').first().waitFor({ timeout: 15000 });
    const worst = await view.locator('#side-worst li').count();
    check(worst >= 5, `${worst} worst layers listed`);
    await view.locator('#side-worst li button').first().click();
    await view.locator('#side-figures').waitFor({ timeout: 15000 });
    await ctx.screenshot('heatmap-light');
  });

  await ctx.test('the graph diff: the same graph coloured by quantized, left in float and added, the FP32 nodes gone listed', async () => {
    const view = page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
    await view.locator('#graph-overlay-pick').click({ timeout: 15000 });
    await view.locator('vscode-option', { hasText: 'Quantization' }).click({ timeout: 15000 });
    await view.locator('.heat-category', { hasText: 'left in float' }).waitFor({ timeout: 15000 });
    // Nothing selected: the side panel lists the FP32 nodes the quantized graph no longer has.
    await view.locator('canvas.graph-canvas').focus();
    await page.keyboard.press('Escape');
    await view.locator('#side-absent li').first().waitFor({ timeout: 15000 });
    const gone = await view.locator('#side-absent li').count();
    check(gone >= 1, `${gone} FP32 nodes listed as gone`);
    await ctx.screenshot('graph-diff-light');
  });

  await ctx.test('the weights of the FP32 model against the grid of its static int8 copy, once the two are compared', async () => {
    const panel = await compareWithFp32FromExplorer(page, 'mnist-8.qdq.onnx');
    await panel.locator('#layers').waitFor({ timeout: 60000 });
    await page.locator('.tabs-container .tab', { hasText: /^mnist-8\.onnx$/ }).first().click();
    const view = ctx.webview();
    await showTab(view, 'weights');
    await view.locator('#weights-table tbody tr[data-index] th', { hasText: /^Parameter87$/ }).first().click({ timeout: 30000 });
    await view.locator('#weight-quant:not([hidden]) #weight-quant-text').waitFor({ timeout: 30000 });
    const text = await view.locator('#weight-quant-text').innerText();
    check(/Parameter87_quantized · int8 per channel \(axis 0, 16\): SQNR \d/.test(text), `weight against the grid: ${text}`);
    await palette(page, 'Notifications: Clear All Notifications');
    // The histogram with the grid and the figures below it, in one view.
    await view.locator('#weight-quant').scrollIntoViewIfNeeded();
    await ctx.screenshot('weights-grid-light');
    await showTab(view, 'graph');
  });

  await ctx.test('Keep the Worst Layers in Float… on the dynamic int8 model: its one quantized layer cannot go, the history panel says why', async () => {
    await page.locator('.tabs-container .tab', { hasText: /vs mnist-8\.int8\.onnx/ }).first().click();
    const results = page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
    await results.locator('#action-refine').click({ timeout: 15000 });
    const box = page.locator('.quick-input-widget input');
    await box.waitFor({ state: 'visible', timeout: 15000 });
    await box.fill('1');
    await page.keyboard.press('Enter');
    // Dynamic int8 quantizes mnist's one MatMul: keeping it in float would give back the FP32 model, so
    // there is no step to take (two steps on the static model are in the integration tests).
    const history = page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
    await history.locator('#history').waitFor({ timeout: 30000 });
    await history.locator('#refine-none', { hasText: 'No layer can go to float' }).waitFor({ timeout: 15000 });
    const rows = await history.locator('#history tbody tr').count();
    const buttons = await history.locator('#refine-next').count();
    check(rows === 1 && buttons === 0, `${rows} rows in the history, ${buttons} step buttons`);
    await palette(page, 'Notifications: Clear All Notifications');
    await ctx.screenshot('refine-history-light');
    await page.locator('.tabs-container .tab', { hasText: /^mnist-8\.onnx/ }).first().click();
    await ctx.webview().locator('canvas.graph-canvas').waitFor({ state: 'visible', timeout: 30000 });
  });

  await ctx.test('Benchmark Model… from the Explorer\'s context menu of the quantized model: against its FP32 source, the results panel, the time on the graph', async () => {
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'mnist-8.int8.onnx' }).first().click({ button: 'right' });
    await page.locator('.context-view .action-item', { hasText: 'Benchmark Model…' }).first().hover({ timeout: 15000 });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Against its FP32 source, mnist-8.onnx' }).first().click({ timeout: 15000 });
    // The inputs remembered from quantization: no prompt. 100 runs of each model by default.
    const panel = page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
    await panel.locator('#bench-runs').waitFor({ timeout: 120000 });
    const rows = await panel.locator('#bench-runs tbody tr').count();
    const charts = await panel.locator('svg.chart').count();
    const verdict = await panel.locator('.verdict-line').innerText();
    check(rows === 2 && charts === 3 && /mnist-8\.int8\.onnx is .* than mnist-8\.onnx on cpu|not measurably faster/.test(verdict), `panel: ${rows} rows, ${charts} charts, ${verdict}`);
    await palette(page, 'Notifications: Clear All Notifications');
    await ctx.screenshot('bench-results-light');
    // Lower down: the diagnostics and where the time goes, per op type and per node, side by side.
    await panel.locator('#node-times').scrollIntoViewIfNeeded({ timeout: 10000 });
    await ctx.screenshot('bench-where-time-light');
    await panel.locator('#action-time').click({ timeout: 15000 });
    const view = page.frameLocator('iframe.webview.ready:visible >> nth=-1').frameLocator('iframe#active-frame');
    await view.locator('.heat-legend', { hasText: 'Kernel time per run' }).waitFor({ state: 'visible', timeout: 30000 });
    await ctx.screenshot('bench-time-on-graph-light');
    await palette(page, 'View: Close All Editors');
    await openModel(ctx, 'mnist-8.onnx');
  });

  await ctx.test('find (Ctrl+F) highlights matches and steps through them', async () => {
    const view = ctx.webview();
    await view.locator('canvas.graph-canvas').focus();
    await page.keyboard.press('Control+f');
    const field = view.locator('#graph-find');
    await field.waitFor({ state: 'visible', timeout: 10000 });
    await page.keyboard.type('relu');
    await view.locator('.find-count', { hasText: '1 of 2' }).waitFor({ timeout: 10000 });
    await page.keyboard.press('Enter');
    await view.locator('.find-count', { hasText: '2 of 2' }).waitFor({ timeout: 10000 });
    check((await view.locator('#side-op').innerText()).trim() === 'Relu', 'the current match is selected');
    await ctx.screenshot('mnist-8-find-light');
    await page.keyboard.press('Escape');
    await view.locator('.find-bar').waitFor({ state: 'hidden', timeout: 5000 });
  });

  await ctx.test('"Names" lays the graph out again and keeps the selection and the zoom', async () => {
    const view = ctx.webview();
    const zoom = async () => /zoom (\d+)%/.exec(await view.locator('.graph-status').innerText())?.[1];
    const op = (await view.locator('#side-op').innerText()).trim();
    const before = await zoom();
    await view.locator('#graph-names').click();
    await view.locator('#graph-names[aria-checked="true"], #graph-names[checked]').first().waitFor({ timeout: 5000 }).catch(() => {});
    await page.waitForTimeout(600);
    check((await view.locator('#side-op').innerText()).trim() === op, `the selection (${op}) is kept`);
    check(await zoom() === before, `zoom ${before}% kept: now ${await zoom()}%`);
    await view.locator('#graph-names').click();
    await page.waitForTimeout(600);
    check((await view.locator('#side-op').innerText()).trim() === op, 'kept when names go again');
  });

  await ctx.test('a node\'s context menu (Shift+F10 on the selection): its actions, one of which shows its weight in the Weights tab', async () => {
    const view = ctx.webview();
    await showTab(view, 'graph');
    await selectFirstNode(ctx, view);
    await page.keyboard.press('Shift+F10');
    const menu = view.locator('#node-menu');
    await menu.waitFor({ timeout: 5000 });
    const items = (await menu.locator('[role=menuitem]').allInnerTexts()).map((t) => t.trim());
    ctx.log(`node menu: ${items.join(' | ')}`);
    check(items[0].startsWith('Copy name') && items.some((t) => /^Show \S+ in Weights$/.test(t)) && items.includes('Go to its consumer'), `items: ${items.join(', ')}`);
    await ctx.screenshot('node-menu-light');
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached', timeout: 5000 });
    await page.keyboard.press('Shift+F10');
    const show = view.locator('#node-menu [role=menuitem]', { hasText: / in Weights$/ });
    const wanted = (await show.innerText()).replace(/^Show (\S+) in Weights$/, '$1');
    await show.click();
    await view.locator('#weight-name', { hasText: wanted }).waitFor({ timeout: 15000 });
    await showTab(view, 'graph');
  });

  await ctx.test('the graph saved as pictures: the whole graph as SVG and the view as PNG, beside the model, through the save dialog', async () => {
    const view = ctx.webview();
    await showTab(view, 'graph');
    const saveThrough = async (item, name) => {
      await view.locator('#graph-export').click();
      await view.locator('#node-menu [role=menuitem]', { hasText: item }).click();
      // code-server's simple save dialog, prefilled with the name beside the model.
      const re = new RegExp(`${name.replace('.', '\\.')}$`);
      await page.waitForFunction((src) => new RegExp(src).test(document.querySelector('.quick-input-widget input')?.value ?? ''), re.source, { timeout: 15000 });
      await page.keyboard.press('Enter');
      const file = path.join(ctx.folder, name);
      for (let i = 0; i < 100 && !fs.existsSync(file); i++) await page.waitForTimeout(100);
      check(fs.existsSync(file), `${name} was written`);
      return fs.readFileSync(file);
    };
    const svg = (await saveThrough('Save the whole graph as SVG…', 'mnist-8.svg')).toString('utf8');
    check(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"') && svg.includes('>Conv</text>') && svg.trimEnd().endsWith('</svg>'), `svg: ${svg.slice(0, 120)}`);
    const png = await saveThrough('Save the view as PNG…', 'mnist-8-view.png');
    check(png.subarray(1, 4).toString('latin1') === 'PNG' && png.length > 2000, `png: ${png.length} bytes`);
    ctx.log(`saved mnist-8.svg (${svg.length} bytes) and mnist-8-view.png (${png.length} bytes)`);
    fs.rmSync(path.join(ctx.folder, 'mnist-8.svg'));
    fs.rmSync(path.join(ctx.folder, 'mnist-8-view.png'));
  });

  await ctx.test('an editor about 800 px wide: the side panel and the overview leave the graph most of it; the side panel resizes and the overview hides', async () => {
    const view = ctx.webview();
    const size = page.viewportSize();
    await page.setViewportSize({ width: 1150, height: size.height });
    try {
      await page.waitForTimeout(800);
      const width = async (sel) => (await view.locator(sel).boundingBox())?.width ?? 0;
      const main = await width('.graph-main'), side = await width('#side-panel'), stage = await width('.graph-stage'), overview = await width('canvas.graph-overview');
      ctx.log(`narrow editor: graph area ${main} px, side panel ${side} px, overview ${overview} px`);
      check(main < 860, `the editor is narrow: ${main} px`);
      check(side <= main * 0.45 + 1 && stage >= main * 0.5, `side panel ${side} px of ${main}`);
      check(overview <= stage / 3 + 1, `overview ${overview} px of ${stage}`);
      await ctx.screenshot('mnist-8-narrow-light');
      await setTheme(ctx, DARK);
      await view.locator('body.vscode-dark').waitFor({ timeout: 30000 });
      await page.waitForTimeout(300);
      await ctx.screenshot('mnist-8-narrow-dark');
      await setTheme(ctx, LIGHT);
      await view.locator('body.vscode-light').waitFor({ timeout: 30000 });
      // Drag the separator 100 px to the left: the side panel widens by as much.
      const sep = await view.locator('.side-resizer').boundingBox();
      await page.mouse.move(sep.x + sep.width / 2, sep.y + 40);
      await page.mouse.down();
      await page.mouse.move(sep.x + sep.width / 2 - 60, sep.y + 40, { steps: 4 });
      await page.mouse.up();
      const wider = await width('#side-panel');
      check(wider > side + 40, `dragged: ${side} -> ${wider} px`);
      await view.locator('#graph-overview-toggle').click();
      await view.locator('canvas.graph-overview').waitFor({ state: 'hidden', timeout: 5000 });
      await view.locator('#graph-overview-toggle').click();
      await view.locator('canvas.graph-overview').waitFor({ state: 'visible', timeout: 5000 });
      await showTab(view, 'weights');
      await page.waitForTimeout(300);
      const table = await width('.weights-table'), scroller = await width('.weights-scroller');
      check(table <= scroller + 1, `the weights table (${table} px) fits its ${scroller} px`);
      await ctx.screenshot('mnist-8-weights-narrow-light');
      await showTab(view, 'graph');
    } finally {
      await page.setViewportSize(size);
    }
  });

  await ctx.test(`graph, side panel and weights of mnist-8 in the dark theme (${DARK})`, async () => {
    await setTheme(ctx, DARK);
    // the workbench writes the choice into the user settings.json (a moment later)
    for (let i = 0; i < 50 && ctx.readSettings()['workbench.colorTheme'] !== DARK; i++) await page.waitForTimeout(100);
    check(ctx.readSettings()['workbench.colorTheme'] === DARK, `user settings.json has workbench.colorTheme = ${ctx.readSettings()['workbench.colorTheme']}`);
    // the webview gets the theme as a body class and --vscode-* variables
    await ctx.webview().locator('body.vscode-dark').waitFor({ timeout: 30000 });
    await page.waitForTimeout(500);
    await shootModel(ctx, ctx.webview(), 'mnist-8', 'dark', { log: true });
  });

  await ctx.test('"ONNX: Show Model Summary" from the command palette opens the summary of the active model in a results panel; Open as Markdown gives it as a read-only document', async () => {
    await palette(page, 'ONNX: Show Model Summary');
    const panel = page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
    await panel.locator('h1', { hasText: 'Summary: mnist-8.onnx' }).waitFor({ timeout: 30000 });
    const inputs = await panel.locator('#summary-inputs').innerText();
    check(/Input3/.test(inputs) && /float/.test(inputs), `inputs: ${inputs}`);
    check(/Conv/.test(await panel.locator('#summary-operators').innerText()), 'the operators are listed');
    await ctx.screenshot('summary-panel-dark');
    await panel.locator('#action-markdown').click();
    await page.locator('.monaco-editor .view-lines', { hasText: 'Input3' }).first().waitFor({ timeout: 30000 });
    await ctx.screenshot('summary-markdown-dark');
    // Read-only: closing it asks nothing.
    await palette(page, 'View: Close Editor');
    await page.waitForTimeout(1000);
    check(await page.locator('.monaco-dialog-box').count() === 0, 'closing the summary asked a question');
    // The next test opens its own model: close everything here rather than bring the viewer forward again
    // (a webview coming back takes the focus late, which closed the next test's palette).
    await closeAllEditors(page);
  });

  const ppocr = ctx.folder && fs.existsSync(path.join(ctx.folder, 'models', ...PPOCR_REC.split('/')));
  if (!ppocr) ctx.log(`PP-OCRv4 rec screenshots skipped: ${PPOCR_REC} is not in the shared models folder`);
  else {
    for (const theme of ['dark', 'light']) {
      await ctx.test(`graph, side panel and weights of PP-OCRv4 rec in the ${theme} theme`, async () => {
        await closeAllEditors(page);
        await setTheme(ctx, theme === 'dark' ? DARK : LIGHT);
        const view = await openModel(ctx, path.basename(PPOCR_REC));
        await view.locator(`body.vscode-${theme}`).waitFor({ timeout: 30000 });
        const status = await view.locator('.graph-status').innerText();
        check(/^765 nodes/.test(status), `status: ${status}`);
        const { weight } = await shootModel(ctx, view, 'ppocr-rec', theme, { log: theme === 'dark' });
        check(weight.bars === 64, `histogram bins: ${weight.bars}`);
      });
    }

    await ctx.test('Quantize Model… on PP-OCRv4 rec, cancelled while it works: the job stops, nothing is written, nothing is left behind', async () => {
      await palette(page, 'ONNX: Quantize Model…');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Static int8 with an accuracy target' }).first().click({ timeout: 30000 });
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Random samples' }).first().click({ timeout: 15000 });
      const input = page.locator('.quick-input-widget input');
      await page.waitForFunction(() => document.querySelector('.quick-input-widget input')?.value === '0.99', null, { timeout: 15000 });
      // A target int8 cannot reach on this model: the search compares model after model (up to 40),
      // so the job is surely still at work when Cancel is pressed.
      await input.fill('0.9999');
      await page.keyboard.press('Enter');
      // The inputs, asked once per model: the text line's width (its symbolic last axis) set by input:axis.
      await page.waitForFunction(() => /--samples/.test(document.querySelector('.quick-input-widget input')?.value ?? ''), null, { timeout: 30000 });
      await input.fill('--samples 8 --dims x:3=320');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => /ch_PP-OCRv4_rec_infer\.qdq\.onnx$/.test(document.querySelector('.quick-input-widget input')?.value ?? ''), null, { timeout: 15000 });
      const output = await input.inputValue();
      await page.keyboard.press('Enter');
      const progress = page.locator('.notification-list-item', { hasText: /comparing with the float model/ }).first();
      await progress.waitFor({ timeout: 120000 });
      await progress.hover();
      await progress.locator('.monaco-button', { hasText: 'Cancel' }).first().click({ timeout: 15000 });
      await page.locator('.notification-list-item', { hasText: 'Quantizing ch_PP-OCRv4_rec_infer.onnx was cancelled; nothing was written.' }).waitFor({ timeout: 60000 });
      const dir = path.dirname(path.join(ctx.folder, 'models', ...PPOCR_REC.split('/')));
      const local = fs.readdirSync(dir);
      check(!fs.existsSync(output.startsWith('/') ? output : path.join(dir, path.basename(output))) && !local.some((n) => /^\.onnxq-|\.tmp$/.test(n)), `left in ${dir}: ${local.join(', ')}`);
      // The job's temporary folders (calibration, comparisons) are gone with its process.
      const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
      const stale = fs.readdirSync(os.tmpdir()).filter((n) => { const m = /^onnxq-(\d+)-[a-z]+-.+$/.exec(n); return m && !alive(Number(m[1])); });
      check(stale.length === 0, `left in ${os.tmpdir()}: ${stale.join(', ')}`);
      await palette(page, 'Notifications: Clear All Notifications');
    });
  }

  for (const theme of ['light', 'dark']) {
    await ctx.test(`a stored-quantized weight (IS-Net, uint8 codes read by ConvInteger) shows the values its codes stand for, the codes one toggle away (${theme})`, async () => {
      if (!fs.existsSync(path.join(ctx.folder, 'models', ...ISNET.split('/')))) { ctx.log(`skipped: ${ISNET} is not in the shared models folder`); return; }
      await closeAllEditors(page);
      await setTheme(ctx, theme === 'dark' ? DARK : LIGHT);
      const view = await openModel(ctx, path.basename(ISNET));
      await view.locator(`body.vscode-${theme}`).waitFor({ timeout: 30000 });
      const weight = await showLargestWeight(view, false);
      const facts = await view.locator('#weight-detail dl.facts').first().innerText();
      check(/Stored\s+quantized per tensor \(1 scale, read by ConvInteger\)/.test(facts), `facts: ${facts}`);
      check(/Min \(values\)/.test(facts) && !/Outlier score/.test(facts), `facts: ${facts}`);
      check((await view.locator('#histogram-title').innerText()).trim() === 'Histogram of the values', 'the values by default');
      await page.waitForTimeout(300);
      await ctx.screenshot(`isnet-quantized-weight-${theme}`);
      if (theme === 'light') {
        await view.locator('#weights-codes').click();
        await view.locator('#histogram-title', { hasText: 'Histogram of the codes' }).waitFor({ timeout: 15000 });
        await view.locator('#histogram-box svg.histogram').waitFor({ timeout: 30000 });
        await page.waitForTimeout(300);
        await ctx.screenshot('isnet-weight-codes-light');
        await view.locator('#weights-codes').click();
        await view.locator('#histogram-title', { hasText: 'Histogram of the values' }).waitFor({ timeout: 15000 });
      }
      ctx.log(`IS-Net (${theme}): ${weight.name}, ${weight.bars} bins`);
    });
  }

  await ctx.test('find reaches into If branches: "LSTM" from the main graph of Silero VAD v5 lands on an LSTM inside a branch, its path in the breadcrumb; Enter on the If lists both branches', async () => {
    if (!fs.existsSync(path.join(ctx.folder, 'models', ...SILERO.split('/')))) { ctx.log(`skipped: ${SILERO} is not in the shared models folder`); return; }
    await closeAllEditors(page);
    await setTheme(ctx, LIGHT);
    const view = await openModel(ctx, path.basename(SILERO));
    await view.locator('canvas.graph-canvas').focus();
    await page.keyboard.press('Control+f');
    await view.locator('#graph-find').waitFor({ state: 'visible', timeout: 10000 });
    await page.keyboard.type('LSTM');
    // The main graph holds no LSTM; the branches do.
    const count = view.locator('.find-count', { hasText: /None here · \d+ in other graphs/ });
    await count.waitFor({ timeout: 15000 });
    const listed = await view.locator('#find-elsewhere button').count();
    check(listed >= 1, `matches listed elsewhere: ${listed}`);
    await ctx.screenshot('find-elsewhere-light');
    await page.keyboard.press('Enter');
    await view.locator('#side-op', { hasText: 'LSTM' }).waitFor({ timeout: 30000 });
    const crumbs = (await view.locator('nav.breadcrumb').innerText()).replace(/\s+/g, ' ');
    check(/If/.test(crumbs), `breadcrumb: ${crumbs}`);
    await ctx.screenshot('find-in-branch-light');
    await setTheme(ctx, DARK);
    await ctx.webview().locator('body.vscode-dark').waitFor({ timeout: 30000 });
    await page.waitForTimeout(300);
    await ctx.screenshot('find-in-branch-dark');
    await setTheme(ctx, LIGHT);
    await ctx.webview().locator('body.vscode-light').waitFor({ timeout: 30000 });
    // The theme picker took the focus: back to the graph, where Escape closes the find bar.
    await view.locator('canvas.graph-canvas').focus();
    ctx.log(`find LSTM in the branch: ${(await view.locator('.find-count').innerText()).trim()}; opened ${crumbs}`);
    // Both branches from the If node: Enter on it moves to the side panel's list of its subgraphs.
    await page.keyboard.press('Escape');
    await view.locator('canvas.graph-canvas').focus();
    // Back up to the main graph (the LSTM found first may sit in a branch of a branch).
    for (let i = 0; i < 4 && !/^5 nodes/.test(await view.locator('.graph-status').innerText()); i++) {
      await page.keyboard.press('Backspace');
      await page.waitForTimeout(400);
    }
    await view.locator('.graph-status', { hasText: /^5 nodes/ }).waitFor({ timeout: 15000 });
    await view.locator('canvas.graph-canvas').focus();
    await page.keyboard.press('Control+f');
    await page.keyboard.type('If');
    await view.locator('#side-op', { hasText: /^If$/ }).waitFor({ timeout: 15000 });
    await page.keyboard.press('Escape');
    await view.locator('canvas.graph-canvas').focus();
    await page.keyboard.press('Enter');
    const focused = view.locator('.side-subgraphs :focus, .side-subgraphs :focus-within').first();
    await focused.waitFor({ timeout: 10000 });
    const label = (await focused.innerText()).trim();
    check(/^Open (then|else)_branch$/.test(label), `focused: ${label}`);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await view.locator('nav.breadcrumb', { hasText: /branch/ }).waitFor({ timeout: 15000 });
    ctx.log(`If node: Enter focused "${label}"; Tab, Enter opened ${(await view.locator('nav.breadcrumb').innerText()).replace(/\s+/g, ' ')}`);
  });

  for (const theme of ['light', 'dark']) {
    await ctx.test(`a 9,302-node encoder opens folded into its layers; Enter expands a layer in place, Shift+Enter folds it; find opens the layers around a match (${theme})`, async () => {
      check(fs.existsSync(path.join(ctx.folder, ENCODER)), `${ENCODER} was not generated (see the [ui] line at the start)`);
      await closeAllEditors(page);
      await setTheme(ctx, theme === 'dark' ? DARK : LIGHT);
      const view = await openModel(ctx, ENCODER);
      await view.locator(`body.vscode-${theme}`).waitFor({ timeout: 30000 });
      const status = view.locator('.graph-status');
      await status.filter({ hasText: /1 layer folded, 0 open/ }).waitFor({ timeout: 30000 });
      check(await view.locator('#graph-layers').getAttribute('aria-checked') !== 'false', 'Layers is on');
      await page.waitForTimeout(300);
      await ctx.screenshot(`encoder-folded-${theme}`);
      // Keyboard: the input, Gather, the encoder layer; Enter opens it (the selection moves to its first member),
      // down to layer.0 and its first member, the q projection, whose first node is then selected.
      await view.locator('canvas.graph-canvas').focus();
      await page.keyboard.press('Home');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      await view.locator('#side-op', { hasText: /^encoder$/ }).waitFor({ timeout: 15000 });
      for (const next of [/^layer\.0 – layer\.\d+$/, /^layer\.0$/, /^q$/]) {
        await page.keyboard.press('Enter');
        await view.locator('#side-op', { hasText: next }).waitFor({ timeout: 15000 });
      }
      await page.keyboard.press('Enter');
      await view.locator('#side-layers').waitFor({ timeout: 15000 });
      const first = (await view.locator('#side-op').innerText()).trim();
      const layers = await view.locator('#side-layers').innerText();
      check(/^MatMul$/.test(first) && /Collapse q/.test(layers) && /Collapse layer\.0/.test(layers) && /Collapse encoder/.test(layers), `selected ${first}; its layers: ${layers}`);
      await status.filter({ hasText: /4 open/ }).waitFor({ timeout: 15000 });
      await page.waitForTimeout(300);
      await ctx.screenshot(`encoder-layer-expanded-${theme}`);
      // Shift+Enter folds q again (the selection is its box), and again layer.0.
      await view.locator('canvas.graph-canvas').focus();
      await page.keyboard.press('Shift+Enter');
      await view.locator('#side-op', { hasText: /^q$/ }).waitFor({ timeout: 15000 });
      await page.keyboard.press('Shift+Enter');
      await view.locator('#side-op', { hasText: /^layer\.0$/ }).waitFor({ timeout: 15000 });
      await status.filter({ hasText: /2 open/ }).waitFor({ timeout: 15000 });
      ctx.log(`encoder (${theme}): ${(await status.innerText()).trim()}; layer.0's first node ${first}`);
      if (theme !== 'light') return;
      // Find: a node in a folded run deep down; going to it opens its layers.
      await page.keyboard.press('Control+f');
      await view.locator('#graph-find').waitFor({ state: 'visible', timeout: 10000 });
      await page.keyboard.type('/encoder/layer.250/ffn.up/MatMul');
      // Typing stops on the folded layer that holds the match (nothing opens as you type); Enter opens it.
      await view.locator('.find-count', { hasText: '1 of 1 (1 folded layer)' }).waitFor({ timeout: 15000 });
      const holder = (await view.locator('#side-op').innerText()).trim();
      check(/^layer\.\d+ – layer\.\d+$/.test(holder), `typing selected the run of layers holding the match: ${holder}`);
      await page.keyboard.press('Enter');
      await view.locator('#side-name', { hasText: '/encoder/layer.250/ffn.up/MatMul' }).waitFor({ timeout: 15000 });
      const opened = await view.locator('#side-layers').innerText();
      check(/Collapse ffn\.up/.test(opened) && /Collapse layer\.250/.test(opened), `layers opened for the match: ${opened}`);
      await page.keyboard.press('Escape');
      // Expand every layer (every node drawn), then collapse them all: back to the top level.
      await view.locator('#graph-expand-all').click();
      await status.filter({ hasText: /^9,302 nodes · 0 layers folded, [\d,]+ open/ }).waitFor({ timeout: 30000 });
      await view.locator('#graph-collapse-all').click();
      await status.filter({ hasText: /1 layer folded, 0 open/ }).waitFor({ timeout: 15000 });
    });
  }

  await ctx.test('a garbage .onnx file shows an error in the view', async () => {
    await closeAllEditors(page);
    await quickOpen(page, 'garbage.onnx');
    await page.locator('.tabs-container .tab.active', { hasText: 'garbage.onnx' }).waitFor({ timeout: 30000 });
    const view = ctx.webview();
    const err = view.locator('body').getByText(/error|invalid|not an onnx|not a valid|could not|cannot|failed|unable/i).first();
    await err.waitFor({ timeout: 30000 });
    ctx.log(`error shown: ${(await err.innerText()).replace(/\s+/g, ' ').slice(0, 200)}`);
    const dark = await page.locator('.monaco-workbench.vs-dark').count();
    await ctx.screenshot(dark ? 'garbage-dark' : 'garbage-light');
    await setTheme(ctx, dark ? LIGHT : DARK);
    await page.waitForTimeout(500);
    await ctx.screenshot(dark ? 'garbage-light' : 'garbage-dark');
  });

}

// ---- run directly ----------------------------------------------------------------------------
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { makeWorkspace, repoRoot } = await import('./workspace.mjs');
  const { runUi } = await import('../harness/driver.mjs');
  const t0 = Date.now();
  const resultsFile = path.join(repoRoot, 'test-results', 'ui.json');
  fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
  fs.rmSync(resultsFile, { force: true });
  let r;
  if (!fs.existsSync(path.join(repoRoot, 'test', 'harness', 'node_modules', 'code-server'))) {
    console.error('the UI test needs the VS Code harness: run `bash scripts/setup-test-env.sh` once (npm test does)');
    r = { passed: 0, failed: 1, results: [{ title: 'harness', state: 'failed', error: 'test/harness is not installed' }] };
  } else if (!fs.existsSync(path.join(repoRoot, 'dist', 'extension.js'))) {
    console.error('dist/extension.js is missing: run `npm run build` first');
    r = { passed: 0, failed: 1, results: [{ title: 'build', state: 'failed', error: 'dist/extension.js is missing' }] };
  } else {
    // The sample, the garbage file and one shared model (PP-OCRv4 rec) when the shared folder is there.
    const ws = makeWorkspace({ only: [PPOCR_REC, ISNET, SILERO] });
    // A graph that opens folded: the benchmark's generated encoder (300 layers, 9,302 nodes, PyTorch's scopes).
    const made = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bench', 'encoderFile.ts'), path.join(ws.dir, ENCODER)], { cwd: repoRoot, encoding: 'utf8' });
    console.log(`[ui] ${(made.stdout || made.stderr || '').trim()}`);
    try {
      r = await runUi({
        folder: ws.dir, extensionDevelopmentPaths: [repoRoot], run,
        settings: { 'workbench.colorTheme': LIGHT },
        screenshotDir: path.join(repoRoot, 'test-results', 'screenshots'),
      });
    } catch (e) {
      console.error(`[ui] ${e.stack || e}`);
      r = { passed: 0, failed: 1, results: [{ title: 'UI run', state: 'failed', error: String(e.stack || e) }] };
    } finally {
      ws.cleanup();
    }
  }
  fs.writeFileSync(resultsFile, JSON.stringify({ suite: 'ui', ...r, ms: Date.now() - t0 }, null, 2));
  console.log(`[ui] ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in test-results/screenshots/`);
  console.log(`${r.passed} passed, ${r.failed} failed`);
  process.exit(r.failed === 0 && r.passed > 0 ? 0 : 1);
}
