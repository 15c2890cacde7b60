import { PassThrough, Readable } from 'node:stream';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { toInputStream } from '../src/index.ts';
import type { InputSource, InputStream } from '../src/index.ts';
import { Reference, chunk, slowChunks, trickle } from './_chunks.ts';
import { sleep, socketPair, until } from './_sockets.ts';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const BODY = 'line one\nline two\n\nlast without newline';

/** Every kind of source, each giving BODY in a different chunking. */
const kinds: Record<string, () => Parameters<typeof toInputStream>[0]> = {
  bytes: () => bytes(BODY),
  'plain Uint8Array': () => new Uint8Array(bytes(BODY)),
  string: () => BODY,
  'iterable of bytes': () => chunk(bytes(BODY), [1, 5, 9, 10, 20]),
  'iterable of strings': () => ['line', ' one\nline two\n', '\nlast without newline'],
  'async iterable': () => slowChunks(chunk(bytes(BODY), [3, 9, 18, 19])).source,
  Readable: () => trickle(chunk(bytes(BODY), [2, 8, 9, 30])),
  'Readable.from': () => Readable.from(chunk(bytes(BODY), [4]), { objectMode: false }),
};

describe('toInputStream() reads every source alike', () => {
  for (const [kind, make] of Object.entries(kinds)) {
    it(`${kind}: read, readline, readlines, iteration`, async () => {
      let input = toInputStream(make());
      expect(text(await input.read())).toBe(BODY);
      expect(await input.read()).toHaveLength(0);

      input = toInputStream(make());
      expect(text(await input.read(0))).toBe('');
      expect(text(await input.read(4))).toBe('line');
      expect(text(await input.readline())).toBe(' one\n');
      expect(text(await input.readline(3))).toBe('lin');
      expect(text(await input.readline(100))).toBe('e two\n');
      expect(text(await input.readline())).toBe('\n');
      expect(text(await input.read(-1))).toBe('last without newline');
      expect(await input.readline()).toHaveLength(0);

      input = toInputStream(make());
      expect((await input.readlines()).map(text)).toEqual([
        'line one\n',
        'line two\n',
        '\n',
        'last without newline',
      ]);

      input = toInputStream(make());
      const lines: string[] = [];
      for await (const line of input) lines.push(text(line));
      expect(lines.join('')).toBe(BODY);
      expect(lines).toHaveLength(4);
    });

    it(`${kind}: stops after contentLength bytes`, async () => {
      const input = toInputStream(make(), { contentLength: 12 });
      expect(text(await input.readline())).toBe('line one\n');
      expect(text(await input.read())).toBe('lin');
      expect(await input.read(5)).toHaveLength(0);
      expect(await input.readlines()).toEqual([]);
    });
  }

  it('readlines(hint) stops once hint bytes are in; 0 or less means all', async () => {
    expect((await toInputStream(BODY).readlines(1)).map(text)).toEqual(['line one\n']);
    expect((await toInputStream(BODY).readlines(9)).map(text)).toEqual(['line one\n']);
    expect(await toInputStream(BODY).readlines(10)).toHaveLength(2);
    expect(await toInputStream(BODY).readlines(0)).toHaveLength(4);
    expect(await toInputStream(BODY).readlines(-3)).toHaveLength(4);
  });

  it('an empty source and contentLength 0 give end-of-input at once', async () => {
    const { source, pulled } = slowChunks([bytes('abc')]);
    const input = toInputStream(source, { contentLength: 0 });
    expect(await input.read()).toHaveLength(0);
    expect(await input.readline()).toHaveLength(0);
    expect(pulled()).toBe(0);
    expect(await toInputStream([]).read()).toHaveLength(0);
    expect(await toInputStream('').readlines()).toEqual([]);
  });

  it('returns a buffered chunk without copying when it holds the whole answer', async () => {
    const data = bytes('abcdef');
    const first = await toInputStream(data).read(3);
    expect(first.buffer).toBe(data.buffer);
    expect(text(first)).toBe('abc');
  });

  it('runs concurrent calls in call order', async () => {
    const input = toInputStream(slowChunks(chunk(bytes(BODY), [1, 2, 3, 11, 12])).source);
    const results = await Promise.all([
      input.read(2),
      input.readline(),
      input.read(0),
      input.readline(4),
      input.readlines(),
    ]);
    expect(results.slice(0, 4).map((r) => text(r as Uint8Array))).toEqual([
      'li',
      'ne one\n',
      '',
      'line',
    ]);
    expect(results[4].map(text)).toEqual([' two\n', '\n', 'last without newline']);
  });
});

