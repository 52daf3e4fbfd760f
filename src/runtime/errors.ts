// The runtime's one error type (what went wrong, and a message that says what to do), and how an input
// is named in messages. No onnxruntime here: the extension host uses both.
import type { ValueInfo } from '../protocol/inspect';

export type RuntimeErrorKind =
  | 'provider-unavailable' | 'model-rejected' | 'input-mismatch' | 'output-mismatch' | 'out-of-memory'
  | 'run-failed' | 'bad-input-spec' | 'bad-expected' | 'cancelled';

export class RuntimeError extends Error {
  /** The kind, under the name every typed error of the core uses (it crosses the job protocol as `code`). */
  readonly code: RuntimeErrorKind;
  constructor(readonly kind: RuntimeErrorKind, message: string, readonly file?: string) {
    super(file ? `${file}: ${message}` : message);
    this.name = 'RuntimeError';
    this.code = kind;
  }
}

/** An input as messages name it: `"x" (float [1, 3, ?, ?])`. */
export function describeValue(v: ValueInfo): string {
  return `"${v.name}" (${v.dtype} [${(v.shape ?? []).map((d) => d ?? '?').join(', ')}])`;
}
