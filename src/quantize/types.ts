// What quantization must know about each value without running the model: its element type (only float
// tensors are quantized, and calibration declares the outputs it adds) and, where it can be told, its rank
// (the opset upgrade needs it for Softmax). Shape inference (onnx/shapes) gives both; a value it cannot
// tell is left unknown, and callers treat unknown as "do not touch".
import { DataType } from '../onnx/dtype';
import type { GraphInfo, Model } from '../onnx/model';
import { inferShapes, type InferredShapes } from '../onnx/shapes/infer';

export interface ValueFacts { type?: number; rank?: number }

export class ValueFactsIndex {
  private readonly shapes: InferredShapes;

  constructor(model: Model) {
    this.shapes = inferShapes(model);
  }

  /** The facts of `name` as a node of `info` sees it (its own graph or an enclosing one). */
  get(name: string, info: GraphInfo): ValueFacts {
    const f = this.shapes.get(name, info);
    return { type: f?.dtype, rank: f?.shape?.length };
  }

  isFloat(name: string, info: GraphInfo): boolean {
    return this.get(name, info).type === DataType.FLOAT;
  }
}
