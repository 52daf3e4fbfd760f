// Shared by both protocol links (extension <-> webview, extension <-> job process). Pure TypeScript:
// no vscode, no Node, so the webview bundle can import it too.

/** An error as it crosses a process or webview boundary: data, and a stack trace only for the log. */
export interface ErrorData {
  /** Machine-readable cause, e.g. `cancelled`, `timeout`, `crashed`, or a core code from `OnnxError`. */
  code: string;
  /** One sentence for people, naming the cause. */
  message: string;
  /** The file the error is about, when there is one. */
  file?: string;
  /** `internal` errors (a bug, not a bad model or option): the stack, for the output channel, never shown in a message. */
  trace?: string;
}

/** Ends every `switch` over a protocol union: a new message type that is not handled fails to compile. */
export function assertNever(value: never, what = 'message'): never {
  const type = (value as { type?: unknown } | null)?.type;
  throw new Error(`Unhandled ${what}${type === undefined ? '' : ` type ${JSON.stringify(type)}`}`);
}
