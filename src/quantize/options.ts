// The quantizer's options: one typed object for every mode of the design (dynamic, static, weight-only),
// validated as a whole before any work starts. `resolveOptions` fills in the defaults and rejects
// contradictions with a message that names the flag; `assertAvailable` refuses what is designed but not
// built yet, so that nothing unfinished can run as if it worked.
import type { AccuracyTargetSpec, ActivationType, CalibrationMethod, CalibrationOptions, QuantFormat, QuantizeOptions, QuantMode, WeightType } from '../protocol/quantize';
import { QuantizeError } from './errors';
import { COMPUTE_OPS, ELEMENTWISE_OPS, PASSTHROUGH_OPS, RECURRENT_OPS } from './opTypes';

export type { ActivationType, CalibrationMethod, CalibrationOptions, QuantFormat, QuantizeOptions, QuantMode, WeightType } from '../protocol/quantize';


export const MODES: readonly QuantMode[] = ['dynamic', 'static', 'weight-only'];
export const FORMATS: readonly QuantFormat[] = ['qdq', 'qoperator'];
export const WEIGHT_TYPES: readonly WeightType[] = ['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4'];
export const ACTIVATION_TYPES: readonly ActivationType[] = ['uint8', 'int8', 'uint16', 'int16'];
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'entropy'];

/** Op types each mode can quantize today (the registry's keys; see registry.ts). */
export const SUPPORTED_OP_TYPES: Record<QuantMode, readonly string[]> = {
  dynamic: ['MatMul', 'Gemm', 'Conv', ...RECURRENT_OPS],
  'weight-only': ['MatMul', 'Gemm'],
  static: [...COMPUTE_OPS, ...ELEMENTWISE_OPS, ...PASSTHROUGH_OPS],
};

/**
 * Static QDQ quantizes the compute ops (with Q/DQ on their outputs, so that onnxruntime fuses them) and
 * propagates ranges through the ops that only move data. Add, Mul, Concat, AveragePool, GlobalAveragePool,
 * Sigmoid, Softmax and LeakyRelu are there when named (--op-types): each adds a requantization (measured on
 * the PP-OCR classifier: quantizing its squeeze-excitation GlobalAveragePools costs 0.004 of cosine).
 */
const STATIC_DEFAULT_OP_TYPES: readonly string[] = [...COMPUTE_OPS, ...PASSTHROUGH_OPS];

/**
 * Op types quantized when none are named. Dynamic leaves Conv out: measured on onnxruntime-node 1.30 CPU,
 * DynamicQuantizeLinear + ConvInteger is no faster than the fp32 Conv (0.97x per tensor, 1.3x per channel
 * on dense 3x3 layers) and costs accuracy on conv nets; it is there for size, when asked (--op-types).
 * GRU and RNN are there to be reported: they stay in float, with the reason.
 */
export const DEFAULT_OP_TYPES: Record<QuantMode, readonly string[]> = {
  dynamic: ['MatMul', 'Gemm', ...RECURRENT_OPS],
  'weight-only': ['MatMul', 'Gemm'],
  static: STATIC_DEFAULT_OP_TYPES,
};



/** Options with every default filled in and every combination checked. */
export interface ResolvedOptions {
  mode: QuantMode;
  format: QuantFormat;
  weightType: WeightType;
  /** Unused by weight-only quantization (activations stay in float). */
  activationType: ActivationType;
  perChannel: boolean;
  /**
   * Dynamic ConvInteger and DynamicQuantizeLSTM weights per output channel: the default unless per-tensor
   * was asked for (one scale for every filter loses a Conv model: PP-OCRv4 det's output cosine 0.90
   * per-tensor, 0.99 per-channel; an LSTM's four gates have ranges of their own).
   */
  kernelPerChannel: boolean;
  symmetricWeights: boolean;
  symmetricActivations: boolean;
  reduceRange: boolean;
  opTypes: string[];
  /** The op types are the mode's defaults (not named by the caller). */
  defaultOpTypes: boolean;
  include: string[];
  exclude: string[];
  activations16: string[];
  keepFirstLayer: boolean;
  keepLastLayer: boolean;
  blockSize: number;
  accuracyLevel: number;
  quantizeBias: boolean;
  calibration: Required<Pick<CalibrationOptions, 'method' | 'percentile'>> & Omit<CalibrationOptions, 'method' | 'percentile'>;
  smoothQuantAlpha: number | null;
  equalize: boolean;
  accuracyTarget: AccuracyTargetSpec | null;
  maxFloatNodes: number | null;
  /** The options as the caller gave them (what the written model records). */
  given: QuantizeOptions;
}

