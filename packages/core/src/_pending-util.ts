/**
 * Stand-ins for `guessScheme` and `isHopByHop` until `@wsgi/util` exports them.
 *
 * @module
 */
import type { Environ } from '@wsgi/util';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name.toLowerCase());
}

export function guessScheme(environ: Environ): 'http' | 'https' {
  const https = environ['HTTPS'];
  return https === 'yes' || https === 'on' || https === '1' ? 'https' : 'http';
}
