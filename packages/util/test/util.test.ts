import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  applicationUri,
  guessScheme,
  isHopByHop,
  requestUri,
  setupTestingDefaults,
  shiftPathInfo,
  unquoteNative,
} from '../src/index.ts';
import type { ErrorStream } from '../src/index.ts';
import { plainSegment, uriEnviron } from './_arbitraries.ts';

const base = {
  'wsgi.url_scheme': 'http',
  SERVER_NAME: '127.0.0.1',
  SERVER_PORT: '80',
} as const;

/** Decodes `%XX` escapes into native-string characters (one per byte). */
const unquote = (s: string): string =>
  s.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

describe('guessScheme()', () => {
  it('says https only for HTTPS yes, on or 1', () => {
    for (const on of ['yes', 'on', '1']) expect(guessScheme({ HTTPS: on })).toBe('https');
    for (const off of [undefined, '', 'off', 'no', '0', 'YES', 'On', 1, true]) {
      expect(guessScheme({ HTTPS: off })).toBe('http');
    }
    expect(guessScheme({})).toBe('http');
  });
});

describe('applicationUri() and requestUri()', () => {
  it('build the URI from HTTP_HOST or SERVER_NAME and a non-default port', () => {
    expect(applicationUri(base)).toBe('http://127.0.0.1/');
    expect(applicationUri({ ...base, SERVER_PORT: '8080' })).toBe('http://127.0.0.1:8080/');
    expect(applicationUri({ ...base, 'wsgi.url_scheme': 'https', SERVER_PORT: '443' })).toBe(
      'https://127.0.0.1/',
    );
    expect(applicationUri({ ...base, 'wsgi.url_scheme': 'https' })).toBe('https://127.0.0.1:80/');
    expect(applicationUri({ ...base, HTTP_HOST: 'example.org:81', SERVER_PORT: '9' })).toBe(
      'http://example.org:81/',
    );
    expect(applicationUri({ ...base, HTTP_HOST: '' })).toBe('http://127.0.0.1/');
    expect(applicationUri({ ...base, SCRIPT_NAME: '/spammity' })).toBe('http://127.0.0.1/spammity');
  });

  it('join SCRIPT_NAME, PATH_INFO and the query', () => {
    const env = { ...base, SCRIPT_NAME: '/spammity', PATH_INFO: '/spam', QUERY_STRING: 'say=ni' };
    expect(requestUri(env)).toBe('http://127.0.0.1/spammity/spam?say=ni');
    expect(requestUri(env, false)).toBe('http://127.0.0.1/spammity/spam');
    expect(requestUri({ ...base, PATH_INFO: '/spam' })).toBe('http://127.0.0.1/spam');
    expect(requestUri({ ...base, SCRIPT_NAME: '', PATH_INFO: '' })).toBe('http://127.0.0.1/');
    expect(requestUri({ ...base, PATH_INFO: '/x', QUERY_STRING: '' })).toBe('http://127.0.0.1/x');
    // The query goes out as it came in.
    expect(requestUri({ ...base, QUERY_STRING: 'a b=%zz' })).toBe('http://127.0.0.1/?a b=%zz');
  });

  it('percent-quote native strings like quote(..., encoding="latin1")', () => {
    const env = { ...base, SCRIPT_NAME: '/a b;c=d,e', PATH_INFO: '/sp\u00e4m;x=1,2 %/~_.-' };
    expect(applicationUri(env)).toBe('http://127.0.0.1/a%20b%3Bc%3Dd%2Ce');
    expect(requestUri(env)).toBe('http://127.0.0.1/a%20b%3Bc%3Dd%2Ce/sp%E4m;x=1,2%20%25/~_.-');
    // UTF-8 bytes of `café` as a native string: one escape per byte.
    expect(requestUri({ ...base, PATH_INFO: '/caf\u00c3\u00a9' })).toBe(
      'http://127.0.0.1/caf%C3%A9',
    );
    expect(requestUri({ ...base, PATH_INFO: '/\0\r\n\x7f\xff' })).toBe(
      'http://127.0.0.1/%00%0D%0A%7F%FF',
    );
  });

  it('refuse missing keys, non-strings and characters above \\xff', () => {
    expect(() => applicationUri({ SERVER_NAME: 'h', SERVER_PORT: '80' })).toThrow(
      /wsgi\.url_scheme'] is missing/,
    );
    expect(() => applicationUri({ 'wsgi.url_scheme': 'http', SERVER_PORT: '80' })).toThrow(
      TypeError,
    );
    expect(() => applicationUri({ ...base, SERVER_PORT: 80 })).toThrow(/must be a string/);
    expect(() => requestUri({ ...base, PATH_INFO: 5 })).toThrow(TypeError);
    expect(() => requestUri({ ...base, QUERY_STRING: ['a'] })).toThrow(TypeError);
    expect(() => requestUri({ ...base, PATH_INFO: '/\u20ac' })).toThrow(
      expect.objectContaining({ code: 'ERR_WSGI_NOT_LATIN1' }) as Error,
    );
    expect(() => applicationUri({ ...base, SCRIPT_NAME: '/\u0100' })).toThrow(TypeError);
  });

  it('round-trip: unquoting the path gives SCRIPT_NAME + PATH_INFO back (property)', () => {
    fc.assert(
      fc.property(uriEnviron, (env) => {
        const uri = requestUri(env, false);
        const prefix = applicationUri({ ...env, SCRIPT_NAME: '' }).slice(0, -1);
        expect(uri.startsWith(prefix)).toBe(true);
        const path = uri.slice(prefix.length);
        expect(path).toMatch(/^[A-Za-z0-9_.~/;=,%-]*$/);
        const script = env.SCRIPT_NAME ?? '';
        const info = env.PATH_INFO ?? '';
        const expected = script === '' ? `/${info.slice(1)}` : script + info;
        expect(unquote(path)).toBe(expected);
        const query = env.QUERY_STRING ?? '';
        expect(requestUri(env)).toBe(query === '' ? uri : `${uri}?${query}`);
      }),
      { numRuns: 300 },
    );
  });
});