const fail = (message: string): never => { throw new QuantizeError('invalid-options', message); };

function oneOf<T extends string>(value: unknown, allowed: readonly T[], flag: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(`${flag} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function optionalBool(value: unknown, flag: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(`${flag} must be true or false; got ${JSON.stringify(value)}`);
  return value as boolean;
}

function names(value: unknown, flag: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) fail(`${flag} must be a list of names`);
  const list = (value as string[]).map((v) => v.trim());
  if (list.some((v) => v === '')) fail(`${flag} has an empty name; separate names with commas and no empty entries`);
  return list;
}

const bits = (t: WeightType) => (t.endsWith('4') ? 4 : t.endsWith('16') ? 16 : 8);
const signed = (t: string) => t.startsWith('int');

/** Validates `o` as a whole and fills in the defaults. Throws QuantizeError('invalid-options'). */
export function resolveOptions(o: QuantizeOptions = {}): ResolvedOptions {
  if (o === null || typeof o !== 'object') fail('options must be an object');
  const known = new Set(['mode', 'format', 'weightType', 'activationType', 'perChannel', 'symmetricWeights', 'symmetricActivations',
    'reduceRange', 'opTypes', 'include', 'exclude', 'activations16', 'keepFirstLayer', 'keepLastLayer', 'blockSize', 'accuracyLevel', 'quantizeBias',
    'calibration', 'smoothQuant', 'equalize', 'accuracyTarget', 'maxFloatNodes']);
  for (const k of Object.keys(o)) if (!known.has(k)) fail(`unknown option "${k}"`);

  const mode = o.mode === undefined ? 'dynamic' : oneOf(o.mode, MODES, 'mode');
  const format = o.format === undefined ? (mode === 'static' ? 'qdq' : 'qoperator') : oneOf(o.format, FORMATS, 'format');
  const weightOnly = mode === 'weight-only';
  const weightType = o.weightType === undefined ? (weightOnly ? 'int4' : 'int8') : oneOf(o.weightType, WEIGHT_TYPES, 'weight type');
  if (o.activationType !== undefined) oneOf(o.activationType, ACTIVATION_TYPES, 'activation type');
  const perChannel = optionalBool(o.perChannel, 'perChannel');
  const symmetricWeights = optionalBool(o.symmetricWeights, 'symmetricWeights');
  const symmetricActivations = optionalBool(o.symmetricActivations, 'symmetricActivations');
  const reduceRange = optionalBool(o.reduceRange, 'reduceRange');
  const keepFirstLayer = optionalBool(o.keepFirstLayer, 'keepFirstLayer') ?? false;
  const keepLastLayer = optionalBool(o.keepLastLayer, 'keepLastLayer') ?? false;
  const quantizeBias = optionalBool(o.quantizeBias, 'quantizeBias');
  const equalize = optionalBool(o.equalize, 'equalize');

  // Mode and format.
  if (mode === 'dynamic' && format === 'qdq') {
    fail('dynamic quantization is emitted in QOperator form only (DynamicQuantizeLinear -> MatMulInteger/ConvInteger); use --format qoperator or --mode static for QDQ');
  }

  // Weight types per mode.
  const wbits = bits(weightType);
  if (wbits === 4 && !weightOnly) fail(`${weightType} weights exist only in weight-only mode (MatMulNBits); use --mode weight-only, or int8/uint8 weights`);
  if (weightOnly && wbits === 16) fail(`weight-only quantization stores 4- or 8-bit weights (MatMulNBits); ${weightType} is not possible`);
  if (mode === 'dynamic' && wbits === 16) fail(`dynamic quantization uses 8-bit MatMulInteger/ConvInteger; ${weightType} weights need --mode static`);

  // Activations.
  let activationType: ActivationType = 'uint8';
  if (weightOnly) {
    if (o.activationType !== undefined) fail('weight-only quantization keeps activations in float; --activation-type does not apply');
    if (symmetricActivations !== undefined) fail('weight-only quantization keeps activations in float; symmetric activations do not apply');
  } else if (mode === 'dynamic') {
    if (o.activationType !== undefined && o.activationType !== 'uint8') {
      fail(`dynamic quantization quantizes activations with DynamicQuantizeLinear, which produces uint8; ${o.activationType} activations need --mode static`);
    }
    if (symmetricActivations) fail('dynamic quantization computes asymmetric uint8 activations (DynamicQuantizeLinear); symmetric activations need --mode static');
  } else {
    activationType = (o.activationType ?? 'uint8') as ActivationType;
    if (activationType === 'int8' && weightType === 'uint8') {
      fail('int8 activations with uint8 weights are not a combination onnxruntime supports; use int8 weights (or uint8 activations)');
    }
    if (format === 'qoperator' && activationType.endsWith('16')) {
      fail(`${activationType} activations exist only in QDQ form (QLinearConv/QLinearMatMul are 8-bit); use --format qdq`);
    }
    if (format === 'qoperator' && wbits === 16) fail(`${weightType} weights exist only in QDQ form; use --format qdq`);
  }

  // Symmetry of weights: signed types default to symmetric, unsigned to asymmetric.
  let symWeights = symmetricWeights ?? signed(weightType);
  if (weightOnly && symmetricWeights !== undefined && symmetricWeights !== signed(weightType)) {
    fail(`weight-only ${weightType} weights are ${signed(weightType) ? 'symmetric (no zero points)' : 'asymmetric (with zero points)'}; use ${signed(weightType) ? `u${weightType}` : weightType.slice(1)} for ${symmetricWeights ? 'symmetric' : 'asymmetric'} weights`);
  }
  if (weightOnly) symWeights = signed(weightType);

  // Per-channel, reduce-range, block size, accuracy level.
  if (weightOnly && perChannel) fail('weight-only quantization is per block along K (--block-size); --per-channel does not apply');
  if (weightOnly && reduceRange) fail('--reduce-range applies to 8-bit dynamic and static quantization, not to weight-only');
  if (o.blockSize !== undefined) {
    if (!weightOnly) fail('--block-size applies to weight-only quantization (MatMulNBits) only');
    const b = o.blockSize;
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 16 || b > 256 || (b & (b - 1)) !== 0) {
      fail(`block size must be a power of two from 16 to 256 (16, 32, 64, 128, 256); got ${JSON.stringify(b)}`);
    }
  }
  if (o.accuracyLevel !== undefined) {
    if (!weightOnly) fail('--accuracy-level applies to weight-only quantization (MatMulNBits) only');
    const a = o.accuracyLevel;
    if (typeof a !== 'number' || !Number.isInteger(a) || a < 0 || a > 4) {
      fail(`accuracy level must be 0 (unset), 1 (fp32), 2 (fp16), 3 (bf16) or 4 (int8); got ${JSON.stringify(a)}`);
    }
  }

  // Static-only options.
  if (mode !== 'static') {
    if (o.calibration !== undefined) fail('calibration applies to static quantization only (--mode static)');
    if (o.smoothQuant !== undefined && o.smoothQuant !== false) fail('SmoothQuant applies to static quantization only (--mode static)');
    if (quantizeBias) fail('bias quantization applies to static quantization only (--mode static)');
    if (equalize) fail('channel equalization applies to static quantization only (--mode static)');
    if (o.accuracyTarget !== undefined) fail('an accuracy target applies to static quantization only (--mode static): it compares outputs on the calibration samples');
  }
  if (o.accuracyTarget !== undefined) {
    const t = o.accuracyTarget;
    const ok = (x: unknown) => typeof x === 'number' && x > 0 && x < 1;
    const perOutput = typeof t === 'object' && t !== null && !Array.isArray(t);
    if (!(ok(t) || (perOutput && Object.keys(t).length > 0 && Object.entries(t).every(([k, v]) => k !== '' && ok(v))))) {
      fail(`accuracy target is a cosine similarity between 0 and 1 (exclusive), e.g. 0.99, or one per output (scores=0.99,boxes=0.999); got ${JSON.stringify(t)}`);
    }
  }
  if (o.maxFloatNodes !== undefined) {
    if (o.accuracyTarget === undefined) fail('--max-float-nodes limits what --accuracy-target keeps in float; give --accuracy-target too');
    if (typeof o.maxFloatNodes !== 'number' || !Number.isInteger(o.maxFloatNodes) || o.maxFloatNodes < 0) fail(`max float nodes must be a whole number >= 0; got ${JSON.stringify(o.maxFloatNodes)}`);
  }
  const calibration = resolveCalibration(o.calibration);
  let smoothQuantAlpha: number | null = null;
  if (o.smoothQuant === true) smoothQuantAlpha = 0.5;
  else if (typeof o.smoothQuant === 'number') {
    if (!(o.smoothQuant > 0 && o.smoothQuant < 1)) fail(`SmoothQuant alpha must be between 0 and 1 (exclusive); got ${o.smoothQuant}`);
    smoothQuantAlpha = o.smoothQuant;
  } else if (o.smoothQuant !== undefined && o.smoothQuant !== false) fail('smoothQuant must be true, false or an alpha between 0 and 1');

  // Op types and name filters.
  const supported = SUPPORTED_OP_TYPES[mode];
  const opTypes = o.opTypes === undefined ? [...DEFAULT_OP_TYPES[mode]] : names(o.opTypes, '--op-types');
  if (o.opTypes !== undefined && opTypes.length === 0) fail('--op-types is empty; name at least one op type');
  if (supported) {
    for (const t of opTypes) {
      if (!supported.includes(t)) fail(`op type "${t}" cannot be quantized in ${mode} mode; supported: ${supported.join(', ')}`);
    }
  }
  // onnxruntime 1.30's basic graph optimizations miscompute a Conv with a float bias between 16-bit
  // weights and 16-bit activations (PP-OCRv4 rec: output cosine 0.78 with them, 0.99995 without; the
  // same model with int32 biases, or with 8-bit weights or activations, is right).
  if (mode === 'static' && quantizeBias === false && wbits === 16 && activationType.endsWith('16') && opTypes.includes('Conv')) {
    fail(`${weightType} weights with ${activationType} activations need quantized biases on Conv: onnxruntime miscomputes Conv with a float bias between 16-bit Q/DQ; drop --no-quantize-bias, or leave Conv out of --op-types`);
  }
  const include = names(o.include, '--include');
  const exclude = names(o.exclude, '--exclude');
  const activations16 = names(o.activations16, '--activations16');
  if (activations16.length && (mode !== 'static' || format !== 'qdq')) fail('--activations16 applies to static quantization in QDQ form (QOperator has 8-bit kernels only)');
  if (activations16.length && activationType.endsWith('16')) fail(`--activations16 widens some nodes' activations from 8 bits; the activations are ${activationType} already`);

  return {
    mode, format, weightType, activationType, perChannel: perChannel ?? mode === 'static', kernelPerChannel: perChannel ?? true, symmetricWeights: symWeights,
    symmetricActivations: symmetricActivations ?? false, reduceRange: reduceRange ?? false, opTypes: [...new Set(opTypes)],
    defaultOpTypes: o.opTypes === undefined,
    include, exclude, activations16, keepFirstLayer, keepLastLayer, blockSize: o.blockSize ?? 32, accuracyLevel: o.accuracyLevel ?? 4,
    quantizeBias: quantizeBias ?? mode === 'static', calibration, smoothQuantAlpha, equalize: equalize ?? mode === 'static',
    accuracyTarget: o.accuracyTarget ?? null, maxFloatNodes: o.maxFloatNodes ?? null, given: o,
  };
}

/** Options resolved once: a caller that resolved them (to refuse bad ones early) passes them on as they are. */
export function resolved(o: QuantizeOptions | ResolvedOptions): ResolvedOptions {
  return 'given' in o ? o : resolveOptions(o);
}

function resolveCalibration(c: CalibrationOptions | undefined): ResolvedOptions['calibration'] {
  if (c === undefined) return { method: 'minmax', percentile: 99.999 };
  if (c === null || typeof c !== 'object') fail('calibration must be an object');
  const method = c.method === undefined ? 'minmax' : oneOf(c.method, CALIBRATION_METHODS, 'calibration method');
  if (c.percentile !== undefined) {
    if (method !== 'percentile') fail('a calibration percentile applies to --calibration percentile only');
    if (typeof c.percentile !== 'number' || !(c.percentile > 90 && c.percentile <= 100)) fail(`calibration percentile must be in (90, 100]; got ${JSON.stringify(c.percentile)}`);
  }
  if (c.dataDir !== undefined && c.randomSamples !== undefined) fail('give calibration data (--calib-data) or random samples (--calib-random), not both');
  for (const [k, v] of [['random samples', c.randomSamples], ['max samples', c.maxSamples]] as const) {
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) fail(`calibration ${k} must be a positive integer; got ${JSON.stringify(v)}`);
  }
  return { ...c, method, percentile: c.percentile ?? 99.999 };
}

/** Refuses what the design has but this build does not: QDQ outside static. */
export function assertAvailable(o: ResolvedOptions): void {
  if (o.mode !== 'static' && o.format === 'qdq') {
    throw new QuantizeError('not-available', `QDQ format is not available yet for ${o.mode} quantization; use --format qoperator`);
  }
}

/** Bits per weight element of a weight type. */
export function weightBits(t: WeightType): number {
  return bits(t);
}
