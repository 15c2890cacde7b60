/**
 * TestClient: requests through the real server code over an in-memory connection, validated
 * by default, with an optional cookie jar and a streaming variant.
 */
import { describe, expect, it } from 'vitest';

import type { Application } from '@wsgi/util';

import { SIGNAL_KEY, TestClient } from '../src/index.ts';
import { echo, environApp, hello } from './_apps.ts';
import { MemoryErrors } from './_http.ts';

describe('TestClient requests', () => {
  it('answers with status, headers and body, as a server would send them', async () => {
    const client = new TestClient(hello);
    const res = await client.get('/');
    expect([res.status, res.statusText, res.text()]).toEqual([200, 'OK', 'Hello world!']);
    expect(res.body).toBeInstanceOf(Uint8Array);
    expect(res.headers.get('content-length')).toBe('12');
    expect(res.headers.get('server')).toMatch(/^WSGIServer\/0\.2 Node\//);
    expect(res.headers.get('date')).not.toBeNull();
    expect(res.rawHeaders.map(([name]) => name)).toEqual([
      'Content-Type',
      'Content-Length',
      'Server',
      'Date',
      'Connection',
    ]);
  });

  it('gives the application the path, query, headers and host', async () => {
    const client = new TestClient(environApp, { headers: { 'X-Default': 'd', 'X-Both': 'old' } });
    const res = await client.get('/a%20b?x=1', {
      query: { y: ['2', 3], z: true },
      headers: [
        ['X-Both', 'new'],
        ['X-Rep', 'a'],
        ['X-Rep', 'b'],
      ],
    });
    expect(res.json()).toMatchObject({
      PATH_INFO: '/a b',
      QUERY_STRING: 'x=1&y=2&y=3&z=true',
      SERVER_NAME: 'localhost',
      SERVER_PORT: '80',
      HTTP_HOST: 'localhost',
      REMOTE_ADDR: '127.0.0.1',
      HTTP_X_DEFAULT: 'd',
      HTTP_X_BOTH: 'new',
      HTTP_X_REP: 'a,b',
      REQUEST_METHOD: 'GET',
    });
    const other = await client.get('/', {
      query: '?q=%20',
      headers: { Host: 'example.org:8080' },
    });
    const hosted = await new TestClient(environApp, { host: 'example.org:8443' }).get('/');
    expect(hosted.json()).toMatchObject({
      SERVER_NAME: 'example.org',
      SERVER_PORT: '8443',
      HTTP_HOST: 'example.org:8443',
    });
    expect(other.json()).toMatchObject({ QUERY_STRING: 'q=%20', HTTP_HOST: 'example.org:8080' });
  });

  it('sends bodies: text, bytes, JSON and chunks', async () => {
    const client = new TestClient(echo);
    expect((await client.post('/', { body: 'héllo' })).text()).toBe('héllo');
    const bytes = new Uint8Array([0, 255, 1]);
    expect((await client.put('/', { body: bytes })).body).toEqual(bytes);
    expect((await client.post('/', { json: { a: [1] } })).json()).toEqual({ a: [1] });
    async function* chunks(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('one ');
      await new Promise((resolve) => setTimeout(resolve, 5));
      yield Buffer.from('two');
    }
    expect((await client.post('/', { body: chunks() })).text()).toBe('one two');
    const environ = new TestClient(environApp);
    const sent = (await environ.post('/', { json: 1 })).json() as Record<string, string>;
    expect([sent['CONTENT_TYPE'], sent['CONTENT_LENGTH']]).toEqual(['application/json', '1']);
    expect((await environ.delete('/')).json()).toMatchObject({ REQUEST_METHOD: 'DELETE' });
  });

  it('answers HEAD without a body', async () => {
    const res = await new TestClient(hello).head('/');
    expect([res.status, res.body.length, res.headers.get('content-length')]).toEqual([
      200,
      0,
      '12',
    ]);
  });

  it('applies the server limits: a body over maxBodySize gets 413', async () => {
    let calls = 0;
    const client = new TestClient(
      (environ, startResponse) => {
        calls += 1;
        return echo(environ, startResponse);
      },
      { maxBodySize: 3 },
    );
    expect((await client.post('/', { body: 'four' })).status).toBe(413);
    expect(calls).toBe(0);
    const head = await new TestClient(hello, { maxHeaderSize: 100 }).get('/', {
      headers: { 'X-Big': 'x'.repeat(200) },
    });
    expect(head.status).toBe(431);
  });

  it('answers an application error with the 500 page, its traceback on errors', async () => {
    const errors = new MemoryErrors();
    const client = new TestClient(
      () => {
        throw new Error('client boom');
      },
      { errors },
    );
    const res = await client.get('/');
    expect([res.status, res.text()]).toEqual([
      500,
      'A server error occurred.  Please contact the administrator.',
    ]);
    expect(errors.text).toContain('client boom');
  });

  it('answers a 1xx status or a malformed Content-Length with the 500 page, unvalidated too', async () => {
    const bad: Array<[string, Array<[string, string]>]> = [
      ['103 Early Hints', []],
      ['000 Z', []],
      ['200 OK', [['Content-Length', '0x10']]],
    ];
    for (const [status, headers] of bad) {
      const errors = new MemoryErrors();
      const client = new TestClient(
        (_environ, startResponse) => {
          startResponse(status, headers);
          return [Buffer.from('0123456789abcdef')];
        },
        { errors, validate: false },
      );
      const res = await client.get('/');
      expect([res.status, res.text()]).toEqual([
        500,
        'A server error occurred.  Please contact the administrator.',
      ]);
      expect(errors.text).toContain('WSGIAssertionError');
    }
  });

  it('rejects bad arguments', async () => {
    const client = new TestClient(hello);
    await expect(client.get('no-slash')).rejects.toThrow(TypeError);
    await expect(client.post('/', { body: 'a', json: 1 })).rejects.toThrow(/body or json/);
    await expect(client.post('/', { body: 5 as never })).rejects.toThrow(TypeError);
    expect(() => new TestClient('app' as never)).toThrow(TypeError);
    expect(() => new TestClient(hello, { cookies: 'yes' as never })).toThrow(TypeError);
    expect(() => new TestClient(hello, { host: '' })).toThrow(TypeError);
    expect(() => new TestClient(hello, { nope: 1 } as never)).toThrow(/unknown option/);
  });
});

describe('TestClient validation', () => {
  /** Sends a forbidden `Status` header (PEP 3333: no hop-by-hop or CGI `Status` header). */
  const invalid: Application = (_environ, startResponse) => {
    startResponse('200 OK', [
      ['Content-Type', 'text/plain'],
      ['Status', '200'],
    ]);
    return [Buffer.from('ok')];
  };

  it('rejects with the ValidationError a broken PEP 3333 rule raises', async () => {
    const error: unknown = await new TestClient(invalid).get('/').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('ValidationError');
    expect((error as { code?: string }).code).toMatch(/^headers\./);
  });

  it('reports a broken rule found while the body is iterated, at the end of a stream', async () => {
    const badChunk: Application = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['not bytes' as unknown as Uint8Array];
    };
    const client = new TestClient(badChunk, { errors: new MemoryErrors() });
    const reply = await client.stream('/');
    const read = async (): Promise<void> => {
      let length = 0;
      for await (const chunk of reply.body) length += chunk.length;
      expect(length).toBeGreaterThanOrEqual(0);
    };
    await expect(read()).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('runs the application as it is with validate: false', async () => {
    const res = await new TestClient(invalid, { validate: false }).get('/');
    expect([res.status, res.text()]).toEqual([200, 'ok']);
  });
});

describe('TestClient cookies', () => {
  const cookieApp: Application = (environ, startResponse) => {
    const path = environ['PATH_INFO'];
    const headers: [string, string][] = [['Content-Type', 'text/plain']];
    if (path === '/login') {
      headers.push(['Set-Cookie', 'session=abc; Path=/; HttpOnly']);
      headers.push(['Set-Cookie', 'scoped=1; Path=/admin']);
      headers.push(['Set-Cookie', 'elsewhere=1; Domain=example.org']);
    } else if (path === '/logout') {
      headers.push(['Set-Cookie', 'session=; Max-Age=0; Path=/']);
    }
    startResponse('200 OK', headers);
    const cookie = environ['HTTP_COOKIE'];
    return [Buffer.from(typeof cookie === 'string' ? cookie : '', 'latin1')];
  };

  it('keeps cookies per path and sends them back; Max-Age=0 removes one', async () => {
    const client = new TestClient(cookieApp, { cookies: true });
    expect((await client.get('/login')).text()).toBe('');
    expect((await client.get('/page')).text()).toBe('session=abc');
    expect((await client.get('/admin/users')).text()).toBe('scoped=1; session=abc');
    expect((await client.get('/administrator')).text()).toBe('session=abc');
    expect(client.cookies?.toObject()).toEqual({ session: 'abc', scoped: '1' });
    await client.get('/logout');
    expect((await client.get('/page')).text()).toBe('');
    expect((await client.get('/admin')).text()).toBe('scoped=1');
  });

  it('keeps none unless asked', async () => {
    const client = new TestClient(cookieApp);
    await client.get('/login');
    expect((await client.get('/page')).text()).toBe('');
    expect(client.cookies).toBeUndefined();
  });
});

describe('TestClient.stream', () => {
  it('delivers each chunk as the application makes it', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield Buffer.from('first');
        await released;
        yield Buffer.from('second');
      })();
    };
    const reply = await new TestClient(app).stream('/');
    expect([reply.status, reply.headers.get('transfer-encoding')]).toEqual([200, 'chunked']);
    const iterator = reply.body[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(Buffer.from(first.value ?? []).toString()).toBe('first');
    release();
    const second = await iterator.next();
    expect(Buffer.from(second.value ?? []).toString()).toBe('second');
    expect((await iterator.next()).done).toBe(true);
  });

  it('disconnects when the reader stops: the application sees its client go away', async () => {
    let signal: AbortSignal | undefined;
    const app: Application = (environ, startResponse) => {
      const own = environ[SIGNAL_KEY] as AbortSignal;
      signal = own;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        for (let i = 0; i < 1000 && !own.aborted; i += 1) {
          yield Buffer.from(`chunk ${String(i)};`);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
    };
    const reply = await new TestClient(app, { errors: new MemoryErrors() }).stream('/');
    for await (const chunk of reply.body) {
      expect(Buffer.from(chunk).toString()).toBe('chunk 0;');
      break;
    }
    const deadline = Date.now() + 5000;
    while (signal?.aborted !== true && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(signal?.aborted).toBe(true);
  });
});

describe('TestClient under concurrency and aborts', () => {
  it('keeps concurrent requests and their validation findings apart', async () => {
    const app: Application = async (environ, startResponse) => {
      const path = environ['PATH_INFO'];
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
      const headers: [string, string][] = [['Content-Type', 'text/plain']];
      // Only /bad/… breaks a rule (a forbidden Status header).
      if (path.startsWith('/bad/')) headers.push(['Status', '200']);
      startResponse('200 OK', headers);
      return [Buffer.from(path)];
    };
    const client = new TestClient(app);
    const paths = Array.from({ length: 20 }, (_, i) =>
      i % 5 === 0 ? `/bad/${String(i)}` : `/ok/${String(i)}`,
    );
    const results = await Promise.allSettled(paths.map((path) => client.get(path)));
    results.forEach((result, i) => {
      const path = paths[i] ?? '';
      if (path.startsWith('/bad/')) {
        expect(result.status).toBe('rejected');
        expect((result as PromiseRejectedResult).reason).toMatchObject({ name: 'ValidationError' });
      } else {
        expect(result.status).toBe('fulfilled');
        expect((result as PromiseFulfilledResult<{ text(): string }>).value.text()).toBe(path);
      }
    });
  });

  it('aborts a request on its signal; the application sees its client go away', async () => {
    let appSignal: AbortSignal | undefined;
    const app: Application = (environ, startResponse) => {
      const own = environ[SIGNAL_KEY] as AbortSignal;
      appSignal = own;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        for (let i = 0; i < 2000 && !own.aborted; i += 1) {
          yield Buffer.from('tick;');
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
    };
    const client = new TestClient(app, { errors: new MemoryErrors() });
    const signal = AbortSignal.timeout(50);
    const error: unknown = await client.get('/', { signal }).catch((e: unknown) => e);
    expect(error).toBe(signal.reason);
    expect(error).toMatchObject({ name: 'TimeoutError' });
    const deadline = Date.now() + 5000;
    while (appSignal?.aborted !== true && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(appSignal?.aborted).toBe(true);
    // Aborted before it starts: rejected with the reason, the application never called.
    appSignal = undefined;
    const before = new AbortController();
    before.abort(new Error('not now'));
    await expect(client.get('/', { signal: before.signal })).rejects.toThrow('not now');
    expect(appSignal).toBeUndefined();
  });
});
