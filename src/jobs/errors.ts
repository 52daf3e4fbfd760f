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

/**
 * `error` as data to show or post (never with its trace), after writing `what: [code] message` and, for
 * an internal error, its trace to `log`: the one place a failure reaches the output channel.
 */
export function loggedError(error: unknown, log: (line: string) => void, what: string): ErrorData {
  const { trace, ...data } = toErrorData(error);
  log(`${what}: [${data.code}] ${data.message}`);
  if (trace) log(trace);
  return data;
}

/** True for the error a request rejects with when its caller aborted it. */
export function isCancelled(error: unknown): boolean {
  return error instanceof JobError && error.code === 'cancelled';
}

/** Node's codes for a call made wrong (an argument of the wrong type, an assertion): bugs, not conditions. */
const PROGRAMMING_ERRORS = /^ERR_(INVALID_ARG|OUT_OF_RANGE|ASSERTION|INVALID_RETURN|MISSING_ARGS|UNHANDLED)/;

/** Errors the code raises on purpose carry a string code (the core's typed errors, Node's system errors). */
function isTypedError(error: unknown): error is Error & { code: string } {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.length > 0 && !PROGRAMMING_ERRORS.test(code);
}

/** V8's words when an allocation fails: the machine's memory, not a bug. */
const OUT_OF_MEMORY = /Array buffer allocation failed|Invalid (typed )?array length|Cannot create a string longer than/;

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
  if (error instanceof RangeError && OUT_OF_MEMORY.test(error.message)) {
    return { code: 'out-of-memory', message: `out of memory (${error.message}): the model or its data does not fit in this process's memory; close other programs, or use a machine with more memory` };
  }
  const data: ErrorData = { code: 'internal', message: internalErrorMessage(error, 'the trace is in the "ONNX Quantization Studio" output') };
  if (error instanceof Error && error.stack) data.trace = error.stack;
  return data;
}
