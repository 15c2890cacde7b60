// toFetchHandler, called with Request objects: the environ, the Response, streaming with
// backpressure, cancellation and aborts, errors, and bad input.
import { PassThrough } from 'node:stream';

import type { Application } from '@wsgi/core';
import { describe, expect, it } from 'vitest';

import { toFetchHandler } from '../src/index.ts';

import { countingBody, enc, environApp, gate, nextText, readerOf } from './_apps.ts';
import { memoryErrors, until } from './_servers.ts';

const ERROR_BODY = 'A server error occurred.  Please contact the administrator.';

function handler(app: Application, scriptName?: string) {
  const errors = memoryErrors();
  const fetch = toFetchHandler(app, { errors, scriptName });
  return { fetch, errors };
}

async function environOf(request: Request, scriptName?: string): Promise<Record<string, unknown>> {
  const { fetch, errors } = handler(environApp, scriptName);
  const response = await fetch(request);
  expect(response.status).toBe(200);
  expect(String(errors)).toBe('');
  return (await response.json()) as Record<string, unknown>;
}

describe('toFetchHandler: the environ', () => {
  it('is built from the Request as our HTTP server builds it', async () => {
    const environ = await environOf(
      new Request('http://example.com:8080/caf%C3%A9/a%2Fb?x=1&y=%20#frag', {
        method: 'POST',
        headers: {
          'Content-Type': 'text/csv',
          'Content-Length': '5',
          'X-Forwarded-For': '10.0.0.1',
          X_Forwarded_For: 'spoofed',
          'X-Latin': 'caf\u00e9',
        },
        body: 'hello',
      }),
    );
    expect(environ).toMatchObject({
      REQUEST_METHOD: 'POST',
      SCRIPT_NAME: '',
      // PEP 3333 native string: one character per byte of the decoded path.
      PATH_INFO: '/caf\u00c3\u00a9/a/b',
      QUERY_STRING: 'x=1&y=%20',
      SERVER_NAME: 'example.com',
      SERVER_PORT: '8080',
      SERVER_PROTOCOL: 'HTTP/1.1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      CONTENT_TYPE: 'text/csv',
      CONTENT_LENGTH: '5',
      HTTP_HOST: 'example.com:8080',
      HTTP_X_FORWARDED_FOR: '10.0.0.1',
      HTTP_X_LATIN: 'caf\u00e9',
      'wsgi.url_scheme': 'http',
      'wsgi.multithread': true,
      'wsgi.multiprocess': false,
      'wsgi.run_once': false,
      'wsgi.input_terminated': true,
      body: 'hello',
    });
    // A name with `_` is dropped: it would pass for X-Forwarded-For.
    expect(Object.keys(environ).filter((key) => key.includes('FORWARDED'))).toEqual([
      'HTTP_X_FORWARDED_FOR',
    ]);
    expect(environ).not.toHaveProperty('HTTP_CONTENT_TYPE');
    expect(environ).not.toHaveProperty('HTTP_CONTENT_LENGTH');
  });

  it('takes the scheme and default port from the URL, and wsgiref defaults for the rest', async () => {
    const environ = await environOf(new Request('https://example.org/'));
    expect(environ).toMatchObject({
      'wsgi.url_scheme': 'https',
      SERVER_PORT: '443',
      HTTP_HOST: 'example.org',
      PATH_INFO: '/',
      QUERY_STRING: '',
      CONTENT_TYPE: 'text/plain',
      CONTENT_LENGTH: '',
      body: '',
    });
    const plain = await environOf(new Request('http://[::1]/x?'));
    expect(plain).toMatchObject({ SERVER_NAME: '[::1]', SERVER_PORT: '80', QUERY_STRING: '' });
  });

  it('keeps the Host header the client sent and leaves invalid escapes as they are', async () => {
    const environ = await environOf(
      new Request('http://127.0.0.1:9/%zz%4/%41', { headers: { Host: 'front.example' } }),
    );
    expect(environ).toMatchObject({ HTTP_HOST: 'front.example', PATH_INFO: '/%zz%4/A' });
  });

  it('reads a body without Content-Length to its end, and never past a declared one', async () => {
    const chunks = ['ab', 'cd', 'ef'];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(enc(next));
      },
    });
    const whole = await environOf(
      new Request('http://h/', { method: 'PUT', body: stream, duplex: 'half' }),
    );
    expect(whole).toMatchObject({ body: 'abcdef', CONTENT_LENGTH: '' });
    const clipped = await environOf(
      new Request('http://h/', {
        method: 'PUT',
        body: 'abcdef',
        headers: { 'Content-Length': '4' },
      }),
    );
    expect(clipped).toMatchObject({ body: 'abcd', CONTENT_LENGTH: '4' });
  });

  it('uses scriptName as SCRIPT_NAME and takes it off the front of PATH_INFO', async () => {
    const cases: Array<[string, string]> = [
      ['/app/x/y', '/x/y'],
      ['/app', ''],
      ['/app/', '/'],
      // Not under the mount point (a host that stripped it already): the path is whole.
      ['/application', '/application'],
      ['/x', '/x'],
    ];
    for (const [path, pathInfo] of cases) {
      const environ = await environOf(new Request(`http://h${path}`), '/app');
      expect([path, environ['SCRIPT_NAME'], environ['PATH_INFO']]).toEqual([
        path,
        '/app',
        pathInfo,
      ]);
    }
  });
});

