/** A small fake of the server side: an environ, wsgi.input, wsgi.errors and a driver. */
import type { Application, Environ, ErrorStream, InputStream, ResponseBody } from '@wsgi/util';

/** An in-memory `wsgi.input`; with `strings`, it (wrongly) gives strings instead of bytes. */
export class TestInput implements InputStream {
  #data: Buffer;
  readonly #strings: boolean;

  constructor(data: string, options: { strings?: boolean } = {}) {
    this.#data = Buffer.from(data, 'latin1');
    this.#strings = options.strings ?? false;
  }

  #take(count: number): Uint8Array {
    const chunk = this.#data.subarray(0, count);
    this.#data = this.#data.subarray(count);
    return (this.#strings ? chunk.toString('latin1') : chunk) as Uint8Array;
  }

  read(size?: number): Promise<Uint8Array> {
    return Promise.resolve(this.#take(size === undefined || size < 0 ? this.#data.length : size));
  }

  readline(size?: number): Promise<Uint8Array> {
    const end = this.#data.indexOf(10);
    let count = end < 0 ? this.#data.length : end + 1;
    if (size !== undefined && size >= 0) count = Math.min(count, size);
    return Promise.resolve(this.#take(count));
  }

  async readlines(): Promise<Uint8Array[]> {
    const lines: Uint8Array[] = [];
    for await (const line of this) lines.push(line);
    return lines;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (let line = await this.readline(); line.length > 0; line = await this.readline()) {
      yield line;
    }
  }
}

/** An in-memory `wsgi.errors`. */
export class TestErrors implements ErrorStream {
  readonly written: string[] = [];

  write(s: string): void {
    this.written.push(s);
  }

  writelines(lines: Iterable<string>): void {
    for (const line of lines) this.write(line);
  }

  flush(): void {}
}

/** A complete, valid environ for `GET /` with the given body. */
export function makeEnviron(body = ''): Environ {
  return {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/',
    QUERY_STRING: '',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.0',
    'wsgi.version': [1, 0],
    'wsgi.url_scheme': 'http',
    'wsgi.input': new TestInput(body),
    'wsgi.errors': new TestErrors(),
    'wsgi.multithread': false,
    'wsgi.multiprocess': false,
    'wsgi.run_once': false,
  };
}

/** What {@link drive} saw. */
export interface Response {
  status: string | undefined;
  headers: Array<[string, string]> | undefined;
  chunks: Uint8Array[];
  body: ResponseBody;
}

/** Calls an application and reads its whole body (sync or async), then closes it. */
export async function drive(app: Application, environ: Environ = makeEnviron()): Promise<Response> {
  const response: Omit<Response, 'body'> = { status: undefined, headers: undefined, chunks: [] };
  const body = await app(environ, (status, headers) => {
    response.status = status;
    response.headers = headers;
    return async (data) => {
      response.chunks.push(data);
      await Promise.resolve();
    };
  });
  try {
    if (Symbol.iterator in body) for (const chunk of body) response.chunks.push(chunk);
    else for await (const chunk of body) response.chunks.push(chunk);
  } finally {
    await body.close?.();
  }
  return { ...response, body };
}
