import { request as httpRequest } from 'node:http';

import { afterEach, describe, expect, it } from 'vitest';

import type { ResponseBody } from '@wsgi/util';

import { makeServer, SIGNAL_KEY, WSGIServer } from '../src/index.ts';
import {
  bytes,
  connect,
  connectionCount,
  exchange,
  parseResponses,
  readUntil,
  serve,
  sleep,
  teardown,
  waitFor,
} from './_http.ts';

import { hello } from './_apps.ts';

afterEach(teardown);

describe('makeServer', () => {
  it('listens on the real port when 0 is asked and serves a one-chunk body with Content-Length', async () => {
    const { server, port, errors } = await serve(hello);
    expect(port).toBeGreaterThan(0);
    expect(server.port).toBe(port);
    expect(server.host).toBe('127.0.0.1');
    expect(server.baseEnviron).toMatchObject({
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PORT: String(port),
      SCRIPT_NAME: '',
    });
    const { responses } = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const [res] = responses;
    expect(res?.status).toBe(200);
    expect(res?.reason).toBe('OK');
    expect(res?.headers['content-length']).toBe('12');
    expect(res?.headers['server']).toMatch(/^WSGIServer\/0\.2 Node\/\d+\.\d+\.\d+$/);
    expect(res?.headers['date']).toMatch(/GMT$/);
    expect(res?.body.toString()).toBe('Hello world!');
    // One Common Log Format line per request.
    await waitFor(() => errors.text.includes('\n'));
    expect(errors.text).toMatch(
      /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET \/ HTTP\/1\.1" 200 12\n$/,
    );
  });

  it('writes no log line when quiet', async () => {
    const { port, errors } = await serve(hello, { quiet: true });
    await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(20);
    expect(errors.text).toBe('');
  });

  it('refuses an unknown option with a TypeError and a bad limit with a RangeError', async () => {
    await expect(makeServer('127.0.0.1', 0, hello, { maxBodysize: 1 } as never)).rejects.toThrow(
      TypeError,
    );
    expect(() => new WSGIServer({ quiet: 'yes' } as never)).toThrow(TypeError);
    expect(() => new WSGIServer({ maxHeaderSize: 0 })).toThrow(RangeError);
    expect(() => new WSGIServer({ keepAliveTimeout: -1 })).toThrow(RangeError);
    expect(() => new WSGIServer({ maxBodySize: Infinity })).not.toThrow();
  });

  it('passes its limits to node:http explicitly', () => {
    const server = new WSGIServer({
      maxHeaderSize: 4096,
      keepAliveTimeout: 1234,
      maxConnections: 7,
    });
    expect(server.httpServer.keepAliveTimeout).toBe(1234);
    expect(server.httpServer.maxConnections).toBe(7);
    expect(server.httpServer.maxHeadersCount).toBe(101);
  });

  it('getApp/setApp swap the application; close() before listen() resolves', async () => {
    const { server, port } = await serve(hello);
    expect(server.getApp()).toBe(hello);
    server.setApp((_e, startResponse) => {
      startResponse('201 Created', []);
      return [];
    });
    const { responses } = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(responses[0]?.status).toBe(201);
    expect(responses[0]?.headers['content-length']).toBe('0');
    await new WSGIServer().close();
  });
});

