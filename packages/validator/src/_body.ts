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

/**
 * The traps of an array body's proxy. An array stays an array (so a server sees the same
 * framing, e.g. the one-chunk Content-Length), its items are checked up front, and the proxy
 * adds the `close()` the validator needs to see called.
 */
class ArrayTraps implements ProxyHandler<unknown[]>, Tracked {
  closed = false;
  registered = false;
  readonly #context: BodyContext;
  #close: (() => void | Promise<void>) | undefined;

  constructor(context: BodyContext) {
    this.#context = context;
  }

  get(target: unknown[], key: string | symbol, receiver: unknown): unknown {
    if (key === 'close') return (this.#close ??= () => this.#closeBody(target));
    // Before close() (every read a server makes), a plain read: Reflect.get with the proxy as
    // receiver costs more per read and differs only for an accessor that reads `this`.
    if (!this.closed) return (target as unknown as Record<string | symbol, unknown>)[key];
    // Reading the iterator or an item after close() is iterating after close().
    if (key === Symbol.iterator || (key !== 'length' && Object.hasOwn(target, key))) {
      afterClose(this.#context.report);
    }
    return Reflect.get(target, key, receiver);
  }

  has(target: unknown[], key: string | symbol): boolean {
    return key === 'close' || Reflect.has(target, key);
  }

  #closeBody(target: unknown[]): void | Promise<void> {
    this.#context.unclosed.closed(this);
    return (target as Closable).close?.() as void | Promise<void>;
  }
}

function wrapArray(body: unknown[], exchange: Exchange, context: BodyContext): ResponseBody {
  const report = context.report;
  for (let index = 0; index < body.length; index++) checkItem(body[index], index, report);
  if (body.length > 0 && !exchange.started) beforeStart(report);
  const traps = new ArrayTraps(context);
  const proxy = new Proxy(body, traps) as ResponseBody;
  context.unclosed.track(proxy, traps);
  return proxy;
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
