/**
 * The shared behaviour suite (_conformance.ts) run against every way of serving an
 * application: makeServer, toNodeListener in a plain node:http server, TestClient,
 * @wsgi/fetch's toFetchHandler under srvx, and @wsgi/cgi's CGIHandler in a child process
 * behind a small CGI gateway. Then every target's answers are compared with makeServer's.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

import type { Application } from '@wsgi/util';
import { serve } from 'srvx';
import { afterAll, describe, expect, it } from 'vitest';

import { makeServer, TestClient, toNodeListener } from '../src/index.ts';
import { conformanceSuite } from './_conformance.ts';
import type { Answer, SuiteReply, SuiteRequest, Target } from './_conformance.ts';
import { MemoryErrors } from './_http.ts';
import { conformanceApp } from './fixtures/conformance-app.mjs';

/** A request to 127.0.0.1:port; the reply's body is the response stream. */
function send(port: number, request: SuiteRequest): Promise<SuiteReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: request.method, path: request.path, agent: false },
      (res: IncomingMessage) => {
        const headers: [string, string][] = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          headers.push([res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string]);
        }
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers,
          body: res,
        });
      },
    );
    for (const [name, value] of Object.entries(request.headers ?? {})) req.setHeader(name, value);
    req.once('error', reject);
    req.end(request.body);
  });
}

/** A node:http server, its sockets destroyed on close. */
async function listen(server: Server): Promise<Target> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    send: (request) => send(port, request),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}

// @wsgi/fetch and @wsgi/cgi are built after @wsgi/simple (they depend on it), so they are
// taken from their build output instead of being dependencies, which would make a cycle.
type FetchHandler = (request: Request) => Promise<Response>;
interface FetchModule {
  toFetchHandler: (app: Application, options?: { errors?: MemoryErrors }) => FetchHandler;
  fromFetchHandler: (handler: FetchHandler) => Application;
}
async function loadFetch(): Promise<FetchModule> {
  const url = new URL('../../fetch/dist/index.js', import.meta.url).href;
  return (await import(url)) as FetchModule;
}

/** A TestClient target: the reply's body is the stream of chunks. */
function clientTarget(client: TestClient, sortsHeaders = false): Target {
  return {
    send: async (request) => {
      const reply = await client.stream(request.path, {
        method: request.method,
        ...(request.headers === undefined ? {} : { headers: request.headers }),
        ...(request.body === undefined ? {} : { body: request.body }),
      });
      return {
        status: reply.status,
        statusText: reply.statusText,
        headers: reply.rawHeaders.map(([name, value]) => [name, value]),
        body: reply.body,
      };
    },
    close: () => Promise.resolve(),
    sortsHeaders,
  };
}

const CGI_SCRIPT = fileURLToPath(new URL('fixtures/cgi-conformance.mjs', import.meta.url));

/** Python's `unquote(path, 'iso-8859-1')`, as a web server does for PATH_INFO. */
function unquoteLatin1(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/**
 * A minimal CGI gateway (RFC 3875): each request runs the script in a new child process with
 * the request's meta-variables, its body on stdin; the script's header block becomes the
 * response head and the rest of stdout is streamed as the body.
 */
function cgiGateway(children: Set<ChildProcess>): Server {
  return createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const env: Record<string, string> = {
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_SOFTWARE: 'test-gateway',
      SERVER_NAME: '127.0.0.1',
      SERVER_PORT: String(req.socket.localPort),
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
      REQUEST_METHOD: req.method ?? 'GET',
      SCRIPT_NAME: '',
      // The decoded bytes; Node hands environment strings to the child as UTF-8.
      PATH_INFO: Buffer.from(unquoteLatin1(q === -1 ? url : url.slice(0, q)), 'latin1').toString(),
      QUERY_STRING: q === -1 ? '' : url.slice(q + 1),
      REMOTE_ADDR: req.socket.remoteAddress ?? '',
    };
    for (const [name, value] of Object.entries(req.headers)) {
      const key = name.toUpperCase().replaceAll('-', '_');
      const text = Array.isArray(value) ? value.join(', ') : (value ?? '');
      if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') env[key] = text;
      else env[`HTTP_${key}`] = text;
    }
    const child = spawn(process.execPath, [CGI_SCRIPT], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('close', () => {
      clearTimeout(timer);
      children.delete(child);
      if (!res.headersSent) res.writeHead(502).end();
      else res.end();
    });
    res.once('close', () => child.kill('SIGKILL'));
    child.stderr.resume();
    req.pipe(child.stdin).on('error', () => undefined);
    let head = Buffer.alloc(0);
    child.stdout.on('data', (chunk: Buffer) => {
      if (res.headersSent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      let status = '200 OK';
      const flat: string[] = [];
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon);
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = value;
        else flat.push(name, value);
      }
      res.writeHead(Number(status.slice(0, 3)), status.slice(4), flat);
      const rest = head.subarray(end + 4);
      if (rest.length > 0) res.write(rest);
    });
  });
}

