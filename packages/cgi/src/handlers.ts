/**
 * `wsgiref.handlers`' CGI handlers: `BaseCGIHandler`, `CGIHandler` and `IISCGIHandler`.
 *
 * @module
 */
import { isClientDisconnect } from '@wsgi/core';
import type { Application } from '@wsgi/core';
import { SimpleHandler } from '@wsgi/simple/handlers';

import { cgiInput, guardStdio, removeRequestProxy } from './_process.ts';
import { readEnviron } from './read-environ.ts';

/**
 * A handler for CGI-like gateways that have input, output and error streams and an environ
 * mapping (FastCGI-style bridges, a CGI process): a `SimpleHandler` that is not the origin
 * server, so it writes `Status: 200 OK` and the headers, and leaves the status line, `Date`
 * and `Server` to the web server. `wsgi.run_once` is `false`.
 *
 * The constructor is `SimpleHandler`'s: `(stdin, stdout, stderr, environ, { multithread =
 * true, multiprocess = false })`.
 *
 * @see Python's `wsgiref.handlers.BaseCGIHandler`; RFC 3875 §6.3.3 (the `Status` field).
 */
export class BaseCGIHandler extends SimpleHandler {
  override originServer = false;
}

/**
 * The handler of a CGI process, shared by {@link CGIHandler} and {@link IISCGIHandler}: fd 0
 * up to `CONTENT_LENGTH`, `process.stdout`, `process.stderr`, one request per process.
 */
abstract class ProcessCGIHandler extends BaseCGIHandler {
  override wsgiRunOnce = true;
  /** Empty: the process environment never leaks into the environ beyond `readEnviron()`. */
  override osEnviron: Record<string, string> = {};

  protected constructor(environ: Record<string, string>) {
    // Some servers (lighttpd) pass the request's Content-Type and Content-Length a second time
    // as HTTP_CONTENT_TYPE/HTTP_CONTENT_LENGTH. PEP 3333 forbids them (the validator refuses
    // them), and the body length must come from CONTENT_LENGTH alone, so they are dropped.
    delete environ['HTTP_CONTENT_TYPE'];
    delete environ['HTTP_CONTENT_LENGTH'];
    super(cgiInput(environ), process.stdout, process.stderr, environ, {
      multithread: false,
      multiprocess: true,
    });
    guardStdio();
    removeRequestProxy();
  }

  /**
   * Runs the application; the process then ends by itself once the response has been written
   * out (nothing is left open that would keep it alive). Exits non-zero when the response
   * could not be completed.
   */
  override async run(application: Application): Promise<void> {
    try {
      await super.run(application);
    } catch (error) {
      process.exitCode = 1;
      throw error;
    }
  }

  /**
   * As `BaseHandler.handleError()`; a failure once output has started (so no error page can
   * be sent) also makes the process exit non-zero, telling the web server the response is cut.
   */
  override handleError(error: unknown): ReturnType<SimpleHandler['handleError']> {
    if (this.headersSent && !isClientDisconnect(error)) process.exitCode = 1;
    return super.handleError(error);
  }
}

/**
 * Runs an application as a CGI script: the request from `readEnviron()` and stdin (never read
 * past `CONTENT_LENGTH`), the response to stdout, errors to stderr. `wsgi.run_once` is
 * `true`, `wsgi.multithread` `false`, `wsgi.multiprocess` `true`, and `osEnviron` is empty.
 *
 * The request's `HTTP_PROXY` stays in the environ but is removed from `process.env` (httpoxy).
 * `HTTP_CONTENT_TYPE` and `HTTP_CONTENT_LENGTH`, which some servers add beside `CONTENT_TYPE`
 * and `CONTENT_LENGTH`, are dropped (PEP 3333 forbids them in the environ).
 * A web server that went away ends the script quietly; a failure after output started logs
 * the stack to stderr and sets a non-zero exit code.
 *
 * @example
 * ```js
 * #!/usr/bin/env node
 * import { CGIHandler } from '@wsgi/cgi';
 * await new CGIHandler().run(app);
 * ```
 * @see Python's `wsgiref.handlers.CGIHandler`; RFC 3875.
 */
export class CGIHandler extends ProcessCGIHandler {
  constructor() {
    super(readEnviron());
  }
}

/**
 * {@link CGIHandler} for IIS without `allowPathInfo`: IIS repeats `SCRIPT_NAME` at the front of
 * `PATH_INFO`, and this handler removes it (`/app.cgi/a/b` gives `PATH_INFO` `/a/b`, not
 * `/app.cgi/a/b`).
 *
 * @see Python's `wsgiref.handlers.IISCGIHandler`
 */
export class IISCGIHandler extends ProcessCGIHandler {
  constructor() {
    const environ = readEnviron();
    const path = environ['PATH_INFO'] ?? '';
    const script = environ['SCRIPT_NAME'] ?? '';
    if (`${path}/`.startsWith(`${script}/`)) environ['PATH_INFO'] = path.slice(script.length);
    super(environ);
  }
}
