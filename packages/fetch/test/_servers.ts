/**
 * Test helpers: a real Fetch server (srvx on node:http) and our own HTTP server, both on
 * 127.0.0.1 port 0, a `node:http` client that keeps the raw response, and a `BaseHandler`
 * that writes to memory. Every server and socket is tracked and torn down.
 */
import type { Server as NetServer, Socket } from 'node:net';

import { BaseHandler } from '@wsgi/core';
import type { Application, Environ, ErrorStream, InputStream } from '@wsgi/core';
import { makeServer, WSGIRequestHandler } from '@wsgi/simple';
import type { ServerOptions, WSGIServer } from '@wsgi/simple';
import { setupTestingDefaults, toInputStream } from '@wsgi/util';
import { serve } from 'srvx';
import type { Server } from 'srvx';

import type { FetchHandler } from '../src/index.ts';

/**
 * An in-memory `ErrorStream` (the one `setupTestingDefaults` makes): `String(errors)` gives
 * what was written.
 */
export function memoryErrors(): MemoryErrors {
  const environ: Record<string, unknown> = {};
  setupTestingDefaults(environ);
  return environ['wsgi.errors'];
}

/** An `ErrorStream` whose `toString()` gives what was written. */
export interface MemoryErrors extends ErrorStream {
  toString(): string;
}

const sockets = new Set<Socket>();
const closers = new Set<() => Promise<void>>();

function track(server: NetServer): void {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
}

/** A srvx server (node:http underneath) running `fetch`. */
export async function serveFetch(fetch: FetchHandler): Promise<{ port: number; server: Server }> {
  const server = serve({
    fetch,
    port: 0,
    hostname: '127.0.0.1',
    silent: true,
    gracefulShutdown: false,
  });
  await server.ready();
  const node = server.node?.server;
  if (node === undefined) throw new Error('srvx made no node server');
  track(node);
  const address = node.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  closers.add(async () => {
    await server.close(true);
    await server.close(true);
  });
  return { port: address.port, server };
}

/** Our HTTP server (`makeServer`) running `app`, its log and `wsgi.errors` kept in `errors`. */
export async function serveWsgi(
  app: Application,
  options: Omit<ServerOptions, 'handlerClass' | 'quiet'> = {},
): Promise<{ port: number; server: WSGIServer; errors: MemoryErrors }> {
  const errors = memoryErrors();
  class Handler extends WSGIRequestHandler {
    override getStderr(): ErrorStream {
      return errors;
    }
  }
  const server = await makeServer('127.0.0.1', 0, app, {
    ...options,
    handlerClass: Handler,
    quiet: true,
  });
  track(server.httpServer);
  closers.add(async () => {
    await server.close();
    await server.close();
  });
  return { port: server.port, server, errors };
}

/** Destroys every socket, then closes every server twice (it must be safe). */
export async function teardown(): Promise<void> {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  const closing = [...closers].map((close) => close());
  closers.clear();
  await Promise.all(closing);
}

/** A request to one of our test servers with the global `fetch`, failing after `ms`. */
export function request(
  port: number,
  path: string,
  init: RequestInit & { ms?: number } = {},
): Promise<Response> {
  const { ms = 5000, ...rest } = init;
  return fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(ms),
    redirect: 'manual',
    ...rest,
  });
}

/**
 * A `BaseHandler` that writes the raw response to memory, with a testing environ (plus
 * `environ`) and `input` as the request body.
 */
export class MemoryHandler extends BaseHandler {
  readonly writes: Buffer[] = [];
  readonly errors = memoryErrors();
  override osEnviron: Record<string, string> = {};
  readonly #environ: Record<string, unknown>;
  readonly #input: InputStream;

  constructor(environ: Record<string, unknown> = {}, input: Uint8Array | string = '') {
    super();
    this.#environ = environ;
    this.#input = toInputStream(input);
  }

  /** Everything written, as latin-1 text. */
  get output(): string {
    return Buffer.concat(this.writes).toString('latin1');
  }

  _write(data: Uint8Array): void {
    this.writes.push(Buffer.from(data));
  }
  _flush(): void {
    // memory needs no flushing
  }
  getStdin(): InputStream {
    return this.#input;
  }
  getStderr(): ErrorStream {
    return this.errors;
  }
  addCgiVars(environ: Environ): void {
    Object.assign(environ, this.#environ);
    setupTestingDefaults(environ);
  }
}

/** Waits until `check()` holds, polling every 5 ms, at most `ms`. */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