describe('toFetchHandler: the Response', () => {
  it('carries the status, reason, headers (latin-1 as ByteStrings) and every Set-Cookie', async () => {
    const { fetch } = handler((_environ, startResponse) => {
      startResponse('404 Nowhere To Be Found', [
        ['Content-Type', 'text/plain'],
        ['Set-Cookie', 'a=1; Path=/'],
        ['Set-Cookie', 'b=2'],
        ['X-Latin', 'caf\u00e9'],
      ]);
      return [enc('missing')];
    });
    const response = await fetch(new Request('http://h/'));
    expect(response.status).toBe(404);
    expect(response.statusText).toBe('Nowhere To Be Found');
    expect(response.headers.get('x-latin')).toBe('caf\u00e9');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2']);
    // BaseHandler's own rule: a one-chunk body gets its Content-Length.
    expect(response.headers.get('content-length')).toBe('7');
    expect(response.headers.has('date')).toBe(false);
    expect(await response.text()).toBe('missing');
  });

  it('sends write() calls and an empty body, with Content-Length: 0 for the latter', async () => {
    const { fetch } = handler((_environ, startResponse) => {
      const write = startResponse('200 OK', [['Content-Type', 'text/plain']]);
      void write(enc('one,'));
      void write(enc('two,'));
      return [enc('three')];
    });
    expect(await (await fetch(new Request('http://h/'))).text()).toBe('one,two,three');
    const empty = handler((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [];
    });
    const response = await empty.fetch(new Request('http://h/'));
    expect(response.headers.get('content-length')).toBe('0');
    expect(await response.text()).toBe('');
  });

  it('gives HEAD and 204/304 a null body but runs and closes the application body', async () => {
    for (const [method, status] of [
      ['HEAD', '200 OK'],
      ['GET', '204 No Content'],
      ['GET', '304 Not Modified'],
    ] as const) {
      let closed = 0;
      const { fetch, errors } = handler((_environ, startResponse) => {
        startResponse(status, [['Content-Length', '5']]);
        return {
          *[Symbol.iterator]() {
            yield enc('hello');
          },
          close() {
            closed += 1;
          },
        };
      });
      const response = await fetch(new Request('http://h/', { method }));
      expect(response.body).toBeNull();
      expect(response.status).toBe(Number(status.slice(0, 3)));
      expect(response.headers.get('content-length')).toBe('5');
      await until(() => closed > 0);
      expect(closed).toBe(1);
      expect(String(errors)).toBe('');
    }
  });

  it('resolves at the first chunk and streams the rest as the consumer pulls', async () => {
    const counting = countingBody();
    const { fetch, errors } = handler((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return counting.body;
    });
    const response = await fetch(new Request('http://h/'));
    const reader = readerOf(response);
    for (let i = 0; i < 5; i += 1) {
      expect((await nextText(reader))?.length).toBe(1024);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Five chunks read; at most one more produced and waiting: backpressure, not buffering.
    expect(counting.produced).toBeGreaterThanOrEqual(5);
    expect(counting.produced).toBeLessThanOrEqual(6);
    await reader.cancel();
    await until(() => counting.closed > 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(counting.closed).toBe(1);
    expect(counting.produced).toBeLessThanOrEqual(7);
    // A client that went away is no error of the application.
    expect(String(errors)).toBe('');
  });

  it('delivers a chunk before the application has produced the next', async () => {
    const second = gate();
    let secondProduced = false;
    const { fetch } = handler((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield enc('first');
        await second.promise;
        secondProduced = true;
        yield enc('second');
      })();
    });
    const response = await fetch(new Request('http://h/'));
    const reader = readerOf(response);
    expect(await nextText(reader)).toBe('first');
    expect(secondProduced).toBe(false);
    second.open();
    expect(await nextText(reader)).toBe('second');
    expect((await reader.read()).done).toBe(true);
  });

  it('answers before headers are sent by waiting for them (an async app, an empty first chunk)', async () => {
    const ready = gate();
    let resolved = false;
    const { fetch } = handler(async (_environ, startResponse) => {
      await Promise.resolve();
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield new Uint8Array(0);
        await ready.promise;
        yield enc('late');
      })();
    });
    const pending = fetch(new Request('http://h/')).then((response) => {
      resolved = true;
      return response;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // An empty chunk sends nothing (PEP 3333), so no Response yet.
    expect(resolved).toBe(false);
    ready.open();
    expect(await (await pending).text()).toBe('late');
  });
});

