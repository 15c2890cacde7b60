/**
 * The CGI handlers in real child processes: the example application run as a CGI script with
 * the variables and pipes a web server would give it, next to Python's CGIHandler.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { SimpleHandler } from '@wsgi/simple';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BaseCGIHandler, CGIHandler, IISCGIHandler } from '../src/index.ts';
import { FIXTURES, HAS_PYTHON, NODE, cgiEnv, parseCgi, run, waitForText } from './_cgi.ts';
import type { Result, RunOptions } from './_cgi.ts';
import { PYTHON } from './_lighttpd.ts';

const MIB = 1 << 20;
const APP = join(FIXTURES, 'app.mjs');
const ERROR_BODY = 'A server error occurred.  Please contact the administrator.';
// Python is on every CI machine: there a missing interpreter fails the tests instead.
const comparePython = HAS_PYTHON || process.env['CI'] !== undefined;

const ours = (options: RunOptions, script = APP): Promise<Result> => run(NODE, [script], options);
const python = (options: RunOptions): Promise<Result> =>
  run(PYTHON, ['-I', '-B', join(FIXTURES, 'app.py')], options);

/** How many progress lines the example application logged. */
function progress(stderr: string, what: string): number {
  return stderr.split(what).length - 1;
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsgi-cgi-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CGIHandler as a CGI script', () => {
  it('writes a Status line, the headers and the body, and leaves Date and Server to the server', async () => {
    const result = await ours({ env: cgiEnv({ PATH_INFO: '/a/b', QUERY_STRING: 'x=1' }) });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const { head, body } = parseCgi(result.stdout);
    expect(head).toEqual([
      'Status: 200 OK',
      'Content-Type: text/plain',
      'X-Example: cgi',
      `Content-Length: ${body.length}`,
    ]);
    expect(body.toString('latin1')).toContain('PATH_INFO=/a/b\nQUERY_STRING=x=1\n');
    expect(body.toString('latin1')).toContain(
      'wsgi.multithread=0\nwsgi.multiprocess=1\nwsgi.run_once=1\n',
    );
  });

  it.skipIf(!comparePython).each([
    ['a GET', cgiEnv({ PATH_INFO: '/x/y', QUERY_STRING: 'q=%C3%A9', HTTP_X_TEST: 'v' }), undefined],
    [
      'a POST',
      cgiEnv({
        REQUEST_METHOD: 'POST',
        PATH_INFO: '/post',
        CONTENT_LENGTH: '11',
        CONTENT_TYPE: 'text/plain',
      }),
      'hello world',
    ],
    ['a status with a reason', cgiEnv({ PATH_INFO: '/teapot' }), undefined],
    ['an application error', cgiEnv({ PATH_INFO: '/error' }), undefined],
    ['a streamed body', cgiEnv({ PATH_INFO: '/stream', QUERY_STRING: '3' }), undefined],
  ])("writes the same bytes as Python's CGIHandler for %s", async (_, env, input) => {
    const options: RunOptions = input === undefined ? { env } : { env, stdin: Buffer.from(input) };
    const [node, py] = await Promise.all([ours(options), python(options)]);
    expect(node.code).toBe(py.code);
    expect(node.stdout.toString('latin1')).toBe(py.stdout.toString('latin1'));
  });

  it('answers an application error with the 500 page; the stack goes to stderr only', async () => {
    const result = await ours({ env: cgiEnv({ PATH_INFO: '/error' }) });
    expect(result.code).toBe(0);
    expect(result.stdout.toString('latin1')).toBe(
      'Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n' +
        `Content-Length: ${ERROR_BODY.length}\r\n\r\n${ERROR_BODY}`,
    );
    expect(result.stderr).toMatch(/^Error: failure in the example application\n\s+at app /m);
  });

  it('exits non-zero with the stack on stderr when it fails after output started', async () => {
    const result = await ours({ env: cgiEnv({ PATH_INFO: '/late-error' }) });
    expect(result.code).toBe(1);
    expect(result.stdout.toString('latin1')).toBe(
      'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\npartial\n',
    );
    expect(result.stderr).toMatch(
      /Error: late failure in the example application\n\s+at lateError /,
    );
  });

  it('exits non-zero when handling the error fails too, even if run() is caught', async () => {
    const result = await ours({ env: cgiEnv() }, join(FIXTURES, 'double-fault.mjs'));
    expect(result.code).toBe(1);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).toMatch(/^Error: failure in the application\n/m);
    expect(result.stderr).toContain('caught: the error page failed too\n');
  });

  it('never reads stdin past CONTENT_LENGTH', async () => {
    const file = join(dir, 'body');
    writeFileSync(file, 'helloEXTRA');
    const fd = openSync(file, 'r');
    try {
      const env = cgiEnv({ REQUEST_METHOD: 'POST', PATH_INFO: '/post', CONTENT_LENGTH: '5' });
      const result = await ours({ env, stdin: fd });
      expect(result.code).toBe(0);
      expect(parseCgi(result.stdout).body.toString('latin1')).toMatch(
        /^length=5\n.*\nhead=hello\n$/s,
      );
      // The child shared this open file: its offset shows how far the child read.
      const rest = Buffer.alloc(16);
      expect(rest.toString('latin1', 0, readSync(fd, rest, 0, 16, null))).toBe('EXTRA');
    } finally {
      closeSync(fd);
    }
  });

  // The launcher is a Python script.
  it.skipIf(!comparePython)(
    'reads a body from a non-blocking stdin that fills slowly',
    async () => {
      // A server that hands the script a non-blocking pipe: reads see EAGAIN until data comes.
      const launcher = [
        'import os, subprocess, sys, time',
        'r, w = os.pipe2(os.O_NONBLOCK)',
        'child = subprocess.Popen(sys.argv[1:], stdin=r)',
        'os.close(r)',
        'os.set_blocking(w, True)',
        'for part in (b"hel", b"lo"):',
        '    time.sleep(0.3)',
        '    os.write(w, part)',
        'os.close(w)',
        'sys.exit(child.wait())',
      ].join('\n');
      const env = cgiEnv({ REQUEST_METHOD: 'POST', PATH_INFO: '/post', CONTENT_LENGTH: '5' });
      const result = await run(PYTHON, ['-I', '-B', '-c', launcher, NODE, APP], { env });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(parseCgi(result.stdout).body.toString('latin1')).toMatch(
        /^length=5\n.*\nhead=hello\n$/s,
      );
    },
  );

  it('ends once the response is written, though the server keeps stdin open', async () => {
    const env = cgiEnv({ REQUEST_METHOD: 'POST', PATH_INFO: '/post', CONTENT_LENGTH: '5' });
    const result = await ours({ env, stdin: Buffer.from('hello and more'), keepOpen: true });
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    expect(parseCgi(result.stdout).body.toString('latin1')).toMatch(/^length=5\n/);
  });

  it.each([
    ['no CONTENT_LENGTH', {}],
    ['an empty CONTENT_LENGTH', { CONTENT_LENGTH: '' }],
    ['a CONTENT_LENGTH that is not a number', { CONTENT_LENGTH: '5x' }],
    ['a negative CONTENT_LENGTH', { CONTENT_LENGTH: '-5' }],
    ['only a client HTTP_CONTENT_LENGTH', { HTTP_CONTENT_LENGTH: '5' }],
  ])('reads no body with %s', async (_, vars: Record<string, string>) => {
    const env = cgiEnv({ REQUEST_METHOD: 'POST', PATH_INFO: '/post', ...vars });
    const result = await ours({ env, stdin: Buffer.from('hello'), keepOpen: true });
    expect(result.code).toBe(0);
    expect(parseCgi(result.stdout).body.toString('latin1')).toMatch(/^length=0\n/);
  });

  it('fails the request when stdin ends before CONTENT_LENGTH', async () => {
    const env = cgiEnv({ REQUEST_METHOD: 'POST', PATH_INFO: '/post', CONTENT_LENGTH: '10' });
    const result = await ours({ env, stdin: Buffer.from('hell') });
    expect(parseCgi(result.stdout).head[0]).toBe('Status: 500 Internal Server Error');
    expect(result.stderr).toContain('ended after 4 of 10 bytes');
  });

  it('keeps HTTP_PROXY in the environ but removes it from process.env (httpoxy)', async () => {
    const env = cgiEnv({ HTTP_PROXY: 'http://attacker.invalid:3128' });
    const echo = await ours({ env: { ...env, PATH_INFO: '/leaky' } });
    expect(parseCgi(echo.stdout).body.toString('latin1')).toContain(
      'HTTP_PROXY=http://attacker.invalid:3128\n',
    );
    const proxy = await ours({ env: { ...env, PATH_INFO: '/process-proxy' } });
    expect(parseCgi(proxy.stdout).body.toString('latin1')).toBe('-');
  });

  it('ends quietly when the web server stops reading (EPIPE)', async () => {
    let received = 0;
    const result = await ours({
      env: cgiEnv({ PATH_INFO: '/stream', QUERY_STRING: '50' }),
      onStdout: (stdout) => {
        stdout.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received >= MIB) stdout.destroy();
        });
      },
    });
    expect(received).toBeGreaterThanOrEqual(MIB);
    expect(received).toBeLessThan(50 * MIB);
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('writes a 50 MiB response only as fast as the web server reads it', async () => {
    let producedWhilePaused = -1;
    let received = 0;
    const result = await ours({
      env: cgiEnv({ PATH_INFO: '/stream', QUERY_STRING: '50', HTTP_X_REQUEST_ID: 'big' }),
      onStdout: (stdout) => {
        stdout.pause();
        stdout.on('data', (chunk: Buffer) => (received += chunk.length));
      },
      onSpawn: (child) => {
        let stderrSoFar = '';
        child.stderr.on('data', (chunk: string) => (stderrSoFar += chunk));
        // Once the first block is out, give the script time to run ahead if it could.
        waitForText(child.stderr, /block=0\n/)
          .then(() => new Promise((resolve) => setTimeout(resolve, 500)))
          .then(
            () => {
              producedWhilePaused = progress(stderrSoFar, 'block=');
              child.stdout.resume();
            },
            () => child.kill(),
          );
      },
    });
    expect(result.code).toBe(0);
    // One 1 MiB block waits in stdout's buffer and the pipe; the generator is not advanced.
    expect(producedWhilePaused).toBeGreaterThanOrEqual(1);
    expect(producedWhilePaused).toBeLessThanOrEqual(2);
    expect(progress(result.stderr, 'block=')).toBe(50);
    expect(received).toBe(
      'Status: 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n'.length + 50 * MIB,
    );
  });

  it('hands the request body to the application before all of it arrived', async () => {
    const body = randomBytes(10 * MIB);
    const env = cgiEnv({
      REQUEST_METHOD: 'POST',
      PATH_INFO: '/post',
      CONTENT_LENGTH: String(body.length),
      HTTP_X_REQUEST_ID: 'big',
    });
    let sawFirstChunk = false;
    const result = await ours({
      env,
      stdin: 'manual',
      onSpawn: (child) => {
        child.stdin.write(body.subarray(0, MIB));
        waitForText(child.stderr, /example-app big first-chunk/).then(
          () => {
            sawFirstChunk = true;
            child.stdin.end(body.subarray(MIB));
          },
          () => child.kill(),
        );
      },
    });
    expect(sawFirstChunk).toBe(true);
    expect(result.code).toBe(0);
    const text = parseCgi(result.stdout).body.toString('latin1');
    expect(text).toContain(
      `length=${body.length}\nsha256=${createHash('sha256').update(body).digest('hex')}\n`,
    );
  });
});

