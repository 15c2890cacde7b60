import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { readEnviron } from '../src/index.ts';
import { FIXTURES, HAS_PYTHON, NODE, run, withRawEnv } from './_cgi.ts';
import { PYTHON } from './_lighttpd.ts';

const native = (bytes: number[]): string => Buffer.from(bytes).toString('latin1');
const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');

describe('readEnviron(env)', () => {
  it('turns the request variables into native strings of their UTF-8 bytes', () => {
    const environ = readEnviron({
      SCRIPT_NAME: '/cgi-bin/caf\u00e9.cgi',
      PATH_INFO: '/\u20ac',
      QUERY_STRING: 'q=\u00e9',
      REQUEST_METHOD: 'GET',
      AUTH_TYPE: 'B\u00e9',
      CONTENT_TYPE: 'text/plain; name=\u00e9',
      CONTENT_LENGTH: '12',
      HTTPS: 'on',
      REMOTE_USER: 'j\u00f6rg',
      REMOTE_IDENT: '\u00e9',
      HTTP_X_NAME: '\u00e9',
      SSL_CLIENT_S_DN: 'CN=\u00e9',
    });
    expect(environ).toEqual({
      SCRIPT_NAME: '/cgi-bin/caf\u00c3\u00a9.cgi',
      PATH_INFO: native([0x2f, 0xe2, 0x82, 0xac]),
      QUERY_STRING: 'q=\u00c3\u00a9',
      REQUEST_METHOD: 'GET',
      AUTH_TYPE: 'B\u00c3\u00a9',
      CONTENT_TYPE: 'text/plain; name=\u00c3\u00a9',
      CONTENT_LENGTH: '12',
      HTTPS: 'on',
      REMOTE_USER: 'j\u00c3\u00b6rg',
      REMOTE_IDENT: '\u00c3\u00a9',
      HTTP_X_NAME: '\u00c3\u00a9',
      SSL_CLIENT_S_DN: 'CN=\u00c3\u00a9',
    });
  });

  it('keeps every other variable as it is, REDIRECT_ forms only of request variables', () => {
    const env = {
      SERVER_NAME: 'caf\u00e9.test',
      PATH: '/usr/bin',
      HOME: '/home/\u20ac',
      REDIRECT_PATH_INFO: '/\u00e9',
      REDIRECT_REDIRECT_HTTP_HOST: '\u00e9',
      REDIRECT_STATUS: '200 \u00e9',
      REDIRECT_: '\u00e9',
      HTTPSX: '\u00e9',
      XHTTP_A: '\u00e9',
      http_x: '\u00e9',
    };
    expect(readEnviron(env)).toEqual({
      ...env,
      REDIRECT_PATH_INFO: '/\u00c3\u00a9',
      REDIRECT_REDIRECT_HTTP_HOST: '\u00c3\u00a9',
    });
  });

  it('returns a new object, skips unset variables and leaves env alone', () => {
    const env: NodeJS.ProcessEnv = { PATH_INFO: '/\u00e9', GONE: undefined };
    const environ = readEnviron(env);
    expect(environ).toEqual({ PATH_INFO: '/\u00c3\u00a9' });
    expect(env).toEqual({ PATH_INFO: '/\u00e9', GONE: undefined });
    expect(environ).not.toBe(env);
    expect(readEnviron({})).toEqual({});
  });

  it('reads process.env by default, taking a variable set since start-up from process.env', () => {
    process.env['HTTP_X_WSGI_CGI_TEST'] = '\u00e9';
    process.env['WSGI_CGI_TEST_OTHER'] = '\u00e9';
    const environ = readEnviron();
    expect(environ['HTTP_X_WSGI_CGI_TEST']).toBe('\u00c3\u00a9');
    expect(environ['WSGI_CGI_TEST_OTHER']).toBe('\u00e9');
    expect(environ['PATH']).toBe(process.env['PATH']);
    expect(Object.keys(environ).sort()).toEqual(
      Object.keys(process.env)
        .filter((name) => process.env[name] !== undefined)
        .sort(),
    );
  });

  afterEach(() => {
    delete process.env['HTTP_X_WSGI_CGI_TEST'];
    delete process.env['WSGI_CGI_TEST_OTHER'];
  });
});

/** Bytes a web server may put in the environment; several are not valid UTF-8. */
const RAW: Record<string, Uint8Array> = {
  PATH_INFO: new Uint8Array([0x2f, 0x63, 0x61, 0x66, 0xc3, 0xa9, 0x2f, 0xff, 0x20, 0x80]),
  QUERY_STRING: utf8('q=%FF&r=\u00e9'),
  SCRIPT_NAME: new Uint8Array([0x2f, 0xe9, 0x2e, 0x63, 0x67, 0x69]),
  HTTP_X_LATIN1: new Uint8Array([0x63, 0x61, 0x66, 0xe9]),
  HTTP_X_UTF8: utf8('\u20ac \ud83d\ude00'),
  SSL_CLIENT_S_DN: new Uint8Array([0x43, 0x4e, 0x3d, 0xfe]),
  REDIRECT_HTTP_X: new Uint8Array([0xc0, 0xaf]),
  REMOTE_USER: new Uint8Array([0xed, 0xa0, 0x80]),
  CONTENT_TYPE: utf8('text/plain'),
  SERVER_NAME: utf8('caf\u00e9.test'),
  REDIRECT_STATUS: utf8('\u00e9'),
};
const NAMES = [...Object.keys(RAW), 'HTTP_MISSING'];

async function environCodes(argv: string[]): Promise<Record<string, number[] | null>> {
  const [command, args] = withRawEnv(RAW, [...argv, ...NAMES]);
  const result = await run(command, args, { env: {} });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout.toString('utf8')) as Record<string, number[] | null>;
}

describe('readEnviron() in a CGI process', () => {
  it('gives every byte the web server set, UTF-8 or not, from /proc/self/environ', async () => {
    const codes = await environCodes([NODE, join(FIXTURES, 'print-environ.mjs')]);
    for (const [name, bytes] of Object.entries(RAW)) {
      if (name === 'SERVER_NAME' || name === 'REDIRECT_STATUS') continue;
      expect(codes[name], name).toEqual(Array.from(bytes));
    }
    // Not request variables: Node's own UTF-8 decoding.
    expect(codes['SERVER_NAME']).toEqual(Array.from('caf\u00e9.test', (c) => c.charCodeAt(0)));
    expect(codes['REDIRECT_STATUS']).toEqual([0xe9]);
    expect(codes['HTTP_MISSING']).toBeNull();
  });

  it.skipIf(!HAS_PYTHON && process.env['CI'] === undefined)(
    "agrees with Python's read_environ() on the same bytes",
    async () => {
      const script = [
        'import json, sys',
        'from wsgiref.handlers import read_environ',
        'env = read_environ()',
        'print(json.dumps({k: [ord(c) for c in env[k]] if k in env else None for k in sys.argv[1:]}))',
      ].join('\n');
      const python = await environCodes([PYTHON, '-I', '-c', script]);
      const ours = await environCodes([NODE, join(FIXTURES, 'print-environ.mjs')]);
      expect(ours).toEqual(python);
    },
  );
});
