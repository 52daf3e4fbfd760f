// Per-layer error: both models run on the same samples with the mapped tensors (layerMap.ts) fetched as
// extra outputs, from temporary copies, a chunk of tensors at a time so that a big model's intermediates
// never all sit in memory at once; each pair is pooled over the samples by the one DiffAccumulator of
// compare.ts. The SQNR drop across a layer (its inputs' SQNR less its own) tells the layer that adds the
// error from those that only carry it, and ranks them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Model } from '../onnx/model';
import { writeModel } from '../onnx/write';
import { EXACT_SQNR_DB, type LayerComparison, type LayerError, type UnmappedTensor } from '../protocol/layers';
import { makeTempDir } from '../quantize/tempDir';
import { DiffAccumulator, numericValues, type TensorLike } from './compare';
import type { LayerMap, MappedTensor } from './layerMap';

export type { LayerComparison, LayerError, UnmappedTensor } from '../protocol/layers';

/** What the runs measure (the graph diff comes from the models alone: graphDiff.ts). */
export type MeasuredLayers = Omit<LayerComparison, 'diff'>;

export type LayerFeeds = Record<string, TensorLike>;

export interface LayerSession {
  run(feeds: LayerFeeds, fetch: string[]): Promise<Record<string, TensorLike>>;
  release(): Promise<void>;
}

/** Opens a copy of one of the two models (the quantized one as it is deployed: its int8 kernels fused). */
export type OpenLayerSession = (file: string, which: 'fp32' | 'quantized') => Promise<LayerSession>;

export interface MeasureOptions {
  signal?: AbortSignal;
  /** Called after each chunk with the tensors measured so far and in all. */
  onProgress?: (measured: number, total: number) => void;
  /** Fetched bytes per model and run to aim a chunk at (default CHUNK_BYTES). */
  chunkBytes?: number;
  workDir?: string;
  /** Thrown when `signal` aborts. */
  cancelled?: () => Error;
}

/**
 * What one run of each model may fetch: 256 MiB, so that the two sessions' fetched intermediates of a
 * sample stay near half a GiB, well inside the 8 GB of a small laptop beside the models themselves.
 */
export const CHUNK_BYTES = 256 * 2 ** 20;
/** Tensors in the first chunk, before their sizes are known. */
const FIRST_CHUNK = 64;

const FLOAT_TYPES = new Set(['float32', 'float16', 'float64']);
const INT_TYPES = new Set(['uint8', 'int8', 'uint16', 'int16', 'int32']);

/** A copy of `m` with `extra` added to its graph outputs (the tensors are shared, not copied). */
function withOutputs(m: Model, extra: string[]): Model {
  const g = m.proto.graph!;
  const have = new Set((g.output ?? []).map((v) => v.name ?? ''));
  const add = [...new Set(extra)].filter((n) => !have.has(n)).map((name) => ({ name, type: {} }));
  return m.withProto({ ...m.proto, graph: { ...g, output: [...(g.output ?? []), ...add] } });
}

function dequantized(t: TensorLike, q: NonNullable<MappedTensor['quant']>): Float32Array {
  const d = t.data as ArrayLike<number>;
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = (d[i] - q.zeroPoint) * q.scale;
  return out;
}

/** The values held within bounds past which no reader tells them apart (a copy). */
function clamped(v: ArrayLike<number>, c: NonNullable<MappedTensor['clamp']>): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) { const x = v[i]; out[i] = x < c.min ? c.min : x > c.max ? c.max : x; }
  return out;
}

/** The values with our quantizer's per-channel factors divided out (undefined: the axis does not fit). */
function unscaled(v: ArrayLike<number>, dims: readonly number[], r: NonNullable<MappedTensor['rescaled']>): Float64Array | undefined {
  const axis = r.axis < 0 ? dims.length + r.axis : r.axis;
  if (axis < 0 || axis >= dims.length || dims[axis] !== r.factors.length) return undefined;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1), C = r.factors.length;
  const out = new Float64Array(v.length);
  for (let i = 0, c = 0, k = 0; i < v.length; i++) {
    out[i] = v[i] / r.factors[c];
    if (++k === inner) { k = 0; if (++c === C) c = 0; }
  }
  return out;
}

/**
 * Runs `fp32` and `quantized` on `feeds` (called once per chunk: it must give the same samples each time)
 * and measures every mapped tensor.
 */
