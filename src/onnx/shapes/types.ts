// What shape inference knows about a value, and what an op's rule sees of its node.
import type { NodeProto } from '../proto';
import type { Dim } from './dims';

export interface ValueShape {
  /** TensorProto element type; undefined where not known (or not a tensor: a sequence, a map). */
  dtype?: number;
  /** The dims; null where not even the rank is known. */
  shape: Dim[] | null;
  /**
   * The contents of a small integer (or float) tensor, where known: the shapes a graph computes (Shape ->
   * Gather -> Concat -> Reshape), a name where a value is a symbolic dim. Scalars hold one entry.
   */
  value?: Dim[];
}

/** A rule's view of one node: its inputs' facts, its attributes, the opset, its subgraphs. */
export interface NodeContext {
  node: NodeProto;
  /** The opset of the node's domain. */
  opset: number;
  /** Input `i`'s facts; undefined where the input is absent (or unknown entirely). */
  input(i: number): ValueShape | undefined;
  /** Whether input `i` is given (an optional input may be absent or the empty name). */
  has(i: number): boolean;
  /** Input `i`'s contents as numbers (a constant or a computed shape); undefined unless all are known numbers. */
  numbers(i: number): number[] | undefined;
  /**
   * The facts of a subgraph's outputs, the subgraph inferred with `inputs` as its formal inputs' facts (in
   * order; fewer keep the declared ones). Undefined when the node has no such attribute.
   */
  subgraph(attribute: string, inputs?: (ValueShape | undefined)[]): ValueShape[] | undefined;
}

/** An op's rule: the facts of each output, in order (undefined: nothing known). */
export type ShapeRule = (cx: NodeContext) => (ValueShape | undefined)[];
