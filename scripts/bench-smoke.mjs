// `npm run bench:smoke` (a step of `npm test`): every bench script once with ONNXQ_BENCH_SMOKE=1, so that
// none of them rots between the runs that measure: the sample and tiny generated models, a run or two
// each, no ../shared/models, results in os.tmpdir()/onnxq-bench-smoke (never over bench/*.json). The node
// options are the npm scripts' own; dist/ and media/dist must be built first (the npm script does).
// The editor benchmark skips itself, saying why, without the UI-test harness. Exit code: non-zero when
// any script failed; every script runs either way.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const big = ['--expose-gc', '--max-old-space-size=8192'];
const scripts = [
  ['run.ts', big],
  ['latency.ts', []],
  ['layout.ts', []],
  ['quantize.ts', big],
  ['compare-models.ts', []],
  ['editor.ts', ['--expose-gc']],
  ['profile.ts', []],
];

const failed = [];
const times = [];
for (const [script, flags] of scripts) {
  console.log(`\n== bench/${script} (smoke)`);
  const t = performance.now();
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', path.join('bench', script)], {
    cwd: root, stdio: 'inherit', env: { ...process.env, ONNXQ_BENCH_SMOKE: '1' },
  });
  times.push(`${script} ${((performance.now() - t) / 1000).toFixed(1)} s`);
  if (r.status !== 0) failed.push(`${script} (${r.error?.message ?? r.signal ?? `exit ${r.status}`})`);
}
console.log(`\nbench smoke: ${scripts.length - failed.length}/${scripts.length} scripts ran: ${times.join(', ')}`);
if (failed.length > 0) {
  console.error(`bench smoke: FAILED: ${failed.join(', ')}`);
  process.exit(1);
}
