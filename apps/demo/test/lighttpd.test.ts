// demo.cgi behind a real web server: lighttpd, configured with the lines README.md gives.
// Skipped only when lighttpd is not installed and CI is not set; CI installs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ERROR_ROUTE_MESSAGE } from '../src/app.ts';
import { fetchTimed, multipart, rawGet } from './_http.ts';

const DEMO = fileURLToPath(new URL('..', import.meta.url));
const LIGHTTPD = ['/usr/sbin/lighttpd', '/usr/bin/lighttpd', '/usr/local/sbin/lighttpd'].find((p) =>
  existsSync(p),
);
const skip = LIGHTTPD === undefined && !process.env['CI'];
if (skip)
  console.warn('lighttpd.test.ts: SKIPPED — lighttpd is not installed (apt-get install lighttpd).');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`lighttpd exited: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        resolve(false);
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`lighttpd did not listen: ${log()}`);
}

describe.skipIf(skip)('demo.cgi under lighttpd', { timeout: 20_000 }, () => {
  let dir: string;
  let port: number;
  let child: ChildProcess;
  let output = '';

  beforeAll(async () => {
    expect(existsSync(join(DEMO, 'dist', 'cgi.js')), 'run `pnpm build` first').toBe(true);
    const readme = await readFile(join(DEMO, 'README.md'), 'utf8');
    const block = /```lighttpd\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'README.md has a ```lighttpd block').toBeDefined();
    dir = await mkdtemp(join(tmpdir(), 'wsgi-demo-lighttpd-'));
    await mkdir(join(dir, 'htdocs'));
    port = await freePort();
    const conf = [
      `server.document-root = "${join(dir, 'htdocs')}"`,
      `server.bind = "127.0.0.1"`,
      `server.port = ${port}`,
      `server.errorlog = "${join(dir, 'error.log')}"`,
      (block ?? '')
        .replaceAll('/srv/wsgi/apps/demo/', DEMO.endsWith('/') ? DEMO : `${DEMO}/`)
        .replaceAll('/usr/bin/node', process.execPath),
    ].join('\n');
    await writeFile(join(dir, 'lighttpd.conf'), conf);
    child = spawn(LIGHTTPD ?? 'lighttpd', ['-D', '-f', join(dir, 'lighttpd.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitForPort(port, child, () => output);
  }, 30_000);

  afterAll(async () => {
    if (child.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the home page with links under the script name', async () => {
    const res = await rawGet(port, '/cgi-bin/demo.cgi/');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toContain('href="/cgi-bin/demo.cgi/upload"');
  });

  it('serves /hello and a sample file', async () => {
    expect((await rawGet(port, '/cgi-bin/demo.cgi/hello?name=lighttpd')).body.toString()).toBe(
      'Hello, lighttpd!\n',
    );
    const file = await rawGet(port, '/cgi-bin/demo.cgi/files/caf%C3%A9.txt');
    expect(file.status).toBe(200);
    expect(file.body.equals(await readFile(join(DEMO, 'files', 'café.txt')))).toBe(true);
  });

  it('hashes an upload', async () => {
    const data = randomBytes(200_000);
    const res = await fetchTimed(port, '/cgi-bin/demo.cgi/upload', {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=lt' },
      body: multipart('lt', [{ name: 'file', filename: 'x.bin', data }]),
    });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toContain(createHash('sha256').update(data).digest('hex'));
  });

  it('refuses to leave the sample folder', async () => {
    for (const target of [
      '/cgi-bin/demo.cgi/files/..%2fpackage.json',
      '/cgi-bin/demo.cgi/files/%2e%2e%2f..%2fpackage.json',
    ]) {
      const res = await rawGet(port, target);
      expect([400, 404], target).toContain(res.status);
      expect(res.body.toString()).not.toContain('"@wsgi/demo"');
    }
  });

  it('answers /error with the 500 page only', async () => {
    const res = await rawGet(port, '/cgi-bin/demo.cgi/error');
    expect(res.status).toBe(500);
    expect(res.body.toString()).toBe('A server error occurred.  Please contact the administrator.');
    // A CGI script inherits lighttpd's own stderr (not server.errorlog): the stack lands there.
    await expect.poll(() => output).toContain(ERROR_ROUTE_MESSAGE);
    expect(res.body.toString()).not.toContain(ERROR_ROUTE_MESSAGE);
  });
});
