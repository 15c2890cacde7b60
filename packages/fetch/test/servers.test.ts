// The same application served two ways, over real sockets on 127.0.0.1: by srvx (a Fetch
// server on node:http) through toFetchHandler, and by our own makeServer. What a client sees
// must be the same: status, reason, headers (but the ones each server adds for itself) and
// body, streaming included.
import type { Application } from '@wsgi/core';
import { afterEach, describe, expect, it } from 'vitest';

import { toFetchHandler } from '../src/index.ts';

import { countingBody, enc, environApp, gate, nextText, pathApp, readerOf } from './_apps.ts';
import { memoryErrors, request, serveFetch, serveWsgi, teardown, until } from './_servers.ts';

afterEach(teardown);

/** Headers a server adds or frames for itself, so they may differ. */
const SERVER_OWN = new Set(['date', 'server', 'connection', 'keep-alive', 'transfer-encoding']);

/** Serves `app` both ways; returns the two ports, Fetch first, and the two error logs. */
async function both(app: Application) {
  const errors = memoryErrors();
  const fetchServer = await serveFetch(toFetchHandler(app, { errors }));
  const wsgiServer = await serveWsgi(app);
  return { ports: [fetchServer.port, wsgiServer.port], errors: [errors, wsgiServer.errors] };
}

interface Seen {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: string;
}

async function see(port: number, path: string, init: RequestInit = {}): Promise<Seen> {
  const response = await request(port, path, init);
  const headers = [...response.headers].filter(([name]) => !SERVER_OWN.has(name));
  headers.sort((a, b) => (a[0] === b[0] ? a[1].localeCompare(b[1]) : a[0].localeCompare(b[0])));
  const body = Buffer.from(await response.arrayBuffer()).toString('latin1');
  return { status: response.status, statusText: response.statusText, headers, body };
}

const apps: Record<string, Application> = {
  'one chunk': (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
    return [enc('Hello world!\n')];
  },
  'a generator without Content-Length': (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return (function* () {
      for (let i = 0; i < 5; i += 1) yield enc(`line ${i}\n`);
    })();
  },
  'write() then a body': (_environ, startResponse) => {
    const write = startResponse('201 Created', [
      ['Content-Type', 'text/plain'],
      ['Location', '/things/1'],
    ]);
    void write(enc('made '));
    return [enc('it')];
  },
  'a status, cookies and a latin-1 header': (_environ, startResponse) => {
    startResponse('404 Not Here', [
      ['Content-Type', 'text/html'],
      ['Set-Cookie', 'a=1; Path=/'],
      ['Set-Cookie', 'b=2; HttpOnly'],
      ['X-Name', 'Andr\u00e9'],
    ]);
    return [enc('<p>missing</p>')];
  },
  'a declared Content-Length and two chunks': (_environ, startResponse) => {
    startResponse('200 OK', [
      ['Content-Type', 'text/plain'],
      ['Content-Length', '10'],
    ]);
    return [enc('01234'), enc('56789')];
  },
  'an empty body': (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [];
  },
  'an error before the headers': () => {
    throw new Error('the application failed');
  },
};

