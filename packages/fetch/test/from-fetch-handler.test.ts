// fromFetchHandler: a Fetch handler behind the validator, a BaseHandler writing to memory,
// makeServer over real sockets and CGIHandler in a child process.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { validator } from '@wsgi/validator';
import type { WSGIWarning } from '@wsgi/validator';
import { afterEach, describe, expect, it } from 'vitest';

import { fromFetchHandler } from '../src/index.ts';
import type { FetchHandler } from '../src/index.ts';

import { enc, readerOf } from './_apps.ts';
import { MemoryHandler, request, serveWsgi, teardown, until } from './_servers.ts';

afterEach(teardown);

const ERROR_BODY = 'A server error occurred.  Please contact the administrator.';

/** What the handler saw of its Request, as JSON. */
const mirror: FetchHandler = async (req) => {
  const seen = {
    method: req.method,
    url: req.url,
    headers: [...req.headers],
    body: req.body === null ? null : await req.text(),
  };
  return Response.json(seen, { headers: { 'Set-Cookie': 'seen=1' } });
};

/** Runs `handler` (validated) for one request in memory; fails on any finding. */
async function runValidated(
  handler: FetchHandler,
  environ: Record<string, unknown>,
  input = '',
): Promise<MemoryHandler> {
  const warnings: WSGIWarning[] = [];
  const memory = new MemoryHandler({ QUERY_STRING: '', ...environ }, input);
  await memory.run(validator(fromFetchHandler(handler), { onWarning: (w) => warnings.push(w) }));
  expect(warnings.map((w) => w.message)).toEqual([]);
  expect(String(memory.errors)).toBe('');
  return memory;
}

function split(output: string): { head: string; body: string } {
  const at = output.indexOf('\r\n\r\n');
  return { head: output.slice(0, at), body: output.slice(at + 4) };
}

