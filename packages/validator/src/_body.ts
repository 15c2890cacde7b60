/**
 * The response body under the validator: items checked, `startResponse` required before the
 * first one, nothing read after `close()`, and `close()` required (reported through a
 * `FinalizationRegistry` when a body is dropped without it).
 *
 * @see PEP 3333, "Specification Details" (the iterable, `close()`)
 * @module
 */
import type { ResponseBody } from '@wsgi/util';

import type { Reporter } from './_report.ts';
import { show } from './_report.ts';
import type { Tracked, Unclosed } from './_unclosed.ts';

/** What one request's body shares with its `startResponse` wrapper. */
export interface Exchange {
  /** Whether `startResponse` has been called. */
  started: boolean;
}

/** What every body of one validator reports to. */
export interface BodyContext {
  readonly report: Reporter;
  /** Warns `body.not-closed` for each tracked body collected before `close()`. */
  readonly unclosed: Unclosed;
}

type Closable = { close?: () => unknown };

function checkItem(item: unknown, index: number, report: Reporter): void {
  if (!(item instanceof Uint8Array)) {
    report.fail('body.item', `body item ${index} is not a Uint8Array: ${show(item)}`);
  }
}

function beforeStart(report: Reporter): void {
  report.fail('body.before-start', 'the body gave an item before startResponse was called');
}

function afterClose(report: Reporter): void {
  report.fail('body.after-close', 'the body was read after close()');
}

/** State shared by a wrapped body and its iterators. */
abstract class CheckedBody implements Tracked {
  closed = false;
  registered = false;
  protected count = 0;
  readonly original: object;
  readonly exchange: Exchange;
  readonly context: BodyContext;

  constructor(original: object, exchange: Exchange, context: BodyContext) {
    this.original = original;
    this.exchange = exchange;
    this.context = context;
    context.unclosed.track(this, this);
  }

  /** Checks one step of iteration; returns it unchanged. */
  step<T extends IteratorResult<unknown>>(result: T): T {
    if (result.done !== true) {
      const report = this.context.report;
      checkItem(result.value, this.count, report);
      if (this.count++ === 0 && !this.exchange.started) beforeStart(report);
    }
    return result;
  }

  /** Before each step: nothing may be read after `close()`. */
  guard(): void {
    if (this.closed) afterClose(this.context.report);
  }

  /** Marks the body closed and closes the application's body, passing its result through. */
  close(): void | Promise<void> {
    this.context.unclosed.closed(this);
    return (this.original as Closable).close?.() as void | Promise<void>;
  }
}

/** An iterator of a wrapped body, over the application's own iterator. */
abstract class BodyIterator<I> {
  protected readonly body: CheckedBody;
  protected readonly inner: I;

  constructor(body: CheckedBody, inner: I) {
    this.body = body;
    this.inner = inner;
  }
}

class SyncIterator extends BodyIterator<Iterator<unknown>> implements Iterator<Uint8Array> {
  next(): IteratorResult<Uint8Array> {
    this.body.guard();
    return this.body.step(this.inner.next()) as IteratorResult<Uint8Array>;
  }

  return(value?: unknown): IteratorResult<Uint8Array> {
    const done = this.inner.return?.(value);
    return (done ?? { done: true, value }) as IteratorResult<Uint8Array>;
  }
}

class AsyncBodyIterator
  extends BodyIterator<AsyncIterator<unknown>>
  implements AsyncIterator<Uint8Array>
{
  async next(): Promise<IteratorResult<Uint8Array>> {
    this.body.guard();
    return this.body.step(await this.inner.next()) as IteratorResult<Uint8Array>;
  }

  async return(value?: unknown): Promise<IteratorResult<Uint8Array>> {
    const done = await this.inner.return?.(value);
    return (done ?? { done: true, value }) as IteratorResult<Uint8Array>;
  }
}

class SyncBody extends CheckedBody implements Iterable<Uint8Array> {
  [Symbol.iterator](): Iterator<Uint8Array> {
    const inner = (this.original as Iterable<unknown>)[Symbol.iterator]();
    return new SyncIterator(this, inner);
  }
}

class AsyncBody extends CheckedBody implements AsyncIterable<Uint8Array> {
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const inner = (this.original as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    return new AsyncBodyIterator(this, inner);
  }
}

class DualBody extends SyncBody implements AsyncIterable<Uint8Array> {
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const inner = (this.original as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    return new AsyncBodyIterator(this, inner);
  }
}

const NO_ITEMS: readonly unknown[] = Object.freeze([]);

/** On a closed array body: its {@link ArrayBody}. */
const CLOSED = Symbol('closed array body');

type ClosedArray = unknown[] & { [CLOSED]?: ArrayBody };

/** Whether `key` is the canonical name of an index below `length`, e.g. `'0'` but not `'00'`. */
function isIndex(key: string, length: number): boolean {
  const index = Number(key);
  return Number.isInteger(index) && index >= 0 && index < length && String(index) === key;
}

