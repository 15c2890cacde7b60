/**
 * Load and soak: 20,000 keep-alive requests and 2,000 connections at a modest concurrency,
 * then open file descriptors and heap back near their baseline, no connection left, and
 * `close()` called once per application call.
 */
import { readdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { afterEach, describe, expect, it } from 'vitest';

import type { Application } from '@wsgi/util';

import { connect, connectionCount, sleep, teardown, waitFor } from './_http.ts';
import { countingServer } from './_raw.ts';

afterEach(teardown);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const KEEP_ALIVE_SOCKETS = 50;
const REQUESTS_PER_SOCKET = 400;
const CONNECTIONS = 2000;
const AT_ONCE = 100;

/** Polls the server's connection count until it is 0; bounded by `ms`. */
async function noConnections(
  server: Parameters<typeof connectionCount>[0],
  ms = 5000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await connectionCount(server)) > 0) {
    if (Date.now() > deadline) throw new Error('connections still open');
    await sleep(10);
  }
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i += 1) {
    gc();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}

/** Every 10th request is a POST whose body the application reads. */
const app: Application = async (environ, startResponse) => {
  const body = environ.REQUEST_METHOD === 'POST' ? await environ['wsgi.input'].read() : undefined;
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [body ?? Buffer.from('ok')];
};

const GET = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1');
const POST = Buffer.from('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok', 'latin1');
const END = Buffer.from('\r\n\r\nok', 'latin1');

/** Sends `count` requests one after another on one connection; resolves when all answered. */
function keepAlive(socket: Socket, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let answered = 0;
    let pending: Buffer = Buffer.alloc(0);
    const next = (): void => {
      socket.write(answered % 10 === 9 ? POST : GET);
    };
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      // One response at a time, each ending with the two-byte body.
      if (pending.length >= END.length && pending.subarray(-END.length).equals(END)) {
        if (!pending.subarray(0, 15).equals(Buffer.from('HTTP/1.1 200 OK'))) {
          reject(new Error(`unexpected ${pending.toString('latin1')}`));
          return;
        }
        pending = Buffer.alloc(0);
        answered += 1;
        if (answered === count) resolve(answered);
        else next();
      }
    });
    socket.once('close', () => {
      if (answered < count) reject(new Error(`closed after ${String(answered)} answers`));
    });
    next();
  });
}

/** One request with `Connection: close` on a new connection; resolves on the close. */
async function oneShot(port: number): Promise<boolean> {
  const socket = await connect(port);
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      resolve(text.startsWith('HTTP/1.1 200 OK') && text.endsWith('\r\n\r\nok'));
    });
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
}

describe('load and soak', () => {
  it(
    'serves 20,000 keep-alive requests and 2,000 connections, then holds no more fds or memory than before',
    { timeout: 60_000 },
    async () => {
      const { port, calls, server, errors } = await countingServer({ quiet: true }, app);
      // Warm up (JIT, caches), then take the baseline.
      const warm = await connect(port);
      await keepAlive(warm, 500);
      warm.destroy();
      await noConnections(server);
      const fdBaseline = openFds();
      const heapBaseline = await settledHeap();
      const started = performance.now();

      const sockets = await Promise.all(
        Array.from({ length: KEEP_ALIVE_SOCKETS }, () => connect(port)),
      );
      const answered = await Promise.all(sockets.map((s) => keepAlive(s, REQUESTS_PER_SOCKET)));
      expect(answered.reduce((a, b) => a + b, 0)).toBe(KEEP_ALIVE_SOCKETS * REQUESTS_PER_SOCKET);
      for (const socket of sockets) socket.destroy();
      const keepAliveMs = performance.now() - started;

      let ok = 0;
      for (let i = 0; i < CONNECTIONS; i += AT_ONCE) {
        const batch = await Promise.all(Array.from({ length: AT_ONCE }, () => oneShot(port)));
        ok += batch.filter(Boolean).length;
      }
      expect(ok).toBe(CONNECTIONS);

      await noConnections(server);
      await waitFor(() => openFds() <= fdBaseline + 2, 5000);
      const heap = await settledHeap();
      const total = 500 + KEEP_ALIVE_SOCKETS * REQUESTS_PER_SOCKET + CONNECTIONS;
      expect(calls.app).toBe(total);
      expect(calls.close).toBe(total);
      // Back near the baseline: nothing kept per request or per connection.
      expect(heap - heapBaseline).toBeLessThan(8 * 1024 * 1024);
      expect(errors.text).toBe('');
      console.log(
        `load: ${String(KEEP_ALIVE_SOCKETS * REQUESTS_PER_SOCKET)} keep-alive requests in ${keepAliveMs.toFixed(0)} ms, ` +
          `${String(CONNECTIONS)} connections in ${(performance.now() - started - keepAliveMs).toFixed(0)} ms; ` +
          `fds ${String(fdBaseline)} -> ${String(openFds())}, heap ${(heapBaseline / 1e6).toFixed(1)} -> ${(heap / 1e6).toFixed(1)} MB`,
      );
    },
  );
});
