import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bytes, connect, exchange, readUntil, serve, sleep, teardown, waitFor } from './_http.ts';

const MiB = 1024 * 1024;
const SIZE = 200 * MiB;
let dir = '';
let bigFile = '';
let child: ChildProcess | undefined;
let port = 0;

function startChild(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--expose-gc', join(import.meta.dirname, 'fixtures', 'file-server.mjs'), file],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    child = proc;
    let out = '';
    const timer = setTimeout(() => {
      reject(new Error(`no LISTENING line: ${out}`));
    }, 10_000);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      out += chunk;
      const match = /LISTENING (\d+)/.exec(out);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`file server exited with ${String(code)}`));
    });
  });
}

/** Downloads `path`, counting bytes without keeping them; pauses once to exercise backpressure. */
function download(
  path: string,
  pauseAt = Infinity,
): Promise<{ count: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let count = 0;
      let paused = false;
      res.on('data', (chunk: Buffer) => {
        count += chunk.length;
        if (!paused && count >= pauseAt) {
          paused = true;
          res.pause();
          setTimeout(() => res.resume(), 400);
        }
      });
      res.on('end', () => {
        resolve({ count, headers: res.headers });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('download timed out')));
  });
}

/** Starts a new measurement in the child: its RSS now is the baseline. */
async function reset(): Promise<void> {
  const { count } = await download('/reset');
  expect(count).toBe(0);
}

function getJson(path: string): Promise<{ baseline: number; peak: number; served: number }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        resolve(JSON.parse(text) as { baseline: number; peak: number; served: number });
      });
    }).on('error', reject);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsgi-simple-sendfile-'));
  bigFile = join(dir, 'big.bin');
  await writeFile(bigFile, '');
  await truncate(bigFile, SIZE);
  port = await startChild(bigFile);
});

afterAll(async () => {
  await teardown();
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
});

describe('FileWrapper bodies (sendfile)', () => {
  it(
    'streams a 200 MiB file over an fd with flat memory, through a paused client',
    { timeout: 60_000 },
    async () => {
      await reset();
      const started = Date.now();
      const { count, headers } = await download('/fd', 50 * MiB);
      expect(count).toBe(SIZE);
      expect(headers['content-length']).toBe(String(SIZE));
      const { baseline, peak } = await getJson('/stats');
      const growth = peak - baseline;
      // Buffering the file would grow by ~200 MiB; streaming holds a few blocks and socket buffers.
      expect(growth).toBeLessThan(48 * MiB);
      expect(Date.now() - started).toBeLessThan(20_000);
    },
  );

  it(
    'streams over a FileHandle, chunked when no Content-Length is given',
    { timeout: 60_000 },
    async () => {
      await reset();
      const { count, headers } = await download('/handle?nolength');
      expect(count).toBe(SIZE);
      expect(headers['transfer-encoding']).toBe('chunked');
      const { baseline, peak } = await getJson('/stats');
      expect(peak - baseline).toBeLessThan(48 * MiB);
    },
  );
});

describe('FileWrapper bodies to slow clients', () => {
  it(
    'hold small buffers for clients that stop reading (they grow only for clients that keep up)',
    { timeout: 60_000 },
    async () => {
      await reset();
      const readers = await Promise.all(
        Array.from({ length: 16 }, async () => {
          const socket = await connect(port);
          socket.write('GET /fd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
          // Reads one chunk, then nothing more: the kernel's socket buffers fill and stay full.
          await new Promise<void>((resolve) => {
            socket.once('data', () => {
              socket.pause();
              resolve();
            });
          });
          return socket;
        }),
      );
      await sleep(1500);
      const { baseline, peak } = await getJson('/stats');
      for (const socket of readers) socket.destroy();
      // Two 1 MiB buffers each: about 32 MiB; two 4 MiB ones would hold about 128 MiB.
      expect(peak - baseline).toBeLessThan(72 * MiB);
    },
  );
});

describe('FileWrapper bodies in-process', () => {
  it.runIf(process.platform === 'linux')(
    'sends a file that reports size 0 (/proc) in full blocks, not a byte at a time',
    async () => {
      const { port: p } = await serve(async (environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        const wrap = environ['wsgi.file_wrapper'];
        if (wrap === undefined) throw new Error('no wsgi.file_wrapper');
        return wrap(await open('/proc/self/status'));
      });
      const socket = await connect(p);
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const { bytes: received, closed } = await readUntil(socket, () => false, 5000);
      expect(closed).toBe(true);
      const text = received.toString('latin1');
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      // Chunked (no Content-Length): one chunk of the whole file, then the last chunk.
      expect(body).toMatch(/^[0-9a-f]+\r\nName:/);
      expect(body.match(/\r\n[0-9a-f]+\r\n/g)).toHaveLength(1);
      expect(body.endsWith('\r\n0\r\n\r\n')).toBe(true);
    },
  );

  it('sends the file from its current position, no more than Content-Length, and closes it', async () => {
    const path = join(dir, 'small.txt');
    await writeFile(path, 'skip:0123456789');
    const handles: FileHandle[] = [];
    const { port: p, errors } = await serve(async (environ, startResponse) => {
      const handle = await open(path);
      handles.push(handle);
      await handle.read(Buffer.alloc(5), 0, 5, null);
      startResponse('200 OK', [['Content-Length', '4']]);
      const wrap = environ['wsgi.file_wrapper'];
      if (wrap === undefined) throw new Error('no wsgi.file_wrapper');
      return wrap(handle, 2);
    });
    const { responses } = await exchange(
      p,
      'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
      2,
    );
    expect(responses.map((r) => r.body.toString())).toEqual(['0123', '0123']);
    // FileWrapper.close() closed each handle (a closed FileHandle's fd is -1).
    await waitFor(() => handles.every((h) => h.fd === -1));
    expect(handles.map((h) => h.fd)).toEqual([-1, -1]);
    // Exactly the declared length: no mismatch logged.
    expect(errors.text).not.toMatch(/content-length/i);
  });

  it('iterates a FileWrapper over a custom file-like object', async () => {
    let reads = 0;
    const { port: p } = await serve((environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      const chunks = [bytes('ab'), bytes('cd')];
      const wrap = environ['wsgi.file_wrapper'];
      if (wrap === undefined) throw new Error('no wsgi.file_wrapper');
      return wrap({
        read: () => {
          reads += 1;
          return chunks.shift() ?? new Uint8Array(0);
        },
      });
    });
    const { responses } = await exchange(p, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(responses[0]?.body.toString()).toBe('abcd');
    expect(reads).toBe(3);
  });
});
