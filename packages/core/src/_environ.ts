/**
 * Building a request's environ for `BaseHandler.setupEnviron()`: the streams from the hooks,
 * then the `wsgi.*` keys and `SERVER_SOFTWARE`.
 *
 * @module
 */
import { FileWrapper } from '@wsgi/util';
import type { Environ, ErrorStream, FileLike, InputStream } from '@wsgi/util';

import { isThenable } from './_maybe.ts';

/** The default `wsgiVersion`. */
export const WSGI_VERSION: readonly [number, number] = Object.freeze([1, 0] as const);

/** `process.env` as it was when this module loaded (Python reads `os.environ` at import). */
export const OS_ENVIRON: Record<string, string> = Object.fromEntries(
  Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
);

/** Never set: the stores in {@link PlainObject} only size its objects, they never run. */
let sizingOnly = false;

/**
 * `new PlainObject()` is a plain object: its prototype is `Object.prototype` and it has no
 * property, like `{}`. What differs is unseen: V8 sizes the objects of a constructor by the
 * `this[...] =` stores in its body, so these are made with room for about 30 properties inside
 * the object itself, where `{}` has room for 4. An environ gets about 25 from a server; once
 * more than 12 live outside the object, V8 turns it into a slow dictionary at the next store
 * under a computed key (such as the `HTTP_*` variables of a request's headers): with a
 * browser's dozen headers that cost about 0.8 µs per request, in stores and in every read.
 */
function PlainObject(this: Record<string, unknown>): void {
  if (sizingOnly) {
    this['a'] = this['b'] = this['c'] = this['d'] = this['e'] = this['f'] = this['g'] = undefined;
    this['h'] = this['i'] = this['j'] = this['k'] = this['l'] = this['m'] = this['n'] = undefined;
    this['o'] = this['p'] = this['q'] = this['r'] = this['s'] = this['t'] = this['u'] = undefined;
    this['v'] = this['w'] = this['x'] = undefined;
    sizingOnly = false;
  }
}
PlainObject.prototype = Object.prototype;

/** A new, empty environ (see {@link PlainObject}). */
export function newEnviron(): Environ {
  return new (PlainObject as unknown as new () => Environ)();
}

/** `environ['wsgi.file_wrapper']` for the default `FileWrapper`: one function, not one per request. */
function wrapFile(file: FileLike, blockSize?: number): FileWrapper {
  return new FileWrapper(file, blockSize);
}

/** The public `BaseHandler` members the environ is built from. */
export interface EnvironSource {
  readonly wsgiVersion: readonly [number, number];
  readonly wsgiMultithread: boolean;
  readonly wsgiMultiprocess: boolean;
  readonly wsgiRunOnce: boolean;
  readonly originServer: boolean;
  readonly serverSoftware: string | null;
  readonly wsgiFileWrapper: typeof FileWrapper | null;
  getScheme(): string;
  getStdin(): InputStream | Promise<InputStream>;
  getStderr(): ErrorStream | Promise<ErrorStream>;
}

/**
 * Adds `wsgi.input` (`getStdin()`), `wsgi.errors` (`getStderr()`) and the other `wsgi.*` keys
 * to `environ`; plain calls while the hooks are synchronous, so no closure per request.
 */
export function addStreams(handler: EnvironSource, environ: Environ): void | Promise<void> {
  const input = handler.getStdin();
  if (isThenable(input)) {
    return Promise.resolve(input).then((stream) => addErrors(handler, environ, stream));
  }
  return addErrors(handler, environ, input);
}

function addErrors(
  handler: EnvironSource,
  environ: Environ,
  input: InputStream,
): void | Promise<void> {
  const errors = handler.getStderr();
  if (isThenable(errors)) {
    return Promise.resolve(errors).then((stream) => {
      fillEnviron(handler, environ, input, stream);
    });
  }
  fillEnviron(handler, environ, input, errors);
}

function fillEnviron(
  handler: EnvironSource,
  environ: Environ,
  input: InputStream,
  errors: ErrorStream,
): void {
  environ['wsgi.input'] = input;
  environ['wsgi.errors'] = errors;
  environ['wsgi.version'] = handler.wsgiVersion;
  environ['wsgi.run_once'] = handler.wsgiRunOnce;
  environ['wsgi.url_scheme'] = handler.getScheme();
  environ['wsgi.multithread'] = handler.wsgiMultithread;
  environ['wsgi.multiprocess'] = handler.wsgiMultiprocess;
  const Wrapper = handler.wsgiFileWrapper;
  if (Wrapper === FileWrapper) {
    environ['wsgi.file_wrapper'] = wrapFile;
  } else if (Wrapper !== null) {
    environ['wsgi.file_wrapper'] = (file: FileLike, blockSize?: number) =>
      new Wrapper(file, blockSize);
  }
  if (handler.originServer && handler.serverSoftware && !('SERVER_SOFTWARE' in environ)) {
    environ['SERVER_SOFTWARE'] = handler.serverSoftware;
  }
}
