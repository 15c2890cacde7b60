/**
 * toNodeListener(): the makeServer listener in servers we do not own — a plain node:http
 * server, Express and Connect mounts (SCRIPT_NAME from the mount point), and its options.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

import connect from 'connect';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';

import { makeServer, toNodeListener, WSGIRequestHandler } from '../src/index.ts';
import { echo, environApp, hello } from './_apps.ts';
import { MemoryErrors } from './_http.ts';

const servers = new Set<Server>();
const sockets = new Set<Socket>();

async function listen(listener: RequestListener, tls?: object): Promise<string> {
  const server = tls === undefined ? createServer(listener) : createHttpsServer(tls, listener);
  servers.add(server);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(
    [...servers].map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => {
            resolve();
          });
        }),
    ),
  );
  servers.clear();
});

async function environAt(base: string, path: string): Promise<Record<string, string>> {
  const res = await fetch(base + path);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, string>;
}

describe('toNodeListener in a node:http server', () => {
  it('builds the environ from the request and the socket it came to', async () => {
    const base = await listen(toNodeListener(environApp, { quiet: true }));
    const port = new URL(base).port;
    const env = await environAt(base, '/a%20b/c?x=1');
    expect(env).toMatchObject({
      SERVER_NAME: '127.0.0.1',
      SERVER_PORT: port,
      SCRIPT_NAME: '',
      PATH_INFO: '/a b/c',
      QUERY_STRING: 'x=1',
      REQUEST_METHOD: 'GET',
      REMOTE_ADDR: '127.0.0.1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      'wsgi.url_scheme': 'http',
    });
    expect(env['SERVER_SOFTWARE']).toMatch(/^WSGIServer\/0\.2 Node\//);
  });

  it('serves over node:https with wsgi.url_scheme https', async () => {
    const cert = readFileSync(new URL('fixtures/tls-cert.pem', import.meta.url));
    const key = readFileSync(new URL('fixtures/tls-key.pem', import.meta.url));
    const base = await listen(toNodeListener(environApp, { quiet: true }), { cert, key });
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(`${base.replace('http:', 'https:')}/tls`, { ca: cert }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve(Buffer.concat(chunks).toString());
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(JSON.parse(body)).toMatchObject({
      HTTPS: 'on',
      'wsgi.url_scheme': 'https',
      PATH_INFO: '/tls',
    });
    // A plain connection says nothing of TLS.
    const plain = await listen(toNodeListener(environApp, { quiet: true }));
    const env = await environAt(plain, '/');
    expect([env['HTTPS'], env['wsgi.url_scheme']]).toEqual([undefined, 'http']);
  });

  it('is the very listener makeServer runs', async () => {
    const server = await makeServer('127.0.0.1', 0, hello, { quiet: true });
    try {
      expect(server.httpServer.listeners('request')).toEqual([server.listener]);
      expect(server.httpServer.listeners('checkContinue')).toEqual([server.listener]);
    } finally {
      await server.close();
    }
  });

  it('shares the errors and scriptName options with makeServer', async () => {
    const errors = new MemoryErrors();
    const server = await makeServer('127.0.0.1', 0, environApp, { errors, scriptName: '/app' });
    try {
      const env = await environAt(`http://127.0.0.1:${String(server.port)}`, '/app/x');
      expect(env).toMatchObject({ SCRIPT_NAME: '/app', PATH_INFO: '/x' });
      expect(errors.text).toMatch(/"GET \/app\/x HTTP\/1\.1" 200 \d+\n$/);
    } finally {
      await server.close();
    }
  });

  it('removes a scriptName from the front of the path, at a segment boundary only', async () => {
    const base = await listen(toNodeListener(environApp, { quiet: true, scriptName: '/app' }));
    expect(await environAt(base, '/app/x?q')).toMatchObject({
      SCRIPT_NAME: '/app',
      PATH_INFO: '/x',
      QUERY_STRING: 'q',
    });
    expect(await environAt(base, '/app')).toMatchObject({ SCRIPT_NAME: '/app', PATH_INFO: '' });
    expect(await environAt(base, '/application')).toMatchObject({
      SCRIPT_NAME: '/app',
      PATH_INFO: '/application',
    });
  });

  it('refuses a body over maxBodySize with 413, without calling the application', async () => {
    let calls = 0;
    const base = await listen(
      toNodeListener(
        (environ, startResponse) => {
          calls += 1;
          return echo(environ, startResponse);
        },
        { quiet: true, maxBodySize: 4 },
      ),
    );
    const res = await fetch(`${base}/`, { method: 'POST', body: 'too long' });
    expect(res.status).toBe(413);
    expect(calls).toBe(0);
    const ok = await fetch(`${base}/`, { method: 'POST', body: 'four' });
    expect(await ok.text()).toBe('four');
  });

  it('writes the log and tracebacks to the errors option', async () => {
    const errors = new MemoryErrors();
    const base = await listen(
      toNodeListener(
        () => {
          throw new Error('listener boom');
        },
        { errors },
      ),
    );
    const res = await fetch(`${base}/fail`);
    expect(res.status).toBe(500);
    await res.arrayBuffer();
    expect(errors.text).toContain('listener boom');
    expect(errors.text).toMatch(/"GET \/fail HTTP\/1\.1" 500 59\n$/);
  });

  it('uses a handlerClass for each request', async () => {
    class Handler extends WSGIRequestHandler {
      override getEnviron(): Record<string, unknown> {
        return { ...super.getEnviron(), HTTP_X_FROM_HANDLER: 'yes' };
      }
    }
    const base = await listen(toNodeListener(environApp, { quiet: true, handlerClass: Handler }));
    expect(await environAt(base, '/')).toMatchObject({ HTTP_X_FROM_HANDLER: 'yes' });
  });

  it('refuses a target over maxRequestLineSize with 414, without calling the application', async () => {
    let calls = 0;
    const base = await listen(
      toNodeListener(
        (environ, startResponse) => {
          calls += 1;
          return hello(environ, startResponse);
        },
        { quiet: true, maxRequestLineSize: 10 },
      ),
    );
    const res = await fetch(`${base}/${'a'.repeat(10)}`);
    expect(res.status).toBe(414);
    expect(res.headers.get('connection')).toBe('close');
    expect(calls).toBe(0);
    const ok = await fetch(`${base}/${'a'.repeat(9)}`);
    expect(ok.status).toBe(200);
    expect(calls).toBe(1);
    expect(() => toNodeListener(hello, { maxRequestLineSize: 16_385 })).toThrow(TypeError);
  });

  it('rejects server-level, unknown and ill-typed options', () => {
    expect(() => toNodeListener(hello, { timeout: 5 } as never)).toThrow(
      /unknown option "timeout"/,
    );
    expect(() => toNodeListener(hello, { nope: 1 } as never)).toThrow(TypeError);
    expect(() => toNodeListener(hello, { scriptName: 'app' })).toThrow(/scriptName/);
    expect(() => toNodeListener(hello, { scriptName: '/app/' })).toThrow(/scriptName/);
    expect(() => toNodeListener(hello, { maxBodySize: -1 })).toThrow(RangeError);
    expect(() => toNodeListener(hello, { errors: 'stderr' as never })).toThrow(TypeError);
    expect(() => toNodeListener('app' as never)).toThrow(/app must be a function/);
    expect(() => toNodeListener(hello, null as never)).toThrow(/options must be an object/);
  });
});

describe('toNodeListener mounted in Express', () => {
  async function mounted(): Promise<string> {
    const app = express();
    app.get('/health', (_req, res) => {
      res.send('express');
    });
    app.use('/mount', toNodeListener(environApp, { quiet: true }));
    const router = express.Router();
    router.use('/inner', toNodeListener(environApp, { quiet: true }));
    app.use('/outer', router);
    return listen(app);
  }

  it('takes SCRIPT_NAME from the mount point and PATH_INFO from the rest', async () => {
    const base = await mounted();
    expect(await environAt(base, '/mount/a%20b?x=1')).toMatchObject({
      SCRIPT_NAME: '/mount',
      PATH_INFO: '/a b',
      QUERY_STRING: 'x=1',
    });
    expect(await environAt(base, '/mount')).toMatchObject({ SCRIPT_NAME: '/mount', PATH_INFO: '' });
    expect(await environAt(base, '/mount/')).toMatchObject({
      SCRIPT_NAME: '/mount',
      PATH_INFO: '/',
    });
    expect(await environAt(base, '/outer/inner/deep/er')).toMatchObject({
      SCRIPT_NAME: '/outer/inner',
      PATH_INFO: '/deep/er',
    });
    expect(await (await fetch(`${base}/health`)).text()).toBe('express');
  });

  it('lets an explicit scriptName win over the mount point', async () => {
    const app = express();
    app.use('/mount', toNodeListener(environApp, { quiet: true, scriptName: '/mount/sub' }));
    const base = await listen(app);
    expect(await environAt(base, '/mount/sub/x')).toMatchObject({
      SCRIPT_NAME: '/mount/sub',
      PATH_INFO: '/x',
    });
  });
});

describe('toNodeListener mounted in Connect', () => {
  it('takes SCRIPT_NAME from originalUrl and the rewritten url', async () => {
    const app = connect();
    app.use('/mount', toNodeListener(environApp, { quiet: true }));
    const base = await listen(app);
    expect(await environAt(base, '/mount/a/b?y=2')).toMatchObject({
      SCRIPT_NAME: '/mount',
      PATH_INFO: '/a/b',
      QUERY_STRING: 'y=2',
    });
    expect(await environAt(base, '/mount')).toMatchObject({ SCRIPT_NAME: '/mount', PATH_INFO: '' });
    expect(await environAt(base, '/mount/')).toMatchObject({
      SCRIPT_NAME: '/mount',
      PATH_INFO: '/',
    });
  });

  it('leaves SCRIPT_NAME empty at the root', async () => {
    const app = connect();
    app.use(toNodeListener(environApp, { quiet: true }));
    const base = await listen(app);
    expect(await environAt(base, '/x%2Fy')).toMatchObject({ SCRIPT_NAME: '', PATH_INFO: '/x/y' });
  });
});