describe('HTTP/1.1 framing (RFC 9112)', () => {
  it('reuses a keep-alive connection (RFC 9112 §9.3)', async () => {
    const { server, port } = await serve(hello);
    let connections = 0;
    server.httpServer.on('connection', () => (connections += 1));
    const socket = await connect(port);
    for (let i = 0; i < 3; i += 1) {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      const { bytes: got, closed } = await readUntil(
        socket,
        (b) => !parseResponses(b).partial && b.length > 0,
      );
      expect(closed).toBe(false);
      expect(parseResponses(got).responses[0]?.body.toString()).toBe('Hello world!');
    }
    expect(connections).toBe(1);
  });

  it('answers pipelined requests in order, however long each takes (RFC 9112 §9.3.2)', async () => {
    const delays: Record<string, number> = { '/a': 120, '/b': 10, '/c': 60 };
    const { port } = await serve(async (environ, startResponse) => {
      await sleep(delays[environ.PATH_INFO] ?? 0);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes(environ.PATH_INFO)];
    });
    const { responses } = await exchange(
      port,
      'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n',
      3,
    );
    expect(responses.map((r) => r.body.toString())).toEqual(['/a', '/b', '/c']);
  });

  it('sends a body of unknown length chunked to an HTTP/1.1 client (RFC 9112 §7.1)', async () => {
    const { port } = await serve((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (function* body() {
        yield bytes('Hello, ');
        yield bytes('');
        yield bytes('world!');
      })();
    });
    const { responses, bytes: raw } = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(responses[0]?.headers['transfer-encoding']).toBe('chunked');
    expect(responses[0]?.headers['content-length']).toBeUndefined();
    expect(responses[0]?.body.toString()).toBe('Hello, world!');
    expect(raw.toString('latin1')).toMatch(/\r\n0\r\n\r\n$/);
  });

  it('gives an HTTP/1.0 client HTTP/1.0 semantics: close-delimited body, no chunking (RFC 9112 §6.3, §9.3)', async () => {
    const { port } = await serve(async (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      await Promise.resolve();
      return (async function* body() {
        yield bytes(environ.SERVER_PROTOCOL);
        await sleep(1);
        yield bytes(' streamed');
      })();
    });
    const { responses, closed } = await exchange(port, 'GET / HTTP/1.0\r\n\r\n');
    expect(closed).toBe(true);
    expect(responses[0]?.headers['transfer-encoding']).toBeUndefined();
    expect(responses[0]?.body.toString()).toBe('HTTP/1.0 streamed');
  });

  it('keeps an HTTP/1.0 connection open only when asked and the length is known', async () => {
    const { port } = await serve(hello);
    const socket = await connect(port);
    socket.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const first = await readUntil(socket, (b) => parseResponses(b).responses.length === 1);
    expect(first.closed).toBe(false);
    expect(parseResponses(first.bytes).responses[0]?.headers['connection']?.toLowerCase()).toBe(
      'keep-alive',
    );
    socket.write('GET / HTTP/1.0\r\n\r\n');
    const second = await readUntil(socket, () => false);
    expect(second.closed).toBe(true);
    expect(parseResponses(second.bytes, { closed: true }).responses[0]?.body.toString()).toBe(
      'Hello world!',
    );
  });

  it('answers HEAD with the headers of GET and no body, keeping the connection in sync (RFC 9110 §9.3.2)', async () => {
    const { port } = await serve(hello);
    const { responses, closed } = await exchange(
      port,
      'HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
      2,
      [true, false],
    );
    expect(closed).toBe(false);
    expect(responses[0]?.headers['content-length']).toBe('12');
    expect(responses[0]?.body.length).toBe(0);
    expect(responses[1]?.body.toString()).toBe('Hello world!');
  });

  it('sends no body with 204 and 304 (RFC 9110 §15.3.5, §15.4.5)', async () => {
    const { port } = await serve((environ, startResponse) => {
      startResponse(environ.PATH_INFO === '/204' ? '204 No Content' : '304 Not Modified', []);
      return [bytes('must not be sent')];
    });
    const { responses, bytes: raw } = await exchange(
      port,
      'GET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET /304 HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\n',
      3,
    );
    expect(responses.map((r) => r.status)).toEqual([204, 304, 204]);
    expect(raw.toString('latin1')).not.toContain('must not');
  });

  it('never sends more than the declared Content-Length, and logs it', async () => {
    const { port, errors } = await serve((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Length', '5']]);
      return [bytes('12345'), bytes('EXCESS')];
    });
    const { responses, closed } = await exchange(
      port,
      'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
      2,
    );
    expect(closed).toBe(false);
    expect(responses.map((r) => r.body.toString())).toEqual(['12345', '12345']);
    expect(errors.text.toLowerCase()).toContain('content-length');
  });

  it('closes the connection when a body is shorter than declared, instead of desynchronising it', async () => {
    const { port, errors } = await serve((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Length', '100']]);
      return [bytes('short')];
    });
    const socket = await connect(port);
    // Two pipelined requests: the second must not be answered on a broken connection.
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const { bytes: got, closed } = await readUntil(socket, () => false);
    expect(closed).toBe(true);
    const text = got.toString('latin1');
    expect(text.match(/HTTP\/1\.1 200/g)).toHaveLength(1);
    expect(text.endsWith('short')).toBe(true);
    expect(errors.text.toLowerCase()).toContain('content-length');
  });
});

