// Earlier benchmarks of a model, kept in the workspace (newest first, a few per model), so that the results
// panel shows a change: after re-quantizing, after an onnxruntime update, on another provider.
import * as path from 'node:path';
import type { BenchResult } from '../protocol/bench';
import type { BenchHistoryEntry } from '../protocol/results';
import type { Services } from './services';

const KEY = 'onnxqs.bench:';
/** Results kept per model. */
export const HISTORY_LENGTH = 10;

/** One key per file: on Windows `C:\` and `c:\` (a typed path, a Uri's fsPath) are the same file. */
const key = (file: string) => KEY + path.resolve(file).replace(/^[A-Z]:/, (d) => d.toLowerCase());

/** The earlier results of each run's model (newest first), then records this result's. */
export async function recordBench(services: Services, result: BenchResult): Promise<BenchHistoryEntry[][]> {
  const state = services.workspaceState;
  const earlier = result.runs.map((r) => state?.get<BenchHistoryEntry[]>(key(r.file)) ?? []);
  const files = [...new Set(result.runs.map((r) => r.file))];
  for (const file of files) {
    const now = result.runs.filter((r) => r.file === file).map((r) => ({
      date: result.date, provider: r.provider.used, p50: r.latencyMs.p50, p90: r.latencyMs.p90, p99: r.latencyMs.p99, sizeBytes: r.sizeBytes,
    }));
    await state?.update(key(file), [...now, ...(state.get<BenchHistoryEntry[]>(key(file)) ?? [])].slice(0, HISTORY_LENGTH));
  }
  return earlier;
}
