#!/usr/bin/env node
// Captures VS Code's theme as a webview receives it (the CSS variables on the webview's <html> and its
// body class) in code-server's Default Dark Modern and Default Light Modern themes, into
// bench/themes/{dark,light}.json: the editor benchmark's plain page (bench/editorPage.ts) uses them so that
// it paints what VS Code paints. Run it again after a VS Code (code-server) upgrade:
//   node test/harness/captureTheme.mjs
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runUi } from './driver.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const out = path.join(repoRoot, 'bench', 'themes');

async function run(ctx) {
  const { page } = ctx;
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill('mnist-8.onnx');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'mnist-8.onnx' }).first().waitFor({ timeout: 30000 });
  await page.keyboard.press('Enter');
  for (const [name, theme, cls] of [['dark', 'Dark Modern', 'vscode-dark'], ['light', 'Light Modern', 'vscode-light']]) {
    await ctx.test(`capture ${name}`, async () => {
      if (!(await page.locator(name === 'dark' ? '.monaco-workbench.vs-dark' : '.monaco-workbench.vs').count())) {
        await page.keyboard.press('F1');
        await page.locator('.quick-input-widget input').fill('>Preferences: Color Theme');
        await page.locator('.quick-input-list .monaco-list-row .label-name', { hasText: /^Preferences: Color Theme$/ }).first().click();
        await page.locator('.quick-input-widget input').fill(theme);
        await page.locator('.quick-input-list .monaco-list-row', { hasText: `Default ${theme}` }).first().click();
      }
      const view = ctx.webview();
      await view.locator(`body.${cls}`).waitFor({ timeout: 30000 });
      const data = await view.locator('html').evaluate((html) => ({ style: html.getAttribute('style') ?? '', bodyClass: document.body.className }));
      fs.mkdirSync(out, { recursive: true });
      fs.writeFileSync(path.join(out, `${name}.json`), JSON.stringify({ theme: `Default ${theme}`, vscode: '1.100.3 (code-server 4.100.3)', ...data }, null, 1) + '\n');
      ctx.log(`${name}: ${data.style.length} characters of variables, body class "${data.bodyClass}"`);
    });
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxqs-theme-'));
fs.copyFileSync(path.join(repoRoot, 'samples', 'mnist-8.onnx'), path.join(dir, 'mnist-8.onnx'));
try {
  const r = await runUi({ folder: dir, extensionDevelopmentPaths: [repoRoot], run, settings: { 'workbench.colorTheme': 'Default Dark Modern' } });
  console.log(`${r.passed} passed, ${r.failed} failed`);
  process.exitCode = r.failed === 0 ? 0 : 1;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
