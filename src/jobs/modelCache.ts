// The job process's parsed models, so the editor's requests after the first (a subgraph, statistics, a
// histogram) do not parse the file again. Keyed by path and checked against the file's size and mtime:
// a file changed on disk is parsed anew. At most a few models are kept (each holds its file's bytes).
// No vscode import: this runs in the plain Node job process.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseModel } from '../onnx/load';
import type { Model } from '../onnx/model';
import { OnnxError } from '../onnx/errors';

export interface LoadedModel {
  model: Model;
  /** What the first load cost (ms); later hits report it unchanged. */
  readMs: number;
  parseMs: number;
}

interface Entry {
  size: number;
  mtimeMs: number;
  loaded: Promise<LoadedModel>;
}

/** protobuf messages cannot exceed 2 GiB (the core says the same in load.ts). */
const MAX_PROTO_BYTES = 2 ** 31 - 1;

export class ModelCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = 2) {}

  /** The parsed model at `file`, parsed once per version of the file; concurrent callers share the parse. */
  async get(file: string): Promise<LoadedModel> {
    const abs = path.resolve(file);
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(abs);
    } catch {
      this.entries.delete(abs);
      throw new OnnxError('not-found', 'file not found; check the path', file);
    }
    const known = this.entries.get(abs);
    if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs) {
      // Most recently used last.
      this.entries.delete(abs);
      this.entries.set(abs, known);
      return known.loaded;
    }
    const loaded = load(abs, file, stat);
    const entry: Entry = { size: stat.size, mtimeMs: stat.mtimeMs, loaded };
    this.entries.delete(abs);
    this.entries.set(abs, entry);
    // A failed read is not kept: the next request tries again.
    loaded.catch(() => {
      if (this.entries.get(abs) === entry) this.entries.delete(abs);
    });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return loaded;
  }

  clear(): void {
    this.entries.clear();
  }
}

async function load(abs: string, label: string, stat: fs.Stats): Promise<LoadedModel> {
  if (stat.isDirectory()) throw new OnnxError('not-onnx', 'is a folder, not an .onnx file', label);
  if (stat.size > MAX_PROTO_BYTES) {
    throw new OnnxError('too-large', `is ${stat.size} bytes; an ONNX protobuf file cannot exceed 2 GiB (large models keep weights in external data files)`, label);
  }
  const t0 = performance.now();
  const bytes = await fs.promises.readFile(abs);
  const t1 = performance.now();
  const model = parseModel(bytes, { baseDir: path.dirname(abs), label, file: abs });
  return { model, readMs: t1 - t0, parseMs: performance.now() - t1 };
}
