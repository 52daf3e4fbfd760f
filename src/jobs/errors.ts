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

/**
 * Any thrown value as protocol data. Errors that carry a string `code` (the core's `OnnxError`, Node's
 * system errors) keep it; anything else becomes `internal`.
 */
export function toErrorData(error: unknown, fallbackCode = 'internal'): ErrorData {
  if (error instanceof JobError) return error.toData();
  if (error instanceof Error) {
    const e = error as Error & { code?: unknown; file?: unknown };
    const data: ErrorData = {
      code: typeof e.code === 'string' && e.code.length > 0 ? e.code : fallbackCode,
      message: e.message || String(error),
    };
    if (typeof e.file === 'string') data.file = e.file;
    return data;
  }
  return { code: fallbackCode, message: String(error) };
}
