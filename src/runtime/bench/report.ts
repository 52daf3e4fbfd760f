// A benchmark's result as text (the terminal), CSV (one row per model and provider) and Markdown (an issue,
// a pull request): the CLI's --csv/--md and VS Code's export say the same thing. No onnxruntime here.
import type { BenchResult, BenchRun } from '../../protocol/bench';
import { formatShape } from '../../protocol/format';
import { describeDefaulted } from '../inputSpecCheck';

const MIB = 1024 * 1024;
const f2 = (x: number) => x.toFixed(2), f3 = (x: number) => (x < 10 ? x.toFixed(3) : x.toFixed(2));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const what = (r: BenchRun) => `${r.label} (${r.provider.used})`;

/** One row per run: [header, ...rows]. */
function rows(result: BenchResult): string[][] {
  const head = ['model', 'provider', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms', 'min ms', 'max ms', 'stddev ms', 'cv', 'runs', 'inferences/s', 'samples/s', 'session ms', 'first run ms', 'peak RSS MiB', 'size MiB'];
  return [head, ...result.runs.map((r) => [
    r.label, r.provider.used, f3(r.latencyMs.p50), f3(r.latencyMs.p90), f3(r.latencyMs.p99), f3(r.latencyMs.mean), f3(r.latencyMs.min), f3(r.latencyMs.max),
    f3(r.latencyMs.stddev), pct(r.latencyMs.cv) + (r.noisy ? ' noisy' : ''), String(r.iterations), f2(r.throughput.inferencesPerSec),
    r.throughput.samplesPerSec === null ? '' : f2(r.throughput.samplesPerSec), f2(r.sessionMs), f3(r.firstRunMs), f2(r.peakRssMb), f2(r.sizeBytes / MIB),
  ])];
}

function ratioLines(result: BenchResult): string[] {
  return result.ratios.map((q) => {
    const r = result.runs[q.run], ref = result.runs[q.reference];
    const verdict = q.verdict === 'faster' ? `${f2(1 / q.p50)}x faster` : q.verdict === 'slower' ? `${f2(q.p50)}x slower` : 'no measurable difference';
    return `${what(r)} / ${what(ref)}: p50 ratio ${f2(q.p50)} (95% interval ${f2(q.ci[0])}-${f2(q.ci[1])}): ${verdict}; size ${f2(r.sizeBytes / ref.sizeBytes)}x`;
  });
}

function header(result: BenchResult): string[] {
  const s = result.settings, c = result.cpu;
  const shapes = Object.entries(result.inputs.shapes).map(([k, v]) => `${k} ${formatShape(v)}`).join(', ');
  return [
    `${result.runs.length} run${result.runs.length === 1 ? '' : 's'} (${s.providers.join(', ')}), ${s.rounds} interleaved rounds, warm-up ${s.warmup}${s.threads ? `, ${s.threads} threads` : ''}; inputs: ${result.inputs.source}${shapes ? `; ${shapes}` : ''}${result.inputs.defaulted.length ? ` (dims left at 1: ${describeDefaulted(result.inputs.defaulted)})` : ''}`,
    `CPU: ${c.model || c.arch} (${c.cores} logical cores), int8: ${c.best}; onnxruntime-node ${result.runtime}`,
  ];
}

function pad(table: string[][]): string {
  const widths = table[0].map((_, j) => Math.max(...table.map((r) => r[j].length)));
  return table.map((r) => r.map((c, j) => (j < 2 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ').trimEnd()).join('\n');
}

function timeLines(result: BenchResult, top = 6): string[] {
  return result.runs.filter((r) => r.profile).map((r) => `  ${what(r)}: ${r.profile!.byOpType.slice(0, top).map((o) => `${o.opType} ${f3(o.ms)} ms (${pct(o.share)})`).join(', ')}`);
}

/** The profiled runs' columns of the slowest nodes. */
function nodeRows(result: BenchResult): string[][] {
  const cols = result.runs.map((r, i) => (r.profile ? i : -1)).filter((i) => i >= 0);
  return [['node', ...cols.map((i) => what(result.runs[i]))], ...result.slowestNodes.map((n) => [n.node, ...cols.map((i) => (n.ms[i] === null ? '-' : `${f3(n.ms[i]!)} ms`))])];
}

function nodeLines(result: BenchResult): string[] {
  if (!result.runs.some((r) => r.profile)) return [];
  const table = nodeRows(result);
  return pad(table).split('\n').map((l) => `  ${l}`);
}

export function formatBenchText(result: BenchResult): string {
  const out = [...header(result), '', pad(rows(result))];
  const ratios = ratioLines(result);
  if (ratios.length) out.push('', 'Speed-up (each model against the first on the same provider):', ...ratios.map((l) => `  ${l}`));
  const times = timeLines(result);
  if (times.length) out.push('', `Where the time goes (kernel time per run, onnxruntime's profile of ${result.runs.find((r) => r.profile)?.profile?.runs ?? 0} runs):`, ...times, '', 'Slowest nodes of the model (its kernels summed; - where the model has no such node):', ...nodeLines(result));
  if (result.diagnostics.length) out.push('', 'Diagnostics:', ...result.diagnostics.map((d) => `  ${d.level === 'warning' ? '!' : '-'} ${d.text}`));
  return `${out.join('\n')}\n`;
}

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function formatBenchCsv(result: BenchResult): string {
  const table = rows(result);
  table[0].push('p50 ratio', 'ratio 95% low', 'ratio 95% high', 'against');
  for (let i = 0; i < result.runs.length; i++) {
    const q = result.ratios.find((x) => x.run === i);
    table[i + 1][9] = pct(result.runs[i].latencyMs.cv);
    table[i + 1].push(q ? f3(q.p50) : '', q ? f3(q.ci[0]) : '', q ? f3(q.ci[1]) : '', q ? result.runs[q.reference].label : '');
  }
  return `${table.map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
}

export function formatBenchMarkdown(result: BenchResult): string {
  const table = rows(result);
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const md = [
    '## Benchmark', '', ...header(result).map((l) => `${l}  `), '',
    `| ${table[0].join(' | ')} |`, `|${table[0].map((_, j) => (j < 2 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...table.slice(1).map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
  const ratios = ratioLines(result);
  if (ratios.length) md.push('', '### Speed-up', '', ...ratios.map((l) => `- ${esc(l)}`));
  const times = timeLines(result);
  if (times.length) {
    const [head, ...body] = nodeRows(result);
    md.push('', '### Where the time goes', '', ...times.map((l) => `- ${esc(l.trim())}`), '',
      `| ${head.map(esc).join(' | ')} |`, `|---|${head.slice(1).map(() => '---:').join('|')}|`, ...body.map((r) => `| ${r.map(esc).join(' | ')} |`));
  }
  if (result.diagnostics.length) md.push('', '### Diagnostics', '', ...result.diagnostics.map((d) => `- ${d.level === 'warning' ? '**!** ' : ''}${esc(d.text)}`));
  return `${md.join('\n')}\n`;
}
