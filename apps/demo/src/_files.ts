/**
 * `/files/<name>`: the sample folder, served through `wsgi.file_wrapper`.
 *
 * A name is looked up only as a direct child of the folder: `PATH_INFO` arrives percent-decoded
 * (PEP 3333), so `%2e%2e` and `%2f` are already `..` and `/` here, and any separator, dot
 * segment, drive letter or control character is refused before the file system is touched.
 * Symbolic links are not followed.
 *
 * @module
 */
import { constants } from 'node:fs';
import { type FileHandle, open, readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';

import type { Environ, ResponseBody, StartResponse } from '@wsgi/core';

import { html, layout } from './_html.ts';
import {
  baseOf,
  checkMethod,
  encodeNativePath,
  fromNative,
  sendError,
  sendHtml,
} from './_respond.ts';

/** `Content-Type` by extension; anything else is `application/octet-stream`. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.pdf': 'application/pdf',
};

/** Why a name was refused: `400` for an attempt to leave the folder, `404` for no such file. */
export type NameCheck =
  { ok: true; name: string } | { ok: false; status: 400 | 404; reason: string };

// Separators of any platform (`/`, `\`, `:`), NUL and every other control character.
function hasForbiddenChar(native: string): boolean {
  for (let i = 0; i < native.length; i++) {
    const code = native.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x2f || code === 0x5c || code === 0x3a)
      return true;
  }
  return false;
}

/**
 * Checks a file name taken from `PATH_INFO` (a native string) and decodes it from UTF-8.
 * Only a plain name of a direct child of the folder passes.
 */
export function checkFileName(native: string): NameCheck {
  if (hasForbiddenChar(native)) {
    return {
      ok: false,
      status: 400,
      reason: 'A file name cannot contain a separator or a control character.',
    };
  }
  if (native === '.' || native === '..') {
    return { ok: false, status: 400, reason: 'A file name cannot be a dot segment.' };
  }
  const name = fromNative(native);
  if (name === undefined || name.startsWith('.') || name === '') {
    return { ok: false, status: 404, reason: 'No such file.' };
  }
  return { ok: true, name };
}

/** Handles `/files/` (the listing) and `/files/<name>`. */
export async function files(
  environ: Environ,
  startResponse: StartResponse,
  dir: string,
  native: string,
): Promise<ResponseBody> {
  const refused = checkMethod(environ, startResponse, ['GET', 'HEAD']);
  if (refused) return refused;
  if (native === '') return listing(environ, startResponse, dir);
  const check = checkFileName(native);
  if (!check.ok) return sendError(environ, startResponse, check.status, check.reason);

  let handle;
  try {
    handle = await open(join(dir, check.name), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    // ENOENT, ELOOP (a symbolic link), EACCES…: all look the same from outside.
    return sendError(environ, startResponse, 404, 'No such file.');
  }
  let stats;
  try {
    stats = await handle.stat();
  } catch (error) {
    await handle.close();
    throw error;
  }
  if (!stats.isFile()) {
    await handle.close();
    return sendError(environ, startResponse, 404, 'No such file.');
  }
  startResponse('200 OK', [
    [
      'Content-Type',
      CONTENT_TYPES[extname(check.name).toLowerCase()] ?? 'application/octet-stream',
    ],
    ['Content-Length', String(stats.size)],
    ['X-Content-Type-Options', 'nosniff'],
    // A sample HTML file is content, not part of the app: no scripts, no forms.
    [
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; sandbox",
    ],
  ]);
  const wrap = environ['wsgi.file_wrapper'];
  if (wrap) return wrap(handle, 64 * 1024);
  return readChunks(handle);
}

// The PEP 3333 fallback when the server offers no `wsgi.file_wrapper`.
async function* readChunks(handle: FileHandle): AsyncGenerator<Uint8Array> {
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(64 * 1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

async function listing(
  environ: Environ,
  startResponse: StartResponse,
  dir: string,
): Promise<Uint8Array[]> {
  const base = baseOf(environ);
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const link = (name: string): string =>
    `${base}/files/${encodeNativePath(Buffer.from(name, 'utf8').toString('latin1'))}`;
  return sendHtml(
    startResponse,
    200,
    layout(
      'Sample files',
      base,
      html`<p>Served from the sample folder with <code>wsgi.file_wrapper</code>.</p>
        <ul id="file-list">
          ${names.map((n) => html`<li><a href="${link(n)}">${n}</a></li>`)}
        </ul>`,
    ),
  );
}
