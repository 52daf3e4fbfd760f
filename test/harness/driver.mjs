#!/usr/bin/env node
// Offline VS Code test driver: code-server 4.100.3 (VS Code OSS 1.100.3 server + web workbench, from
// npm) shown in Debian's headless chromium, driven by playwright-core. Nothing is downloaded at test
// time. code-server's extension host is VS Code's real Node extension host, so the extension, its
// native addons, custom editors and webviews run as in desktop VS Code.
//
// 1. As a "VS Code executable" for @vscode/test-electron's runTests (through ./code):
//      node driver.mjs [FOLDER] --extensionDevelopmentPath=DIR... --extensionTestsPath=FILE
//                      [--user-data-dir=DIR] [--extensions-dir=DIR]   (other VS Code flags: ignored)
//    runs the extensionTestsPath module in the extension host (the workbench URL's `payload`), echoes
//    the extension host's console (mocha's reporter) and exits 0 when it passed, 1 when it failed.
//    When the caller did not set ONNXQS_TEST_RESULTS (the JSON file the suite index writes its
//    results to), the driver picks one and prints `N passed, N failed` itself.
// 2. UI tests: node driver.mjs --ui=MODULE [FOLDER] --extensionDevelopmentPath=DIR
//    opens the workbench and calls MODULE's `export async function run(ctx)` (see runUi below).
//    test/integration/ui.mjs also runs itself this way (`node test/integration/ui.mjs`).
// Env: CODE_SERVER (code-server package folder), CHROMIUM (browser binary, default
//      /usr/lib/chromium/chromium), TEST_TIMEOUT_MS (default 600000), VERBOSE=1 (all console output),
//      ONNXQS_TEST_LOGS (folder for code-server's log; default test-results/logs).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import util from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const T0 = Date.now();
const stamp = () => `${((Date.now() - T0) / 1000).toFixed(1)}s`;
export const log = (...a) => console.log(`[driver ${stamp()}]`, ...a);
const verbose = !!process.env.VERBOSE;

// Settings for a quiet, offline, deterministic workbench.
export const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'window.restoreWindows': 'none',
};

// Chromium asks nothing off-machine with these (the machine's network is closed anyway).
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Workbench console noise (offline, web-specific) not worth echoing.
const NOISE = /Failed to load resource|Ignoring fetching additional builtin|connection token|Creating a socket|Service Worker|service worker|allow-scripts and allow-same-origin|web worker extension host|builtin extensions cache|ChatSessionStore|Overwriting extension|Long running operations|ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|marketplace|gallery|^\s*$/i;

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.on('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

function writeSettings(file, settings) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(settings, null, 2));
}

/**
 * Starts code-server and a headless chromium on its workbench.
 * @param {object} o
 * @param {string} o.folder workspace folder to open
 * @param {string[]} o.extensionDevelopmentPaths
 * @param {string} [o.extensionTestsPath] run this module in the extension host (test mode)
 * @param {string} [o.userDataDir] [o.extensionsDir] default: temp folders
 * @param {object} [o.settings] user settings on top of BASE_SETTINGS
 * @param {(line: string) => void} [o.onConsole] every console line of the page (extension host output included)
 * @param {object} [o.env] extra environment for code-server and so the extension host
 * @param {boolean} [o.workspaceTrust] keep VS Code's workspace trust on (a fresh profile: the folder starts untrusted)
 */
