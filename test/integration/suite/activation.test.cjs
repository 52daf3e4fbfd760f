'use strict';
const assert = require('assert');
const vscode = require('vscode');
const { EXTENSION_ID, VIEW_TYPE, getApi } = require('./helpers.cjs');

describe('activation', () => {
  it('the extension is installed and activates', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is loaded from extensionDevelopmentPath`);
    const api = await getApi();
    assert.strictEqual(ext.isActive, true);
    assert.ok(api, 'activate() returns the test API');
    assert.strictEqual(typeof api.waitForRendered, 'function', 'api.waitForRendered');
    assert.strictEqual(typeof api.lastReport, 'function', 'api.lastReport');
    console.log(`    VS Code ${vscode.version}, uiKind ${vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop'}, remote ${vscode.env.remoteName || 'none'}`);
  });

  it('contributes the custom editor and the ONNX commands', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID).packageJSON;
    const editors = pkg.contributes.customEditors || [];
    const editor = editors.find((e) => e.viewType === VIEW_TYPE);
    assert.ok(editor, `customEditors has ${VIEW_TYPE}`);
    assert.ok(editor.selector.some((s) => s.filenamePattern === '*.onnx'), 'for *.onnx');
    assert.strictEqual(editor.priority, 'default');
    const titles = Object.fromEntries((pkg.contributes.commands || []).map((c) => [c.command, `${c.category}: ${c.title}`]));
    assert.strictEqual(titles['onnxqs.openModel'], 'ONNX: Open in Model Viewer');
    assert.strictEqual(titles['onnxqs.inspectModel'], 'ONNX: Show Model Summary');
    assert.strictEqual(titles['onnxqs.quantizeModel'], 'ONNX: Quantize Model…');
    const explorer = (pkg.contributes.menus['explorer/context'] || []).map((m) => m.command);
    assert.ok(explorer.includes('onnxqs.quantizeModel'), 'Quantize Model is in the explorer context menu of .onnx files');
  });

  it('registers its commands', async () => {
    await getApi();
    const all = new Set(await vscode.commands.getCommands(true));
    for (const c of ['onnxqs.openModel', 'onnxqs.inspectModel', 'onnxqs.quantizeModel']) assert.ok(all.has(c), `command ${c} is registered`);
  });
});
