// CPU profile of one core operation, to see where the benchmark's time goes:
//   node --expose-gc --import tsx bench/profile.ts <open|parse|stats|write> <model.onnx> [iterations] [dtype]
// Runs itself again under `node --cpu-prof`, then prints the functions with the most self time and the
// call tree below the operation (inclusive milliseconds). The .cpuprofile is kept (open it in Chrome
// DevTools or VS Code for a flame chart).
// ONNXQ_BENCH_SMOKE=1 without arguments: each operation once on the sample, the profiles not kept.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel, parseModel } from '../src/onnx/load';
import { tensorStats } from '../src/onnx/stats';
import { writeModel } from '../src/onnx/write';
import { SMOKE } from './util';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const [op, file, iterationsArg, dtype] = process.argv.slice(2);
const ROOTS: Record<string, RegExp> = { open: /^loadModel$/, parse: /^parseModel$/, stats: /^tensorStats$/, write: /^writeModel$/ };

function work(): void {
  const n = Number(iterationsArg ?? (op === 'stats' || op === 'write' ? 5 : 50));
  if (op === 'open') for (let i = 0; i < n; i++) loadModel(file);
  else if (op === 'parse') { const bytes = fs.readFileSync(file); for (let i = 0; i < n; i++) parseModel(bytes, { file }); }
  else if (op === 'stats') {
    const weights = loadModel(file).weights().filter((w) => w.numeric && w.elements > 0 && (!dtype || w.dtypeName === dtype));
    for (let i = 0; i < n; i++) for (const w of weights) tensorStats(w);
  } else if (op === 'write') {
    const model = loadModel(file);
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-prof-')), 'out.onnx');
    for (let i = 0; i < n; i++) writeModel(model, out);
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}

function label(n: ProfileNode): string {
  const f = n.callFrame;
  return `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
}

function summarize(profile: Profile, root: RegExp): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const inclusive = (n: ProfileNode): number => (self.get(n.id) ?? 0) + (n.children ?? []).reduce((a, c) => a + inclusive(byId.get(c)!), 0);
  const bySelf = new Map<string, number>();
  for (const [id, us] of self) bySelf.set(label(byId.get(id)!), (bySelf.get(label(byId.get(id)!)) ?? 0) + us);
  console.log(`total ${(total / 1000).toFixed(0)} ms sampled; top self time:`);
  for (const [name, us] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`);
  }
  // Call tree under the operation, merged by function, down to 1% of the total.
  const print = (nodes: ProfileNode[], indent: string, depth: number) => {
    const merged = new Map<string, { us: number; selfUs: number; kids: ProfileNode[] }>();
    for (const n of nodes) {
      const e = merged.get(label(n)) ?? { us: 0, selfUs: 0, kids: [] };
      e.us += inclusive(n); e.selfUs += self.get(n.id) ?? 0; e.kids.push(...(n.children ?? []).map((c) => byId.get(c)!));
      merged.set(label(n), e);
    }
    for (const [name, e] of [...merged].sort((a, b) => b[1].us - a[1].us)) {
      if (e.us < total / 100) continue;
      console.log(`${indent}${(e.us / 1000).toFixed(0).padStart(8)} ms (self ${(e.selfUs / 1000).toFixed(0)})  ${name}`);
      if (depth < 6) print(e.kids, `${indent}  `, depth + 1);
    }
  };
  console.log(`\ncall tree under ${root.source}:`);
  print(profile.nodes.filter((n) => root.test(n.callFrame.functionName)), '', 0);
}

if (SMOKE && !op) {
  for (const o of Object.keys(ROOTS)) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, o, path.join(__dirname, '..', 'samples', 'mnist-8.onnx'), '1'], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
} else if (!op || !ROOTS[op] || !file) {
  console.error('usage: node --expose-gc --import tsx bench/profile.ts <open|parse|stats|write> <model.onnx> [iterations] [dtype]');
  process.exit(2);
} else if (process.env.ONNXQ_PROFILE_CHILD) {
  work();
} else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxq-cpuprof-'));
  const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', __filename, ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, ONNXQ_PROFILE_CHILD: '1' } });
  if (r.status !== 0) process.exit(r.status ?? 1);
  const prof = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f))
    .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
  summarize(JSON.parse(fs.readFileSync(prof, 'utf8')) as Profile, ROOTS[op]);
  if (SMOKE) fs.rmSync(dir, { recursive: true, force: true });
  else console.log(`\nprofile: ${prof}`);
}
