// The job layer's typed error. It crosses the process boundary as `ErrorData` ({ code, message, file })
// and is rebuilt on the extension's side, so callers can switch on `code`.
import type { ErrorData } from '../protocol/common';
import type { JobErrorCode } from '../protocol/jobs';

export class JobError extends Error {
  override readonly name = 'JobError';

  constructor(
    /** A `JobErrorCode` of the job layer, or a code of the core (e.g. from `OnnxError`). */
    readonly code: JobErrorCode | (string & {}),
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }

  static fromData(data: ErrorData): JobError {
    return new JobError(data.code, data.message, data.file);
  }

  toData(): ErrorData {
    return this.file === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, file: this.file };
  }
}

/** True for the error a request rejects with when its caller aborted it. */
export function isCancelled(error: unknown): boolean {
  return error instanceof JobError && error.code === 'cancelled';
}

/** Errors the code raises on purpose carry a string code (the core's typed errors, Node's system errors). */
export function isTypedError(error: unknown): error is Error & { code: string } {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.length > 0;
}

/**
 * What to tell a person about an error nobody raised on purpose (a TypeError, a RangeError): a bug of ours.
 * One line with its cause and how to report it; the trace goes to the log only.
 */
export function internalErrorMessage(error: unknown, whereTrace: string): string {
  const cause = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).split('\n')[0].slice(0, 300);
  return `internal error (${cause}); this is a bug in ONNX Quantization Studio, not in your model or options: ${whereTrace}, and report it with that trace and the model's op types (onnxq inspect MODEL)`;
}

/**
 * Any thrown value as protocol data. Errors that carry a string `code` (the core's `OnnxError`, Node's
 * system errors) keep it; anything else is `internal`, with a one-line message and the trace apart.
 */
export function toErrorData(error: unknown): ErrorData {
  if (error instanceof JobError) return error.toData();
  if (isTypedError(error)) {
    const data: ErrorData = { code: error.code, message: error.message || String(error) };
    const file = (error as { file?: unknown }).file;
    if (typeof file === 'string') data.file = file;
    return data;
  }
  const data: ErrorData = { code: 'internal', message: internalErrorMessage(error, 'the trace is in the "ONNX Quantization Studio" output') };
  if (error instanceof Error && error.stack) data.trace = error.stack;
  return data;
}