describe('toFetchHandler: clients that go away', () => {
  it('an aborted request.signal before the headers rejects, runs nothing more, closes once', async () => {
    const started = gate();
    const proceed = gate();
    const counting = countingBody();
    const { fetch, errors } = handler(async (_environ, startResponse) => {
      started.open();
      await proceed.promise;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return counting.body;
    });
    const controller = new AbortController();
    const pending = fetch(new Request('http://h/', { signal: controller.signal }));
    await started.promise;
    controller.abort(new Error('client left'));
    await expect(pending).rejects.toThrow('client left');
    proceed.open();
    await until(() => counting.closed > 0);
    expect(counting.closed).toBe(1);
    expect(counting.produced).toBeLessThanOrEqual(1);
    expect(String(errors)).toBe('');
  });

  it('an aborted request.signal after the headers errors the stream and closes the body once', async () => {
    const counting = countingBody();
    const { fetch, errors } = handler((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return counting.body;
    });
    const controller = new AbortController();
    const response = await fetch(new Request('http://h/', { signal: controller.signal }));
    const reader = readerOf(response);
    await reader.read();
    controller.abort();
    await expect(reader.read()).rejects.toThrow();
    await until(() => counting.closed > 0);
    expect(counting.closed).toBe(1);
    expect(String(errors)).toBe('');
  });

  it('a request aborted before the call never runs the application', async () => {
    let calls = 0;
    const { fetch } = handler((_environ, startResponse) => {
      calls += 1;
      startResponse('200 OK', []);
      return [];
    });
    const request = new Request('http://h/', { signal: AbortSignal.abort(new Error('gone')) });
    await expect(fetch(request)).rejects.toThrow('gone');
    expect(calls).toBe(0);
  });
});

