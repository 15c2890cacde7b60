/**
 * Test helpers: servers on 127.0.0.1 port 0 and raw `net` clients, all tracked and torn down.
 */
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';

import type { Application, ErrorStream } from '@wsgi/util';

import { makeServer, WSGIRequestHandler } from '../src/index.ts';
import type { ServerOptions, WSGIServer } from '../src/index.ts';

const servers = new Set<WSGIServer>();
const sockets = new Set<Socket>();

/** An `ErrorStream` that keeps what is written. */
export class MemoryErrors implements ErrorStream {
  text = '';
  write(s: string): void {
    this.text += s;
  }
  writelines(lines: Iterable<string>): void {
    for (const line of lines) this.text += line;
  }
  flush(): void {
    // nothing buffered
  }
}

/** A server whose log and `wsgi.errors` go to `errors`. */
export async function serve(
  app: Application,
  options: Omit<ServerOptions, 'handlerClass'> = {},
): Promise<{ server: WSGIServer; port: number; errors: MemoryErrors }> {
  const errors = new MemoryErrors();
  class Handler extends WSGIRequestHandler {
    override getStderr(): ErrorStream {
      return errors;
    }
  }
  const server = await makeServer('127.0.0.1', 0, app, { handlerClass: Handler, ...options });
  servers.add(server);
  server.httpServer.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return { server, port: server.port, errors };
}

/** Destroys every client and server socket, then closes every server twice (it must be safe). */
export async function teardown(): Promise<void> {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  const closing = [...servers].map(async (server) => {
    await server.close();
    await server.close();
  });
  servers.clear();
  await Promise.all(closing);
}

/** A raw TCP connection to the server, tracked for teardown. */
export function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('error', reject);
  });
}

/** Reads from `socket` until `done(bytes)` holds or the peer closes; bounded by `ms`. */
export function readUntil(
  socket: Socket,
  done: (bytes: Buffer) => boolean,
  ms = 5000,
): Promise<{ bytes: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    let bytes = Buffer.alloc(0);
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      resolve({ bytes, closed });
    };
    const onData = (chunk: Buffer): void => {
      bytes = Buffer.concat([bytes, chunk]);
      if (done(bytes)) finish(false);
    };
    const onEnd = (): void => {
      finish(true);
    };
    const timer = setTimeout(() => {
      socket.off('data', onData);
      reject(new Error(`timed out; got ${JSON.stringify(bytes.toString('latin1'))}`));
    }, ms);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}

/** One parsed HTTP/1.x response. */
export interface ParsedResponse {
  status: number;
  reason: string;
  version: string;
  /** Header names lower-cased; repeats joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
}

function parseHead(text: string): Omit<ParsedResponse, 'body'> {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const match = /^HTTP\/(\d\.\d) (\d{3}) ?(.*)$/.exec(statusLine);
  if (match === null) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { version: match[1] ?? '', status: Number(match[2]), reason: match[3] ?? '', headers };
}

/**
 * Splits `bytes` into complete responses (RFC 9112 §6.3: no body for HEAD/1xx/204/304,
 * chunked, Content-Length, or up to the close). `heads` lists which requests were HEAD.
 * Returns the responses and whether the bytes ended inside one.
 */
export function parseResponses(
  bytes: Buffer,
  { closed = false, heads = [] as boolean[] } = {},
): { responses: ParsedResponse[]; partial: boolean } {
  const responses: ParsedResponse[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', at, 'latin1');
    if (end === -1) return { responses, partial: true };
    const head = parseHead(bytes.subarray(at, end).toString('latin1'));
    let pos = end + 4;
    const noBody =
      heads[responses.length] === true ||
      (head.status >= 100 && head.status < 200) ||
      head.status === 204 ||
      head.status === 304;
    let body: Buffer = Buffer.alloc(0);
    if (noBody) {
      // nothing
    } else if (head.headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = bytes.indexOf('\r\n', pos, 'latin1');
        if (lineEnd === -1) return { responses, partial: true };
        const size = Number.parseInt(bytes.subarray(pos, lineEnd).toString('latin1'), 16);
        pos = lineEnd + 2;
        if (size === 0) {
          const trailerEnd = bytes.indexOf('\r\n', pos, 'latin1');
          if (trailerEnd === -1) return { responses, partial: true };
          pos = trailerEnd + 2;
          break;
        }
        if (pos + size + 2 > bytes.length) return { responses, partial: true };
        parts.push(bytes.subarray(pos, pos + size));
        pos += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (head.headers['content-length'] !== undefined) {
      const length = Number(head.headers['content-length']);
      if (pos + length > bytes.length) return { responses, partial: true };
      body = bytes.subarray(pos, pos + length);
      pos += length;
    } else {
      if (!closed) return { responses, partial: true };
      body = bytes.subarray(pos);
      pos = bytes.length;
    }
    if (head.status >= 100 && head.status < 200) {
      at = pos;
      continue;
    }
    responses.push({ ...head, body });
    at = pos;
  }
  return { responses, partial: false };
}

/** Sends raw `request` bytes on a new connection, reads `count` complete responses. */
export async function exchange(
  port: number,
  request: string | Buffer,
  count = 1,
  heads: boolean[] = [],
): Promise<{ responses: ParsedResponse[]; closed: boolean; socket: Socket; bytes: Buffer }> {
  const socket = await connect(port);
  socket.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request);
  let closed = false;
  const { bytes, closed: ended } = await readUntil(socket, (b) => {
    const parsed = parseResponses(b, { heads });
    return !parsed.partial && parsed.responses.length >= count;
  });
  closed = ended;
  const { responses } = parseResponses(bytes, { closed, heads });
  return { responses, closed, socket, bytes };
}

/** Waits until `check()` holds, polling; bounded by `ms`. */
export async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('waitFor: timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The bytes of a latin-1 string. */
export function bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** Whether the peer closes `socket` within `ms` (reading and dropping whatever comes). */
export async function closesWithin(socket: Socket, ms = 2000): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return true;
  try {
    return (await readUntil(socket, () => false, ms)).closed;
  } catch {
    return false;
  }
}

/** How many connections the server holds. */
export function connectionCount(server: WSGIServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.httpServer.getConnections((error, count) => {
      if (error) reject(error);
      else resolve(count);
    });
  });
}