export async function measureLayers(fp32: Model, quantized: Model, map: LayerMap, open: OpenLayerSession,
  feeds: () => AsyncIterable<LayerFeeds> | Iterable<LayerFeeds>, options: MeasureOptions = {}): Promise<MeasuredLayers> {
  const entries = map.mapped;
  const acc = entries.map(() => new DiffAccumulator());
  const dropped = new Map<number, string>(); // entry -> why it was not measured (a shape that differs, ...)
  const skipped = new Set<number>(); // not activations after all (integer FP32 values)
  const budget = options.chunkBytes ?? CHUNK_BYTES;
  const dir = makeTempDir('layers', options.workDir);
  let samples = 0, runs = 0, next = 0, size = Math.min(FIRST_CHUNK, entries.length);
  try {
    while (next < entries.length) {
      const chunk = entries.slice(next, next + size).map((_, i) => next + i);
      const fa = path.join(dir, `fp32-${runs}.onnx`), fb = path.join(dir, `quantized-${runs}.onnx`);
      writeModel(withOutputs(fp32, chunk.map((i) => entries[i].fp32Tensor)), fa);
      writeModel(withOutputs(quantized, chunk.map((i) => entries[i].tensor)), fb);
      const sa = await open(fa, 'fp32');
      let sb: LayerSession | undefined;
      let bytes = 0, count = 0;
      try {
        sb = await open(fb, 'quantized');
        const fetchA = [...new Set(chunk.map((i) => entries[i].fp32Tensor))], fetchB = chunk.map((i) => entries[i].tensor);
        for await (const f of feeds()) {
          if (options.signal?.aborted) throw options.cancelled?.() ?? new Error('cancelled');
          const [ya, yb] = [await sa.run(f, fetchA), await sb.run(f, fetchB)];
          if (!count) for (const t of [...Object.values(ya), ...Object.values(yb)]) bytes += (t.data as ArrayBufferView).byteLength ?? 0;
          for (const i of chunk) {
            if (dropped.has(i) || skipped.has(i)) continue;
            const e = entries[i], x = ya[e.fp32Tensor], y = yb[e.tensor];
            if (!x || !y) { dropped.set(i, 'onnxruntime did not return it'); continue; }
            if (!FLOAT_TYPES.has(x.type)) { skipped.add(i); continue; }
            if (x.dims.join() !== y.dims.join()) { dropped.set(i, `its shape [${y.dims.join(', ')}] is not that of "${e.fp32Tensor}" [${x.dims.join(', ')}]`); continue; }
            let yv = INT_TYPES.has(y.type) ? (e.quant ? dequantized(y, e.quant) : undefined) : FLOAT_TYPES.has(y.type) ? numericValues(y) : undefined;
            if (!yv) { dropped.set(i, `it holds ${y.type} values with no scale to read them by`); continue; }
            if (e.rescaled) {
              yv = unscaled(yv, y.dims, e.rescaled);
              if (!yv) { dropped.set(i, `the per-channel factors our quantizer recorded for it (axis ${e.rescaled.axis}, ${e.rescaled.factors.length}) do not fit its shape [${y.dims.join(', ')}]`); continue; }
            }
            let xv = numericValues(x)!;
            if (e.clamp) { xv = clamped(xv, e.clamp); yv = clamped(yv, e.clamp); }
            acc[i].add(xv, yv);
          }
          count++;
        }
      } finally {
        await Promise.allSettled([sa.release(), sb?.release()]);
        fs.rmSync(fa, { force: true });
        fs.rmSync(fb, { force: true });
      }
      if (!count) throw new Error('no samples to compare the layers on');
      samples = count;
      runs++;
      next += chunk.length;
      options.onProgress?.(next, entries.length);
      // Size the next chunk by what this one fetched per tensor.
      const per = bytes / Math.max(1, chunk.length * 2);
      size = Math.max(1, Math.min(4096, Math.floor(budget / Math.max(1, per))));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rank(entries, acc, map, dropped, skipped, samples, runs);
}

function rank(entries: MappedTensor[], acc: DiffAccumulator[], map: LayerMap, dropped: Map<number, string>, skipped: Set<number>, samples: number, runs: number): MeasuredLayers {
  const figures = acc.map((a) => a.figures());
  const measured = entries.map((_, i) => i).filter((i) => !dropped.has(i) && !skipped.has(i));
  // One SQNR per FP32 tensor (the worst copy of it), capped at float32's own.
  const sqnrOf = new Map<string, number>();
  for (const i of measured) {
    const s = Math.min(EXACT_SQNR_DB, figures[i].sqnrDb);
    const t = entries[i].fp32Tensor;
    sqnrOf.set(t, Math.min(sqnrOf.get(t) ?? EXACT_SQNR_DB, s));
  }
  // An input no quantization touched counts as the best SQNR any tensor here holds (what these types can
  // do on this model), not as float32's own: else quantizing a graph input always tops the list.
  const finite = [...sqnrOf.values()].filter((v) => v < EXACT_SQNR_DB);
  const exact = finite.length ? Math.max(...finite) : EXACT_SQNR_DB;
  const layers: LayerError[] = measured.map((i) => {
    const e = entries[i], f = figures[i];
    const inputs = map.upstream.get(e.fp32Tensor) ?? [];
    const inSqnr = Math.min(exact, ...inputs.map((t) => sqnrOf.get(t) ?? exact));
    return {
      node: e.node, opType: e.opType, tensor: e.tensor, fp32Tensor: e.fp32Tensor, fp32Node: e.fp32Node, fp32OpType: e.fp32OpType,
      match: e.match, floatNode: e.floatNode, dequantized: e.quant !== null, sqnrDb: f.sqnrDb, cosine: f.cosine, maxAbs: f.maxAbs,
      sqnrDropDb: inSqnr - Math.min(exact, f.sqnrDb), inputs,
    };
  });
  layers.sort((x, y) => y.sqnrDropDb - x.sqnrDropDb || x.sqnrDb - y.sqnrDb);
  const unmapped: UnmappedTensor[] = [...map.unmapped, ...[...dropped].map(([i, reason]) => ({ tensor: entries[i].tensor, node: entries[i].node, opType: entries[i].opType, reason }))];
  return { layers, unmapped, samples, runs, quantizedWith: map.quantizedWith };
}