describe('fromFetchHandler behind the validator and a BaseHandler', () => {
  it('a GET: the Request is the environ, the Response is the WSGI response', async () => {
    const memory = await runValidated(mirror, {
      REQUEST_METHOD: 'GET',
      PATH_INFO: '/caf\u00c3\u00a9',
      QUERY_STRING: 'a=1',
      HTTP_HOST: 'example.com:8080',
      HTTP_X_CUSTOM: 'caf\u00e9',
      HTTP_CONNECTION: 'keep-alive',
    });
    const { head, body } = split(memory.output);
    expect(head).toMatch(/^HTTP\/1\.0 200 OK\r\n/);
    expect(head).toContain('\r\ncontent-type: application/json\r\n');
    expect(head).toContain('\r\nset-cookie: seen=1');
    const seen = JSON.parse(Buffer.from(body, 'latin1').toString('utf8')) as {
      method: string;
      url: string;
      headers: Array<[string, string]>;
      body: string | null;
    };
    expect(seen.method).toBe('GET');
    // requestUri(): the path percent-quoted again, byte for byte.
    expect(seen.url).toBe('http://example.com:8080/caf%C3%A9?a=1');
    // Fetch's Headers are ByteStrings: the latin-1 value as it came. Hop-by-hop: left out.
    expect(seen.headers).toContainEqual(['x-custom', 'caf\u00e9']);
    expect(seen.headers.map(([name]) => name)).not.toContain('connection');
    expect(seen.body).toBeNull();
  });

  it('a POST: the body streams from wsgi.input, with its type and length', async () => {
    const memory = await runValidated(
      mirror,
      { REQUEST_METHOD: 'POST', CONTENT_TYPE: 'text/csv', CONTENT_LENGTH: '7' },
      'a,b,c\nignored past the length',
    );
    const seen = JSON.parse(split(memory.output).body) as {
      headers: Array<[string, string]>;
      body: string;
    };
    expect(seen.body).toBe('a,b,c\ni');
    expect(seen.headers).toContainEqual(['content-type', 'text/csv']);
    expect(seen.headers).toContainEqual(['content-length', '7']);
  });

  it('a streamed Response, HEAD, 204, and a status without a reason', async () => {
    const streamed = await runValidated(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(enc('one,'));
              controller.enqueue(enc('two'));
              controller.close();
            },
          }),
          { headers: { 'Content-Type': 'text/plain' } },
        ),
      { REQUEST_METHOD: 'GET' },
    );
    expect(split(streamed.output).body).toBe('one,two');

    const head = await runValidated(() => new Response(null, { status: 204 }), {
      REQUEST_METHOD: 'HEAD',
    });
    expect(head.output).toMatch(/^HTTP\/1\.0 204 No Content\r\n/);

    const teapot = await runValidated(
      () => new Response('short', { status: 418, headers: { 'Content-Type': 'text/plain' } }),
      { REQUEST_METHOD: 'GET' },
    );
    // No statusText: the reason phrase of node:http's STATUS_CODES.
    expect(teapot.output).toMatch(/^HTTP\/1\.0 418 I'm a Teapot\r\n/);
    const custom = await runValidated(
      () =>
        new Response('x', {
          status: 299,
          statusText: 'Fine Really',
          headers: { 'Content-Type': 'text/plain' },
        }),
      { REQUEST_METHOD: 'GET' },
    );
    expect(custom.output).toMatch(/^HTTP\/1\.0 299 Fine Really\r\n/);
  });

  it('drops hop-by-hop response headers and keeps every Set-Cookie', async () => {
    const memory = await runValidated(
      () => {
        const headers = new Headers({
          'Content-Type': 'text/plain',
          'Keep-Alive': 'timeout=5',
          'Transfer-Encoding': 'chunked',
          Connection: 'close',
        });
        headers.append('Set-Cookie', 'a=1, b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT');
        headers.append('Set-Cookie', 'c=3');
        return new Response('ok', { headers });
      },
      { REQUEST_METHOD: 'GET' },
    );
    const { head } = split(memory.output);
    expect(head).not.toMatch(/keep-alive|transfer-encoding|connection/i);
    expect(head).toContain(
      '\r\nset-cookie: a=1, b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT\r\nset-cookie: c=3',
    );
  });

  it('errors of the handler get the handler error page', async () => {
    const cases: Array<[FetchHandler, RegExp]> = [
      [
        () => {
          throw new Error('sync failure');
        },
        /^Error: sync failure/m,
      ],
      [() => Promise.reject(new RangeError('async failure')), /^RangeError: async failure/m],
      [() => 'not a response' as unknown as Response, /^TypeError: The Fetch handler must return/m],
      [() => Response.error(), /^TypeError: The Fetch handler returned a network error/m],
    ];
    for (const [handler, logged] of cases) {
      const memory = new MemoryHandler({ REQUEST_METHOD: 'GET' });
      await memory.run(fromFetchHandler(handler));
      expect(memory.output).toMatch(/^HTTP\/1\.0 500 Internal Server Error\r\n/);
      expect(split(memory.output).body).toBe(ERROR_BODY);
      expect(String(memory.errors)).toMatch(logged);
    }
  });

  it('a Response stream that fails midway ends the response, logged once', async () => {
    const memory = new MemoryHandler({ REQUEST_METHOD: 'GET' });
    await memory.run(
      fromFetchHandler(
        () =>
          new Response(
            new ReadableStream<Uint8Array>({
              start(controller) {
                controller.enqueue(enc('partial'));
              },
              pull(controller) {
                controller.error(new Error('upstream broke'));
              },
            }),
            { headers: { 'Content-Type': 'text/plain' } },
          ),
      ),
    );
    expect(memory.output).toMatch(/^HTTP\/1\.0 200 OK\r\n/);
    expect(split(memory.output).body).toBe('partial');
    expect(String(memory.errors).match(/upstream broke/g)).toHaveLength(1);
  });

  it('a method Fetch forbids is an error of the application', async () => {
    const memory = new MemoryHandler({ REQUEST_METHOD: 'CONNECT' });
    await memory.run(fromFetchHandler(mirror));
    expect(memory.output).toMatch(/^HTTP\/1\.0 500 /);
    expect(String(memory.errors)).toMatch(/^TypeError/m);
  });

  it('refuses a handler that is not a function', () => {
    const make = fromFetchHandler as (handler: unknown) => unknown;
    for (const value of [undefined, null, 'handler', { fetch: mirror }]) {
      expect(() => make(value)).toThrow(TypeError);
    }
  });
});

