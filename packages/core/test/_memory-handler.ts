/**
 * A handler that writes to memory, like `wsgiref`'s own test `ErrorHandler`: the request comes
 * from a small testing environ, the response bytes and the error text are kept for the test.
 */
import { setImmediate as tick } from 'node:timers/promises';

import { setupTestingDefaults, toInputStream } from '@wsgi/util';

import { BaseHandler } from '../src/index.ts';
import type { Application, Environ, ErrorStream, InputStream } from '../src/index.ts';

/** Latin-1 text as bytes. */
export const enc = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The default error page of a gateway (CGI-mode) handler. */
export const ERROR_PAGE =
  'Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 59\r\n\r\n' +
  'A server error occurred.  Please contact the administrator.';

export interface MemoryOptions {
  /** Extra or replaced CGI variables. */
  environ?: Record<string, string>;
  /** The request body (latin-1), empty by default. */
  input?: string;
  /** Hooks answer with promises resolved a macrotask later. */
  async?: boolean;
  /** `_write()` throws (or rejects) with this error from the `failAt`-th call on (0-based). */
  failWith?: Error;
  failAt?: number;
}

/** An `ErrorStream` that keeps what is written. */
export class MemoryErrors implements ErrorStream {
  text = '';
  flushes = 0;
  write(s: string): void {
    this.text += s;
  }
  writelines(lines: Iterable<string>): void {
    for (const line of lines) this.text += line;
  }
  flush(): void {
    this.flushes += 1;
  }
}

/** A `NodeJS.ErrnoException`-like error with a `code`, as a socket reports it. */
export function codedError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

export class MemoryHandler extends BaseHandler {
  /** Each `_write()` call's bytes, copied. */
  readonly writes: Uint8Array[] = [];
  flushes = 0;
  readonly errors = new MemoryErrors();
  readonly #options: MemoryOptions;

  constructor(options: MemoryOptions = {}) {
    super();
    this.#options = options;
    this.osEnviron = {};
  }

  /** Everything written, as latin-1 text. */
  get output(): string {
    return Buffer.concat(this.writes).toString('latin1');
  }

  /** Everything written, as bytes. */
  get bytes(): Buffer {
    return Buffer.concat(this.writes);
  }

  _write(data: Uint8Array): void | Promise<void> {
    const { failWith, failAt = 0 } = this.#options;
    const fail = failWith !== undefined && this.writes.length >= failAt;
    if (!fail) this.writes.push(Uint8Array.from(data));
    if (this.#options.async === true) {
      return tick().then(() => {
        if (fail) throw failWith;
      });
    }
    if (fail) throw failWith;
  }

  _flush(): void | Promise<void> {
    this.flushes += 1;
    if (this.#options.async === true) return tick().then(() => undefined);
  }

  getStdin(): InputStream | Promise<InputStream> {
    const input = toInputStream(Buffer.from(this.#options.input ?? '', 'latin1'));
    return this.#options.async === true ? tick().then(() => input) : input;
  }

  getStderr(): ErrorStream | Promise<ErrorStream> {
    return this.#options.async === true ? tick().then(() => this.errors) : this.errors;
  }

  addCgiVars(environ: Environ): void | Promise<void> {
    // The CGI variables of setup_testing_defaults(), as wsgiref's test handler gets them.
    const base: Record<string, unknown> = { ...this.#options.environ };
    setupTestingDefaults(base);
    for (const [key, value] of Object.entries(base)) {
      if (!key.startsWith('wsgi.')) environ[key] = value;
    }
    if (this.#options.async === true) return tick().then(() => undefined);
  }
}

/** A gateway-mode handler (`Status:` line, no `Date`), like wsgiref's test handler. */
export function cgi(options: MemoryOptions = {}): MemoryHandler {
  const handler = new MemoryHandler(options);
  handler.originServer = false;
  return handler;
}

/** Runs `app` through a new gateway-mode handler and returns the handler. */
export async function runCgi(
  app: Application,
  options: MemoryOptions = {},
): Promise<MemoryHandler> {
  const handler = cgi(options);
  await handler.run(app);
  return handler;
}
