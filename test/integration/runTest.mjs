#!/usr/bin/env node
// Integration tests in VS Code through @vscode/test-electron's runTests.
//  - Offline (CI here, and any clone where `npm test` or scripts/setup-test-env.sh ran once): with
//    VSCODE_EXECUTABLE unset, test/harness/code -> code-server 4.100.3 + headless chromium.
//  - An installed VS Code: VSCODE_EXECUTABLE=/path/to/code (the Electron binary).
//  - No harness and VSCODE_EXECUTABLE unset: downloads VS Code 1.100.3 into .vscode-test/ (needs the
//    internet; headless Linux: wrap in `xvfb-run -a`).
// Env: ONNXQ_MODELS (shared models folder, default ../shared/models), VSCODE_VERSION,
//      ONNXQS_TEST_GREP (mocha grep), ONNXQS_TEST_RESULTS (results JSON; default
//      test-results/integration.json). Prints `N passed, N failed` last; exit 0 only when all passed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { makeWorkspace, repoRoot } from './workspace.mjs';

const require = createRequire(import.meta.url);
const { runTests } = require('@vscode/test-electron');

const t0 = Date.now();
const resultsFile = path.resolve(process.env.ONNXQS_TEST_RESULTS || path.join(repoRoot, 'test-results', 'integration.json'));
fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
fs.rmSync(resultsFile, { force: true });

for (const f of ['dist/extension.js']) {
  if (!fs.existsSync(path.join(repoRoot, f))) {
    console.error(`${f} is missing: run \`npm run build\` first`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

const ws = makeWorkspace();
// A fresh profile per run (not .vscode-test/user-data, which would carry state between runs).
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxqs-profile-'));
const harness = path.join(repoRoot, 'test', 'harness', 'code');
const harnessReady = fs.existsSync(path.join(repoRoot, 'test', 'harness', 'node_modules', 'code-server'));
const exe = process.env.VSCODE_EXECUTABLE ? path.resolve(process.env.VSCODE_EXECUTABLE) : harnessReady ? harness : undefined;
console.log(`[runTest] ${exe ? `VS Code executable: ${path.relative(process.cwd(), exe) || exe}` : `downloading VS Code ${process.env.VSCODE_VERSION || '1.100.3'}`}; workspace ${ws.dir}`);

let code = 0;
try {
  await runTests({
    vscodeExecutablePath: exe,
    version: process.env.VSCODE_VERSION || '1.100.3',
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: path.join(repoRoot, 'test', 'integration', 'suite', 'index.cjs'),
    launchArgs: [ws.dir, '--disable-extensions', '--disable-gpu', '--skip-welcome',
      `--user-data-dir=${path.join(profile, 'user-data')}`, `--extensions-dir=${path.join(profile, 'extensions')}`],
    extensionTestsEnv: { ONNXQS_TEST_RESULTS: resultsFile },
  });
} catch (err) {
  console.error(`[runTest] integration tests failed: ${err.message || err}`);
  if (!exe) console.error('[runTest] no VS Code to run them in: run `bash scripts/setup-test-env.sh` once for the offline harness (or `npm test`), or set VSCODE_EXECUTABLE');
  code = 1;
} finally {
  ws.cleanup();
  fs.rmSync(profile, { recursive: true, force: true });
}

let r;
try { r = JSON.parse(fs.readFileSync(resultsFile, 'utf8')); } catch { /* the run died before writing it */ }
if (!r) {
  console.error(`[runTest] no results in ${resultsFile}: the extension host did not finish the suite`);
  r = { passed: 0, failed: 1, pending: 0 };
  fs.writeFileSync(resultsFile, JSON.stringify({ suite: 'integration', ...r, results: [{ title: 'suite run', state: 'failed', error: 'no results written' }] }, null, 2));
  code = 1;
}
if (r.failed > 0) {
  console.log('\n[runTest] failures:');
  for (const x of r.results.filter((y) => y.state === 'failed')) console.log(`  ✘ ${x.title}\n      ${String(x.error).split('\n').slice(0, 4).join('\n      ')}`);
  code = 1;
}
console.log(`[runTest] ${((Date.now() - t0) / 1000).toFixed(1)} s; results in ${path.relative(process.cwd(), resultsFile)}`);
// a run that failed without a failed test (none ran, no results) still counts as one failure
const failed = code !== 0 && !(r.failed > 0) ? 1 : r.failed;
console.log(`${r.passed} passed, ${failed} failed${r.pending ? `, ${r.pending} skipped` : ''}`);
process.exit(code);
