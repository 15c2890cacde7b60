/**
 * Applications and Fetch handlers the tests share, and small stream utilities.
 */
import { createHash } from 'node:crypto';

import type { Application, Environ, ResponseBody } from '@wsgi/core';

/** Latin-1 text as bytes. */
export const enc = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Bytes as latin-1 text. */
export const dec = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** A promise with its resolve function, for gating an application. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Answers with the chosen CGI variables as JSON (one chunk, so with a Content-Length). */
export const environApp: Application = async (environ, startResponse) => {
  const body = await environ['wsgi.input'].read();
  const picked: Record<string, unknown> = { body: dec(body) };
  for (const [key, value] of Object.entries(environ)) {
    if (typeof value === 'string' || typeof value === 'boolean') picked[key] = value;
  }
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  // UTF-8 JSON, so every native-string character survives the trip.
  return [Buffer.from(JSON.stringify(picked), 'utf8')];
};

/** Answers with `PATH_INFO`'s characters as bytes, one byte each. */
export const pathApp: Application = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
  return [enc(environ.PATH_INFO)];
};

/** Echoes the request body, 64 KiB at a time, as it reads it. */
export const echoApp: Application = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
  const input = environ['wsgi.input'];
  return {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < 100_000; i += 1) {
        const chunk = await input.read(64 * 1024);
        if (chunk.length === 0) return;
        yield chunk;
      }
    },
  };
};

/** A body that counts what was produced and how often it was closed. */
export interface CountingBody {
  readonly body: ResponseBody;
  produced: number;
  closed: number;
}

/** An endless (but bounded: 10 000 chunks) body of 1 KiB chunks that counts. */
export function countingBody(chunk = Buffer.alloc(1024, 0x61)): CountingBody {
  const state: CountingBody = {
    produced: 0,
    closed: 0,
    body: {
      [Symbol.iterator]: function* () {
        for (let i = 0; i < 10_000; i += 1) {
          state.produced += 1;
          yield chunk;
        }
      },
      close() {
        state.closed += 1;
      },
    },
  };
  return state;
}

/** SHA-256 of bytes, hex. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `size` deterministic bytes (not all equal, so a reordering shows). */
export function pattern(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) out[i] = (i * 31 + (i >> 10)) & 0xff;
  return out;
}

/** Reads a whole stream, bounded by `maxChunks`. */
export async function readAll(
  stream: ReadableStream<Uint8Array> | null,
  maxChunks = 100_000,
): Promise<Buffer> {
  if (stream === null) return Buffer.alloc(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < maxChunks; i += 1) {
    const step = await reader.read();
    if (step.done) return Buffer.concat(chunks);
    chunks.push(step.value);
  }
  throw new Error(`more than ${maxChunks} chunks`);
}

/** The environ key a test wants, as a string. */
export function text(environ: Environ, key: string): string {
  const value = environ[key];
  return typeof value === 'string' ? value : '';
}

/** The reader of a response's body (which must have one). */
export function readerOf(response: Response): ReadableStreamDefaultReader<Uint8Array> {
  const body = response.body as ReadableStream<Uint8Array> | null;
  if (body === null) throw new Error('the response has no body');
  return body.getReader();
}

/** The next chunk as latin-1 text, or `null` at the end. */
export async function nextText(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<string | null> {
  const step = await reader.read();
  return step.done ? null : dec(step.value);
}