describe('fromFetchHandler behind makeServer', () => {
  it('answers over a socket with the request URL, headers and body', async () => {
    const { port, errors } = await serveWsgi(fromFetchHandler(mirror));
    const response = await request(port, '/a%20b/c?q=%41', {
      method: 'PUT',
      body: 'sent',
      headers: { 'X-Custom': 'yes', 'Content-Type': 'text/plain' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual(['seen=1']);
    const seen = (await response.json()) as { method: string; url: string; body: string };
    expect(seen).toMatchObject({
      method: 'PUT',
      url: `http://127.0.0.1:${port}/a%20b/c?q=%41`,
      body: 'sent',
    });
    expect(String(errors)).toBe('');
  });

  it('streams incrementally, and a client that leaves cancels the stream and aborts the signal', async () => {
    let pulls = 0;
    let cancelled = false;
    let signal: AbortSignal | undefined;
    const { port, errors } = await serveWsgi(
      fromFetchHandler((req) => {
        signal = req.signal;
        return new Response(
          new ReadableStream<Uint8Array>(
            {
              pull(controller) {
                pulls += 1;
                if (pulls > 100_000) controller.close();
                else controller.enqueue(enc(`tick ${pulls}\n`));
              },
              cancel() {
                cancelled = true;
              },
            },
            { highWaterMark: 0 },
          ),
          { headers: { 'Content-Type': 'text/plain' } },
        );
      }),
    );
    const controller = new AbortController();
    const response = await request(port, '/ticks', { signal: controller.signal });
    const reader = readerOf(response);
    const first = await reader.read();
    expect(Buffer.from(first.value ?? []).toString()).toMatch(/^tick 1\n/);
    controller.abort();
    await until(() => cancelled);
    expect(signal?.aborted).toBe(true);
    expect(pulls).toBeLessThan(100_000);
    expect(String(errors)).not.toMatch(/Error/);
  });
});

describe('fromFetchHandler behind CGIHandler', () => {
  it('runs as a CGI script in a child process', async () => {
    const script = fileURLToPath(new URL('fixtures/cgi-fetch.mjs', import.meta.url));
    const child = spawn(process.execPath, [script], {
      env: {
        GATEWAY_INTERFACE: 'CGI/1.1',
        REQUEST_METHOD: 'POST',
        SCRIPT_NAME: '/cgi-bin/app',
        PATH_INFO: '/items',
        QUERY_STRING: 'x=1',
        SERVER_NAME: 'example.org',
        SERVER_PORT: '80',
        SERVER_PROTOCOL: 'HTTP/1.1',
        CONTENT_TYPE: 'text/plain',
        CONTENT_LENGTH: '5',
        HTTP_HOST: 'example.org',
        HTTP_X_CUSTOM: 'cgi',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdin.end('hello, and more than CONTENT_LENGTH');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    expect(err).toBe('');
    expect(code).toBe(0);
    const { head, body } = split(Buffer.concat(out).toString('latin1'));
    expect(head.split('\r\n')).toEqual([
      'Status: 201 Created',
      'content-type: application/json',
      'set-cookie: a=1; Path=/',
      'set-cookie: b=2',
    ]);
    expect(JSON.parse(body)).toEqual({
      method: 'POST',
      url: 'http://example.org/cgi-bin/app/items?x=1',
      custom: 'cgi',
      type: 'text/plain',
      body: 'hello',
    });
  });
});
