// The benchmark: its figures against an independent computation over the run times it recorded, the
// interleaved schedule and the ratio's bootstrap interval on fake timings, the "why not faster" reading of
// onnxruntime's optimized graph (a QDQ model without Q on its MatMul outputs is left in float; our QDQ
// output is fused), the CPU probe on this machine, a provider that cannot start, outputs that are not
// finite, and `onnxq bench` as a user runs it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { ffnModel } from '../../bench/quantize-models';
import { makeModel, node, valueInfo } from '../../src/onnx/builder';
import { DataType } from '../../src/onnx/dtype';
import { loadModel } from '../../src/onnx/load';
import { ModelProtoType, type ModelProto, type NodeProto } from '../../src/onnx/proto';
import type { BenchRun, CpuInt8 } from '../../src/protocol/bench';
import { PROVIDERS } from '../../src/protocol/compare';
import { quantizeFile } from '../../src/quantize/index';
import { resolveOptions } from '../../src/quantize/options';
import { cpuInt8, bestInt8, parseCpuinfo } from '../../src/runtime/bench/cpu';
import { benchDiagnostics } from '../../src/runtime/bench/diagnostics';
import { fusionSummary } from '../../src/runtime/bench/fusion';
import { summariseProfile } from '../../src/runtime/bench/profile';
import { formatBenchCsv, formatBenchMarkdown } from '../../src/runtime/bench/report';
import { plannedIterations, roundOrder, runRounds, splitRuns } from '../../src/runtime/bench/rounds';
import { benchmark, benchRatios } from '../../src/runtime/bench/runner';
import { latencyStats, p50Ratio } from '../../src/runtime/bench/stats';
import { calibrationFor } from '../../src/runtime/calibration';
import { offeredProviders } from '../../src/runtime/providers';
import { seededRandom } from '../../src/runtime/random';
import { RuntimeError } from '../../src/runtime/session';
import { repoRoot, sampleModel } from './helpers/models';

const CLI = path.join(repoRoot, 'src', 'cli.ts');
const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', cwd: repoRoot });

let tmp = '';
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-bench-')); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The q-th percentile as numpy.percentile(xs, 100 q) computes it by default: rank (n - 1) q, linear between neighbours. */
function numpyPercentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const rank = (s.length - 1) * q;
  const below = Math.floor(rank), above = Math.ceil(rank);
  return below === above ? s[below] : s[below] * (above - rank) + s[above] * (rank - below);
}

const write = (proto: ModelProto, name: string) => {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, ModelProtoType.encode(proto as never).finish());
  return file;
};

/** A QDQ model as some tools write it: the QuantizeLinear/DequantizeLinear pairs on the outputs of MatMul/Conv/Gemm removed. */
function withoutOutputQ(proto: ModelProto): ModelProto {
  const g = proto.graph!;
  const nodes = g.node ?? [];
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const drop = new Set<NodeProto>();
  const rename = new Map<string, string>();
  for (const q of nodes) {
    if (q.op_type !== 'QuantizeLinear' || !['MatMul', 'Conv', 'Gemm'].includes(producer.get(q.input![0])?.op_type ?? '')) continue;
    drop.add(q);
    for (const dq of nodes) if (dq.op_type === 'DequantizeLinear' && dq.input![0] === q.output![0]) { drop.add(dq); rename.set(dq.output![0], q.input![0]); }
  }
  assert.ok(drop.size >= 4, 'the quantized FFN has Q/DQ on both MatMul outputs');
  g.node = nodes.filter((n) => !drop.has(n)).map((n) => ({ ...n, input: (n.input ?? []).map((i) => rename.get(i) ?? i) }));
  return proto;
}

async function optimized(file: string): Promise<ReturnType<typeof loadModel>> {
  const out = `${file}.optimized.onnx`;
  const s = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', optimizedModelFilePath: out, logSeverityLevel: 4 });
  await s.release();
  return loadModel(out);
}