describe('applications', () => {
  it('serves 100 concurrent requests to an async application', async () => {
    const { port } = await serve(async (environ, startResponse) => {
      await sleep(Math.random() * 20);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* body() {
        yield bytes(environ.QUERY_STRING ?? '');
        await sleep(1);
        yield bytes('!');
      })();
    });
    const results = await Promise.all(
      Array.from(
        { length: 100 },
        (_, i) =>
          new Promise<string>((resolve, reject) => {
            const req = httpRequest(
              { host: '127.0.0.1', port, path: `/?${String(i)}`, agent: false },
              (res) => {
                let text = '';
                res.setEncoding('latin1');
                res.on('data', (chunk: string) => (text += chunk));
                res.on('end', () => {
                  resolve(text);
                });
              },
            );
            req.on('error', reject);
            req.end();
          }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => `${String(i)}!`));
  });

  it('answers an application error with a 500 page, logs it, and keeps serving', async () => {
    const { port, errors } = await serve((environ, startResponse) => {
      if (environ.PATH_INFO === '/boom') throw new Error('kaboom');
      return hello(environ, startResponse);
    });
    const { responses, closed } = await exchange(
      port,
      'GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
      2,
    );
    expect(closed).toBe(false);
    expect(responses[0]?.status).toBe(500);
    expect(responses[0]?.body.toString()).toBe(
      'A server error occurred.  Please contact the administrator.',
    );
    expect(responses[1]?.body.toString()).toBe('Hello world!');
    expect(errors.text).toContain('kaboom');
    expect(errors.text).toMatch(/"GET \/boom HTTP\/1\.1" 500 59/);
  });

  it('closes the body and aborts the signal when the client disconnects mid-response', async () => {
    let closed = 0;
    let aborted = false;
    let produced = 0;
    const { server, port } = await serve((environ, startResponse) => {
      const signal = environ[SIGNAL_KEY] as AbortSignal;
      signal.addEventListener('abort', () => (aborted = true));
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      const body: ResponseBody = {
        async *[Symbol.asyncIterator]() {
          for (let i = 0; i < 100_000 && !signal.aborted; i += 1) {
            produced += 1;
            yield Buffer.alloc(16_384, 120);
            await sleep(1);
          }
        },
        close() {
          closed += 1;
        },
      };
      return body;
    });
    const socket = await connect(port);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await readUntil(socket, (b) => b.length > 50_000);
    socket.destroy();
    await waitFor(() => closed === 1);
    expect(aborted).toBe(true);
    const at = produced;
    await sleep(50);
    expect(produced).toBeLessThanOrEqual(at + 1);
    expect(closed).toBe(1);
    for (let i = 0; i < 100 && (await connectionCount(server)) > 0; i += 1) await sleep(10);
    expect(await connectionCount(server)).toBe(0);
  });

  it('gives an already aborted signal to an application that looks after the client left', async () => {
    let aborted: boolean | undefined;
    let started = 0;
    const { port } = await serve(async (environ, startResponse) => {
      started += 1;
      await sleep(150);
      aborted = (environ[SIGNAL_KEY] as AbortSignal).aborted;
      return hello(environ, startResponse);
    });
    const socket = await connect(port);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => started === 1);
    socket.destroy();
    await waitFor(() => aborted !== undefined);
    expect(aborted).toBe(true);
  });

  it('does not abort the signal of a response that completed', async () => {
    let signal: AbortSignal | undefined;
    const { port } = await serve((environ, startResponse) => {
      signal = environ[SIGNAL_KEY] as AbortSignal;
      return hello(environ, startResponse);
    });
    const { socket } = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.destroy();
    await sleep(30);
    expect(signal?.aborted).toBe(false);
  });
});

describe('close()', () => {
  it('finishes a request in flight, closes idle keep-alive connections, then resolves', async () => {
    let release: () => void = () => undefined;
    let started = 0;
    const { server, port } = await serve(async (_environ, startResponse) => {
      started += 1;
      await new Promise<void>((resolve) => (release = resolve));
      startResponse('200 OK', []);
      return [bytes('done')];
    });
    const idle = await connect(port);
    idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => started === 1);
    release();
    await readUntil(idle, (b) => parseResponses(b).responses.length === 1);

    const busy = await connect(port);
    busy.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => started === 2);
    let resolved = false;
    const idleClosed = readUntil(idle, () => false);
    const closing = server.close().then(() => (resolved = true));
    expect((await idleClosed).closed).toBe(true);
    await sleep(30);
    expect(resolved).toBe(false);
    release();
    const { bytes: got, closed } = await readUntil(busy, () => false);
    expect(closed).toBe(true);
    const response = parseResponses(got, { closed }).responses[0];
    expect(response?.body.toString()).toBe('done');
    expect(response?.headers['connection']).toBe('close');
    await closing;
    expect(resolved).toBe(true);
    await expect(connect(port)).rejects.toThrow(/ECONNREFUSED/);
    await server.close();
  });
});
