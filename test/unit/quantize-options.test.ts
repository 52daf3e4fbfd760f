// The quantizer's options: defaults per mode, and every invalid combination refused before any work
// with a message naming the cause; modes that are designed but not built are refused as such.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuantizeError } from '../../src/quantize/errors';
import { assertAvailable, resolveOptions, type QuantizeOptions } from '../../src/quantize/options';

describe('quantize options: defaults', () => {
  it('dynamic: QOperator, int8 symmetric per-tensor weights, uint8 activations, MatMul/Gemm/LSTM (Conv when named; GRU/RNN to be reported)', () => {
    const o = resolveOptions({});
    assert.equal(o.mode, 'dynamic');
    assert.equal(o.format, 'qoperator');
    assert.equal(o.weightType, 'int8');
    assert.equal(o.activationType, 'uint8');
    assert.equal(o.symmetricWeights, true);
    assert.equal(o.perChannel, false);
    assert.equal(o.kernelPerChannel, true, 'ConvInteger and DynamicQuantizeLSTM weights per channel unless per-tensor is asked');
    assert.equal(resolveOptions({ perChannel: false }).kernelPerChannel, false);
    assert.deepEqual(o.opTypes, ['MatMul', 'Gemm', 'LSTM', 'GRU', 'RNN']);
    assert.equal(o.defaultOpTypes, true);
    assert.deepEqual(resolveOptions({ opTypes: ['Conv', 'MatMul'] }).opTypes, ['Conv', 'MatMul']);
    assert.doesNotThrow(() => assertAvailable(o));
  });

  it('unsigned weights default to asymmetric; the flags override', () => {
    assert.equal(resolveOptions({ weightType: 'uint8' }).symmetricWeights, false);
    assert.equal(resolveOptions({ weightType: 'uint8', symmetricWeights: true }).symmetricWeights, true);
    assert.equal(resolveOptions({ weightType: 'int8', symmetricWeights: false }).symmetricWeights, false);
  });

  it('weight-only: int4 symmetric, block 32, accuracy level 4, MatMul/Gemm', () => {
    const o = resolveOptions({ mode: 'weight-only' });
    assert.equal(o.weightType, 'int4');
    assert.equal(o.symmetricWeights, true);
    assert.equal(o.blockSize, 32);
    assert.equal(o.accuracyLevel, 4);
    assert.deepEqual(o.opTypes, ['MatMul', 'Gemm']);
    assert.equal(resolveOptions({ mode: 'weight-only', weightType: 'uint4' }).symmetricWeights, false);
    assert.doesNotThrow(() => assertAvailable(o));
  });

  it('static defaults to QDQ, per-channel weights, int32 biases and the compute + data-movement op types', () => {
    const o = resolveOptions({ mode: 'static', calibration: { method: 'percentile', percentile: 99.99 } });
    assert.deepEqual([o.format, o.perChannel, o.quantizeBias, o.activationType, o.symmetricActivations], ['qdq', true, true, 'uint8', false]);
    assert.deepEqual(o.calibration, { method: 'percentile', percentile: 99.99 });
    assert.ok(['Conv', 'MatMul', 'Gemm', 'Reshape', 'MaxPool', 'Transpose'].every((op) => o.opTypes.includes(op)));
    assert.ok(!o.opTypes.includes('Add') && !o.opTypes.includes('GlobalAveragePool'));
    assert.doesNotThrow(() => assertAvailable(o));
    assert.equal(resolveOptions({ mode: 'static', perChannel: false, quantizeBias: false }).perChannel, false);
    assert.deepEqual(resolveOptions({ mode: 'static', opTypes: ['Conv', 'Add', 'Softmax'] }).opTypes, ['Conv', 'Add', 'Softmax']);
  });

  it('what is designed but not built yet is refused after validation: QDQ outside static (static QOperator and SmoothQuant are built)', () => {
    const sq = resolveOptions({ mode: 'static', smoothQuant: true });
    assert.equal(sq.smoothQuantAlpha, 0.5);
    assert.equal(resolveOptions({ mode: 'static', smoothQuant: 0.8 }).smoothQuantAlpha, 0.8);
    assert.doesNotThrow(() => assertAvailable(sq));
    assert.doesNotThrow(() => assertAvailable(resolveOptions({ mode: 'static', format: 'qoperator' })));
    assert.throws(() => assertAvailable(resolveOptions({ mode: 'weight-only', format: 'qdq' })), /QDQ format is not available yet/);
    assert.throws(() => resolveOptions({ mode: 'static', opTypes: ['LSTM'] }), /op type "LSTM" cannot be quantized in static mode/);
  });
});