describe('benchmark figures', () => {
  it('gives p50 <= p90 <= p99 and the moments equal to an independent computation over the run times it recorded', async () => {
    const r = await benchmark([sampleModel], { iterations: 40, rounds: 4, warmup: 2, profile: false });
    const run = r.runs[0];
    const times = run.roundsMs.flat();
    assert.equal(times.length, 40);
    assert.equal(run.iterations, 40);
    assert.deepEqual(run.roundsMs.map((x) => x.length), [10, 10, 10, 10]);
    const l = run.latencyMs;
    assert.ok(l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max, JSON.stringify(l));
    const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
    close(l.p50, numpyPercentile(times, 0.5));
    close(l.p90, numpyPercentile(times, 0.9));
    close(l.p99, numpyPercentile(times, 0.99));
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    close(l.mean, mean);
    close(l.stddev, Math.sqrt(times.reduce((a, t) => a + (t - mean) ** 2, 0) / (times.length - 1)));
    close(l.min, Math.min(...times));
    close(l.max, Math.max(...times));
    close(run.throughput.inferencesPerSec, 1000 / mean);
    assert.equal(run.throughput.batch, null);
    assert.ok(run.sessionMs > 0 && run.firstRunMs > 0);
    assert.ok(run.peakRssMb > run.baseRssMb && run.baseRssMb > 10, `peak ${run.peakRssMb} MB over base ${run.baseRssMb} MB`);
    assert.equal(run.sizeBytes, fs.statSync(sampleModel).size);
    assert.deepEqual(run.nonFinite, []);
    assert.equal(run.provider.used, 'cpu');
    assert.equal(r.inputs.random, true);
    assert.deepEqual(r.inputs.shapes, { Input3: [1, 1, 28, 28] });
  });

  it('computes percentiles of a known list as numpy does', () => {
    const xs = [5, 1, 4, 2, 3, 10, 7, 6, 9, 8];
    const s = latencyStats(xs);
    assert.equal(s.p50, 5.5);
    assert.ok(Math.abs(s.p90 - 9.1) < 1e-12);
    assert.ok(Math.abs(s.p99 - 9.91) < 1e-12);
    assert.equal(s.min, 1);
    assert.equal(s.max, 10);
    assert.ok(Math.abs(s.stddev - Math.sqrt(55 / 6)) < 1e-12);
  });
});

describe('interleaved rounds', () => {
  it('runs every model in each round, the order rotating, the runs split as evenly as whole runs allow', async () => {
    const calls: string[] = [];
    const fake = (name: string, ms: number) => ({ round: async (n: number) => { calls.push(`${name}${n}`); return Array(n).fill(ms); } });
    const progress: number[] = [];
    const times = await runRounds([fake('a', 1), fake('b', 2), fake('c', 3)], [7, 3, 6], 3, { settleMs: 0, onRound: (p) => progress.push(p.round) });
    assert.deepEqual(calls, ['a3', 'b1', 'c2', 'b1', 'c2', 'a2', 'c2', 'a2', 'b1']);
    assert.deepEqual(times.map((t) => t.map((r) => r.length)), [[3, 2, 2], [1, 1, 1], [2, 2, 2]]);
    assert.deepEqual(progress, [1, 2, 3]);
    assert.deepEqual(roundOrder(3, 4), [1, 2, 0]);
    assert.deepEqual(splitRuns(10, 4), [3, 3, 2, 2]);
  });

  it('stops at the next round when cancelled', async () => {
    const ac = new AbortController();
    let rounds = 0;
    const t = { round: async (n: number) => { if (++rounds === 2) ac.abort(); return Array(n).fill(1); } };
    await assert.rejects(runRounds([t, t], [10, 10], 5, { settleMs: 0, signal: ac.signal, cancelled: () => new RuntimeError('cancelled', 'stop') }), /stop/);
    assert.equal(rounds, 2);
  });

  it('plans 100 runs by default, fewer for a slow model, what --duration fills, and what --iterations asks', () => {
    assert.equal(plannedIterations(5, 10, {}), 100);
    assert.equal(plannedIterations(500, 10, {}), 40);
    assert.equal(plannedIterations(10_000, 10, {}), 10);
    assert.equal(plannedIterations(5, 10, { durationS: 2 }), 400);
    assert.equal(plannedIterations(5, 10, { iterations: 37 }), 37);
    assert.equal(plannedIterations(5, 10, { iterations: 3 }), 10, 'at least one run per round');
  });
});

