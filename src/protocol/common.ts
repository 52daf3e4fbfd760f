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

declare const jsonOf: unique symbol;

/**
 * A value sent as its JSON text. Large graphs cross three boundaries on their way to the webview (job
 * process -> extension host -> VS Code's renderer -> the webview's frames); each copies an object graph
 * property by property (V8 serialization, a JSON round trip, two structured clones): a structured clone of
 * a 100,000-node graph (32 MB of JSON) took 0.54 s in Chromium here, the same data as one string 0.04 s.
 * The type remembers what the text holds.
 */
export type JsonText<T> = string & { readonly [jsonOf]: T };

export function toJsonText<T>(value: T): JsonText<T> {
  return JSON.stringify(value) as JsonText<T>;
}

export function parseJsonText<T>(text: JsonText<T>): T {
  return JSON.parse(text) as T;
}
