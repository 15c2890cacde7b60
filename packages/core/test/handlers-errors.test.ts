/**
 * Errors, the error page, closing the body exactly once, a client that went away, and where
 * we deliberately differ from wsgiref (API.md, items 1–3).
 */
import { describe, expect, it } from 'vitest';

import { isClientDisconnect } from '../src/index.ts';
import type { Application, ResponseBody, StartResponse } from '../src/index.ts';
import { ERROR_PAGE, MemoryHandler, cgi, codedError, enc, runCgi } from './_memory-handler.ts';
import type { MemoryOptions } from './_memory-handler.ts';

const DISCONNECTS = [
  'EPIPE',
  'ECONNRESET',
  'ECONNABORTED',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_STREAM_WRITE_AFTER_END',
];

/** A body that counts its close() calls and whether its iterator was ended early. */
class Tracked implements Iterable<Uint8Array> {
  closes = 0;
  returned = 0;
  pulled = 0;
  readonly #chunks: unknown[];
  readonly #failAt: number;
  constructor(chunks: unknown[], failAt = -1) {
    this.#chunks = chunks;
    this.#failAt = failAt;
  }
  close(): void {
    this.closes += 1;
  }
  [Symbol.iterator](): Iterator<Uint8Array> {
    let i = 0;
    return {
      next: () => {
        if (i === this.#failAt) throw new Error(`body failed at ${i}`);
        const value = this.#chunks[i++] as Uint8Array | undefined;
        this.pulled = i;
        return value === undefined ? { done: true, value: undefined } : { done: false, value };
      },
      return: () => {
        this.returned += 1;
        return { done: true, value: undefined };
      },
    };
  }
}

function appReturning(body: ResponseBody, headers: Array<[string, string]> = []): Application {
  return (_e, s) => {
    s('200 OK', headers);
    return body;
  };
}

describe('errors before the headers are sent', () => {
  it('log the stack to wsgi.errors and send the error page, never the stack', async () => {
    const handler = await runCgi(() => {
      throw new TypeError('secret detail');
    });
    expect(handler.output).toBe(ERROR_PAGE);
    expect(handler.output).not.toContain('secret');
    expect(handler.errors.text).toMatch(/^TypeError: secret detail\n {4}at /);
    expect(handler.errors.flushes).toBeGreaterThan(0);
  });

  it('come from an async application too', async () => {
    const handler = await runCgi(async (_e, s) => {
      s('200 OK', [['X-Dropped', '1']]);
      await Promise.resolve();
      throw new Error('async failure');
    });
    expect(handler.output).toBe(ERROR_PAGE);
    expect(handler.errors.text).toMatch(/^Error: async failure\n/);
  });

  it('use errorStatus, errorHeaders and errorBody', async () => {
    const handler = cgi();
    handler.errorStatus = '503 Service Unavailable';
    handler.errorHeaders = [['Content-Type', 'text/html']];
    handler.errorBody = enc('<p>down</p>');
    await handler.run(() => {
      throw new Error('x');
    });
    expect(handler.output).toBe(
      'Status: 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\n<p>down</p>',
    );
    expect(handler.errorHeaders).toEqual([['Content-Type', 'text/html']]);
  });

  it('become an error page even after an empty chunk (API.md, item 1)', async () => {
    const handler = await runCgi((_e, s) => {
      s('200 OK', []);
      return (function* () {
        yield new Uint8Array();
        throw new Error('late');
      })();
    });
    expect(handler.output).toBe(ERROR_PAGE);
  });

  it('limit the logged frames with tracebackLimit', async () => {
    function deep(n: number): never {
      if (n === 0) throw new Error('deep');
      return deep(n - 1);
    }
    const frames = async (limit: number | null): Promise<number> => {
      const handler = cgi();
      handler.tracebackLimit = limit;
      await handler.run(() => deep(6));
      return handler.errors.text.split('\n').filter((line) => /^\s+at /.test(line)).length;
    };
    expect(await frames(null)).toBeGreaterThan(6);
    expect(await frames(2)).toBe(2);
    expect(await frames(0)).toBe(0);
  });

  it('log the cause chain and values that are not errors', async () => {
    let handler = await runCgi(() => {
      throw new Error('outer', { cause: new RangeError('inner') });
    });
    expect(handler.errors.text).toMatch(/^Error: outer\n[\s\S]*\nCaused by: RangeError: inner\n/);
    handler = await runCgi(() => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- what is tested
      throw 'a string';
    });
    expect(handler.output).toBe(ERROR_PAGE);
    expect(handler.errors.text).toBe("Uncaught 'a string'\n");
  });

  it('let an errorOutput() override start a fresh response without excInfo', async () => {
    class Custom extends MemoryHandler {
      override errorOutput(_e: unknown, startResponse: StartResponse): ResponseBody {
        startResponse('502 Bad Gateway', [['Content-Type', 'text/plain']]);
        return [enc('upstream failed')];
      }
    }
    const handler = new Custom();
    handler.originServer = false;
    await handler.run((_e, s) => {
      s('200 OK', [['X-Partial', '1']]);
      throw new Error('upstream');
    });
    expect(handler.output).toBe(
      'Status: 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 15\r\n\r\nupstream failed',
    );
  });

  it('log where getStderr() says, and can be retargeted by overriding logException()', async () => {
    const logged: unknown[] = [];
    class Retargeted extends MemoryHandler {
      override logException(error: unknown): void {
        logged.push(error);
      }
    }
    const handler = new Retargeted();
    handler.originServer = false;
    const error = new Error('to the log');
    await handler.run(() => {
      throw error;
    });
    expect(logged).toEqual([error]);
    expect(handler.errors.text).toBe('');
  });
});

