// Before static quantization: SmoothQuant (Xiao et al., "SmoothQuant: Accurate and Efficient Post-Training
// Quantization for Large Language Models"). An activation X read only by linear layers with constant
// weights (MatMul with a 2-D weight, Gemm) is divided per input channel j (its last axis) by
//   s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)
// and the weights' input rows multiplied by s_j: X W = (X / s)(s W) in float, while the int8 per-tensor
// activation scale no longer has to cover a few outlier channels (the weights are quantized per output
// channel, and take the difficulty moved onto their input rows). The 1/s goes where it costs nothing when
// the graph allows (X is produced by LayerNormalization, by Mul/Add with constant per-channel factors (a
// LayerNormalization spelled out), or by a MatMul with constant weights (and its bias Add)); otherwise a
// Mul by 1/s is inserted in front of the readers. max|X_j| comes from the calibration samples (a
// per-channel abs-max pass); max|W_j| over every reader's weights. Main graph only.
// Not done for 1x1 Conv inputs: tried on the PP-OCRv4 recognizer and detector (channel axis 1, 1/s folded
// into the Conv before or a Mul after hardswish), it lowered their output cosine (0.982 -> 0.972 and
// 0.896 -> 0.888 at alpha 0.5): their per-output-channel int8 weights lose more than the activations gain.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataType } from '../../onnx/dtype';
import { node as makeNode, tensor } from '../../onnx/builder';
import type { GraphInfo, Model } from '../../onnx/model';
import type { NodeProto } from '../../onnx/proto';
import { writeModel } from '../../onnx/write';
import { ChannelAbsMaxCalibrator, valueKey, type CalibrationRunner, type Feeds } from '../calibrate/calibrator';
import { intAttr, type ConstRef, type ModelEditor } from '../graph';
import type { ResolvedOptions } from '../options';
import { globMatch, nodeLabel } from '../pass';
import type { SmoothedActivation } from '../../protocol/quantize';
import { makeTempDir } from '../tempDir';
import { recordRescaled } from '../records';

interface Reader { node: NodeProto; w: ConstRef; index: number; kind: 'matmul' | 'gemm-n' | 'gemm-t' }
interface Group { value: string; readers: Reader[]; K: number }

const isOp = (n: NodeProto | undefined, op: string) => !!n && n.op_type === op && (n.domain ?? '') === '';

function findGroups(model: Model, editor: ModelEditor, o: ResolvedOptions): Group[] {
  const info = model.graphs().find((g) => g.depth === 0)!;
  const uses = editor.useCounts();
  const floatConst = (name: string | undefined) => {
    if (!name) return undefined;
    const c = editor.constant(name, info);
    return 'reason' in c || c.ref.dtype !== DataType.FLOAT ? undefined : c;
  };
  const excluded = (n: NodeProto) => {
    const label = nodeLabel(n);
    return o.exclude.some((p) => globMatch(p, label)) || (o.include.length > 0 && !o.include.some((p) => globMatch(p, label)));
  };
  const reader = (n: NodeProto, x: string): Reader | undefined => {
    if ((n.domain ?? '') !== '' || !o.opTypes.includes(n.op_type ?? '') || excluded(n) || n.input?.[0] !== x) return undefined;
    if ((n.input ?? []).slice(1).includes(x)) return undefined;
    const w = floatConst(n.input?.[1]);
    if (!w) return undefined;
    if (n.op_type === 'MatMul' && w.dims.length === 2) return { node: n, w, index: 1, kind: 'matmul' };
    if (n.op_type === 'Gemm' && w.dims.length === 2 && intAttr(n, 'transA', 0) === 0) return { node: n, w, index: 1, kind: intAttr(n, 'transB', 0) ? 'gemm-t' : 'gemm-n' };
    return undefined;
  };
  const groups: Group[] = [];
  for (const [x, readers] of editor.readMap(info)) {
    if (editor.isGraphOutput(x, info) || readers.length !== (uses.get(x) ?? 0)) continue; // read by a subgraph or an output too
    const rs = readers.map((n) => reader(n, x));
    if (rs.some((r) => !r)) continue;
    const list = rs as Reader[];
    const K = list.map((r) => (r.kind === 'gemm-t' ? r.w.dims[1] : r.w.dims[0]));
    if (K.some((k) => k !== K[0]) || K[0] < 2) continue;
    groups.push({ value: x, readers: list, K: K[0] });
  }
  return groups;
}

