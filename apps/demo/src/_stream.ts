/**
 * `/stream`: an async generator body. No `Content-Length`, so the server frames it with chunked
 * encoding, and each line leaves as soon as it is yielded (PEP 3333, "Buffering and Streaming").
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { StartResponse } from '@wsgi/core';

/** The pace of `/stream`. */
export interface StreamOptions {
  /** Milliseconds between lines. Default 100. */
  readonly interval: number;
  /** How many lines. Default 20 (2 s in all). */
  readonly count: number;
}

/** Starts the `/stream` response and returns its body. */
export function stream(
  startResponse: StartResponse,
  options: StreamOptions,
): AsyncGenerator<Uint8Array> {
  startResponse('200 OK', [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Cache-Control', 'no-store'],
    // Lets a browser render each line as it comes instead of sniffing the first kilobyte.
    ['X-Content-Type-Options', 'nosniff'],
  ]);
  return ticks(options);
}

async function* ticks({ interval, count }: StreamOptions): AsyncGenerator<Uint8Array> {
  const started = performance.now();
  for (let i = 1; i <= count; i++) {
    await sleep(interval);
    const at = Math.round(performance.now() - started);
    yield Buffer.from(`line ${i} of ${count} at ${at} ms\n`);
  }
}
