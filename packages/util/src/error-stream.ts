/**
 * `wsgi.errors`: an `ErrorStream` over a Node `Writable` or anything with `write(string)`.
 *
 * @module
 */
import { describe } from './_latin1.ts';
import type { ErrorStream } from './types.ts';

/**
 * What `toErrorStream` accepts: a Node `Writable` or any object with `write(string)` (and, if it
 * has them, `flush()`, `writableEnded`, `destroyed`).
 *
 * @see PEP 3333, "Input and Error Streams"
 */
export interface ErrorSink {
  write(s: string): unknown;
  flush?(): unknown;
  readonly writableEnded?: boolean;
  readonly destroyed?: boolean;
}

function checkText(s: unknown): string {
  if (typeof s !== 'string') {
    throw new TypeError(`wsgi.errors takes strings, got ${describe(s)}`);
  }
  return s;
}

/**
 * Wraps a Node `Writable` (such as `process.stderr`) or any object with `write(string)` as
 * `environ['wsgi.errors']`. `write` and `writelines` take strings only (`TypeError` otherwise);
 * `flush` calls the sink's `flush()` when it has one. Writes to a `Writable` that has ended or
 * been destroyed are dropped, so logging can never crash a server with a stream error.
 *
 * @throws TypeError when `writable` has no `write` method.
 * @see PEP 3333, "Input and Error Streams"
 */
export function toErrorStream(writable: ErrorSink): ErrorStream {
  if (typeof (writable as Partial<ErrorSink> | null)?.write !== 'function') {
    throw new TypeError(`toErrorStream() needs an object with write(), got ${describe(writable)}`);
  }
  const write = (s: string): void => {
    if (writable.writableEnded === true || writable.destroyed === true) return;
    writable.write(s);
  };
  return {
    write(s) {
      write(checkText(s));
    },
    writelines(lines) {
      for (const line of lines) write(checkText(line));
    },
    flush() {
      if (typeof writable.flush === 'function') writable.flush();
    },
  };
}

/**
 * An in-memory `ErrorStream` (Python's `StringIO`): `toString()` gives everything written.
 * Internal: `setupTestingDefaults` puts one in `wsgi.errors`.
 *
 * @see Python `wsgiref.util.setup_testing_defaults`
 */
export class MemoryErrorStream implements ErrorStream {
  #text = '';

  write(s: string): void {
    this.#text += checkText(s);
  }

  writelines(lines: Iterable<string>): void {
    for (const line of lines) this.write(line);
  }

  flush(): void {
    // Nothing is buffered.
  }

  toString(): string {
    return this.#text;
  }
}
