// Why a quantized model is not faster, in plain words, from what can be known: the ratio and its interval,
// the CPU's int8 instructions, what onnxruntime fused and what it left in float, ConvInteger, where the
// kernel time went against the reference, the nodes a GPU provider left to the CPU; and whether the
// measurement itself can be trusted (noise, outputs that are not finite).
import type { BenchDiagnostic, BenchRatio, BenchRun, CpuInt8, FusionSummary } from '../../protocol/bench';
import type { DefaultedDim } from '../../protocol/compare';
import { describeDefaulted } from '../inputSpecCheck';
import { NOISY_CV } from './stats';

const fmtRatio = (x: number) => x.toFixed(2);
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const QDQ_OPS = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear']);
/** Below this p50 the fixed costs of a run (copying inputs and outputs, waking threads) dominate. */
const TINY_MS = 0.5;
/** A diagnostic lists at most this many nodes by name. */
const NAMES = 5;

/** Whether onnxruntime's graph of the run shows any quantization (integer kernels or Q/DQ left). */
export function isQuantized(g: FusionSummary | null): boolean {
  return !!g && (Object.keys(g.fused).length > 0 || g.convInteger > 0 || g.matMulInteger > 0 || g.qdqLeft > 0 || g.unfused.length > 0);
}

const names = (xs: string[]) => `${xs.slice(0, NAMES).map((x) => `"${x}"`).join(', ')}${xs.length > NAMES ? ` and ${xs.length - NAMES} more` : ''}`;

