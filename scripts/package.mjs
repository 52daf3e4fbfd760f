// `npm run package`: one .vsix per platform, each with only that platform's onnxruntime-node binaries and
// nothing of the development (sources, tests, maps, type declarations, other platforms).
//   node scripts/package.mjs                     every platform onnxruntime-node ships binaries for
//   node scripts/package.mjs --target linux-x64  one (repeatable)
// Each target is staged in .package/<target>/ (the production build, the sample, and a node_modules with
// onnxruntime-node and onnxruntime-common trimmed to what runs), then packed by vsce into
// vsix/<name>-<target>-<version>.vsix. Prints each package's size; scripts/check-vsix.mjs checks them.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
/** vsce's target name -> onnxruntime-node's bin/napi-v6 folder. onnxruntime-node (1.30, 1.31) has no darwin-x64 build. */
export const TARGETS = {
  'linux-x64': 'linux/x64', 'linux-arm64': 'linux/arm64', 'win32-x64': 'win32/x64', 'win32-arm64': 'win32/arm64', 'darwin-arm64': 'darwin/arm64',
};

const { values } = parseArgs({ options: { target: { type: 'string', multiple: true }, 'no-build': { type: 'boolean' } } });
const targets = values.target ?? Object.keys(TARGETS);
for (const t of targets) {
  if (!TARGETS[t]) { console.error(`package: unknown target ${t}; onnxruntime-node has binaries for ${Object.keys(TARGETS).join(', ')}`); process.exit(2); }
}

const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const ortVersion = manifest.dependencies['onnxruntime-node'];
const skip = (p) => p.endsWith('.map') || p.endsWith('.d.ts') || p.endsWith('.ts');
const copy = (from, to, filter = () => true) => fs.cpSync(path.join(root, from), to, { recursive: true, filter: (src) => fs.statSync(src).isDirectory() || (!skip(src) && filter(src)) });

if (!values['no-build']) execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--production'], { stdio: 'inherit' });
fs.mkdirSync(path.join(root, 'vsix'), { recursive: true });

for (const target of targets) {
  const stage = path.join(root, '.package', target);
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  // The manifest as installed: no development scripts or tools; the one dependency that is not bundled.
  const { devDependencies: _d, scripts: _s, allowScripts: _a, ...rest } = manifest;
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify({ ...rest, dependencies: { 'onnxruntime-node': ortVersion } }, null, 2)}\n`);
  for (const f of ['README.md', 'LICENSE', 'CHANGELOG.md']) fs.copyFileSync(path.join(root, f), path.join(stage, f));
  copy('dist', path.join(stage, 'dist'));
  copy('media', path.join(stage, 'media'));
  // The sample the walkthrough opens (MIT, its source and checksum in samples/README.md).
  fs.mkdirSync(path.join(stage, 'samples'));
  for (const f of ['mnist-8.onnx', 'README.md']) fs.copyFileSync(path.join(root, 'samples', f), path.join(stage, 'samples', f));
  // onnxruntime-node: its JavaScript and this platform's binaries; its install script's dependencies dropped.
  const ort = path.join(stage, 'node_modules', 'onnxruntime-node');
  const ortManifest = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8'));
  fs.mkdirSync(ort, { recursive: true });
  const { scripts: _os, devDependencies: _od, ...ortRest } = ortManifest;
  fs.writeFileSync(path.join(ort, 'package.json'), `${JSON.stringify({ ...ortRest, dependencies: { 'onnxruntime-common': ortManifest.dependencies['onnxruntime-common'] } }, null, 2)}\n`);
  copy('node_modules/onnxruntime-node/dist', path.join(ort, 'dist'));
  copy(`node_modules/onnxruntime-node/bin/napi-v6/${TARGETS[target]}`, path.join(ort, 'bin', 'napi-v6', TARGETS[target]));
  const common = path.join(stage, 'node_modules', 'onnxruntime-common');
  fs.mkdirSync(common, { recursive: true });
  fs.copyFileSync(path.join(root, 'node_modules', 'onnxruntime-common', 'package.json'), path.join(common, 'package.json'));
  copy('node_modules/onnxruntime-common/dist/cjs', path.join(common, 'dist', 'cjs'));
  // Everything staged ships (nothing to ignore but vsce's own defaults).
  fs.writeFileSync(path.join(stage, '.vscodeignore'), '.vscodeignore\n');
  const out = path.join(root, 'vsix', `${manifest.name}-${target}-${manifest.version}.vsix`);
  // No repository is declared yet (the project has no public home): vsce is told so instead of guessing links.
  execFileSync(process.execPath, [path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--target', target, '--out', out, '--allow-missing-repository', '--no-rewrite-relative-links'],
    { cwd: stage, stdio: ['ignore', 'inherit', 'inherit'] });
  console.log(`${path.relative(root, out)}: ${(fs.statSync(out).size / 2 ** 20).toFixed(1)} MiB`);
}
