// extensionTestsPath module: the extension host require()s it and calls run(). The same file runs
// in desktop VS Code (@vscode/test-electron downloads it) and in code-server's extension host
// (test/harness/code). Results also go to a JSON file (ONNXQS_TEST_RESULTS, else
// test-results/integration.json): under code-server the extension host's stdout is not the
// driver's, and the caller prints the counts from that file.
'use strict';
const fs = require('fs');
const path = require('path');
const Mocha = require('mocha');

const repoRoot = path.resolve(__dirname, '..', '..', '..');

exports.run = function run() {
  const resultsFile = process.env.ONNXQS_TEST_RESULTS || path.join(repoRoot, 'test-results', 'integration.json');
  const mocha = new Mocha({
    ui: 'bdd',
    timeout: Number(process.env.ONNXQS_TEST_TIMEOUT_MS || 60000),
    color: false,
    reporter: 'spec',
  });
  if (process.env.ONNXQS_TEST_GREP) mocha.grep(process.env.ONNXQS_TEST_GREP);
  // A fixed order: activation first, then the editor, then the model table, then quantization.
  for (const f of ['activation.test.cjs', 'editor.test.cjs', 'models.test.cjs', 'quantize.test.cjs', 'compare.test.cjs', 'bench.test.cjs']) {
    mocha.addFile(path.join(__dirname, f));
  }
  const results = [];
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    let runner;
    const finish = (failures) => {
      const passed = results.filter((r) => r.state === 'passed').length;
      const failed = results.filter((r) => r.state === 'failed').length;
      const pending = results.filter((r) => r.state === 'pending').length;
      const summary = { suite: 'integration', passed, failed, pending, ms: Date.now() - t0, vscode: require('vscode').version, uiKind: require('vscode').env.uiKind, results };
      fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
      fs.writeFileSync(resultsFile, JSON.stringify(summary, null, 2));
      console.log(`integration: ${passed} passed, ${failed} failed${pending ? `, ${pending} skipped` : ''}`);
      if (failures > 0 || passed === 0) reject(new Error(failures > 0 ? `${failures} tests failed.` : 'no test passed'));
      else resolve();
    };
    try {
      runner = mocha.run(finish);
    } catch (e) {
      results.push({ title: 'load test files', state: 'failed', error: String(e && e.stack || e) });
      finish(1);
      return;
    }
    runner.on('pass', (t) => results.push({ title: t.fullTitle(), state: 'passed', ms: t.duration }));
    runner.on('fail', (t, err) => results.push({ title: t.fullTitle(), state: 'failed', error: String(err && (err.stack || err.message) || err) }));
    runner.on('pending', (t) => results.push({ title: t.fullTitle(), state: 'pending' }));
  });
};