describe('toFetchHandler under srvx answers like makeServer', () => {
  for (const [name, app] of Object.entries(apps)) {
    it(name, async () => {
      const { ports, errors } = await both(app);
      const [viaFetch, viaWsgi] = await Promise.all(ports.map((port) => see(port, '/x?y=1')));
      expect(viaFetch).toEqual(viaWsgi);
      expect(viaFetch?.status).toBeGreaterThanOrEqual(200);
      const [fetchLog, wsgiLog] = errors.map(String);
      // The same traceback (or none) in both logs.
      expect(fetchLog?.split('\n')[0]).toBe(wsgiLog?.split('\n')[0]);
    });
  }

  it('HEAD: the same headers and no body', async () => {
    const { ports } = await both(apps['one chunk'] as Application);
    const [viaFetch, viaWsgi] = await Promise.all(
      ports.map((port) => see(port, '/', { method: 'HEAD' })),
    );
    expect(viaFetch).toEqual(viaWsgi);
    expect(viaFetch?.body).toBe('');
    expect(viaFetch?.headers).toContainEqual(['content-length', '13']);
  });

  it('a percent-encoded non-ASCII path reaches PATH_INFO byte for byte', async () => {
    const { ports } = await both(pathApp);
    for (const port of ports) {
      const response = await request(port, '/caf%C3%A9/%FF%E2%82%AC/a%2Fb');
      const bytes = Buffer.from(await response.arrayBuffer());
      expect([...bytes]).toEqual([
        ...Buffer.from('/caf'),
        0xc3,
        0xa9,
        0x2f,
        0xff,
        0xe2,
        0x82,
        0xac,
        ...Buffer.from('/a/b'),
      ]);
    }
  });

  it('the environ agrees on the request variables', async () => {
    const { ports } = await both(environApp);
    const seen = await Promise.all(
      ports.map(async (port) => {
        const response = await request(port, '/p%20q?a=%41&b', {
          method: 'POST',
          body: 'payload',
          headers: { 'Content-Type': 'text/csv', 'X-Custom': 'yes' },
        });
        return (await response.json()) as Record<string, unknown>;
      }),
    );
    const keys = [
      'REQUEST_METHOD',
      'SCRIPT_NAME',
      'PATH_INFO',
      'QUERY_STRING',
      'CONTENT_TYPE',
      'CONTENT_LENGTH',
      'HTTP_X_CUSTOM',
      'GATEWAY_INTERFACE',
      'wsgi.url_scheme',
      'wsgi.multithread',
      'wsgi.multiprocess',
      'body',
    ];
    const pick = (environ: Record<string, unknown> | undefined) =>
      Object.fromEntries(keys.map((key) => [key, environ?.[key]]));
    expect(pick(seen[0])).toEqual(pick(seen[1]));
    // The server's own address: each its port (makeServer names itself by its host name).
    for (const [i, port] of ports.entries()) {
      expect(seen[i]).toMatchObject({ HTTP_HOST: `127.0.0.1:${port}`, SERVER_PORT: String(port) });
    }
    expect(pick(seen[0])).toMatchObject({
      PATH_INFO: '/p q',
      QUERY_STRING: 'a=%41&b',
      body: 'payload',
    });
  });

  it('streams: the client reads each chunk before the application makes the next', async () => {
    const gates = [gate(), gate()];
    let made = 0;
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        for (const [i, next] of gates.entries()) {
          made += 1;
          yield enc(`chunk ${i};`);
          await next.promise;
        }
        yield enc('end');
      })();
    };
    const { ports } = await both(app);
    for (const port of ports) {
      made = 0;
      gates.splice(0, 2, gate(), gate());
      const reader = readerOf(await request(port, '/stream'));
      let seen = '';
      for (const [i, next] of gates.entries()) {
        // Chunk i arrives while the application waits at gate i: nothing is held back.
        for (let n = 0; n < 20 && !seen.includes(`chunk ${i};`); n += 1) {
          seen += (await nextText(reader)) ?? '';
        }
        expect(made).toBe(i + 1);
        next.open();
      }
      for (let i = 0; i < 10 && !seen.endsWith('end'); i += 1)
        seen += (await nextText(reader)) ?? '';
      expect(seen).toBe('chunk 0;chunk 1;end');
    }
  });

  it('a client that goes away ends the request quietly and closes the body once', async () => {
    const counting = countingBody();
    const errors = memoryErrors();
    const { port } = await serveFetch(
      toFetchHandler(
        (_environ, startResponse) => {
          startResponse('200 OK', [['Content-Type', 'text/plain']]);
          return counting.body;
        },
        { errors },
      ),
    );
    const controller = new AbortController();
    const reader = readerOf(await request(port, '/endless', { signal: controller.signal }));
    await reader.read();
    controller.abort();
    await until(() => counting.closed > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(counting.closed).toBe(1);
    // Backpressure reached the application: it stopped long before its 10 000 chunks.
    expect(counting.produced).toBeLessThan(10_000);
    expect(String(errors)).toBe('');
  });
});
