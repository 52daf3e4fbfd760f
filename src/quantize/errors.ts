// Typed errors of the quantizer: a code for programs, a message for people that names the cause (and,
// where there is one, what to do instead). They cross the job protocol as data.

export type QuantizeErrorCode =
  /** The options contradict each other or name something that does not exist. Raised before any work. */
  | 'invalid-options'
  /** A mode or format that is part of the design but not built yet (static quantization, QDQ). */
  | 'not-available'
  /** The model cannot be quantized as asked (e.g. an opset too old to upgrade safely). */
  | 'unsupported-model'
  /** Calibration data that does not fit the model (names, dtypes, shapes), or none at all. */
  | 'calibration-data'
  /** The mode asked for finds nothing to quantize in this model (the message names a mode that would). Raised before any file is written. */
  | 'nothing-to-quantize'
  /** The caller's AbortSignal stopped the job. */
  | 'cancelled';

export class QuantizeError extends Error {
  constructor(readonly code: QuantizeErrorCode, message: string) {
    super(message);
    this.name = 'QuantizeError';
  }
}
