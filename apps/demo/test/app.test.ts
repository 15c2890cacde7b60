import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { ERROR_ROUTE_MESSAGE, SAMPLE_FILES_DIR, createDemoApp } from '../src/app.ts';
import {
  fetchTimed,
  multipart,
  parseResponse,
  rawGet,
  rawRequest,
  repeatedFileUpload,
  serve,
  tableRows,
  type Served,
} from './_http.ts';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const text = (body: Buffer): string => body.toString('utf8');

let served: Served;
const warnings: Error[] = [];

beforeAll(async () => {
  served = await serve(createDemoApp({ onWarning: (w) => warnings.push(w) }), {
    maxBodySize: 64 * 1024 * 1024,
  });
});

afterAll(async () => {
  await served.close();
  await served.close(); // twice: must be safe
  // Every route went through the validator; a valid app draws no warning.
  expect(warnings.map((w) => w.message)).toEqual([]);
});

describe('/', () => {
  it('is an HTML page linking to every route', async () => {
    const res = await rawGet(served.port, '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(Number(res.headers.get('content-length'))).toBe(res.body.length);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const links = [...text(res.body).matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
    for (const route of ['/hello', '/environ', '/upload', '/files/', '/stream', '/error']) {
      expect(links).toContain(route);
    }
    expect(text(res.body)).toContain('enctype="multipart/form-data"');
  });

  it('answers HEAD with the headers only', async () => {
    const get = await rawGet(served.port, '/');
    const head = await rawGet(served.port, '/', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
  });

  it('refuses other methods with 405 and Allow', async () => {
    const res = await rawGet(served.port, '/', 'DELETE');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('/hello', () => {
  it('is plain text', async () => {
    const res = await rawGet(served.port, '/hello');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(text(res.body)).toBe('Hello, world!\n');
  });

  it('greets the name from the query string, decoded as UTF-8', async () => {
    expect(text((await rawGet(served.port, '/hello?name=%C3%89lodie+B')).body)).toBe(
      'Hello, Élodie B!\n',
    );
  });

  it('never lets a browser sniff it as HTML', async () => {
    const res = await rawGet(served.port, '/hello?name=%3Cscript%3E');
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('/environ', () => {
  it('is demoApp: Hello world! and the sorted environ', async () => {
    const res = await rawGet(served.port, '/environ?x=1');
    expect(res.status).toBe(200);
    const lines = text(res.body).split('\n');
    expect(lines.slice(0, 2)).toEqual(['Hello world!', '']);
    const pairs = lines.slice(2).filter((l) => l.includes(' = '));
    expect(pairs).toContain("PATH_INFO = '/environ'");
    expect(pairs).toContain("QUERY_STRING = 'x=1'");
    expect(pairs).toContain("REQUEST_METHOD = 'GET'");
    const keys = pairs.map((l) => l.slice(0, l.indexOf(' = ')));
    expect(keys).toEqual([...keys].sort());
  });
});

describe('/upload', () => {
  it('shows the two forms', async () => {
    const res = await rawGet(served.port, '/upload');
    expect(res.status).toBe(200);
    expect(text(res.body)).toContain('enctype="multipart/form-data"');
    expect(text(res.body)).toMatch(/<form method="post" action="\/upload">/);
  });

  it('streams a multipart upload: fields escaped, each file sized and hashed', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const small = Buffer.from('tiny\r\n--not-a-boundary\r\n');
    const body = multipart('XyZ-boundary', [
      { name: 'note', data: '<b>bold</b> & "quoted" — é' },
      { name: 'file', filename: 'big.bin', type: 'application/octet-stream', data: big },
      {
        name: 'file',
        filename: '<img src=x onerror=alert(1)>.txt',
        type: 'text/plain',
        data: small,
      },
      { name: 'file', filename: '', type: 'application/octet-stream', data: '' },
    ]);
    const res = await fetchTimed(served.port, '/upload', {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=XyZ-boundary' },
      body,
    });
    expect(res.status).toBe(200);
    const page = text(res.body);
    expect(page).toContain('&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; — é');
    expect(page).not.toContain('<b>bold');
    expect(page).not.toContain('<img');
    expect(tableRows(page, 'fields')).toEqual([
      ['note', '&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; — é'],
    ]);
    expect(tableRows(page, 'files')).toEqual([
      ['file', 'big.bin', 'application/octet-stream', String(big.length), sha256(big)],
      [
        'file',
        '&lt;img src=x onerror=alert(1)&gt;.txt',
        'text/plain',
        String(small.length),
        sha256(small),
      ],
      ['file', '(no file chosen)', 'application/octet-stream', '0', sha256(Buffer.alloc(0))],
    ]);
    expect(page).toContain('(no file chosen)');
    expect(page).toContain(`Read ${body.length} bytes`);
  });

  it('streams a chunked upload with no Content-Length', async () => {
    const upload = repeatedFileUpload('s.bin', randomBytes(256 * 1024), 20);
    const res = await fetchTimed(served.port, '/upload', {
      method: 'POST',
      headers: upload.headers,
      body: upload.body,
    });
    expect(res.status).toBe(200);
    expect(tableRows(text(res.body), 'files')).toEqual([
      ['f', 's.bin', 'text/plain', String(upload.size), upload.sha256],
    ]);
  });

  it('reads urlencoded forms', async () => {
    const res = await fetchTimed(served.port, '/upload', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: Buffer.from('name=Ada+%3Cscript%3E&comment=caf%C3%A9%0Aline+2'),
    });
    expect(res.status).toBe(200);
    const page = text(res.body);
    expect(tableRows(page, 'fields')).toEqual([
      ['name', 'Ada &lt;script&gt;'],
      ['comment', 'café\nline 2'],
    ]);
    expect(page).toContain('No files.');
  });

  it.each([
    ['multipart without a boundary', 'multipart/form-data', 'x', 400],
    ['an invalid boundary', 'multipart/form-data; boundary="a;b"', '--a;b--', 400],
    [
      'a truncated multipart body',
      'multipart/form-data; boundary=b',
      '--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nva',
      400,
    ],
    ['a malformed delimiter', 'multipart/form-data; boundary=b', '--b\r\n\r\nx\r\n--bx', 400],
    ['an unsupported type', 'text/plain', 'hello', 415],
    ['no Content-Type', '', 'hello', 415],
  ])('answers %s with an error page', async (_, type, body, status) => {
    const headers: Record<string, string> = type ? { 'Content-Type': type } : {};
    const res = await fetchTimed(served.port, '/upload', {
      method: 'POST',
      headers,
      body: Buffer.from(body),
    });
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('refuses PUT with 405', async () => {
    const res = await fetchTimed(served.port, '/upload', { method: 'PUT', body: Buffer.from('x') });
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('GET, HEAD, POST');
  });
});

describe('/upload limits', () => {
  let limited: Served;
  beforeAll(async () => {
    const app = createDemoApp({ uploadLimit: 10_000, fieldsLimit: 100, maxParts: 3 });
    // The server's own limit is higher, so these answers come from the application.
    limited = await serve(app, { maxBodySize: 1024 * 1024 });
  });
  afterAll(() => limited.close());

  const post = (
    type: string,
    body: Buffer | Iterable<Buffer>,
    headers: Record<string, string> = {},
  ) =>
    fetchTimed(limited.port, '/upload', {
      method: 'POST',
      headers: { 'Content-Type': type, ...headers },
      body,
    });

  it('accepts an upload just under the limit', async () => {
    const data = Buffer.alloc(9_000, 1);
    const res = await post(
      'multipart/form-data; boundary=b',
      multipart('b', [{ name: 'f', filename: 'f', data }]),
    );
    expect(res.status).toBe(200);
    expect(text(res.body)).toContain(sha256(data));
  });

  it('answers 413 from the Content-Length before reading the body', async () => {
    const res = await post(
      'multipart/form-data; boundary=b',
      multipart('b', [{ name: 'f', filename: 'f', data: Buffer.alloc(20_000) }]),
    );
    expect(res.status).toBe(413);
    expect(text(res.body)).toContain('limited to 10000 bytes');
  });

  it('answers 413 to a chunked body that grows past the limit', async () => {
    const upload = repeatedFileUpload('f', Buffer.alloc(4096, 7), 8);
    const res = await fetchTimed(limited.port, '/upload', {
      method: 'POST',
      headers: upload.headers,
      body: upload.body,
    });
    expect(res.status).toBe(413);
  });

  it('answers 413 when the fields together are too large', async () => {
    const res = await post(
      'multipart/form-data; boundary=b',
      multipart('b', [{ name: 'a', data: 'x'.repeat(101) }]),
    );
    expect(res.status).toBe(413);
    const url = await post(
      'application/x-www-form-urlencoded',
      Buffer.from(`a=${'x'.repeat(200)}`),
    );
    expect(url.status).toBe(413);
  });

  it('answers 413 to too many parts', async () => {
    const parts = Array.from({ length: 4 }, (_, i) => ({ name: `p${i}`, data: 'v' }));
    expect((await post('multipart/form-data; boundary=b', multipart('b', parts))).status).toBe(413);
    expect(
      (await post('multipart/form-data; boundary=b', multipart('b', parts.slice(1)))).status,
    ).toBe(200);
  });

  it('rejects bad options', () => {
    expect(() => createDemoApp({ uploadLimit: -1 })).toThrow(RangeError);
    expect(() => createDemoApp({ fieldsLimit: 1.5 })).toThrow(RangeError);
  });
});

describe('/files', () => {
  it('lists the sample folder, without hidden files', async () => {
    const res = await rawGet(served.port, '/files/');
    expect(res.status).toBe(200);
    const page = text(res.body);
    const names = (await readdir(SAMPLE_FILES_DIR)).filter((n) => !n.startsWith('.'));
    expect(names.length).toBeGreaterThan(2);
    for (const name of names) expect(page).toContain(`>${name}</a>`);
    expect(page).toContain('href="/files/caf%C3%A9.txt"');
    expect(page).not.toContain('.hidden');
  });

  it.each([
    ['hello.txt', 'text/plain; charset=utf-8'],
    ['about.html', 'text/html; charset=utf-8'],
    ['data.json', 'application/json'],
    ['logo.svg', 'image/svg+xml'],
  ])('serves %s as %s with its Content-Length', async (name, type) => {
    const expected = await readFile(join(SAMPLE_FILES_DIR, name));
    const res = await rawGet(served.port, `/files/${name}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('content-length')).toBe(String(expected.length));
    expect(res.headers.has('transfer-encoding')).toBe(false);
    expect(res.body.equals(expected)).toBe(true);
  });

  it('serves a UTF-8 file name that PATH_INFO carries as latin-1', async () => {
    const res = await rawGet(served.port, '/files/caf%C3%A9.txt');
    expect(res.status).toBe(200);
    expect(res.body.equals(await readFile(join(SAMPLE_FILES_DIR, 'café.txt')))).toBe(true);
  });

  it('answers HEAD with the length and no body', async () => {
    const res = await rawGet(served.port, '/files/hello.txt', 'HEAD');
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(0);
    expect(res.body.length).toBe(0);
  });

  it.each([
    '/files/missing.txt',
    '/files/.hidden',
    '/files/%252e%252e%252fapp.test.ts',
    '/files/caf%E9.txt',
  ])('%s is 404', async (target) => {
    const res = await rawGet(served.port, target);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('refuses POST with 405', async () => {
    expect((await rawGet(served.port, '/files/hello.txt', 'POST')).status).toBe(405);
  });
});

describe('/stream', { timeout: 20_000 }, () => {
  it('sends a line every 100 ms for 2 s, chunked, as it goes', async () => {
    const res = await fetchTimed(served.port, '/stream');
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    const lines = text(res.body).trimEnd().split('\n');
    expect(lines).toHaveLength(20);
    lines.forEach((line, i) => {
      expect(line).toMatch(new RegExp(`^line ${i + 1} of 20 at \\d+ ms$`));
    });
    const first = res.chunks[0]?.at ?? Infinity;
    const last = res.chunks.at(-1)?.at ?? 0;
    expect(first).toBeLessThan(1000); // the first line is not held back until the end
    expect(last).toBeGreaterThanOrEqual(1900);
    expect(res.chunks.length).toBeGreaterThanOrEqual(10); // arrived in many pieces
  });
});

describe('/stream pace options', () => {
  it('follows streamInterval and streamCount', async () => {
    const quick = await serve(createDemoApp({ streamInterval: 10, streamCount: 3 }));
    try {
      const res = await fetchTimed(quick.port, '/stream');
      expect(res.body.toString().trimEnd().split('\n')).toEqual([
        expect.stringMatching(/^line 1 of 3 at \d+ ms$/),
        expect.stringMatching(/^line 2 of 3 at \d+ ms$/),
        expect.stringMatching(/^line 3 of 3 at \d+ ms$/),
      ]);
    } finally {
      await quick.close();
    }
  });
});

describe('/error', () => {
  it('shows the 500 page and keeps the stack for the log', async () => {
    const logged: string[] = [];
    const spy = vi
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        logged.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
        return true;
      });
    let res;
    try {
      res = await rawGet(served.port, '/error');
    } finally {
      spy.mockRestore();
    }
    expect(res.status).toBe(500);
    expect(text(res.body)).toBe('A server error occurred.  Please contact the administrator.');
    expect(text(res.body)).not.toContain('failed on purpose');
    expect(res.body.toString()).not.toMatch(/\bat .*\.ts:\d+/);
    const log = logged.join('');
    expect(log).toContain(ERROR_ROUTE_MESSAGE);
    expect(log).toMatch(/\n\s+at /);
  });
});

describe('/favicon.ico', () => {
  it('is a small SVG icon', async () => {
    const res = await rawGet(served.port, '/favicon.ico');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
    expect(res.body.toString()).toMatch(/^<svg [\s\S]*<\/svg>$/);
  });
});

describe('unknown paths', () => {
  it('are a 404 page with the path escaped', async () => {
    const res = await rawGet(served.port, '/nope/%3Cscript%3Ealert(1)%3C/script%3E');
    expect(res.status).toBe(404);
    const page = text(res.body);
    expect(page).toContain('/nope/&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('<script>');
  });

  it('keeps a pipelined keep-alive connection usable after a 404', async () => {
    const raw = await rawRequest(
      served.port,
      'GET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const second = raw.indexOf('HTTP/1.1 200');
    expect(parseResponse(raw.subarray(0, second)).status).toBe(404);
    expect(text(parseResponse(raw.subarray(second)).body)).toBe('Hello, world!\n');
  });
});
