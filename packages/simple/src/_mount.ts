/**
 * Where a mounted application's `SCRIPT_NAME` ends and its `PATH_INFO` starts: an explicit
 * `scriptName`, or the mount point Express (`req.baseUrl`) or Connect (`req.originalUrl`)
 * recorded before rewriting `req.url`.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http';

/** What Express and Connect add to a request they route. */
interface RoutedRequest extends IncomingMessage {
  /** Express: the path the router was mounted at. */
  baseUrl?: unknown;
  /** Express and Connect: `req.url` before any router rewrote it. */
  originalUrl?: unknown;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** `prefix` is a whole number of leading path segments of `path`. */
function isUnder(path: string, prefix: string): boolean {
  return (
    path.startsWith(prefix) &&
    (path.length === prefix.length || path.charCodeAt(prefix.length) === 47)
  );
}

/**
 * `true` when the request needs {@link splitMount}: a `scriptName` was given, or a router kept
 * the original URL. A plain `node:http` request takes neither branch.
 */
export function isMounted(req: IncomingMessage, scriptName: string | undefined): boolean {
  return scriptName !== undefined || typeof (req as RoutedRequest).originalUrl === 'string';
}

/**
 * The raw (still percent-encoded) `SCRIPT_NAME` and the URL after it (`PATH_INFO` and query).
 *
 * - An explicit `scriptName` wins: it is removed from the front of the full path when there.
 * - Express: `req.baseUrl` is the mount point, a prefix of `req.originalUrl`'s path.
 * - Connect: `req.url` is what is left of `req.originalUrl` after the mount point (or `/`
 *   when nothing is left).
 *
 * At the mount point itself `PATH_INFO` is empty, as in PEP 3333's URL reconstruction.
 */
export function splitMount(
  req: IncomingMessage,
  scriptName: string | undefined,
): [script: string, rest: string] {
  const url = req.url ?? '/';
  const routed = req as RoutedRequest;
  const original = typeof routed.originalUrl === 'string' ? routed.originalUrl : url;
  const originalPath = pathOf(original);
  let prefix = scriptName;
  if (prefix === undefined) {
    if (original === url) return ['', url];
    if (typeof routed.baseUrl === 'string') {
      prefix = routed.baseUrl;
    } else {
      const path = pathOf(url);
      if (originalPath.endsWith(path)) prefix = originalPath.slice(0, -path.length);
      else if (path === '/') prefix = originalPath;
      else return ['', url];
    }
    if (!isUnder(originalPath, prefix)) return ['', url];
  } else if (!isUnder(originalPath, prefix)) {
    return [prefix, original];
  }
  return [prefix, original.slice(prefix.length)];
}
