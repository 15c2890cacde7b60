/**
 * The protocol types of PEP 3333, in TypeScript.
 *
 * @see https://peps.python.org/pep-3333/ — the Python module these mirror is `wsgiref.types`.
 * @module
 */
import type { FileHandle } from 'node:fs/promises';

import type { FileWrapper } from './file-wrapper.ts';

/**
 * Bytes are `Uint8Array`s (a `Buffer` is one). Strings are never bytes.
 *
 * @see PEP 3333, "Unicode Issues"
 */
export type Bytes = Uint8Array;

/**
 * The `write()` callable returned by `startResponse`. It resolves once the data has been
 * handed to the transport; calls made without awaiting are still sent in order.
 *
 * @see PEP 3333, "The write() Callable"
 */
export type Write = (data: Uint8Array) => Promise<void>;

/**
 * `start_response(status, response_headers, exc_info=None)`.
 *
 * `status` is `"200 OK"`-style; `headers` are `[name, value]` pairs of native strings;
 * `excInfo` is the caught error when the application replaces its response after an error.
 * If headers were already sent, calling it with `excInfo` throws that error.
 *
 * @see PEP 3333, "The start_response() Callable"
 */
export type StartResponse = (
  status: string,
  headers: Array<[string, string]>,
  excInfo?: unknown,
) => Write;

/**
 * What an application returns: any iterable or async iterable of byte chunks, optionally with
 * a `close()` the server calls exactly once when it is done with the body.
 *
 * @see PEP 3333, "Specification Details" (the returned iterable and its `close()`)
 */
export type ResponseBody = (Iterable<Uint8Array> | AsyncIterable<Uint8Array>) & {
  close?(): void | Promise<void>;
};

/**
 * A WSGI application: called once per request with the environ and `startResponse`.
 * An `async` function is a valid application.
 *
 * @see PEP 3333, "The Application/Framework Side"
 */
export type Application = (
  environ: Environ,
  startResponse: StartResponse,
) => ResponseBody | Promise<ResponseBody>;

/**
 * `environ['wsgi.input']`: the request body.
 *
 * @see PEP 3333, "Input and Error Streams"
 */
export interface InputStream {
  /** Up to `size` bytes; with no size (or a negative one) everything that is left. */
  read(size?: number): Promise<Uint8Array>;
  /** One line, up to and including `\n`, at most `size` bytes when a size is given. */
  readline(size?: number): Promise<Uint8Array>;
  /** The remaining lines; stops once `hint` bytes (if positive) have been read. */
  readlines(hint?: number): Promise<Uint8Array[]>;
  /** Iterates line by line. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
}

/**
 * `environ['wsgi.errors']`: a text stream for error output.
 *
 * @see PEP 3333, "Input and Error Streams"
 */
export interface ErrorStream {
  write(s: string): void;
  writelines(lines: Iterable<string>): void;
  flush(): void;
}

/**
 * An object `FileWrapper` can read from: anything with `read(size)` (bytes, empty at the end)
 * and an optional `close()`.
 *
 * @see PEP 3333, "Optional Platform-Specific File Handling"
 */
export interface ReadableFileLike {
  read(size: number): Uint8Array | Promise<Uint8Array>;
  close?(): void | Promise<void>;
}

/**
 * What `wsgi.file_wrapper` accepts: an `fs.promises.FileHandle`, a file descriptor, or any
 * object with `read(size)` (returning bytes, empty at the end) and an optional `close()`.
 *
 * @see PEP 3333, "Optional Platform-Specific File Handling"
 */
export type FileLike = FileHandle | number | ReadableFileLike;

/**
 * The request environment: CGI variables and the `wsgi.*` keys. All CGI values are PEP 3333
 * "native strings": one character per byte, char codes 0–255 (latin-1 of the raw bytes).
 *
 * @see PEP 3333, "environ Variables"
 */
export interface Environ {
  REQUEST_METHOD: string;
  SCRIPT_NAME: string;
  PATH_INFO: string;
  QUERY_STRING?: string;
  CONTENT_TYPE?: string;
  CONTENT_LENGTH?: string;
  SERVER_NAME: string;
  SERVER_PORT: string;
  SERVER_PROTOCOL: string;
  'wsgi.version': readonly [number, number];
  'wsgi.url_scheme': string;
  'wsgi.input': InputStream;
  'wsgi.errors': ErrorStream;
  'wsgi.multithread': boolean;
  'wsgi.multiprocess': boolean;
  'wsgi.run_once': boolean;
  'wsgi.file_wrapper'?: (file: FileLike, blockSize?: number) => FileWrapper;
  [key: string]: unknown;
}