describe('toFetchHandler: errors', () => {
  it('an error before the headers becomes the 500 page, logged to wsgi.errors', async () => {
    const { fetch, errors } = handler(() => {
      throw new Error('kaboom');
    });
    const response = await fetch(new Request('http://h/'));
    expect(response.status).toBe(500);
    expect(response.statusText).toBe('Internal Server Error');
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(await response.text()).toBe(ERROR_BODY);
    expect(String(errors)).toMatch(/^Error: kaboom/m);
  });

  it('logs to a Node Writable given as errors', async () => {
    const sink = new PassThrough();
    let logged = '';
    sink.setEncoding('utf8').on('data', (chunk: string) => (logged += chunk));
    const fetch = toFetchHandler(
      () => {
        throw new TypeError('into the writable');
      },
      { errors: sink },
    );
    expect((await fetch(new Request('http://h/'))).status).toBe(500);
    await until(() => logged.includes('into the writable'));
    expect(logged).toMatch(/^TypeError: into the writable/m);
  });

  it('an error after the headers cuts the stream (never a complete-looking body)', async () => {
    const counting = { closed: 0 };
    const { fetch, errors } = handler((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return {
        *[Symbol.iterator]() {
          yield enc('partial');
          throw new Error('midway');
        },
        close() {
          counting.closed += 1;
        },
      };
    });
    const response = await fetch(new Request('http://h/'));
    expect(response.status).toBe(200);
    const reader = readerOf(response);
    expect(await nextText(reader)).toBe('partial');
    const failure = await reader.read().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).cause).toMatchObject({ message: 'midway' });
    expect(counting.closed).toBe(1);
    expect(String(errors)).toMatch(/^Error: midway/m);
  });

  it('application misuse is refused as everywhere else (a string chunk, a hop-by-hop header)', async () => {
    for (const app of [
      ((_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return ['not bytes'] as unknown as Uint8Array[];
      }) as Application,
      ((_environ, startResponse) => {
        startResponse('200 OK', [['Connection', 'close']]);
        return [];
      }) as Application,
    ]) {
      const { fetch, errors } = handler(app);
      const response = await fetch(new Request('http://h/'));
      expect(response.status).toBe(500);
      expect(String(errors)).toMatch(/^WSGIAssertionError/m);
    }
  });

  it('a status a Response cannot carry (1xx) is an error of the application', async () => {
    const { fetch, errors } = handler((_environ, startResponse) => {
      startResponse('103 Early Hints', [['Link', '</a.css>; rel=preload']]);
      return [];
    });
    const response = await fetch(new Request('http://h/'));
    expect(response.status).toBe(500);
    // startResponse() refuses it (core: a WSGI response is the final one), before any Response.
    expect(String(errors)).toMatch(/^WSGIAssertionError: Status must be a final response/m);
  });
});

describe('toFetchHandler: bad input', () => {
  it('rejects an argument that is not a Request with a TypeError', async () => {
    const { fetch } = handler(environApp);
    const call = fetch as (request: unknown) => Promise<Response>;
    for (const value of [
      undefined,
      'http://h/',
      { url: 'http://h/', method: 'GET' },
      new URL('http://h/'),
    ]) {
      await expect(call(value)).rejects.toThrow(TypeError);
    }
  });

  it('rejects a Request whose body was already read', async () => {
    const { fetch } = handler(environApp);
    const request = new Request('http://h/', { method: 'POST', body: 'x' });
    await request.text();
    await expect(fetch(request)).rejects.toThrow(/already read/);
  });

  it('refuses a bad application or options when it is made', () => {
    const make = toFetchHandler as (app: unknown, options?: unknown) => unknown;
    expect(() => make('app')).toThrow(TypeError);
    expect(() => make(environApp, { scriptname: '/x' })).toThrow(/unknown option/);
    expect(() => make(environApp, { scriptName: 42 })).toThrow(TypeError);
    expect(() => make(environApp, { scriptName: 'app' })).toThrow(RangeError);
    expect(() => make(environApp, { scriptName: '/app/' })).toThrow(RangeError);
    expect(() => make(environApp, { scriptName: '/caf\u0100' })).toThrow(RangeError);
    expect(() => make(environApp, { scriptName: '/a\nb' })).toThrow(RangeError);
    expect(() => make(environApp, { errors: 'stderr' })).toThrow(TypeError);
    expect(() => make(environApp, { scriptName: '/app', errors: process.stderr })).not.toThrow();
  });
});
