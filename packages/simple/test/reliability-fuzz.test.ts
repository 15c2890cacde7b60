/**
 * Fuzzing: random bytes and random arrangements of HTTP fragments thrown at the server for a
 * bounded time. It never crashes, always answers or closes, answers only with well-formed
 * status lines, and never shows a stack trace.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';

import type { Application } from '@wsgi/util';

import { connect, teardown } from './_http.ts';
import { countingServer, expectServing, MODES, pieces, statusLines } from './_raw.ts';
import type { SendMode } from './_raw.ts';

afterEach(teardown);

const FUZZ_MS = 4000;

let returned = 0;

/** Reads the body whole, so body framing is exercised too. */
const app: Application = async (environ, startResponse) => {
  const body = await environ['wsgi.input'].read();
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  returned += 1;
  return [Buffer.from(`read ${String(body.length)}`)];
};

const FRAGMENTS = [
  'GET ',
  'POST ',
  'HEAD ',
  '/',
  '/a?b=c',
  ' HTTP/1.1',
  ' HTTP/1.0',
  '\r\n',
  '\r',
  '\n',
  '\r\n\r\n',
  'Host: x',
  'Host: ',
  'Content-Length: ',
  'Content-Length: 5',
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: ',
  'Connection: close',
  'Connection: keep-alive',
  'Expect: 100-continue',
  ':',
  ' ',
  '\t',
  '\u0000',
  '\u007f',
  '0',
  '5',
  'ff',
  ';ext=1',
  'hello',
  '\u00ff',
] as const;

/** Structured noise: HTTP fragments in random order, with random bytes between. */
const structured = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...FRAGMENTS) },
      { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    ),
    { maxLength: 40 },
  )
  .map((parts) => Buffer.from(parts.join(''), 'latin1'));

/** A valid request head followed by noise: the body and pipelining paths. */
const afterValid = fc
  .tuple(
    fc.constantFrom(
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
    ),
    structured,
  )
  .map(([head, rest]) => Buffer.concat([Buffer.from(head, 'latin1'), rest]));

const input = fc.oneof(
  fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
  structured,
  afterValid,
);

/** Writes `data`, half-closes, and reads until the server closes; bounded. */
async function throwAt(
  port: number,
  data: Buffer,
  mode: SendMode,
): Promise<{ bytes: Buffer; closed: boolean }> {
  const socket = await connect(port);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), closed: false });
    }, 2000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ bytes: Buffer.concat(chunks), closed: true });
    });
    // Cut as the mode says; the pieces leave in one go, so the server sees them as they come.
    for (const piece of pieces(data, mode)) socket.write(piece);
    socket.end();
  });
}

describe('fuzzing', () => {
  it(
    `answers or closes on random input for ${String(FUZZ_MS)} ms, and keeps serving`,
    { timeout: 30_000 },
    async () => {
      const { port, calls } = await countingServer({ quiet: true }, app);
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(input, fc.constantFrom(...MODES), async (data, mode) => {
          runs += 1;
          const { bytes, closed } = await throwAt(port, data, mode);
          const text = bytes.toString('latin1');
          expect(closed, JSON.stringify(data.toString('latin1'))).toBe(true);
          if (bytes.length > 0) expect(text.startsWith('HTTP/1.1 ')).toBe(true);
          for (const line of statusLines(bytes))
            expect(line).toMatch(/^HTTP\/1\.1 [1-5]\d\d [A-Za-z -]+$/);
          expect(text).not.toMatch(/\n\s+at |node:internal|HPE_/);
        }),
        { numRuns: 100_000, plugins: [fc.interruptAfterTimeLimit(FUZZ_MS)] },
      );
      expect(runs).toBeGreaterThan(100);
      // Every body the application returned was closed, whatever the client did.
      expect(calls.close).toBe(returned);
      expect(calls.app).toBeGreaterThanOrEqual(returned);
      await expectServing(port);
    },
  );
});
