// The settings package.json declares, against how src/vscode/settings.ts reads them: a setting read for a
// resource (the model's folder) must be declared resource-scoped, or VS Code logs a warning at each read.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './helpers/models';

const properties = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).contributes.configuration.properties as Record<string, { scope?: string }>;
const source = fs.readFileSync(path.join(repoRoot, 'src', 'vscode', 'settings.ts'), 'utf8');

describe('settings scopes', () => {
  it('every setting read with a resource is declared resource-scoped; the others are not', () => {
    // inspectSettings(scope) reads these two keys through getConfiguration(SECTION, scope).
    const perResource = /export function inspectSettings\(scope\?: vscode\.Uri\)[^]*?\n}/.exec(source)![0];
    const keys = [...source.matchAll(/export const (\w+) = '(\w+\.[\w.]+)';/g)].filter(([, constant]) => perResource.includes(constant)).map(([, , key]) => `onnxqs.${key}`);
    assert.deepEqual(keys.sort(), ['onnxqs.inspect.largestTensors', 'onnxqs.statistics.histogramBins']);
    for (const k of keys) assert.equal(properties[k]?.scope, 'resource', k);
    for (const [k, p] of Object.entries(properties)) if (!keys.includes(k)) assert.notEqual(p.scope, 'resource', `${k} is read without a resource`);
  });
});
