/**
 * Iterating a response body: any (async) iterable of `Uint8Array`s, each chunk handed to a
 * queue that may answer with a promise. A synchronous body into a synchronous queue runs without
 * a single `await`.
 *
 * @module
 */
import { inspect } from 'node:util';

import { WSGIAssertionError } from './_errors.ts';
import { lookupTarget } from './_lookup.ts';
import type { Done } from './_maybe.ts';

/** Where the chunks go (the handler's write queue): a promise when a chunk is not sent yet. */
export interface ChunkQueue {
  push(data: Uint8Array): Promise<void> | undefined;
}

/** `full` turns `true` once nothing more may be sent: iteration stops, the iterator is ended. */
export interface SendLimit {
  readonly full: boolean;
}

function notBytes(value: unknown): WSGIAssertionError {
  return new WSGIAssertionError(
    'ERR_WSGI_NOT_BYTES',
    `The response body must yield Uint8Array chunks (got ${inspect(value, { depth: 1 })})`,
  );
}

function send(queue: ChunkQueue, value: unknown): Promise<void> | undefined {
  if (!(value instanceof Uint8Array)) throw notBytes(value);
  // An empty chunk sends nothing, not even the headers (PEP 3333; API.md, deviation 1).
  return value.length === 0 ? undefined : queue.push(value);
}

/** Ends an iterator left because of an error; as in `for…of`, the original error wins. */
function leave(iterator: Iterator<unknown>, error: unknown): never {
  try {
    iterator.return?.();
  } catch {
    // Ignored: the error that made us leave is the one to report.
  }
  throw error;
}

async function pumpAsync(
  body: AsyncIterable<unknown>,
  queue: ChunkQueue,
  limit: SendLimit,
): Promise<void> {
  for await (const value of body) {
    const pending = send(queue, value);
    if (pending !== undefined) await pending;
    if (limit.full) break;
  }
}

/** An iterator's `next`, read once as `for…of` does (a fresh generator's lookups are slow). */
type Next = (this: Iterator<unknown>) => IteratorResult<unknown>;

async function finishPump(
  iterator: Iterator<unknown>,
  next: Next,
  first: Promise<void>,
  queue: ChunkQueue,
  limit: SendLimit,
): Promise<void> {
  let pending: Promise<void> | undefined = first;
  for (;;) {
    try {
      if (pending !== undefined) await pending;
    } catch (error) {
      leave(iterator, error);
    }
    if (limit.full) {
      iterator.return?.();
      return;
    }
    const step = next.call(iterator);
    if (step.done === true) return;
    try {
      pending = send(queue, step.value);
    } catch (error) {
      leave(iterator, error);
    }
  }
}

function pump(iterator: Iterator<unknown>, next: Next, queue: ChunkQueue, limit: SendLimit): Done {
  for (;;) {
    if (limit.full) {
      iterator.return?.();
      return;
    }
    const step = next.call(iterator);
    if (step.done === true) return;
    let pending: Promise<void> | undefined;
    try {
      pending = send(queue, step.value);
    } catch (error) {
      leave(iterator, error);
    }
    if (pending !== undefined) return finishPump(iterator, next, pending, queue, limit);
  }
}

/**
 * An array by index, as its own iterator would go (the length read again at each step), without
 * the iterator and its results; an array iterator has no `return()` to call when left early.
 */
function pumpArray(body: readonly unknown[], queue: ChunkQueue, limit: SendLimit): Done {
  for (let i = 0; i < body.length; i += 1) {
    if (limit.full) return;
    const pending = send(queue, body[i]);
    if (pending !== undefined) return finishArray(body, i + 1, pending, queue, limit);
  }
}

async function finishArray(
  body: readonly unknown[],
  start: number,
  first: Promise<void>,
  queue: ChunkQueue,
  limit: SendLimit,
): Promise<void> {
  await first;
  for (let i = start; i < body.length; i += 1) {
    if (limit.full) return;
    const pending = send(queue, body[i]);
    if (pending !== undefined) await pending;
  }
}

/** An iterator's `next` (read from `holder`, the iterator or where its lookups end). */
function nextOf(holder: object): Next {
  // Called with the iterator as `this` (pump()).
  // eslint-disable-next-line @typescript-eslint/unbound-method
  return (holder as Iterator<unknown>).next as Next;
}

/**
 * Sends every chunk of `body` to `queue` while `limit` is not full, preferring `Symbol.asyncIterator` over
 * `Symbol.iterator`. An iterator left early (an error, or `limit.full`) is ended with
 * `return()`, as `for…of` does.
 *
 * @param target - where `body`'s properties are read, when the caller already worked it out
 *   with `lookupTarget(body)`.
 * @throws WSGIAssertionError `ERR_WSGI_INVALID_BODY` when `body` is not an iterable object
 *   (a string or a bare `Uint8Array` is refused too), `ERR_WSGI_NOT_BYTES` for a chunk that is
 *   not a `Uint8Array`.
 */
export function iterate(body: unknown, queue: ChunkQueue, limit: SendLimit, target?: object): Done {
  // The common body first, without the symbol lookups below.
  if (Array.isArray(body)) return pumpArray(body, queue, limit);
  if (typeof body === 'object' && body !== null && !(body instanceof Uint8Array)) {
    // Each method is read once, where it is cheapest (see lookupTarget), then called on body.
    // Where run() probed it, when it did.
    const holder = target ?? lookupTarget(body);
    // One read per key and site, so each site's cache sees one key.
    if (typeof (holder as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function') {
      return pumpAsync(body as AsyncIterable<unknown>, queue, limit);
    }
    const start = (holder as Partial<Iterable<unknown>>)[Symbol.iterator];
    if (typeof start === 'function') {
      const iterator = (start as () => Iterator<unknown>).call(body);
      return pump(iterator, nextOf(iterator === body ? holder : iterator), queue, limit);
    }
  }
  throw new WSGIAssertionError(
    'ERR_WSGI_INVALID_BODY',
    `The application must return an iterable of Uint8Array chunks, such as [bytes] (got ${inspect(body, { depth: 0 })})`,
  );
}
