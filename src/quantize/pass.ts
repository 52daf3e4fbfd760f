// The one pass: ask the registry's class for every node (mark or skip), then compute the parameters of
// every marked weight once and rewrite each marked node into its quantized pattern, in place (so the node
// order stays topological), and finally drop the float weights nobody reads any more.
import { DataType } from '../onnx/dtype';
import type { GraphInfo, Model } from '../onnx/model';
import type { GraphProto, NodeProto, TensorProto } from '../onnx/proto';
import { node as makeNode, tensor } from '../onnx/builder';
import { constantTensor } from '../onnx/model';
import { type ConstRef, ModelEditor } from './graph';
import { FOLDABLE_OPS, PASSTHROUGH_OPS, QUANTIZED_LAYERS } from './opTypes';
import {
  axisLayout, channelParams, quantRange, quantizeBlockwise, quantizeTensor, transpose2d, type ErrorEnergy,
} from './math';
import type { Mark } from './ops/base';
import { defaultOpset, ensureDomain, upgradeOpset } from './opset';
import { foldWeightInputs } from './foldWeights';
import { weightBits, type ResolvedOptions } from './options';
import { quantizersFor } from './registry';
import { QuantizeError } from './errors';
import type { QuantizedWeight, SkippedNode } from '../protocol/quantize';
import { sqnrFromEnergy } from '../runtime/compare';

export interface PassResult {
  quantized: string[];
  skipped: SkippedNode[];
  weights: QuantizedWeight[];
  emitted: Record<string, number>;
  notes: string[];
  opsetUpgrade: { from: number; to: number; rewritten: string[] } | null;
  weightBytesBefore: number;
  weightBytesAfter: number;
}

/** The name a node is reported and matched by: its name, else its first output. */
export function nodeLabel(n: NodeProto): string {
  return n.name || n.output?.[0] || n.op_type || '';
}

/** Glob match with `*` (any run) and `?` (one character); a pattern without either must match exactly. */
export function globMatch(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(name);
}

interface Candidate { node: NodeProto; graph: GraphInfo; mark: Mark }

/** The quantized form of one weight, shared by every node that reads it the same way. */
interface QuantizedSet {
  /** Input names for the new op: weight, scale, zero point (may be ''). */
  names: string[];
  entry: QuantizedWeight;
  /** MatMulNBits attributes. */
  K: number;
  N: number;
  blocks?: number;
}

const FLOAT = DataType.FLOAT;

export interface Marked { candidates: Candidate[]; skipped: SkippedNode[] }

/**
 * Step 1, alone: which nodes the registry's classes would rewrite, and which they skip and why. Changes
 * nothing, so it also answers "would this mode quantize anything?" before any work.
 */
export function markCandidates(model: Model, options: ResolvedOptions, editor: ModelEditor): Marked {
  const skipped: SkippedNode[] = [];
  const quantizers = quantizersFor(options.mode, options.format);
  const candidates: Candidate[] = [];
  const skip = (n: NodeProto, g: GraphInfo, reason: string) =>
    skipped.push({ name: nodeLabel(n), opType: n.op_type ?? '', graph: g.path, reason });
  assertPatternsMatch(model, options);
  for (const info of model.graphs()) {
    const inGraph: Candidate[] = [];
    for (const n of info.graph.node ?? []) {
      const op = n.op_type ?? '';
      if (QUANTIZED_LAYERS.has(op)) { skip(n, info, `already quantized (${op}); left as it is`); continue; }
      if ((n.domain ?? '') !== '' && n.domain !== 'ai.onnx') continue;
      if (!options.opTypes.includes(op)) continue;
      const q = quantizers.get(op);
      if (!q) continue;
      const verdict = q.mark({ node: n, graph: info, editor, options });
      if ('skip' in verdict) skip(n, info, verdict.skip);
      else inGraph.push({ node: n, graph: info, mark: verdict.mark });
    }
    if (options.keepFirstLayer && inGraph.length) skip(inGraph[0].node, info, 'kept in float: the first quantizable node of its graph (keep first layer)');
    if (options.keepLastLayer && inGraph.length > (options.keepFirstLayer ? 1 : 0)) {
      skip(inGraph[inGraph.length - 1].node, info, 'kept in float: the last quantizable node of its graph (keep last layer)');
    }
    const kept = inGraph.slice(options.keepFirstLayer ? 1 : 0, options.keepLastLayer && inGraph.length > (options.keepFirstLayer ? 1 : 0) ? -1 : undefined);
    for (const c of kept) {
      const label = nodeLabel(c.node);
      const ex = options.exclude.find((p) => globMatch(p, label));
      if (ex !== undefined) { skip(c.node, info, `excluded by --exclude "${ex}"`); continue; }
      if (options.include.length && !options.include.some((p) => globMatch(p, label))) { skip(c.node, info, 'not matched by --include'); continue; }
      candidates.push(c);
    }
  }
  return { candidates, skipped };
}

