// `onnxq quantize` as a user runs it: the report (text and --json), exit codes, clear refusals of what is
// not available yet, and no output file unless the whole job succeeded.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { floatTensor, makeModel, modelFromProto, node, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { writeModel } from '../../src/onnx/write';
import { gemmMlpModel } from '../../bench/quantize-models';
import { repoRoot, sampleModel } from './helpers/models';

const CLI = path.join(repoRoot, 'src', 'cli.ts');
const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', cwd: repoRoot });
/** The async form, for tests that may run beside each other. */
function cliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: repoRoot });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

let tmp = '';
let mlp = '';
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-qcli-'));
  mlp = path.join(tmp, 'mlp.onnx');
  writeModel(modelFromProto(gemmMlpModel(1)), mlp);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const leftovers = () => fs.readdirSync(tmp).filter((f) => f.startsWith('.'));

/** A minimal .npz (stored zip of .npy float32 members), as np.savez writes them, for sample folders. */
function npz(arrays: Record<string, { dims: number[]; values: Float32Array }>): Buffer {
  const entries: { name: Buffer; data: Buffer; offset: number }[] = [];
  const parts: Buffer[] = [];
  let offset = 0;
  const crc32 = (b: Buffer) => { let c = ~0; for (const x of b) { c ^= x; for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1)); } return ~c >>> 0; };
  for (const [key, { dims, values }] of Object.entries(arrays)) {
    let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims.join(', ')}${dims.length === 1 ? ',' : ''}), }`;
    header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
    const npy = Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0]), Buffer.from(Uint16Array.of(header.length).buffer), Buffer.from(header, 'latin1'), Buffer.from(values.buffer)]);
    const name = Buffer.from(`${key}.npy`);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt32LE(crc32(npy), 14);
    local.writeUInt32LE(npy.length, 18); local.writeUInt32LE(npy.length, 22); local.writeUInt16LE(name.length, 26);
    entries.push({ name, data: npy, offset });
    parts.push(local, name, npy);
    offset += 30 + name.length + npy.length;
  }
  const cdStart = offset;
  for (const e of entries) {
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0); cd.writeUInt16LE(20, 4); cd.writeUInt16LE(20, 6); cd.writeUInt32LE(crc32(e.data), 16);
    cd.writeUInt32LE(e.data.length, 20); cd.writeUInt32LE(e.data.length, 24); cd.writeUInt16LE(e.name.length, 28); cd.writeUInt32LE(e.offset, 42);
    parts.push(cd, e.name);
    offset += 46 + e.name.length;
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(offset - cdStart, 12); end.writeUInt32LE(cdStart, 16);
  parts.push(end);
  return Buffer.concat(parts);
}

describe('onnxq quantize', () => {
  it('quantizes and prints a summary; --json gives the report', async () => {
    const out = path.join(tmp, 'mlp.int8.onnx');
    const text = await cliAsync(['quantize', mlp, '-o', out]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /quantized: 3 nodes/);
    assert.match(text.stdout, /dynamic int8 symmetric per-tensor weights, uint8 activations \(QOperator\)/);
    assert.match(text.stdout, /SQNR median [\d.]+ dB/);
    const res = await cliAsync(['quantize', mlp, '-o', out, '--json', '--per-channel', '--exclude', 'fc3']);
    assert.equal(res.status, 0, res.stderr);
    const r = JSON.parse(res.stdout);
    for (const key of ['sizeBefore', 'sizeAfter', 'quantized', 'skipped', 'seconds', 'weights']) assert.ok(key in r, key);
    assert.equal(r.sizeBefore, fs.statSync(mlp).size);
    assert.equal(r.sizeAfter, fs.statSync(out).size);
    assert.deepEqual(r.quantized, ['fc1', 'fc2']);
    assert.deepEqual(r.skipped, [{ name: 'fc3', opType: 'Gemm', graph: 'main', reason: 'excluded by --exclude "fc3"' }]);
    for (const w of r.weights) { assert.equal(typeof w.name, 'string'); assert.equal(typeof w.sqnr, 'number'); }
    for (const phase of ['load', 'quantize', 'write', 'check', 'total']) assert.equal(typeof r.seconds[phase], 'number', phase);
    assert.equal(r.perChannel, true);
    assert.deepEqual(leftovers(), [], 'no temporary files left behind');
  });

  it('weight-only int4 with a block size and an accuracy level', async () => {
    const out = path.join(tmp, 'mlp.int4.onnx');
    const res = await cliAsync(['quantize', mlp, '-o', out, '--mode', 'weight-only', '--weight-type', 'uint4', '--block-size', '16', '--accuracy-level', '0', '--json']);
    assert.equal(res.status, 0, res.stderr);
    const r = JSON.parse(res.stdout);
    assert.deepEqual([r.mode, r.weightType, r.blockSize, r.accuracyLevel, r.symmetricWeights], ['weight-only', 'uint4', 16, 0, false]);
    assert.deepEqual(r.emitted, { MatMulNBits: 3, Add: 2 });
  });

  // Exit 2: a usage mistake, found in the options before the model is read (a bad value, options that
  // exclude each other); exit 1: the options are fine but this model or its data cannot be done so.
  const refusals: [string, string[], RegExp, 1 | 2][] = [
    ['static mode without calibration samples', ['--mode', 'static'], /static quantization needs calibration samples: give --calib-data DIR/, 2],
    ['calibration data that does not fit the model', ['--mode', 'static', '--calib-data', path.join(__dirname, 'fixtures', 'npy')], /input "x" has shape \[batch, 64\] in the model, but the sample's is|is float in the model|a single \.npy file/, 1],
    ['a calibration folder that does not exist', ['--mode', 'static', '--calib-data', '/nonexistent/calib'], /calibration data: \/nonexistent\/calib: no such file or folder/, 1],
    ['SmoothQuant without static', ['--smooth-quant', '0.6'], /SmoothQuant applies to static quantization only/, 2],
    ['an accuracy target without static', ['--accuracy-target', '0.99'], /accuracy target applies to static quantization only/, 2],
    ['a float-node limit without a target', ['--mode', 'static', '--calib-random', '2', '--max-float-nodes', '2'], /give --accuracy-target too/, 2],
    ['QDQ format', ['--format', 'qdq'], /QOperator form only/, 2],
    ['weight-only QDQ', ['--mode', 'weight-only', '--format', 'qdq'], /QDQ format is not available yet/, 1],
    ['int4 in dynamic mode', ['--weight-type', 'int4'], /int4 weights exist only in weight-only mode/, 2],
    ['a block size that is not a power of two', ['--mode', 'weight-only', '--block-size', '48'], /power of two from 16 to 256/, 2],
    ['int8 activations in dynamic mode', ['--activation-type', 'int8'], /produces uint8/, 2],
    ['an op type the mode cannot quantize', ['--op-types', 'MatMul,Softmax'], /op type "Softmax" cannot be quantized in dynamic mode; supported: MatMul, Gemm, Conv, LSTM, GRU, RNN/, 2],
    ['a mode that does not exist', ['--mode', 'turbo'], /mode must be one of dynamic, static, weight-only; got "turbo" \(see onnxq quantize --help\)/, 2],
    ['a node name that matches no node', ['--exclude', 'nosuch'], /^onnxq: --exclude "nosuch" matches no node of the model; the nodes it can quantize are "[^"]+", "[^"]+", "[^"]+" \(globs/, 1],
  ];
  for (const [name, args, message, code] of refusals) {
    it(`refuses ${name} with exit code ${code} and writes nothing`, async () => {
      const out = path.join(tmp, `refused-${name.replace(/\W+/g, '-')}.onnx`);
      const res = await cliAsync(['quantize', mlp, '-o', out, ...args]);
      assert.equal(res.status, code, res.stderr);
      assert.match(res.stderr, message);
      assert.equal(res.stderr.trim().split('\n').length, 1, `one line: ${res.stderr}`);
      assert.doesNotMatch(res.stderr, /at .*\.ts:\d+/, 'a message, not a stack trace');
      assert.equal(fs.existsSync(out), false);
    });
  }

  it('refuses to overwrite the input, and errors on a file that is not a model', () => {
    const before = fs.readFileSync(mlp);
    const same = cli(['quantize', mlp, '-o', mlp]);
    assert.equal(same.status, 1);
    assert.match(same.stderr, /the output path is the input model/);
    assert.ok(fs.readFileSync(mlp).equals(before));
    const bad = path.join(tmp, 'bad.onnx');
    fs.writeFileSync(bad, 'not a model at all');
    const res = cli(['quantize', bad, '-o', path.join(tmp, 'bad.q.onnx')]);
    assert.equal(res.status, 1);
    assert.match(res.stderr, /bad\.onnx: /);
    assert.equal(fs.existsSync(path.join(tmp, 'bad.q.onnx')), false);
  });

  it('usage mistakes exit with code 2 and one line that says where the help is', () => {
    for (const args of [['quantize', mlp], ['quantize', '-o', 'x.onnx'], ['quantize', mlp, '-o', 'x.onnx', '--no-such-flag'], ['quantize', mlp, '-o', 'x.onnx', '--block-size', 'big']]) {
      const res = cli(args);
      assert.equal(res.status, 2, args.join(' '));
      assert.match(res.stderr, /^onnxq: .* \(see onnxq quantize --help\)\n$/, `${args.join(' ')}: ${res.stderr}`);
    }
    const unknown = cli(['quantise', mlp]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /^onnxq: unknown command "quantise"; the commands are inspect, quantize, compare, bench, providers \(see onnxq --help\)\n$/);
  });

  it('--help gives the commands, each command\'s --help its own options, --version the version', () => {
    const help = cli(['--help']);
    assert.equal(help.status, 0);
    for (const c of ['inspect MODEL', 'quantize IN -o OUT', 'compare A B', 'bench MODEL...', 'providers']) assert.ok(help.stdout.includes(`  ${c}`), c);
    const q = cli(['quantize', '--help']);
    assert.equal(q.status, 0);
    assert.match(q.stdout, /^Usage: onnxq quantize IN -o OUT \[--mode dynamic\|static\|weight-only\]/);
    assert.match(q.stdout, /--calib-data DIR/);
    assert.match(q.stdout, /4 nothing to quantize/);
    assert.match(cli(['inspect', '--help']).stdout, /^Usage: onnxq inspect MODEL/);
    assert.match(cli(['providers', '--help']).stdout, /^Usage: onnxq providers/);
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const v = cli(['--version']);
    assert.equal(v.status, 0);
    assert.equal(v.stdout, `onnxq ${pkg.version}\n`);
    const inspect = cli(['inspect', sampleModel, '--json']);
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.equal(JSON.parse(inspect.stdout).irVersion, 3);
  });

  it('a model onnxruntime cannot load even in float is reported as such before any work, and no output appears', async () => {
    const src = path.join(tmp, 'unloadable.onnx'), out = path.join(tmp, 'unloadable.q.onnx');
    const g = gemmMlpModel(1);
    // An op no onnxruntime registers, after the MatMuls: the source itself cannot load.
    const last = g.graph!.output![0].name!;
    g.graph!.node!.push(node('NoSuchOpAnywhere', [last], ['z'], {}, 'alien'));
    g.graph!.output = [valueInfo('z', DataType.FLOAT, null)];
    writeModel(modelFromProto(g), src);
    const res = await cliAsync(['quantize', src, '-o', out]);
    assert.equal(res.status, 1, res.stderr);
    assert.match(res.stderr, /^onnxq: onnxruntime cannot load the model itself, before any quantization: .*NoSuchOpAnywhere.*; nothing was written\n$/s);
    assert.doesNotMatch(res.stderr, /quantized model/);
    assert.equal(fs.existsSync(out), false);
    assert.deepEqual(leftovers(), []);
  });

  it('nothing to quantize: exit 4 before any work, naming the mode that would, and no file', async () => {
    // Already quantized: our own dynamic output, quantized again.
    const once = path.join(tmp, 'mlp.once.onnx'), twice = path.join(tmp, 'mlp.twice.onnx');
    assert.equal((await cliAsync(['quantize', mlp, '-o', once])).status, 0);
    const again = await cliAsync(['quantize', once, '-o', twice, '--json']);
    assert.equal(again.status, 4, again.stderr);
    assert.match(again.stderr, /^onnxq: nothing to quantize in dynamic mode: it is already quantized \(3 MatMulInteger\); quantize its float source instead\. Nothing was written\n$/);
    assert.equal(again.stdout, '');
    assert.equal(fs.existsSync(twice), false);
    // Conv only: dynamic (MatMul/Gemm by default) finds nothing; static and dynamic with Conv would.
    const conv = path.join(tmp, 'conv.onnx'), convOut = path.join(tmp, 'conv.q.onnx');
    writeModel(modelFromProto(makeModel({ graph: {
      name: 'conv', node: [node('Conv', ['x', 'W'], ['y'], { pads: [1, 1, 1, 1] }, 'conv')],
      initializer: [floatTensor('W', [4, 3, 3, 3], Array.from({ length: 108 }, (_, i) => Math.sin(i)))],
      input: [valueInfo('x', DataType.FLOAT, [1, 3, 8, 8])], output: [valueInfo('y', DataType.FLOAT, [1, 4, 8, 8])],
    } })), conv);
    for (const mode of ['dynamic', 'weight-only']) {
      const res = await cliAsync(['quantize', conv, '-o', convOut, '--mode', mode]);
      assert.equal(res.status, 4, res.stderr);
      const handled = mode === 'dynamic' ? 'MatMul, Gemm or LSTM' : 'MatMul or Gemm';
      assert.match(res.stderr, new RegExp(`nothing to quantize in ${mode} mode: the model has no ${handled} node with a constant weight; --mode static would quantize 1 node \\(1 Conv\\)`));
      assert.equal(fs.existsSync(convOut), false);
    }
    // Everything excluded: no other mode would help; the message says what to change.
    const excluded = await cliAsync(['quantize', mlp, '-o', convOut, '--exclude', '*']);
    assert.equal(excluded.status, 4);
    assert.match(excluded.stderr, /every candidate was left in float: 3 excluded by --exclude "\*"; no other mode would quantize them either: change what left them in float/);
    assert.deepEqual(leftovers(), []);
  });

  it('static QDQ from the command line: random calibration flagged, npz data folders, --json report', async () => {
    const out = path.join(tmp, 'mlp.static.onnx');
    const text = await cliAsync(['quantize', mlp, '-o', out, '--mode', 'static', '--calib-random', '4', '--calib-dims', 'batch=2']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /static int8 symmetric per-channel weights, uint8 activations \(QDQ\)/);
    assert.match(text.stdout, /calibrate: minmax, 4 samples from random .*RANDOM: not representative/);
    assert.doesNotMatch(text.stdout, /dims left at 1/);
    // Without --dims the symbolic batch is 1: said in the report, with what to set.
    const one = await cliAsync(['quantize', mlp, '-o', path.join(tmp, 'mlp.static1.onnx'), '--mode', 'static', '--calib-random', '2', '--json']);
    assert.equal(one.status, 0, one.stderr);
    assert.ok((JSON.parse(one.stdout) as { notes: string[] }).notes.some((n) => /^calibrated with input dims left at 1: batch=1 \(x:0\); .* set the sizes with --dims/.test(n)), one.stdout);
    // A data folder of .npz samples (arrays named after the input).
    const data = path.join(tmp, 'calib');
    fs.mkdirSync(data, { recursive: true });
    for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(data, `s${i}.npz`), npz({ x: { dims: [2, 64], values: Float32Array.from({ length: 128 }, (_, k) => Math.sin(k + i)) } }));
    const res = await cliAsync(['quantize', mlp, '-o', out, '--mode', 'static', '--calib-data', data, '--calibration', 'percentile', '--percentile', '99.9', '--calib-samples', '2', '--activation-type', 'int8', '--json']);
    assert.equal(res.status, 0, res.stderr);
    const r = JSON.parse(res.stdout);
    assert.deepEqual([r.mode, r.format, r.activationType, r.quantized], ['static', 'qdq', 'int8', ['fc1', 'fc2', 'fc3']]);
    assert.deepEqual([r.calibration.method, r.calibration.percentile, r.calibration.samples, r.calibration.random, r.calibration.source], ['percentile', 99.9, 2, false, data]);
    for (const phase of ['load', 'prepare', 'calibrate', 'quantize', 'write', 'check', 'total']) assert.equal(typeof r.seconds[phase], 'number', phase);
    assert.deepEqual(leftovers(), []);
  });

  it('static QDQ with --smooth-quant [ALPHA]: the alpha, what was smoothed and the gain in the report', async () => {
    const out = path.join(tmp, 'mlp.smooth.onnx');
    const res = await cliAsync(['quantize', mlp, '-o', out, '--mode', 'static', '--calib-random', '4', '--calib-dims', 'batch=2', '--smooth-quant', '0.6', '--json']);
    assert.equal(res.status, 0, res.stderr);
    const r = JSON.parse(res.stdout);
    assert.equal(r.smoothQuant.alpha, 0.6);
    // fc1 reads the graph input and fc2/fc3 read Relu outputs: a Mul by 1/s in front of each.
    assert.deepEqual(r.smoothQuant.smoothed.map((x: { consumers: string[]; foldedInto: string }) => `${x.consumers}:${x.foldedInto}`), ['fc1:Mul', 'fc2:Mul', 'fc3:Mul']);
    assert.equal(r.smoothQuant.comparison.samples, 4);
    assert.deepEqual(r.quantized, ['fc1', 'fc2', 'fc3']);
    const text = await cliAsync(['quantize', mlp, '-o', out, '--mode', 'static', '--calib-random', '4', '--calib-dims', 'batch=2', '--smooth-quant']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /SmoothQuant \(alpha 0\.5\) smoothed 3 activations .*: cosine vs float [0-9.]+ with it, [0-9.]+ without, on 4 calibration samples, every node in int8/);
    assert.deepEqual(leftovers(), []);
  });

  it('static QDQ with --accuracy-target and --max-float-nodes: the comparison and the nodes kept in float in the report', async () => {
    const out = path.join(tmp, 'mlp.target.onnx');
    // A target above what int8 gives this model: the nodes that help most go to float, within the limit.
    const res = await cliAsync(['quantize', mlp, '-o', out, '--mode', 'static', '--calib-random', '6', '--calib-dims', 'batch=2', '--accuracy-target', '0.9999999', '--max-float-nodes', '1', '--json']);
    assert.equal(res.status, 0, res.stderr);
    const r = JSON.parse(res.stdout);
    assert.deepEqual([r.accuracy.target, r.accuracy.samples, r.accuracy.maxNodes], [0.9999999, 6, 1]);
    // 8-bit activations cannot reach 1 - 1e-7: the target is not met, so the loop uses the one node the
    // cap allows, and keeping the worst layer in float does not make the output worse.
    assert.equal(r.accuracy.met, false, JSON.stringify(r.accuracy));
    assert.equal(r.accuracy.inFloat.length, 1, JSON.stringify(r.accuracy));
    const worst = r.accuracy.outputs[0];
    assert.ok(worst.cosineAfter >= worst.cosineBefore, JSON.stringify(worst));
    assert.equal(r.quantized.length + r.accuracy.inFloat.length, 3);
    // A target every int8 model meets: the path where nothing goes to float and one model is compared.
    const text = await cliAsync(['quantize', mlp, '-o', out, '--mode', 'static', '--calib-random', '6', '--calib-dims', 'batch=2', '--accuracy-target', '0.5']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /accuracy: {2}target 0\.5 met on 6 calibration samples, 0 nodes kept in float; 1 model compared\n {13}"y": cosine [0-9.]+ -> [0-9.]+ \(target 0\.5\)\n/);
    // The written model against the source on samples calibration did not see (seeds 7 on), per output.
    assert.match(text.stdout, /outputs: {3}against the source model on 4 random samples \(seeds 7\.\.10\) \(RANDOM: not representative\)\n {13}"y": cosine 0\.9\d+ /);
    const perOutput = await cliAsync(['quantize', mlp, '-o', out, '--mode', 'static', '--calib-random', '2', '--calib-dims', 'batch=2', '--accuracy-target', 'y=0.5', '--json']);
    assert.equal(perOutput.status, 0, perOutput.stderr);
    assert.deepEqual(JSON.parse(perOutput.stdout).accuracyTarget, { target: { y: 0.5 }, met: true, worstOutput: 'y' });
    const bad = cli(['quantize', mlp, '-o', out, '--mode', 'static', '--calib-random', '2', '--accuracy-target', 'high']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--accuracy-target needs a number, got "high"/);
    assert.deepEqual(leftovers(), []);
  });

  it('writes external data on request, next to the output', async () => {
    const out = path.join(tmp, 'mlp.ext.onnx');
    const res = await cliAsync(['quantize', mlp, '-o', out, '--external-data', '--json']);
    assert.equal(res.status, 0, res.stderr);
    assert.ok(fs.existsSync(`${out}.data`));
    assert.equal(JSON.parse(res.stdout).sizeAfter, fs.statSync(out).size + fs.statSync(`${out}.data`).size);
  });
});
