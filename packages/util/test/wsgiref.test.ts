/**
 * Differential tests: the same inputs through Python's wsgiref.util / wsgiref.headers
 * (test/fixtures/wsgiref_util.py) and through ours must give the same answers.
 */
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

import { Headers, applicationUri, requestUri, shiftPathInfo } from '../src/index.ts';
import { latin1Char, pathInfo, scriptName, uriEnviron } from './_arbitraries.ts';
import { HAVE_PYTHON, runPython } from './_python.ts';

const SCRIPT = fileURLToPath(new URL('fixtures/wsgiref_util.py', import.meta.url));
const SEED = 3333;

type Environ = Record<string, string>;
interface HeaderCase {
  list: Array<[string, string]>;
  adds: Array<{ name: string; value: string | null; params: Record<string, string | null> }>;
}

/** Printable latin-1 plus tab: what Headers accepts. */
const headerChar = latin1Char.filter((c) => c === '\t' || (c >= ' ' && c !== '\x7f'));
const headerText = fc.string({ unit: headerChar, maxLength: 12 });
const tokenText = fc.stringMatching(/^[A-Za-z0-9_-]{1,10}$/);

const headerCase: fc.Arbitrary<HeaderCase> = fc.record({
  list: fc.array(fc.tuple(tokenText, headerText), { maxLength: 4 }),
  adds: fc.array(
    fc.record({
      name: tokenText,
      value: fc.option(headerText, { nil: null }),
      params: fc.dictionary(
        tokenText,
        fc.option(fc.oneof(headerText, fc.constantFrom('', '"', '\\', 'a"b\\c', 'x y;z')), {
          nil: null,
        }),
        { maxKeys: 3 },
      ),
    }),
    { maxLength: 3 },
  ),
});

const uriCases: Environ[] = [
  { 'wsgi.url_scheme': 'http', SERVER_NAME: '127.0.0.1', SERVER_PORT: '80' },
  {
    'wsgi.url_scheme': 'https',
    SERVER_NAME: 'h',
    SERVER_PORT: '8443',
    SCRIPT_NAME: '/a b;c',
    PATH_INFO: '/sp\u00e4m;x=1,2 %?#',
    QUERY_STRING: 'q=1',
  },
  ...fc.sample(uriEnviron, { numRuns: 300, seed: SEED }).map((e) => e as Environ),
];

const shiftCases: Environ[] = [
  { SCRIPT_NAME: '', PATH_INFO: '/' },
  { SCRIPT_NAME: '/', PATH_INFO: '/x' },
  { SCRIPT_NAME: '//', PATH_INFO: '/../x' },
  { SCRIPT_NAME: '///a', PATH_INFO: '/x' },
  { SCRIPT_NAME: 'rel/../..', PATH_INFO: '/x/' },
  { SCRIPT_NAME: '/a', PATH_INFO: '/./.' },
  { PATH_INFO: '/x/y' },
  ...fc
    .sample(fc.record({ SCRIPT_NAME: scriptName, PATH_INFO: pathInfo }), {
      numRuns: 400,
      seed: SEED,
    })
    .filter((e) => e.PATH_INFO !== ''),
];

const headerCases: HeaderCase[] = [
  {
    list: [['Content-Type', 'text/plain']],
    adds: [{ name: 'content-disposition', value: 'attachment', params: { filename: 'bud.gif' } }],
  },
  { list: [], adds: [{ name: 'X', value: null, params: { no_cache: null, e: '' } }] },
  ...fc.sample(headerCase, { numRuns: 200, seed: SEED }),
];

describe.runIf(HAVE_PYTHON)("against Python's wsgiref", () => {
  let python: {
    uri: Array<[string, string, string]>;
    shift: Array<[string | null, string, string]>;
    headers: Array<[string, string, number]>;
  };

  beforeAll(async () => {
    const input = JSON.stringify({ uri: uriCases, shift: shiftCases, headers: headerCases });
    python = JSON.parse(await runPython(SCRIPT, input)) as typeof python;
  });

  it('applicationUri() and requestUri() agree with application_uri() and request_uri()', () => {
    expect(python.uri).toHaveLength(uriCases.length);
    uriCases.forEach((env, i) => {
      const ours = [applicationUri(env), requestUri(env), requestUri(env, false)];
      expect(ours, JSON.stringify(env)).toEqual(python.uri[i]);
    });
  });

  it('shiftPathInfo() agrees with shift_path_info()', () => {
    expect(python.shift).toHaveLength(shiftCases.length);
    shiftCases.forEach((original, i) => {
      const env: Record<string, unknown> = { ...original };
      const name = shiftPathInfo(env);
      const ours = [name ?? null, env['SCRIPT_NAME'] ?? null, env['PATH_INFO']];
      expect(ours, JSON.stringify(original)).toEqual(python.shift[i]);
    });
  });

  it('Headers (with addHeader) agrees with str(), bytes() and len() of Headers', () => {
    expect(python.headers).toHaveLength(headerCases.length);
    headerCases.forEach((c, i) => {
      const headers = new Headers(c.list);
      for (const add of c.adds) headers.addHeader(add.name, add.value, add.params);
      const ours = [
        headers.toString(),
        Buffer.from(headers.toBytes()).toString('latin1'),
        headers.length,
      ];
      expect(ours, JSON.stringify(c)).toEqual(python.headers[i]);
    });
  });
});
