// Before static quantization: per-channel equalization of the activation between a Conv and a depthwise
// Conv that reads it (directly or through a Relu). Such activations can spread over channels by 100:1 (the
// stem of PP-LCNet: channels in [-0.7, 0.2] next to channels in [-14, 13]), which one per-tensor int8 scale
// cannot hold. Scaling output channel c of the first Conv by 1/s_c and the depthwise filters of channel c by
// s_c leaves the float model's output unchanged (Relu commutes with positive scales), and costs the weights
// nothing: both are quantized per output channel, which absorbs any per-channel factor. s_c makes every
// channel's range the geometric mean of the ranges, measured on the first calibration samples.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataType } from '../../onnx/dtype';
import { tensor } from '../../onnx/builder';
import type { GraphInfo, Model } from '../../onnx/model';
import type { NodeProto } from '../../onnx/proto';
import { writeModel } from '../../onnx/write';
import { MinMaxCalibrator, valueKey, type CalibrationRunner, type Feeds } from '../calibrate/calibrator';
import { intAttr, type ConstRef, type ModelEditor } from '../graph';
import { nodeLabel } from '../pass';
import { makeTempDir } from '../tempDir';
import { recordRescaled } from '../records';

interface Pair { first: NodeProto; depthwise: NodeProto; value: string; relu?: string; graph: GraphInfo; w1: ConstRef; b1?: ConstRef; w2: ConstRef }

function pairs(model: Model, editor: ModelEditor): Pair[] {
  const uses = editor.useCounts();
  const out: Pair[] = [];
  for (const info of model.graphs()) {
    const isConv = (n: NodeProto | undefined) => n?.op_type === 'Conv' && (n.domain ?? '') === '';
    const constant = (name: string | undefined) => {
      if (!name) return undefined;
      const c = editor.constant(name, info);
      return 'reason' in c || c.ref.dtype !== DataType.FLOAT ? undefined : c;
    };
    for (const a of info.graph.node ?? []) {
      if (!isConv(a) || (a.output ?? []).length !== 1) continue;
      const y = a.output![0];
      if ((uses.get(y) ?? 0) !== 1 || editor.isGraphOutput(y, info)) continue;
      let reader: NodeProto | undefined = editor.readersIn(y, info)[0];
      let relu: string | undefined;
      if (reader?.op_type === 'Relu' && (reader.domain ?? '') === '') {
        const r = reader.output?.[0] ?? '';
        if ((uses.get(r) ?? 0) !== 1 || editor.isGraphOutput(r, info)) continue;
        relu = r;
        reader = editor.readersIn(r, info)[0];
      }
      if (!isConv(reader)) continue;
      const w1 = constant(a.input?.[1]), w2 = constant(reader!.input?.[1]);
      if (!w1 || !w2) continue;
      const C = w1.dims[0];
      const group = intAttr(reader!, 'group', 1);
      if (group !== C || C < 2 || w2.dims[1] !== 1 || w2.dims[0] % C !== 0) continue; // not depthwise over these channels
      const b1 = a.input?.[2] ? constant(a.input[2]) : undefined;
      if (a.input?.[2] && (!b1 || b1.dims.length !== 1 || b1.dims[0] !== C)) continue;
      out.push({ first: a, depthwise: reader!, value: y, relu, graph: info, w1, b1, w2 });
    }
  }
  return out;
}

/** Equalizes every Conv -> (Relu ->) depthwise Conv pair on up to `samples` samples; returns the pairs done. */
export async function equalizeDepthwise(model: Model, editor: ModelEditor, runner: CalibrationRunner, feeds: AsyncIterable<Feeds> | Iterable<Feeds>, samples = 8): Promise<{ pairs: string[]; replaced: string[] }> {
  const found = pairs(model, editor);
  if (!found.length) return { pairs: [], replaced: [] };
  const probe = new MinMaxCalibrator();
  probe.select(found.map((p) => ({ key: valueKey(p.graph.path, p.value), name: p.value, graph: p.graph })));
  const augmented = probe.augment(model);
  const byKey = new Map([...augmented.fetches].map(([out, key]) => [key, out]));
  const absmax = new Map<Pair, Float64Array>(found.map((p) => [p, new Float64Array(p.w1.dims[0])]));
  const dir = makeTempDir('equalize');
  try {
    const file = path.join(dir, 'probe.onnx');
    writeModel(augmented.model, file);
    const session = await runner.open(file);
    try {
      let n = 0;
      for await (const f of feeds) {
        if (n++ >= samples) break;
        const out = await session.run(f, [...augmented.fetches.keys()]);
        for (const p of found) {
          const t = out[byKey.get(valueKey(p.graph.path, p.value)) ?? ''];
          if (!t || t.type !== 'float32' || t.dims.length < 2) continue;
          const data = t.data as Float32Array, C = t.dims[1], inner = t.dims.slice(2).reduce((a, b) => a * b, 1);
          const m = absmax.get(p)!;
          if (C !== m.length) continue;
          for (let b = 0; b < t.dims[0]; b++) for (let c = 0; c < C; c++) {
            let v = m[c];
            const start = (b * C + c) * inner;
            for (let i = start; i < start + inner; i++) { const x = Math.abs(data[i]); if (x > v) v = x; }
            m[c] = v;
          }
        }
      }
    } finally { await session.release(); }
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }

  const done: string[] = [], replaced: string[] = [];
  for (const p of found) {
    const m = absmax.get(p)!;
    const live = [...m].filter((v) => v > 0 && Number.isFinite(v));
    if (live.length < 2) continue;
    const target = Math.exp(live.reduce((a, v) => a + Math.log(v), 0) / live.length);
    const s = Float64Array.from(m, (v) => (v > 0 && Number.isFinite(v) ? Math.min(100, Math.max(0.01, v / target)) : 1));
    const C = m.length;
    const w1 = p.w1.ref.values(), per1 = w1.length / C;
    const nw1 = Float32Array.from(w1, (v, i) => v / s[Math.floor(i / per1)]);
    const w2 = p.w2.ref.values(), M = p.w2.dims[0], mult = M / C, per2 = w2.length / M;
    const nw2 = Float32Array.from(w2, (v, i) => v * s[Math.floor(Math.floor(i / per2) / mult)]);
    const g = p.graph;
    const add = (base: string, dims: number[], data: Float32Array) => {
      const name = editor.uniqueName(base);
      (g.graph.initializer ??= []).push(tensor(name, DataType.FLOAT, dims, data));
      return name;
    };
    const inputs1 = [...p.first.input!];
    inputs1[1] = add(`${p.w1.sourceName}_equalized`, p.w1.dims, nw1);
    if (p.b1) inputs1[2] = add(`${p.b1.sourceName}_equalized`, [C], Float32Array.from(p.b1.ref.values(), (v, c) => v / s[c]));
    replaced.push(...p.first.input!.slice(1).filter(Boolean), p.depthwise.input![1]);
    p.first.input = inputs1;
    const inputs2 = [...p.depthwise.input!];
    inputs2[1] = add(`${p.w2.sourceName}_equalized`, p.w2.dims, nw2);
    p.depthwise.input = inputs2;
    done.push(`${nodeLabel(p.first)} -> ${nodeLabel(p.depthwise)}`);
    if (p.graph.depth === 0) {
      const factors = Array.from(s, (v) => 1 / v);
      recordRescaled(model.proto, [p.value, ...(p.relu ? [p.relu] : [])].map((t) => ({ tensor: t, fp32Tensor: t, axis: 1, factors })));
    }
  }
  editor.invalidate();
  return { pairs: done, replaced };
}
