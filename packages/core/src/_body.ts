/**
 * Iterating a response body: any (async) iterable of `Uint8Array`s, each chunk handed to a
 * sink that may answer with a promise. A synchronous body into a synchronous sink runs without
 * a single `await`.
 *
 * @module
 */
import { inspect } from 'node:util';

import { WSGIAssertionError } from './_errors.ts';
import { lookupTarget } from './_lookup.ts';
import type { Done } from './_maybe.ts';

/** Where the chunks go. */
export interface BodySink {
  /** Sends one non-empty chunk; a promise when it is not sent yet. */
  chunk(data: Uint8Array): Promise<void> | undefined;
  /** `true` once nothing more may be sent: iteration stops and the iterator is ended. */
  full(): boolean;
}

function notBytes(value: unknown): WSGIAssertionError {
  return new WSGIAssertionError(
    'ERR_WSGI_NOT_BYTES',
    `The response body must yield Uint8Array chunks (got ${inspect(value, { depth: 1 })})`,
  );
}

function send(sink: BodySink, value: unknown): Promise<void> | undefined {
  if (!(value instanceof Uint8Array)) throw notBytes(value);
  // An empty chunk sends nothing, not even the headers (PEP 3333; API.md, deviation 1).
  return value.length === 0 ? undefined : sink.chunk(value);
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

async function pumpAsync(body: AsyncIterable<unknown>, sink: BodySink): Promise<void> {
  for await (const value of body) {
    const pending = send(sink, value);
    if (pending !== undefined) await pending;
    if (sink.full()) break;
  }
}

/** An iterator's `next`, read once as `for…of` does (a fresh generator's lookups are slow). */
type Next = (this: Iterator<unknown>) => IteratorResult<unknown>;

async function finishPump(
  iterator: Iterator<unknown>,
  next: Next,
  first: Promise<void>,
  sink: BodySink,
): Promise<void> {
  let pending: Promise<void> | undefined = first;
  for (;;) {
    try {
      if (pending !== undefined) await pending;
    } catch (error) {
      leave(iterator, error);
    }
    if (sink.full()) {
      iterator.return?.();
      return;
    }
    const step = next.call(iterator);
    if (step.done === true) return;
    try {
      pending = send(sink, step.value);
    } catch (error) {
      leave(iterator, error);
    }
  }
}

function pump(iterator: Iterator<unknown>, next: Next, sink: BodySink): Done {
  for (;;) {
    if (sink.full()) {
      iterator.return?.();
      return;
    }
    const step = next.call(iterator);
    if (step.done === true) return;
    let pending: Promise<void> | undefined;
    try {
      pending = send(sink, step.value);
    } catch (error) {
      leave(iterator, error);
    }
    if (pending !== undefined) return finishPump(iterator, next, pending, sink);
  }
}

function method(value: object, key: symbol): unknown {
  return (value as Record<symbol, unknown>)[key];
}

/** An iterator's `next` (read from `holder`, the iterator or where its lookups end). */
function nextOf(holder: object): Next {
  // Called with the iterator as `this` (pump()).
  // eslint-disable-next-line @typescript-eslint/unbound-method
  return (holder as Iterator<unknown>).next as Next;
}

/**
 * Sends every chunk of `body` to `sink`, preferring `Symbol.asyncIterator` over
 * `Symbol.iterator`. An iterator left early (an error, or `sink.full()`) is ended with
 * `return()`, as `for…of` does.
 *
 * @param target - where `body`'s properties are read, when the caller already worked it out
 *   with `lookupTarget(body)`.
 * @throws WSGIAssertionError `ERR_WSGI_INVALID_BODY` when `body` is not an iterable object
 *   (a string or a bare `Uint8Array` is refused too), `ERR_WSGI_NOT_BYTES` for a chunk that is
 *   not a `Uint8Array`.
 */
export function iterate(body: unknown, sink: BodySink, target?: object): Done {
  // The common body first, without the symbol lookups below.
  if (Array.isArray(body)) {
    const values = body.values();
    return pump(values, nextOf(values), sink);
  }
  if (typeof body === 'object' && body !== null && !(body instanceof Uint8Array)) {
    // Each method is read once, where it is cheapest (see lookupTarget), then called on body.
    // Where run() probed it, when it did.
    const holder = target ?? lookupTarget(body);
    if (typeof method(holder, Symbol.asyncIterator) === 'function') {
      return pumpAsync(body as AsyncIterable<unknown>, sink);
    }
    const start = method(holder, Symbol.iterator);
    if (typeof start === 'function') {
      const iterator = (start as () => Iterator<unknown>).call(body);
      return pump(iterator, nextOf(iterator === body ? holder : iterator), sink);
    }
  }
  throw new WSGIAssertionError(
    'ERR_WSGI_INVALID_BODY',
    `The application must return an iterable of Uint8Array chunks, such as [bytes] (got ${inspect(body, { depth: 0 })})`,
  );
}
