// The CPU's int8 instructions, read from the operating system (/proc/cpuinfo on Linux, sysctl on macOS),
// and what onnxruntime's CPU kernels (MLAS) make of them: the first question when int8 is not faster.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { CpuInt8 } from '../../protocol/bench';

/** The flags that matter for int8 GEMM/Conv speed, as Linux names them. */
const X86_FLAGS = ['avx2', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'amx_int8', 'amx_tile'] as const;
const ARM_FLAGS = ['asimd', 'asimddp', 'i8mm', 'sve', 'sve2'] as const;

const NOTES: Record<CpuInt8['best'], string> = {
  'amx': 'AMX tiles: onnxruntime\'s int8 matrix kernels use them; int8 Conv/MatMul can run several times faster than FP32',
  'avx512-vnni': 'AVX-512 VNNI (vpdpbusd, a 4-way int8 dot product per lane): onnxruntime\'s int8 Conv/MatMul kernels use it; expect them 2-4x faster than FP32',
  'avx-vnni': 'AVX-VNNI (the 256-bit int8 dot product): onnxruntime\'s int8 kernels use it; expect int8 Conv/MatMul about 2x faster than FP32',
  'avx512': 'AVX-512 without VNNI: int8 products go through vpmaddubsw, which can saturate (quantize weights with --reduce-range) and gains less over FP32 (about 1-2x)',
  'avx2': 'AVX2 without VNNI: int8 products go through vpmaddubsw, which can saturate (quantize weights with --reduce-range) and gains less over FP32 (about 1-1.5x)',
  'i8mm': 'Arm i8mm (smmla/ummla) and dot product: onnxruntime\'s int8 kernels use them; expect int8 Conv/MatMul well faster than FP32',
  'dotprod': 'Arm dot product (sdot/udot): onnxruntime\'s int8 kernels use it; expect int8 Conv/MatMul faster than FP32',
  'neon': 'Arm NEON without the dot-product extension: int8 gains little or nothing over FP32 here',
  'none': 'no int8 dot-product instructions: int8 will likely not be faster than FP32 here (smaller, not faster)',
  'unknown': 'the int8 instructions of this CPU could not be read; int8 speed depends on VNNI/AMX (x86) or dot product/i8mm (Arm)',
};

/** The best int8 instruction set among `flags` (Linux /proc/cpuinfo names) for `arch` (os.arch()). */
export function bestInt8(arch: string, flags: readonly string[]): CpuInt8['best'] {
  const has = (f: string) => flags.includes(f);
  if (arch === 'x64' || arch === 'ia32') {
    if (has('amx_int8') && has('amx_tile')) return 'amx';
    if (has('avx512_vnni')) return 'avx512-vnni';
    if (has('avx_vnni')) return 'avx-vnni';
    if (has('avx512bw')) return 'avx512';
    if (has('avx2')) return 'avx2';
    return 'none';
  }
  if (arch === 'arm64') {
    if (has('i8mm')) return 'i8mm';
    if (has('asimddp')) return 'dotprod';
    return 'neon';
  }
  return 'none';
}

/** The int8-relevant flags and model name of a /proc/cpuinfo text. */
export function parseCpuinfo(text: string): { flags: string[]; model: string } {
  const field = (name: RegExp) => text.split('\n').find((l) => name.test(l))?.split(':').slice(1).join(':').trim() ?? '';
  const all = new Set(field(/^(flags|Features)\s*:/).split(/\s+/).filter(Boolean));
  const known: readonly string[] = [...X86_FLAGS, ...ARM_FLAGS];
  return { flags: known.filter((f) => all.has(f)), model: field(/^(model name|Hardware|CPU part)\s*:/) };
}

/** sysctl feature names on macOS mapped to the Linux names. */
function macFlags(): { flags: string[]; model: string } {
  const read = (key: string) => { try { return execFileSync('sysctl', ['-n', key], { encoding: 'utf8', timeout: 5000 }).trim(); } catch { return ''; } };
  const model = read('machdep.cpu.brand_string');
  if (os.arch() === 'arm64') {
    const flags = ['asimd'];
    if (read('hw.optional.arm.FEAT_DotProd') === '1') flags.push('asimddp');
    if (read('hw.optional.arm.FEAT_I8MM') === '1') flags.push('i8mm');
    return { flags, model };
  }
  const features = `${read('machdep.cpu.features')} ${read('machdep.cpu.leaf7_features')}`.toLowerCase().split(/\s+/);
  const map: Record<string, string> = { avx2: 'avx2', avx512f: 'avx512f', avx512bw: 'avx512bw', avx512vnni: 'avx512_vnni', avxvnni: 'avx_vnni' };
  return { flags: Object.entries(map).filter(([k]) => features.includes(k)).map(([, v]) => v), model };
}

/** This machine's CPU and its int8 instructions. */
export function cpuInt8(): CpuInt8 {
  const arch = os.arch(), cores = os.cpus().length;
  let flags: string[] = [], model = os.cpus()[0]?.model ?? '', source: string;
  try {
    if (process.platform === 'linux') {
      const parsed = parseCpuinfo(fs.readFileSync('/proc/cpuinfo', 'utf8'));
      flags = parsed.flags; model = parsed.model || model; source = '/proc/cpuinfo';
    } else if (process.platform === 'darwin') {
      const parsed = macFlags();
      flags = parsed.flags; model = parsed.model || model; source = 'sysctl';
    } else {
      return { arch, model, cores, flags: [], best: 'unknown', note: NOTES.unknown, source: `not read on ${process.platform}` };
    }
  } catch (e) {
    return { arch, model, cores, flags: [], best: 'unknown', note: NOTES.unknown, source: `could not be read (${(e as Error).message})` };
  }
  const best = bestInt8(arch, flags);
  return { arch, model, cores, flags, best, note: NOTES[best], source };
}
