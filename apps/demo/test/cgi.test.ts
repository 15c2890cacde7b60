// cgi-bin/demo.cgi run the way a web server runs it: a child process with the request in its
// environment (RFC 3875 §4.1) and body on stdin, the response on stdout (§6).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { ERROR_ROUTE_MESSAGE, SAMPLE_FILES_DIR } from '../src/app.ts';
import { multipart, tableRows } from './_http.ts';

const SCRIPT = fileURLToPath(new URL('../cgi-bin/demo.cgi', import.meta.url));
const BUILT = fileURLToPath(new URL('../dist/cgi.js', import.meta.url));

interface CgiResult {
  status: string;
  headers: Map<string, string>;
  body: Buffer;
  stderr: string;
  code: number | null;
}

function runCgi(vars: Record<string, string>, stdin: Buffer = Buffer.alloc(0)): Promise<CgiResult> {
  expect(existsSync(BUILT), 'dist/cgi.js is missing: run `pnpm build` first').toBe(true);
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'test',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '/cgi-bin/demo.cgi',
    QUERY_STRING: '',
    ...vars,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(SCRIPT, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const raw = Buffer.concat(out);
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) {
        reject(new Error(`no CGI header block; stderr: ${stderr}`));
        return;
      }
      const headers = new Map<string, string>();
      for (const line of raw.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
      }
      resolve({
        status: headers.get('status') ?? '',
        headers,
        body: raw.subarray(end + 4),
        stderr,
        code,
      });
    });
    child.stdin.end(stdin);
  });
}

describe('cgi-bin/demo.cgi', { timeout: 20_000 }, () => {
  it('serves the home page with links under SCRIPT_NAME', async () => {
    for (const pathInfo of ['', '/']) {
      const res = await runCgi({ PATH_INFO: pathInfo });
      expect(res.status).toBe('200 OK');
      expect(res.code).toBe(0);
      const page = res.body.toString();
      expect(page).toContain('href="/cgi-bin/demo.cgi/upload"');
      expect(page).toContain('action="/cgi-bin/demo.cgi/hello"');
      expect(Number(res.headers.get('content-length'))).toBe(res.body.length);
      expect(res.stderr).toBe(''); // no validator warning, no log
    }
  });

  it('runs /hello and /environ with CGI semantics', async () => {
    const hello = await runCgi({ PATH_INFO: '/hello', QUERY_STRING: 'name=CGI' });
    expect(hello.body.toString()).toBe('Hello, CGI!\n');
    const environ = (await runCgi({ PATH_INFO: '/environ' })).body.toString();
    expect(environ).toContain('wsgi.run_once = true');
    expect(environ).toContain("SCRIPT_NAME = '/cgi-bin/demo.cgi'");
  });

  it('sends a sample file through wsgi.file_wrapper, UTF-8 name included', async () => {
    const res = await runCgi({ PATH_INFO: '/files/caf\u00e9.txt' }); // the raw UTF-8 bytes, as a server passes them
    expect(res.status).toBe('200 OK');
    const expected = await readFile(join(SAMPLE_FILES_DIR, 'café.txt'));
    expect(res.headers.get('content-length')).toBe(String(expected.length));
    expect(res.body.equals(expected)).toBe(true);
  });

  it.each(['/files/../package.json', '/files/..\\package.json', '/files//etc/passwd'])(
    'refuses %s',
    async (pathInfo) => {
      const res = await runCgi({ PATH_INFO: pathInfo });
      expect(res.status).toMatch(/^40[04] /);
      expect(res.body.toString()).not.toContain('"name"');
      expect(res.body.toString()).not.toContain('root:');
    },
  );

  it('hashes an upload read from stdin', async () => {
    const data = randomBytes(300_000);
    const body = multipart('cgi-b', [
      { name: 'note', data: 'via CGI' },
      { name: 'file', filename: 'r.bin', data },
    ]);
    const res = await runCgi(
      {
        REQUEST_METHOD: 'POST',
        PATH_INFO: '/upload',
        CONTENT_TYPE: 'multipart/form-data; boundary=cgi-b',
        CONTENT_LENGTH: String(body.length),
        // lighttpd's copies of the two headers, which PEP 3333 forbids: the entry drops them.
        HTTP_CONTENT_TYPE: 'multipart/form-data; boundary=cgi-b',
        HTTP_CONTENT_LENGTH: String(body.length),
      },
      body,
    );
    expect(res.status).toBe('200 OK');
    const page = res.body.toString();
    expect(tableRows(page, 'files')).toEqual([
      [
        'file',
        'r.bin',
        'text/plain',
        String(data.length),
        createHash('sha256').update(data).digest('hex'),
      ],
    ]);
    expect(tableRows(page, 'fields')).toEqual([['note', 'via CGI']]);
  });

  it('answers 413 past UPLOAD_LIMIT without reading the body', async () => {
    const res = await runCgi(
      {
        REQUEST_METHOD: 'POST',
        PATH_INFO: '/upload',
        CONTENT_TYPE: 'application/x-www-form-urlencoded',
        CONTENT_LENGTH: '5000',
        UPLOAD_LIMIT: '1000',
      },
      Buffer.alloc(5000, 0x61),
    );
    expect(res.status).toBe('413 Content Too Large');
  });

  it('answers /error with a 500 and puts the stack on stderr only', async () => {
    const res = await runCgi({ PATH_INFO: '/error' });
    expect(res.status).toBe('500 Internal Server Error');
    expect(res.body.toString()).toBe('A server error occurred.  Please contact the administrator.');
    expect(res.stderr).toContain(ERROR_ROUTE_MESSAGE);
    expect(res.stderr).toMatch(/\n\s+at /);
  });
});
