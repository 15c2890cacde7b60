import { afterEach, describe, expect, it } from 'vitest';

import type { Environ } from '@wsgi/util';

import { SIGNAL_KEY } from '../src/index.ts';
import {
  bytes,
  closesWithin,
  connect,
  exchange,
  parseResponses,
  readUntil,
  serve,
  teardown,
} from './_http.ts';

import { echo, environApp, hello, json } from './_apps.ts';

afterEach(teardown);

describe('the environ (WSGIRequestHandler.getEnviron)', () => {
  it('has the CGI variables of wsgiref.simple_server', async () => {
    const { port } = await serve(environApp);
    const { responses, socket } = await exchange(
      port,
      'GET /some/where?a=1&b=%20 HTTP/1.1\r\nHost: example.test:8080\r\nUser-Agent: raw\r\n\r\n',
    );
    const env = json(responses[0]?.body ?? Buffer.alloc(0));
    expect(env).toMatchObject({
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PORT: String(port),
      SERVER_PROTOCOL: 'HTTP/1.1',
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/some/where',
      QUERY_STRING: 'a=1&b=%20',
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_PORT: String(socket.localPort),
      REMOTE_HOST: '',
      CONTENT_TYPE: 'text/plain',
      CONTENT_LENGTH: '',
      HTTP_HOST: 'example.test:8080',
      HTTP_USER_AGENT: 'raw',
      'wsgi.url_scheme': 'http',
    });
    expect(env['SERVER_SOFTWARE']).toBe(`WSGIServer/0.2 Node/${process.versions.node}`);
    expect(typeof env['SERVER_NAME']).toBe('string');
    expect(env['SERVER_NAME']).not.toBe('');
  });

  it('joins repeated headers with "," and drops names with "_" (no forged HTTP_X_USER)', async () => {
    const { port } = await serve(environApp);
    const { responses } = await exchange(
      port,
      'GET / HTTP/1.1\r\nHost: x\r\nX-Multi: a\r\nx-multi: b\r\nX_User: forged\r\nX-User: real\r\n' +
        'Content-Type: text/html\r\nContent-Length: 0\r\nPath-Info: /evil\r\n\r\n',
    );
    const env = json(responses[0]?.body ?? Buffer.alloc(0));
    expect(env['HTTP_X_MULTI']).toBe('a,b');
    expect(env['HTTP_X_USER']).toBe('real');
    expect(env['CONTENT_TYPE']).toBe('text/html');
    expect(env['CONTENT_LENGTH']).toBe('0');
    expect(env['HTTP_CONTENT_TYPE']).toBeUndefined();
    expect(env['HTTP_CONTENT_LENGTH']).toBeUndefined();
    // A header spelling an existing CGI key is not copied (as wsgiref does).
    expect(env['PATH_INFO']).toBe('/');
    expect(env['HTTP_PATH_INFO']).toBeUndefined();
    expect(Object.keys(env).filter((k) => k.includes('FORGED') || env[k] === 'forged')).toEqual([]);
  });

  it('percent-decodes PATH_INFO to a native string and keeps QUERY_STRING raw (PEP 3333 "Unicode Issues")', async () => {
    const { port } = await serve(environApp);
    const { responses } = await exchange(
      port,
      'GET /caf%C3%A9/%E2%82%AC%2f%zz?q=caf%C3%A9 HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const env = json(responses[0]?.body ?? Buffer.alloc(0));
    expect(env['PATH_INFO']).toBe('/caf\u00c3\u00a9/\u00e2\u0082\u00ac/%zz');
    expect(env['QUERY_STRING']).toBe('q=caf%C3%A9');
  });

  it('reduces a leading run of slashes to one, as http.server does', async () => {
    const { port } = await serve(environApp);
    const { responses } = await exchange(port, 'GET //evil.example/x HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(json(responses[0]?.body ?? Buffer.alloc(0))['PATH_INFO']).toBe('/evil.example/x');
  });

  it('has the wsgi.* keys and multithread true (requests run concurrently)', async () => {
    let seen: Environ | undefined;
    const { port } = await serve((environ, startResponse) => {
      seen = environ;
      startResponse('200 OK', []);
      return [];
    });
    await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(seen?.['wsgi.version']).toEqual([1, 0]);
    expect(seen?.['wsgi.multithread']).toBe(true);
    expect(seen?.['wsgi.multiprocess']).toBe(false);
    expect(seen?.['wsgi.run_once']).toBe(false);
    expect(typeof seen?.['wsgi.file_wrapper']).toBe('function');
    expect(seen?.[SIGNAL_KEY]).toBeInstanceOf(AbortSignal);
  });
});

describe('request bodies (wsgi.input)', () => {
  it('reads a body with Content-Length, and the next request on the connection is intact', async () => {
    const { port } = await serve(echo);
    const { responses } = await exchange(
      port,
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello worldGET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok',
      2,
    );
    expect(responses.map((r) => r.body.toString())).toEqual(['hello world', 'ok']);
  });

  it('reads a chunked body (RFC 9112 §7.1), limited to the body', async () => {
    const { port } = await serve(async (environ, startResponse) => {
      const input = environ['wsgi.input'];
      const first = await input.readline();
      const rest = await input.read();
      const after = await input.read(10);
      startResponse('200 OK', []);
      return [bytes(`${first.toString()}|${rest.toString()}|${String(after.length)}`)];
    });
    const { responses } = await exchange(
      port,
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '6\r\nline1\n\r\n5;ext=1\r\nline2\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
      2,
    );
    expect(responses[0]?.body.toString()).toBe('line1\n|line2|0');
    expect(responses[1]?.status).toBe(200);
  });

  it('gives an empty input to a request without a body', async () => {
    const { port } = await serve(echo);
    const { responses } = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(responses[0]?.headers['content-length']).toBe('0');
  });

  it('answers Expect: 100-continue only when the application reads wsgi.input (RFC 9110 §10.1.1)', async () => {
    const { port } = await serve(echo);
    const socket = await connect(port);
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    const interim = await readUntil(socket, (b) => b.includes('\r\n\r\n'));
    expect(interim.bytes.toString('latin1')).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    socket.write('body');
    const final = await readUntil(socket, (b) => parseResponses(b).responses.length === 1);
    expect(parseResponses(final.bytes).responses[0]?.body.toString()).toBe('body');
  });

  it('sends no 100 Continue to an application that never reads, and closes the connection', async () => {
    const { port } = await serve(hello);
    const socket = await connect(port);
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    const { bytes: got, closed } = await readUntil(socket, () => false);
    expect(got.toString('latin1')).not.toContain('100 Continue');
    expect(parseResponses(got, { closed }).responses[0]?.status).toBe(200);
    expect(closed).toBe(true);
  });

  it('refuses a declared body over maxBodySize with 413 without calling the application', async () => {
    let called = false;
    const { port } = await serve(
      (environ, startResponse) => {
        called = true;
        return echo(environ, startResponse);
      },
      { maxBodySize: 10 },
    );
    const { responses, socket } = await exchange(
      port,
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world',
    );
    expect(responses[0]?.status).toBe(413);
    expect(responses[0]?.headers['connection']).toBe('close');
    expect(await closesWithin(socket)).toBe(true);
    expect(called).toBe(false);
  });

  it('answers 413 when a chunked body grows past maxBodySize while read', async () => {
    const { port } = await serve(echo, { maxBodySize: 10 });
    const { responses, socket } = await exchange(
      port,
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n',
    );
    expect(responses[0]?.status).toBe(413);
    expect(responses[0]?.body.toString()).toBe('413 Content Too Large\n');
    expect(responses[0]?.headers['connection']).toBe('close');
    expect(await closesWithin(socket)).toBe(true);
  });

  it('accepts a body of exactly maxBodySize', async () => {
    const { port } = await serve(echo, { maxBodySize: 10 });
    const { responses } = await exchange(
      port,
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n',
    );
    expect(responses[0]?.body.toString()).toBe('0123456789');
  });
});

describe('request limits', () => {
  it('answers 431 to more than maxHeaderCount header fields', async () => {
    const { port } = await serve(hello, { maxHeaderCount: 3 });
    const ok = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n');
    expect(ok.responses[0]?.status).toBe(200);
    const { responses } = await exchange(
      port,
      'GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n',
    );
    expect(responses[0]?.status).toBe(431);
  });

  it('answers 431 to a head over maxHeaderSize', async () => {
    const { port } = await serve(hello, { maxHeaderSize: 1024 });
    const { responses } = await exchange(
      port,
      `GET / HTTP/1.1\r\nHost: x\r\nBig: ${'a'.repeat(2000)}\r\n\r\n`,
    );
    expect(responses[0]?.status).toBe(431);
  });

  it('answers 400 to an HTTP/1.1 request without Host and to a malformed one (RFC 9112 §3.2)', async () => {
    const { port } = await serve(hello);
    expect((await exchange(port, 'GET / HTTP/1.1\r\n\r\n')).responses[0]?.status).toBe(400);
    expect(
      (await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n')).responses[0]
        ?.status,
    ).toBe(400);
    // RFC 9112 §6.1: Transfer-Encoding with Content-Length is refused.
    const smuggled = await exchange(
      port,
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    expect(smuggled.responses[0]?.status).toBe(400);
  });
});
