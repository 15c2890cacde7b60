/**
 * Malformed requests and request smuggling: every request here must get exactly one 4xx/5xx
 * answer, then the connection closes, and neither it nor the request hidden behind it reaches
 * the application. Each is sent in one write, byte by byte, and split at every CR and LF.
 */
import { afterEach, describe, expect, it } from 'vitest';

import type { Application } from '@wsgi/util';

import { connect, connectionCount, sleep, teardown, waitFor } from './_http.ts';
import { countingServer, expectRefused, expectServing, MODES, send, statusLines } from './_raw.ts';

afterEach(teardown);

/** A complete request after the bad one: if it were ever parsed, the application would see it. */
const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';

interface Case {
  name: string;
  /** The request, without the smuggled one after it. */
  raw: string;
  /** The only statuses allowed; any 4xx/5xx when absent. */
  statuses?: readonly number[];
}

// RFC 9112 §6.3 (message body length), §6.1 (Transfer-Encoding), §11.2 (smuggling).
const FRAMING: Case[] = [
  {
    // §6.1: Content-Length with Transfer-Encoding; §6.3 item 3: a server MAY reject, and must close.
    name: 'Content-Length with Transfer-Encoding: chunked',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  },
  {
    name: 'Transfer-Encoding: chunked then Content-Length',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n',
  },
  {
    // §6.3 item 5: differing Content-Length values are an unrecoverable framing error.
    name: 'two different Content-Length fields',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
  },
  {
    name: 'two equal Content-Length fields',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd',
  },
  {
    name: 'Content-Length list',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 4\r\n\r\nabcd',
  },
  {
    name: 'Content-Length with a sign',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\nabcd',
  },
  {
    name: 'negative Content-Length',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\nabcd',
  },
  {
    name: 'hex Content-Length',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x4\r\n\r\nabcd',
  },
  {
    name: 'Content-Length with a space inside',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\nabcd',
  },
  { name: 'empty Content-Length', raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n' },
  {
    name: 'Content-Length past 2^53',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\nabcd',
  },
  {
    // §6.1: in a request, chunked must be the final coding, else 400 and close.
    name: 'Transfer-Encoding: identity',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n',
  },
  {
    name: 'Transfer-Encoding: xchunked',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n',
  },
  {
    name: 'Transfer-Encoding: chunked, gzip',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n',
  },
  {
    name: 'Transfer-Encoding split over two fields, chunked first',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n',
  },
  {
    // §5.1: no whitespace between field name and colon; a server MUST answer 400.
    name: 'space before the colon of Transfer-Encoding',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
  },
  {
    name: 'vertical tab in Transfer-Encoding',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n',
  },
  {
    // §6.1: a Transfer-Encoding in an HTTP/1.0 message means faulty framing.
    name: 'Transfer-Encoding in HTTP/1.0',
    raw: 'POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  },
];

// RFC 9112 §7.1 (chunked coding), §7.1.1 (chunk extensions).
const CHUNKS: Case[] = [
  {
    name: 'chunk size not hex',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n',
  },
  {
    name: 'negative chunk size',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nab\r\n0\r\n\r\n',
  },
  {
    name: '0x chunk size',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nab\r\n0\r\n\r\n',
  },
  {
    name: 'chunk size overflowing 64 bits',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nab\r\n0\r\n\r\n',
  },
  {
    name: 'chunk data longer than its size',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n',
  },
  {
    name: 'chunk size then a bare LF',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n',
  },
  {
    name: 'chunk extension with a bare LF',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=\nb\r\nab\r\n0\r\n\r\n',
  },
  {
    name: 'chunk extension with a control byte',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a\x01\r\nab\r\n0\r\n\r\n',
  },
  {
    name: 'chunk extension with an unclosed quote',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a="b\r\nab\r\n0\r\n\r\n',
  },
  {
    name: 'space inside the chunk size',
    raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1 2\r\nab\r\n0\r\n\r\n',
  },
  {
    name: 'chunk extensions past 16 KiB',
    raw: `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;${'a'.repeat(20_000)}\r\nab\r\n0\r\n\r\n`,
    statuses: [400, 413],
  },
];

// RFC 9112 §2.2 (bare CR), §5.1 (field syntax), §5.2 (obs-fold), RFC 9110 §5.5 (field values).
const FIELDS: Case[] = [
  {
    name: 'bare CR inside a field value',
    raw: 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rX-B: b\r\n\r\n',
  },
  { name: 'bare CR ending a field', raw: 'GET / HTTP/1.1\r\nHost: x\rX-A: a\r\n\r\n' },
  { name: 'CR CR LF', raw: 'GET / HTTP/1.1\r\nHost: x\r\r\n\r\n' },
  {
    name: 'obs-fold (a line starting with a space)',
    raw: 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n',
  },
  { name: 'obs-fold with a tab', raw: 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n' },
  { name: 'a first field line starting with a space', raw: 'GET / HTTP/1.1\r\n Host: x\r\n\r\n' },
  { name: 'NUL in a field value', raw: 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n' },
  {
    name: 'control byte in a field value',
    raw: 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x07b\r\n\r\n',
  },
  { name: 'DEL in a field value', raw: 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n' },
  { name: 'NUL in a field name', raw: 'GET / HTTP/1.1\r\nHost: x\r\nX\x00A: a\r\n\r\n' },
  { name: 'space in a field name', raw: 'GET / HTTP/1.1\r\nHost: x\r\nX A: a\r\n\r\n' },
  { name: 'empty field name', raw: 'GET / HTTP/1.1\r\nHost: x\r\n: a\r\n\r\n' },
  { name: 'field line without a colon', raw: 'GET / HTTP/1.1\r\nHost: x\r\nX-A\r\n\r\n' },
  { name: 'space before a colon', raw: 'GET / HTTP/1.1\r\nHost: x\r\nX-A : a\r\n\r\n' },
  { name: 'non-token byte in a field name', raw: 'GET / HTTP/1.1\r\nHost: x\r\nX(A): a\r\n\r\n' },
];

// RFC 9112 §3.2 (Host), §3 (request line), §2.3 (version), RFC 9110 §9.1 (method token).
const REQUEST_LINES: Case[] = [
  // §3.2: more than one Host, or an invalid Host value, MUST get 400.
  { name: 'two Host fields', raw: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', statuses: [400] },
  {
    name: 'two equal Host fields',
    raw: 'GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n',
    statuses: [400],
  },
  {
    name: 'two Host fields in HTTP/1.0',
    raw: 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n',
    statuses: [400],
  },
  { name: 'a Host with a space', raw: 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', statuses: [400] },
  { name: 'a Host with a slash', raw: 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', statuses: [400] },
  { name: 'a Host with userinfo', raw: 'GET / HTTP/1.1\r\nHost: u@a\r\n\r\n', statuses: [400] },
  { name: 'no Host in HTTP/1.1', raw: 'GET / HTTP/1.1\r\nX-A: a\r\n\r\n', statuses: [400] },
  { name: 'a tab between method and target', raw: 'GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n' },
  { name: 'text after the version', raw: 'GET / HTTP/1.1 x\r\nHost: x\r\n\r\n' },
  { name: 'lower-case protocol name', raw: 'GET / http/1.1\r\nHost: x\r\n\r\n' },
  { name: 'version 1.10', raw: 'GET / HTTP/1.10\r\nHost: x\r\n\r\n' },
  { name: 'version 2.0 over HTTP/1 framing', raw: 'GET / HTTP/2.0\r\nHost: x\r\n\r\n' },
  { name: 'version 0.9 request line', raw: 'GET /\r\nHost: x\r\n\r\n' },
  { name: 'version 1.1 with spaces', raw: 'GET / HTTP/ 1.1\r\nHost: x\r\n\r\n' },
  { name: 'a method with a non-token byte', raw: 'G@T / HTTP/1.1\r\nHost: x\r\n\r\n' },
  { name: 'NUL in the target', raw: 'GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n' },
  { name: 'a control byte in the target', raw: 'GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n' },
  { name: 'a bare LF request line', raw: 'GET / HTTP/1.1\nHost: x\r\n\r\n' },
  { name: 'a bare CR request line', raw: 'GET / HTTP/1.1\rHost: x\r\n\r\n' },
  { name: 'binary garbage', raw: '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' },
];

/** Reads the whole body before answering, so a broken body is found while the request runs. */
const reader: Application = async (environ, startResponse) => {
  const body = await environ['wsgi.input'].read();
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [body];
};

/**
 * Sends each case three ways. A head the server refuses never reaches the application. A body
 * is only parsed as it is read, after the application was called: then the read fails, the
 * application is called once per connection for the first request and never for the one behind it.
 */
function run(cases: Case[], { body = false } = {}): void {
  it.each(cases)('$name', async ({ name, raw, statuses }) => {
    const { port, calls, errors } = await countingServer({}, body ? reader : undefined);
    for (const mode of MODES) {
      const result = await send(port, raw + SMUGGLED, mode);
      expectRefused(result, `${name} (${mode})`, statuses);
    }
    if (body) {
      expect(calls.paths.filter((path) => path !== '/')).toEqual([]);
    } else {
      expect(calls.app, `${name}: the application was called for ${calls.paths.join(', ')}`).toBe(
        0,
      );
    }
    expect(errors.text).not.toMatch(/\n\s+at /);
    await expectServing(port);
  });
}

describe('request framing and smuggling (RFC 9112 §6)', () => {
  run(FRAMING);
});

describe('chunked bodies (RFC 9112 §7.1)', () => {
  run(CHUNKS, { body: true });
});

describe('field lines (RFC 9112 §5, RFC 9110 §5.5)', () => {
  run(FIELDS);
});

describe('request lines and Host (RFC 9112 §3)', () => {
  run(REQUEST_LINES);
});

describe('protocol upgrades (RFC 9110 §7.8)', () => {
  // h2c and WebSocket upgrades are not spoken here: the request is answered as HTTP/1.1 and the
  // connection closes, so bytes after it are never run, however they arrive.
  it.each([
    'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
  ])('answers %j once, then closes', async (raw) => {
    const { port, calls } = await countingServer();
    for (const mode of MODES) {
      const result = await send(port, raw + SMUGGLED, mode);
      expect(statusLines(result.bytes), mode).toEqual(['HTTP/1.1 200 OK']);
      expect(result.closed, mode).toBe(true);
    }
    expect(calls.paths).toEqual(['/', '/', '/']);
  });
});

describe('CONNECT (RFC 9110 §9.3.6)', () => {
  // As in Python's server, CONNECT goes to the application like any method. No tunnel is
  // opened: the answer is the last thing on the connection, and nothing sent after the head
  // is ever run, however it arrives.
  const CONNECT = 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n';

  it('goes to the application once, then the connection closes', async () => {
    const { port, calls } = await countingServer();
    for (const mode of MODES) {
      const result = await send(port, CONNECT + SMUGGLED, mode);
      const text = result.bytes.toString('latin1');
      expect(statusLines(result.bytes), mode).toEqual(['HTTP/1.1 200 OK']);
      expect(text, mode).toMatch(/\r\nConnection: close\r\n/);
      expect(text.endsWith('\r\n\r\nok'), mode).toBe(true);
      expect(result.closed, mode).toBe(true);
    }
    expect(calls.paths).toEqual(['example.com:443', 'example.com:443', 'example.com:443']);
    expect(calls.close).toBe(3);
  });

  it('gets the error page when the application fails, and the server stays up', async () => {
    const { port, errors } = await countingServer({}, (environ, startResponse) => {
      if (environ.REQUEST_METHOD === 'CONNECT') throw new Error('no tunnels here');
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [Buffer.from('ok')];
    });
    const result = await send(port, CONNECT);
    expect(statusLines(result.bytes)).toEqual(['HTTP/1.1 500 Internal Server Error']);
    expect(result.bytes.toString('latin1')).not.toMatch(/no tunnels here/);
    expect(result.closed).toBe(true);
    expect(errors.text).toMatch(/no tunnels here/);
    await expectServing(port);
  });

  it('is answered after the requests pipelined before it, and the server stays up', async () => {
    const { port, calls } = await countingServer({}, async (environ, startResponse) => {
      if (environ.PATH_INFO === '/slow') await sleep(200);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [Buffer.from(environ.REQUEST_METHOD)];
    });
    const slow = 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n';
    const result = await send(port, slow + slow + CONNECT + SMUGGLED);
    expect(statusLines(result.bytes)).toEqual(Array(3).fill('HTTP/1.1 200 OK'));
    expect(result.bytes.toString('latin1').endsWith('\r\n\r\nCONNECT')).toBe(true);
    expect(result.closed).toBe(true);
    // Behind a response that closed the connection, it is not answered at all.
    const closing = 'GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    expect(statusLines((await send(port, closing + CONNECT)).bytes)).toHaveLength(1);
    expect(calls.paths).toEqual(['/slow', '/slow', 'example.com:443', '/slow']);
    await expectServing(port);
  });

  it('keeps the idle timeout for the responses ahead of it', async () => {
    const big = Buffer.alloc(32 * 1024 * 1024, 0x61);
    const { port, server } = await countingServer({ timeout: 300 }, (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Length', String(big.length)]]);
      return [big];
    });
    const socket = await connect(port);
    // The client never reads: the 32 MiB answer stalls, and only the timeout ends it.
    socket.pause();
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n' + CONNECT);
    await sleep(100);
    expect(await connectionCount(server)).toBe(1);
    let open = 1;
    for (let i = 0; i < 60 && open > 0; i += 1) {
      await sleep(50);
      open = await connectionCount(server);
    }
    expect(open).toBe(0);
    socket.destroy();
  });

  it('sees the client go: its end aborts the signal and closes the connection', async () => {
    let aborted = false;
    const { port, server } = await countingServer({}, async (environ, startResponse) => {
      const signal = environ['wsgi_simple.signal'] as AbortSignal;
      await new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve();
        });
        setTimeout(resolve, 5000).unref();
      });
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [Buffer.from('late')];
    });
    const socket = await connect(port);
    socket.write(CONNECT);
    await sleep(100);
    socket.end();
    await waitFor(() => aborted, 2000);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('sends a body of unknown length as it is, not chunked (no framing in a 2xx answer)', async () => {
    const { port } = await countingServer({}, (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (function* parts() {
        yield Buffer.from('one,');
        yield Buffer.from('two');
      })();
    });
    const text = (await send(port, CONNECT)).bytes.toString('latin1');
    expect(text).not.toMatch(/transfer-encoding/i);
    expect(text).not.toMatch(/content-length/i);
    expect(text.endsWith('\r\n\r\none,two')).toBe(true);
  });

  it.each([
    'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 3\r\n\r\nabc',
    'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  ])('refuses %j with 400: a CONNECT request has no content', async (raw) => {
    const { port, calls } = await countingServer();
    for (const mode of MODES) expectRefused(await send(port, raw + SMUGGLED, mode), mode, [400]);
    expect(calls.app).toBe(0);
    await expectServing(port);
  });
});