describe('errors after the headers are sent', () => {
  it('are logged and nothing more is sent', async () => {
    const body = new Tracked([enc('first'), 'not bytes', enc('never')]);
    const handler = await runCgi(appReturning(body));
    expect(handler.output).toBe('Status: 200 OK\r\n\r\nfirst');
    expect(handler.errors.text).toMatch(/^WSGIAssertionError: The response body must yield/);
    expect(body.closes).toBe(1);
    expect(body.returned).toBe(1);
    expect(handler.status).toBeNull();
  });

  it('from an async application after write() are logged only', async () => {
    const handler = await runCgi(async (_e, s) => {
      await s('200 OK', [])(enc('partial'));
      throw new Error('after write');
    });
    expect(handler.output).toBe('Status: 200 OK\r\n\r\npartial');
    expect(handler.errors.text).toMatch(/^Error: after write\n/);
  });

  it('in close() after a complete response are logged only (API.md, item 3)', async () => {
    const body = Object.assign([enc('complete')], {
      close: () => {
        throw new Error('close failed');
      },
    });
    const handler = await runCgi(appReturning(body));
    // CPython appends a second, error response here in CGI mode; we send nothing more.
    expect(handler.output).toBe('Status: 200 OK\r\nContent-Length: 8\r\n\r\ncomplete');
    expect(handler.errors.text).toMatch(/^Error: close failed\n/);
  });

  it('in an async close() after a complete response are logged only', async () => {
    const body = Object.assign([enc('complete')], {
      close: () => Promise.reject(new Error('async close failed')),
    });
    const handler = await runCgi(appReturning(body), { async: true });
    expect(handler.output).toBe('Status: 200 OK\r\nContent-Length: 8\r\n\r\ncomplete');
    expect(handler.errors.text).toMatch(/^Error: async close failed\n/);
  });
});

describe('misuse by the application', () => {
  const cases: Array<[string, Application, RegExp]> = [
    ['no startResponse() and an empty body', () => [], /before startResponse\(\)/],
    ['no startResponse() and data', () => [enc('x')], /write\(\) before startResponse\(\)/],
    [
      'headers set twice',
      (_e, s) => {
        s('200 OK', []);
        s('200 OK', []);
        return [];
      },
      /Headers already set!/,
    ],
    [
      'a string body',
      (_e, s) => {
        s('200 OK', []);
        return 'text' as unknown as ResponseBody;
      },
      /ERR_WSGI_INVALID_BODY|must return an iterable/,
    ],
    [
      'a bare Uint8Array body',
      (_e, s) => {
        s('200 OK', []);
        return enc('bytes') as unknown as ResponseBody;
      },
      /must return an iterable/,
    ],
    [
      'a null body',
      (_e, s) => {
        s('200 OK', []);
        return null as unknown as ResponseBody;
      },
      /must return an iterable/,
    ],
    [
      'a string chunk',
      (_e, s) => {
        s('200 OK', []);
        return ['text'] as unknown as ResponseBody;
      },
      /must yield Uint8Array chunks/,
    ],
  ];
  for (const [name, app, logged] of cases) {
    it(`answers ${name} with the error page`, async () => {
      const handler = await runCgi(app);
      expect(handler.output).toBe(ERROR_PAGE);
      expect(handler.errors.text).toMatch(logged);
    });
  }
});