/** The largest array index (ECMA-262 §6.1.7). */
const MAX_INDEX = 2 ** 32 - 2;

/**
 * The prototype of a closed array body. Closing empties the array but keeps its length, so
 * every read of an item, and of `Symbol.iterator`, falls through to this proxy: it reports
 * reading after `close()` and gives what the read would have given. An open array body keeps
 * `Array.prototype`, and a server's reads of it are plain array reads.
 *
 * Array methods (`forEach`, `map`, `slice`, `indexOf`…) and `in` ask whether an index exists
 * before reading it, and the emptied array has none: `has` says yes to every index, so they go
 * on to read it (and are reported). A `has` trap is not told which array asks, so after
 * `close()` `i in body` is true past the end too (reading there gives `undefined`).
 */
const CLOSED_ARRAY_PROTOTYPE = new Proxy(Object.create(Array.prototype) as object, {
  has(target, key): boolean {
    return (typeof key === 'string' && isIndex(key, MAX_INDEX + 1)) || Reflect.has(target, key);
  },
  get(target, key, receiver): unknown {
    if (key === CLOSED) return undefined;
    const body = (receiver as ClosedArray)[CLOSED];
    if (body !== undefined) {
      if (key === Symbol.iterator) afterClose(body.context.report);
      else if (typeof key === 'string' && isIndex(key, body.items.length)) {
        afterClose(body.context.report);
        return body.items[Number(key)];
      }
    }
    return Reflect.get(target, key, receiver) as unknown;
  },
});

/**
 * An array body's state. The server gets a copy of the application's array with a `close()`
 * of its own: an array stays an array (so a server sees the same framing, e.g. the one-chunk
 * Content-Length), its items are checked up front, and no read of it goes through a proxy
 * before `close()`.
 */
class ArrayBody implements Tracked {
  closed = false;
  registered = false;
  /** The items, once moved out of the copy by `close()`. */
  items: readonly unknown[] = NO_ITEMS;
  readonly original: unknown[];
  readonly copy: ClosedArray;
  readonly context: BodyContext;

  constructor(original: unknown[], copy: unknown[], context: BodyContext) {
    this.original = original;
    this.copy = copy;
    this.context = context;
  }

  /** Marks the body closed, hides its items behind the reporting prototype, closes `original`. */
  close(): void | Promise<void> {
    if (!this.closed) {
      this.context.unclosed.closed(this);
      const copy = this.copy;
      const length = copy.length;
      // The items move out; the copy keeps its length, all holes, whose reads reach the
      // prototype. (Deleting each item beats `length = 0` then `length = n` by ~0.1 µs.)
      const items = new Array<unknown>(length);
      for (let index = 0; index < length; index++) {
        items[index] = copy[index];
        Reflect.deleteProperty(copy, index);
      }
      this.items = items;
      copy[CLOSED] = this;
      Object.setPrototypeOf(copy, CLOSED_ARRAY_PROTOTYPE);
    }
    return (this.original as Closable).close?.() as void | Promise<void>;
  }
}

function wrapArray(body: unknown[], exchange: Exchange, context: BodyContext): ResponseBody {
  const report = context.report;
  const length = body.length;
  // A plain array, whatever the application's array is (slice() would use its species). Not
  // a literal: copies live until the next turn (see Unclosed), and V8 would then allocate every
  // array of a literal's site in the old generation, which made each request ~1 µs dearer.
  const copy = new Array<unknown>(length);
  for (let index = 0; index < length; index++) {
    const item = body[index];
    checkItem(item, index, report);
    copy[index] = item;
  }
  if (length > 0 && !exchange.started) beforeStart(report);
  const state = new ArrayBody(body, copy, context);
  const close = (): void | Promise<void> => state.close();
  (copy as unknown[] & Closable).close = close;
  context.unclosed.track(copy, state);
  return copy as ResponseBody;
}

/**
 * Checks what an application returned and wraps it so its use is checked too. A body that
 * cannot be wrapped (reported already) is returned as it is, for collect mode.
 */
export function wrapBody(body: unknown, exchange: Exchange, context: BodyContext): unknown {
  const report = context.report;
  if (Array.isArray(body)) return wrapArray(body, exchange, context);
  if (typeof body === 'string' || body instanceof Uint8Array) {
    report.fail(
      'body.string',
      `the body must be an iterable of chunks, not a single string or Uint8Array (wrap it in an array): ${show(body)}`,
    );
    return body;
  }
  if ((typeof body !== 'object' && typeof body !== 'function') || body === null) {
    report.fail('body.type', `the application must return an iterable body: ${show(body)}`);
    return body;
  }
  const sync = typeof (body as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function';
  const async =
    typeof (body as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
  if (sync)
    return async ? new DualBody(body, exchange, context) : new SyncBody(body, exchange, context);
  if (async) return new AsyncBody(body, exchange, context);
  report.fail('body.type', `the application must return an iterable body: ${show(body)}`);
  return body;
}