/**
 * A name pattern (--include, --exclude, --activations16) that matches no node of the model is a typo, not
 * a choice: an error that names it and the nodes of the op types the mode quantizes, which are valid.
 */
export function assertPatternsMatch(model: Model, options: ResolvedOptions): void {
  const labels = [...model.nodes()].map(({ node }) => ({ label: nodeLabel(node), op: node.op_type ?? '' }));
  for (const [flag, list] of [['--include', options.include], ['--exclude', options.exclude], ['--activations16', options.activations16]] as const) {
    const unknown = list.filter((p) => !labels.some((l) => globMatch(p, l.label)));
    if (!unknown.length) continue;
    const valid = labels.filter((l) => options.opTypes.includes(l.op) && !PASSTHROUGH_OPS.includes(l.op) && l.op !== 'GRU' && l.op !== 'RNN').map((l) => l.label);
    const shown = valid.slice(0, 12).map((v) => `"${v}"`).join(', ');
    throw new QuantizeError('invalid-options', `${flag} ${unknown.map((u) => `"${u}"`).join(', ')} ${unknown.length === 1 ? 'matches' : 'match'} no node of the model; `
      + (valid.length ? `the nodes it can quantize are ${shown}${valid.length > 12 ? ` and ${valid.length - 12} more` : ''} (globs with * and ? match several)` : 'it has no node of the op types this mode quantizes'));
  }
}

/**
 * Step 0: weights computed from constants at run time (Slice/Concat/Unsqueeze chains) become initializers,
 * so that step 1 sees them as the constants they are. Returns the note for the report, if any.
 */
export function prepareWeights(model: Model, editor: ModelEditor, options: ResolvedOptions): string | undefined {
  const folded = foldWeightInputs(model, editor, options.opTypes, defaultOpset(model));
  if (!folded.length) return undefined;
  removeUnused(model, editor, new Set(folded));
  return `${folded.length} weight${folded.length === 1 ? ' was' : 's were'} computed from constants at run time (Slice, Concat, Unsqueeze, ...) and ${folded.length === 1 ? 'was' : 'were'} folded into ${folded.length === 1 ? 'an initializer' : 'initializers'} first`;
}

/** What the per-pattern rewrites share while one pass runs. */
interface RewriteContext {
  options: ResolvedOptions;
  editor: ModelEditor;
  addInit: AddInit;
  cache: Map<string, QuantizedSet>;
  /** Float tensors replaced (dropped when nothing reads them any more). */
  touched: Set<string>;
  emitted: Record<string, number>;
}

/** Builds a node's replacement: `emit` appends a node named after the original, counted by op type. */
interface Emit {
  (op: string, inputs: string[], outputs: string[], attrs?: Parameters<typeof makeNode>[3], domain?: string, name?: string): NodeProto;
}