describe('the body is closed exactly once', () => {
  const paths: Array<[string, (body: Tracked) => Application, MemoryOptions, number]> = [
    ['on success', (b) => appReturning(b), {}, 0],
    ['on success with async hooks', (b) => appReturning(b), { async: true }, 0],
    ['when a chunk is not bytes', () => appReturning(new Tracked([enc('a'), 42])), {}, 1],
    ['when the iterator throws', () => appReturning(new Tracked([enc('a'), enc('b')], 1)), {}, 0],
    [
      'when _write() fails',
      (b) => appReturning(b),
      { failWith: new Error('disk full'), failAt: 0 },
      1,
    ],
    [
      'when an async _write() fails',
      (b) => appReturning(b),
      { failWith: new Error('disk full'), failAt: 1, async: true },
      1,
    ],
    ['when the client went away', (b) => appReturning(b), { failWith: codedError('EPIPE') }, 1],
  ];
  for (const [name, makeApp, options, returns] of paths) {
    it(name, async () => {
      let body = new Tracked([enc('a'), enc('b'), enc('c')]);
      const app = makeApp(body);
      const handler = cgi(options);
      await handler.run((environ, start) => {
        const returned = app(environ, start) as ResponseBody;
        if (returned instanceof Tracked) body = returned;
        return returned;
      });
      expect(body.closes).toBe(1);
      expect(body.returned).toBe(returns);
    });
  }

  it('when sendfile() throws', async () => {
    class Failing extends MemoryHandler {
      override sendfile(): boolean {
        throw new Error('sendfile failed');
      }
      override resultIsFile(): boolean {
        return this.result instanceof Tracked;
      }
    }
    const body = new Tracked([enc('a')]);
    const handler = new Failing();
    handler.originServer = false;
    await handler.run(appReturning(body));
    expect(body.closes).toBe(1);
    expect(handler.output).toBe(ERROR_PAGE);
  });

  it('when handling the error fails too, and run() rejects', async () => {
    class Broken extends MemoryHandler {
      override logException(): void {
        throw new Error('cannot log');
      }
    }
    const body = new Tracked([enc('a'), 'bad']);
    const handler = new Broken();
    handler.originServer = false;
    await expect(handler.run(appReturning(body))).rejects.toThrow('cannot log');
    expect(body.closes).toBe(1);
    expect(handler.status).toBeNull();
  });

  it('calling close() once when logging the close failure fails too', async () => {
    class Broken extends MemoryHandler {
      closes = 0;
      override logException(): void {
        throw new Error('cannot log');
      }
      override close(): void | Promise<void> {
        this.closes += 1;
        return super.close();
      }
    }
    const body = Object.assign([enc('a')], {
      close: () => {
        throw new Error('close failed');
      },
    });
    const handler = new Broken();
    handler.originServer = false;
    await expect(handler.run(appReturning(body))).rejects.toThrow('cannot log');
    expect(handler.closes).toBe(1);
    expect(handler.output).toBe('Status: 200 OK\r\nContent-Length: 1\r\n\r\na');
  });

  it('when close() of the body itself throws during an error', async () => {
    const body = Object.assign(new Tracked([enc('a'), 'bad']), {
      close(this: Tracked): void {
        this.closes += 1;
        throw new Error('close failed too');
      },
    });
    const handler = await runCgi(appReturning(body));
    expect(body.closes).toBe(1);
    expect(handler.output).toBe('Status: 200 OK\r\n\r\na');
    expect(handler.errors.text).toContain('Error: close failed too');
    expect(handler.errors.text).toContain('WSGIAssertionError');
  });

  it('ending a generator left early with return(), running its finally', async () => {
    let cleaned = 0;
    const handler = await runCgi(
      appReturning(
        (function* () {
          try {
            yield enc('a');
            yield enc('b');
          } finally {
            cleaned += 1;
          }
        })(),
      ),
      { failWith: codedError('ECONNRESET') },
    );
    expect(cleaned).toBe(1);
    expect(handler.errors.text).toBe('');
  });

  it('ending an async generator left early with return(), running its finally', async () => {
    let cleaned = 0;
    await runCgi(
      appReturning(
        (async function* () {
          try {
            await Promise.resolve();
            yield enc('a');
            yield enc('b');
          } finally {
            cleaned += 1;
          }
        })(),
      ),
      { failWith: new Error('boom'), failAt: 0, async: true },
    );
    expect(cleaned).toBe(1);
  });
});

