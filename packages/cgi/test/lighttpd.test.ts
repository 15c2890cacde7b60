/**
 * End to end: the example application as a CGI script under a real lighttpd, through our
 * CGIHandler and through Python's, with the same requests; both must answer alike.
 */
import { createHash, randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HAS_PYTHON } from './_cgi.ts';
import { comparable, exchange, header, parseResponse, request } from './_http.ts';
import type { Reply, RequestOptions } from './_http.ts';
import { LEAKED_PROXY, PYTHON_HOST, lighttpdPath, startLighttpd } from './_lighttpd.ts';
import type { Lighttpd } from './_lighttpd.ts';

const CI = process.env['CI'] !== undefined && process.env['CI'] !== '';
const LIGHTTPD = lighttpdPath();
const MIB = 1 << 20;
const ERROR_BODY = 'A server error occurred.  Please contact the administrator.';

if (LIGHTTPD === undefined && !CI) {
  console.warn(
    'SKIPPED: the @wsgi/cgi end-to-end tests need lighttpd (apt-get install lighttpd); CI runs them.',
  );
}
if (!HAS_PYTHON && !CI) {
  console.warn(
    'SKIPPED: the comparisons with Python need /root/.pyenv/versions/3.11.7/bin/python3.',
  );
}
const comparePython = HAS_PYTHON || CI;

/** The bytes of block `index` of the example's `/stream` route. */
function block(index: number): Buffer {
  const pattern = Buffer.alloc(256);
  for (let j = 0; j < 256; j++) pattern[j] = (index * 7 + j) % 256;
  return Buffer.alloc(MIB, pattern);
}

function lines(reply: Reply): string[] {
  return reply.body.toString('latin1').split('\n');
}

