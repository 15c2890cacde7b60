/**
 * `wsgiref.handlers.SimpleHandler`: a handler over plain streams.
 *
 * @module
 */
import type { Writable } from 'node:stream';

import { BaseHandler, isClientDisconnect } from '@wsgi/core';
import { toErrorStream, toInputStream } from '@wsgi/util';
import type { Application, Environ, ErrorStream, InputSource, InputStream } from '@wsgi/util';

import { destroyedError, drained } from './_streams.ts';

/** The options of {@link SimpleHandler}, as Python's keyword arguments. */
export interface SimpleHandlerOptions {
  /** `wsgi.multithread`. Default `true`. */
  multithread?: boolean;
  /** `wsgi.multiprocess`. Default `false`. */
  multiprocess?: boolean;
}

function isInputStream(value: unknown): value is InputStream {
  const candidate = value as Partial<InputStream> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.readline === 'function' &&
    typeof candidate.readlines === 'function'
  );
}

function isErrorStream(value: unknown): value is ErrorStream {
  const candidate = value as Partial<ErrorStream> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.writelines === 'function' &&
    typeof candidate.flush === 'function'
  );
}

/**
 * A handler given its streams and CGI variables: it reads the request body from `stdin`,
 * writes the raw response (status line, headers, body) to the `Writable` `stdout`, and logs to
 * `stderr`. A write that `stdout` cannot take at once waits for `drain`, so a slow reader never
 * makes the response pile up in memory; an `error` of `stdout` fails the request instead of
 * crashing the process (a reader that went away ends it quietly).
 *
 * @param stdin - `wsgi.input`: an `InputStream`, or anything `toInputStream()` takes.
 * @param stdout - where the response goes.
 * @param stderr - `wsgi.errors`: an `ErrorStream` or a `Writable`.
 * @param environ - the CGI variables, copied into each request's environ.
 * @see Python's `wsgiref.handlers.SimpleHandler`
 */
export class SimpleHandler extends BaseHandler {
  /** `wsgi.input`. */
  readonly stdin: InputStream;
  /** The stream the response is written to. */
  readonly stdout: Writable;
  /** `wsgi.errors`. */
  readonly stderr: ErrorStream;
  /** The CGI variables given to the constructor (Python's `base_env`). */
  readonly baseEnv: Readonly<Record<string, unknown>>;
  #error: Error | undefined = undefined;
  /** Writes handed to `stdout` whose callback has not run yet. */
  #pending = 0;
  /** Called when `#pending` drops to 0, while `run()` waits for that. */
  #idle: (() => void) | undefined = undefined;
  #onWritten: ((error: Error | null | undefined) => void) | undefined;

  constructor(
    stdin: InputStream | InputSource,
    stdout: Writable,
    stderr: ErrorStream | Writable,
    environ: Readonly<Record<string, unknown>>,
    { multithread = true, multiprocess = false }: SimpleHandlerOptions = {},
  ) {
    super();
    this.stdin = isInputStream(stdin) ? stdin : toInputStream(stdin);
    this.stdout = stdout;
    this.stderr = isErrorStream(stderr) ? stderr : toErrorStream(stderr);
    this.baseEnv = environ;
    this.wsgiMultithread = multithread;
    this.wsgiMultiprocess = multiprocess;
  }

  /**
   * Whether `run()` listens for `error` events of `stdout` (and waits for what was written to
   * leave). A subclass whose `stdout` reports failures otherwise may turn it off.
   */
  protected watchStdout = true;

  override run(application: Application): Promise<void> {
    return this.watchStdout ? this.#runWatched(application) : super.run(application);
  }

  async #runWatched(application: Application): Promise<void> {
    const stdout = this.stdout;
    const onError = (error: unknown): void => {
      this.#error ??= error instanceof Error ? error : new Error(String(error));
    };
    stdout.on('error', onError);
    try {
      await super.run(application);
      // Keep listening until every write has completed, so a late error is seen and reported.
      if (this.#pending > 0 && !stdout.destroyed) {
        const seen = this.#error;
        await new Promise<void>((resolve) => {
          const done = (): void => {
            stdout.off('close', done);
            this.#idle = undefined;
            resolve();
          };
          this.#idle = done;
          stdout.once('close', done);
        });
        const late = this.#error;
        if (late !== undefined && late !== seen && !isClientDisconnect(late)) {
          this.stderr.write(`SimpleHandler: writing the response failed: ${String(late)}\n`);
        }
      }
    } finally {
      this.#idle = undefined;
      stdout.off('error', onError);
    }
  }

  /** Counts a completed write; the first error is kept for the next `_write()`/`_flush()`. */
  #written(error: Error | null | undefined): void {
    if (error) this.#error ??= error;
    this.#pending -= 1;
    if (this.#pending === 0) this.#idle?.();
  }

  override getStdin(): InputStream {
    return this.stdin;
  }

  override getStderr(): ErrorStream {
    return this.stderr;
  }

  override addCgiVars(environ: Environ): void {
    Object.assign(environ, this.baseEnv);
  }

  /** Writes `data` whole; waits for `drain` when `stdout` is full. */
  override _write(data: Uint8Array): void | Promise<void> {
    const stdout = this.stdout;
    if (this.#error !== undefined) throw this.#error;
    if (stdout.destroyed || stdout.writableEnded) throw stdout.errored ?? destroyedError();
    this.#pending += 1;
    if (stdout.write(data, (this.#onWritten ??= this.#written.bind(this)))) return undefined;
    return drained(stdout);
  }

  /** Surfaces an error `stdout` reported since the last write. */
  override _flush(): void {
    if (this.#error !== undefined) throw this.#error;
  }
}
