/**
 * The parser settings cannot be weakened from outside: a server started under
 * `NODE_OPTIONS=--insecure-http-parser --max-http-header-size=...` still refuses what a plain
 * `node:http` server in the same process now accepts (the control that proves the options
 * took effect).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { teardown } from './_http.ts';
import { send, statusLines } from './_raw.ts';

const DIST = new URL('../dist/index.js', import.meta.url).href;

const children = new Set<ChildProcess>();

afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  await teardown();
});

/** Starts our server and a plain node:http one in a child with `nodeOptions`; their ports. */
function startChild(nodeOptions: string): Promise<{ ours: number; plain: number }> {
  const script = `
    import { createServer } from 'node:http';
    const { makeServer } = await import(${JSON.stringify(DIST)});
    const ours = await makeServer('127.0.0.1', 0, (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [Buffer.from('ours')];
    }, { quiet: true });
    const plain = createServer((_q, r) => r.end('plain'));
    plain.listen(0, '127.0.0.1', () => {
      process.stdout.write(JSON.stringify({ ours: ours.port, plain: plain.address().port }) + '\\n');
    });
    // Bounded: the child ends by itself if the test never kills it.
    setTimeout(() => process.exit(0), 15000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out) as { ours: number; plain: number });
    });
    child.once('exit', (code) => {
      reject(new Error(`child exited ${String(code)}: ${err}`));
    });
  });
}

async function status(port: number, request: string): Promise<string> {
  const result = await send(port, request, 'whole', 3000);
  return statusLines(result.bytes)[0] ?? `none (${result.bytes.toString('latin1')})`;
}

// RFC 9112 §5.2 obs-fold, §6.1 Content-Length with Transfer-Encoding, RFC 6585 §5 431.
const OBS_FOLD = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-A: a\r\n b\r\n\r\n';
const CL_TE =
  'POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
const BIG_HEAD = `GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;

describe('parser settings under NODE_OPTIONS', () => {
  it(
    'keeps the strict parser and the 16 KiB head limit with --insecure-http-parser --max-http-header-size=65536',
    { timeout: 20_000 },
    async () => {
      const { ours, plain } = await startChild(
        '--insecure-http-parser --max-http-header-size=65536',
      );
      // The control: NODE_OPTIONS did loosen a server that does not pass its own settings.
      expect(await status(plain, OBS_FOLD)).toBe('HTTP/1.1 200 OK');
      expect(await status(plain, CL_TE)).toBe('HTTP/1.1 200 OK');
      expect(await status(plain, BIG_HEAD)).toBe('HTTP/1.1 200 OK');
      expect(await status(ours, OBS_FOLD)).toBe('HTTP/1.1 400 Bad Request');
      expect(await status(ours, CL_TE)).toBe('HTTP/1.1 400 Bad Request');
      expect(await status(ours, BIG_HEAD)).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    },
  );

  it('keeps its head limit when NODE_OPTIONS lowers node’s', { timeout: 20_000 }, async () => {
    const { ours, plain } = await startChild('--max-http-header-size=1024');
    const head = `GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: ${'a'.repeat(4000)}\r\n\r\n`;
    expect(await status(plain, head)).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(await status(ours, head)).toBe('HTTP/1.1 200 OK');
  });
});