describe.skipIf(LIGHTTPD === undefined && !CI)('CGIHandler under lighttpd', () => {
  let server: Lighttpd | undefined;

  beforeAll(async () => {
    if (LIGHTTPD === undefined) throw new Error('lighttpd is not installed, and CI needs it');
    server = await startLighttpd(LIGHTTPD);
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
    await server?.stop();
  });

  function port(): number {
    if (server === undefined) throw new Error('lighttpd is not running');
    return server.port;
  }

  async function errorLog(): Promise<string> {
    if (server === undefined) throw new Error('lighttpd is not running');
    return server.readErrorLog();
  }

  /** Sends the request to our application, then to Python's, and checks both answer alike. */
  async function both(path: string, options: RequestOptions = {}): Promise<Reply> {
    const ours = await request(port(), path, options);
    if (comparePython) {
      const headers = { ...options.headers, Host: PYTHON_HOST };
      const python = await request(port(), path, { ...options, headers });
      expectSame(ours, python);
    }
    return ours;
  }

  function expectSame(ours: Reply, python: Reply): void {
    expect(ours.status).toBe(python.status);
    expect(ours.reason).toBe(python.reason);
    expect(comparable(ours.headers)).toEqual(comparable(python.headers));
    expect(ours.body.equals(python.body), 'the bodies differ').toBe(true);
  }

  /** How many progress lines the example application logged for the request with this id. */
  async function progress(id: string, what: string): Promise<number> {
    return (await errorLog()).split(`example-app ${id} ${what}`).length - 1;
  }

  it('answers a GET with a query, with the CGI variables and wsgi flags', async () => {
    const reply = await both('/cgi-bin/app.cgi?x=1&y=%C3%A9+z', { headers: { 'X-Test': 'yes' } });
    expect(reply.status).toBe(200);
    expect(header(reply, 'Content-Type')).toBe('text/plain');
    expect(header(reply, 'X-Example')).toBe('cgi');
    expect(header(reply, 'Content-Length')).toBe(String(reply.body.length));
    expect(lines(reply)).toEqual([
      'REQUEST_METHOD=GET',
      'SCRIPT_NAME=/cgi-bin/app.cgi',
      'PATH_INFO=-',
      'QUERY_STRING=x=1&y=%C3%A9+z',
      'CONTENT_TYPE=-',
      'CONTENT_LENGTH=0',
      'HTTP_PROXY=-',
      'HTTP_X_TEST=yes',
      'wsgi.url_scheme=http',
      'wsgi.multithread=0',
      'wsgi.multiprocess=1',
      'wsgi.run_once=1',
      'wsgi.version=1.0',
      '',
    ]);
  });

  it('answers a hello request within a CGI process start-up', async () => {
    const median = async (host?: string): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        const started = performance.now();
        const reply = await request(port(), '/cgi-bin/app.cgi/hello', {
          headers: host === undefined ? {} : { Host: host },
        });
        times.push(performance.now() - started);
        expect(reply.status).toBe(200);
      }
      return times.sort((a, b) => a - b)[3] ?? NaN;
    };
    const ours = await median();
    expect(ours).toBeLessThan(2000);
    const python = comparePython ? (await median(PYTHON_HOST)).toFixed(0) : '-';
    console.info(
      `hello over lighttpd, median of 7: @wsgi/cgi ${ours.toFixed(0)} ms, Python ${python} ms`,
    );
  });

  it('splits /cgi-bin/app.cgi/a/b into SCRIPT_NAME and PATH_INFO', async () => {
    const reply = await both('/cgi-bin/app.cgi/a/b');
    expect(lines(reply).slice(1, 3)).toEqual(['SCRIPT_NAME=/cgi-bin/app.cgi', 'PATH_INFO=/a/b']);
  });

  it('delivers a percent-encoded non-ASCII path byte for byte in PATH_INFO', async () => {
    const reply = await both('/cgi-bin/app.cgi/caf%C3%A9/%FF%20%E2%82%AC');
    const expected = Buffer.from([
      ...Buffer.from('PATH_INFO=/caf'),
      0xc3,
      0xa9,
      0x2f,
      0xff,
      0x20,
      0xe2,
      0x82,
      0xac,
      0x0a,
    ]);
    expect(reply.body.includes(expected)).toBe(true);
  });

  it('passes a small POST body and its CONTENT_TYPE and CONTENT_LENGTH', async () => {
    const body = Buffer.from('name=value&caf\u00e9=1', 'utf8');
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const echo = await both('/cgi-bin/app.cgi/echo', { method: 'POST', headers, body });
    expect(lines(echo)).toContain('CONTENT_TYPE=application/x-www-form-urlencoded');
    expect(lines(echo)).toContain(`CONTENT_LENGTH=${body.length}`);
    const post = await both('/cgi-bin/app.cgi/post', { method: 'POST', headers, body });
    expect(post.status).toBe(200);
    expect(post.body.toString('latin1')).toBe(
      `length=${body.length}\nsha256=${createHash('sha256').update(body).digest('hex')}\n` +
        `head=${body.toString('latin1')}\n`,
    );
  });

  it('passes a 10 MiB POST body to the application', async () => {
    const body = randomBytes(10 * MIB);
    const headers = { 'Content-Type': 'application/octet-stream' };
    const reply = await both('/cgi-bin/app.cgi/post', { method: 'POST', headers, body });
    expect(lines(reply).slice(0, 2)).toEqual([
      `length=${body.length}`,
      `sha256=${createHash('sha256').update(body).digest('hex')}`,
    ]);
  });

  it('gives the application only CONTENT_LENGTH bytes when more were sent', async () => {
    const send = async (host: string): Promise<Reply> =>
      parseResponse(
        await exchange(
          port(),
          Buffer.from(
            `POST /cgi-bin/app.cgi/post HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/plain\r\n` +
              'Content-Length: 5\r\nConnection: close\r\n\r\nhello, and more than was declared',
          ),
        ),
      );
    const ours = await send('127.0.0.1');
    expect(ours.status).toBe(200);
    expect(ours.body.toString('latin1')).toMatch(/^length=5\n.*\nhead=hello\n$/s);
    if (comparePython) expectSame(ours, await send(PYTHON_HOST));
  });

  it('answers an application error with the 500 page; the stack goes to the error log only', async () => {
    const reply = await both('/cgi-bin/app.cgi/error');
    expect(reply.status).toBe(500);
    expect(reply.reason).toBe('Internal Server Error');
    expect(header(reply, 'Content-Type')).toBe('text/plain');
    expect(header(reply, 'Content-Length')).toBe(String(ERROR_BODY.length));
    expect(reply.body.toString('latin1')).toBe(ERROR_BODY);
    const log = await errorLog();
    expect(log).toMatch(
      /Error: failure in the example application\n\s+at app \(.*example-app\.mjs:\d+:\d+\)/,
    );
  });

  it('passes the status on (lighttpd writes its own reason phrase)', async () => {
    const reply = await both('/cgi-bin/app.cgi/teapot');
    expect(reply.status).toBe(418);
    expect(reply.body.toString('latin1')).toBe('short and stout\n');
  });

  it('streams a 50 MiB response as the client reads it', async () => {
    let producedWhilePaused = -1;
    const reply = await request(port(), '/cgi-bin/app.cgi/stream?50', {
      headers: { 'X-Request-Id': 'stream-50mib' },
      whilePaused: async () => {
        producedWhilePaused = await progress('stream-50mib', 'block=');
      },
    });
    // The client stopped reading: the application waited, only the buffers on the way filled.
    expect(producedWhilePaused).toBeGreaterThan(0);
    expect(producedWhilePaused).toBeLessThan(25);
    expect(await progress('stream-50mib', 'block=')).toBe(50);
    expect(reply.status).toBe(200);
    expect(header(reply, 'Content-Type')).toBe('application/octet-stream');
    expect(header(reply, 'Content-Length')).toBeUndefined();
    expect(header(reply, 'Transfer-Encoding')).toBe('chunked');
    expect(reply.body.length).toBe(50 * MIB);
    const expected = createHash('sha256');
    for (let i = 0; i < 50; i++) expected.update(block(i));
    expect(createHash('sha256').update(reply.body).digest('hex')).toBe(expected.digest('hex'));
    if (comparePython) {
      const python = await request(port(), '/cgi-bin/app.cgi/stream?50', {
        headers: { Host: PYTHON_HOST },
      });
      expectSame(reply, python);
    }
    console.info(`lighttpd: ${producedWhilePaused} of 50 blocks produced while the client paused`);
  });

  it("drops a request's Proxy: header (lighttpd's own httpoxy filter)", async () => {
    const reply = await both('/cgi-bin/app.cgi', {
      headers: { Proxy: 'http://attacker.invalid:3128' },
    });
    expect(lines(reply)).toContain('HTTP_PROXY=-');
  });

  it('keeps HTTP_PROXY from the server in the environ, not in the process (httpoxy)', async () => {
    const echo = await both('/cgi-bin/app.cgi/leaky');
    expect(lines(echo)).toContain(`HTTP_PROXY=${LEAKED_PROXY}`);
    const ours = await request(port(), '/cgi-bin/app.cgi/process-proxy');
    expect(ours.body.toString('latin1')).toBe('-');
    if (comparePython) {
      // Python's CGIHandler leaves it in os.environ, where urllib takes it as the proxy.
      const python = await request(port(), '/cgi-bin/app.cgi/process-proxy', {
        headers: { Host: PYTHON_HOST },
      });
      expect(python.body.toString('latin1')).toBe(LEAKED_PROXY);
    }
  });
});