describe('IISCGIHandler', () => {
  const iis = join(FIXTURES, 'iis-app.mjs');
  const pathInfo = async (scriptName: string, path: string): Promise<string | undefined> => {
    const result = await ours({ env: cgiEnv({ SCRIPT_NAME: scriptName, PATH_INFO: path }) }, iis);
    expect(result.code).toBe(0);
    return /^PATH_INFO=(.*)$/m.exec(parseCgi(result.stdout).body.toString('latin1'))?.[1];
  };

  it('removes the SCRIPT_NAME that IIS repeats at the front of PATH_INFO', async () => {
    expect(await pathInfo('/app.cgi', '/app.cgi/a/b')).toBe('/a/b');
    expect(await pathInfo('/app.cgi', '/app.cgi')).toBe('');
  });

  it('leaves a PATH_INFO that does not start with the whole SCRIPT_NAME', async () => {
    expect(await pathInfo('/app.cgi', '/app.cgix/a')).toBe('/app.cgix/a');
    expect(await pathInfo('/app.cgi', '/a/b')).toBe('/a/b');
  });

  it.skipIf(!comparePython)("agrees with Python's IISCGIHandler", async () => {
    const script = [
      'import sys',
      `sys.path.insert(0, ${JSON.stringify(FIXTURES)})`,
      'from example_app import app',
      'from wsgiref.handlers import IISCGIHandler',
      'IISCGIHandler().run(app)',
    ].join('\n');
    for (const path of ['/app.cgi/a/b', '/app.cgi', '/app.cgix', '/other']) {
      const env = cgiEnv({ SCRIPT_NAME: '/app.cgi', PATH_INFO: path });
      const [node, py] = await Promise.all([
        ours({ env }, iis),
        run(PYTHON, ['-I', '-B', '-c', script], { env }),
      ]);
      expect(node.stdout.toString('latin1'), path).toBe(py.stdout.toString('latin1'));
    }
  });
});