describe('the speed-up and its interval', () => {
  it('takes the same rounds of both models: drift that hits both leaves a constant ratio with no width', () => {
    // Round r: the machine runs at speed 1 + r (drift); the quantized model takes half the time throughout.
    const ref = Array.from({ length: 10 }, (_, r) => Array.from({ length: 8 }, (_, i) => (10 + i * 0.1) * (1 + r)));
    const q = ref.map((round) => round.map((t) => t / 2));
    const x = p50Ratio(q, ref);
    assert.equal(x.p50, 0.5);
    assert.deepEqual(x.ci, [0.5, 0.5]);
    assert.equal(x.verdict, 'faster');
  });

  it('is the percentile bootstrap over rounds as documented (recomputed here from the same seeded draws)', () => {
    const rand = seededRandom(42);
    const ref = Array.from({ length: 6 }, () => Array.from({ length: 5 }, () => 10 + 4 * rand()));
    const q = Array.from({ length: 6 }, () => Array.from({ length: 5 }, () => 9 + 4 * rand()));
    const B = 500, seed = 7;
    const got = p50Ratio(q, ref, seed, B);
    const draw = seededRandom(seed);
    const ratios: number[] = [];
    for (let b = 0; b < B; b++) {
      const picks = Array.from({ length: 6 }, () => Math.floor(draw() * 6));
      ratios.push(numpyPercentile(picks.flatMap((i) => q[i]), 0.5) / numpyPercentile(picks.flatMap((i) => ref[i]), 0.5));
    }
    const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
    close(got.p50, numpyPercentile(q.flat(), 0.5) / numpyPercentile(ref.flat(), 0.5));
    close(got.ci[0], numpyPercentile(ratios, 0.025));
    close(got.ci[1], numpyPercentile(ratios, 0.975));
    assert.ok(got.ci[0] <= got.p50 && got.p50 <= got.ci[1]);
  });

  it('says "same" when the interval holds 1, "slower" when it lies above', () => {
    // The same times in another order of rounds: equal p50s, and rounds that disagree either way.
    const rand = seededRandom(3);
    const noisy = Array.from({ length: 10 }, () => Array.from({ length: 5 }, () => 10 + 10 * rand()));
    const same = p50Ratio([...noisy].reverse(), noisy);
    assert.equal(same.p50, 1);
    assert.ok(same.ci[0] < 1 && same.ci[1] > 1, JSON.stringify(same));
    assert.equal(same.verdict, 'same');
    const ref = Array.from({ length: 10 }, () => [10, 11, 12]);
    assert.equal(p50Ratio(ref.map((r) => r.map((t) => t * 1.3)), ref).verdict, 'slower');
  });

  it('pairs each model with the first on the same provider, or each provider with the first for one model', () => {
    const run = (file: string, used: 'cpu' | 'webgpu') => ({ file, provider: { requested: [used], used, skipped: [], cpuFallback: false }, roundsMs: [[1, 2], [1, 2]] });
    assert.deepEqual(benchRatios([run('a', 'cpu'), run('b', 'cpu'), run('a', 'webgpu'), run('b', 'webgpu')]).map((r) => [r.run, r.reference]), [[1, 0], [3, 2]]);
    assert.deepEqual(benchRatios([run('a', 'cpu'), run('a', 'webgpu')]).map((r) => [r.run, r.reference]), [[1, 0]]);
  });
});

