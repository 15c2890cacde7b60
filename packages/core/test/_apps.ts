/**
 * The differential-test applications: each is the twin of the function of the same name in
 * fixtures/wsgiref_apps.py, run there through CPython's wsgiref.
 */
import type { Application, Environ, StartResponse, Write } from '../src/index.ts';
import { enc } from './_memory-handler.ts';

function start(
  s: StartResponse,
  status = '200 OK',
  headers: Array<[string, string]> = [['Content-Type', 'text/plain']],
): Write {
  return s(status, headers);
}

class ClosingBody implements Iterable<Uint8Array> {
  *[Symbol.iterator](): Iterator<Uint8Array> {
    yield enc('complete');
  }
  close(): void {
    throw new Error('close failed');
  }
}

export interface DiffApp {
  app: Application;
  /** The application logs nothing: wsgi.errors must stay empty on both sides. */
  quiet: boolean;
  environ?: Record<string, string>;
  input?: string;
}

const quiet = (app: Application, extra: Omit<DiffApp, 'app' | 'quiet'> = {}): DiffApp => ({
  app,
  quiet: true,
  ...extra,
});
const noisy = (app: Application): DiffApp => ({ app, quiet: false });

const flag = (v: unknown): string => (v === true ? '1' : '0');

export const APPS: Record<string, DiffApp> = {
  hello: quiet((_e, s) => {
    start(s);
    return [enc('Hello world!')];
  }),
  two_chunks: quiet((_e, s) => {
    start(s);
    return [enc('ab'), enc('cd')];
  }),
  empty: quiet((_e, s) => {
    start(s, '200 OK', []);
    return [];
  }),
  head_length: quiet(
    (_e, s) => {
      start(s, '200 OK', [['Content-Length', '12345']]);
      return [];
    },
    { environ: { REQUEST_METHOD: 'HEAD' } },
  ),
  write_then_empty: quiet((_e, s) => {
    void start(s)(enc('http'));
    return [];
  }),
  write_and_body: quiet((_e, s) => {
    const w = start(s);
    void w(enc('a'));
    return [enc('b'), enc('c')];
  }),
  generator: quiet((_e, s) => {
    start(s);
    return (function* () {
      yield enc('x');
      yield enc('y');
      yield enc('z');
    })();
  }),
  error_before_start: noisy(() => {
    throw new Error('before start');
  }),
  error_after_start: noisy((_e, s) => {
    start(s);
    throw new Error('after start');
  }),
  error_mid_body: noisy((_e, s) => {
    start(s);
    return (function* () {
      yield enc('a');
      throw new Error('mid body');
    })();
  }),
  error_after_write: noisy((_e, s) => {
    void start(s)(enc('partial'));
    throw new Error('after write');
  }),
  app_date_server: quiet((_e, s) => {
    start(s, '200 OK', [
      ['Date', 'Sun, 06 Nov 1994 08:49:37 GMT'],
      ['Server', 'App/1'],
    ]);
    return [enc('dated')];
  }),
  echo_environ: quiet(
    async (e: Environ, s) => {
      start(s);
      const text = [
        typeof e['SERVER_SOFTWARE'] === 'string' ? e['SERVER_SOFTWARE'] : '-',
        e['wsgi.url_scheme'],
        e.REQUEST_METHOD,
        e.PATH_INFO,
        e['wsgi.version'].join('.'),
        flag(e['wsgi.multithread']),
        flag(e['wsgi.multiprocess']),
        flag(e['wsgi.run_once']),
        flag(typeof e['wsgi.file_wrapper'] === 'function'),
        Buffer.from(await e['wsgi.input'].read()).toString('latin1'),
      ].join('|');
      return [enc(text)];
    },
    { environ: { HTTPS: 'on', PATH_INFO: '/caf\xc3\xa9' } },
  ),
  bad_status: noisy((_e, s) => {
    s('200', []);
    return [enc('never')];
  }),
  hop_by_hop: noisy((_e, s) => {
    s('200 OK', [['Connection', 'close']]);
    return [enc('never')];
  }),
  str_chunk: noisy((_e, s) => {
    start(s);
    return ['text'] as unknown as Uint8Array[];
  }),
  headers_twice: noisy((_e, s) => {
    start(s);
    start(s);
    return [enc('never')];
  }),
  exc_info_replace: quiet((_e, s) => {
    start(s, '200 OK', [['X-First', '1']]);
    try {
      throw new Error('failed while rendering');
    } catch (error) {
      s('503 Service Unavailable', [['Retry-After', '5']], error);
      return [enc('try later')];
    }
  }),
  no_start_empty: noisy(() => []),
  no_start_data: noisy(() => [enc('x')]),
  file_wrapper: quiet((e, s) => {
    start(s);
    const data = enc('0123456789');
    let offset = 0;
    const wrap = e['wsgi.file_wrapper'];
    if (wrap === undefined) throw new Error('no wsgi.file_wrapper');
    return wrap({ read: (n: number) => data.subarray(offset, (offset += n)) }, 4);
  }),
  error_in_close: noisy((_e, s) => {
    start(s);
    return new ClosingBody();
  }),
  unicode_body: quiet((_e, s) => {
    start(s, '200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
    return [Buffer.from('\u0442\u0435\u0441\u0442', 'utf8')];
  }),
  latin1_reason: quiet((_e, s) => {
    s('200 Caf\xe9', [['X-Note', 'na\xefve\tvalue']]);
    return [enc('ok')];
  }),
  large_body: quiet((_e, s) => {
    start(s);
    return [Buffer.alloc(20000, 'a')];
  }),
  many_chunks: quiet((_e, s) => {
    start(s);
    return Array.from({ length: 100 }, (_, i) => enc(`${String(i).padStart(3, '0')},`));
  }),
  empty_chunk_first: quiet((_e, s) => {
    start(s);
    return [new Uint8Array(), enc('abc')];
  }),
  single_empty_chunk: quiet((_e, s) => {
    start(s);
    return [new Uint8Array()];
  }),
  not_found: quiet((_e, s) => {
    s('404 Not Found', [
      ['Content-Type', 'text/html'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ]);
    return [enc('<h1>Not Found</h1>')];
  }),
};
