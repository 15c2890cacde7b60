/**
 * Every limit of `makeServer()`, through raw sockets: the status a client gets, the connection
 * closed, the application never called, each refused request sent three ways.
 */
import { afterEach, describe, expect, it } from 'vitest';

import type { Application } from '@wsgi/util';

import {
  closesWithin,
  connect,
  exchange,
  parseResponses,
  readUntil,
  sleep,
  teardown,
} from './_http.ts';
import { countingServer, expectRefused, expectServing, MODES, send, statusLines } from './_raw.ts';

afterEach(teardown);

/** Answers the number of HTTP_* keys in its environ, and echoes X-Last. */
const headerApp: Application = (environ, startResponse) => {
  const names = Object.keys(environ).filter((key) => key.startsWith('HTTP_X_'));
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [
    Buffer.from(
      `${String(names.length)} ${typeof environ['HTTP_X_LAST'] === 'string' ? environ['HTTP_X_LAST'] : '-'}`,
    ),
  ];
};

function fields(count: number): string {
  let out = '';
  for (let i = 1; i < count; i += 1) out += `X-F${String(i)}: ${String(i)}\r\n`;
  return `${out}X-Last: yes\r\n`;
}

describe('request head limits (RFC 9110 §15.5.20, RFC 6585 §5)', () => {
  it('answers 431 to a head over maxHeaderSize, sent three ways', async () => {
    const { port, calls } = await countingServer({ maxHeaderSize: 1024 });
    for (const mode of MODES) {
      const result = await send(
        port,
        `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(1100)}\r\n\r\n`,
        mode,
      );
      expectRefused(result, `big field (${mode})`, [431]);
    }
    // A request line over the limit counts against the same head size: 431 too (never 414).
    const long = await send(port, `GET /${'a'.repeat(1100)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expectRefused(long, 'long target', [431]);
    expect(calls.app).toBe(0);
    const fits = await send(
      port,
      `GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: ${'a'.repeat(900)}\r\n\r\n`,
    );
    expect(statusLines(fits.bytes)).toEqual(['HTTP/1.1 200 OK']);
  });

  it('answers 431 to more than maxHeaderCount fields, and never truncates up to it', async () => {
    const { port, calls } = await countingServer({ maxHeaderCount: 20 }, headerApp);
    // Host + 19 X- fields = 20: all reach the application, the last one too.
    const full = await send(
      port,
      `GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${fields(18)}\r\n`,
    );
    expect(full.bytes.toString('latin1')).toMatch(/\r\n\r\n18 yes$/);
    for (const mode of MODES) {
      const result = await send(port, `GET / HTTP/1.1\r\nHost: x\r\n${fields(20)}\r\n`, mode);
      expectRefused(result, `21 fields (${mode})`, [431]);
    }
    // Far more than the limit: still one 431, nothing silently dropped.
    const many = await send(port, `GET / HTTP/1.1\r\nHost: x\r\n${fields(500)}\r\n`);
    expectRefused(many, '501 fields', [431]);
    expect(calls.app).toBe(1);
  });

  it('answers 414 to a target over maxRequestLineSize, sent three ways', async () => {
    const { port, calls } = await countingServer({ maxRequestLineSize: 100 });
    // '/' and 99 more bytes: exactly the limit, served.
    const exact = await send(
      port,
      `GET /${'a'.repeat(99)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(statusLines(exact.bytes)).toEqual(['HTTP/1.1 200 OK']);
    expect(calls.app).toBe(1);
    for (const mode of MODES) {
      // One byte over, with a request pipelined behind it that must never run.
      const result = await send(
        port,
        `GET /${'b'.repeat(100)} HTTP/1.1\r\nHost: x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n`,
        mode,
      );
      expectRefused(result, `101-byte target (${mode})`, [414]);
      expect(result.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 414 URI Too Long\r\n/);
      expect(result.bytes.toString('latin1')).toMatch(/\r\nConnection: close\r\n/i);
    }
    // A query string is part of the target.
    const query = await send(port, `GET /?${'q'.repeat(99)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expectRefused(query, '101-byte target with a query', [414]);
    expect(calls.paths).toEqual([`/${'a'.repeat(99)}`]);
    await expectServing(port);
  });

  it('leaves a request line over maxHeaderSize to node:http (431), and checks the option', async () => {
    const { port, calls } = await countingServer({ maxHeaderSize: 1024, maxRequestLineSize: 1000 });
    expectRefused(
      await send(port, `GET /${'a'.repeat(1001)} HTTP/1.1\r\nHost: x\r\n\r\n`),
      'target of 1002',
      [414],
    );
    expectRefused(
      await send(port, `GET /${'a'.repeat(1100)} HTTP/1.1\r\nHost: x\r\n\r\n`),
      'request line over maxHeaderSize',
      [431],
    );
    expect(calls.app).toBe(0);
    await expect(countingServer({ maxHeaderSize: 1024, maxRequestLineSize: 1025 })).rejects.toThrow(
      TypeError,
    );
    await expect(countingServer({ maxRequestLineSize: 16_385 })).rejects.toThrow(
      /maxRequestLineSize \(16385\) must not exceed maxHeaderSize \(16384\)/,
    );
    await expect(countingServer({ maxRequestLineSize: 0 })).rejects.toThrow(RangeError);
    // Left out, it follows a maxHeaderSize below its default of 8190.
    const small = await countingServer({ maxHeaderSize: 1024 });
    expect(small.server.options.maxRequestLineSize).toBe(1024);
  });

  it('has safe defaults: 16 KiB head, 100 fields, 8190-byte target', async () => {
    const { port, calls } = await countingServer();
    expectRefused(
      await send(port, `GET /${'a'.repeat(8190)} HTTP/1.1\r\nHost: x\r\n\r\n`),
      'default target size',
      [414],
    );
    const exact = await send(
      port,
      `GET /${'a'.repeat(8189)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(statusLines(exact.bytes)).toEqual(['HTTP/1.1 200 OK']);
    expect(calls.app).toBe(1);
    expectRefused(
      await send(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17_000)}\r\n\r\n`),
      'default head size',
      [431],
    );
    expectRefused(
      await send(port, `GET / HTTP/1.1\r\nHost: x\r\n${fields(100)}\r\n`),
      'default field count',
      [431],
    );
  });
});

describe('body size (RFC 9110 §15.5.14, §10.1.1)', () => {
  it('answers 413 to a declared body over maxBodySize without 100 Continue, sent three ways', async () => {
    const { port, calls } = await countingServer({ maxBodySize: 100 });
    for (const mode of MODES) {
      const result = await send(
        port,
        'POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 101\r\n\r\n',
        mode,
      );
      expect(result.bytes.toString('latin1')).not.toContain('100 Continue');
      expectRefused(result, `Content-Length 101 (${mode})`, [413]);
    }
    // Without Expect, with the body sent: 413, and the body is never read as a request.
    const sent = await send(
      port,
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 150\r\n\r\n${'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(4)}`,
    );
    expectRefused(sent, 'body sent', [413]);
    expect(calls.app).toBe(0);
  });

  it('answers 413 once a chunked body grows past maxBodySize, and closes', async () => {
    const reader: Application = async (environ, startResponse) => {
      const body = await environ['wsgi.input'].read();
      startResponse('200 OK', []);
      return [body];
    };
    const { port, calls } = await countingServer({ maxBodySize: 100 }, reader);
    const chunk = `40\r\n${'a'.repeat(64)}\r\n`;
    const result = await send(
      port,
      `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}${chunk}0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    expectRefused(result, 'chunked past the limit', [413]);
    expect(calls.paths).toEqual(['/']);
  });
});

describe('connections', () => {
  it('closes connections past maxConnections at once, and serves the others', async () => {
    const { port } = await countingServer({ maxConnections: 3 });
    const open = await Promise.all([connect(port), connect(port), connect(port)]);
    const extra = await connect(port);
    const closed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        resolve(false);
      }, 2000);
      extra.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
      extra.on('error', () => undefined);
      extra.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(closed).toBe(true);
    for (const socket of open) {
      const answer = new Promise<string>((resolve) => {
        socket.once('data', (data: Buffer) => {
          resolve(data.toString('latin1'));
        });
      });
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await answer).toMatch(/^HTTP\/1\.1 200 OK/);
    }
    for (const socket of open) socket.destroy();
    // Room again once they are gone.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expectServing(port);
  });

  it('closes a connection after maxRequestsPerSocket answers, and runs no pipelined request after', async () => {
    const { port, calls } = await countingServer({ maxRequestsPerSocket: 2 });
    const request = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
    const result = await send(port, request.repeat(4));
    expect(statusLines(result.bytes)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(result.bytes.toString('latin1')).toMatch(/Connection: close\r\n\r\nok$/);
    expect(result.closed).toBe(true);
    expect(calls.app).toBe(2);
  });
});

describe('a body the application read only part of (RFC 9112 §9.3)', () => {
  const partReader: Application = async (environ, startResponse) => {
    const part = await environ['wsgi.input'].read(100);
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [Buffer.from(`${environ.PATH_INFO} read ${String(part.length)}`, 'latin1')];
  };

  // The body looks like requests: none of it may be read as one.
  const filler = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
  const requests = (size: number): string =>
    `POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: ${String(size)}\r\n\r\n${filler.repeat(Math.ceil(size / filler.length)).slice(0, size)}GET /next HTTP/1.1\r\nHost: x\r\n\r\n`;

  for (const size of [10_000, 300_000, 1024 * 1024]) {
    it(`discards the rest of a ${String(size)}-byte body and serves the next request on the connection`, async () => {
      const { port, calls } = await countingServer({}, partReader);
      const { responses, closed } = await exchange(port, requests(size), 2);
      expect(responses.map((r) => r.body.toString('latin1'))).toEqual([
        '/first read 100',
        '/next read 0',
      ]);
      expect(closed).toBe(false);
      expect(calls.paths).toEqual(['/first', '/next']);
    });
  }

  it('closes the connection after the response rather than read a rest over 1 MiB', async () => {
    const size = 3 * 1024 * 1024;
    const { port, calls } = await countingServer({ maxBodySize: 4 * 1024 * 1024 }, partReader);
    const { responses, closed } = await exchange(port, requests(size), 2);
    expect(responses.map((r) => r.body.toString('latin1'))).toEqual(['/first read 100']);
    expect(closed).toBe(true);
    expect(calls.paths).toEqual(['/first']);
  });

  it('discards the rest when the application gave up on a read before any byte came', async () => {
    // The application starts a read, stops waiting after 50 ms and answers; the body comes later.
    const impatient: Application = async (environ, startResponse) => {
      const read = environ['wsgi.input'].read(10).then(
        () => 'read',
        () => 'failed',
      );
      const outcome = await Promise.race([read, sleep(50).then(() => 'gave up')]);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [Buffer.from(`${environ.PATH_INFO} ${outcome}`, 'latin1')];
    };
    const { port, calls } = await countingServer({}, impatient);
    const socket = await connect(port);
    const size = 300_000;
    socket.write(`POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: ${String(size)}\r\n\r\n`);
    await sleep(200);
    socket.write(Buffer.alloc(size, 0x61));
    socket.write('GET /next HTTP/1.1\r\nHost: x\r\n\r\n');
    const { bytes: received } = await readUntil(socket, (b) => {
      const parsed = parseResponses(b);
      return !parsed.partial && parsed.responses.length >= 2;
    });
    const { responses } = parseResponses(received);
    expect(responses.map((r) => r.body.toString('latin1'))).toEqual([
      '/first gave up',
      '/next read',
    ]);
    expect(calls.paths).toEqual(['/first', '/next']);
  });

  it('closes after a long rest without cutting off a large response to a slow reader', async () => {
    // The client reads ~8 MB/s while it still has most of its 2 MiB upload to send: the close
    // must wait for it (a reset would throw away the response's unsent tail).
    const size = 6_000_000;
    const bigAnswer: Application = async (environ, startResponse) => {
      await environ['wsgi.input'].read(100);
      startResponse('200 OK', [['Content-Length', String(size)]]);
      return Array.from({ length: size / 1_000_000 }, () => Buffer.alloc(1_000_000, 0x7a));
    };
    const { port } = await countingServer({ maxBodySize: 4 * 1024 * 1024 }, bigAnswer);
    const socket = await connect(port);
    let failure = '';
    socket.on('error', (error: NodeJS.ErrnoException) => {
      failure = error.code ?? error.message;
    });
    const upload = Buffer.alloc(2 * 1024 * 1024, 0x61);
    socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${String(upload.length)}\r\n\r\n`);
    socket.write(upload);
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      socket.pause();
      setTimeout(() => socket.resume(), chunk.length / 8000);
    });
    const closed = await closesWithin(socket, 10_000);
    expect(failure).toBe('');
    expect(closed).toBe(true);
    expect(received).toBeGreaterThan(size);
    const text = `HTTP/1.1 200 OK\r\n`;
    expect(received).toBeLessThan(size + text.length + 300);
  }, 20_000);

  it('leaves a body nobody read to node:http, which drains it and keeps the connection', async () => {
    const { port, calls } = await countingServer({ maxBodySize: 4 * 1024 * 1024 });
    const { responses, closed } = await exchange(port, requests(3 * 1024 * 1024), 2);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect(closed).toBe(false);
    expect(calls.paths).toEqual(['/first', '/next']);
  });
});