describe('toInputStream() never reads past contentLength', () => {
  it('takes no chunk of an iterable it does not need', async () => {
    const { source, pulled } = slowChunks([bytes('abc'), bytes('de'), bytes('NEXT')]);
    const input = toInputStream(source, { contentLength: 5 });
    expect(text(await input.read())).toBe('abcde');
    expect(pulled()).toBe(2);
    expect(await input.read(1)).toHaveLength(0);
    expect(pulled()).toBe(2);
  });

  it('drops the part of a chunk past the length', async () => {
    let pulls = 0;
    function* gen(): Generator<Uint8Array> {
      pulls++;
      yield bytes('abcdefgh');
      pulls++;
      yield bytes('never');
    }
    const input = toInputStream(gen(), { contentLength: 3 });
    expect((await input.readlines()).map(text)).toEqual(['abc']);
    expect(pulls).toBe(1);
  });

  it('leaves the rest of a Readable in the stream', async () => {
    const stream = new PassThrough();
    stream.write(bytes('hello worldGET /next'));
    const input = toInputStream(stream, { contentLength: 11 });
    expect(text(await input.read(5))).toBe('hello');
    expect(text(await input.read())).toBe(' world');
    expect(text(stream.read() as Buffer)).toBe('GET /next');
  });

  it('puts back what a Readable hands over past the length', async () => {
    // A stream that reports nothing buffered and hands everything over in one chunk.
    const stream = new PassThrough();
    Object.defineProperty(stream, 'readableLength', { get: () => 0 });
    stream.write(bytes('abcdefgh'));
    const input = toInputStream(stream, { contentLength: 3 });
    expect(text(await input.read())).toBe('abc');
    expect(text(stream.read() as Buffer)).toBe('defgh');
  });

  it('leaves the next request on a real socket', async () => {
    const pair = await socketPair();
    try {
      const { server: socket, client } = pair;
      client.write('first body');
      await sleep(20);
      client.write('|second body|next request');
      const first = toInputStream(socket, { contentLength: 10 });
      expect(text(await first.read())).toBe('first body');
      const second = toInputStream(socket, { contentLength: 13 });
      expect((await second.readlines()).map(text)).toEqual(['|second body|']);
      const rest = toInputStream(socket, { contentLength: 12 });
      expect(text(await rest.read(3))).toBe('nex');
      expect(text(await rest.read(9))).toBe('t request');
      client.end();
      // Without a length, read to the end of the socket.
      expect(await toInputStream(socket).read()).toHaveLength(0);
    } finally {
      await pair.close();
      await pair.close();
    }
  });
});