/** One quantized pattern: writes the replacement of `n` through `emit`, the product to `product`; returns its weight's set. */
type Rewrite = (cx: RewriteContext, n: NodeProto, mark: Mark, emit: Emit, product: string) => QuantizedSet;

/** DynamicQuantizeLinear on the input, an integer kernel, then the product rescaled by x_scale * w_scale. */
function integerKernel(kernel: 'MatMulInteger' | 'ConvInteger', set: QuantizedSet, cx: RewriteContext, n: NodeProto, mark: Mark, emit: Emit, product: string): void {
  const base = nodeLabel(n), { editor } = cx;
  const [xq, xs, xz] = ['quantized', 'scale', 'zero_point'].map((s) => editor.uniqueName(`${base}_input_${s}`));
  const int32 = editor.uniqueName(`${base}_output_int32`), cast = editor.uniqueName(`${base}_output_float`), scale = editor.uniqueName(`${base}_scale`);
  emit('DynamicQuantizeLinear', [mark.input], [xq, xs, xz]);
  const k = emit(kernel, [xq, set.names[0], xz, set.names[2]], [int32]);
  if (kernel === 'ConvInteger') k.attribute = mark.attributes ?? [];
  emit('Cast', [int32], [cast], { to: FLOAT });
  emit('Mul', [xs, set.names[1]], [scale]);
  emit('Mul', [cast, scale], [product]);
}

const REWRITES: Record<Mark['pattern'], Rewrite> = {
  'matmul-integer': (cx, n, mark, emit, product) => {
    const set = quantizeForMatMulInteger(mark.weight.const, mark, cx.options, cx.editor, cx.addInit, cx.cache);
    integerKernel('MatMulInteger', set, cx, n, mark, emit, product);
    return set;
  },
  'conv-integer': (cx, n, mark, emit, product) => {
    const set = quantizeForConvInteger(mark.weight.const, cx.options, cx.editor, cx.addInit, cx.cache);
    integerKernel('ConvInteger', set, cx, n, mark, emit, product);
    return set;
  },
  'dynamic-lstm': (cx, n, mark, emit) => {
    const set = quantizeForLstm(mark.weight.const, cx.options, cx.editor, cx.addInit, cx.cache);
    const r = mark.recurrent!.const;
    const rset = quantizeForLstm(r, cx.options, cx.editor, cx.addInit, cx.cache);
    const inputs = n.input ?? [];
    const optional = [3, 4, 5, 6, 7].map((i) => inputs[i] ?? '');
    const q = emit('DynamicQuantizeLSTM', [mark.input, set.names[0], rset.names[0], ...optional, set.names[1], set.names[2], rset.names[1], rset.names[2]], [...(n.output ?? [])], {}, 'com.microsoft', `${nodeLabel(n)}_quant`);
    q.attribute = mark.attributes ?? [];
    rset.entry.nodes.push(nodeLabel(n));
    cx.touched.add(r.name);
    return set;
  },
  'matmul-nbits': (cx, _n, mark, emit, product) => {
    const o = cx.options;
    const set = quantizeForNBits(mark.weight.const, mark, o, cx.editor, cx.addInit, cx.cache);
    const attrs: Record<string, number> = { K: set.K, N: set.N, bits: weightBits(o.weightType), block_size: o.blockSize };
    if (o.accuracyLevel > 0) attrs.accuracy_level = o.accuracyLevel;
    emit('MatMulNBits', [mark.input, ...set.names.filter(Boolean)], [product], attrs, 'com.microsoft');
    return set;
  },
};

