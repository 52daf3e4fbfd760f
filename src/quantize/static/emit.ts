// Static QDQ, step 2: the rewrite, once every quantized tensor has its scale and zero point.
//  - Activations: one QuantizeLinear after the producer (or at the top of the graph for inputs) and one
//    DequantizeLinear; every reader in the defining graph and below reads the DequantizeLinear (so that a
//    compute node's output feeds only the QuantizeLinear, which onnxruntime's fusions require); a subgraph
//    whose quantized nodes read the value gets its own DequantizeLinear, so that the fusion can happen there.
//    A quantized graph output is the DequantizeLinear's output (its producer writes a new name).
//  - Weights: int8 (or uint8/int16/uint16) initializers, per tensor or per output channel, behind a
//    DequantizeLinear in front of each node that reads them.
//  - Biases: int32 with scale = x_scale * w_scale (per channel), behind a DequantizeLinear; Gemm's beta is
//    folded into them.
//  - Constant inputs of elementwise ops: quantized per tensor like activations.
//  - A folded Relu/Clip is removed when the QuantizeLinear's saturation reproduces it exactly.
import { DataType } from '../../onnx/dtype';
import { node as makeNode, tensor } from '../../onnx/builder';
import type { GraphInfo, Model } from '../../onnx/model';
import type { GraphProto, NodeProto, TensorProto } from '../../onnx/proto';
import type { TensorRange } from '../calibrate/calibrator';
import type { ConstRef, ModelEditor } from '../graph';
import { axisLayout, channelParams, quantizeTensor, quantizeValue, quantRange, roundHalfEven, scaleZeroPoint } from '../math';
import { defaultOpset, ensureDomain } from '../opset';
import type { ActivationType, ResolvedOptions, WeightType } from '../options';
import { nodeLabel, removeUnused } from '../pass';
import type { QuantizedWeight, SkippedNode } from '../../protocol/quantize';
import type { PlannedNode, QdqPlan } from './plan';
import { sqnrFromEnergy } from '../../runtime/compare';

/** A tensor's scale and zero point, and its type when it differs from the activation type (--activations16). */
export interface ActivationParams { scale: number; zeroPoint: number; type?: ActivationType }

export interface EmitResult {
  quantized: string[];
  skipped: SkippedNode[];
  weights: QuantizedWeight[];
  emitted: Record<string, number>;
  notes: string[];
  /** Activation tensors that got a QuantizeLinear/DequantizeLinear pair. */
  activations: number;
  /** Relu/Clip nodes merged into the quantization of their input. */
  foldedActivations: string[];
  weightBytesBefore: number;
  weightBytesAfter: number;
  /** Tensor key -> the name its readers read after the rewrite (the DequantizeLinear's output). */
  dequantized: Map<string, string>;
}

type IntType = ActivationType | WeightType;

const DTYPE: Record<string, number> = { int8: DataType.INT8, uint8: DataType.UINT8, int16: DataType.INT16, uint16: DataType.UINT16 };

function typedArray(type: IntType, n: number): Int8Array | Uint8Array | Int16Array | Uint16Array {
  switch (type) {
    case 'int8': return new Int8Array(n);
    case 'uint8': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'uint16': return new Uint16Array(n);
    default: throw new Error(`no ${type} QDQ tensors`);
  }
}

/** Activation parameters from a calibrated range. */
export function activationParams(range: TensorRange, type: ActivationType, symmetric: boolean): ActivationParams {
  return { ...scaleZeroPoint(range.min, range.max, quantRange(type, { symmetric }), symmetric), type };
}