describe('shiftPathInfo()', () => {
  const shift = (scriptName: string, pathInfo: string): [string | undefined, unknown, unknown] => {
    const env: Record<string, unknown> = { SCRIPT_NAME: scriptName, PATH_INFO: pathInfo };
    const name = shiftPathInfo(env);
    return [name, env['SCRIPT_NAME'], env['PATH_INFO']];
  };

  it('moves one segment, normalizing as wsgiref does', () => {
    // [SCRIPT_NAME, PATH_INFO] -> [name, SCRIPT_NAME, PATH_INFO]
    const table: Array<[string, string, [string | undefined, string, string]]> = [
      ['', '/', ['', '/', '']],
      ['', '/x', ['x', '/x', '']],
      ['/', '/x', ['x', '//x', '']],
      ['/a', '/x/y', ['x', '/a/x', '/y']],
      ['/a', '/x/', ['x', '/a/x', '/']],
      ['/a/', '/x/y/', ['x', '/a/x', '/y/']],
      ['/a', '/x//y', ['x', '/a/x', '/y']],
      ['/a', '//x/./y/../', ['x', '/a/x', '/y/../']],
      ['/a', '/./x', ['x', '/a/x', '']],
      ['/a', '/.', [undefined, '/a', '']],
      ['/a', '/..', ['..', '', '']],
      ['/a/b', '/../c', ['..', '/a', '/c']],
      ['/a', '//', ['', '/a/', '']],
      ['/a', '/x/.', ['x', '/a/x', '/.']],
    ];
    for (const [scriptName, pathInfo, expected] of table) {
      expect(shift(scriptName, pathInfo), `${scriptName} + ${pathInfo}`).toEqual(expected);
    }
  });

  it('returns undefined and changes nothing for an empty or missing PATH_INFO', () => {
    expect(shift('/a', '')).toEqual([undefined, '/a', '']);
    const env: Record<string, unknown> = {};
    expect(shiftPathInfo(env)).toBeUndefined();
    expect(env).toEqual({});
  });

  it('treats a missing SCRIPT_NAME as empty', () => {
    const env: Record<string, unknown> = { PATH_INFO: '/a/b' };
    expect(shiftPathInfo(env)).toBe('a');
    expect(env).toEqual({ SCRIPT_NAME: '/a', PATH_INFO: '/b' });
  });

  it('refuses a PATH_INFO without a leading / and non-string values', () => {
    expect(() => shift('', 'abc')).toThrow(RangeError);
    expect(() => shift('', 'a/b')).toThrow(/start with '\/'/);
    expect(() => shiftPathInfo({ PATH_INFO: 3 })).toThrow(TypeError);
    expect(() => shiftPathInfo({ PATH_INFO: '/a', SCRIPT_NAME: null })).toThrow(TypeError);
  });

  it('round-trip: shifting a normal path walks its segments, keeping the URI (property)', () => {
    fc.assert(
      fc.property(
        fc.array(plainSegment, { maxLength: 3 }),
        fc.array(plainSegment, { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        (scriptSegments, segments, trailingSlash) => {
          const env: Record<string, unknown> = {
            ...base,
            SCRIPT_NAME: scriptSegments.map((s) => `/${s}`).join(''),
            PATH_INFO: `/${segments.join('/')}${trailingSlash ? '/' : ''}`,
          };
          const whole = `${String(env['SCRIPT_NAME'])}${String(env['PATH_INFO'])}`;
          // SCRIPT_NAME and PATH_INFO are quoted with different safe sets (as in wsgiref), so
          // the URI stays the same once unquoted.
          const uri = unquote(requestUri(env));
          const names: string[] = [];
          for (let i = 0; i < 10; i++) {
            const name = shiftPathInfo(env);
            if (name === undefined) break;
            names.push(name);
            expect(`${String(env['SCRIPT_NAME'])}${String(env['PATH_INFO'])}`).toBe(whole);
            expect(unquote(requestUri(env))).toBe(uri);
          }
          expect(names).toEqual(trailingSlash ? [...segments, ''] : segments);
          expect(env['PATH_INFO']).toBe('');
          expect(env['SCRIPT_NAME']).toBe(whole);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('setupTestingDefaults()', () => {
  it('fills an empty environ', async () => {
    const env: Record<string, unknown> = {};
    setupTestingDefaults(env);
    expect(env).toMatchObject({
      SERVER_NAME: '127.0.0.1',
      SERVER_PROTOCOL: 'HTTP/1.0',
      HTTP_HOST: '127.0.0.1',
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/',
      'wsgi.version': [1, 0],
      'wsgi.run_once': false,
      'wsgi.multithread': false,
      'wsgi.multiprocess': false,
      'wsgi.url_scheme': 'http',
      SERVER_PORT: '80',
    });
    // The assertion signature makes it an Environ from here on.
    expect(await env['wsgi.input'].read()).toHaveLength(0);
    env['wsgi.errors'].write('oops\n');
    env['wsgi.errors'].writelines(['a', 'b']);
    env['wsgi.errors'].flush();
    const errors = env['wsgi.errors'] as ErrorStream & { toString(): string };
    expect(String(errors)).toBe('oops\nab');
    expect(() => {
      env['wsgi.errors'].write(1 as unknown as string);
    }).toThrow(TypeError);
    expect(requestUri(env)).toBe('http://127.0.0.1/');
  });

  it('keeps what is set and derives from it', () => {
    const input = { marker: true };
    const env: Record<string, unknown> = {
      SERVER_NAME: 'example.org',
      HTTPS: 'on',
      PATH_INFO: '/x',
      'wsgi.input': input,
      'wsgi.run_once': true,
    };
    setupTestingDefaults(env);
    expect(env['HTTP_HOST']).toBe('example.org');
    expect(env['wsgi.url_scheme']).toBe('https');
    expect(env['SERVER_PORT']).toBe('443');
    expect(env['SCRIPT_NAME']).toBeUndefined();
    expect(env['wsgi.input']).toBe(input);
    expect(env['wsgi.run_once']).toBe(true);
  });

  it('sets no port for another scheme and keeps a given one', () => {
    const other: Record<string, unknown> = { 'wsgi.url_scheme': 'ftp' };
    setupTestingDefaults(other);
    expect(other['SERVER_PORT']).toBeUndefined();
    const given: Record<string, unknown> = { SERVER_PORT: '8000', SCRIPT_NAME: '/app' };
    setupTestingDefaults(given);
    expect(given['SERVER_PORT']).toBe('8000');
    expect(given['PATH_INFO']).toBeUndefined();
    expect(applicationUri(given)).toBe('http://127.0.0.1/app');
  });
});

describe('isHopByHop()', () => {
  it('knows the eight hop-by-hop headers in any case', () => {
    const hop = [
      'Connection',
      'KEEP-ALIVE',
      'proxy-authenticate',
      'Proxy-Authorization',
      'te',
      'Trailers',
      'Transfer-Encoding',
      'upgrade',
    ];
    for (const name of hop) expect(isHopByHop(name)).toBe(true);
    for (const name of ['Content-Type', 'Content-Length', 'trailer', 'Keep-Alive ', '', 'TEE']) {
      expect(isHopByHop(name)).toBe(false);
    }
  });

  it('refuses a non-string', () => {
    expect(() => isHopByHop(undefined as unknown as string)).toThrow(TypeError);
  });
});

describe('unquoteNative()', () => {
  it.each([
    ['/plain', '/plain'],
    ['/caf%C3%A9', '/caf\u00c3\u00a9'],
    ['/a%2Fb%2fc', '/a/b/c'],
    ['/%FF%00', '/\u00ff\u0000'],
    ['/100%', '/100%'],
    ['/%zz%4', '/%zz%4'],
    ['/%%41', '/%A'],
    ['%41%42', 'AB'],
  ])('decodes %j like urllib.parse.unquote(s, "latin-1")', (input, expected) => {
    expect(unquoteNative(input)).toBe(expected);
  });

  it('undoes requestUri()-style quoting of every byte', () => {
    let all = '';
    let quoted = '';
    for (let code = 0; code < 256; code++) {
      all += String.fromCharCode(code);
      quoted += `%${code.toString(16).padStart(2, '0')}`;
    }
    expect(unquoteNative(quoted)).toBe(all);
  });
});
