// Requests waiting for their answer, by id: the one helper behind every request/response link (the job
// process client, the model viewer's requests and probes, the layout worker). Each entry resolves or
// rejects exactly once: with its answer, at its timeout, when its caller aborts, or when the link ends.
// Plain TypeScript with timers only: the extension, the job client and the webview all use it.

export interface PendingOptions<E> {
  /** Reject with `onTimeout()` after this many ms (0 or absent: no timeout). */
  timeoutMs?: number;
  onTimeout?: () => E;
  /** Reject with `onAbort()` when this signal aborts. */
  signal?: AbortSignal;
  onAbort?: () => E;
}

interface Entry<E> {
  resolve: (value: unknown) => void;
  reject: (error: E) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  cleanup: () => void;
}

export class PendingRequests<E = Error> {
  private readonly entries = new Map<number, Entry<E>>();
  private nextId = 1;

  /** A fresh id for the next request. */
  newId(): number {
    return this.nextId++;
  }

  /** Registers request `id`; the promise settles with `settle(id, ...)`, the timeout, the abort or `rejectAll`. */
  add<T>(id: number, options: PendingOptions<E> = {}): Promise<T> {
    if (this.entries.has(id)) throw new Error(`request ${id} is already waiting for its answer`);
    if (options.timeoutMs && !options.onTimeout) throw new Error('a timeout needs onTimeout (the error to reject with)');
    if (options.signal?.aborted) return Promise.reject(options.onAbort ? options.onAbort() : (new Error('aborted') as E));
    return new Promise<T>((resolve, reject) => {
      const done = () => this.take(id);
      const timer = options.timeoutMs && options.onTimeout
        ? setTimeout(() => { if (done()) reject(options.onTimeout!()); }, options.timeoutMs)
        : undefined;
      const onAbort = () => { if (done()) reject(options.onAbort ? options.onAbort() : (new Error('aborted') as E)); };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.entries.set(id, {
        resolve: resolve as (value: unknown) => void, reject, timer,
        cleanup: () => options.signal?.removeEventListener('abort', onAbort),
      });
    });
  }

  /** Settles request `id` with its answer (an error, or a result); false when it is no longer waiting. */
  settle(id: number, error: E | undefined, result?: unknown): boolean {
    const entry = this.take(id);
    if (!entry) return false;
    if (error !== undefined) entry.reject(error);
    else entry.resolve(result);
    return true;
  }

  /** Rejects every waiting request (the link ended). */
  rejectAll(error: E): void {
    for (const id of [...this.entries.keys()]) this.take(id)?.reject(error);
  }

  has(id: number): boolean {
    return this.entries.has(id);
  }

  get size(): number {
    return this.entries.size;
  }

  private take(id: number): Entry<E> | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.cleanup();
    return entry;
  }
}
