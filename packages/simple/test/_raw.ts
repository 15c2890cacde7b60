/**
 * Raw-byte helpers for the reliability tests: a request sent three ways (one write, byte by
 * byte, split at every CR and LF), everything the server sends back until it closes, and the
 * checks every refused request must pass.
 */
import { setImmediate as tick } from 'node:timers/promises';

import { expect } from 'vitest';

import type { Application } from '@wsgi/util';

import type { ServerOptions } from '../src/index.ts';
import { connect, serve } from './_http.ts';

/** How a request's bytes are cut into writes. */
export type SendMode = 'whole' | 'bytewise' | 'crlf';

/** Every mode; each malformed request is sent once per mode. */
export const MODES: readonly SendMode[] = ['whole', 'bytewise', 'crlf'];

/** Cuts `data` into the writes of `mode`: one, one per byte, or cut after every CR and LF. */
export function pieces(data: Buffer, mode: SendMode): Buffer[] {
  if (mode === 'whole') return [data];
  const out: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < data.length; i += 1) {
    const byte = data[i];
    if (mode === 'bytewise' || byte === 0x0d || byte === 0x0a) {
      // In crlf mode the CR or LF goes alone, so a parser sees it at a read boundary.
      if (mode === 'crlf' && i > from) out.push(data.subarray(from, i));
      out.push(data.subarray(i, i + 1));
      from = i + 1;
    }
  }
  if (from < data.length) out.push(data.subarray(from));
  return out;
}

/** What came back on one connection. */
export interface Exchange {
  /** Every byte the server sent. */
  bytes: Buffer;
  /** The server closed the connection (FIN or RST) within the time allowed. */
  closed: boolean;
}

/**
 * Connects, writes `data` cut as `mode` says (yielding to the event loop between writes, so
 * each goes out on its own), stops writing once the server answers or closes, and reads until
 * the server closes; bounded by `ms`. The client never half-closes: closing is the server's job.
 */
export async function send(
  port: number,
  data: Buffer | string,
  mode: SendMode = 'whole',
  ms = 3000,
): Promise<Exchange> {
  const socket = await connect(port);
  socket.setNoDelay(true);
  const chunks: Buffer[] = [];
  const state = { closed: false };
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A reset after the answer is a close too (the server may drop unread bytes).
    socket.on('error', () => undefined);
    socket.once('close', () => {
      state.closed = true;
      clearTimeout(timer);
      resolve();
    });
  });
  const buffer = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  for (const piece of pieces(buffer, mode)) {
    if (state.closed || chunks.length > 0 || socket.destroyed) break;
    socket.write(piece);
    if (mode !== 'whole') await tick();
  }
  await done;
  socket.destroy();
  return { bytes: Buffer.concat(chunks), closed: state.closed };
}

/** The status lines in `bytes` (one per response, whatever the framing). */
export function statusLines(bytes: Buffer): string[] {
  return bytes.toString('latin1').match(/HTTP\/\d\.\d \d{3}[^\r\n]*/g) ?? [];
}

/** Marks of a stack trace or an internal error message. */
const LEAKS = /\bat [\w.<>]+ \(|node:internal|\.[cm]?[jt]s:\d+|Error:|errno|HPE_/;

/**
 * Asserts the server refused the request: exactly one response, with a 4xx/5xx status (one of
 * `statuses` when given), the connection closed, no trace of a stack or a parser code.
 */
export function expectRefused(
  result: Exchange,
  label: string,
  statuses?: readonly number[],
): number {
  const text = result.bytes.toString('latin1');
  const lines = statusLines(result.bytes);
  expect(lines, `${label}: one response, got ${JSON.stringify(text)}`).toHaveLength(1);
  expect(text.startsWith('HTTP/1.1 '), `${label}: ${JSON.stringify(text)}`).toBe(true);
  const status = Number(text.slice(9, 12));
  if (statuses === undefined) {
    expect(status >= 400 && status < 600, `${label}: status ${String(status)}`).toBe(true);
  } else {
    expect(statuses, `${label}: status ${String(status)}`).toContain(status);
  }
  expect(result.closed, `${label}: connection closed`).toBe(true);
  expect(LEAKS.test(text), `${label}: no stack or internals in ${JSON.stringify(text)}`).toBe(
    false,
  );
  return status;
}

/** A server whose application counts its calls and the `close()` of each body it returned. */
export async function countingServer(
  options: Omit<ServerOptions, 'handlerClass'> = {},
  app?: Application,
): Promise<{
  port: number;
  calls: { app: number; close: number; paths: string[] };
  errors: { text: string };
  server: Awaited<ReturnType<typeof serve>>['server'];
}> {
  const calls = { app: 0, close: 0, paths: [] as string[] };
  const counted: Application = async (environ, startResponse) => {
    calls.app += 1;
    calls.paths.push(environ.PATH_INFO);
    const inner: Application =
      app ??
      ((_env, start) => {
        start('200 OK', [['Content-Type', 'text/plain']]);
        return [Buffer.from('ok')];
      });
    const body = await inner(environ, startResponse);
    // The body is the test's own object: its close() is wrapped to be counted.
    const original = body.close?.bind(body);
    body.close = () => {
      calls.close += 1;
      return original?.();
    };
    return body;
  };
  const { server, port, errors } = await serve(counted, { quiet: false, ...options });
  return { port, calls, errors, server };
}

/** One good request on a new connection: the server still serves. */
export async function expectServing(port: number): Promise<void> {
  const result = await send(port, 'GET /alive HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  expect(statusLines(result.bytes)).toEqual(['HTTP/1.1 200 OK']);
}