export async function startWorkbench(o) {
  const { chromium } = await import('playwright-core');
  const codeServerPkg = process.env.CODE_SERVER || path.join(here, 'node_modules', 'code-server');
  const entry = path.join(codeServerPkg, 'out', 'node', 'entry.js');
  if (!fs.existsSync(entry)) {
    throw new Error(`code-server is not installed at ${codeServerPkg}: run scripts/setup-test-env.sh`);
  }
  const browserPath = process.env.CHROMIUM || '/usr/lib/chromium/chromium';
  if (!fs.existsSync(browserPath)) throw new Error(`no chromium at ${browserPath}: run scripts/setup-test-env.sh or set CHROMIUM`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxqs-cs-'));
  const userDataDir = path.resolve(o.userDataDir || path.join(tmp, 'user-data'));
  const extensionsDir = path.resolve(o.extensionsDir || path.join(tmp, 'extensions'));
  fs.mkdirSync(extensionsDir, { recursive: true });
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  let settings = { ...BASE_SETTINGS, ...(o.workspaceTrust ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' } : {}), ...(o.settings || {}) };
  writeSettings(settingsFile, settings);
  fs.writeFileSync(path.join(tmp, 'config.yaml'), ''); // else it writes ~/.config/code-server/config.yaml

  const logDir = path.resolve(process.env.ONNXQS_TEST_LOGS || path.join(repoRoot, 'test-results', 'logs'));
  fs.mkdirSync(logDir, { recursive: true });
  const csLogFile = path.join(logDir, `code-server-${o.logName || 'run'}.log`);
  const csLog = fs.createWriteStream(csLogFile);

  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const cs = spawn(process.execPath, [entry,
    '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
    '--config', path.join(tmp, 'config.yaml'),
    '--disable-telemetry', '--disable-update-check', ...(o.workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override', '--ignore-last-opened', '--log', 'info'], {
    // The extension host inherits this environment (runTests' extensionTestsEnv arrives here too).
    // EXTENSIONS_GALLERY='{}': no marketplace look-ups. XDG_DATA_HOME: code-server's own logs and
    // heartbeat go to the temp folder, not ~.
    env: { ...process.env, ...(o.env || {}), EXTENSIONS_GALLERY: '{}', XDG_DATA_HOME: path.join(tmp, 'xdg-data') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cs.stdout.pipe(csLog, { end: false });
  cs.stderr.pipe(csLog, { end: false });
  const csExited = new Promise((resolve) => cs.on('exit', (code, signal) => resolve(code ?? signal)));

  let browser;
  let closed = false;
  async function close() {
    if (closed) return;
    closed = true;
    try { await browser?.close(); } catch { /* already gone */ }
    if (cs.exitCode === null && cs.signalCode === null) {
      cs.kill('SIGTERM');
      await Promise.race([csExited, new Promise((r) => setTimeout(r, 5000))]);
      if (cs.exitCode === null && cs.signalCode === null) cs.kill('SIGKILL');
    }
    await new Promise((r) => csLog.end(r));
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  try {
    const deadline = Date.now() + 60000;
    for (;;) {
      try { const r = await fetch(`${origin}/healthz`); if (r.ok) break; } catch { /* not up yet */ }
      if (cs.exitCode !== null) throw new Error(`code-server exited early (${cs.exitCode}); see ${csLogFile}`);
      if (Date.now() > deadline) throw new Error(`code-server did not start in 60 s; see ${csLogFile}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    log(`code-server 4.100.3 up on ${origin} (log: ${path.relative(process.cwd(), csLogFile)})`);

    browser = await chromium.launch({ executablePath: browserPath, headless: true, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: o.viewport || { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on('console', async (m) => {
      // Extension-host output reaches the page console as ('%c INFO', 'color: #33f', fmt, ...args).
      let vals = await Promise.all(m.args().map((a) => a.jsonValue().catch(() => '')));
      if (typeof vals[0] === 'string' && vals[0].startsWith('%c')) vals = vals.slice(2);
      const line = vals.length ? util.format(...vals) : m.text();
      csLog.write(`[console.${m.type()}] ${line}\n`);
      o.onConsole?.(line, m.type());
    });
    page.on('pageerror', (e) => {
      const s = `[pageerror] ${String(e).slice(0, 500)}`;
      csLog.write(s + '\n');
      if (verbose) console.log(s);
    });

    // Paths become vscode-remote URIs of this server (what VS Code's remote resolver expects).
    const remote = (p) => `vscode-remote://127.0.0.1:${port}${encodeURI(path.resolve(p))}`;
    const payload = o.extensionDevelopmentPaths.map((p) => ['extensionDevelopmentPath', remote(p)]);
    let exitCode;
    if (o.extensionTestsPath) {
      payload.push(['extensionTestsPath', remote(o.extensionTestsPath)]);
      // The workbench calls window.codeAutomationExit(code) once the extension host has run
      // extensionTestsPath (the same hook @vscode/test-web uses).
      let resolveExit;
      exitCode = new Promise((resolve) => { resolveExit = resolve; });
      await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
    }
    const url = `${origin}/?folder=${encodeURIComponent(path.resolve(o.folder))}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(url);
    return {
      page, browser, origin, port, userDataDir, settingsFile, exitCode, close, csLogFile,
      /** Merges into the user settings.json. Only read when the workbench starts: code-server
       *  4.100.3 does not notice later edits of the file (change a theme through the UI instead). */
      setSettings(patch) { settings = { ...settings, ...patch }; writeSettings(settingsFile, settings); },
      readSettings() { try { return JSON.parse(fs.readFileSync(settingsFile, 'utf8')); } catch { return {}; } },
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Reads a results file written by test/integration/suite/index.cjs. */
export function readResults(file) {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return undefined; }
}

// ---- main -------------------------------------------------------------------------------------
function parseArgs(argv) {
  const values = (name) => argv.flatMap((a, i) => {
    if (a.startsWith(`--${name}=`)) return [a.slice(name.length + 3)];
    if (a === `--${name}` && argv[i + 1] && !argv[i + 1].startsWith('-')) return [argv[i + 1]];
    return [];
  });
  // Positional arguments: not flags, and not the value of a "--flag value" pair we understand.
  const takesValue = new Set(['--extensionDevelopmentPath', '--extensionTestsPath', '--user-data-dir', '--extensions-dir']);
  const positional = argv.filter((a, i) => !a.startsWith('-') && !takesValue.has(argv[i - 1]));
  return {
    // --ui (test/integration/ui.mjs) or --ui=MODULE
    ui: argv.includes('--ui') ? path.join(repoRoot, 'test', 'integration', 'ui.mjs')
      : argv.find((a) => a.startsWith('--ui='))?.slice(5),
    devPaths: values('extensionDevelopmentPath').map((p) => path.resolve(p)),
    testsPath: values('extensionTestsPath')[0],
    userDataDir: values('user-data-dir')[0],
    extensionsDir: values('extensions-dir')[0],
    folder: positional[0],
  };
}

async function mainTest(args) {
  if (!args.testsPath) { console.error('driver: --extensionTestsPath=FILE is required (or --ui)'); return 2; }
  let ownResults;
  const env = {};
  if (!process.env.ONNXQS_TEST_RESULTS) {
    ownResults = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onnxqs-results-')), 'results.json');
    env.ONNXQS_TEST_RESULTS = ownResults;
  }
  const folder = args.folder || repoRoot;
  const timeoutMs = Number(process.env.TEST_TIMEOUT_MS || 600000);
  let wb;
  let timer;
  let crashed;
  const crash = new Promise((resolve) => { crashed = resolve; });
  try {
    wb = await startWorkbench({
      folder, extensionDevelopmentPaths: args.devPaths.length ? args.devPaths : [repoRoot],
      extensionTestsPath: path.resolve(args.testsPath), userDataDir: args.userDataDir, extensionsDir: args.extensionsDir,
      logName: 'integration', env,
      onConsole: (line) => {
        if (verbose || !NOISE.test(line)) console.log(line);
        // a crashed extension host never calls codeAutomationExit: fail now, not at the timeout
        // (after a grace period: the normal path below also catches it when the workbench reports)
        if (/Extension host .*terminated unexpectedly|\[ExtensionHost\].*socket close event \(wasClean: false/i.test(line)) {
          setTimeout(() => crashed?.(line), 15000);
        }
      },
    });
    log(`workbench opened on ${folder}; running ${path.relative(process.cwd(), path.resolve(args.testsPath))}`);
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
    const code = await Promise.race([wb.exitCode, timeout, crash.then((line) => ({ crash: line }))]);
    if (code && code.crash) {
      console.error(`[driver] the extension host crashed: ${code.crash} (see ${wb.csLogFile})`);
      if (ownResults) console.log('0 passed, 1 failed');
      return 1;
    }
    if (code === 'timeout') {
      console.error(`[driver] TIMEOUT: the tests did not finish in ${timeoutMs / 1000} s (see ${wb.csLogFile})`);
      return 2;
    }
    log(`extension tests finished, exit code ${code}`);
    // When the extension host dies mid-run, code-server's workbench still reports exit code 0:
    // trust a 0 only when the suite wrote its results file during this run.
    const resultsFile = ownResults || process.env.ONNXQS_TEST_RESULTS;
    const fresh = fs.existsSync(resultsFile) && fs.statSync(resultsFile).mtimeMs >= T0;
    let exit = code === 0 ? 0 : 1;
    if (exit === 0 && !fresh) {
      console.error(`[driver] exit code 0 but no results in ${resultsFile}: the extension host ended before the suite finished (crashed?); see ${wb.csLogFile}`);
      exit = 1;
    }
    if (ownResults) {
      const r = fresh ? readResults(ownResults) : undefined;
      console.log(r ? `${r.passed} passed, ${r.failed} failed${r.pending ? `, ${r.pending} skipped` : ''}` : '0 passed, 1 failed');
    }
    return exit;
  } catch (e) {
    console.error(`[driver] ${e.stack || e}`);
    return 3;
  } finally {
    clearTimeout(timer);
    await wb?.close();
    if (ownResults) fs.rmSync(path.dirname(ownResults), { recursive: true, force: true });
  }
}

/**
 * UI mode: opens the workbench on `folder` (with the extensions of `extensionsDir`, if given, as installed
 * ones) and calls `mod.run(ctx)` with
 *   ctx = { page, webview, setSettings, readSettings, test(name, fn), screenshot(name), screenshotDir, log, folder }
 * where webview() is the frame locator of the active custom editor's content and test() records a
 * named check. Returns { passed, failed, results }.
 */
export async function runUi({ folder, extensionDevelopmentPaths, extensionsDir, run, settings, workspaceTrust, logName = 'ui', timeoutMs = Number(process.env.TEST_TIMEOUT_MS || 600000), screenshotDir }) {
  const results = [];
  const shots = path.resolve(screenshotDir || path.join(repoRoot, 'test-results', 'screenshots'));
  fs.mkdirSync(shots, { recursive: true });
  const wb = await startWorkbench({
    folder, extensionDevelopmentPaths, extensionsDir, settings, logName, workspaceTrust,
    onConsole: (line) => { if (verbose || /\[onnxqs\]/i.test(line)) console.log(line); },
  });
  const { page } = wb;
  const timer = setTimeout(async () => { console.error(`[driver] UI TIMEOUT after ${timeoutMs / 1000} s`); await wb.close(); process.exit(2); }, timeoutMs);
  try {
    await page.locator('.monaco-workbench').waitFor({ timeout: 90000 });
    await page.locator('.explorer-folders-view').first().waitFor({ timeout: 60000 }).catch(() => {});
    log('workbench loaded');
    // A failed step can leave a modal dialog or a quick pick open: clear them before the next test.
    const recover = async () => {
      for (let i = 0; i < 3; i++) {
        const dialog = page.locator('.monaco-dialog-box');
        if (await dialog.count() && await dialog.first().isVisible()) {
          await page.keyboard.press('Escape');
          await page.waitForTimeout(300);
          continue;
        }
        if (await page.locator('.quick-input-widget').isVisible().catch(() => false)) await page.keyboard.press('Escape');
        break;
      }
    };
    const ctx = {
      page, folder, log, setSettings: wb.setSettings, readSettings: wb.readSettings, screenshotDir: shots,
      webview: () => page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame'),
      async screenshot(name) { const f = path.join(shots, `${name}.png`); await page.screenshot({ path: f }); log(`screenshot ${path.relative(process.cwd(), f)}`); return f; },
      async test(name, fn) {
        // UI_ONLY=text runs only the tests whose name holds it (while working on one; later tests may need earlier ones).
        if (process.env.UI_ONLY && !name.includes(process.env.UI_ONLY)) return;
        const t = Date.now();
        try {
          await fn();
          results.push({ title: name, state: 'passed', ms: Date.now() - t });
          console.log(`  ✔ ${name} (${Date.now() - t} ms)`);
        } catch (e) {
          results.push({ title: name, state: 'failed', ms: Date.now() - t, error: String(e.stack || e) });
          console.log(`  ✘ ${name}\n    ${String(e.message || e).split('\n').join('\n    ')}`);
          await ctx.screenshot(`failed-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 60)}`).catch(() => {});
          await recover().catch(() => {});
        }
      },
    };
    await run(ctx);
  } finally {
    clearTimeout(timer);
    await wb.close();
  }
  const passed = results.filter((r) => r.state === 'passed').length;
  return { passed, failed: results.length - passed, results };
}

async function mainUi(args) {
  const mod = await import(pathToFileURL(path.resolve(args.ui)).href);
  const r = await runUi({
    folder: path.resolve(args.folder || repoRoot),
    extensionDevelopmentPaths: args.devPaths.length ? args.devPaths : [repoRoot],
    run: mod.run,
  });
  console.log(`${r.passed} passed, ${r.failed} failed`);
  return r.failed === 0 && r.passed > 0 ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = parseArgs(process.argv.slice(2));
  const code = await (args.ui ? mainUi(args) : mainTest(args));
  log(`exit ${code}`);
  process.exit(code);
}