describe('toInputStream() failures', () => {
  it('rejects a read that needs bytes of a body cut short, but keeps what came', async () => {
    for (const source of [
      () => bytes('abc'),
      () => 'abc',
      () => [bytes('ab'), bytes('c')],
      () => slowChunks([bytes('ab'), bytes('c')]).source,
      () => trickle([bytes('ab'), bytes('c')]),
    ]) {
      let input = toInputStream(source(), { contentLength: 10 });
      const error = await rejectionOf(input.read());
      expect(error).toBeInstanceOf(Error);
      expect((error as { code?: unknown }).code).toBe('ERR_WSGI_INPUT_TRUNCATED');
      expect((error as Error).message).toMatch(/3 of 10 bytes/);
      expect(text(await input.read(2))).toBe('ab');
      expect(await rejectionOf(input.readline())).toBe(error);
      expect(text(await input.read(1))).toBe('c');
      expect(await rejectionOf(input.read(1))).toBe(error);

      input = toInputStream(source(), { contentLength: 10 });
      expect(await rejectionOf(input.readlines())).toMatchObject({
        code: 'ERR_WSGI_INPUT_TRUNCATED',
      });
    }
  });

  it('rejects with the error of a source that fails midway, and keeps rejecting', async () => {
    const boom = new Error('boom');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield bytes('ab\n');
      await new Promise((resolve) => setImmediate(resolve));
      throw boom;
    }
    let input: InputStream = toInputStream(failing());
    expect(text(await input.readline())).toBe('ab\n');
    expect(await rejectionOf(input.read())).toBe(boom);
    expect(await rejectionOf(input.read(1))).toBe(boom);
    expect(await rejectionOf(input.readline())).toBe(boom);

    function* failingSync(): Generator<Uint8Array> {
      yield bytes('abc');
      throw boom;
    }
    input = toInputStream(failingSync());
    expect(text(await input.read(2))).toBe('ab');
    expect(await rejectionOf(input.read(5))).toBe(boom);
    expect(text(await input.read(1))).toBe('c');

    input = toInputStream(failing());
    const lines: Uint8Array[] = [];
    const iterating = (async () => {
      for await (const line of input) lines.push(line);
    })();
    expect(await rejectionOf(iterating)).toBe(boom);
    expect(lines.map(text)).toEqual(['ab\n']);
  });

  it('rejects a pending read when a Readable is destroyed with an error', async () => {
    const stream = new PassThrough();
    stream.write(bytes('part'));
    const input = toInputStream(stream, { contentLength: 100 });
    const pending = input.read();
    const boom = new Error('socket reset');
    setTimeout(() => stream.destroy(boom), 10);
    expect(await rejectionOf(pending)).toBe(boom);
    expect(await rejectionOf(input.read(5))).toBe(boom);
    expect(text(await input.read(4))).toBe('part');
    expect(await rejectionOf(input.read(1))).toBe(boom);
    // Already errored before the read.
    expect(await rejectionOf(toInputStream(stream).read())).toBe(boom);
  });

  it('treats a Readable destroyed without an error as its end', async () => {
    const stream = new PassThrough();
    stream.write(bytes('part'));
    const pending = toInputStream(stream).read();
    setTimeout(() => stream.destroy(), 10);
    expect(text(await pending)).toBe('part');
    const cut = new PassThrough();
    const truncated = toInputStream(cut, { contentLength: 5 }).read();
    setTimeout(() => cut.destroy(), 10);
    expect((await rejectionOf(truncated)) as { code?: string }).toMatchObject({
      code: 'ERR_WSGI_INPUT_TRUNCATED',
    });
  });

  it('refuses bad sizes like Python io', async () => {
    const input = toInputStream(BODY);
    for (const method of ['read', 'readline', 'readlines'] as const) {
      await expect(input[method](Number.NaN)).rejects.toThrow(RangeError);
      await expect(input[method](1.5)).rejects.toThrow(/must be an integer/);
      await expect(input[method](Infinity)).rejects.toThrow(RangeError);
      await expect(input[method]('3' as unknown as number)).rejects.toThrow(TypeError);
    }
    expect(text(await input.read(null as unknown as number))).toBe(BODY);
    const again = toInputStream(BODY);
    expect(text(await again.read(-5))).toBe(BODY);
    expect(text(await toInputStream(BODY).readline(-1))).toBe('line one\n');
  });

  it('refuses bad sources, chunks and lengths', async () => {
    expect(() => toInputStream(42 as unknown as string)).toThrow(TypeError);
    expect(() => toInputStream(null as unknown as string)).toThrow(TypeError);
    expect(() => toInputStream('caf\u20ac')).toThrow(/latin-1/);
    expect(() => toInputStream(new PassThrough({ objectMode: true }))).toThrow(/byte stream/);
    const decoding = new PassThrough();
    decoding.setEncoding('utf8');
    expect(() => toInputStream(decoding)).toThrow(TypeError);
    for (const bad of [-1, 1.5, Number.NaN, Infinity, '5']) {
      expect(() => toInputStream('x', { contentLength: bad as number })).toThrow(RangeError);
    }
    const mixed: unknown[] = [bytes('a'), 7];
    await expect(toInputStream(mixed as Uint8Array[]).read()).rejects.toThrow(/Uint8Arrays/);
    await expect(toInputStream(['\u0100']).read()).rejects.toThrow(TypeError);
  });
});

