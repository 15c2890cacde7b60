/**
 * The environ checks request after request: the CGI-variable check reuses what it learnt from
 * the previous environ's keys, and the required keys and stream methods are tested each at
 * their own site. Random environs in sequence must get exactly the findings a plain reading of
 * the rules gives.
 */
import type { Environ } from '@wsgi/util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { collecting, hello } from './_apps.ts';
import { makeEnviron, TestErrors, TestInput } from './_wsgi.ts';

const REQUIRED = [
  'REQUEST_METHOD',
  'SERVER_NAME',
  'SERVER_PORT',
  'wsgi.version',
  'wsgi.input',
  'wsgi.errors',
  'wsgi.multithread',
  'wsgi.multiprocess',
  'wsgi.run_once',
];

// Extra keys, dotted or not, some spelled alike, so that environs in a row share key lists
// of the same length that differ in one place.
const EXTRA = ['HTTP_X_A', 'HTTP_X.A', 'x.a', 'X_A', 'my.ext', 'MY_EXT', 'HTTP_HOST'];

type Extra = [key: string, value: 'string' | 'number' | 'object'];

const extras: fc.Arbitrary<Extra[]> = fc.uniqueArray(
  fc.tuple(fc.constantFrom(...EXTRA), fc.constantFrom('string', 'number', 'object')),
  { selector: ([key]) => key, maxLength: 4 },
);

const VALUES = { string: 'v', number: 5, object: { v: 1 } } as const;

function environWith(extra: Extra[], dropped: readonly string[]): Environ {
  const environ: Record<string, unknown> = makeEnviron();
  for (const [key, kind] of extra) environ[key] = VALUES[kind];
  for (const key of dropped) Reflect.deleteProperty(environ, key);
  return environ as Environ;
}

async function findingsFor(environs: Environ[]): Promise<string[][]> {
  const { app, findings } = collecting(hello);
  const all: string[][] = [];
  for (const environ of environs) {
    findings.length = 0;
    const body = await app(environ, () => async () => {});
    await body.close?.();
    all.push(
      findings
        .filter((f) => f.code === 'environ.not-string' || f.code === 'environ.missing-key')
        .map((f) => f.message),
    );
  }
  return all;
}

function expected(extra: Extra[], dropped: readonly string[]): string[] {
  const messages = REQUIRED.filter((key) => dropped.includes(key)).map(
    (key) => `[environ.missing-key] the environ lacks the key '${key}'`,
  );
  for (const [key, kind] of extra) {
    if (key.includes('.') || kind === 'string') continue;
    const shown = kind === 'number' ? '5' : '{ v: 1 }';
    messages.push(`[environ.not-string] the CGI variable ${key} is not a string: ${shown}`);
  }
  return messages;
}

describe('environs in a row', () => {
  it('each get the findings of their own keys and values', async () => {
    const request = fc.tuple(extras, fc.subarray(REQUIRED, { maxLength: 3 }));
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 6 }), async (requests) => {
        const got = await findingsFor(
          requests.map(([extra, dropped]) => environWith(extra, dropped)),
        );
        expect(got).toEqual(requests.map(([extra, dropped]) => expected(extra, dropped)));
      }),
      { numRuns: 300 },
    );
  });

  it('tells a CGI variable from an extension key of the same place in the same list', async () => {
    // The same length and order; only the fifteenth key differs.
    const extension = environWith([['my.ext', 'number']], []);
    const variable = environWith([['MY_EXT', 'number']], []);
    expect(Object.keys(extension).length).toBe(Object.keys(variable).length);
    expect(await findingsFor([extension, variable, extension, extension, variable])).toEqual([
      [],
      ['[environ.not-string] the CGI variable MY_EXT is not a string: 5'],
      [],
      [],
      ['[environ.not-string] the CGI variable MY_EXT is not a string: 5'],
    ]);
  });

  it('reports the first method wsgi.input or wsgi.errors lacks, each time', async () => {
    const { app, findings } = collecting(hello);
    const lacking = (name: string | symbol): object =>
      Object.assign(new TestInput(''), { [name]: undefined });
    const cases: Array<[object | null, object, string]> = [
      [lacking('read'), new TestErrors(), 'wsgi.input lacks read'],
      [lacking('readline'), new TestErrors(), 'wsgi.input lacks readline'],
      [lacking('readlines'), new TestErrors(), 'wsgi.input lacks readlines'],
      [
        lacking(Symbol.asyncIterator),
        new TestErrors(),
        'wsgi.input lacks Symbol(Symbol.asyncIterator)',
      ],
      [null, new TestErrors(), 'wsgi.input lacks an object'],
      [new TestInput(''), { write() {}, flush() {} }, 'wsgi.errors lacks writelines'],
      [new TestInput(''), { write() {}, writelines() {} }, 'wsgi.errors lacks flush'],
      [new TestInput(''), new TestErrors(), ''],
    ];
    for (const [input, errors, message] of [...cases, ...cases]) {
      findings.length = 0;
      const environ = makeEnviron();
      environ['wsgi.input'] = input as never;
      environ['wsgi.errors'] = errors as never;
      const body = await app(environ, () => async () => {});
      await body.close?.();
      const streams = findings.filter((f) => /^environ\.(input|errors)$/.test(f.code));
      expect(streams.map((f) => f.message.replace(/: .*$/s, ''))).toEqual(
        message === '' ? [] : [`[${streams[0]?.code ?? ''}] ${message}`],
      );
    }
  });
});
