// The server entry as users run it: `node dist/main.js`, in a real child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { DEFAULT_UPLOAD_LIMIT, configFromEnv } from '../src/_config.ts';
import { fetchTimed, rawGet, repeatedFileUpload, tableRows } from './_http.ts';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const child of children)
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  children.clear();
});

interface Running {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function start(env: Record<string, string>): Promise<Running> {
  expect(existsSync(MAIN), 'dist/main.js is missing: run `pnpm build` first').toBe(true);
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      resolve(code);
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no address printed; stderr: ${err}`));
    }, 10_000);
    const check = (): void => {
      const match = /serving on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', check);
    void exited.then(() => {
      reject(new Error(`exited early; stderr: ${err}`));
    });
  });
  return { child, port, stdout: () => out, stderr: () => err, exited };
}

describe('configFromEnv', () => {
  it('defaults to 127.0.0.1:8000 and a 10 MiB upload limit', () => {
    expect(configFromEnv({})).toEqual({
      host: '127.0.0.1',
      port: 8000,
      uploadLimit: DEFAULT_UPLOAD_LIMIT,
    });
    expect(configFromEnv({ HOST: '', PORT: '', UPLOAD_LIMIT: '' })).toEqual(configFromEnv({}));
  });

  it('takes HOST, PORT (0 too) and UPLOAD_LIMIT', () => {
    expect(configFromEnv({ HOST: '::1', PORT: '0', UPLOAD_LIMIT: '123' })).toEqual({
      host: '::1',
      port: 0,
      uploadLimit: 123,
    });
  });

  it.each([
    { PORT: 'http' },
    { PORT: '65536' },
    { PORT: '-1' },
    { PORT: '80.5' },
    { UPLOAD_LIMIT: '1e6' },
  ])('refuses %j', (env) => {
    expect(() => configFromEnv(env)).toThrow(RangeError);
  });
});

describe('node dist/main.js', { timeout: 20_000 }, () => {
  it('prints its address, serves, logs /error with its stack and stops on SIGTERM', async () => {
    const run = await start({ PORT: '0' });
    expect((await rawGet(run.port, '/hello')).body.toString()).toBe('Hello, world!\n');
    const error = await rawGet(run.port, '/error');
    expect(error.status).toBe(500);
    expect(error.body.toString()).not.toContain('on purpose');
    await expect
      .poll(run.stderr)
      .toMatch(/Error: The \/error route failed on purpose[^\n]*\n\s+at /);
    expect(run.stderr()).toMatch(/"GET \/hello HTTP\/1\.1" 200 14/); // the request log
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain('Stopped.');
  });

  it('lets a request in flight finish on SIGINT', async () => {
    const run = await start({ PORT: '0' });
    const streaming = fetchTimed(run.port, '/stream');
    await new Promise((r) => setTimeout(r, 300));
    run.child.kill('SIGINT');
    const res = await streaming;
    expect(res.body.toString().trimEnd().split('\n')).toHaveLength(20);
    expect(await run.exited).toBe(0);
  });

  it('applies UPLOAD_LIMIT', async () => {
    const run = await start({ PORT: '0', UPLOAD_LIMIT: '100' });
    const res = await fetchTimed(run.port, '/upload', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: Buffer.alloc(200, 0x61),
    });
    expect(res.status).toBe(413);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('streams a 256 MiB upload with bounded memory', async () => {
    const run = await start({ PORT: '0', UPLOAD_LIMIT: String(2 ** 30) });
    const status = `/proc/${String(run.child.pid)}/status`;
    const peakMiB = async (): Promise<number> =>
      Number(/VmHWM:\s+(\d+)/.exec(await readFile(status, 'utf8'))?.[1]) / 1024;
    const before = await peakMiB();
    const upload = repeatedFileUpload('big', Buffer.alloc(1024 * 1024, 0x41), 256);
    const res = await fetchTimed(run.port, '/upload', {
      method: 'POST',
      headers: upload.headers,
      body: upload.body,
    });
    expect(res.status).toBe(200);
    expect(tableRows(res.body.toString(), 'files')[0]?.slice(3)).toEqual([
      String(upload.size),
      upload.sha256,
    ]);
    // Holding the upload would take 256 MiB at least; streaming stays far below.
    expect((await peakMiB()) - before).toBeLessThan(128);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('exits with 1 and a message on a bad PORT', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, PORT: 'eighty' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('PORT must be a whole number');
  });
});
