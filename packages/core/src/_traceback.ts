/**
 * The text `BaseHandler.logException()` writes: an error's stack, its frames limited, followed
 * by its causes.
 *
 * @module
 */
import { inspect } from 'node:util';

/** How many `cause`s are followed, so a cycle or a very long chain cannot run away. */
const MAX_CAUSES = 8;
const FRAME = /^\s+at /;

function limitFrames(stack: string, limit: number | null): string {
  if (limit === null) return stack;
  const kept: string[] = [];
  let frames = 0;
  for (const line of stack.split('\n')) {
    if (FRAME.test(line)) {
      frames += 1;
      if (frames > limit) continue;
    }
    kept.push(line);
  }
  return kept.join('\n');
}

function describe(error: unknown, limit: number | null): string {
  if (!(error instanceof Error)) return `Uncaught ${inspect(error, { depth: 2 })}`;
  const stack = typeof error.stack === 'string' && error.stack !== '' ? error.stack : '';
  return limitFrames(stack || `${error.name}: ${error.message}`, limit);
}

/**
 * Formats `error` the way a traceback is printed: its stack with at most `limit` frames (all of
 * them when `limit` is `null`), then each `cause` in turn, introduced by `Caused by: `.
 * A thrown value that is not an `Error` is shown with `util.inspect`. Ends with a newline.
 *
 * @see Python `traceback.print_exception(..., limit)`
 */
export function formatTraceback(error: unknown, limit: number | null): string {
  const frames = limit === null ? null : Math.max(0, Math.trunc(limit));
  const seen = new Set<unknown>([error]);
  let text = describe(error, frames);
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSES && current instanceof Error; depth += 1) {
    const cause: unknown = current.cause;
    if (cause === undefined || seen.has(cause)) break;
    seen.add(cause);
    text += `\nCaused by: ${describe(cause, frames)}`;
    current = cause;
  }
  return `${text}\n`;
}