export function runPass(model: Model, options: ResolvedOptions): PassResult {
  const editor = new ModelEditor(model);
  const foldNote = prepareWeights(model, editor, options);
  // 1. Mark.
  const { candidates, skipped } = markCandidates(model, options, editor);
  const notes: string[] = foldNote ? [foldNote] : [];

  // 2. What the emitted ops need from the model.
  let opsetUpgrade: PassResult['opsetUpgrade'] = null;
  if (candidates.length && options.mode === 'dynamic') opsetUpgrade = upgradeOpset(model, editor, 11) ?? null;
  if (candidates.some((c) => c.mark.pattern === 'matmul-nbits' || c.mark.pattern === 'dynamic-lstm')) ensureDomain(model, 'com.microsoft', 1);

  // 3. Parameters and rewrite.
  const newInits = new Map<GraphProto, TensorProto[]>();
  const cx: RewriteContext = {
    options, editor, cache: new Map(), touched: new Set(), emitted: {},
    addInit: (owner, t) => {
      const list = newInits.get(owner.graph) ?? [];
      list.push(t);
      newInits.set(owner.graph, list);
      return t.name!;
    },
  };
  const replacements = new Map<NodeProto, NodeProto[]>();
  const quantized: string[] = [];
  for (const { node: n, mark } of candidates) {
    const base = nodeLabel(n);
    const out: NodeProto[] = [];
    const emit: Emit = (op, inputs, outputs, attrs = {}, domain = '', name = `${base}_${op}`) => {
      const m = makeNode(op, inputs, outputs, attrs, editor.uniqueName(name), domain);
      out.push(m);
      cx.emitted[op] = (cx.emitted[op] ?? 0) + 1;
      return m;
    };
    const finalOut = n.output![0];
    const product = mark.bias ? editor.uniqueName(`${base}_product`) : finalOut;
    const w = mark.weight.const;
    const set = REWRITES[mark.pattern](cx, n, mark, emit, product);
    if (mark.bias) emit('Add', [product, biasInput(mark, editor, cx.addInit, cx.touched, options.mode === 'dynamic' && mark.pattern === 'conv-integer', w)], [finalOut]);
    set.entry.nodes.push(base);
    cx.touched.add(w.name);
    replacements.set(n, out);
    quantized.push(base);
  }
  notes.push(...convNotes(model, options, candidates.some((c) => c.mark.pattern === 'conv-integer')));

  for (const info of model.graphs()) {
    const g = info.graph;
    if (g.node?.some((n) => replacements.has(n))) g.node = g.node.flatMap((n) => replacements.get(n) ?? [n]);
    const inits = newInits.get(g);
    if (inits) for (const t of inits) (g.initializer ??= []).push(t); // one by one: there may be more than a call takes
  }
  editor.invalidate();
  removeUnused(model, editor, cx.touched);

  const weights = [...new Set([...cx.cache.values()].map((s) => s.entry))];
  if (!candidates.length) notes.push(skipped.length ? 'nothing was quantized: every candidate node was skipped (see skipped)' : `nothing was quantized: the model has no ${options.opTypes.join('/')} node`);
  return {
    quantized, skipped, weights, emitted: cx.emitted, notes, opsetUpgrade,
    weightBytesBefore: weights.reduce((a, w) => a + w.bytesBefore, 0),
    weightBytesAfter: weights.reduce((a, w) => a + w.bytesAfter, 0),
  };
}

/** What the report says about Conv in dynamic mode: uint8 weights, float by default, a single zero point. */
function convNotes(model: Model, options: ResolvedOptions, convQuantized: boolean): string[] {
  const notes: string[] = [];
  if (convQuantized && options.weightType === 'int8') notes.push('Conv weights are stored as uint8 (ConvInteger uint8 x uint8, the form every onnxruntime CPU build runs); int8 applies to MatMul and Gemm');
  if (options.mode === 'dynamic' && options.defaultOpTypes) {
    const convs = [...model.nodes()].filter(({ node: n }) => n.op_type === 'Conv' && !n.domain).length;
    if (convs) notes.push(`${convs} Conv node${convs === 1 ? ' was' : 's were'} left in float: dynamic ConvInteger is not faster than fp32 Conv on onnxruntime CPU and costs accuracy; add Conv to --op-types to quantize them for size`);
  }
  if (convQuantized && options.kernelPerChannel && !options.symmetricWeights) notes.push('per-channel Conv weights are symmetric uint8 (zero point 128): ConvInteger takes a single weight zero point');
  return notes;
}

