/**
 * The pull-based `ReadableStream` a Fetch `Response` carries the application's body in.
 *
 * @module
 */

/**
 * A byte stream fed by the handler's `_write()`, with backpressure: its high-water mark is 0,
 * so `pull()` runs only while a consumer waits for a chunk, and `push()` resolves only then.
 * The application's body therefore advances one chunk per read of the consumer; at most one
 * chunk waits in the stream.
 *
 * @see WHATWG Streams, "ReadableStreamDefaultControllerShouldCallPull"
 */
export class BodyStream {
  /** The stream to put in the `Response`. */
  readonly readable: ReadableStream<Uint8Array>;
  readonly #controller: ReadableStreamDefaultController<Uint8Array>;
  /** A consumer asked for a chunk that no `push()` has answered yet. */
  #demand = false;
  /** The `push()` waiting for the consumer, as its promise's settle functions. */
  #resume: (() => void) | undefined;
  #fail: ((error: unknown) => void) | undefined;
  /** Closed, errored or cancelled: nothing more may be enqueued. */
  #ended = false;

  /**
   * @param onCancel - called once when the consumer cancels the stream (the client went away).
   */
  constructor(onCancel: (reason: unknown) => void) {
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    this.readable = new ReadableStream<Uint8Array>(
      {
        start(c) {
          controller = c;
        },
        pull: () => {
          const resume = this.#resume;
          if (resume === undefined) {
            this.#demand = true;
            return;
          }
          this.#resume = undefined;
          this.#fail = undefined;
          resume();
        },
        cancel: (reason) => {
          this.#ended = true;
          onCancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    // `start()` runs inside the constructor, so the controller is there now.
    if (controller === undefined) throw new Error('ReadableStream did not call start()');
    this.#controller = controller;
  }

  /** Whether the stream takes no more chunks. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Enqueues `data`. Returns nothing when a consumer was already waiting for it, else a
   * promise that resolves when the consumer asks for the next chunk (or rejects when the
   * stream is aborted first). Must not be called once {@link ended}.
   */
  push(data: Uint8Array): Promise<void> | undefined {
    this.#controller.enqueue(data);
    if (this.#demand) {
      this.#demand = false;
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      this.#resume = resolve;
      this.#fail = reject;
    });
  }

  /** Ends the stream normally: the consumer reads what is queued, then the end. */
  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#controller.close();
  }

  /** Errors the stream (the consumer's reads reject) and rejects a waiting `push()`. */
  abort(error: unknown): void {
    const fail = this.#fail;
    this.#resume = undefined;
    this.#fail = undefined;
    fail?.(error);
    if (this.#ended) return;
    this.#ended = true;
    this.#controller.error(error);
  }
}
