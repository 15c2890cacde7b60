/**
 * The types shared by `toFetchHandler` and `fromFetchHandler`.
 *
 * @module
 */
import type { ErrorStream } from '@wsgi/core';
import type { ErrorSink } from '@wsgi/util';

/**
 * A Fetch-style handler, as `Deno.serve`, `Bun.serve`, srvx, Hono and service workers call
 * it: a `Request` in, a `Response` (or a promise of one) out.
 *
 * @see WHATWG Fetch, "Request class" and "Response class"
 */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/**
 * Options of {@link toFetchHandler}.
 *
 * @see PEP 3333, "environ Variables"
 */
export interface ToFetchHandlerOptions {
  /**
   * `SCRIPT_NAME`, the mount point of the application: `''` (the default) or a path starting
   * with `/` and not ending with one, in native-string form (percent-decoded, one character
   * per byte). A request path that starts with it (up to a `/` or its end) has it taken off
   * for `PATH_INFO`; any other path is `PATH_INFO` whole, for hosts that strip the prefix
   * themselves (Hono's `mount()`).
   */
  scriptName?: string | undefined;
  /**
   * Where `wsgi.errors` (and so tracebacks of the application) go: an `ErrorStream`, or a
   * Node `Writable` or anything with `write(string)` (wrapped with `toErrorStream`).
   * Default: `process.stderr`.
   */
  errors?: ErrorStream | ErrorSink | undefined;
}