describe('toInputStream() is independent of chunking (property)', () => {
  type Op = { op: 'read' | 'readline'; size: number | undefined };
  const op = fc.record({
    op: fc.constantFrom('read' as const, 'readline' as const),
    size: fc.option(fc.integer({ min: -2, max: 12 }), { nil: undefined }),
  });
  const data = fc.uint8Array({ maxLength: 64 }).chain((raw) =>
    // Many newlines, so readline has work to do.
    fc.constant(raw.map((b) => (b % 5 === 0 ? 0x0a : b))),
  );

  async function run(input: InputStream, ops: readonly Op[]): Promise<string[]> {
    const out: string[] = [];
    for (const { op: name, size } of ops) out.push(text(await input[name](size)));
    out.push(text(await input.read()));
    return out;
  }

  it('gives the same bytes as one buffer, for every source kind and length', async () => {
    await fc.assert(
      fc.asyncProperty(
        data,
        fc.array(fc.nat(80), { maxLength: 8 }),
        fc.array(op, { maxLength: 10 }),
        fc.option(fc.nat(70), { nil: undefined }),
        fc.constantFrom('iterable', 'async', 'readable'),
        async (body, cuts, ops, length, kind) => {
          const whole = length === undefined ? body : body.subarray(0, length);
          if (length !== undefined && length > body.length) return; // covered by truncation tests
          const expected = await run(toInputStream(whole), ops);
          const ref = new Reference(whole);
          const model = ops.map(({ op: name, size }) => text(ref[name](size)));
          model.push(text(ref.read()));
          expect(expected).toEqual(model);
          const chunks = chunk(body, cuts);
          const source =
            kind === 'iterable'
              ? chunks
              : kind === 'async'
                ? slowChunks(chunks).source
                : trickle(chunks);
          const options = length === undefined ? {} : { contentLength: length };
          expect(await run(toInputStream(source, options), ops)).toEqual(model);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('iteration and readlines give the lines of the whole', async () => {
    await fc.assert(
      fc.asyncProperty(data, fc.array(fc.nat(80), { maxLength: 8 }), async (body, cuts) => {
        const lines: string[] = [];
        for await (const line of toInputStream(chunk(body, cuts))) lines.push(text(line));
        expect(lines.join('')).toBe(text(body));
        expect(lines.slice(0, -1).every((l) => l.endsWith('\n'))).toBe(true);
        const all = await toInputStream(slowChunks(chunk(body, cuts)).source).readlines();
        expect(all.map(text)).toEqual(lines);
      }),
      { numRuns: 100 },
    );
  });
});

describe('toInputStream() over very many tiny chunks', () => {
  const TOTAL = 100_000;

  /** A 100,000-byte body: one line of 60,000 bytes, then lines of 0–199 bytes, no final LF. */
  const body = ((): Buffer => {
    const out = Buffer.alloc(TOTAL);
    let seed = 7;
    let next = 60_000;
    for (let i = 0; i < TOTAL; i++) {
      if (i === next) {
        out[i] = 0x0a;
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        next = i + 1 + (seed % 200);
      } else {
        out[i] = 0x20 + (i % 90);
      }
    }
    return out;
  })();
  const oneByte = (): Buffer[] => Array.from({ length: TOTAL }, (_, i) => body.subarray(i, i + 1));

  /** A byte `Readable` that hands out one byte per `_read`, counting them. */
  function byteByByte(): { stream: Readable; reads: () => number } {
    let at = 0;
    const stream = new Readable({
      highWaterMark: 1,
      read() {
        this.push(at < TOTAL ? body.subarray(at, ++at) : null);
      },
    });
    return { stream, reads: () => at };
  }

  type Reader = Pick<InputStream, 'read' | 'readline'>;
  /** The answers of `Reference`, the one-buffer model, as an InputStream-like reader. */
  const model = (): Reader => {
    const ref = new Reference(body);
    return {
      read: (n) => Promise.resolve(ref.read(n)),
      readline: (n) => Promise.resolve(ref.readline(n)),
    };
  };

  /** Calls `next(0)`, `next(1)`, … until one gives no bytes; the pieces before it. */
  async function drain(next: (i: number) => Promise<Uint8Array>): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (let i = 0; i <= TOTAL; i++) {
      const piece = await next(i);
      if (piece.length === 0) return out;
      out.push(piece);
    }
    throw new Error('the stream never ended');
  }

  const SIZES = [1, 7, 4096, 2, 65_537, 300];
  const size = (i: number): number => SIZES[i % SIZES.length] ?? 1;
  const patterns: Record<string, (r: Reader) => Promise<Uint8Array[]>> = {
    'read()': async (r) => [await r.read(), await r.read(), await r.read(5)],
    'read(n) loop': (r) => drain((i) => r.read(size(i))),
    'readline() loop': (r) => drain(() => r.readline()),
    'readline(1000) loop': (r) => drain(() => r.readline(1000)),
    'read(n) and readline(n) in turn': (r) =>
      drain((i) => (i % 2 === 0 ? r.readline(size(i >> 1)) : r.read(size(i)))),
  };

  function expectSame(got: Uint8Array[], want: Uint8Array[]): void {
    expect(got.map((piece) => piece.length)).toEqual(want.map((piece) => piece.length));
    expect(Buffer.concat(got).equals(Buffer.concat(want))).toBe(true);
  }

  const sources: Record<string, () => InputSource> = {
    'an iterable': oneByte,
    'an async iterable': () => {
      const pieces = oneByte()[Symbol.iterator]();
      return { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(pieces.next()) }) };
    },
    'a Readable': () => byteByByte().stream,
  };

  for (const [kind, make] of Object.entries(sources)) {
    for (const [name, pattern] of Object.entries(patterns)) {
      it(`${kind} of 100,000 one-byte chunks: ${name} gives what one chunk gives`, async () => {
        const want = await pattern(model());
        expect(Buffer.concat(want).equals(body)).toBe(true);
        expectSame(await pattern(toInputStream(body)), want);
        expectSame(await pattern(toInputStream(make())), want);
        expectSame(await pattern(toInputStream(make(), { contentLength: TOTAL })), want);
      });
    }

    it(`${kind} of 100,000 one-byte chunks: readlines() and iteration give every line`, async () => {
      const lines = await patterns['readline() loop']?.(model());
      if (lines === undefined) throw new Error('no readline pattern');
      expect(lines.length).toBeGreaterThan(300);
      expectSame(await toInputStream(make()).readlines(), lines);
      const iterated: Uint8Array[] = [];
      for await (const line of toInputStream(make())) iterated.push(line);
      expectSame(iterated, lines);
    });
  }

  it('the Readable really hands over one byte at a time', async () => {
    const { stream, reads } = byteByByte();
    const input = toInputStream(stream);
    expect((await input.readline()).length).toBe(60_001);
    expect(reads()).toBeGreaterThanOrEqual(60_001);
    expect(reads()).toBeLessThanOrEqual(60_003);
  });

  it('agrees with one buffer across many chunks and operations (property)', async () => {
    // Long enough that spent chunks are dropped from the queue while a line search is under way.
    const op = fc.record({
      op: fc.constantFrom('read' as const, 'readline' as const),
      size: fc.option(fc.integer({ min: -1, max: 90 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 200, maxLength: 1500 }),
        fc.integer({ min: 2, max: 50 }),
        fc.array(fc.nat(3), { minLength: 1, maxLength: 40 }),
        fc.array(op, { maxLength: 120 }),
        async (raw, lineEvery, widths, ops) => {
          const data = raw.map((b) => (b % lineEvery === 0 ? 0x0a : b));
          const chunks: Uint8Array[] = [];
          for (let at = 0, i = 0; at < data.length; i++) {
            const width = (widths[i % widths.length] ?? 0) + 1;
            chunks.push(data.subarray(at, at + width));
            at += width;
          }
          const ref = new Reference(data);
          const input = toInputStream(chunks);
          for (const { op: name, size: n } of ops) {
            expect(text(await input[name](n))).toBe(text(ref[name](n)));
          }
          expect(text(await input.read())).toBe(text(ref.read()));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('toInputStream() over a Readable: chunks, listeners, backpressure', () => {
  /** `n` bytes of a repeating pattern that makes misplaced bytes show. */
  const pattern = (n: number, seed = 0): Buffer => {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = (i * 7 + seed + (i >> 8)) & 0xff;
    return out;
  };

  /** The events a reader listens to, counted on `stream`. */
  const listeners = (stream: Readable): number[] =>
    ['data', 'readable', 'end', 'error', 'close'].map((e) => stream.listenerCount(e));

  it('hands a chunk over uncopied when it holds the whole read, and joins only across chunks', async () => {
    // Buffer.alloc: each chunk has its own ArrayBuffer, so identity shows a copy.
    const [a, b, c] = [Buffer.alloc(4, 0x61), Buffer.alloc(6, 0x62), Buffer.alloc(5, 0x63)];
    const input = toInputStream(trickle([a, b, c]), { contentLength: 15 });
    const first = await input.read(4);
    expect(first.buffer).toBe(a.buffer);
    const second = await input.read(2);
    expect(second.buffer).toBe(b.buffer);
    const joined = await input.read(6);
    expect(text(joined)).toBe('bbbbcc');
    expect(joined.buffer).not.toBe(b.buffer);
    expect(joined.buffer).not.toBe(c.buffer);
    const rest = await input.read(100);
    expect(text(rest)).toBe('ccc');
    expect(rest.buffer).toBe(c.buffer);
    expect(await input.read(1)).toHaveLength(0);
  });

  it('keeps one set of listeners while reading and none once the body is read', async () => {
    const stream = new PassThrough();
    const before = listeners(stream);
    const input = toInputStream(stream, { contentLength: 3000 });
    const seen = new Set<string>();
    const writing = (async () => {
      for (let i = 0; i < 30; i++) {
        stream.write(pattern(100, i));
        await sleep(0);
      }
    })();
    let got = 0;
    for (let i = 0; i < 100 && got < 3000; i++) {
      got += (await input.read(70)).length;
      seen.add(listeners(stream).join());
    }
    await writing;
    expect(got).toBe(3000);
    // While it read: the same one listener each for data, end, error and close, never readable;
    // none once it has taken the 3000 bytes (the last reads come from its buffer).
    const attached = before.map((n, i) => (i === 1 ? n : n + 1)).join();
    expect([...seen]).toEqual([attached, before.join()]);
    expect(listeners(stream)).toEqual(before);
  });

  it('gives exact-size reads across the chunks a real socket delivers', async () => {
    const pair = await socketPair();
    try {
      const sizes = [3000, 70_000, 1, 65_536, 65_535, 200_000, 17];
      const body = pattern(sizes.reduce((x, y) => x + y, 0));
      const next = bytes('GET /next HTTP/1.1\r\n');
      const input = toInputStream(pair.server, { contentLength: body.length });
      const writing = (async () => {
        let at = 0;
        for (const [i, size] of sizes.entries()) {
          const piece = body.subarray(at, at + size);
          at += size;
          // The next request comes in the same segment as the end of the body.
          pair.client.write(i === sizes.length - 1 ? Buffer.concat([piece, next]) : piece);
          await sleep(5);
        }
      })();
      const reads: Buffer[] = [];
      for (let i = 0; i < 1000; i++) {
        const piece = await input.read(65_536);
        if (piece.length === 0) break;
        reads.push(Buffer.from(piece));
      }
      await writing;
      expect(reads.slice(0, -1).every((r) => r.length === 65_536)).toBe(true);
      expect(Buffer.concat(reads).equals(body)).toBe(true);
      expect(reads.at(-1)?.length).toBe(body.length % 65_536);
      // The next request stays in the socket, paused, for its own reader.
      expect(pair.server.listenerCount('data')).toBe(0);
      expect(pair.server.isPaused()).toBe(true);
      const following = toInputStream(pair.server, { contentLength: next.length });
      expect(text(await following.read())).toBe(text(next));
    } finally {
      await pair.close();
    }
  });

  it('does not read a real socket ahead of the application (backpressure)', async () => {
    const pair = await socketPair();
    try {
      const total = 16 * 1024 * 1024;
      const body = pattern(total, 3);
      pair.client.write(body);
      const input = toInputStream(pair.server, { contentLength: total });
      expect((await input.read(1000)).length).toBe(1000);
      await sleep(100);
      // Only what the stream and the input hold up to their high-water marks, not the body.
      const early = pair.server.bytesRead;
      expect(early).toBeLessThan(1024 * 1024);
      await sleep(50);
      expect(pair.server.bytesRead).toBe(early);
      let got = 1000;
      let same = true;
      for (let i = 0; i < 10_000 && got < total; i++) {
        const piece = await input.read(65_536);
        if (piece.length === 0) break;
        same &&= body.subarray(got, got + piece.length).equals(piece);
        got += piece.length;
      }
      expect(got).toBe(total);
      expect(same).toBe(true);
    } finally {
      await pair.close();
    }
  });

  it('holds no more than the high-water mark for a reader that is slow to ask', async () => {
    let produced = 0;
    const stream = new Readable({
      highWaterMark: 64,
      read() {
        this.push(produced < 20_000 ? pattern(10, produced) : null);
        produced += 10;
      },
    });
    const input = toInputStream(stream);
    let consumed = 0;
    let most = 0;
    for (let i = 0; i < 20_000; i++) {
      const piece = await input.read(7);
      if (piece.length === 0) break;
      consumed += piece.length;
      await new Promise((resolve) => setImmediate(resolve));
      most = Math.max(most, produced - consumed);
    }
    expect(consumed).toBe(20_000);
    // The stream's 64 bytes plus the input's 64, and a chunk each on top.
    expect(most).toBeLessThanOrEqual(64 * 2 + 10 * 3);
  });

  it('rejects a waiting read when a real socket is reset, keeping the bytes that came', async () => {
    const pair = await socketPair();
    try {
      const input = toInputStream(pair.server, { contentLength: 1000 });
      pair.client.write('partial body');
      const pending = input.read(100);
      await until(() => pair.server.bytesRead >= 12);
      pair.client.resetAndDestroy();
      const error = await rejectionOf(pending);
      expect(error).toMatchObject({ code: 'ECONNRESET' });
      expect(await rejectionOf(input.readline())).toBe(error);
      expect(text(await input.read(12))).toBe('partial body');
      expect(await rejectionOf(input.read(1))).toBe(error);
      expect(pair.server.listenerCount('data')).toBe(0);
    } finally {
      await pair.close();
    }
  });

  it('rejects with ERR_WSGI_INPUT_TRUNCATED when a real socket ends early', async () => {
    const pair = await socketPair();
    try {
      const input = toInputStream(pair.server, { contentLength: 10 });
      pair.client.end('abc');
      const error = await rejectionOf(input.read());
      expect(error).toMatchObject({ code: 'ERR_WSGI_INPUT_TRUNCATED' });
      expect((error as Error).message).toMatch(/3 of 10 bytes/);
      expect(text(await input.read(3))).toBe('abc');
      expect(await rejectionOf(input.read(1))).toBe(error);
    } finally {
      await pair.close();
    }
  });

  it('fails reads that need more after an error while nothing waited, keeping held bytes', async () => {
    const stream = new PassThrough();
    const input = toInputStream(stream);
    stream.write(bytes('one\ntwo\n'));
    expect(text(await input.readline())).toBe('one\n');
    stream.write(bytes('three'));
    await sleep(5);
    const boom = new Error('boom');
    stream.destroy(boom);
    await sleep(5);
    expect(await rejectionOf(input.read())).toBe(boom);
    expect(text(await input.readline())).toBe('two\n');
    expect(text(await input.read(5))).toBe('three');
    expect(await rejectionOf(input.readline())).toBe(boom);
    expect(listeners(stream)[0]).toBe(0);
  });

  it('answers concurrent calls over a Readable in call order', async () => {
    const input = toInputStream(trickle(chunk(bytes(BODY), [1, 2, 3, 11, 12, 30])), {
      contentLength: BODY.length,
    });
    const results = await Promise.all([
      input.read(2),
      input.readline(),
      input.read(0),
      input.readline(4),
      input.read(),
      input.read(3),
    ]);
    expect(results.map(text)).toEqual([
      'li',
      'ne one\n',
      '',
      'line',
      ' two\n\nlast without newline',
      '',
    ]);
    // Enough waiting calls that settled ones are dropped from the queue while others wait.
    const data = pattern(300);
    const many = toInputStream(trickle(chunk(data, [50, 100, 101, 250])));
    const pieces = await Promise.all(Array.from({ length: 301 }, () => many.read(1)));
    expect(Buffer.concat(pieces).equals(data)).toBe(true);
    expect(pieces.at(-1)).toHaveLength(0);
  });

  it('reads a stream paused by its producer, and one that was flowing', async () => {
    const paused = new PassThrough();
    paused.pause();
    paused.write(bytes('abc'));
    expect(text(await toInputStream(paused, { contentLength: 3 }).read())).toBe('abc');
    const flowing = new PassThrough();
    const earlier: Buffer[] = [];
    const collect = (c: Buffer): void => {
      earlier.push(c);
    };
    flowing.on('data', collect);
    flowing.write(bytes('x'));
    await sleep(5);
    flowing.off('data', collect);
    flowing.pause();
    flowing.write(bytes('yz'));
    flowing.end();
    expect(text(Buffer.concat(earlier))).toBe('x');
    expect(text(await toInputStream(flowing).read())).toBe('yz');
  });
});
