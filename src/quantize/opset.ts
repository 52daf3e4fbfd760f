// Raising a model's default-domain opset to what the emitted ops need (DynamicQuantizeLinear: 11,
// MatMulInteger/ConvInteger: 10; per-axis QuantizeLinear/DequantizeLinear and uint8 MaxPool: 13). Between
// opsets 7 and 13 most ops kept their meaning; the few that moved attributes to inputs (Clip, Slice, Pad,
// TopK; at 13 Split, Squeeze, Unsqueeze, ReduceSum) are rewritten, BatchNormalization loses its old
// `spatial` attribute, Dropout its `ratio` (a no-op in inference), Softmax/LogSoftmax/Hardmax keep their
// old flatten-at-axis meaning (made explicit where the axis is not the last), and ops whose behaviour
// changed in ways a rewrite cannot keep (Upsample, Resize-10, Scan-8, Dropout with a used mask) make the
// upgrade refuse with a message that says what to do.
import { floatTensor, int64Tensor } from '../onnx/builder';
import type { GraphInfo, Model } from '../onnx/model';
import { int64, int64Exact, type GraphProto, type NodeProto, type TensorProto } from '../onnx/proto';
import { stampIrVersion } from '../onnx/write';
import { QuantizeError } from './errors';
import { attr, floatAttr, intAttr, intsAttrExact, type ModelEditor } from './graph';

