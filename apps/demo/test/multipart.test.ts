import { createHash } from 'node:crypto';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { MultipartError, MultipartParser } from '../src/_multipart.ts';

interface Part {
  headers: Record<string, string>;
  body: Buffer;
}

function body(
  boundary: string,
  parts: Array<{ headers: string[]; body: Buffer | string }>,
  epilogue = '',
): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    pieces.push(
      Buffer.from(`--${boundary}\r\n${part.headers.map((h) => `${h}\r\n`).join('')}\r\n`),
    );
    pieces.push(Buffer.from(part.body));
    pieces.push(Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n${epilogue}`));
  return Buffer.concat(pieces);
}

function parse(
  boundary: string,
  chunks: Iterable<Uint8Array>,
  maxHeaderSize?: number,
): { parts: Part[]; maxBuffered: number } {
  const parts: Part[] = [];
  let current: { headers: Record<string, string>; chunks: Buffer[] } | undefined;
  let maxBuffered = 0;
  const parser = new MultipartParser(
    boundary,
    {
      onPart(headers) {
        expect(current).toBeUndefined();
        current = { headers: Object.fromEntries(headers), chunks: [] };
      },
      onData(data) {
        expect(data.length).toBeGreaterThan(0);
        if (!current) throw new Error('data outside a part');
        current.chunks.push(Buffer.from(data));
      },
      onPartEnd() {
        if (!current) throw new Error('end outside a part');
        parts.push({ headers: current.headers, body: Buffer.concat(current.chunks) });
        current = undefined;
      },
    },
    maxHeaderSize === undefined ? {} : { maxHeaderSize },
  );
  for (const chunk of chunks) {
    parser.write(chunk);
    maxBuffered = Math.max(maxBuffered, parser.buffered);
  }
  parser.end();
  return { parts, maxBuffered };
}

function splitAt(data: Buffer, cuts: number[]): Buffer[] {
  const sorted = [...new Set(cuts.map((c) => Math.min(c, data.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const cut of sorted) {
    out.push(data.subarray(last, cut));
    last = cut;
  }
  out.push(data.subarray(last));
  return out;
}

const B = '----WebKitFormBoundaryu7mCMBmuiBbRV1vE';
const SAMPLE = body(
  B,
  [
    { headers: ['Content-Disposition: form-data; name="note"'], body: 'héllo <world>' },
    {
      headers: [
        'Content-Disposition: form-data; name="file"; filename="a.bin"',
        'Content-Type: application/octet-stream',
      ],
      // Looks like a delimiter, but is not one: no boundary after the dashes.
      body: Buffer.from(`\r\n--${B.slice(0, -1)}X\r\n--\r\n\r\n-`),
    },
    { headers: ['Content-Disposition: form-data; name="empty"; filename=""'], body: '' },
  ],
  'epilogue ignored',
);

describe('MultipartParser', () => {
  it('parses fields, files and empty parts in one chunk', () => {
    const { parts } = parse(B, [SAMPLE]);
    expect(parts.map((p) => p.headers['content-disposition'])).toEqual([
      'form-data; name="note"',
      'form-data; name="file"; filename="a.bin"',
      'form-data; name="empty"; filename=""',
    ]);
    expect(parts[0]?.body.toString('utf8')).toBe('héllo <world>');
    expect(parts[1]?.headers['content-type']).toBe('application/octet-stream');
    expect(parts[1]?.body.toString('latin1')).toBe(`\r\n--${B.slice(0, -1)}X\r\n--\r\n\r\n-`);
    expect(parts[2]?.body.length).toBe(0);
  });

  it('gives the same result for every split of the body into two and three chunks', () => {
    const whole = parse(B, [SAMPLE]).parts;
    for (let i = 0; i <= SAMPLE.length; i++) {
      expect(parse(B, splitAt(SAMPLE, [i])).parts).toEqual(whole);
    }
    for (let i = 0; i <= SAMPLE.length; i += 7) {
      for (let j = i; j <= SAMPLE.length; j += 5) {
        expect(parse(B, splitAt(SAMPLE, [i, j])).parts).toEqual(whole);
      }
    }
  });

  it('parses byte by byte', () => {
    const bytes = [...SAMPLE].map((b) => Uint8Array.of(b));
    expect(parse(B, bytes).parts).toEqual(parse(B, [SAMPLE]).parts);
  });

  it('round-trips random file contents under random chunking (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(2000), { maxLength: 12 }),
        (files, cuts) => {
          // Mix in bytes that often start a delimiter, so partial matches get exercised.
          const bodies = files.map((f) =>
            Buffer.concat([Buffer.from('\r\n--'), Buffer.from(f), Buffer.from('\r')]),
          );
          const data = body(
            'xyz',
            bodies.map((b, i) => ({
              headers: [`Content-Disposition: form-data; name="f${i}"; filename="f${i}"`],
              body: b,
            })),
          );
          const { parts } = parse('xyz', splitAt(data, cuts));
          expect(parts.map((p) => p.body)).toEqual(bodies);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('accepts a preamble, transport padding, folded headers and a part without headers', () => {
    const data = Buffer.from(
      `This is the preamble.\r\n--b  \t\r\nContent-Disposition: form-data;\r\n name="x"\r\n\r\nv\r\n--b\r\n\r\nbare\r\n--b--`,
    );
    const { parts } = parse('b', [data]);
    expect(parts).toEqual([
      { headers: { 'content-disposition': 'form-data; name="x"' }, body: Buffer.from('v') },
      { headers: {}, body: Buffer.from('bare') },
    ]);
  });

  it('holds at most one chunk tail while streaming a large file', () => {
    const chunk = Buffer.alloc(64 * 1024, 0x2d); // dashes: many near-misses of the delimiter
    const head = Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="f"; filename="big"\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${B}--\r\n`);
    const hash = createHash('sha256');
    let size = 0;
    let maxBuffered = 0;
    const parser = new MultipartParser(B, {
      onPart() {},
      onData(data) {
        size += data.length;
        hash.update(data);
      },
      onPartEnd() {},
    });
    const expected = createHash('sha256');
    parser.write(head);
    for (let i = 0; i < 256; i++) {
      parser.write(chunk); // 16 MiB in all
      expected.update(chunk);
      maxBuffered = Math.max(maxBuffered, parser.buffered);
    }
    parser.write(tail);
    parser.end();
    expect(size).toBe(256 * chunk.length);
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
    expect(maxBuffered).toBeLessThan(B.length + 4);
  });

  it.each([
    [
      'no closing delimiter',
      `--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nvalue`,
      'ERR_MULTIPART_TRUNCATED',
    ],
    ['no delimiter at all', 'just some text', 'ERR_MULTIPART_TRUNCATED'],
    ['an empty body', '', 'ERR_MULTIPART_TRUNCATED'],
    ['headers never ending', `--b\r\nContent-Disposition: form-data`, 'ERR_MULTIPART_TRUNCATED'],
    ['garbage after a boundary', `--b\r\n\r\nx\r\n--bogus\r\n`, 'ERR_MULTIPART_DELIMITER'],
    [
      'a header line without a colon',
      `--b\r\nnot a header\r\n\r\nx\r\n--b--`,
      'ERR_MULTIPART_HEADERS',
    ],
    [
      'LF-only line ends',
      `--b\nContent-Disposition: form-data; name="x"\n\nv\n--b--\n`,
      'ERR_MULTIPART_DELIMITER',
    ],
  ])('refuses %s', (_, text, code) => {
    expect(() => parse('b', [Buffer.from(text)])).toThrow(
      expect.objectContaining({ code, name: 'MultipartError' }),
    );
  });

  it('refuses a header block over the limit, even when it arrives in small chunks', () => {
    const data = Buffer.from(`--b\r\nX-Long: ${'a'.repeat(200)}\r\n\r\nv\r\n--b--`);
    const chunks = splitAt(
      data,
      Array.from({ length: 30 }, (_, i) => i * 8),
    );
    expect(() => parse('b', chunks, 100)).toThrow(
      expect.objectContaining({ code: 'ERR_MULTIPART_HEADERS_TOO_LARGE' }),
    );
    expect(parse('b', chunks, 300).parts).toHaveLength(1);
  });

  it.each(['', 'a'.repeat(71), 'ends with space ', 'quote"', 'semi;colon', 'é'])(
    'refuses the boundary %j',
    (boundary) => {
      expect(
        () => new MultipartParser(boundary, { onPart() {}, onData() {}, onPartEnd() {} }),
      ).toThrow(MultipartError);
    },
  );

  it('ignores data after the closing delimiter', () => {
    const parser = new MultipartParser('b', {
      onPart() {},
      onData() {
        throw new Error('no data expected');
      },
      onPartEnd() {},
    });
    parser.write(Buffer.from('--b--'));
    expect(parser.done).toBe(true);
    parser.write(Buffer.from('\r\n--b\r\n\r\nignored'));
    parser.end();
  });
});
