import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PassThrough, Readable, Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import type { Application, ResponseBody } from '@wsgi/util';

import { SimpleHandler } from '../src/index.ts';
import { MemoryErrors, bytes, sleep } from './_http.ts';

import { hello } from './_apps.ts';

const PYTHON = '/root/.pyenv/versions/3.11.7/bin/python3';

const CGI = {
  REQUEST_METHOD: 'GET',
  SCRIPT_NAME: '',
  PATH_INFO: '/',
  QUERY_STRING: '',
  SERVER_NAME: 'localhost',
  SERVER_PORT: '80',
  SERVER_PROTOCOL: 'HTTP/1.0',
};

/** A Writable that records each write call, calling back after `delayMs` (0: at once). */
class Recorder extends Writable {
  writes: Buffer[] = [];
  maxBuffered = 0;
  constructor(
    highWaterMark = 16_384,
    private readonly delayMs = 0,
    private readonly fail?: (count: number) => NodeJS.ErrnoException | undefined,
  ) {
    super({ highWaterMark });
  }
  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.writes.push(chunk);
    this.maxBuffered = Math.max(this.maxBuffered, this.writableLength);
    const error = this.fail?.(this.writes.length);
    if (this.delayMs === 0) callback(error);
    else {
      setTimeout(() => {
        callback(error);
      }, this.delayMs);
    }
  }
  get text(): string {
    return Buffer.concat(this.writes).toString('latin1');
  }
}

function withoutDate(text: string): string {
  return text.replace(/Date: [^\r]*\r\n/, '');
}

