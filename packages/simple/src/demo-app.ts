/**
 * `wsgiref.simple_server.demo_app`.
 *
 * @module
 */
import { inspect } from 'node:util';

import type { Environ, ResponseBody, StartResponse } from '@wsgi/util';

/**
 * A small application that answers `Hello world!`, an empty line, then every environ key in
 * sorted order as `key = value` lines (values shown as `util.inspect` shows them, as Python shows
 * `repr()`), as UTF-8 `text/plain`.
 *
 * @see Python's `wsgiref.simple_server.demo_app`
 */
export function demoApp(environ: Environ, startResponse: StartResponse): ResponseBody {
  let text = 'Hello world!\n\n';
  for (const key of Object.keys(environ).sort()) {
    text += `${key} = ${inspect(environ[key], { depth: 0, breakLength: Infinity })}\n`;
  }
  startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
  return [Buffer.from(text, 'utf8')];
}
