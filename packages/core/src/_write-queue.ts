/**
 * Keeps writes in order: a write starts only once the one before it is done, whether or not
 * the application awaited it. Writes to a synchronous transport run at once, with no promise.
 *
 * @module
 */
import { ignore, isThenable } from './_maybe.ts';
import type { Done } from './_maybe.ts';

/**
 * An ordered queue of writes through `send(owner, data)`: a function shared by every queue
 * with its owner beside it, so a queue per request makes no closure.
 */
export class WriteQueue<O> {
  readonly #owner: O;
  readonly #send: (owner: O, data: Uint8Array) => Done;
  /** The last write still in flight; a failed one stays, so later writes fail with it. */
  #tail: Promise<void> | undefined = undefined;

  constructor(owner: O, send: (owner: O, data: Uint8Array) => Done) {
    this.#owner = owner;
    this.#send = send;
  }

  /**
   * Sends `data` now when nothing is in flight, else after the last write. Returns a promise
   * only when the write is not done yet; a synchronous failure is thrown.
   */
  push(data: Uint8Array): Promise<void> | undefined {
    const tail = this.#tail;
    if (tail === undefined) {
      const sent = this.#send(this.#owner, data);
      return isThenable(sent) ? this.#track(sent) : undefined;
    }
    return this.#track(tail.then(() => this.#send(this.#owner, data)));
  }

  /**
   * The last write in flight, or `undefined` when none is: once it is done, ask again (it may
   * have been followed by another). It rejects when a write failed.
   */
  get busy(): Promise<void> | undefined {
    return this.#tail;
  }

  /** A promise that settles (never rejects) once every write is done, or `undefined` if none is in flight. */
  settled(): Promise<void> | undefined {
    return this.#tail?.then(ignore, ignore);
  }

  /** Forgets every write, for a new response. */
  clear(): void {
    this.#tail = undefined;
  }

  #track(pending: Promise<void>): Promise<void> {
    const tracked = pending.then(() => {
      if (this.#tail === tracked) this.#tail = undefined;
    });
    // The application may drop this promise; the handler still sees a failure through drain().
    tracked.catch(ignore);
    this.#tail = tracked;
    return tracked;
  }
}
