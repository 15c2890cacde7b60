// The WSGI applications the benchmark serves, written as a user of the packages would.
import { createHash } from 'node:crypto';
import { openSync, fstatSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import process from 'node:process';

export const HELLO = Buffer.from('Hello, World!');
const HELLO_PARTS = [Buffer.from('Hello, '), Buffer.from('World!')];

/** Hello world with a one-element array body (the handler adds Content-Length). */
export function hello(_environ, startResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [HELLO];
}

function* helloParts() {
  yield HELLO_PARTS[0];
  yield HELLO_PARTS[1];
}

/**
 * Hello world from a generator: two chunks, no Content-Length, so chunked over HTTP/1.1. The
 * generator function is defined once, so every body has the same prototype (and V8 map).
 */
export function helloGenerator(_environ, startResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return helloParts();
}

/**
 * The same with a generator function made per request (a closure, as an app streaming
 * request data would write it): every body then has a prototype of its own.
 */
export function helloGeneratorClosure(_environ, startResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return (function* body() {
    yield HELLO_PARTS[0];
    yield HELLO_PARTS[1];
  })();
}

/** Serves the file named by BENCH_FILE through `wsgi.file_wrapper` (the sendfile path). */
export function download(environ, startResponse) {
  const path = process.env['BENCH_FILE'];
  if (path === undefined) throw new Error('BENCH_FILE is not set');
  const fd = openSync(path, 'r');
  const { size } = fstatSync(fd);
  startResponse('200 OK', [
    ['Content-Type', 'application/octet-stream'],
    ['Content-Length', String(size)],
  ]);
  return environ['wsgi.file_wrapper'](fd, 65536);
}

/** Reads the whole request body from `wsgi.input` in 64 KiB blocks and answers its SHA-256. */
export async function upload(environ, startResponse) {
  const input = environ['wsgi.input'];
  const hash = createHash('sha256');
  for (let i = 0; i < 1e7; i++) {
    const chunk = await input.read(65536);
    if (chunk.length === 0) break;
    hash.update(chunk);
  }
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [Buffer.from(hash.digest('hex'))];
}

const burnIterations = Number(process.env['BENCH_BURN_ITERS'] ?? 200_000);

/** Spins `n` rounds of integer arithmetic; returns the result so it cannot be optimised away. */
export function spin(n) {
  let x = 1;
  for (let i = 0; i < n; i++) x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  return x;
}

/** Burns about a millisecond of CPU (BENCH_BURN_ITERS, calibrated by the bench), then says hello. */
export function burn(_environ, startResponse) {
  const x = spin(burnIterations);
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [x === 0.5 ? Buffer.from('never') : HELLO];
}

export default hello;
