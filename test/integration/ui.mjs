#!/usr/bin/env node
// UI test: the real workbench (code-server 4.100.3 in headless chromium, driven by playwright-core).
// Opens the sample model through Quick Open, reads the custom editor's webview DOM, and saves
// screenshots in a light and a dark theme to test-results/screenshots/ (look at them).
//   node test/integration/ui.mjs        (needs scripts/setup-test-env.sh and `npm run build`)
// or through the driver: node test/harness/driver.mjs --ui=test/integration/ui.mjs FOLDER
// Prints `N passed, N failed` last; results also in test-results/ui.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LIGHT = 'Default Light Modern';
const DARK = 'Default Dark Modern';

async function quickOpen(page, name) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 30000 });
  await page.keyboard.press('Enter');
}

async function palette(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  // click the row whose label is exactly `title` (the first row may be a fuzzy match, e.g.
  // "Preferences: Browse Color Themes in Marketplace" before "Preferences: Color Theme")
  const exact = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  await page.locator('.quick-input-list .monaco-list-row .label-name', { hasText: exact }).first().click({ timeout: 30000 });
}

async function closeAllEditors(page) {
  await palette(page, 'View: Close All Editors');
  // untitled documents (the markdown summary) ask whether to save them
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

/** @param {{ page: import('playwright-core').Page, webview: () => import('playwright-core').FrameLocator, setSettings: (s: object) => void, screenshot: (n: string) => Promise<string>, test: (n: string, f: () => Promise<void>) => Promise<void>, log: Function }} ctx */
export async function run(ctx) {
  const { page } = ctx;
  let body = '';
  // The driver starts the workbench with workbench.colorTheme = LIGHT in the user settings (ui.mjs
  // run directly); through `driver.mjs --ui` it may start dark: switch.
  await setTheme(ctx, LIGHT);

  await ctx.test('Quick Open opens mnist-8.onnx in the model viewer and the summary renders', async () => {
    await quickOpen(page, 'mnist-8.onnx');
    const tab = page.locator('.tabs-container .tab.active', { hasText: 'mnist-8.onnx' });
    await tab.waitFor({ timeout: 30000 });
    const view = ctx.webview();
    await view.locator('body').getByText('Plus214_Output_0').first().waitFor({ timeout: 60000 });
    body = await view.locator('body').innerText();
    ctx.log(`webview text (${body.length} chars): ${body.replace(/\s+/g, ' ').slice(0, 300)}`);
  });

  await ctx.test('the webview shows the file name as its title', async () => {
    const view = ctx.webview();
    const heading = view.getByRole('heading', { name: /mnist-8\.onnx/ });
    const titled = view.locator('#title, .title, [class*="title"], header').filter({ hasText: 'mnist-8.onnx' });
    check(await heading.count() + await titled.count() > 0, 'no heading / title element with "mnist-8.onnx"');
  });

  await ctx.test('the webview has tables of inputs, outputs and the op histogram', async () => {
    const view = ctx.webview();
    const tables = view.locator('table');
    const n = await tables.count();
    check(n >= 3, `expected at least 3 tables (inputs, outputs, op histogram), found ${n}`);
    check(await tables.filter({ hasText: 'Input3' }).count() > 0, 'no table lists the input Input3');
    check(await tables.filter({ hasText: 'Plus214_Output_0' }).count() > 0, 'no table lists the output Plus214_Output_0');
    const ops = tables.filter({ hasText: 'MaxPool' });
    check(await ops.count() > 0, 'no table lists the op type MaxPool');
    const opsText = await ops.first().innerText();
    for (const op of ['Conv', 'MatMul', 'Add', 'Relu', 'Reshape']) check(opsText.includes(op), `op histogram lacks ${op}`);
    // the op table is below the fold of the page screenshot: an element screenshot scrolls to it
    const f = path.join(ctx.screenshotDir, 'mnist-8-ops-light.png');
    await ops.first().screenshot({ path: f });
    ctx.log(`screenshot ${path.relative(process.cwd(), f)}`);
  });

  await ctx.test(`screenshot in the light theme (${LIGHT})`, async () => {
    check(await page.locator('.monaco-workbench.vs').count() === 1, 'the workbench is not in a light theme');
    await page.waitForTimeout(500);
    await ctx.screenshot('mnist-8-light');
  });

  await ctx.test(`screenshot in the dark theme (${DARK})`, async () => {
    await setTheme(ctx, DARK);
    // the workbench writes the choice into the user settings.json (a moment later)
    for (let i = 0; i < 50 && ctx.readSettings()['workbench.colorTheme'] !== DARK; i++) await page.waitForTimeout(100);
    check(ctx.readSettings()['workbench.colorTheme'] === DARK, `user settings.json has workbench.colorTheme = ${ctx.readSettings()['workbench.colorTheme']}`);
    // the webview gets the theme as a body class and --vscode-* variables
    await ctx.webview().locator('body.vscode-dark').waitFor({ timeout: 30000 });
    await page.waitForTimeout(500);
    await ctx.screenshot('mnist-8-dark');
  });

  await ctx.test('"ONNX: Show Model Summary" from the command palette opens the summary of the active model', async () => {
    await palette(page, 'ONNX: Show Model Summary');
    await page.locator('.monaco-editor .view-lines', { hasText: 'Input3' }).first().waitFor({ timeout: 30000 });
    await ctx.screenshot('summary-markdown-dark');
  });

  await ctx.test('a garbage .onnx file shows an error in the view', async () => {
    await closeAllEditors(page);
    await quickOpen(page, 'garbage.onnx');
    await page.locator('.tabs-container .tab.active', { hasText: 'garbage.onnx' }).waitFor({ timeout: 30000 });
    const view = ctx.webview();
    const err = view.locator('body').getByText(/error|invalid|not an onnx|not a valid|could not|cannot|failed|unable/i).first();
    await err.waitFor({ timeout: 30000 });
    ctx.log(`error shown: ${(await err.innerText()).replace(/\s+/g, ' ').slice(0, 200)}`);
    await ctx.screenshot('garbage-dark');
    await setTheme(ctx, LIGHT);
    await page.waitForTimeout(500);
    await ctx.screenshot('garbage-light');
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
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'extension.js'))) {
    console.error('dist/extension.js is missing: run `npm run build` first');
    r = { passed: 0, failed: 1, results: [{ title: 'build', state: 'failed', error: 'dist/extension.js is missing' }] };
  } else {
    const ws = makeWorkspace({ shared: false });
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
