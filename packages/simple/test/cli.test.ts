import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { CLI, FIXTURES, fetchText, killChildren, listening, run, track } from './_cli.ts';

afterEach(killChildren);

describe('wsgi-serve', () => {
  it(
    "serves a module's `app`, logs requests, and exits 0 on SIGTERM",
    { timeout: 30_000 },
    async () => {
      const proc = run(['--port', '0', 'app.mjs']);
      const port = await listening(proc);
      const { status, body } = await fetchText(port, '/x?y');
      expect(status).toBe(200);
      expect(body).toBe(`app pid=${String(proc.child.pid)} multiprocess=false`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(proc.stderr()).toMatch(/"GET \/x\?y HTTP\/1\.1" 200 \d+/);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    },
  );

  it(
    'serves a named export, the default export, and demoApp without a module; --quiet logs nothing',
    { timeout: 30_000 },
    async () => {
      for (const [args, expected] of [
        [['app.mjs:other'], 'other'],
        [[join(FIXTURES, 'default-export.mjs')], 'default export'],
        [[], 'Hello world!\n\n'],
      ] as const) {
        const proc = run(['--port', '0', '--quiet', ...args]);
        const port = await listening(proc);
        const { body } = await fetchText(port);
        expect(body.startsWith(expected)).toBe(true);
        proc.child.kill('SIGINT');
        expect(await proc.exited).toBe(0);
        expect(proc.stderr()).toBe('');
      }
    },
  );

  it(
    'exits 2 with a one-line error and no stack for a bad module',
    { timeout: 30_000 },
    async () => {
      for (const [spec, message] of [
        ['missing.mjs', /cannot find module "missing\.mjs"/],
        ['no-app.mjs', /exports no application function/],
        ['app.mjs:notAFunction', /exports no application function \("notAFunction"\)/],
        ['throws.mjs', /cannot load module "throws\.mjs": this module fails to load/],
      ] as const) {
        const proc = run(['--port', '0', spec]);
        expect(await proc.exited).toBe(2);
        const err = proc.stderr();
        expect(err).toMatch(message);
        expect(err.trimEnd().split('\n')).toHaveLength(1);
        expect(err).not.toMatch(/\n\s+at /);
        expect(proc.stdout()).toBe('');
      }
    },
  );

  it('exits 2 with the usage for bad arguments', { timeout: 30_000 }, async () => {
    for (const args of [
      ['--port', 'eighty'],
      ['--bogus'],
      ['--workers', '0'],
      ['a.mjs', 'b.mjs'],
    ]) {
      const proc = run(args);
      expect(await proc.exited).toBe(2);
      expect(proc.stderr()).toMatch(/^wsgi-serve: [^\n]+\(see wsgi-serve --help\)\n$/);
    }
    const help = run(['--help']);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toMatch(/^usage: wsgi-serve/);
  });

  it(
    'runs --workers 2 processes on one port and stops them all on SIGTERM',
    { timeout: 30_000 },
    async () => {
      const proc = run(['--port', '0', '--workers', '2', '--quiet', 'app.mjs']);
      const port = await listening(proc);
      const pids = new Set<string>();
      for (let i = 0; i < 40 && pids.size < 2; i += 1) {
        const { body } = await fetchText(port);
        expect(body).toMatch(/^app pid=\d+ multiprocess=true$/);
        pids.add(body.split(' ')[1] ?? '');
      }
      expect(pids.size).toBe(2);
      expect(pids.has(`pid=${String(proc.child.pid)}`)).toBe(false);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      expect(proc.stdout().match(/Serving HTTP/g)).toHaveLength(1);
    },
  );

  it('replaces a worker that dies', { timeout: 30_000 }, async () => {
    const proc = run(['--port', '0', '--workers', '2', '--quiet', 'app.mjs']);
    const port = await listening(proc);
    const { body } = await fetchText(port);
    const victim = Number(/pid=(\d+)/.exec(body)?.[1]);
    process.kill(victim, 'SIGKILL');
    const seen = new Set<number>();
    for (let i = 0; i < 200 && seen.size < 2; i += 1) {
      const pid = Number(/pid=(\d+)/.exec((await fetchText(port)).body)?.[1]);
      if (pid !== victim) seen.add(pid);
      if (seen.size < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(seen.size).toBe(2);
    expect(proc.stderr()).toMatch(/a worker exited by SIGKILL; starting another/);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('exits 2 when the workers cannot load the module', { timeout: 30_000 }, async () => {
    const proc = run(['--port', '0', '--workers', '2', 'no-app.mjs']);
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toMatch(/exports no application function/);
    expect(proc.stderr()).not.toMatch(/\n\s+at /);
  });

  it('exits 1 with one line when the port is taken', { timeout: 30_000 }, async () => {
    const first = run(['--port', '0', '--quiet']);
    const port = await listening(first);
    // The last module holds the event loop open itself: the command must still end.
    for (const extra of [[], ['--workers', '2'], ['keeps-loop-alive.mjs']]) {
      const second = run(['--port', String(port), ...extra]);
      expect(await second.exited).toBe(1);
      expect(second.stderr()).toMatch(/^wsgi-serve: .*EADDRINUSE.*\n$/);
    }
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });

  it('runs the README example', { timeout: 30_000 }, async () => {
    const readme = await readFile(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const example = /## Smallest example\n\n```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(example).toContain('makeServer');
    const dir = await mkdtemp(join(tmpdir(), 'wsgi-simple-readme-'));
    try {
      const file = join(dir, 'hello.mjs');
      const index = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'index.js')).href;
      await writeFile(
        file,
        example.replace("'@wsgi/simple'", `'${index}'`).replace(', 8000,', ', 0,'),
      );
      const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
      track(child);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      for (let i = 0; i < 500 && !/Serving on/.test(out); i += 1)
        await new Promise((r) => setTimeout(r, 20));
      const port = Number(/:(\d+)\//.exec(out)?.[1]);
      const { status, body } = await fetchText(port, '/there');
      expect(status).toBe(200);
      expect(body).toBe('Hello from /there\n');
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('has a shebang, is executable and is the package bin', { timeout: 30_000 }, async () => {
    expect((await readFile(CLI, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect((await stat(CLI)).mode & 0o111).toBe(0o111);
    const pkg = JSON.parse(
      await readFile(join(import.meta.dirname, '..', 'package.json'), 'utf8'),
    ) as {
      bin: Record<string, string>;
    };
    expect(join(import.meta.dirname, '..', pkg.bin['wsgi-serve'] ?? '')).toBe(CLI);
  });
});