const answers = new Map<string, Map<string, Answer>>();
function answersOf(name: string): Map<string, Answer> {
  const map = new Map<string, Answer>();
  answers.set(name, map);
  return map;
}

conformanceSuite(
  'makeServer',
  async () => {
    const server = await makeServer('127.0.0.1', 0, conformanceApp, {
      quiet: true,
      errors: new MemoryErrors(),
    });
    return {
      send: (request) => send(server.port, request),
      close: () => server.close(),
    };
  },
  answersOf('makeServer'),
);

conformanceSuite(
  'toNodeListener in node:http',
  () =>
    listen(
      createServer(toNodeListener(conformanceApp, { quiet: true, errors: new MemoryErrors() })),
    ),
  answersOf('toNodeListener'),
);

conformanceSuite(
  'TestClient',
  () =>
    Promise.resolve(clientTarget(new TestClient(conformanceApp, { errors: new MemoryErrors() }))),
  answersOf('TestClient'),
);

// Through Fetch and back: fromFetchHandler(toFetchHandler(app)) behind the validator.
conformanceSuite(
  'fromFetchHandler(toFetchHandler) in TestClient',
  async () => {
    const { fromFetchHandler, toFetchHandler } = await loadFetch();
    const app = fromFetchHandler(toFetchHandler(conformanceApp, { errors: new MemoryErrors() }));
    return clientTarget(new TestClient(app, { errors: new MemoryErrors() }), true);
  },
  answersOf('fromFetchHandler'),
);

conformanceSuite(
  'toFetchHandler under srvx',
  async () => {
    const { toFetchHandler } = await loadFetch();
    const server = serve({
      fetch: toFetchHandler(conformanceApp, { errors: new MemoryErrors() }),
      port: 0,
      hostname: '127.0.0.1',
      silent: true,
      gracefulShutdown: false,
    });
    await server.ready();
    const node = server.node?.server;
    if (node === undefined) throw new Error('srvx made no node:http server');
    const { port } = node.address() as AddressInfo;
    return {
      send: (request) => send(port, request),
      close: () => server.close(true),
      // A Fetch Headers object iterates its names sorted (Fetch standard, "sort and combine").
      sortsHeaders: true,
    };
  },
  answersOf('toFetchHandler'),
);

const children = new Set<ChildProcess>();
conformanceSuite(
  'CGIHandler in a child process',
  () => listen(cgiGateway(children)),
  answersOf('CGIHandler'),
);
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

describe('conformance: every target', () => {
  it('gives the same status, headers and body as makeServer', () => {
    const reference = answers.get('makeServer');
    expect(reference?.size).toBeGreaterThan(5);
    expect([...answers.keys()]).toHaveLength(6);
    // Compared by name (a stable sort keeps repeated fields in order): Fetch sorts them.
    const sorted = (map: Map<string, Answer> | undefined): Record<string, Answer> =>
      Object.fromEntries(
        [...(map ?? [])].map(([key, a]) => [
          key,
          { ...a, headers: a.headers.toSorted(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)) },
        ]),
      );
    for (const [name, map] of answers) {
      expect({ name, answers: sorted(map) }).toEqual({ name, answers: sorted(reference) });
    }
  });
});
