/**
 * The error path of `BaseHandler`: the default error page body, writing a traceback, and
 * choosing which errors to log while another one is being handled.
 *
 * @module
 */
import { Buffer } from 'node:buffer';

import type { Environ, ErrorStream } from '@wsgi/util';

import { isClientDisconnect } from './_errors.ts';
import { andThen, ignore, isThenable } from './_maybe.ts';
import { formatTraceback } from './_traceback.ts';

/** The default `errorBody`. */
export const ERROR_BODY = Buffer.from(
  'A server error occurred.  Please contact the administrator.',
  'latin1',
);

/** The public `BaseHandler` members the error path uses. */
export interface ErrorSink {
  readonly environ: Environ | null;
  logException(error: unknown): void | Promise<void>;
  getStderr(): ErrorStream | Promise<ErrorStream>;
}

/** Writes `error`'s stack (at most `limit` frames, then its causes) to `stream` and flushes it. */
export function writeTraceback(stream: ErrorStream, error: unknown, limit: number | null): void {
  stream.write(formatTraceback(error, limit));
  stream.flush();
}

/** Writes `message` to `environ['wsgi.errors']`, or `getStderr()` when there is none. */
export function reportError(handler: ErrorSink, message: string): void | Promise<void> {
  const errors = handler.environ?.['wsgi.errors'];
  return andThen(errors ?? handler.getStderr(), (stream) => {
    stream.write(message);
    stream.flush();
  });
}

/** Logs an error of `close()` after a complete response, unless the client went away. */
export function logCloseError(handler: ErrorSink, error: unknown): void | Promise<void> {
  if (!isClientDisconnect(error)) return handler.logException(error);
}

/** Logs `error` without letting logging fail: another error is the one being handled. */
export function logQuietly(handler: ErrorSink, error: unknown): void {
  if (isClientDisconnect(error)) return;
  try {
    const logged = handler.logException(error);
    if (isThenable(logged)) logged.then(undefined, ignore);
  } catch {
    // Logging failed while another error is being handled; that error is the one to report.
  }
}

/** Rethrows `error` once the body's `closing` settles; a close failure is only logged. */
export function rethrowAfter(
  handler: ErrorSink,
  closing: Promise<void>,
  error: unknown,
): Promise<never> {
  return closing.then(
    () => {
      throw error;
    },
    (closeError: unknown) => {
      logQuietly(handler, closeError);
      throw error;
    },
  );
}
