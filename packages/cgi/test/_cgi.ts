import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { PYTHON } from './_lighttpd.ts';

export const FIXTURES = fileURLToPath(new URL('fixtures/', import.meta.url));
export const NODE = process.execPath;
export const HAS_PYTHON = existsSync(PYTHON);

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** Milliseconds from spawn to exit. */
  ms: number;
}

export interface RunOptions {
  /** The child's whole environment. */
  env: Record<string, string>;
  /**
   * Bytes written to the child's stdin. With `keepOpen`, stdin stays open after them (as a
   * web server may keep it) until the child exits; a number is a file descriptor to inherit;
   * `'manual'` leaves writing to `onSpawn`.
   */
  stdin?: Uint8Array | number | 'manual';
  keepOpen?: boolean;
  /** Called with the child's stdout stream, to read it in a test's own way. */
  onStdout?: (stdout: Readable) => void;
  /** Called once the child started, to talk to it while it runs. */
  onSpawn?: (child: ChildProcessWithoutNullStreams) => void;
  timeout?: number;
}

/** Runs a command to its end, collecting its output; kills it after `timeout` ms (20 s). */
export function run(command: string, args: string[], options: RunOptions): Promise<Result> {
  const started = performance.now();
  const stdinOption = typeof options.stdin === 'number' ? options.stdin : 'pipe';
  const child = spawn(command, args, {
    env: options.env,
    stdio: [stdinOption, 'pipe', 'pipe'],
  }) as ChildProcessWithoutNullStreams;
  const stdout: Buffer[] = [];
  let stderr = '';
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const timer = setTimeout(kill, options.timeout ?? 20_000);
  if (options.onStdout === undefined)
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  else options.onStdout(child.stdout);
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // The stdin of an inherited descriptor is null, whatever the type says.
  const stdin = child.stdin as typeof child.stdin | null;
  if (stdin !== null) {
    stdin.on('error', () => undefined);
    if (options.stdin instanceof Uint8Array) stdin.write(options.stdin);
    if (options.keepOpen !== true && options.stdin !== 'manual') stdin.end();
  }
  options.onSpawn?.(child);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      stdin?.destroy();
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout),
        stderr,
        ms: performance.now() - started,
      });
    });
  });
}

/** `printf` escapes for exact bytes, so a shell can put any byte in a variable. */
function octal(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => `\\${byte.toString(8).padStart(3, '0')}`).join('');
}

/**
 * A `/bin/sh` command line that runs `argv` with the variables set to exactly these bytes,
 * including bytes that are not UTF-8 (which Node's `spawn` cannot pass).
 */
export function withRawEnv(
  vars: Record<string, Uint8Array>,
  argv: string[],
): [command: string, args: string[]] {
  const lines = Object.entries(vars).map(([name, bytes]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad variable name ${name}`);
    // A sentinel keeps $(…) from eating trailing newlines.
    return `${name}="$(printf '${octal(bytes)}x')"; ${name}="\${${name}%x}"; export ${name}`;
  });
  return ['/bin/sh', ['-c', [...lines, 'exec "$@"'].join('\n'), 'sh', ...argv]];
}

/** The CGI variables of a plain GET of `/cgi-bin/app.cgi`, as a web server would set them. */
export function cgiEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'test/1.0',
    SERVER_NAME: '127.0.0.1',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '/cgi-bin/app.cgi',
    PATH_INFO: '',
    QUERY_STRING: '',
    REMOTE_ADDR: '127.0.0.1',
    ...overrides,
  };
}

/** Splits CGI output (`Status:` and header lines, a blank line, the body). */
export function parseCgi(output: Buffer): { head: string[]; body: Buffer } {
  const end = output.indexOf('\r\n\r\n');
  if (end === -1)
    throw new Error(`no header block in ${JSON.stringify(output.toString('latin1'))}`);
  return { head: output.toString('latin1', 0, end).split('\r\n'), body: output.subarray(end + 4) };
}

/** Resolves once `stream`'s text matches `pattern`; rejects after `timeout` ms. */
export function waitForText(
  stream: NodeJS.ReadableStream,
  pattern: RegExp,
  timeout = 10_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer | string): void => {
      text += chunk.toString();
      if (!pattern.test(text)) return;
      clearTimeout(timer);
      stream.off('data', onData);
      resolve(text);
    };
    const timer = setTimeout(() => {
      stream.off('data', onData);
      reject(new Error(`timed out waiting for ${String(pattern)} in ${JSON.stringify(text)}`));
    }, timeout);
    stream.on('data', onData);
  });
}
