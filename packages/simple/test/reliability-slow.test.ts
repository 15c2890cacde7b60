/**
 * Slow clients: slow headers, a slow body and a client that never reads its response are each
 * cut off by a timeout, while other clients are served without delay. Small timeouts keep the
 * tests to a few seconds.
 */
import type { Socket } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import type { Application } from '@wsgi/util';

import { connect, connectionCount, sleep, teardown, waitFor } from './_http.ts';
import { countingServer, statusLines } from './_raw.ts';

afterEach(teardown);

const TIMEOUTS = {
  headersTimeout: 400,
  requestTimeout: 1200,
  keepAliveTimeout: 400,
  connectionsCheckingInterval: 50,
} as const;

/** Everything the server sends on `socket` until it closes, and when it closed; bounded. */
function untilClosed(socket: Socket, ms = 5000): Promise<{ text: string; at: number }> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      resolve({ text, at: Number.POSITIVE_INFINITY });
    }, ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ text, at: performance.now() });
    });
  });
}

/** Drips `data` one byte every `every` ms until the socket closes or `data` runs out. */
async function drip(socket: Socket, data: string, every: number): Promise<void> {
  for (const char of data) {
    if (socket.destroyed || socket.writableEnded) return;
    socket.write(char);
    await sleep(every);
  }
}

/**
 * Meanwhile, other clients: `count` requests on fresh connections, one after another; returns
 * the slowest round trip in ms.
 */
async function othersServed(port: number, count: number): Promise<number> {
  let slowest = 0;
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    const socket = await connect(port);
    const done = untilClosed(socket);
    socket.write('GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const { text } = await done;
    expect(statusLines(Buffer.from(text, 'latin1'))).toEqual(['HTTP/1.1 200 OK']);
    slowest = Math.max(slowest, performance.now() - started);
    await sleep(20);
  }
  return slowest;
}

describe('slow clients', () => {
  it('answers 408 to a client that drips its request head, and serves others meanwhile', async () => {
    const { port, calls } = await countingServer(TIMEOUTS);
    const slow = await Promise.all([connect(port), connect(port), connect(port)]);
    const started = performance.now();
    const closings = slow.map((socket) => untilClosed(socket));
    for (const socket of slow)
      void drip(socket, `GET / HTTP/1.1\r\nHost: x\r\nX-A: ${'a'.repeat(200)}`, 25);
    const slowest = await othersServed(port, 10);
    for (const closing of closings) {
      const { text, at } = await closing;
      // headersTimeout plus at most two checking intervals and scheduling slack.
      expect(at - started).toBeLessThan(TIMEOUTS.headersTimeout + 600);
      expect(statusLines(Buffer.from(text, 'latin1'))).toEqual(['HTTP/1.1 408 Request Timeout']);
    }
    expect(slowest).toBeLessThan(200);
    expect(calls.paths.every((path) => path === '/other')).toBe(true);
  });

  it('cuts off a client that drips its body after requestTimeout; the application sees the failure', async () => {
    const seen: string[] = [];
    const reader: Application = async (environ, startResponse) => {
      try {
        await environ['wsgi.input'].read();
      } catch (error) {
        seen.push((error as Error).message);
        throw error;
      }
      startResponse('200 OK', []);
      return [];
    };
    const { port, calls, errors } = await countingServer(TIMEOUTS, reader);
    const socket = await connect(port);
    const started = performance.now();
    const closing = untilClosed(socket);
    socket.write('POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
    void drip(socket, 'b'.repeat(1000), 25);
    const slowest = await othersServed(port, 10);
    const { text, at } = await closing;
    expect(at - started).toBeLessThan(TIMEOUTS.requestTimeout + 800);
    expect(at - started).toBeGreaterThan(TIMEOUTS.requestTimeout - 100);
    // At most one answer (a 408 when nothing was sent yet), never a 200.
    expect(statusLines(Buffer.from(text, 'latin1')).filter((l) => !l.includes(' 408 '))).toEqual(
      [],
    );
    expect(seen).toHaveLength(1);
    expect(slowest).toBeLessThan(200);
    expect(calls.paths.filter((path) => path === '/slow')).toHaveLength(1);
    expect(errors.text).not.toMatch(/\n\s+at /);
  });

  it('closes an idle keep-alive connection after keepAliveTimeout', async () => {
    const { port } = await countingServer(TIMEOUTS);
    const socket = await connect(port);
    const closing = untilClosed(socket);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const answered = performance.now();
    const { text, at } = await closing;
    expect(statusLines(Buffer.from(text, 'latin1'))).toEqual(['HTTP/1.1 200 OK']);
    // node:http waits one more second than it announces, so the client may close first.
    expect(at - answered).toBeLessThan(TIMEOUTS.keepAliveTimeout + 1000 + 600);
  });

  it('cuts off a client that never reads a large response, closes the body once, serves others', async () => {
    let produced = 0;
    const big: Application = (environ, startResponse) => {
      if (environ.PATH_INFO !== '/big') {
        startResponse('200 OK', []);
        return [Buffer.from('ok')];
      }
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      const block = Buffer.alloc(1 << 20, 0x61);
      return (function* () {
        // Bounded: 512 MiB, far more than any socket buffer holds.
        for (let i = 0; i < 512; i += 1) {
          produced += 1;
          yield block;
        }
      })();
    };
    const { port, calls, server } = await countingServer({ ...TIMEOUTS, timeout: 1000 }, big);
    const socket = await connect(port);
    // A paused socket reads nothing: the server's writes fill the buffers, then stall.
    socket.pause();
    socket.on('error', () => undefined);
    // The second request of a keep-alive connection: the inactivity timeout applies again.
    socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    const started = performance.now();
    await waitFor(() => produced > 0);
    const slowest = await othersServed(port, 10);
    await waitFor(() => calls.close === calls.app, 4000);
    expect(performance.now() - started).toBeLessThan(4000);
    expect(await connectionCount(server)).toBe(0);
    expect(produced).toBeLessThan(512);
    expect(slowest).toBeLessThan(200);
    expect(calls.close).toBe(calls.app);
  });
});