type AddInit = (owner: GraphInfo, t: TensorProto) => string;

/** The weight as a row-major [K, N] float32 matrix (transposing a Gemm transB weight). */
function matrix(w: ConstRef, transpose: boolean): { data: Float32Array; K: number; N: number } {
  const values = w.ref.values() as Float32Array;
  const [r, c] = w.dims;
  return transpose ? { data: transpose2d(values, r, c), K: c, N: r } : { data: values, K: r, N: c };
}

function entry(w: ConstRef, shape: number[], scheme: string, energy: ErrorEnergy, bytesAfter: number): QuantizedWeight {
  const s = sqnrFromEnergy(energy.signal, energy.noise);
  return { name: w.sourceName, nodes: [], shape, scheme, sqnr: Number.isFinite(s) ? Math.round(s * 100) / 100 : null, bytesBefore: w.ref.byteLength, bytesAfter };
}

function scaled(scales: Float32Array, factor: number): Float32Array {
  return factor === 1 ? scales : scales.map((s) => Math.fround(s * factor));
}

function quantizeForMatMulInteger(w: ConstRef, mark: Mark, o: ResolvedOptions, editor: ModelEditor, addInit: AddInit, cache: Map<string, QuantizedSet>): QuantizedSet {
  const { transpose, factor } = mark.weight;
  const key = `mmi|${w.owner.path}|${w.name}|${transpose}|${factor}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const { data, K, N } = matrix(w, transpose);
  const type = o.weightType as 'int8' | 'uint8';
  const range = quantRange(type, { symmetric: o.symmetricWeights, reduceRange: o.reduceRange });
  const layout = axisLayout([K, N], o.perChannel ? 1 : null);
  const params = channelParams(data, layout, range, o.symmetricWeights);
  const q = type === 'int8' ? new Int8Array(K * N) : new Uint8Array(K * N);
  const energy = quantizeTensor(data, layout, params, q);
  const dt = type === 'int8' ? DataType.INT8 : DataType.UINT8;
  const stem = `${w.name}${transpose ? '_transposed' : ''}`;
  const pdims = o.perChannel ? [N] : [];
  const zp = type === 'int8' ? Int8Array.from(params.zeroPoints) : Uint8Array.from(params.zeroPoints);
  const names = [
    addInit(w.owner, tensor(editor.uniqueName(`${stem}_quantized`), dt, [K, N], q)),
    addInit(w.owner, tensor(editor.uniqueName(`${stem}_scale`), FLOAT, pdims, scaled(params.scales, factor))),
    addInit(w.owner, tensor(editor.uniqueName(`${stem}_zero_point`), dt, pdims, zp)),
  ];
  const scheme = `${type} ${o.symmetricWeights ? 'symmetric' : 'asymmetric'} ${o.perChannel ? 'per-channel' : 'per-tensor'}${o.reduceRange ? ' reduced-range' : ''}`;
  const set = { names, K, N, entry: entry(w, [K, N], scheme, energy, q.byteLength + (params.scales.byteLength + zp.byteLength)) };
  cache.set(key, set);
  return set;
}

/**
 * An LSTM's W [D, 4H, I] or R [D, 4H, H] as DynamicQuantizeLSTM reads it: int8 symmetric, one scale per
 * gate row of each direction ([D, 4H], per-channel) or per direction ([D]), stored transposed to
 * [D, I, 4H] (onnxruntime's layout for the kernel's GEMMs).
 */
function quantizeForLstm(w: ConstRef, o: ResolvedOptions, editor: ModelEditor, addInit: AddInit, cache: Map<string, QuantizedSet>): QuantizedSet {
  const key = `lstm|${w.owner.path}|${w.name}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const [D, G, I] = w.dims;
  const data = w.ref.values() as Float32Array;
  const perChannel = o.kernelPerChannel;
  const range = quantRange('int8', { symmetric: true });
  const layout = perChannel ? axisLayout([D * G, I], 0) : axisLayout([D, G * I], 0);
  const params = channelParams(data, layout, range, true);
  const q = new Int8Array(data.length);
  const energy = quantizeTensor(data, layout, params, q);
  const t = new Int8Array(data.length);
  for (let d = 0; d < D; d++) {
    const base = d * G * I;
    for (let g = 0; g < G; g++) for (let i = 0; i < I; i++) t[base + i * G + g] = q[base + g * I + i];
  }
  const pdims = perChannel ? [D, G] : [D];
  const names = [
    addInit(w.owner, tensor(editor.uniqueName(`${w.name}_quantized`), DataType.INT8, [D, I, G], t)),
    addInit(w.owner, tensor(editor.uniqueName(`${w.name}_scale`), FLOAT, pdims, params.scales)),
    addInit(w.owner, tensor(editor.uniqueName(`${w.name}_zero_point`), DataType.INT8, pdims, new Int8Array(params.scales.length))),
  ];
  const scheme = `int8 symmetric ${perChannel ? 'per-channel' : 'per-tensor'}`;
  const set = { names, K: I, N: G, entry: entry(w, w.dims, scheme, energy, t.byteLength + params.scales.byteLength * 1.25) };
  cache.set(key, set);
  return set;
}