describe('why the quantized model is not faster', () => {
  let fp32 = '', qdq = '', noQ = '';
  before(async () => {
    fp32 = write(ffnModel({ hidden: 64, ffn: 256, tokens: 16 }), 'ffn.onnx');
    qdq = path.join(tmp, 'ffn.qdq.onnx');
    const options = { mode: 'static' as const, calibration: { randomSamples: 4 } };
    await quantizeFile(fp32, qdq, options, { calibration: calibrationFor(resolveOptions(options), {}) });
    noQ = write(withoutOutputQ(loadModel(qdq).proto as ModelProto), 'ffn.noq.onnx');
  });

  it('finds the MatMuls onnxruntime leaves in float when their outputs have no QuantizeLinear', async () => {
    const g = fusionSummary(await optimized(noQ));
    assert.equal(g.unfused.length, 2, JSON.stringify(g));
    for (const u of g.unfused) assert.match(u.reason, /no QuantizeLinear on its output/);
    assert.deepEqual(g.fused, {});
  });

  it('finds nothing left in float in our own QDQ output (fused into QLinearMatMul)', async () => {
    const g = fusionSummary(await optimized(qdq));
    assert.deepEqual(g.unfused, []);
    assert.equal(g.fused.QLinearMatMul, 2);
  });

  it('explains a ratio that is not faster with the unfused nodes, the Q/DQ time and the CPU', async () => {
    const graphs = { fp32: fusionSummary(await optimized(fp32)), noQ: fusionSummary(await optimized(noQ)) };
    const profile = (ops: [string, number][]) => summariseProfile(ops.map(([op, us], i) => ({ cat: 'Node', name: `n${i}_kernel_time`, dur: us, args: { op_name: op, provider: 'CPUExecutionProvider' } })), 1, 'cpu');
    const run = (label: string, graph: BenchRun['graph'], prof: BenchRun['profile']) => ({
      label, file: label, sizeBytes: 1, provider: { requested: ['cpu'], used: 'cpu', skipped: [], cpuFallback: false }, sessionMs: 1, firstRunMs: 1, warmup: 1, iterations: 10,
      latencyMs: latencyStats([2, 2, 2]), throughput: { inferencesPerSec: 1, batch: null, samplesPerSec: null }, peakRssMb: 1, baseRssMb: 1,
      roundsMs: [[2]], noisy: false, nonFinite: [], graph, profile: prof,
    } satisfies BenchRun);
    const runs = [run('ffn.onnx', graphs.fp32, profile([['Gemm', 1000]])), run('ffn.noq.onnx', graphs.noQ, profile([['Gemm', 1000], ['DequantizeLinear', 600], ['QuantizeLinear', 200]]))];
    const noVnni: CpuInt8 = { arch: 'x64', model: 'test CPU', cores: 2, flags: ['avx2'], best: 'avx2', note: 'no VNNI', source: 'test' };
    const d = benchDiagnostics(runs, [{ run: 1, reference: 0, p50: 1.4, ci: [1.3, 1.5], verdict: 'slower' }], noVnni).map((x) => x.text);
    assert.ok(d.some((t) => /p50 ratio 1\.40 .*slower/.test(t)), d.join('\n'));
    assert.ok(d.some((t) => /2 nodes .* run in float between DequantizeLinear nodes.*no QuantizeLinear on its output/.test(t)), d.join('\n'));
    assert.ok(d.some((t) => /QuantizeLinear\/DequantizeLinear take 44% of its kernel time/.test(t)), d.join('\n'));
    assert.ok(d.some((t) => /no int8 dot-product instructions \(best: avx2\)/.test(t)), d.join('\n'));
    // Faster: no "why".
    const fine = benchDiagnostics(runs, [{ run: 1, reference: 0, p50: 0.5, ci: [0.45, 0.55], verdict: 'faster' }], noVnni).map((x) => x.text);
    assert.ok(!fine.some((t) => /run in float between/.test(t)), fine.join('\n'));
  });

  it('benchmarks the FP32 model and its copies interleaved, with the ratios, the graphs and the profiles', async () => {
    const r = await benchmark([fp32, qdq, noQ], { iterations: 20, rounds: 4, warmup: 2 });
    assert.deepEqual(r.runs.map((x) => x.label), ['ffn.onnx', 'ffn.qdq.onnx', 'ffn.noq.onnx']);
    assert.deepEqual(r.ratios.map((x) => [x.run, x.reference]), [[1, 0], [2, 0]]);
    for (const q of r.ratios) assert.ok(q.ci[0] <= q.p50 && q.p50 <= q.ci[1], JSON.stringify(q));
    assert.equal(r.runs[1].graph?.fused.QLinearMatMul, 2);
    assert.equal(r.runs[2].graph?.unfused.length, 2);
    const prof = r.runs[1].profile!;
    assert.equal(prof.runs, 10);
    assert.ok(prof.byOpType.some((o) => o.opType === 'QLinearMatMul'), JSON.stringify(prof.byOpType));
    assert.ok(Math.abs(prof.byOpType.reduce((s, o) => s + o.share, 0) - 1) < 1e-9);
    const csv = formatBenchCsv(r).trim().split('\n');
    assert.equal(csv.length, 4);
    assert.match(csv[2], /^ffn\.qdq\.onnx,cpu,/);
    assert.match(formatBenchMarkdown(r), /\| ffn\.noq\.onnx \| cpu \|/);
  });
});

