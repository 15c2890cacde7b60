// Test helpers: a real server on 127.0.0.1 port 0, raw-socket requests and an http client that
// records when each chunk arrived. Every socket is tracked and destroyed on teardown.
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';

import type { Application } from '@wsgi/core';
import { makeServer, type WSGIServer } from '@wsgi/simple';

export interface Served {
  readonly server: WSGIServer;
  readonly port: number;
  close(): Promise<void>;
}

const sockets = new Set<Socket>();

/** Serves `app` on a free port; `close()` is safe to call twice. */
export async function serve(
  app: Application,
  options: Record<string, unknown> = {},
): Promise<Served> {
  const server = await makeServer('127.0.0.1', 0, app, { quiet: true, ...options });
  let closed: Promise<void> | undefined;
  return {
    server,
    port: server.port,
    close() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      closed ??= server.close();
      return closed;
    },
  };
}

export interface RawResponse {
  readonly status: number;
  readonly statusLine: string;
  readonly headers: Map<string, string>;
  readonly body: Buffer;
}

/** Parses one HTTP/1.x response (chunked bodies are decoded). */
export function parseResponse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0)
    throw new Error(`no header block in ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name) ?? ''}, ${value}` : value);
  }
  let body = raw.subarray(end + 4);
  if (headers.get('transfer-encoding') === 'chunked') body = unchunk(body);
  return { status: Number(statusLine.split(' ')[1]), statusLine, headers, body };
}

function unchunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (let guard = 0; guard < 100_000; guard++) {
    const eol = data.indexOf('\r\n', pos);
    if (eol < 0) throw new Error('truncated chunked body');
    const size = parseInt(data.subarray(pos, eol).toString('latin1'), 16);
    if (size === 0) return Buffer.concat(out);
    out.push(data.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
  throw new Error('too many chunks');
}

/**
 * Writes `bytes` as they are to a new connection and reads until the server closes it (so the
 * last request must say `Connection: close`).
 */
export function rawRequest(
  port: number,
  bytes: string | Buffer,
  timeoutMs = 5000,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    sockets.add(socket);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      sockets.delete(socket);
      resolve(Buffer.concat(chunks));
    });
    // No half-close: node:http drops the response to a client that ends its side first.
    socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  });
}

/** `GET <target>` (the target sent byte for byte, never normalised) on its own connection. */
export async function rawGet(port: number, target: string, method = 'GET'): Promise<RawResponse> {
  return parseResponse(
    await rawRequest(
      port,
      `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    ),
  );
}

export interface TimedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Each chunk of the body with the milliseconds since the request was sent. */
  readonly chunks: Array<{ at: number; data: Buffer }>;
}

/** A request through `node:http` (no keep-alive agent), with an optional streamed body. */
export function fetchTimed(
  port: number,
  path: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer | Iterable<Buffer> | AsyncIterable<Buffer>;
  } = {},
  timeoutMs = 15_000,
): Promise<TimedResponse> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      agent: false,
      timeout: timeoutMs,
    });
    req.on('socket', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    req.on('timeout', () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Array<{ at: number; data: Buffer }> = [];
      res.on('data', (data: Buffer) => chunks.push({ at: performance.now() - started, data }));
      res.on('error', reject);
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks.map((c) => c.data)),
          chunks,
        });
      });
    });
    const body = options.body;
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      void (async () => {
        try {
          for await (const chunk of body) {
            if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
          }
          req.end();
        } catch (error) {
          req.destroy(error as Error);
        }
      })();
    }
  });
}

/** A multipart/form-data body, built by hand so the test controls every byte. */
export function multipart(
  boundary: string,
  parts: Array<{ name: string; filename?: string; type?: string; data: Buffer | string }>,
): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    const disposition =
      part.filename === undefined
        ? `form-data; name="${part.name}"`
        : `form-data; name="${part.name}"; filename="${part.filename}"`;
    const type = part.type === undefined ? '' : `Content-Type: ${part.type}\r\n`;
    pieces.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`, 'utf8'),
    );
    pieces.push(Buffer.from(part.data));
    pieces.push(Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

/** The cells (inner HTML, `<pre>` unwrapped) of each data row of the table with this id. */
export function tableRows(page: string, id: string): string[][] {
  const table = new RegExp(`<table id="${id}">([\\s\\S]*?)</table>`).exec(page)?.[1] ?? '';
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)]
    .map((row) => [...(row[1] ?? '').matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1] ?? ''))
    .filter((cells) => cells.length > 0)
    .map((cells) => cells.map((c) => c.replace(/^<pre>([\s\S]*)<\/pre>$/, '$1')));
}

/**
 * A chunked `multipart/form-data` upload of one file made of `count` copies of `piece`, sent as
 * it is generated (boundary `m`, field `f`), with the size and SHA-256 the page should show.
 */
export function repeatedFileUpload(
  filename: string,
  piece: Buffer,
  count: number,
): { headers: Record<string, string>; body: Iterable<Buffer>; size: number; sha256: string } {
  const hash = createHash('sha256');
  for (let i = 0; i < count; i++) hash.update(piece);
  function* body(): Generator<Buffer> {
    yield Buffer.from(
      `--m\r\nContent-Disposition: form-data; name="f"; filename="${filename}"\r\n\r\n`,
    );
    for (let i = 0; i < count; i++) yield piece;
    yield Buffer.from('\r\n--m--\r\n');
  }
  return {
    headers: { 'Content-Type': 'multipart/form-data; boundary=m', 'Transfer-Encoding': 'chunked' },
    body: body(),
    size: piece.length * count,
    sha256: hash.digest('hex'),
  };
}