describe('SimpleHandler', () => {
  it('writes the status line, headers and a one-chunk body in a single write', async () => {
    const out = new Recorder();
    const handler = new SimpleHandler(new Uint8Array(0), out, new MemoryErrors(), CGI);
    await handler.run(hello);
    expect(out.writes).toHaveLength(1);
    expect(withoutDate(out.text)).toBe(
      'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nHello world!',
    );
    expect(out.text).toMatch(/\r\nDate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n/);
  });

  it("writes the same bytes as Python's wsgiref SimpleHandler (differential)", async () => {
    expect(existsSync(PYTHON) || process.env['CI'] === undefined).toBe(true);
    if (!existsSync(PYTHON)) return;
    const script = [
      'import io, sys',
      'from wsgiref.handlers import SimpleHandler',
      'def app(environ, start_response):',
      "    start_response('201 Created', [('Content-Type', 'text/plain'), ('X-A', 'b')])",
      "    return [b'one', b'', b'two']",
      'out = io.BytesIO()',
      "env = {'REQUEST_METHOD': 'GET', 'SCRIPT_NAME': '', 'PATH_INFO': '/', 'QUERY_STRING': '', 'SERVER_NAME': 'localhost', 'SERVER_PORT': '80', 'SERVER_PROTOCOL': 'HTTP/1.0'}",
      'SimpleHandler(io.BytesIO(), out, sys.stderr, env).run(app)',
      'sys.stdout.buffer.write(out.getvalue())',
    ].join('\n');
    const python = spawnSync(PYTHON, ['-c', script], { encoding: 'latin1', timeout: 10_000 });
    expect(python.status).toBe(0);
    const out = new Recorder();
    await new SimpleHandler(new Uint8Array(0), out, new MemoryErrors(), CGI).run(
      (_e, startResponse) => {
        startResponse('201 Created', [
          ['Content-Type', 'text/plain'],
          ['X-A', 'b'],
        ]);
        return [bytes('one'), bytes(''), bytes('two')];
      },
    );
    expect(withoutDate(out.text)).toBe(withoutDate(python.stdout));
  });

  it('waits for drain: a slow stdout never holds more than a chunk past its high-water mark', async () => {
    const out = new Recorder(1024, 1);
    const chunk = Buffer.alloc(512, 97);
    let produced = 0;
    const handler = new SimpleHandler(new Uint8Array(0), out, new MemoryErrors(), CGI);
    await handler.run((_environ, startResponse) => {
      startResponse('200 OK', []);
      return (function* body() {
        for (let i = 0; i < 200; i += 1) {
          produced += 1;
          yield chunk;
        }
      })();
    });
    expect(produced).toBe(200);
    const text = out.text;
    expect(text.slice(text.indexOf('\r\n\r\n') + 4)).toBe('a'.repeat(512 * 200));
    expect(out.maxBuffered).toBeLessThanOrEqual(1024 + 512 + 512);
  });

  it('reads wsgi.input from bytes, a string or a Readable, and writes wsgi.errors to a Writable', async () => {
    const echo: Application = async (environ, startResponse) => {
      const body = await environ['wsgi.input'].read();
      environ['wsgi.errors'].write(`read ${String(body.length)}\n`);
      startResponse('200 OK', []);
      return [body];
    };
    for (const source of [
      bytes('abc'),
      'abc',
      Readable.from([bytes('a'), bytes('bc')], { objectMode: false }),
    ]) {
      const out = new Recorder();
      const errors = new PassThrough();
      const logged: Buffer[] = [];
      errors.on('data', (b: Buffer) => logged.push(b));
      await new SimpleHandler(source, out, errors, CGI).run(echo);
      expect(out.text.endsWith('\r\n\r\nabc')).toBe(true);
      await sleep(0);
      expect(Buffer.concat(logged).toString()).toBe('read 3\n');
    }
  });

  it('passes multithread and multiprocess, and the given CGI variables', async () => {
    let seen: Record<string, unknown> = {};
    const out = new Recorder();
    await new SimpleHandler(
      new Uint8Array(0),
      out,
      new MemoryErrors(),
      { ...CGI, HTTP_X: 'y' },
      {
        multithread: false,
        multiprocess: true,
      },
    ).run((environ, startResponse) => {
      seen = environ;
      return hello(environ, startResponse);
    });
    expect(seen['wsgi.multithread']).toBe(false);
    expect(seen['wsgi.multiprocess']).toBe(true);
    expect(seen['HTTP_X']).toBe('y');
    expect(seen['PATH_INFO']).toBe('/');
  });

  it('surfaces a stdout error: the request fails and is logged, the process does not crash', async () => {
    const eio = Object.assign(new Error('disk on fire'), { code: 'EIO' });
    const out = new Recorder(16_384, 0, (n) => (n === 1 ? eio : undefined));
    const errors = new MemoryErrors();
    let closed = 0;
    const handler = new SimpleHandler(new Uint8Array(0), out, errors, CGI);
    await handler.run((_environ, startResponse) => {
      startResponse('200 OK', []);
      const body: ResponseBody = {
        *[Symbol.iterator]() {
          yield bytes('first');
          yield bytes('second');
          yield bytes('third');
        },
        close() {
          closed += 1;
        },
      };
      return body;
    });
    expect(errors.text).toContain('disk on fire');
    expect(closed).toBe(1);
    expect(out.text).not.toContain('third');
  });

  it('waits for writes still in flight before resolving, and reports a late stdout error', async () => {
    const eio = Object.assign(new Error('late failure'), { code: 'EIO' });
    // Below the high-water mark: write() says "go on", the failure comes 30 ms later.
    const out = new Recorder(1 << 20, 30, () => eio);
    const errors = new MemoryErrors();
    const started = Date.now();
    await new SimpleHandler(new Uint8Array(0), out, errors, CGI).run(hello);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(out.writes).toHaveLength(1);
    expect(errors.text).toBe('SimpleHandler: writing the response failed: Error: late failure\n');
  });

  it('ends quietly when the reader went away (EPIPE), still closing the body', async () => {
    const epipe = Object.assign(new Error('broken pipe'), { code: 'EPIPE' });
    const out = new Recorder(16_384, 0, () => epipe);
    const errors = new MemoryErrors();
    let closed = 0;
    await new SimpleHandler(new Uint8Array(0), out, errors, CGI).run((_environ, startResponse) => {
      startResponse('200 OK', []);
      const body: ResponseBody = {
        async *[Symbol.asyncIterator]() {
          for (let i = 0; i < 1000; i += 1) {
            await sleep(0);
            yield bytes('x');
          }
        },
        close() {
          closed += 1;
        },
      };
      return body;
    });
    expect(errors.text).toBe('');
    expect(closed).toBe(1);
  });

  it('ends quietly on an already destroyed stdout', async () => {
    const out = new Recorder();
    out.destroy();
    const errors = new MemoryErrors();
    await new SimpleHandler(new Uint8Array(0), out, errors, CGI).run(hello);
    expect(errors.text).toBe('');
    expect(out.writes).toHaveLength(0);
  });

  it('answers an application error with the 500 page', async () => {
    const out = new Recorder();
    const errors = new MemoryErrors();
    await new SimpleHandler(new Uint8Array(0), out, errors, CGI).run(() => {
      throw new TypeError('bad app');
    });
    expect(withoutDate(out.text)).toBe(
      'HTTP/1.0 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 59\r\n\r\n' +
        'A server error occurred.  Please contact the administrator.',
    );
    expect(errors.text).toContain('TypeError: bad app');
  });
});
