/**
 * `wsgi-serve`'s limit flags, one per `makeServer()` option: shown with their defaults, checked
 * strictly, and in force over real sockets in one process and with `--workers`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { killChildren, listening, run } from './_cli.ts';
import { connect, closesWithin, readUntil, teardown } from './_http.ts';
import { expectRefused, send, statusLines } from './_raw.ts';

afterEach(async () => {
  killChildren();
  await teardown();
});

/** Every limit flag and the default `wsgi-serve --help` must show for it. */
const DEFAULTS: readonly (readonly [string, number])[] = [
  ['--max-header-size', 16_384],
  ['--max-header-count', 100],
  ['--max-request-line-size', 8_190],
  ['--max-body-size', 1_048_576],
  ['--headers-timeout', 60_000],
  ['--request-timeout', 300_000],
  ['--timeout', 120_000],
  ['--keep-alive-timeout', 5_000],
  ['--connections-checking-interval', 30_000],
  ['--max-requests-per-socket', 0],
  ['--max-connections', 1_024],
];

/** A request with `fields` header fields in all (Host and Content-Length included) and `body`. */
function request(fields: number, body = ''): string {
  const count = fields - (body === '' ? 1 : 2);
  const extra = Array.from({ length: count }, (_, i) => `X-F${String(i)}: v\r\n`).join('');
  const method = body === '' ? 'GET' : 'POST';
  const length = body === '' ? '' : `Content-Length: ${String(body.length)}\r\n`;
  return `${method} / HTTP/1.1\r\nHost: x\r\n${extra}${length}\r\n${body}`;
}

/** Stops `wsgi-serve` with SIGTERM and expects a clean exit. */
async function stop(proc: ReturnType<typeof run>): Promise<void> {
  proc.child.kill('SIGTERM');
  expect(await proc.exited).toBe(0);
}

