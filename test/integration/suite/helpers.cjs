// Shared helpers for the integration suites (run in the extension host).
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const vscode = require('vscode');

const EXTENSION_ID = 'onnx-quantization-studio.onnx-quantization-studio';
const VIEW_TYPE = 'onnxqs.modelEditor';
const MANIFEST = '.onnxqs-test.json';

/** The workspace folder test/integration/runTest.mjs made, and its manifest of model files. */
function workspace() {
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  if (!folder) throw new Error('no workspace folder is open (runTest.mjs opens one)');
  const file = path.join(folder.uri.fsPath, MANIFEST);
  const manifest = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { sample: 'mnist-8.onnx', models: [], garbage: 'garbage.onnx' };
  return { folder, manifest, uri: (rel) => vscode.Uri.joinPath(folder.uri, ...rel.split('/')) };
}

let api;
/** Activates the extension once and returns what activate() returned. */
async function getApi() {
  if (api) return api;
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
  api = await ext.activate();
  return api;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn() until it returns a truthy value; throws `what` after timeoutMs. */
async function waitFor(fn, what, timeoutMs = 20000, stepMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** The active tab once it is our custom editor on `uri`. */
function waitForCustomTab(uri, timeoutMs = 20000) {
  return waitFor(() => {
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    return tab && tab.input instanceof vscode.TabInputCustom && tab.input.uri.toString() === uri.toString() ? tab : undefined;
  }, `the custom editor tab for ${uri.toString()}`, timeoutMs);
}

async function closeAllEditors() {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** Rejects after ms with a message naming `what` (so a hang fails as a clear test error). */
function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
  ]);
}

const repoRoot = path.resolve(__dirname, '..', '..', '..');

/**
 * The core's own statistics of the `largest` biggest weights of a model, with `bins` histogram bins: the
 * CLI (`onnxq inspect --json --stats`), run as a separate Node process, so the check does not go through
 * the job process or the webview it checks.
 */
function coreStats(file, largest, bins) {
  const cli = path.join(repoRoot, 'dist', 'cli.js');
  const out = execFileSync(process.execPath, [cli, 'inspect', file, '--json', '--stats', '--largest', String(largest), '--bins', String(bins)], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    maxBuffer: 256 * 1024 * 1024,
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

/** The first node of a graph that has attributes (and is drawn: not a Constant shown as a weight), or -1. */
function nodeWithAttributes(graph) {
  return graph.nodes.findIndex((n) => n.attributes.length > 0 && !(n.op === 'Constant' && n.outputs.every((v) => v < 0 || graph.values[v].weight !== undefined)));
}

module.exports = { EXTENSION_ID, VIEW_TYPE, workspace, getApi, sleep, waitFor, waitForCustomTab, closeAllEditors, withTimeout, coreStats, nodeWithAttributes };