function quantizeForConvInteger(w: ConstRef, o: ResolvedOptions, editor: ModelEditor, addInit: AddInit, cache: Map<string, QuantizedSet>): QuantizedSet {
  const key = `conv|${w.owner.path}|${w.name}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const data = w.ref.values() as Float32Array;
  const perChannel = o.kernelPerChannel;
  const symmetric = perChannel ? true : o.symmetricWeights;
  const range = quantRange('uint8', { symmetric, reduceRange: o.reduceRange });
  const layout = axisLayout(w.dims, perChannel ? 0 : null);
  const params = channelParams(data, layout, range, symmetric);
  const q = new Uint8Array(data.length);
  const energy = quantizeTensor(data, layout, params, q);
  const M = w.dims[0];
  const scaleDims = perChannel ? [M, ...w.dims.slice(2).map(() => 1)] : [];
  const names = [
    addInit(w.owner, tensor(editor.uniqueName(`${w.name}_quantized`), DataType.UINT8, w.dims, q)),
    addInit(w.owner, tensor(editor.uniqueName(`${w.name}_scale`), FLOAT, scaleDims, params.scales)),
    // One zero point: per-channel weights are symmetric, so every channel's is the same.
    addInit(w.owner, tensor(editor.uniqueName(`${w.name}_zero_point`), DataType.UINT8, [], Uint8Array.of(params.zeroPoints[0]))),
  ];
  const scheme = `uint8 ${symmetric ? 'symmetric' : 'asymmetric'} ${perChannel ? 'per-channel' : 'per-tensor'}${o.reduceRange ? ' reduced-range' : ''}`;
  const set = { names, K: 0, N: M, entry: entry(w, w.dims, scheme, energy, q.byteLength + params.scales.byteLength + 1) };
  cache.set(key, set);
  return set;
}

function quantizeForNBits(w: ConstRef, mark: Mark, o: ResolvedOptions, editor: ModelEditor, addInit: AddInit, cache: Map<string, QuantizedSet>): QuantizedSet {
  const { transpose, factor } = mark.weight;
  const key = `nbits|${w.owner.path}|${w.name}|${transpose}|${factor}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const { data, K, N } = matrix(w, transpose);
  const bits = weightBits(o.weightType) as 4 | 8;
  const bq = quantizeBlockwise(data, K, N, o.blockSize, bits, o.symmetricWeights);
  const stem = `${w.name}${transpose ? '_transposed' : ''}`;
  const scales = scaled(bq.scales, factor);
  const names = [
    addInit(w.owner, tensor(editor.uniqueName(`${stem}_Q${bits}`), DataType.UINT8, [N, bq.blocks, bq.blobSize], bq.packed)),
    addInit(w.owner, tensor(editor.uniqueName(`${stem}_scales`), FLOAT, [N * bq.blocks], scales)),
    bq.zeroPoints ? addInit(w.owner, tensor(editor.uniqueName(`${stem}_zero_points`), DataType.UINT8, [bq.zeroPoints.length], bq.zeroPoints)) : '',
  ];
  const scheme = `${o.weightType} ${o.symmetricWeights ? 'symmetric' : 'asymmetric'} block ${o.blockSize}`;
  const bytes = bq.packed.byteLength + scales.byteLength + (bq.zeroPoints?.byteLength ?? 0);
  const set = { names, K, N, blocks: bq.blocks, entry: entry(w, [K, N], scheme, bq.energy, bytes) };
  cache.set(key, set);
  return set;
}