/** Smooths every group on the calibration samples; returns what was done and the replaced tensor names. */
export async function smoothQuant(model: Model, editor: ModelEditor, o: ResolvedOptions, runner: CalibrationRunner,
  feeds: AsyncIterable<Feeds> | Iterable<Feeds>, workDir?: string): Promise<{ smoothed: SmoothedActivation[]; replaced: string[]; samples: number }> {
  const alpha = o.smoothQuantAlpha ?? 0.5;
  const groups = findGroups(model, editor, o);
  if (!groups.length) return { smoothed: [], replaced: [], samples: 0 };
  const info = model.graphs().find((g) => g.depth === 0)!;
  const key = (x: string) => valueKey(info.path, x);
  const probe = new ChannelAbsMaxCalibrator(new Map(groups.map((gr) => [key(gr.value), -1])));
  probe.select(groups.map((gr) => ({ key: key(gr.value), name: gr.value, graph: info })));
  const augmented = probe.augment(model);
  const dir = makeTempDir('smoothquant', workDir);
  let samples = 0;
  try {
    const file = path.join(dir, 'probe.onnx');
    writeModel(augmented.model, file);
    samples = await probe.collect(runner, file, augmented.fetches, feeds, { maxSamples: o.calibration.maxSamples });
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }

  const g = info.graph;
  const replaced: string[] = [];
  const smoothed: SmoothedActivation[] = [];
  const addInit = (base: string, dims: number[], data: Float32Array) => {
    const name = editor.uniqueName(base);
    (g.initializer ??= []).push(tensor(name, DataType.FLOAT, dims, data));
    return name;
  };
  /** Replaces input `index` of `n` (a constant) by `data` (same dims unless given). */
  const replaceConst = (n: NodeProto, index: number, c: ConstRef, data: Float32Array, dims = c.dims) => {
    const inputs = [...n.input!];
    replaced.push(inputs[index]);
    inputs[index] = addInit(`${c.sourceName}_smoothed`, dims, data);
    n.input = inputs;
    editor.invalidate(info);
  };
  const current = (n: NodeProto, index: number) => {
    const c = editor.constant(n.input![index], info);
    return 'reason' in c || c.ref.dtype !== DataType.FLOAT ? undefined : c;
  };

  for (const gr of groups) {
    const xmax = probe.channels(key(gr.value));
    if (!xmax || xmax.length !== gr.K) continue;
    // max |W_j| over every reader, with the weights as they are now (a reader may have been a producer before).
    const readers = gr.readers.map((r) => ({ ...r, w: current(r.node, r.index) }));
    if (readers.some((r) => !r.w)) continue;
    const wmax = new Float64Array(gr.K);
    for (const r of readers) {
      const v = r.w!.ref.values(), d = r.w!.dims;
      for (let i = 0; i < v.length; i++) {
        const j = inputChannel(r.kind, d, i);
        const a = Math.abs(v[i]);
        if (a > wmax[j]) wmax[j] = a;
      }
    }
    const s = new Float64Array(gr.K);
    for (let j = 0; j < gr.K; j++) {
      const a = xmax[j], w = wmax[j];
      s[j] = a > 0 && w > 0 && Number.isFinite(a) ? Math.min(1e4, Math.max(1e-4, a ** alpha / w ** (1 - alpha))) : 1;
    }
    // Where 1/s goes.
    const producer = editor.producerIn(gr.value, info);
    const foldedInto = foldInverse(producer, gr, s, { info, editor, current, replaceConst });
    // The values that now hold X / s (recorded for the per-layer comparison): X itself, and the value the
    // folded Add read; or the Mul's output.
    const inverse = Array.from(s, (v) => 1 / v);
    const scaled = foldedInto ? [gr.value, ...(foldedInto.endsWith('+ Add') || foldedInto.startsWith('Mul + Add') ? (producer!.input ?? []).filter((x) => x && !current(producer!, producer!.input!.indexOf(x))) : [])] : [];
    if (!foldedInto) {
      const inv = addInit(`${gr.value}_smooth_inverse`, [gr.K], Float32Array.from(s, (v) => 1 / v));
      const out = editor.uniqueName(`${gr.value}_smoothed`);
      scaled.push(out);
      const mul = makeNode('Mul', [gr.value, inv], [out], {}, editor.uniqueName(`${gr.value}_SmoothQuant_Mul`));
      const first = Math.min(...readers.map((r) => g.node!.indexOf(r.node)));
      g.node!.splice(first, 0, mul);
      for (const r of readers) r.node.input = r.node.input!.map((x) => (x === gr.value ? out : x));
      editor.invalidate(info);
    }
    if (info.depth === 0) recordRescaled(model.proto, scaled.map((t) => ({ tensor: t, fp32Tensor: foldedInto ? t : gr.value, axis: -1, factors: inverse })));
    for (const r of readers) {
      const w = current(r.node, r.index)!;
      const v = w.ref.values();
      replaceConst(r.node, r.index, w, Float32Array.from(v, (x, i) => x * s[inputChannel(r.kind, w.dims, i)]));
    }
    let lo = Infinity, hi = 0;
    for (const v of s) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    smoothed.push({ activation: gr.value, consumers: readers.map((r) => nodeLabel(r.node)), foldedInto: foldedInto || 'Mul', channels: gr.K, spread: Math.round((hi / lo) * 100) / 100 });
  }
  editor.invalidate();
  return { smoothed, replaced, samples };
}

