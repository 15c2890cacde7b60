/**
 * Sync-first sequencing: the handler's hooks may return a value or a promise, and a promise is
 * awaited only when one is returned, so a synchronous path costs no microtask.
 *
 * @module
 */

/** What a step returns: nothing, or a promise to wait for. */
export type Done = void | Promise<void>;

/** A rejection handler for a failure that is seen, and reported, elsewhere. */
export function ignore(): void {
  // Nothing to do: the failure is reported where it is awaited.
}

/** A value, or a promise of it. */
export type Maybe<T> = T | PromiseLike<T>;

/** Whether `value` is a promise (any thenable). */
export function isThenable<T>(value: Maybe<T>): value is PromiseLike<T> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Calls `next` with `value` right away when it is not a promise, else once it resolves.
 * The result is `next`'s own, or a promise of it.
 */
export function andThen<T, R>(value: Maybe<T>, next: (value: T) => R | Promise<R>): R | Promise<R> {
  if (isThenable(value)) return Promise.resolve(value).then(next);
  return next(value);
}
