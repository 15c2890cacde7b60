import { describe, expect, it } from 'vitest';

import type { Environ } from '@wsgi/util';

import { demoApp } from '../src/index.ts';

describe('demoApp', () => {
  it('answers Hello world!, an empty line, then the environ sorted as key = value lines', () => {
    const calls: Array<[string, Array<[string, string]>]> = [];
    const environ = {
      REQUEST_METHOD: 'GET',
      PATH_INFO: '/caf\u00e9',
      'wsgi.version': [1, 0],
      HTTP_ACCEPT: '*/*',
      CONTENT_LENGTH: '',
    } as unknown as Environ;
    const body = demoApp(environ, (status, headers) => {
      calls.push([status, headers]);
      return () => Promise.resolve();
    });
    expect(calls).toEqual([['200 OK', [['Content-Type', 'text/plain; charset=utf-8']]]]);
    const chunks = [...(body as Iterable<Uint8Array>)];
    expect(chunks).toHaveLength(1);
    const text = Buffer.from(chunks[0] ?? new Uint8Array(0)).toString('utf8');
    expect(text).toBe(
      [
        'Hello world!',
        '',
        "CONTENT_LENGTH = ''",
        "HTTP_ACCEPT = '*/*'",
        "PATH_INFO = '/café'",
        "REQUEST_METHOD = 'GET'",
        'wsgi.version = [ 1, 0 ]',
        '',
      ].join('\n'),
    );
  });
});