describe('wsgi-serve limit flags', () => {
  it(
    'lists every flag with its default in --help and the README',
    { timeout: 20_000 },
    async () => {
      const help = run(['--help']);
      expect(await help.exited).toBe(0);
      for (const [flag, value] of DEFAULTS) {
        expect(help.stdout()).toMatch(
          new RegExp(`^ +${flag} [A-Z]+ +.*\\(default ${String(value)}\\)$`, 'm'),
        );
      }
      expect(help.stdout()).toMatch(/^ +-q, --quiet /m);
      const readme = await readFile(join(import.meta.dirname, '..', 'README.md'), 'utf8');
      for (const [flag, value] of DEFAULTS) {
        expect(readme).toMatch(
          new RegExp(`^\\| \`${flag} [A-Z]+\` +\\| \`${String(value)}\``, 'm'),
        );
      }
    },
  );

  it(
    'exits 2 with one line naming the flag for a bad value or an unknown flag',
    { timeout: 30_000 },
    async () => {
      const cases: readonly (readonly [string[], string])[] = [
        [['--max-body-size', '-1'], '--max-body-size'],
        [['--max-body-size', '1.5'], '--max-body-size'],
        [['--max-body-size', '1e3'], '--max-body-size'],
        [['--max-body-size', ' 5'], '--max-body-size'],
        [['--max-body-size='], '--max-body-size'],
        [['--max-body-size', 'Infinity'], '--max-body-size'],
        [['--max-header-size', '0'], '--max-header-size'],
        [['--max-header-count', '0'], '--max-header-count'],
        [['--max-request-line-size', '0'], '--max-request-line-size'],
        [['--max-request-line-size', '16385'], '--max-request-line-size'],
        [['--max-header-size', '100', '--max-request-line-size', '101'], '--max-request-line-size'],
        [['--connections-checking-interval', '0'], '--connections-checking-interval'],
        [['--headers-timeout', '2147483648'], '--headers-timeout'],
        [['--max-connections', '9007199254740993'], '--max-connections'],
        [['--request-timeout', 'soon'], '--request-timeout'],
        [['--keep-alive-timeout'], '--keep-alive-timeout'],
        [['--max-body-sise', '10'], '--max-body-sise'],
        [['--workers', '2', '--max-requests-per-socket', 'x'], '--max-requests-per-socket'],
      ];
      // A value taken by mistake would serve until the 15 s kill, and fail the exit status.
      const procs = cases.map(([args]) => run(['--port', '0', ...args, 'app.mjs']));
      for (const [index, [args, flag]] of cases.entries()) {
        const proc = procs[index];
        if (proc === undefined) throw new Error('no process');
        const label = args.join(' ');
        expect(await proc.exited, label).toBe(2);
        const err = proc.stderr();
        expect(err, label).toMatch(/^wsgi-serve: [^\n]+\n$/);
        expect(err, label).toContain(flag);
        expect(err, label).not.toMatch(/\bat |Error/);
        expect(proc.stdout(), label).toBe('');
      }
    },
  );

  for (const workers of [[], ['--workers', '2']]) {
    it(
      `enforces body size, header count and requests per connection ${workers.length > 0 ? 'in every worker' : 'in one process'}`,
      { timeout: 30_000 },
      async () => {
        const proc = run([
          '--port',
          '0',
          '--quiet',
          '--max-body-size',
          '10',
          '--max-header-count',
          '5',
          '--max-requests-per-socket',
          '1',
          ...workers,
          'app.mjs',
        ]);
        const port = await listening(proc);
        // Several connections, so with --workers each worker is likely to answer some.
        for (let i = 0; i < 4; i += 1) {
          expectRefused(await send(port, request(2, 'x'.repeat(20))), 'body of 20', [413]);
          expectRefused(await send(port, request(6)), '6 header fields', [431]);
          const allowed = await send(port, request(5, 'x'.repeat(10)));
          expect(statusLines(allowed.bytes)).toEqual(['HTTP/1.1 200 OK']);
          // The one request allowed is answered with Connection: close; the second never runs.
          const pipelined = await send(port, request(1) + request(1));
          expect(statusLines(pipelined.bytes)).toEqual(['HTTP/1.1 200 OK']);
          expect(pipelined.bytes.toString('latin1')).toMatch(/\r\nConnection: close\r\n/i);
          expect(pipelined.closed).toBe(true);
        }
        await stop(proc);
      },
    );
  }

  it(
    'cuts an idle keep-alive connection and a slow request head at the times given',
    { timeout: 30_000 },
    async () => {
      const proc = run([
        '--port',
        '0',
        '--quiet',
        '--keep-alive-timeout',
        '200',
        '--headers-timeout',
        '300',
        '--connections-checking-interval',
        '50',
        'app.mjs',
      ]);
      const port = await listening(proc);
      const idle = await connect(port);
      idle.write(request(1));
      await readUntil(idle, (bytes) => bytes.includes('multiprocess=false'), 5000);
      let since = Date.now();
      // node:http closes an idle connection up to 1 s after keepAliveTimeout; the defaults
      // (5 s, 60 s) would keep both open far past these bounds.
      expect(await closesWithin(idle, 3000)).toBe(true);
      expect(Date.now() - since).toBeLessThan(3000);
      since = Date.now();
      const slow = await send(port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ', 'whole', 3000);
      expectRefused(slow, 'slow head', [408]);
      expect(Date.now() - since).toBeGreaterThanOrEqual(250);
      await stop(proc);
    },
  );

  it(
    'answers 414 past --max-request-line-size, and 431 past --max-header-size',
    { timeout: 30_000 },
    async () => {
      const proc = run([
        '--port',
        '0',
        '--quiet',
        '--max-header-size',
        '2000',
        '--max-request-line-size',
        '50',
        'app.mjs',
      ]);
      const port = await listening(proc);
      const target = (size: number): string =>
        `GET /${'a'.repeat(size - 1)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
      expectRefused(await send(port, target(51)), 'target of 51', [414]);
      expect(statusLines((await send(port, target(50))).bytes)).toEqual(['HTTP/1.1 200 OK']);
      // Under the default of 8190, but over --max-header-size: node:http's 431.
      expectRefused(await send(port, target(2100)), 'target of 2100', [431]);
      await stop(proc);
    },
  );

  it('closes connections past --max-connections at once', { timeout: 30_000 }, async () => {
    const proc = run(['--port', '0', '--quiet', '--max-connections', '1', 'app.mjs']);
    const port = await listening(proc);
    const first = await connect(port);
    first.write(request(1));
    await readUntil(first, (bytes) => bytes.includes('multiprocess=false'), 5000);
    const refused = await send(port, request(1), 'whole', 2000);
    expect(refused.closed).toBe(true);
    expect(refused.bytes.length).toBe(0);
    first.destroy();
    await stop(proc);
  });
});