describe('BaseCGIHandler', () => {
  function collect(): { stream: Writable; text: () => string } {
    const chunks: Buffer[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    return { stream, text: () => Buffer.concat(chunks).toString('latin1') };
  }

  it('is a SimpleHandler that writes CGI output from its own streams and environ', async () => {
    const out = collect();
    const err = collect();
    const handler = new BaseCGIHandler(Buffer.from('abc'), out.stream, err.stream, {
      REQUEST_METHOD: 'POST',
      SCRIPT_NAME: '',
      PATH_INFO: '/p',
      SERVER_NAME: 'h',
      SERVER_PORT: '80',
      SERVER_PROTOCOL: 'HTTP/1.1',
    });
    expect(handler).toBeInstanceOf(SimpleHandler);
    expect(handler.originServer).toBe(false);
    await handler.run(async (environ, startResponse) => {
      const input = await environ['wsgi.input'].read();
      startResponse('201 Created', [
        [
          'X-Flags',
          [
            environ['wsgi.multithread'],
            environ['wsgi.multiprocess'],
            environ['wsgi.run_once'],
          ].join(),
        ],
      ]);
      return [input];
    });
    expect(out.text()).toBe(
      'Status: 201 Created\r\nX-Flags: true,false,false\r\nContent-Length: 3\r\n\r\nabc',
    );
    expect(err.text()).toBe('');
  });

  it('takes multithread and multiprocess options', async () => {
    const out = collect();
    const handler = new BaseCGIHandler(
      new Uint8Array(0),
      out.stream,
      collect().stream,
      {},
      {
        multithread: false,
        multiprocess: true,
      },
    );
    await handler.run((environ, startResponse) => {
      startResponse('200 OK', [
        ['X-Flags', [environ['wsgi.multithread'], environ['wsgi.multiprocess']].join()],
      ]);
      return [];
    });
    expect(out.text()).toBe('Status: 200 OK\r\nX-Flags: false,true\r\nContent-Length: 0\r\n\r\n');
  });
});

describe('new CGIHandler()', () => {
  it('drops the HTTP_CONTENT_TYPE/HTTP_CONTENT_LENGTH copies some servers add', () => {
    process.env['CONTENT_TYPE'] = 'text/plain';
    process.env['HTTP_CONTENT_TYPE'] = 'text/plain';
    process.env['HTTP_CONTENT_LENGTH'] = '5';
    try {
      const handler = new CGIHandler();
      expect(handler.baseEnv['CONTENT_TYPE']).toBe('text/plain');
      expect(handler.baseEnv).not.toHaveProperty('HTTP_CONTENT_TYPE');
      expect(handler.baseEnv).not.toHaveProperty('HTTP_CONTENT_LENGTH');
      expect(new IISCGIHandler().baseEnv).not.toHaveProperty('HTTP_CONTENT_TYPE');
    } finally {
      delete process.env['CONTENT_TYPE'];
      delete process.env['HTTP_CONTENT_TYPE'];
      delete process.env['HTTP_CONTENT_LENGTH'];
    }
  });

  it('reads the environ, keeps HTTP_PROXY there and removes it from process.env', () => {
    process.env['HTTP_PROXY'] = 'http://attacker.invalid:3128';
    process.env['PATH_INFO'] = '/caf\u00e9';
    try {
      const handler = new CGIHandler();
      expect(handler).toBeInstanceOf(BaseCGIHandler);
      expect(handler.baseEnv['HTTP_PROXY']).toBe('http://attacker.invalid:3128');
      expect(handler.baseEnv['PATH_INFO']).toBe('/caf\u00c3\u00a9');
      expect(process.env['HTTP_PROXY']).toBeUndefined();
      expect(handler.osEnviron).toEqual({});
      expect([handler.wsgiRunOnce, handler.wsgiMultithread, handler.wsgiMultiprocess]).toEqual([
        true,
        false,
        true,
      ]);
      expect(handler.stdout).toBe(process.stdout);
      const iis = new IISCGIHandler();
      expect(iis).not.toBeInstanceOf(CGIHandler);
      expect(iis.wsgiRunOnce).toBe(true);
    } finally {
      delete process.env['HTTP_PROXY'];
      delete process.env['PATH_INFO'];
    }
  });
});
