// Every op rule, by domain: ONNX's default domain, and onnxruntime's com.microsoft ops (which fall back to
// the default domain's rule of the same name).
import type { ShapeRule } from '../types';
import { controlRules, microsoftControlRules } from './control';
import { elementwiseRules } from './elementwise';
import { linearRules, microsoftLinearRules } from './linear';
import { microsoftMovementRules, movementRules } from './movement';
import { microsoftReduceRules, reduceRules } from './reduce';

const ONNX: Record<string, ShapeRule> = { ...elementwiseRules, ...linearRules, ...movementRules, ...reduceRules, ...controlRules };
const MICROSOFT: Record<string, ShapeRule> = { ...microsoftLinearRules, ...microsoftReduceRules, ...microsoftControlRules, ...microsoftMovementRules };

/** The rule for an op, or undefined (its outputs keep what the model declares). */
export function ruleFor(domain: string, op: string): ShapeRule | undefined {
  if (domain === '' || domain === 'ai.onnx') return Object.prototype.hasOwnProperty.call(ONNX, op) ? ONNX[op] : undefined;
  if (domain === 'com.microsoft') return MICROSOFT[op] ?? (Object.prototype.hasOwnProperty.call(ONNX, op) ? ONNX[op] : undefined);
  return undefined;
}

/** The op types with a rule, per domain (for the documentation and the closing note). */
export function coveredOps(): { onnx: string[]; microsoft: string[] } {
  return { onnx: Object.keys(ONNX).sort(), microsoft: Object.keys(MICROSOFT).sort() };
}