describe('the machine and the providers', () => {
  it('reads this machine\'s int8 flags from the operating system', { skip: process.platform !== 'linux' && 'the flags are checked against /proc/cpuinfo (Linux)' }, () => {
    const c = cpuInt8();
    assert.equal(c.source, '/proc/cpuinfo');
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => /^(flags|Features)\s*:/.test(l)) ?? '';
    const present = new Set(line.split(':')[1]?.trim().split(/\s+/));
    for (const f of c.flags) assert.ok(present.has(f), `${f} is not in /proc/cpuinfo`);
    for (const f of ['avx2', 'avx512_vnni', 'avx_vnni', 'amx_int8', 'asimddp', 'i8mm']) assert.equal(c.flags.includes(f), present.has(f), f);
    assert.equal(c.best, bestInt8(os.arch(), c.flags));
    assert.ok(c.note.length > 20);
  });

  it('ranks the int8 instruction sets', () => {
    const x86 = parseCpuinfo('processor\t: 0\nmodel name\t: Some Xeon\nflags\t\t: fpu sse avx2 avx512f avx512bw avx512_vnni\n');
    assert.deepEqual(x86, { flags: ['avx2', 'avx512f', 'avx512bw', 'avx512_vnni'], model: 'Some Xeon' });
    assert.equal(bestInt8('x64', x86.flags), 'avx512-vnni');
    assert.equal(bestInt8('x64', ['avx2', 'amx_int8', 'amx_tile', 'avx512_vnni']), 'amx');
    assert.equal(bestInt8('x64', ['avx2']), 'avx2');
    const arm = parseCpuinfo('processor\t: 0\nFeatures\t: fp asimd asimddp\nCPU part\t: 0xd0c\n');
    assert.equal(bestInt8('arm64', arm.flags), 'dotprod');
    assert.equal(bestInt8('arm64', ['asimd', 'asimddp', 'i8mm']), 'i8mm');
  });

  it('drops the first profiled run (one-time costs) when the trace holds one run more than asked', () => {
    const run = (ts: number, dur: number) => ({ cat: 'Session', name: 'model_run', ts, dur });
    const kernel = (ts: number, dur: number) => ({ cat: 'Node', name: 'conv_kernel_time', ts, dur, args: { op_name: 'Conv', provider: 'CPUExecutionProvider' } });
    const events = [run(0, 5000), kernel(10, 4000), run(6000, 1000), kernel(6010, 900), run(8000, 1000), kernel(8010, 1100)];
    assert.deepEqual(summariseProfile(events, 2, 'cpu').byNode.map((n) => n.ms), [1], 'the cold 4 ms run left out: (0.9 + 1.1) / 2');
    assert.deepEqual(summariseProfile(events, 3, 'cpu').byNode.map((n) => n.ms), [2], 'as many runs as asked: all of them');
  });

  it('lists the nodes a GPU provider left to the CPU, from the profile', () => {
    const ev = (name: string, op: string, provider: string, dur: number) => ({ cat: 'Node', name: `${name}_kernel_time`, dur, args: { op_name: op, provider } });
    const p = summariseProfile([ev('conv', 'Conv', 'CUDAExecutionProvider', 900), ev('nms', 'NonMaxSuppression', 'CPUExecutionProvider', 300), ev('conv', 'Conv', 'CUDAExecutionProvider', 900)], 2, 'cuda');
    assert.deepEqual(p.cpuNodes.map((n) => [n.node, n.ms]), [['nms', 0.15]]);
    assert.deepEqual(p.byNode.map((n) => [n.node, n.ms]), [['conv', 0.9], ['nms', 0.15]]);
    assert.equal(summariseProfile([ev('nms', 'NonMaxSuppression', 'CPUExecutionProvider', 300)], 1, 'cpu').cpuNodes.length, 0, 'on the CPU provider nothing fell back');
  });

  it('refuses a provider that cannot start here before running anything, saying why', async () => {
    const missing = PROVIDERS.find((p) => !offeredProviders().includes(p))!;
    await assert.rejects(benchmark([sampleModel], { providers: ['cpu', missing] }), (e: RuntimeError) =>
      e.kind === 'provider-unavailable' && e.message.startsWith(`${missing} cannot run here: ${missing} is not part of onnxruntime-node`) && /onnxq providers/.test(e.message));
  });

  it('stops when cancelled, its worker processes gone', { skip: process.platform !== 'linux' && 'the processes are looked for with pgrep' }, async () => {
    const workers = () => spawnSync('pgrep', ['-f', 'runtime/bench/worker'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    assert.deepEqual(workers(), [], 'no worker before');
    const ac = new AbortController();
    const started = benchmark([sampleModel, sampleModel], { iterations: 1_000_000, profile: false, signal: ac.signal, onProgress: (p) => { if (p.phase === 'rounds' || (p.phase === 'open' && p.done === 1)) ac.abort(); } });
    await assert.rejects(started, (e: RuntimeError) => e.kind === 'cancelled');
    let left = workers();
    for (let i = 0; i < 20 && left.length; i++) { await new Promise((r) => setTimeout(r, 100)); left = workers(); }
    assert.deepEqual(left, [], 'the workers were killed');
  });

  it('flags outputs that are NaN or infinite on the benchmark\'s inputs', async () => {
    const file = write(makeModel({ opset: 13, graph: { name: 'sqrt', node: [node('Sqrt', ['x'], ['y'])], input: [valueInfo('x', DataType.FLOAT, [4])], output: [valueInfo('y', DataType.FLOAT, [4])] } }), 'sqrt.onnx');
    const r = await benchmark([file], { iterations: 10, profile: false });
    assert.deepEqual(r.runs[0].nonFinite, ['y']);
    assert.ok(r.diagnostics.some((d) => d.level === 'warning' && /"y" held NaN or infinity/.test(d.text)), JSON.stringify(r.diagnostics));
  });
});

describe('what the inputs leave out', () => {
  it('warns when a spatial or time dim was left at 1, not for a batch of 1', async () => {
    const file = write(makeModel({ opset: 13, graph: { name: 'relu', node: [node('Relu', ['x'], ['y'])], input: [valueInfo('x', DataType.FLOAT, ['batch', 3, 'height', 'width'])], output: [valueInfo('y', DataType.FLOAT, ['batch', 3, 'height', 'width'])] } }), 'relu.onnx');
    const warned = (r: { diagnostics: { text: string }[] }) => r.diagnostics.filter((d) => /dims were left at 1/.test(d.text)).map((d) => d.text);
    const bare = await benchmark([file], { iterations: 10, profile: false });
    assert.deepEqual(bare.inputs.defaulted.map((d) => d.name), ['batch', 'height', 'width']);
    const [text] = warned(bare);
    assert.match(text, /height=1 \(x:2\), width=1 \(x:3\)/);
    assert.doesNotMatch(text, /batch/);
    const sized = await benchmark([file], { iterations: 10, profile: false, spec: { dims: { height: 32, width: 32 } } });
    assert.deepEqual(warned(sized), []);
    assert.deepEqual(sized.inputs.shapes, { x: [1, 3, 32, 32] });
  });

  it('lines up the slowest nodes of the model in each run, FP32 NCHWc kernels matched to their Conv', async () => {
    const r = await benchmark([sampleModel], { iterations: 10 });
    const nodes = new Map(r.slowestNodes.map((n) => [n.node, n.ms[0]]));
    // mnist's Convs run as NCHWc kernels named after their (Relu's) output: matched back to the Conv nodes.
    assert.ok((nodes.get('Convolution28') ?? 0) > 0 && (nodes.get('Convolution110') ?? 0) > 0, JSON.stringify(r.slowestNodes));
    const matched = r.runs[0].profile!.byNode.filter((n) => n.opType === 'Conv').map((n) => n.source);
    assert.deepEqual(matched.sort(), ['Convolution110', 'Convolution28']);
  });
});

describe('onnxq bench', () => {
  it('prints JSON with the documented fields, and the table by default', () => {
    const r = cli(['bench', sampleModel, sampleModel, '--iterations', '10', '--rounds', '5', '--warmup', '1', '--no-profile', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.runs.length, 2);
    for (const run of j.runs) {
      for (const k of ['p50', 'p90', 'p99', 'mean', 'min', 'max', 'stddev']) assert.equal(typeof run.latencyMs[k], 'number', k);
      for (const k of ['sessionMs', 'firstRunMs', 'peakRssMb', 'sizeBytes']) assert.equal(typeof run[k], 'number', k);
      assert.equal(typeof run.throughput.inferencesPerSec, 'number');
    }
    assert.equal(j.ratios.length, 1);
    assert.deepEqual(j.runs.map((x: { label: string }) => x.label), ['samples/mnist-8.onnx', 'samples/mnist-8.onnx #2'], 'the same file twice, told apart');
    const text = cli(['bench', sampleModel, '--iterations', '10', '--no-profile']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /mnist-8\.onnx\s+cpu\s+\d/);
  });

  it('gives usage errors exit code 2 and a missing model exit code 1', () => {
    const few = cli(['bench', sampleModel, '--rounds', '3']);
    assert.equal(few.status, 2);
    assert.match(few.stderr, /--rounds needs 5 or more/);
    const both = cli(['bench', sampleModel, '--iterations', '10', '--duration', '2']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--iterations and --duration exclude each other/);
    assert.equal(cli(['bench']).status, 2);
    const gone = cli(['bench', path.join(tmp, 'nope.onnx')]);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /nope\.onnx: no such file/);
    const dims = cli(['bench', sampleModel, '--dims', 'nosuch=3']);
    assert.equal(dims.status, 1);
    assert.match(dims.stderr, /nosuch/);
  });
});
