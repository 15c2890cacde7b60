/**
 * Test applications shared by the test files.
 */
import type { Application } from '@wsgi/util';

/** `Hello world!` as text/plain, a one-chunk body. */
export const hello: Application = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [Buffer.from('Hello world!', 'latin1')];
};

/** Answers the environ's string values as JSON (native strings kept as they are). */
export const environApp: Application = (environ, startResponse) => {
  const strings: Record<string, string> = {};
  for (const [key, value] of Object.entries(environ)) {
    if (typeof value === 'string') strings[key] = value;
  }
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [Buffer.from(JSON.stringify(strings), 'latin1')];
};

/** Parses {@link environApp}'s answer. */
export function json(body: Buffer | undefined): Record<string, string> {
  return JSON.parse(body?.toString('latin1') ?? '{}') as Record<string, string>;
}

/** Echoes wsgi.input, read whole. */
export const echo: Application = async (environ, startResponse) => {
  const body = await environ['wsgi.input'].read();
  startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
  return [body];
};