/** The input channel (row of X W) of element `i` of a reader's weight. */
function inputChannel(kind: Reader['kind'], dims: number[], i: number): number {
  switch (kind) {
    case 'matmul': case 'gemm-n': return Math.floor(i / dims[1]);
    case 'gemm-t': return i % dims[1];
  }
}

interface FoldContext {
  info: GraphInfo;
  editor: ModelEditor;
  current: (n: NodeProto, index: number) => ConstRef | undefined;
  replaceConst: (n: NodeProto, index: number, c: ConstRef, data: Float32Array, dims?: number[]) => void;
}

/**
 * Folds 1/s into the producer of the group's activation where that is exact; returns the op type folded
 * into, or undefined (then a Mul is inserted). Every node changed here writes only values that reach the
 * activation (use counts of 1 along the way).
 */
function foldInverse(p: NodeProto | undefined, gr: Group, s: Float64Array, cx: FoldContext): string | undefined {
  if (!p || (p.domain ?? '') !== '' || (p.output ?? []).filter(Boolean).length !== 1) return undefined;
  const uses = cx.editor.useCounts();
  const only = (x: string | undefined) => !!x && (uses.get(x) ?? 0) === 1 && !cx.editor.isGraphOutput(x, cx.info);
  const producerOf = (x: string) => cx.editor.producerIn(x, cx.info);
  const K = gr.K;
  /** A constant input that broadcasts along the last axis only (or a scalar, at most 1-D): its per-channel form, scaled by 1/s. */
  const perChannel = (n: NodeProto, index: number): { c: ConstRef; data: Float32Array; dims: number[] } | undefined => {
    const c = cx.current(n, index);
    if (!c) return undefined;
    const v = c.ref.values();
    if (c.ref.elements === 1) return c.dims.length > 1 ? undefined : { c, data: Float32Array.from(s, (x) => v[0] / x), dims: [K] };
    if (c.ref.elements !== K || c.dims[c.dims.length - 1] !== K) return undefined;
    return { c, data: Float32Array.from(v, (x, j) => x / s[j]), dims: c.dims };
  };
  const apply = (n: NodeProto, index: number, r: { c: ConstRef; data: Float32Array; dims: number[] }) => cx.replaceConst(n, index, r.c, r.data, r.dims);
  /** Scales the output columns of a MatMul's constant 2-D weight by 1/s. */
  const matmul = (n: NodeProto): (() => void) | undefined => {
    if (!isOp(n, 'MatMul')) return undefined;
    const w = cx.current(n, 1);
    if (!w || w.dims.length !== 2 || w.dims[1] !== K) return undefined;
    return () => cx.replaceConst(n, 1, w, Float32Array.from(w.ref.values(), (x, i) => x / s[i % K]));
  };

  if (isOp(p, 'LayerNormalization')) {
    const axis = intAttr(p, 'axis', -1);
    const scale = perChannel(p, 1), bias = p.input?.[2] ? perChannel(p, 2) : undefined;
    if (axis !== -1 || !scale || scale.c.ref.elements !== K || (p.input?.[2] && !bias)) return undefined;
    apply(p, 1, scale);
    if (bias) apply(p, 2, bias);
    return 'LayerNormalization';
  }
  const direct = matmul(p);
  if (direct) { direct(); return 'MatMul'; }
  if ((isOp(p, 'Add') || isOp(p, 'Mul')) && (p.input ?? []).length === 2) {
    // y = f(z) + c or f(z) * c with c constant per channel: c takes 1/s, and for Add f(z) must take it too.
    const side = [1, 0].find((i) => cx.current(p, i) !== undefined);
    if (side === undefined || cx.current(p, 1 - side) !== undefined) return undefined;
    const c = perChannel(p, side);
    if (!c) return undefined;
    if (isOp(p, 'Mul')) { apply(p, side, c); return 'Mul (constant factor)'; }
    const z = p.input![1 - side];
    if (!only(z)) return undefined;
    const q = producerOf(z);
    if (!q || (q.domain ?? '') !== '') return undefined;
    const mm = matmul(q);
    if (mm) { mm(); apply(p, side, c); return 'MatMul + Add'; }
    if (isOp(q, 'Mul') && (q.input ?? []).length === 2) {
      const qs = [1, 0].find((i) => cx.current(q, i) !== undefined);
      if (qs === undefined || cx.current(q, 1 - qs) !== undefined) return undefined;
      const f = perChannel(q, qs);
      if (!f) return undefined;
      apply(q, qs, f);
      apply(p, side, c);
      return 'Mul + Add (affine)';
    }
  }
  return undefined;
}
