// Shared helpers for the integration suites (run in the extension host).
'use strict';
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

module.exports = { EXTENSION_ID, VIEW_TYPE, workspace, getApi, sleep, waitFor, waitForCustomTab, closeAllEditors, withTimeout };
