/**
 * Faults on either side: a client that goes away mid-request or mid-response, an application
 * that throws, never reads its body, or answers with framing it must not control. The
 * connection's framing must survive every one of them, and `close()` is called once.
 */
import { afterEach, describe, expect, it } from 'vitest';

import type { Application } from '@wsgi/util';

import { connect, parseResponses, sleep, teardown, waitFor } from './_http.ts';
import { countingServer, send, statusLines } from './_raw.ts';

afterEach(teardown);

const STACK = /\n\s+at |node:internal/;

describe('the client goes away', () => {
  it('mid-request: the body read fails, close() runs once, nothing is logged as a crash', async () => {
    let failed = 0;
    const app: Application = (environ, startResponse) => {
      startResponse('200 OK', []);
      // The body is read while the response is iterated, so close() follows the failure.
      return (async function* () {
        try {
          yield await environ['wsgi.input'].read();
        } catch (error) {
          failed += 1;
          throw error;
        }
      })();
    };
    const { port, calls, errors } = await countingServer({}, app);
    const socket = await connect(port);
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nhalf');
    await waitFor(() => calls.app === 1);
    socket.destroy();
    await waitFor(() => calls.close === 1);
    expect(failed).toBe(1);
    await sleep(50);
    expect(calls.close).toBe(1);
    expect(errors.text).not.toMatch(STACK);
  });

  it('mid-response: the body stops being iterated, close() runs once, no log noise', async () => {
    let yielded = 0;
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', []);
      return (async function* () {
        for (let i = 0; i < 1000; i += 1) {
          yielded += 1;
          yield Buffer.alloc(16_384, 0x61);
          await sleep(5);
        }
      })();
    };
    const { port, calls, errors } = await countingServer({}, app);
    const socket = await connect(port);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve));
    socket.destroy();
    await waitFor(() => calls.close === 1);
    const stopped = yielded;
    await sleep(100);
    expect(yielded - stopped).toBeLessThanOrEqual(1);
    expect(yielded).toBeLessThan(1000);
    expect(calls.close).toBe(1);
    expect(errors.text).not.toMatch(STACK);
    expect(errors.text).not.toMatch(/ECONNRESET|EPIPE|destroyed/);
  });
});

