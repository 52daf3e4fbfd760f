// How the quantized model's graph differs from its FP32 source, node by node: quantized (an int8 kernel,
// or a float op on dequantized values that onnxruntime fuses into one), left in float (with the reason our
// quantizer recorded), added (QuantizeLinear, DequantizeLinear and the other ops quantization brings), and
// the FP32 nodes that are gone (folded into a Conv, merged into its quantization). Nodes are matched by
// name (QOperator's `_quant` suffix aside), the way our quantizer and onnxruntime's keep them.
import type { Model } from '../onnx/model';
import type { NodeProto } from '../onnx/proto';
import type { GraphDiff } from '../protocol/layers';
import { COMPUTE_OPS, QUANTIZED_LAYERS } from '../quantize/opTypes';
import { ModelEditor } from '../quantize/graph';
import { readSkipped } from '../quantize/records';
import { nodeLabel } from '../quantize/pass';
import { LAYER_OPS, quantizedCompute, view, type GraphView } from './layerMap';

export type { GraphDiff } from '../protocol/layers';

/** Ops that only quantize, dequantize or rescale: what quantization adds around the layers. */
const QUANT_PLUMBING = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear']);

const label = nodeLabel;

/**
 * The node of the quantized model that writes what `n` wrote, or the first value after it that the
 * quantized model writes (a bias Add folded into a Conv whose Relu was merged too: the Conv writes the
 * Relu's output): a few nodes down the FP32 graph at most.
 */
function takenOver(a: GraphView, q: GraphView, n: NodeProto): NodeProto | undefined {
  let frontier = [n];
  for (let hop = 0; hop < 4 && frontier.length; hop++) {
    const next: NodeProto[] = [];
    for (const x of frontier) {
      for (const o of x.output ?? []) {
        const p = q.producers.get(o);
        if (p) return p;
        next.push(...(a.readers.get(o) ?? []));
      }
    }
    frontier = next;
  }
  return undefined;
}

export function graphDiff(fp32: Model, quantized: Model): GraphDiff {
  const a = view(fp32), q = view(quantized);
  const skipped = readSkipped(quantized.proto);
  const aNodes = new Map<string, NodeProto>();
  for (const n of a.info.graph.node ?? []) if (n.op_type !== 'Constant') aNodes.set(label(n), n);
  const matched = new Set<string>();
  const nodes: GraphDiff['nodes'] = [];
  for (const n of q.info.graph.node ?? []) {
    const op = n.op_type ?? '';
    if (op === 'Constant') continue;
    const name = label(n), base = name.replace(/_quant$/, '');
    const twin = aNodes.get(name) ?? aNodes.get(base);
    if (twin) matched.add(label(twin));
    if (QUANT_PLUMBING.has(op)) {
      const what = op === 'DequantizeLinear' && q.constant.has(n.input?.[0] ?? '') ? 'a weight' : `"${n.input?.[0] ?? ''}"`;
      nodes.push({ name, opType: op, status: 'added', detail: `${op === 'QuantizeLinear' ? 'quantizes' : op === 'DequantizeLinear' ? 'dequantizes' : 'quantizes at run time'} ${what}` });
    } else if (quantizedCompute(q, n)) {
      nodes.push({ name, opType: op, status: 'quantized', detail: twin ? `${twin.op_type} ${label(twin)} of the FP32 model${op !== twin.op_type ? `, as ${op}` : ', on dequantized inputs: onnxruntime fuses it into an int8 kernel'}` : `${op}: quantized arithmetic the FP32 model does not have` });
    } else if (twin) {
      nodes.push({ name, opType: op, status: 'float', detail: skipped.get(base) ?? skipped.get(name) ?? 'not quantized' });
    } else {
      nodes.push({ name, opType: op, status: 'added', detail: `${op}: not in the FP32 model` });
    }
  }
  // FP32 nodes with no namesake: say where their output went.
  const removed: GraphDiff['removed'] = [];
  for (const [name, n] of aNodes) {
    if (matched.has(name)) continue;
    const into = takenOver(a, q, n);
    removed.push({
      name, opType: n.op_type ?? '', into: into ? label(into) : null,
      detail: (n.output ?? []).every((o) => !o || a.constant.has(o)) ? 'computed from constants only: folded into the weights'
        : !into ? 'not in the quantized model'
        : LAYER_OPS.has(n.op_type ?? '') ? `replaced by quantized ops: ${into.op_type} ${label(into)} writes its output`
          : `${n.op_type === 'Relu' || n.op_type === 'Clip' ? 'merged into the quantization of' : 'folded into'} ${into.op_type} ${label(into)}`,
    });
  }
  const counts = { quantized: 0, float: 0, added: 0, removed: removed.length, inSubgraphs: quantizedInSubgraphs(quantized) };
  for (const n of nodes) counts[n.status]++;
  return { nodes, removed, counts };
}

/**
 * Quantized nodes of the bodies of If/Loop/Scan: integer kernels (ConvInteger, DynamicQuantizeLSTM, ...) and
 * compute ops reading a DequantizeLinear (QDQ), so that a diff of the main graph does not read as "nothing".
 */
function quantizedInSubgraphs(m: Model): number {
  const editor = new ModelEditor(m);
  let n = 0;
  for (const info of m.graphs()) {
    if (info.depth === 0) continue;
    for (const x of info.graph.node ?? []) {
      const op = x.op_type ?? '';
      if (QUANTIZED_LAYERS.has(op) || (COMPUTE_OPS.includes(op) && editor.producerIn(x.input?.[0] ?? '', info)?.op_type === 'DequantizeLinear')) n++;
    }
  }
  return n;
}