describe('a client that went away', () => {
  for (const code of DISCONNECTS) {
    it(`ends quietly on ${code} from _write()`, async () => {
      for (const async of [false, true]) {
        const body = new Tracked([enc('a'), enc('b')]);
        const handler = await runCgi(appReturning(body), {
          failWith: codedError(code),
          async,
        });
        expect(handler.output).toBe('');
        expect(handler.errors.text).toBe('');
        expect(body.closes).toBe(1);
        expect(handler.status).toBeNull();
      }
    });
  }

  it('ends quietly when the application itself meets the disconnect', async () => {
    const handler = await runCgi(() => {
      throw codedError('ECONNRESET', 'read ECONNRESET');
    });
    expect(handler.output).toBe('');
    expect(handler.errors.text).toBe('');
  });

  it('ends quietly when the error page itself cannot be sent', async () => {
    const handler = await runCgi(
      () => {
        throw new Error('app failed');
      },
      { failWith: codedError('EPIPE') },
    );
    expect(handler.output).toBe('');
    expect(handler.errors.text).toMatch(/^Error: app failed/);
  });

  it('surfaces to the application as a rejected write() it may ignore', async () => {
    const handler = await runCgi(
      (_e, s) => {
        const write = s('200 OK', []);
        void write(enc('a'));
        void write(enc('b'));
        return [];
      },
      { failWith: codedError('EPIPE'), async: true },
    );
    expect(handler.errors.text).toBe('');
  });

  it('leaves no unhandled rejection when the application drops a failed write and throws', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', record);
    try {
      const events: string[] = [];
      class Failing extends MemoryHandler {
        override _write(): Promise<void> {
          return new Promise((_resolve, reject) =>
            setTimeout(() => {
              events.push('write failed');
              reject(new Error('transport failed'));
            }, 2),
          );
        }
        override close(): void | Promise<void> {
          events.push('closed');
          return super.close();
        }
      }
      const handler = new Failing();
      handler.originServer = false;
      await handler.run((_e, s) => {
        void s('200 OK', [])(enc('a'));
        throw new Error('app failed after write');
      });
      // The write in flight ended before the response was closed.
      expect(events).toEqual(['write failed', 'closed']);
      expect(handler.errors.text).toMatch(/^Error: app failed after write/);
      // A dropped write() promise outside run() is no unhandled rejection either.
      const direct = new MemoryHandler({ async: true, failWith: new Error('dropped') });
      await direct.setupEnviron();
      void direct.startResponse('200 OK', [])(enc('x'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('is recognised by isClientDisconnect()', () => {
    for (const code of DISCONNECTS) expect(isClientDisconnect(codedError(code))).toBe(true);
    // Duck-typed on `code`, as Node's own errors are.
    expect(isClientDisconnect({ code: 'EPIPE' })).toBe(true);
    for (const value of [
      new Error('EPIPE'),
      codedError('ENOENT'),
      codedError('ERR_WSGI_NOT_BYTES'),
      { code: 42 },
      'EPIPE',
      null,
      undefined,
      new Error('wrapped', { cause: codedError('EPIPE') }),
    ]) {
      expect(isClientDisconnect(value)).toBe(false);
    }
  });
});

describe('a declared Content-Length is never exceeded (API.md, item 2)', () => {
  it('cuts a longer body and logs the mismatch', async () => {
    const body = new Tracked([enc('abc'), enc('defgh'), enc('ij')]);
    const handler = await runCgi(appReturning(body, [['Content-Length', '5']]));
    expect(handler.output).toBe('Status: 200 OK\r\nContent-Length: 5\r\n\r\nabcde');
    expect(handler.errors.text).toBe(
      'Content-Length is 5 but the application sent more (at least 8 bytes); the excess was not sent\n',
    );
    // Iteration stopped at the first chunk past the limit; the iterator was ended.
    expect(body.pulled).toBe(2);
    expect(body.returned).toBe(1);
    expect(body.closes).toBe(1);
  });

  it('stops an endless body', async () => {
    let pulled = 0;
    const handler = await runCgi(
      appReturning(
        (function* () {
          for (;;) {
            pulled += 1;
            if (pulled > 1000) throw new Error('not stopped');
            yield enc('xy');
          }
        })(),
        [['Content-Length', '3']],
      ),
    );
    expect(handler.output).toBe('Status: 200 OK\r\nContent-Length: 3\r\n\r\nxyx');
    expect(pulled).toBe(2);
  });

  it('cuts what write() sends too', async () => {
    const handler = await runCgi((_e, s) => {
      const write = s('200 OK', [['Content-Length', '2']]);
      void write(enc('abc'));
      void write(enc('def'));
      return [];
    });
    expect(handler.output).toBe('Status: 200 OK\r\nContent-Length: 2\r\n\r\nab');
    expect(handler.errors.text).toContain('Content-Length is 2 but the application sent more');
  });

  it('applies where no header block is sent (HTTP/0.9)', async () => {
    const handler = new MemoryHandler({ environ: { SERVER_PROTOCOL: 'HTTP/0.9' } });
    await handler.run(appReturning([enc('abcdef')], [['Content-Length', '3']]));
    expect(handler.output).toBe('abc');
    expect(handler.errors.text).toContain('Content-Length is 3');
  });

  it('logs a shorter body, but not for HEAD or 304', async () => {
    let handler = await runCgi(appReturning([enc('abc')], [['Content-Length', '10']]));
    expect(handler.output).toBe('Status: 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    expect(handler.errors.text).toBe('Content-Length is 10 but the application sent 3 bytes\n');
    handler = await runCgi(appReturning([], [['Content-Length', '10']]), {
      environ: { REQUEST_METHOD: 'HEAD' },
    });
    expect(handler.errors.text).toBe('');
    handler = await runCgi((_e, s) => {
      s('304 Not Modified', [['Content-Length', '10']]);
      return [];
    });
    expect(handler.errors.text).toBe('');
  });

  it('refuses a Content-Length that is not 1*DIGIT: the error page, not the header', async () => {
    for (const value of ['many', '0x10', '-1', '']) {
      const handler = await runCgi(appReturning([enc('abc')], [['Content-Length', value]]));
      expect(handler.output).toBe(ERROR_PAGE);
      expect(handler.errors.text).toMatch(/^WSGIAssertionError: Content-Length must be given once/);
    }
  });

  it('hands subclasses the declared length, after cleanupHeaders()', async () => {
    class Probe extends MemoryHandler {
      readonly seen: number[] = [];
      override sendHeaders(data?: Uint8Array): void | Promise<void> {
        const sending = super.sendHeaders(data);
        this.seen.push(this.declaredLength);
        return sending;
      }
    }
    const apps: Array<[Application, number]> = [
      [appReturning([enc('abc')], [['content-length', '007']]), 7],
      [appReturning([enc('abc'), enc('d')], []), -1],
      // One chunk: cleanupHeaders() sets it.
      [appReturning([enc('abcd')], []), 4],
    ];
    for (const [app, expected] of apps) {
      const handler = new Probe();
      handler.originServer = false;
      await handler.run(app);
      expect(handler.seen).toEqual([expected]);
    }
  });

  it('refuses a second Content-Length: the error page, not both headers', async () => {
    const handler = await runCgi(
      appReturning(
        [enc('abc')],
        [
          ['Content-Length', '3'],
          ['Content-Length', '16'],
        ],
      ),
    );
    expect(handler.output).toBe(ERROR_PAGE);
  });
});