export function emitQdq(model: Model, editor: ModelEditor, plan: QdqPlan, params: Map<string, ActivationParams>, o: ResolvedOptions): EmitResult {
  const actType = o.activationType;
  const actRange = quantRange(actType, { symmetric: o.symmetricActivations });
  const opset = defaultOpset(model);
  // QuantizeLinear/DequantizeLinear take 16-bit types from opset 21; before that onnxruntime's own do.
  const domainFor = (type: IntType) => (type.endsWith('16') && opset < 21 ? 'com.microsoft' : '');
  const skipped: SkippedNode[] = [];
  const notes: string[] = [];
  const emitted: Record<string, number> = {};
  const count = (op: string) => { emitted[op] = (emitted[op] ?? 0) + 1; };
  const paramsOf = (key: string): ActivationParams | undefined => {
    const root = plan.root(key);
    return root ? params.get(root.key) : undefined;
  };

  // 1. Which nodes can be emitted: every activation input needs parameters.
  const nodes: PlannedNode[] = [];
  for (const c of plan.nodes) {
    const missing = c.mark.activations.map((i) => c.node.input![i]).find((x) => !paramsOf(plan.keyOf(x, c.graph)));
    if (missing !== undefined) {
      if (c.mark.kind !== 'passthrough') skipped.push({ name: c.label, opType: c.node.op_type ?? '', graph: c.graph.path, reason: `not reached by the calibration inputs: no sample reached its input "${missing}" (the branch that holds it never ran); give calibration inputs that take it` });
      continue;
    }
    nodes.push(c);
  }

  // Insertions per graph: before a node, after a node, at the top.
  const before = new Map<NodeProto, NodeProto[]>(), after = new Map<NodeProto, NodeProto[]>(), top = new Map<GraphProto, NodeProto[]>();
  const push = <K>(m: Map<K, NodeProto[]>, k: K, n: NodeProto) => { const l = m.get(k) ?? []; l.push(n); m.set(k, l); };
  const newInits = new Map<GraphProto, TensorProto[]>();
  const addInit = (g: GraphInfo, t: TensorProto) => { const l = newInits.get(g.graph) ?? []; l.push(t); newInits.set(g.graph, l); return t.name!; };
  const removed = new Set<NodeProto>();
  const touched = new Set<string>();
  const dq = (inputs: string[], out: string, type: IntType | 'int32', axis: number | null, label: string): NodeProto => {
    count('DequantizeLinear');
    return makeNode('DequantizeLinear', inputs, [out], axis === null ? {} : { axis }, editor.uniqueName(`${label}_DequantizeLinear`), type === 'int32' ? '' : domainFor(type));
  };

  // 2. Weights, biases and constants.
  const weightCache = new Map<string, { names: string[]; scales: Float32Array; axis: number | null; entry: QuantizedWeight }>();
  const wType = o.weightType as IntType;
  let raisedScales = 0;
  const quantizeWeight = (w: ConstRef, axis: number, nodeLabel: string, minScales?: Float64Array) => {
    const perChannel = o.perChannel && w.dims[axis] > 1;
    const key = `${w.owner.path}|${w.name}|${perChannel ? axis : 'tensor'}`;
    const hit = weightCache.get(key);
    if (hit) { hit.entry.nodes.push(nodeLabel); return hit; }
    const data = w.ref.values() as Float32Array;
    const range = quantRange(wType, { symmetric: o.symmetricWeights, reduceRange: o.reduceRange });
    const layout = axisLayout(w.dims, perChannel ? axis : null);
    const p = channelParams(data, layout, range, o.symmetricWeights);
    if (minScales) {
      // A scale so small that the bias (at x_scale * w_scale) would overflow int32 is raised to fit it.
      for (let c = 0; c < p.scales.length; c++) {
        const need = perChannel ? minScales[c] : Math.max(...minScales);
        if (p.scales[c] < need) { p.scales[c] = Math.fround(need * (1 + 2 ** -20)); raisedScales++; }
      }
    }
    const q = typedArray(wType, data.length);
    const energy = quantizeTensor(data, layout, p, q);
    const pdims = perChannel ? [w.dims[axis]] : [];
    const zp = typedArray(wType, p.zeroPoints.length);
    zp.set(p.zeroPoints);
    const names = [
      addInit(w.owner, tensor(editor.uniqueName(`${w.name}_quantized`), DTYPE[wType], w.dims, q)),
      addInit(w.owner, tensor(editor.uniqueName(`${w.name}_scale`), DataType.FLOAT, pdims, p.scales)),
      addInit(w.owner, tensor(editor.uniqueName(`${w.name}_zero_point`), DTYPE[wType], pdims, zp)),
    ];
    const s = sqnrFromEnergy(energy.signal, energy.noise);
    const entry: QuantizedWeight = {
      name: w.sourceName, nodes: [nodeLabel], shape: w.dims,
      scheme: `${wType} ${o.symmetricWeights ? 'symmetric' : 'asymmetric'} ${perChannel ? `per-channel (axis ${axis})` : 'per-tensor'}${o.reduceRange ? ' reduced-range' : ''}`,
      sqnr: Number.isFinite(s) ? Math.round(s * 100) / 100 : null, bytesBefore: w.ref.byteLength, bytesAfter: q.byteLength + p.scales.byteLength + zp.byteLength,
    };
    const r = { names, scales: p.scales, axis: perChannel ? axis : null, entry };
    weightCache.set(key, r);
    touched.add(w.name);
    return r;
  };
  const constCache = new Map<string, string[]>();
  const quantizeConstant = (c: ConstRef): string[] => {
    const key = `${c.owner.path}|${c.name}`;
    const hit = constCache.get(key);
    if (hit) return hit;
    const data = c.ref.values() as Float32Array;
    let lo = 0, hi = 0;
    for (let i = 0; i < data.length; i++) { const v = data[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
    const { scale, zeroPoint } = scaleZeroPoint(lo, hi, actRange, o.symmetricActivations);
    const q = typedArray(actType, data.length);
    for (let i = 0; i < data.length; i++) q[i] = quantizeValue(data[i], scale, zeroPoint, actRange);
    const names = [
      addInit(c.owner, tensor(editor.uniqueName(`${c.name}_quantized`), DTYPE[actType], c.dims, q)),
      addInit(c.owner, tensor(editor.uniqueName(`${c.name}_scale`), DataType.FLOAT, [], Float32Array.of(scale))),
      addInit(c.owner, tensor(editor.uniqueName(`${c.name}_zero_point`), DTYPE[actType], [], typedArrayOf(actType, zeroPoint))),
    ];
    constCache.set(key, names);
    touched.add(c.name);
    return names;
  };

  const quantized: string[] = [];
  let floatBiases = 0, clampedBiases = 0;
  for (const c of nodes) {
    const { node: n, graph: g, mark, label } = c;
    const inputs = [...(n.input ?? [])];
    if (mark.weight) {
      let minScales: Float64Array | undefined;
      if (mark.bias && o.quantizeBias) {
        const xs = paramsOf(plan.keyOf(n.input![mark.activations[0]], g))!.scale;
        const bv = mark.bias.const.ref.values();
        minScales = Float64Array.from(bv, (b) => Math.abs(b * mark.bias!.factor) / (xs * 2147483000));
      }
      const w = quantizeWeight(mark.weight.const, mark.weight.axis, label, minScales);
      const out = editor.uniqueName(`${w.names[0]}_dequantized`);
      push(before, n, dq(w.names, out, wType, w.axis, `${label}_weight`));
      inputs[mark.weight.index] = out;
      if (mark.bias) {
        if (!o.quantizeBias) floatBiases++;
        else {
          const x = paramsOf(plan.keyOf(n.input![mark.activations[0]], g))!;
          const b = mark.bias.const;
          const values = b.ref.values();
          const M = values.length;
          const perChannel = w.axis !== null;
          const scales = new Float32Array(perChannel ? M : 1);
          for (let i = 0; i < scales.length; i++) scales[i] = Math.fround(x.scale * w.scales[perChannel ? i : 0]);
          const q = new Int32Array(M);
          for (let i = 0; i < M; i++) {
            const s = scales[perChannel ? i : 0];
            let v = roundHalfEven(Math.fround(Math.fround(values[i] * mark.bias.factor) / s));
            if (v > 2147483647) { v = 2147483647; clampedBiases++; } else if (v < -2147483648) { v = -2147483648; clampedBiases++; }
            q[i] = v;
          }
          const bq = addInit(g, tensor(editor.uniqueName(`${b.name}_quantized`), DataType.INT32, [M], q));
          const bs = addInit(g, tensor(editor.uniqueName(`${b.name}_scale`), DataType.FLOAT, perChannel ? [M] : [], scales));
          const bout = editor.uniqueName(`${b.name}_dequantized`);
          push(before, n, dq([bq, bs], bout, 'int32', perChannel ? 0 : null, `${label}_bias`));
          inputs[mark.bias.index] = bout;
          touched.add(b.name);
          if (mark.bias.factor !== 1) n.attribute = [...(n.attribute ?? []).filter((a) => a.name !== 'beta'), { name: 'beta', type: 1, f: 1 }];
        }
      }
    }
    for (const k of mark.constants) {
      const names = quantizeConstant(k.const);
      const out = editor.uniqueName(`${names[0]}_dequantized`);
      push(before, n, dq(names, out, actType, null, `${label}_constant${k.index}`));
      inputs[k.index] = out;
    }
    n.input = inputs;
    quantized.push(label);
  }
  if (floatBiases) notes.push(`${floatBiases} node${floatBiases === 1 ? ' keeps its' : 's keep their'} float bias (bias quantization is off): onnxruntime fuses Conv and Gemm into QLinearConv/QGemm only with int32 biases`);
  if (raisedScales) notes.push(`${raisedScales} weight scale${raisedScales === 1 ? ' was' : 's were'} raised so that the bias fits int32 at x_scale * w_scale (channels whose weights are nearly zero)`);
  if (clampedBiases) notes.push(`${clampedBiases} bias value${clampedBiases === 1 ? '' : 's'} did not fit int32 at scale x_scale * w_scale and ${clampedBiases === 1 ? 'was' : 'were'} saturated`);

  // 3. Activations: the tensors the emitted nodes read and write.
  const needed = new Set(nodes.flatMap((c) => [...c.reads, ...c.writes]));
  // Which graphs hold emitted nodes that read each tensor (for subgraph-local DequantizeLinear nodes).
  const readersIn = new Map<string, Set<GraphInfo>>();
  for (const c of nodes) for (const key of c.reads) {
    const s = readersIn.get(key) ?? new Set();
    s.add(c.graph);
    readersIn.set(key, s);
  }
  const graphs = model.graphs();
  const descendants = (g: GraphInfo) => graphs.filter((x) => { for (let p: GraphInfo | undefined = x; p; p = p.parent) if (p === g) return true; return false; });
  const folded: string[] = [];
  let activations = 0;
  const dequantized = new Map<string, string>();
  const renames: { graphs: GraphInfo[]; from: string; to: string; except: NodeProto }[] = [];
  for (const key of needed) {
    const t = plan.tensors.get(key);
    const p = paramsOf(key);
    if (!t || !p) continue;
    const home = t.home;
    // This tensor's own type (16 bits for the nodes of --activations16).
    const aType = p.type ?? actType, aRange = aType === actType ? actRange : quantRange(aType, { symmetric: o.symmetricActivations });
    let producer = t.producer;
    if (t.fold) {
      const { node: r, from } = t.fold;
      const exact = quantizeValue(t.fold.min, p.scale, p.zeroPoint, aRange) === aRange.qmin
        && (t.fold.max === Infinity || quantizeValue(t.fold.max, p.scale, p.zeroPoint, aRange) === aRange.qmax);
      const src = t.producer!;
      if (exact && src.output?.includes(from)) {
        src.output = src.output.map((x) => (x === from ? t.name : x));
        removed.add(r);
        folded.push(nodeLabel(r));
        producer = src;
      } else {
        producer = r;
      }
    }
    const zpName = addInit(home, tensor(editor.uniqueName(`${t.name}_zero_point`), DTYPE[aType], [], typedArrayOf(aType, p.zeroPoint)));
    const scaleName = addInit(home, tensor(editor.uniqueName(`${t.name}_scale`), DataType.FLOAT, [], Float32Array.of(p.scale)));
    const qOut = editor.uniqueName(`${t.name}_QuantizeLinear_Output`);
    // A graph output: the producer writes a new name and the DequantizeLinear writes the output's, so that
    // the producer feeds only the QuantizeLinear (onnxruntime fuses nothing that produces a graph output).
    const isOutput = !!producer && (home.graph.output ?? []).some((v) => v.name === t.name);
    let qIn = t.name;
    if (isOutput) {
      qIn = editor.uniqueName(`${t.name}_QuantizeInput`);
      producer!.output = producer!.output!.map((x) => (x === t.name ? qIn : x));
    }
    const dqOut = isOutput ? t.name : editor.uniqueName(`${t.name}_DequantizeLinear_Output`);
    const qNode = makeNode('QuantizeLinear', [qIn, scaleName, zpName], [qOut], {}, editor.uniqueName(`${t.name}_QuantizeLinear`), domainFor(aType));
    count('QuantizeLinear');
    const dqNode = dq([qOut, scaleName, zpName], dqOut, aType, null, t.name);
    dequantized.set(key, dqOut);
    if (producer) { push(after, producer, qNode); push(after, producer, dqNode); } else { push(top, home.graph, qNode); push(top, home.graph, dqNode); }
    if (!isOutput) renames.push({ graphs: descendants(home), from: t.name, to: dqOut, except: qNode });
    for (const g of [...(readersIn.get(key) ?? [])].filter((x) => x !== home).sort((a, b) => a.depth - b.depth)) {
      const local = editor.uniqueName(`${t.name}_DequantizeLinear_Output`);
      push(top, g.graph, dq([qOut, scaleName, zpName], local, aType, null, `${t.name}_local`));
      renames.push({ graphs: descendants(g), from: dqOut, to: local, except: qNode });
    }
    activations++;
  }

  // 4. Rebuild the node lists, then rename the readers.
  for (const info of graphs) {
    const g = info.graph;
    const list: NodeProto[] = [...(top.get(g) ?? [])];
    for (const n of g.node ?? []) {
      if (removed.has(n)) continue;
      list.push(...(before.get(n) ?? []), n, ...(after.get(n) ?? []));
    }
    g.node = list;
    const inits = newInits.get(g);
    if (inits) (g.initializer ??= []).push(...inits);
  }
  for (const r of renames) {
    for (const info of r.graphs) for (const n of info.graph.node ?? []) {
      if (n === r.except || !n.input?.includes(r.from)) continue;
      n.input = n.input.map((x) => (x === r.from ? r.to : x));
    }
  }
  if (graphs.some((g) => g.graph.node?.some((n) => n.domain === 'com.microsoft'))) ensureDomain(model, 'com.microsoft', 1);
  editor.invalidate();
  removeUnused(model, editor, touched);

  const weights = [...new Set([...weightCache.values()].map((w) => w.entry))];
  if (!nodes.length) notes.push(plan.skipped.length || skipped.length ? 'nothing was quantized: every candidate node was skipped (see skipped)' : `nothing was quantized: the model has no ${o.opTypes.join('/')} node`);
  return {
    quantized, skipped, weights, emitted, notes, activations, foldedActivations: folded, dequantized,
    weightBytesBefore: weights.reduce((a, w) => a + w.bytesBefore, 0),
    weightBytesAfter: weights.reduce((a, w) => a + w.bytesAfter, 0),
  };
}

function typedArrayOf(type: IntType, v: number): Int8Array | Uint8Array | Int16Array | Uint16Array {
  const a = typedArray(type, 1);
  a[0] = v;
  return a;
}
