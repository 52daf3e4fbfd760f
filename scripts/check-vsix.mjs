// Checks a platform .vsix (scripts/package.mjs) as a user would get it:
//   node scripts/check-vsix.mjs vsix/onnx-quantization-studio-linux-x64-0.1.0.vsix [--run]
// - at most MAX_MIB compressed;
// - what runs is there (extension, job process, benchmark worker, CLI, webview bundles, onnxruntime-node and
//   its binding for the package's own platform, the walkthrough's sample);
// - nothing of the development: no sources (.ts), maps, type declarations, tests, benchmarks, scripts,
//   and no other platform's onnxruntime binaries;
// - with --run (a package for this machine): unpacked into a temporary folder, its own CLI inspects,
//   quantizes, compares and benchmarks the sample with the onnxruntime it carries.
// Prints one line per check and `package: N passed, N failed`; exit code 1 when any failed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import yauzl from 'yauzl';

/** The issue's bound: a package per platform that downloads in reasonable time. */
const MAX_MIB = 30;
const PLATFORM_DIRS = ['linux/x64', 'linux/arm64', 'win32/x64', 'win32/arm64', 'darwin/arm64', 'darwin/x64'];

const { values, positionals } = parseArgs({ allowPositionals: true, options: { run: { type: 'boolean' } } });
if (positionals.length !== 1) { console.error('usage: node scripts/check-vsix.mjs FILE.vsix [--run]'); process.exit(2); }
const file = positionals[0];
const target = /-(linux-x64|linux-arm64|win32-x64|win32-arm64|darwin-arm64|darwin-x64)-[^-]+\.vsix$/.exec(file)?.[1];

/** Every entry of a zip file, with its data read on demand. */
function readZip(zipFile) {
  return new Promise((resolve, reject) => {
    yauzl.open(zipFile, { lazyEntries: true, autoClose: false }, (err, zip) => {
      if (err) return reject(err);
      const entries = [];
      zip.on('entry', (e) => { entries.push(e); zip.readEntry(); });
      zip.on('end', () => resolve({ zip, entries }));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

function extract(zip, entries, dir) {
  return Promise.all(entries.filter((e) => !e.fileName.endsWith('/')).map((e) => new Promise((resolve, reject) => {
    const out = path.join(dir, e.fileName);
    if (!out.startsWith(dir + path.sep)) return reject(new Error(`${e.fileName} leaves the folder`));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    zip.openReadStream(e, (err, stream) => {
      if (err) return reject(err);
      stream.pipe(fs.createWriteStream(out, { mode: 0o755 })).on('finish', resolve).on('error', reject);
    });
  })));
}

const results = [];
const check = (ok, what) => { results.push(ok); console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); };

const mib = fs.statSync(file).size / 2 ** 20;
check(target !== undefined, `${path.basename(file)} names its platform (${target ?? 'none'})`);
check(mib <= MAX_MIB, `${mib.toFixed(1)} MiB compressed (at most ${MAX_MIB})`);
const { zip, entries } = await readZip(file);
const names = entries.map((e) => e.fileName);
const own = target ? target.replace('-', '/') : '';
const required = [
  'extension/package.json', 'extension/readme.md', 'extension/LICENSE.txt', 'extension/changelog.md',
  'extension/dist/extension.js', 'extension/dist/jobChild.js', 'extension/dist/benchWorker.js', 'extension/dist/cli.js',
  'extension/media/dist/webview.js', 'extension/media/dist/results.js', 'extension/media/dist/webview.css', 'extension/media/icon.png',
  'extension/samples/mnist-8.onnx', 'extension/samples/README.md',
  'extension/node_modules/onnxruntime-node/dist/index.js', 'extension/node_modules/onnxruntime-common/dist/cjs/index.js',
  `extension/node_modules/onnxruntime-node/bin/napi-v6/${own}/onnxruntime_binding.node`,
];
for (const r of required) check(names.includes(r), `has ${r}`);
const dev = names.filter((n) => /\.(ts|map)$/.test(n) || /^extension\/(src|test|bench|scripts|webview|\.package|vsix)\//.test(n) || /\/\.(ci|github|vscode)\//.test(n));
check(dev.length === 0, `no development files${dev.length ? `: ${dev.slice(0, 5).join(', ')}` : ''}`);
const others = names.filter((n) => PLATFORM_DIRS.some((d) => d !== own && n.includes(`/bin/napi-v6/${d}/`)));
check(others.length === 0, `no other platform's binaries${others.length ? `: ${others.slice(0, 3).join(', ')}` : ''}`);
const manifest = entries.find((e) => e.fileName === 'extension.vsixmanifest');
check(manifest !== undefined, 'has extension.vsixmanifest');

if (values.run) {
  // The package's own CLI and onnxruntime, unpacked where nothing of the repository can be found.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-vsix-'));
  try {
    await extract(zip, entries, dir);
    const ext = path.join(dir, 'extension');
    const cli = (args) => execFileSync(process.execPath, [path.join(ext, 'dist', 'cli.js'), ...args], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const sample = path.join(ext, 'samples', 'mnist-8.onnx'), int8 = path.join(dir, 'mnist-8.int8.onnx');
    const inspect = JSON.parse(cli(['inspect', sample, '--json']));
    check(inspect.nodeCount === 12, `its CLI inspects the sample (${inspect.nodeCount} nodes)`);
    const q = JSON.parse(cli(['quantize', sample, '-o', int8, '--mode', 'static', '--calib-random', '8', '--json']));
    check(q.quantized.length > 0 && fs.existsSync(int8), `its CLI quantizes it (${q.quantized.length} nodes) with the onnxruntime it carries`);
    const c = JSON.parse(cli(['compare', sample, int8, '--json']));
    check(c.outputs[0].worst.cosine > 0.9, `its CLI compares the two (cosine ${c.outputs[0].worst.cosine.toFixed(4)})`);
    const b = JSON.parse(cli(['bench', sample, int8, '--iterations', '10', '--json']));
    check(b.runs.length === 2 && b.runs.every((r) => r.latencyMs.p50 > 0) && b.runs[1].graph !== null, `its CLI benchmarks them (p50 ${b.runs.map((r) => r.latencyMs.p50.toFixed(3)).join(' / ')} ms) with its own worker`);
    // Where the package's code finds onnxruntime-node: its own copy, not one of the machine's.
    const resolved = execFileSync(process.execPath, ['-p', `require.resolve('onnxruntime-node', { paths: [${JSON.stringify(path.join(ext, 'dist'))}] })`], { cwd: dir, encoding: 'utf8' }).trim();
    check(fs.realpathSync(resolved).startsWith(fs.realpathSync(ext) + path.sep), `its code loads onnxruntime-node from the package (${path.relative(dir, resolved)})`);
  } catch (e) {
    check(false, `the unpacked package runs: ${(e.stderr || e.message || String(e)).toString().split('\n')[0]}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
zip.close();
const failed = results.filter((ok) => !ok).length;
console.log(`package: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
