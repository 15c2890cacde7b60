/**
 * The shared behaviour suite: one application (fixtures/conformance-app.mjs) asked the same
 * requests through every way of running it. Each target must answer each case as expected,
 * and every target's answers must equal the others' (compared in conformance.test.ts), except
 * for the headers a server adds on its own (Date, Server, Connection, Keep-Alive,
 * Transfer-Encoding). Streaming is checked with a gate: the application produces its second
 * chunk only once the client has created a file after reading the first.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** One request of the suite. */
export interface SuiteRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

/** A response head and its body as it arrives. */
export interface SuiteReply {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: AsyncIterable<Uint8Array>;
}

/** A way of running the application, started before the suite and stopped after it. */
export interface Target {
  send(request: SuiteRequest): Promise<SuiteReply>;
  close(): Promise<void>;
  /** Response header fields lose the application's order (a Fetch `Headers` sorts them). */
  sortsHeaders?: boolean;
}

/** A reply with its body read and the server's own headers left out. */
export interface Answer {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: string;
}

/** Headers a server or gateway adds or frames on its own. */
const SERVER_HEADERS = new Set(['date', 'server', 'connection', 'keep-alive', 'transfer-encoding']);

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function answer(reply: SuiteReply): Promise<Answer> {
  const body = await readAll(reply.body);
  return {
    status: reply.status,
    statusText: reply.statusText,
    headers: reply.headers
      .filter(([name]) => !SERVER_HEADERS.has(name.toLowerCase()))
      .map(([name, value]) => [name.toLowerCase(), value]),
    body: body.toString('latin1'),
  };
}

/** The cases, each a request and what its answer must be. */
export const CASES: Record<string, SuiteRequest> = {
  hello: { method: 'GET', path: '/hello' },
  head: { method: 'HEAD', path: '/hello' },
  environ: {
    method: 'GET',
    path: '/environ/a%20b/%C3%A9?x=1&y=%20',
    headers: { 'X-Test': 'yes' },
  },
  echo: {
    method: 'POST',
    path: '/echo',
    headers: { 'Content-Type': 'application/x-test' },
    body: Buffer.from('posted bytes \u00ff', 'latin1'),
  },
  headers: { method: 'GET', path: '/headers' },
  chunks: { method: 'GET', path: '/chunks' },
  large: { method: 'GET', path: '/large' },
  empty: { method: 'DELETE', path: '/empty' },
  error: { method: 'GET', path: '/error' },
  missing: { method: 'GET', path: '/nowhere' },
};

function header(a: Answer, name: string): string | undefined {
  return a.headers.find(([key]) => key === name)?.[1];
}

/**
 * Registers the suite for one target; its answers go into `answers` for the cross-check.
 * `start` runs in `beforeAll`, and the target is closed in `afterAll`.
 */
export function conformanceSuite(
  name: string,
  start: () => Promise<Target>,
  answers: Map<string, Answer>,
): void {
  describe(`conformance: ${name}`, () => {
    let target: Target;
    let dir: string;
    beforeAll(async () => {
      target = await start();
      dir = await mkdtemp(join(tmpdir(), 'wsgi-conformance-'));
    });
    afterAll(async () => {
      await target.close();
      await rm(dir, { recursive: true, force: true });
    });

    const ask = async (key: string): Promise<Answer> => {
      const request = CASES[key];
      if (request === undefined) throw new Error(`no case ${key}`);
      const a = await answer(await target.send(request));
      answers.set(key, a);
      return a;
    };

    /** The header names are in the application's order, or sorted where the target sorts. */
    const expectNames = (a: Answer, expected: string[]): void => {
      const names = a.headers.map(([key]) => key);
      if (target.sortsHeaders === true) expect(names.toSorted()).toEqual(expected.toSorted());
      else expect(names).toEqual(expected);
    };

    it('answers a one-chunk body with its Content-Length', async () => {
      const a = await ask('hello');
      expect([a.status, a.statusText, a.body]).toEqual([200, 'OK', 'Hello world!']);
      expect(header(a, 'content-type')).toBe('text/plain');
      expect(header(a, 'content-length')).toBe('12');
      expectNames(a, ['content-type', 'content-length']);
    });

    it('answers HEAD with the headers and no body', async () => {
      const a = await ask('head');
      expect([a.status, a.body]).toEqual([200, '']);
      expect(header(a, 'content-length')).toBe('12');
    });

    it('gives the application the request line and headers', async () => {
      const a = await ask('environ');
      expect(JSON.parse(a.body)).toEqual({
        REQUEST_METHOD: 'GET',
        SCRIPT_NAME: '',
        PATH_INFO: '/environ/a b/\u00c3\u00a9',
        QUERY_STRING: 'x=1&y=%20',
        HTTP_X_TEST: 'yes',
        'wsgi.url_scheme': 'http',
      });
    });

    it('passes the request body and its length through', async () => {
      const a = await ask('echo');
      expect([a.status, a.statusText, a.body]).toEqual([201, 'Created', 'posted bytes \u00ff']);
      expect(header(a, 'content-type')).toBe('application/x-test');
      expect(header(a, 'x-length')).toBe('14');
    });

    it('keeps the status, header order and repeated Set-Cookie', async () => {
      const a = await ask('headers');
      expect([a.status, a.statusText, a.body]).toEqual([404, 'Not Found', 'missing']);
      expectNames(a, [
        'content-type',
        'x-custom',
        'set-cookie',
        'set-cookie',
        'cache-control',
        'content-length',
      ]);
      const cookies = a.headers.filter(([key]) => key === 'set-cookie').map(([, value]) => value);
      expect(cookies).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    });

    it('sends a body of unknown length whole', async () => {
      const a = await ask('chunks');
      expect([a.status, a.body]).toEqual([200, 'one,two,three']);
      expect(header(a, 'content-length')).toBeUndefined();
    });

    it('sends a large streamed body byte for byte', async () => {
      const a = await ask('large');
      expect(a.body.length).toBe(16 * 16_384);
      for (let i = 0; i < 16; i += 1) expect(a.body.charCodeAt(i * 16_384)).toBe(97 + i);
    });

    it('answers 204 without a body', async () => {
      const a = await ask('empty');
      expect([a.status, a.statusText, a.body]).toEqual([204, 'No Content', '']);
    });

    it('turns an exception into the 500 error page', async () => {
      const a = await ask('error');
      expect([a.status, a.statusText]).toEqual([500, 'Internal Server Error']);
      expect(a.body).toBe('A server error occurred.  Please contact the administrator.');
    });

    it('answers the application’s own 404', async () => {
      const a = await ask('missing');
      expect([a.status, a.body]).toEqual([404, 'no route /nowhere']);
    });

    it('streams: the first chunk arrives before the application makes the second', async () => {
      const gate = join(dir, 'gate');
      const reply = await target.send({
        method: 'GET',
        path: '/gated',
        headers: { 'X-Gate': gate },
      });
      expect(reply.status).toBe(200);
      const iterator = reply.body[Symbol.asyncIterator]();
      let seen = '';
      // The application waits for the gate, so the first chunk can only come on its own.
      while (seen.length < 'first;'.length) {
        const next = await iterator.next();
        if (next.done === true) break;
        seen += Buffer.from(next.value).toString('latin1');
      }
      expect(seen).toBe('first;');
      await writeFile(gate, '');
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
        seen += Buffer.from(next.value).toString('latin1');
      }
      expect(seen).toBe('first;second');
    });
  });
}
