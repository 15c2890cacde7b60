/**
 * Helpers for the `wsgi-serve` tests: the built CLI run as a child process (tracked, killed on
 * teardown, and killed anyway after 15 s), its announced port, and a plain GET.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { join } from 'node:path';

/** The command, as npm links it (bin/wsgi-serve.js, which loads the built dist/cli.js). */
export const CLI = join(import.meta.dirname, '..', 'bin', 'wsgi-serve.js');
/** The working directory of the children: the application modules. */
export const FIXTURES = join(import.meta.dirname, 'fixtures');

const children = new Set<ChildProcess>();

/** A running `wsgi-serve`. */
export interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `wsgi-serve args` in {@link FIXTURES}; the child is SIGKILLed after 15 s at most. */
export function run(args: readonly string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: FIXTURES,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  void exited.then(() => {
    clearTimeout(timer);
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Tracks a child started some other way, so {@link killChildren} kills it too. */
export function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Kills every child still running (for `afterEach`). */
export function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

/** Waits (10 s at most) for the `Serving HTTP on … port N` line and returns N. */
export async function listening(proc: Run): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const match =
      /^Serving HTTP on 127\.0\.0\.1 port (\d+) \(http:\/\/127\.0\.0\.1:\d+\/\) \.\.\.$/m.exec(
        proc.stdout(),
      );
    if (match !== null) return Number(match[1]);
    if (proc.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`not listening: ${proc.stdout()} ${proc.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** GETs `path` on a fresh connection and reads the whole answer. */
export function fetchText(port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    request.on('timeout', () => request.destroy(new Error('fetchText: timed out')));
    request.on('error', reject);
  });
}