describe('the application fails', () => {
  it('throws before starting the response: a 500 page without the stack, the connection usable', async () => {
    const app: Application = (environ) => {
      if (environ.PATH_INFO === '/boom') throw new Error('secret detail');
      return [Buffer.from('unreachable')];
    };
    const { port, errors } = await countingServer({}, (environ, start) => {
      if (environ.PATH_INFO === '/boom') return app(environ, start);
      start('200 OK', []);
      return [Buffer.from('ok')];
    });
    const result = await send(
      port,
      'GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const text = result.bytes.toString('latin1');
    expect(statusLines(result.bytes)).toEqual([
      'HTTP/1.1 500 Internal Server Error',
      'HTTP/1.1 200 OK',
    ]);
    expect(text).not.toContain('secret detail');
    expect(text).not.toMatch(STACK);
    // The stack goes to the server's log only.
    expect(errors.text).toContain('secret detail');
  });

  it('throws after the headers of a chunked body: the response is cut off, not finished', async () => {
    const { port, calls } = await countingServer({}, (_environ, startResponse) => {
      startResponse('200 OK', []);
      return (async function* () {
        yield Buffer.from('first part');
        await sleep(10);
        throw new Error('midway');
      })();
    });
    const result = await send(
      port,
      'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const text = result.bytes.toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toContain('Transfer-Encoding: chunked');
    expect(text).toContain('first part');
    // No last chunk: a client can tell the body is incomplete.
    expect(text).not.toMatch(/\r\n0\r\n\r\n$/);
    expect(statusLines(result.bytes)).toHaveLength(1);
    expect(result.closed).toBe(true);
    expect(calls.paths).toEqual(['/']);
    expect(calls.close).toBe(1);
  });

  it('throws after the headers of a Content-Length body: the connection closes short', async () => {
    const { port, calls } = await countingServer({}, (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Length', '100']]);
      return (function* () {
        yield Buffer.from('ten bytes!');
        throw new Error('midway');
      })();
    });
    const result = await send(
      port,
      'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const text = result.bytes.toString('latin1');
    // What was written may be lost with the connection, but never padded to the length.
    expect(text, JSON.stringify(text)).toMatch(
      /^(?:HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n(?:ten bytes!)?)?$/,
    );
    expect(result.closed).toBe(true);
    expect(calls.paths).toEqual(['/']);
    expect(calls.close).toBe(1);
  });

  it('never reads its body: the body is never taken for a request', async () => {
    const hidden = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
    const { port, calls } = await countingServer();
    const lengthBody = `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${String(hidden.length)}\r\n\r\n${hidden}`;
    const chunked = `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n`;
    const next = 'GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    for (const request of [lengthBody, chunked]) {
      const result = await send(port, request + next);
      // Either the body was skipped and the next request answered, or the connection closed.
      const lines = statusLines(result.bytes);
      expect(lines[0]).toBe('HTTP/1.1 200 OK');
      expect(lines.length).toBeLessThanOrEqual(2);
      expect(result.closed).toBe(true);
    }
    expect(calls.paths).not.toContain('/smuggled');
    expect(calls.close).toBe(calls.app);
  });
});

describe('responses the application must not frame', () => {
  it('sends no more than its Content-Length, and a pipelined response stays in sync', async () => {
    const { port } = await countingServer({}, (environ, startResponse) => {
      startResponse('200 OK', [['Content-Length', '5']]);
      return [
        Buffer.from(environ.PATH_INFO === '/long' ? 'HELLO, and HTTP/1.1 200 Forged' : 'ok!!!'),
      ];
    });
    const result = await send(
      port,
      'GET /long HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const { responses } = parseResponses(result.bytes, { closed: true });
    expect(responses.map((r) => r.body.toString())).toEqual(['HELLO', 'ok!!!']);
    expect(result.bytes.toString('latin1')).not.toContain('Forged');
  });

  it('closes the connection after a body shorter than its Content-Length', async () => {
    const { port, calls } = await countingServer({}, (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Length', '50']]);
      return [Buffer.from('short')];
    });
    const result = await send(
      port,
      'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect(result.bytes.toString('latin1').endsWith('\r\n\r\nshort')).toBe(true);
    expect(result.closed).toBe(true);
    expect(calls.paths).toEqual(['/']);
  });

  it.each([
    [
      'Transfer-Encoding with Content-Length',
      [
        ['Content-Length', '5'],
        ['Transfer-Encoding', 'chunked'],
      ],
    ],
    ['Connection', [['Connection', 'close']]],
    ['Keep-Alive', [['Keep-Alive', 'timeout=99']]],
    ['Upgrade', [['Upgrade', 'websocket']]],
    ['Transfer-Encoding', [['Transfer-Encoding', 'chunked']]],
    ['TE', [['TE', 'trailers']]],
    ['Proxy-Authenticate', [['Proxy-Authenticate', 'Basic']]],
    ['a CR LF in a value', [['X-A', 'a\r\nSet-Cookie: forged=1']]],
    ['a bare LF in a value', [['X-A', 'a\nSet-Cookie: forged=1']]],
    ['a NUL in a value', [['X-A', 'a\u0000b']]],
    ['a CR LF in a name', [['X-A\r\nSet-Cookie', 'forged=1']]],
    ['a space in a name', [['X A', 'b']]],
  ] as const)('answers 500 to a response with %s', async (_name, headers) => {
    const { port, errors } = await countingServer({}, (_environ, startResponse) => {
      startResponse(
        '200 OK',
        headers.map(([name, value]) => [name, value]),
      );
      return [Buffer.from('hello')];
    });
    const result = await send(
      port,
      'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const text = result.bytes.toString('latin1');
    expect(statusLines(result.bytes)[0]).toBe('HTTP/1.1 500 Internal Server Error');
    expect(text).not.toContain('forged');
    expect(text).not.toMatch(
      /Transfer-Encoding[^\r]*\r\n(?:[^\r]+\r\n)*Content-Length|Content-Length[^\r]*\r\n(?:[^\r]+\r\n)*Transfer-Encoding/,
    );
    expect(text).not.toMatch(STACK);
    // Every byte belongs to a well-framed response.
    const { responses, partial } = parseResponses(result.bytes, { closed: true });
    expect(partial).toBe(false);
    expect(responses.length).toBeGreaterThanOrEqual(1);
    expect(errors.text.length).toBeGreaterThan(0);
  });

  it('answers 500 to a status with a CR LF', async () => {
    const { port } = await countingServer({}, (_environ, startResponse) => {
      startResponse('200 OK\r\nSet-Cookie: forged=1', []);
      return [Buffer.from('hello')];
    });
    const result = await send(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(statusLines(result.bytes)).toEqual(['HTTP/1.1 500 Internal Server Error']);
    expect(result.bytes.toString('latin1')).not.toContain('forged');
  });

  it('sends no body with 204, 304 or HEAD, and the next response stays in sync (RFC 9110 §6.4.1)', async () => {
    const { port, calls } = await countingServer({}, (environ, startResponse) => {
      const status =
        environ.PATH_INFO === '/204'
          ? '204 No Content'
          : environ.PATH_INFO === '/304'
            ? '304 Not Modified'
            : '200 OK';
      startResponse(status, [['Content-Type', 'text/plain']]);
      return [Buffer.from('HTTP/1.1 200 Forged\r\n\r\n')];
    });
    const result = await send(
      port,
      'GET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET /304 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /head HTTP/1.1\r\nHost: x\r\n\r\nGET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const { responses, partial } = parseResponses(result.bytes, {
      closed: true,
      heads: [false, false, true, false],
    });
    expect(partial).toBe(false);
    expect(responses.map((r) => [r.status, r.body.toString('latin1')])).toEqual([
      [204, ''],
      [304, ''],
      [200, ''],
      [200, 'HTTP/1.1 200 Forged\r\n\r\n'],
    ]);
    expect(calls.close).toBe(4);
  });
});

describe('a status or Content-Length that would reframe the connection', () => {
  const PIPELINED =
    'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const cases: ReadonlyArray<[string, string, Array<[string, string]>]> = [
    ['a 103 status', '103 Early Hints', [['Link', '</a.css>; rel=preload']]],
    ['a 100 status', '100 Continue', []],
    ['a 101 status', '101 Switching Protocols', []],
    ['a 199 status', '199 Odd', []],
    ['a 000 status', '000 Z', []],
    ['a 099 status', '099 Odd', []],
    ['a hexadecimal Content-Length', '200 OK', [['Content-Length', '0x10']]],
    ['a negative Content-Length', '200 OK', [['Content-Length', '-1']]],
    ['an empty Content-Length', '200 OK', [['Content-Length', '']]],
    ['a Content-Length list', '200 OK', [['Content-Length', '4, 4']]],
    [
      'two differing Content-Length',
      '200 OK',
      [
        ['Content-Length', '4'],
        ['content-length', '40'],
      ],
    ],
  ];
  it.each(cases)(
    'answers %s with one 500, and the pipelined request after it in sync',
    async (_name, status, headers) => {
      const { port, calls, errors } = await countingServer({}, (environ, startResponse) => {
        if (environ.PATH_INFO === '/b') {
          startResponse('200 OK', [['Content-Length', '6']]);
          return [Buffer.from('second')];
        }
        startResponse(status, headers);
        return [Buffer.from('HTTP/1.1 200 Forged\r\nContent-Length: 0\r\n\r\n')];
      });
      const result = await send(port, PIPELINED);
      expect(statusLines(result.bytes)).toEqual([
        'HTTP/1.1 500 Internal Server Error',
        'HTTP/1.1 200 OK',
      ]);
      const { responses, partial } = parseResponses(result.bytes, { closed: true });
      expect(partial).toBe(false);
      expect(responses.map((r) => r.status)).toEqual([500, 200]);
      expect(responses[1]?.body.toString('latin1')).toBe('second');
      expect(result.bytes.toString('latin1')).not.toContain('Forged');
      expect(result.closed).toBe(true);
      expect(calls.paths).toEqual(['/', '/b']);
      // startResponse() threw inside the first application: only the second returned a body.
      expect(calls.close).toBe(1);
      expect(errors.text).toContain('WSGIAssertionError');
      expect(errors.text).not.toMatch(/ERR_HTTP_INVALID_STATUS_CODE/);
    },
  );
});