/** ONNX IR version that goes with each opset (onnx/helper.py's VERSION_TABLE). */
const IR_FOR_OPSET: Record<number, number> = { 7: 3, 8: 3, 9: 4, 10: 5, 11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

export function defaultOpset(model: Model): number {
  const entry = (model.proto.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? int64(entry.version) : 1;
}

/** Adds a domain to the opset imports when the model does not import it yet. */
export function ensureDomain(model: Model, domain: string, version: number): void {
  const imports = (model.proto.opset_import ??= []);
  if (!imports.some((o) => o.domain === domain)) imports.push({ domain, version });
}

export interface OpsetUpgrade { from: number; to: number; rewritten: string[] }

/**
 * Raises the default opset to `target` when it is lower, rewriting the nodes whose form changed.
 * Returns what it did, or undefined when nothing was needed. Throws QuantizeError('unsupported-model').
 */
export function upgradeOpset(model: Model, editor: ModelEditor, target: number, purpose = 'quantization',
  rankOf?: (name: string, info: GraphInfo) => number | undefined): OpsetUpgrade | undefined {
  const from = defaultOpset(model);
  if (from >= target) return undefined;
  if (from < 7) {
    throw new QuantizeError('unsupported-model', `the model uses opset ${from}; the quantizer needs opset ${target} and upgrades only from opset 7 or later; convert the model first (onnx.version_converter)`);
  }
  const refuse = (n: NodeProto, why: string): never => {
    throw new QuantizeError('unsupported-model', `the model uses opset ${from} and ${purpose} needs opset ${target}, but node "${n.name || n.output?.[0]}" (${n.op_type}) ${why}; convert the model to opset ${target} or later first (onnx.version_converter)`);
  };
  // Every graph, checked first so that a refusal leaves the model untouched.
  const plans: (() => void)[] = [];
  const consumed = editor.useCounts();
  for (const info of model.graphs()) {
    const g = info.graph;
    for (const n of g.node ?? []) {
      if ((n.domain ?? '') !== '' && n.domain !== 'ai.onnx') continue;
      switch (n.op_type) {
        case 'Upsample': refuse(n, 'is Upsample, deprecated in opset 10 (Resize replaced it with other rounding)'); break;
        case 'Resize': if (from === 10) refuse(n, 'is Resize-10, whose inputs and coordinate rules changed in opset 11'); break;
        case 'Scan': if (from < 9) refuse(n, 'is Scan-8, whose batch axis was removed in opset 9'); break;
        case 'Dropout':
          if (from < 10 && n.output?.[1] && consumed.get(n.output[1])) refuse(n, 'uses the Dropout mask output, whose type changed in opset 10');
          if (from < 12 && target >= 12 && attr(n, 'ratio')) plans.push(() => mark(n, ['seed'])); // inference: ratio does nothing
          break;
        case 'BatchNormalization': if (from < 9 && attr(n, 'spatial') && intAttr(n, 'spatial', 1) !== 1) refuse(n, 'is BatchNormalization with spatial=0, removed in opset 9'); break;
        case 'Clip': if (from < 11) plans.push(() => clipToInputs(n, g, editor)); break;
        case 'Slice': if (from < 10) plans.push(() => sliceToInputs(n, g, editor)); break;
        case 'Pad': if (from < 11) plans.push(() => padToInputs(n, g, editor)); break;
        case 'TopK': if (from < 10) plans.push(() => topkToInputs(n, g, editor)); break;
        // Opset 13: attributes that became inputs, and Softmax's new meaning of `axis`.
        case 'Split': if (from < 13 && target >= 13) plans.push(() => intsToInput(n, 'split', 1, g, editor)); break;
        case 'Squeeze': case 'Unsqueeze': case 'ReduceSum': if (from < 13 && target >= 13) plans.push(() => intsToInput(n, 'axes', 1, g, editor)); break;
        case 'Softmax': case 'LogSoftmax': case 'Hardmax': if (from < 13 && target >= 13) {
          const rank = rankOf?.(n.input?.[0] ?? '', info);
          plans.push(() => softmaxTo13(n, g, editor, rank));
        } break;
      }
      if (n.op_type === 'BatchNormalization' && from < 9 && attr(n, 'spatial')) plans.push(() => { n.attribute = n.attribute!.filter((a) => a.name !== 'spatial'); });
    }
  }
  const rewritten: string[] = [];
  for (const p of plans) p();
  for (const info of model.graphs()) for (const n of info.graph.node ?? []) if ((n as { _upgraded?: boolean })._upgraded) {
    rewritten.push(n.name || n.output?.[0] || n.op_type || '');
    delete (n as { _upgraded?: boolean })._upgraded;
  }
  for (const o of model.proto.opset_import ?? []) if (!o.domain || o.domain === 'ai.onnx') o.version = target;
  model.proto.ir_version = stampIrVersion(int64(model.proto.ir_version), IR_FOR_OPSET[target] ?? 6);
  editor.invalidate();
  return { from, to: target, rewritten };
}

/** Adds a constant initializer to `g` and returns its (unique) name. */
function addConst(g: GraphProto, editor: ModelEditor, base: string, make: (name: string) => TensorProto): string {
  const name = editor.uniqueName(base);
  (g.initializer ??= []).push(make(name));
  return name;
}

function mark(n: NodeProto, keep: string[]): void {
  n.attribute = (n.attribute ?? []).filter((a) => keep.includes(a.name ?? ''));
  (n as { _upgraded?: boolean })._upgraded = true;
}

function label(n: NodeProto): string {
  return n.name || n.output?.[0] || n.op_type || 'node';
}

/** Clip-6: min/max attributes (float) -> Clip-11 inputs. */
function clipToInputs(n: NodeProto, g: GraphProto, editor: ModelEditor): void {
  const lo = attr(n, 'min') ? floatAttr(n, 'min', -3.4028234663852886e38) : undefined;
  const hi = attr(n, 'max') ? floatAttr(n, 'max', 3.4028234663852886e38) : undefined;
  const inputs = [n.input![0]];
  inputs.push(lo === undefined ? '' : addConst(g, editor, `${label(n)}_min`, (name) => floatTensor(name, [], [lo])));
  if (hi !== undefined) inputs.push(addConst(g, editor, `${label(n)}_max`, (name) => floatTensor(name, [], [hi])));
  n.input = inputs;
  mark(n, []);
}

/** Slice-1: starts/ends/axes attributes -> Slice-10 inputs (exact: PyTorch writes INT64_MAX/MIN for open ends). */
function sliceToInputs(n: NodeProto, g: GraphProto, editor: ModelEditor): void {
  const starts = intsAttrExact(n, 'starts') ?? [], ends = intsAttrExact(n, 'ends') ?? [], axes = intsAttrExact(n, 'axes');
  const inputs = [n.input![0],
    addConst(g, editor, `${label(n)}_starts`, (name) => int64Tensor(name, [starts.length], starts)),
    addConst(g, editor, `${label(n)}_ends`, (name) => int64Tensor(name, [ends.length], ends))];
  if (axes) inputs.push(addConst(g, editor, `${label(n)}_axes`, (name) => int64Tensor(name, [axes.length], axes)));
  n.input = inputs;
  mark(n, []);
}

/** Pad-2: pads/value attributes -> Pad-11 inputs (mode stays an attribute). */
function padToInputs(n: NodeProto, g: GraphProto, editor: ModelEditor): void {
  const pads = intsAttrExact(n, 'pads') ?? intsAttrExact(n, 'paddings') ?? [];
  const value = floatAttr(n, 'value', 0);
  const inputs = [n.input![0], addConst(g, editor, `${label(n)}_pads`, (name) => int64Tensor(name, [pads.length], pads))];
  if (value !== 0) inputs.push(addConst(g, editor, `${label(n)}_value`, (name) => floatTensor(name, [], [value])));
  n.input = inputs;
  mark(n, ['mode']);
}

/** TopK-1: k attribute -> TopK-10 input. */
function topkToInputs(n: NodeProto, g: GraphProto, editor: ModelEditor): void {
  const k = attr(n, 'k') ? int64Exact(attr(n, 'k')!.i) : 1n;
  n.input = [n.input![0], addConst(g, editor, `${label(n)}_k`, (name) => int64Tensor(name, [1], [k]))];
  mark(n, ['axis']);
}


/** Split-11 `split`, Squeeze/Unsqueeze/ReduceSum-11 `axes`: the attribute becomes input `index` (opset 13). */
function intsToInput(n: NodeProto, name: string, index: number, g: GraphProto, editor: ModelEditor): void {
  const values = intsAttrExact(n, name);
  if (values === undefined) return; // absent: the input stays absent too
  const inputs = [...(n.input ?? [])];
  while (inputs.length < index) inputs.push('');
  inputs[index] = addConst(g, editor, `${label(n)}_${name}`, (t) => int64Tensor(t, [values.length], values));
  n.input = inputs;
  mark(n, (n.attribute ?? []).map((a) => a.name ?? '').filter((a) => a !== name));
}

/**
 * Softmax, LogSoftmax, Hardmax before opset 13 flatten the input to 2-D at `axis` (default 1) and
 * normalize the second dimension; from opset 13 they normalize along `axis` alone (default -1). The two
 * agree when `axis` is the last dimension: then only the attribute is made explicit. Otherwise (or when
 * the rank is unknown) the old meaning is spelled out: Flatten at `axis`, the op along axis 1, and a
 * Reshape back to the input's shape.
 */
function softmaxTo13(n: NodeProto, g: GraphProto, editor: ModelEditor, rank: number | undefined): void {
  const axis = intAttr(n, 'axis', 1);
  const keep = (n.attribute ?? []).filter((a) => a.name !== 'axis');
  if (axis === -1 || (rank !== undefined && (axis === rank - 1 || axis + rank === rank - 1))) {
    n.attribute = [...keep, { name: 'axis', type: 2, i: -1 }];
    (n as { _upgraded?: boolean })._upgraded = true;
    return;
  }
  const x = n.input![0], y = n.output![0], base = label(n);
  const shape = editor.uniqueName(`${base}_input_shape`), flat = editor.uniqueName(`${base}_flattened`), out2d = editor.uniqueName(`${base}_2d`);
  const nodes = g.node!;
  const at = nodes.indexOf(n);
  const shapeNode: NodeProto = { op_type: 'Shape', input: [x], output: [shape], name: editor.uniqueName(`${base}_Shape`), attribute: [] };
  const flatten: NodeProto = { op_type: 'Flatten', input: [x], output: [flat], name: editor.uniqueName(`${base}_Flatten`), attribute: [{ name: 'axis', type: 2, i: axis }] };
  const reshape: NodeProto = { op_type: 'Reshape', input: [out2d, shape], output: [y], name: editor.uniqueName(`${base}_Reshape`), attribute: [] };
  n.input = [flat];
  n.output = [out2d];
  n.attribute = [...keep, { name: 'axis', type: 2, i: 1 }];
  (n as { _upgraded?: boolean })._upgraded = true;
  nodes.splice(at, 1, shapeNode, flatten, n, reshape);
}