/** The bias input of the Add after the product: the constant as it is, or a scaled / reshaped copy. */
function biasInput(mark: Mark, editor: ModelEditor, addInit: AddInit, touched: Set<string>, conv: boolean, w: ConstRef): string {
  const b = mark.bias!;
  if (!b.const) return b.name;
  const c = b.const;
  if (conv) {
    // [M] -> [M, 1, ...]: broadcasts over the spatial dims of ConvInteger's [N, M, ...] output.
    const dims = [c.dims[0], ...w.dims.slice(2).map(() => 1)];
    const bytes = new Uint8Array(c.ref.readBytes()); // a copy: the source may be float_data or external
    touched.add(c.name);
    return addInit(c.owner, { name: editor.uniqueName(`${c.name}_reshaped`), data_type: c.ref.dtype, dims, raw_data: bytes });
  }
  if (b.factor === 1) return b.name;
  const values = (c.ref.values() as Float32Array).map((v) => Math.fround(v * b.factor));
  touched.add(c.name);
  return addInit(c.owner, tensor(editor.uniqueName(`${c.name}_scaled`), FLOAT, c.dims, values));
}

/**
 * Removes what the rewrite left unread: the float weights (initializers, Constant nodes, and the
 * Identity/Reshape nodes in front of them), and their graph-input entries (IR < 4 models list initializers
 * as inputs). Only names in `start` and what they lead to are considered.
 */
export function removeUnused(model: Model, editor: ModelEditor, start: Set<string>): void {
  const uses = editor.useCounts();
  const pending = [...start];
  const removedNodes = new Set<NodeProto>();
  const removedInits = new Set<TensorProto>();
  const graphs = model.graphs();
  while (pending.length) {
    const name = pending.pop()!;
    if (!name || (uses.get(name) ?? 0) > 0) continue;
    // Names are counted across graphs: an unused name is dead in every graph that defines it (two If
    // branches may each define their own "W").
    for (const { graph } of graphs) {
      const init = (graph.initializer ?? []).find((t) => t.name === name && !removedInits.has(t));
      if (init) {
        removedInits.add(init);
        graph.initializer = graph.initializer!.filter((t) => t !== init);
        if (graph.input?.some((v) => v.name === name)) graph.input = graph.input.filter((v) => v.name !== name);
        continue;
      }
      const producer = (graph.node ?? []).find((n) => n.output?.includes(name) && !removedNodes.has(n));
      if (producer) {
        const removable = constantTensor(producer) || ((producer.domain ?? '') === '' && FOLDABLE_OPS.has(producer.op_type ?? ''));
        if (removable && (producer.output ?? []).every((o) => (uses.get(o) ?? 0) === 0)) {
          removedNodes.add(producer);
          graph.node = graph.node!.filter((n) => n !== producer);
          for (const i of producer.input ?? []) { uses.set(i, (uses.get(i) ?? 1) - 1); pending.push(i); }
        }
      }
    }
  }
  editor.invalidate();
}
