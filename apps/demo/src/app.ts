/**
 * The demo application: one WSGI application with every route, wrapped in `validator` so each
 * request is checked against PEP 3333 on both sides.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';

import type { Application, Environ, ResponseBody, StartResponse } from '@wsgi/core';
import { demoApp } from '@wsgi/simple';
import { type WSGIWarning, validator } from '@wsgi/validator';

import { DEFAULT_UPLOAD_LIMIT } from './_config.ts';
import { files } from './_files.ts';
import { homePage } from './_home.ts';
import { baseOf, checkMethod, fromNative, sendError, sendHtml, sendText } from './_respond.ts';
import { stream } from './_stream.ts';
import { upload } from './_upload.ts';

/** Options of {@link createDemoApp}. */
export interface DemoAppOptions {
  /** The largest request body `/upload` accepts, in bytes; beyond it answers 413. Default 10 MiB. */
  readonly uploadLimit?: number;
  /** All non-file form fields together, in bytes (413 beyond). Default 1 MiB. */
  readonly fieldsLimit?: number;
  /** The most parts a multipart upload may have (413 beyond). Default 100. */
  readonly maxParts?: number;
  /** The folder `/files/` serves. Default: the `files/` folder shipped with the demo. */
  readonly filesDir?: string;
  /** Milliseconds between two lines of `/stream`. Default 100. */
  readonly streamInterval?: number;
  /** How many lines `/stream` sends. Default 20. */
  readonly streamCount?: number;
  /** Receives the validator's warnings (default: `process.emitWarning`). */
  readonly onWarning?: (warning: WSGIWarning) => void;
}

const FAVICON = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#2453c7"/><path d="M3 4l2 8 3-6 3 6 2-8" fill="none" stroke="#fff" stroke-width="1.5"/></svg>',
);

/** The sample folder shipped with the demo (`apps/demo/files`). */
export const SAMPLE_FILES_DIR = fileURLToPath(new URL('../files/', import.meta.url));

/** The message `/error` throws with; it must reach the log and never the visitor. */
export const ERROR_ROUTE_MESSAGE =
  'The /error route failed on purpose (this stack belongs in the log only).';

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/**
 * Creates the demo application.
 *
 * @returns an {@link Application}, already wrapped in `validator()`.
 */
export function createDemoApp(options: DemoAppOptions = {}): Application {
  const limits = {
    uploadLimit: nonNegative('uploadLimit', options.uploadLimit, DEFAULT_UPLOAD_LIMIT),
    fieldsLimit: nonNegative('fieldsLimit', options.fieldsLimit, 1024 * 1024),
    maxParts: nonNegative('maxParts', options.maxParts, 100),
  };
  const pace = {
    interval: nonNegative('streamInterval', options.streamInterval, 100),
    count: nonNegative('streamCount', options.streamCount, 20),
  };
  const filesDir = options.filesDir ?? SAMPLE_FILES_DIR;

  const app = (
    environ: Environ,
    startResponse: StartResponse,
  ): ResponseBody | Promise<ResponseBody> => {
    // Under CGI with no extra path, PATH_INFO is empty: that is the home page too.
    const path = environ.PATH_INFO || '/';
    if (path === '/files' || path.startsWith('/files/')) {
      return files(environ, startResponse, filesDir, path.slice('/files/'.length));
    }
    switch (path) {
      case '/':
        return (
          checkMethod(environ, startResponse, ['GET', 'HEAD']) ??
          sendHtml(startResponse, 200, homePage(baseOf(environ)))
        );
      case '/hello':
        return (
          checkMethod(environ, startResponse, ['GET', 'HEAD']) ?? hello(environ, startResponse)
        );
      case '/environ':
        return demoApp(environ, startResponse);
      case '/upload':
        return upload(environ, startResponse, limits);
      case '/stream':
        return checkMethod(environ, startResponse, ['GET', 'HEAD']) ?? stream(startResponse, pace);
      case '/error':
        throw new Error(ERROR_ROUTE_MESSAGE);
      case '/favicon.ico':
        // Browsers ask for it on plain-text pages too; an icon beats a 404 in their console.
        startResponse('200 OK', [
          ['Content-Type', 'image/svg+xml'],
          ['Content-Length', String(FAVICON.length)],
          ['Cache-Control', 'max-age=86400'],
        ]);
        return [FAVICON];
      default:
        return sendError(
          environ,
          startResponse,
          404,
          `Nothing lives at ${fromNative(path) ?? path}.`,
        );
    }
  };
  return validator(app, options.onWarning ? { onWarning: options.onWarning } : {});
}

function hello(environ: Environ, startResponse: StartResponse): Uint8Array[] {
  const query = environ.QUERY_STRING ?? '';
  const name =
    new URLSearchParams(fromNative(query) ?? query).get('name')?.trim().slice(0, 100) || 'world';
  return sendText(startResponse, 200, `Hello, ${name}!\n`);
}