describe('quantize options: invalid combinations', () => {
  const cases: [string, QuantizeOptions, RegExp][] = [
    ['int4 weights outside weight-only', { weightType: 'int4' }, /int4 weights exist only in weight-only mode/],
    ['uint4 weights in static mode', { mode: 'static', weightType: 'uint4' }, /uint4 weights exist only in weight-only mode/],
    ['16-bit weights in dynamic mode', { weightType: 'int16' }, /dynamic quantization uses 8-bit/],
    ['16-bit weights in weight-only mode', { mode: 'weight-only', weightType: 'uint16' }, /4- or 8-bit weights/],
    ['dynamic in QDQ form', { format: 'qdq' }, /dynamic quantization is emitted in QOperator form only/],
    ['int8 activations with uint8 weights (static)', { mode: 'static', activationType: 'int8', weightType: 'uint8' }, /int8 activations with uint8 weights/],
    ['int8 activations with uint8 weights (static QOperator)', { mode: 'static', format: 'qoperator', activationType: 'int8', weightType: 'uint8' }, /int8 activations with uint8 weights/],
    ['16-bit activations in QOperator', { mode: 'static', format: 'qoperator', activationType: 'int16' }, /exist only in QDQ form/],
    ['int8 activations in dynamic mode', { activationType: 'int8' }, /DynamicQuantizeLinear, which produces uint8/],
    ['symmetric activations in dynamic mode', { symmetricActivations: true }, /asymmetric uint8 activations/],
    ['activation type in weight-only mode', { mode: 'weight-only', activationType: 'uint8' }, /keeps activations in float/],
    ['block size not a power of two', { mode: 'weight-only', blockSize: 48 }, /power of two from 16 to 256/],
    ['block size too small', { mode: 'weight-only', blockSize: 8 }, /power of two from 16 to 256/],
    ['block size too large', { mode: 'weight-only', blockSize: 512 }, /power of two from 16 to 256/],
    ['block size outside weight-only', { blockSize: 32 }, /--block-size applies to weight-only/],
    ['accuracy level out of range', { mode: 'weight-only', accuracyLevel: 5 }, /accuracy level must be 0/],
    ['accuracy level outside weight-only', { accuracyLevel: 4 }, /--accuracy-level applies to weight-only/],
    ['per-channel in weight-only mode', { mode: 'weight-only', perChannel: true }, /per block along K/],
    ['reduce range in weight-only mode', { mode: 'weight-only', reduceRange: true }, /--reduce-range applies to 8-bit/],
    ['asymmetric int4', { mode: 'weight-only', weightType: 'int4', symmetricWeights: false }, /use uint4 for asymmetric weights/],
    ['symmetric uint4', { mode: 'weight-only', weightType: 'uint4', symmetricWeights: true }, /use int4 for symmetric weights/],
    ['an op type the mode cannot quantize', { opTypes: ['Softmax'] }, /op type "Softmax" cannot be quantized in dynamic mode; supported: MatMul, Gemm, Conv, LSTM, GRU, RNN/],
    ['Conv in weight-only mode', { mode: 'weight-only', opTypes: ['Conv'] }, /op type "Conv" cannot be quantized in weight-only mode/],
    ['empty op types', { opTypes: [] }, /--op-types is empty/],
    ['an empty name in a list', { exclude: ['a', ' '] }, /--exclude has an empty name/],
    ['an unknown mode', { mode: 'fast' as never }, /mode must be one of dynamic, static, weight-only/],
    ['an unknown weight type', { weightType: 'int3' as never }, /weight type must be one of/],
    ['an unknown option', { perChanel: true } as never, /unknown option "perChanel"/],
    ['calibration outside static', { calibration: { method: 'entropy' } }, /calibration applies to static quantization only/],
    ['SmoothQuant outside static', { smoothQuant: 0.5 }, /SmoothQuant applies to static quantization only/],
    ['SmoothQuant alpha out of range', { mode: 'static', smoothQuant: 1.5 }, /alpha must be between 0 and 1/],
    ['bias quantization outside static', { quantizeBias: true }, /bias quantization applies to static/],
    ['a percentile without the percentile method', { mode: 'static', calibration: { method: 'minmax', percentile: 99 } }, /applies to --calibration percentile only/],
    ['a percentile out of range', { mode: 'static', calibration: { method: 'percentile', percentile: 50 } }, /percentile must be in \(90, 100\]/],
    ['both calibration data and random samples', { mode: 'static', calibration: { dataDir: 'x', randomSamples: 4 } }, /not both/],
    ['a non-integer sample count', { mode: 'static', calibration: { randomSamples: 2.5 } }, /positive integer/],
    ['16-bit weights and activations with float Conv biases', { mode: 'static', weightType: 'int16', activationType: 'uint16', quantizeBias: false }, /int16 weights with uint16 activations need quantized biases on Conv: onnxruntime miscomputes/],
    ['an accuracy target outside static', { accuracyTarget: 0.99 }, /accuracy target applies to static quantization only/],
    ['an accuracy target of 1', { mode: 'static', accuracyTarget: 1 }, /cosine similarity between 0 and 1 \(exclusive\), e\.g\. 0\.99, or one per output \(scores=0\.99,boxes=0\.999\); got 1$/],
    ['a per-output accuracy target of 1', { mode: 'static', accuracyTarget: { scores: 0.99, boxes: 1 } }, /one per output .*got \{"scores":0\.99,"boxes":1\}/],
    ['an accuracy target that is not a number', { mode: 'static', accuracyTarget: '0.99' as never }, /accuracy target is a cosine similarity/],
    ['a float-node limit without a target', { mode: 'static', maxFloatNodes: 3 }, /--max-float-nodes limits what --accuracy-target keeps in float; give --accuracy-target too/],
    ['a negative float-node limit', { mode: 'static', accuracyTarget: 0.99, maxFloatNodes: -1 }, /max float nodes must be a whole number >= 0/],
  ];
  for (const [name, options, message] of cases) {
    it(name, () => {
      assert.throws(() => resolveOptions(options), (e: unknown) => {
        assert.ok(e instanceof QuantizeError, `a QuantizeError, got ${e}`);
        assert.equal(e.code, 'invalid-options');
        assert.match(e.message, message);
        return true;
      });
    });
  }
});
