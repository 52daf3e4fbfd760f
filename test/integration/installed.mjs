#!/usr/bin/env node
// The installed extension: this platform's .vsix (npm run package) installed into a clean code-server
// profile with `--install-extension`, and the workbench opened with no development folder, so the only copy
// of the extension is the installed one. As a user would: open the sample from Quick Open, quantize it
// through Quantize Model…'s prompts, compare the int8 copy with FP32 from the Explorer; and the job process
// that did the work runs the installed copy's code.
//   node test/integration/installed.mjs [FILE.vsix]     (default: vsix/<name>-<platform>-<version>.vsix)
// Needs scripts/setup-test-env.sh (code-server, chromium). Prints `N passed, N failed` last; results in
// test-results/installed.json.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runUi } from '../harness/driver.mjs';
import { compareWithFp32FromExplorer, openModel, palette } from './ui.mjs';
import { makeWorkspace, repoRoot } from './workspace.mjs';

const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const vsix = path.resolve(process.argv[2] ?? path.join(repoRoot, 'vsix', `${manifest.name}-${process.platform}-${process.arch}-${manifest.version}.vsix`));
const resultsFile = path.join(repoRoot, 'test-results', 'installed.json');
const check = (cond, msg) => { if (!cond) throw new Error(msg); };

const t0 = Date.now();
fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
let r;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxqs-installed-'));
const extensionsDir = path.join(profile, 'extensions');
const ws = makeWorkspace({ shared: false });
try {
  if (!fs.existsSync(vsix)) throw new Error(`${vsix} is missing: run npm run package -- --target ${process.platform}-${process.arch} first`);
  const codeServer = path.join(process.env.CODE_SERVER || path.join(repoRoot, 'test', 'harness', 'node_modules', 'code-server'), 'out', 'node', 'entry.js');
  const out = execFileSync(process.execPath, [codeServer, '--extensions-dir', extensionsDir, '--user-data-dir', path.join(profile, 'data'), '--install-extension', vsix],
    { encoding: 'utf8', env: { ...process.env, EXTENSIONS_GALLERY: '{}', XDG_DATA_HOME: path.join(profile, 'xdg') } });
  console.log(`[installed] ${out.trim().split('\n').pop()}`);
  const installed = fs.readdirSync(extensionsDir).find((d) => d.startsWith(`${manifest.publisher}.${manifest.name}-`));
  const installedDir = installed ? path.join(extensionsDir, installed) : '';
  r = await runUi({
    folder: ws.dir, extensionDevelopmentPaths: [], extensionsDir, logName: 'installed',
    settings: { 'workbench.colorTheme': 'Default Light Modern' },
    screenshotDir: path.join(repoRoot, 'test-results', 'screenshots'),
    run: async (ctx) => {
      const { page } = ctx;
      await ctx.test('the .vsix is installed into the clean profile, with no development files', async () => {
        check(installedDir && fs.existsSync(path.join(installedDir, 'dist', 'extension.js')), `no installed extension in ${extensionsDir}: ${fs.readdirSync(extensionsDir).join(', ')}`);
        check(!fs.existsSync(path.join(installedDir, 'src')) && !fs.existsSync(path.join(installedDir, 'test')), 'sources or tests were installed');
        ctx.log(`installed at ${installedDir}`);
      });
      await ctx.test('the installed extension opens the sample in its model viewer', async () => {
        const view = await openModel(ctx, 'mnist-8.onnx');
        const status = await view.locator('.graph-status').innerText();
        check(/12 nodes/.test(status), `graph status: ${status}`);
      });
      await ctx.test('it quantizes the sample through Quantize Model…', async () => {
        await palette(page, 'ONNX: Quantize Model…');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Dynamic int8' }).first().click({ timeout: 15000 });
        await page.waitForFunction(() => /--samples 8 --seed 1/.test(document.querySelector('.quick-input-widget input')?.value ?? ''), null, { timeout: 30000 });
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => /mnist-8\.int8\.onnx$/.test(document.querySelector('.quick-input-widget input')?.value ?? ''), null, { timeout: 15000 });
        await page.keyboard.press('Enter');
        await page.locator('.notification-list-item', { hasText: /Quantized mnist-8\.onnx into mnist-8\.int8\.onnx/ }).waitFor({ timeout: 90000 });
        check(fs.existsSync(path.join(ws.dir, 'mnist-8.int8.onnx')), 'no mnist-8.int8.onnx in the workspace');
      });
      await ctx.test('it compares the int8 copy with FP32, and the job process is the installed copy\'s', async () => {
        const panel = await compareWithFp32FromExplorer(page, 'mnist-8.int8.onnx');
        await panel.locator('#outputs').waitFor({ timeout: 90000 });
        const verdict = await panel.locator('.verdict-line').innerText();
        check(/output/i.test(verdict), `verdict: ${verdict}`);
        await ctx.screenshot('installed-compare-light');
        // The background process that quantized and compared, found by its command line.
        const jobs = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('jobChild.js'));
        check(jobs.some((l) => l.includes(path.join(installedDir, 'dist', 'jobChild.js'))), `no job process from ${installedDir}: ${jobs.join(' | ') || 'none'}`);
        check(!jobs.some((l) => l.includes(path.join(repoRoot, 'dist'))), `a job process runs the development folder's code: ${jobs.join(' | ')}`);
      });
    },
  });
  // The same installed copy in a workspace VS Code does not trust (workspace trust on, a fresh profile):
  // the viewer works, what runs a model asks for trust and does nothing.
  const untrusted = makeWorkspace({ shared: false });
  try {
    const u = await runUi({
      folder: untrusted.dir, extensionDevelopmentPaths: [], extensionsDir, logName: 'installed-untrusted', workspaceTrust: true,
      settings: { 'workbench.colorTheme': 'Default Light Modern' },
      screenshotDir: path.join(repoRoot, 'test-results', 'screenshots'),
      run: async (ctx) => {
        const { page } = ctx;
        await ctx.test('in an untrusted workspace the model viewer works', async () => {
          await page.locator('.statusbar-item', { hasText: /Restricted Mode/ }).first().waitFor({ timeout: 30000 });
          const view = await openModel(ctx, 'mnist-8.onnx');
          const status = await view.locator('.graph-status').innerText();
          check(/12 nodes/.test(status), `graph status: ${status}`);
        });
        for (const [command, what] of [['ONNX: Quantize Model…', 'Quantizing'], ['ONNX: Benchmark Model…', 'Benchmarking']]) {
          await ctx.test(`in an untrusted workspace ${command} asks for trust and runs nothing`, async () => {
            const before = fs.readdirSync(untrusted.dir).sort().join(', ');
            await palette(page, command);
            const note = page.locator('.notification-list-item', { hasText: `${what} runs the model in onnxruntime, which this untrusted workspace does not allow` });
            await note.waitFor({ timeout: 30000 });
            check(await note.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).count() === 1, 'the notification offers Manage Workspace Trust');
            await ctx.screenshot(`untrusted-${what.toLowerCase()}-light`);
            await page.waitForTimeout(500);
            const after = fs.readdirSync(untrusted.dir).sort().join(', ');
            check(after === before, `the workspace changed: ${before} -> ${after}`);
            await palette(page, 'Notifications: Clear All Notifications');
          });
        }
      },
    });
    r = { passed: r.passed + u.passed, failed: r.failed + u.failed, results: [...r.results, ...u.results] };
  } finally {
    untrusted.cleanup();
  }
} catch (e) {
  console.error(`[installed] ${e.stack || e}`);
  r = { passed: 0, failed: 1, results: [{ title: 'installed extension', state: 'failed', error: String(e.stack || e) }] };
} finally {
  ws.cleanup();
  fs.rmSync(profile, { recursive: true, force: true });
}
fs.writeFileSync(resultsFile, JSON.stringify({ suite: 'installed', ...r, ms: Date.now() - t0 }, null, 2));
console.log(`[installed] ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`${r.passed} passed, ${r.failed} failed`);
process.exit(r.failed === 0 && r.passed > 0 ? 0 : 1);