export function benchDiagnostics(runs: BenchRun[], ratios: BenchRatio[], cpu: CpuInt8, defaulted: DefaultedDim[] = []): BenchDiagnostic[] {
  const out: BenchDiagnostic[] = [];
  // A model timed on inputs of a size it is not deployed at says little (a detector on 1 x 1 images);
  // the first axis at 1 is batch 1, the usual case, and is only listed in the header.
  const sized = defaulted.filter((d) => d.axis > 0);
  if (sized.length) out.push({ level: 'warning', text: `these dims were left at 1: ${describeDefaulted(sized)}; the models ran on inputs of that size, which may not be the size you deploy. Set them with --dims (in VS Code: ONNX: Edit Model Inputs…).` });
  for (const [i, r] of runs.entries()) {
    if (r.noisy) out.push({ level: 'warning', run: i, text: `${r.label}: run times vary by ${pct(r.latencyMs.cv)} of their mean (over ${pct(NOISY_CV)}): a noisy measurement. Close other programs, give more runs (--iterations), or fix the thread count (--threads).` });
    if (r.nonFinite.length) out.push({ level: 'warning', run: i, text: `${r.label}: ${names(r.nonFinite)} held NaN or infinity on these inputs, so its runs may have taken a path real inputs do not; give inputs like the real ones (--inputs, --range).` });
    const g = r.graph;
    if (g && isQuantized(g)) {
      const fused = Object.entries(g.fused).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${n} ${op}`);
      out.push({ level: 'info', run: i, text: `${r.label}: onnxruntime runs ${fused.length ? fused.join(', ') : 'no integer kernel'}${g.unfused.length ? `; ${g.unfused.length} Conv/MatMul/Gemm in float between Q/DQ` : ''}${g.convInteger ? `; ${g.convInteger} ConvInteger` : ''}.` });
    }
    if (r.profile?.cpuNodes.length) {
      const ms = r.profile.cpuNodes.reduce((s, n) => s + n.ms, 0);
      out.push({ level: 'warning', run: i, text: `${r.label} on ${r.provider.used}: ${r.profile.cpuNodes.length} nodes ran on the CPU (${ms.toFixed(2)} ms per run, with copies between the devices around them): ${names(r.profile.cpuNodes.map((n) => `${n.node} (${n.opType})`))}. ${r.provider.used} has no kernel for them with these types.` });
    }
  }
  for (const q of ratios) {
    const r = runs[q.run], ref = runs[q.reference];
    const said = `${r.label} against ${ref.label} on ${r.provider.used}: p50 ratio ${fmtRatio(q.p50)} (95% interval ${fmtRatio(q.ci[0])}-${fmtRatio(q.ci[1])})`;
    const lost = slowerNodes(r, ref);
    if (q.verdict === 'faster') {
      out.push({ level: 'info', text: `${said}: ${fmtRatio(1 / q.p50)}x faster.` });
      if (lost) out.push({ level: 'info', run: q.run, text: `${r.label}: ${lost}` });
      continue;
    }
    out.push({ level: 'warning', text: `${said}: ${q.verdict === 'slower' ? 'slower' : 'not measurably faster'}.` });
    if (!isQuantized(r.graph) || isQuantized(ref.graph)) continue;
    out.push(...whyNotFaster(r, ref, cpu, lost));
  }
  return out;
}

/** A node counts as slower when it gains more than this share of the reference's kernel time. */
const SLOWER_SHARE = 0.02;

/** The model's nodes that take longer in `r` than in `ref` (same names: a quantized copy keeps them), in words; '' when none. */
function slowerNodes(r: BenchRun, ref: BenchRun): string {
  if (!r.profile || !ref.profile) return '';
  const before = new Map(ref.profile.bySource.map((s) => [s.node, s.ms]));
  const slower = r.profile.bySource
    .filter((s) => before.has(s.node) && s.ms - before.get(s.node)! > SLOWER_SHARE * ref.profile!.kernelMs)
    .sort((a, b) => (b.ms - before.get(b.node)!) - (a.ms - before.get(a.node)!));
  if (!slower.length) return '';
  return `nodes slower than in ${ref.label}: ${slower.slice(0, NAMES).map((s) => `"${s.node}" ${before.get(s.node)!.toFixed(3)} -> ${s.ms.toFixed(3)} ms (${s.kernels.map((k) => k.opType).join(' + ')})`).join(', ')}${slower.length > NAMES ? ` and ${slower.length - NAMES} more` : ''}: candidates to leave in float, or to quantize differently.`;
}

/** The reasons a quantized run is not faster than its float reference. */
function whyNotFaster(r: BenchRun, ref: BenchRun, cpu: CpuInt8, lost: string): BenchDiagnostic[] {
  const out: BenchDiagnostic[] = [];
  const w = (text: string) => out.push({ level: 'warning', text: `${r.label}: ${text}` });
  const g = r.graph!;
  if (r.provider.used === 'cpu' && !['amx', 'avx512-vnni', 'avx-vnni', 'i8mm', 'dotprod'].includes(cpu.best)) w(`this CPU (${cpu.model || cpu.arch}) has ${cpu.best === 'unknown' ? 'int8 instructions that could not be read' : `no int8 dot-product instructions (best: ${cpu.best})`}: ${cpu.note}.`);
  if (g.unfused.length) {
    const byReason = new Map<string, string[]>();
    for (const u of g.unfused) (byReason.get(u.reason) ?? byReason.set(u.reason, []).get(u.reason)!).push(u.node);
    for (const [reason, nodes] of byReason) w(`${nodes.length} node${nodes.length === 1 ? '' : 's'} (${names(nodes)}) run in float between DequantizeLinear nodes, paying for the dequantization on every run: ${reason}.`);
  }
  if (g.convInteger) w(`${g.convInteger} ConvInteger node${g.convInteger === 1 ? '' : 's'}: onnxruntime's CPU ConvInteger is slower than its float Conv. Quantize Conv statically (--mode static, QDQ) or leave Conv in float (dynamic mode's default op types are MatMul,Gemm).`);
  if (g.matMulInteger) w(`${g.matMulInteger} MatMulInteger node${g.matMulInteger === 1 ? '' : 's'} that onnxruntime did not fuse with the dynamic quantization of their input (DynamicQuantizeMatMul): each runs as separate quantize, integer product and rescale steps.`);
  if (r.profile && ref.profile) {
    const qdq = r.profile.byOpType.filter((o) => QDQ_OPS.has(o.opType));
    const share = qdq.reduce((s, o) => s + o.share, 0);
    if (share > 0.1) w(`QuantizeLinear/DequantizeLinear take ${pct(share)} of its kernel time (${qdq.map((o) => `${o.opType} ${o.ms.toFixed(2)} ms`).join(', ')} per run): conversions between float and int8 that a fused graph would not need.`);
    const refOps = new Map(ref.profile.byOpType.map((o) => [o.opType, o.ms]));
    const grown = r.profile.byOpType.map((o) => ({ op: o.opType, delta: o.ms - (refOps.get(o.opType) ?? 0) })).filter((d) => d.delta > 0.05 * ref.profile!.kernelMs).sort((a, b) => b.delta - a.delta);
    if (grown.length) w(`op types that take longer than in ${ref.label}: ${grown.slice(0, NAMES).map((d) => `${d.op} +${d.delta.toFixed(2)} ms`).join(', ')} per run.`);
    if (lost) w(lost);
  }
  if (ref.latencyMs.p50 < TINY_MS) w(`${ref.label} runs in ${ref.latencyMs.p50.toFixed(3)} ms: at that size the fixed costs of a run (copying inputs and outputs, waking threads) dominate, and int8 has little to gain.`);
  if (!out.length) w('nothing in its graph explains it: onnxruntime runs its compute in integer kernels. The time may go to layers left in float (see the op types above) or to the int8 kernels\' shapes; try a larger batch or input.');
  return out;
}
