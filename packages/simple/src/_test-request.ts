/**
 * Building a `TestClient` request: headers, query string and body; loading the validator.
 *
 * @module
 */
import type { Application } from '@wsgi/util';

/** Request headers: an object (an array value repeats the field) or a list of pairs. */
export type TestHeaders =
  | Readonly<Record<string, string | number | readonly string[]>>
  | Iterable<readonly [name: string, value: string]>;

/** Query parameters: an object (an array value repeats the name), `URLSearchParams` or text. */
export type TestQuery =
  | Readonly<Record<string, string | number | boolean | readonly (string | number | boolean)[]>>
  | URLSearchParams
  | string;

/** What `@wsgi/validator` reports (its `ValidationError` or `WSGIWarning`). */
export interface Finding extends Error {
  readonly severity: 'error' | 'warning';
}

/** `@wsgi/validator`'s `validator()`, as `TestClient` calls it. */
export type ValidatorFunction = (
  app: Application,
  options: { mode: 'collect'; onFinding: (finding: Finding) => void },
) => Application;

// A variable, so the build does not need the validator's types: it is an optional peer.
const VALIDATOR_MODULE = '@wsgi/validator';

/** Imports `@wsgi/validator`. @throws Error (rejects) saying how to install it. */
export async function loadValidator(): Promise<ValidatorFunction> {
  try {
    const loaded = (await import(VALIDATOR_MODULE)) as { validator: ValidatorFunction };
    return loaded.validator;
  } catch (error) {
    throw new Error(
      'TestClient validates with @wsgi/validator: install it, or pass { validate: false }',
      { cause: error },
    );
  }
}

/** The query to add to `path`: `''` or `?…` (`&…` when `path` has one already). */
export function queryString(path: string, query: TestQuery | undefined): string {
  if (query === undefined) return '';
  let text: string;
  if (typeof query === 'string') text = query.replace(/^\?/, '');
  else if (query instanceof URLSearchParams) text = query.toString();
  else {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      const values: readonly (string | number | boolean)[] = Array.isArray(value)
        ? (value as readonly (string | number | boolean)[])
        : [value as string | number | boolean];
      for (const item of values) params.append(name, String(item));
    }
    text = params.toString();
  }
  if (text === '') return '';
  return (path.includes('?') ? '&' : '?') + text;
}

/** The headers as `[name, value]` pairs: `defaults` first, without names `headers` sets. */
export function toHeaderList(
  defaults: TestHeaders | undefined,
  headers: TestHeaders | undefined,
): [string, string][] {
  const own = pairs(headers);
  const names = new Set(own.map(([name]) => name.toLowerCase()));
  return [...pairs(defaults).filter(([name]) => !names.has(name.toLowerCase())), ...own];
}

function pairs(headers: TestHeaders | undefined): [string, string][] {
  if (headers === undefined) return [];
  const list: [string, string][] = [];
  if (Symbol.iterator in headers) {
    for (const [name, value] of headers as Iterable<readonly [string, string]>) {
      list.push([name, value]);
    }
    return list;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const item of value as string[]) list.push([name, item]);
    else list.push([name, String(value)]);
  }
  return list;
}

/** The body to send: bytes (with a length), chunks (chunked), or none. */
export function requestBody(init: {
  body?: string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  json?: unknown;
}): {
  bytes?: Uint8Array;
  chunks?: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  contentType?: string;
} {
  const { body, json } = init;
  if (json !== undefined) {
    if (body !== undefined) throw new TypeError('TestClient: give body or json, not both');
    return {
      bytes: Buffer.from(JSON.stringify(json), 'utf8'),
      contentType: 'application/json',
    };
  }
  if (body === undefined) return {};
  if (typeof body === 'string') return { bytes: Buffer.from(body, 'utf8') };
  if (body instanceof Uint8Array) return { bytes: body };
  if (Symbol.asyncIterator in body || Symbol.iterator in body) return { chunks: body };
  throw new TypeError('TestClient: body must be a string, bytes or an iterable of bytes');
}
