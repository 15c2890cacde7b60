/**
 * startResponse() and write(): the checks on what the application hands over (PEP 3333, "The
 * start_response() Callable" and "The write() Callable") and the order of writes.
 */
import { describe, expect, it } from 'vitest';

import { WSGIAssertionError, WSGIError } from '../src/index.ts';
import type { WSGIErrorCode, Write } from '../src/index.ts';
import { ERROR_PAGE, MemoryHandler, enc, runCgi } from './_memory-handler.ts';

/** A handler after setupEnviron(), to call startResponse() and write() directly. */
async function ready(): Promise<MemoryHandler> {
  const handler = new MemoryHandler();
  handler.originServer = false;
  await handler.setupEnviron();
  return handler;
}

function expectCode(fn: () => unknown, code: WSGIErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WSGIAssertionError);
  expect(caught).toBeInstanceOf(WSGIError);
  expect((caught as WSGIError).code).toBe(code);
}

describe('startResponse() checks the status', () => {
  const bad: unknown[] = [
    '200',
    '20 OK',
    '2000 OK',
    'abc OK',
    '200-OK',
    ' 200 OK',
    200,
    null,
    '200 OK\r\nX-Injected: 1',
    '200 O\nK',
    '200 OK\x7f',
    '200 OK\u0100',
    '\uff11\uff12\uff13 OK',
    // Not a final response (1xx is interim; below 100 is no HTTP status).
    '100 Continue',
    '101 Switching Protocols',
    '103 Early Hints',
    '199 Odd',
    '000 Z',
    '099 Odd',
  ];
  for (const status of bad) {
    it(`refuses ${JSON.stringify(status)}`, async () => {
      const handler = await ready();
      expectCode(() => handler.startResponse(status as string, []), 'ERR_WSGI_INVALID_STATUS');
      // Nothing was stored: a correct call still works.
      handler.startResponse('200 OK', []);
      expect(handler.status).toBe('200 OK');
    });
  }

  it('accepts a reason with tab, latin-1 and no text at all', async () => {
    for (const status of ['200 ', '200 O\tK', '200 Caf\xe9', '599 Whatever it is', '999 Odd']) {
      const handler = await ready();
      handler.startResponse(status, []);
      expect(handler.status).toBe(status);
    }
  });

  it('answers a bad status with the error page and logs the WSGIAssertionError', async () => {
    const handler = await runCgi((_e, s) => {
      s('200', []);
      return [enc('never sent')];
    });
    expect(handler.output).toBe(ERROR_PAGE);
    expect(handler.errors.text).toMatch(/^WSGIAssertionError: Status must be three digits/);
  });

  it('answers a 1xx status with the error page, not an interim response', async () => {
    const handler = await runCgi((_e, s) => {
      s('103 Early Hints', [['Link', '</a.css>; rel=preload']]);
      return [enc('body')];
    });
    expect(handler.output).toBe(ERROR_PAGE);
    expect(handler.errors.text).toMatch(/^WSGIAssertionError: Status must be a final response/);
  });
});

describe('startResponse() checks the headers', () => {
  const bad: Array<[string, unknown, WSGIErrorCode]> = [
    ['not an array', { 'Content-Type': 'text/plain' }, 'ERR_WSGI_INVALID_HEADER'],
    ['a pair of three', [['A', 'b', 'c']], 'ERR_WSGI_INVALID_HEADER'],
    ['a string item', ['Content-Type: text/plain'], 'ERR_WSGI_INVALID_HEADER'],
    ['a number name', [[1, 'x']], 'ERR_WSGI_INVALID_HEADER'],
    ['a number value', [['Content-Length', 12]], 'ERR_WSGI_INVALID_HEADER'],
    ['a name with a space', [['X Y', 'z']], 'ERR_WSGI_INVALID_HEADER'],
    ['a name with a colon', [['X:', 'z']], 'ERR_WSGI_INVALID_HEADER'],
    ['an empty name', [['', 'z']], 'ERR_WSGI_INVALID_HEADER'],
    ['a value with CR LF', [['X', 'a\r\nSet-Cookie: evil=1']], 'ERR_WSGI_INVALID_HEADER'],
    ['a value with NUL', [['X', 'a\0b']], 'ERR_WSGI_INVALID_HEADER'],
    ['a value with DEL', [['X', 'a\x7fb']], 'ERR_WSGI_INVALID_HEADER'],
    ['a value above \\xff', [['X', 'caf\u00e9\u2603']], 'ERR_WSGI_INVALID_HEADER'],
    ['a name above \\xff', [['X\u0100', 'v']], 'ERR_WSGI_INVALID_HEADER'],
    ['Connection', [['Connection', 'close']], 'ERR_WSGI_HOP_BY_HOP_HEADER'],
    ['transfer-encoding', [['transfer-encoding', 'chunked']], 'ERR_WSGI_HOP_BY_HOP_HEADER'],
    ['Keep-Alive', [['Keep-Alive', 'timeout=5']], 'ERR_WSGI_HOP_BY_HOP_HEADER'],
    ['Upgrade', [['Upgrade', 'h2c']], 'ERR_WSGI_HOP_BY_HOP_HEADER'],
    ['a hexadecimal Content-Length', [['Content-Length', '0x10']], 'ERR_WSGI_INVALID_HEADER'],
    ['a negative Content-Length', [['Content-Length', '-1']], 'ERR_WSGI_INVALID_HEADER'],
    ['an empty Content-Length', [['content-length', '']], 'ERR_WSGI_INVALID_HEADER'],
    ['a Content-Length with a space', [['Content-Length', ' 5']], 'ERR_WSGI_INVALID_HEADER'],
    ['a Content-Length list', [['Content-Length', '5, 5']], 'ERR_WSGI_INVALID_HEADER'],
    ['a Content-Length with a sign', [['Content-Length', '+5']], 'ERR_WSGI_INVALID_HEADER'],
    ['a fractional Content-Length', [['Content-Length', '1.5']], 'ERR_WSGI_INVALID_HEADER'],
    [
      'a 16-digit Content-Length',
      [['Content-Length', '1234567890123456']],
      'ERR_WSGI_INVALID_HEADER',
    ],
    ['a word as Content-Length', [['Content-Length', 'many']], 'ERR_WSGI_INVALID_HEADER'],
    [
      'two differing Content-Length',
      [
        ['Content-Length', '3'],
        ['content-length', '16'],
      ],
      'ERR_WSGI_INVALID_HEADER',
    ],
    [
      'two equal Content-Length',
      [
        ['Content-Length', '3'],
        ['Content-Length', '3'],
      ],
      'ERR_WSGI_INVALID_HEADER',
    ],
  ];
  for (const [name, headers, code] of bad) {
    it(`refuses ${name}`, async () => {
      const handler = await ready();
      expectCode(() => handler.startResponse('200 OK', headers as Array<[string, string]>), code);
      expect(handler.headers).toBeNull();
    });
  }

  // Names found good are remembered: what comes with them must still be checked every time.
  it('checks a name the same way each time it comes, good or bad', async () => {
    for (let pass = 0; pass < 3; pass += 1) {
      const good = await ready();
      good.startResponse('200 OK', [
        ['Content-Length', '3'],
        ['X-Name', 'v'],
      ]);
      expect(good.headers?.get('content-length')).toBe('3');
      for (const [headers, code] of [
        [[['Connection', 'close']], 'ERR_WSGI_HOP_BY_HOP_HEADER'],
        [[['X Name', 'v']], 'ERR_WSGI_INVALID_HEADER'],
        [[['X-Name', 'a\r\nb']], 'ERR_WSGI_INVALID_HEADER'],
        [[['Content-Length', 'x']], 'ERR_WSGI_INVALID_HEADER'],
        [
          [
            ['Content-Length', '3'],
            ['Content-Length', '3'],
          ],
          'ERR_WSGI_INVALID_HEADER',
        ],
      ] as Array<[Array<[string, string]>, WSGIErrorCode]>) {
        const handler = await ready();
        expectCode(() => handler.startResponse('200 OK', headers), code);
      }
    }
  });

  it('accepts tabs and latin-1 in values, and every token character in names', async () => {
    const handler = await ready();
    handler.startResponse('200 OK', [
      ["!#$%&'*+-.^_`|~09azAZ", 'a\tb caf\xe9'],
      ['X-Empty', ''],
    ]);
    expect(handler.headers?.get('X-Empty')).toBe('');
    expect(handler.headers?.get("!#$%&'*+-.^_`|~09azaz")).toBe('a\tb caf\xe9');
  });

  it('accepts one Content-Length of 1 to 15 digits, leading zeros included', async () => {
    for (const value of ['0', '007', '123456789012345']) {
      const handler = await ready();
      handler.startResponse('200 OK', [['CONTENT-LENGTH', value]]);
      expect(handler.headers?.get('Content-Length')).toBe(value);
    }
  });

  it("keeps later changes to the application's list out", async () => {
    const handler = await runCgi((_e, s) => {
      const headers: Array<[string, string]> = [['X-A', '1']];
      s('200 OK', headers);
      headers.push(['X-Evil', 'late\r\n']);
      if (headers[0]) headers[0][1] = 'changed';
      return [];
    });
    expect(handler.output).toBe('Status: 200 OK\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n');
  });

  it('answers a hop-by-hop header with the error page', async () => {
    const handler = await runCgi((_e, s) => {
      s('200 OK', [['Connection', 'close']]);
      return [];
    });
    expect(handler.output).toBe(ERROR_PAGE);
    expect(handler.errors.text).toContain("Hop-by-hop header, 'Connection: close', not allowed");
  });
});

describe('startResponse() and excInfo', () => {
  it('returns the bound write callable', async () => {
    const handler = await ready();
    const write = handler.startResponse('200 OK', []);
    const { write: bound } = handler;
    expect(write).toBe(bound);
    await write(enc('x'));
    expect(handler.output).toBe('Status: 200 OK\r\n\r\nx');
  });

  it('refuses a second call without excInfo: Headers already set!', async () => {
    const handler = await ready();
    handler.startResponse('200 OK', []);
    expectCode(() => handler.startResponse('404 Not Found', []), 'ERR_WSGI_HEADERS_ALREADY_SET');
    expect(handler.status).toBe('200 OK');
  });

  it('replaces status and headers not yet sent when given excInfo', async () => {
    const handler = await runCgi((_e, s) => {
      s('200 OK', [['X-First', '1']]);
      try {
        throw new Error('failed while rendering');
      } catch (error) {
        s('503 Service Unavailable', [['Retry-After', '5']], error);
        return [enc('try later')];
      }
    });
    expect(handler.output).toBe(
      'Status: 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 9\r\n\r\ntry later',
    );
    expect(handler.errors.text).toBe('');
  });

  it('throws excInfo itself when headers were already sent', async () => {
    const handler = await ready();
    const write = handler.startResponse('200 OK', []);
    await write(enc('partial'));
    const original = new RangeError('the original error');
    expect(() => handler.startResponse('500 Oops', [], original)).toThrow(original);
    const thrown = 'a thrown string';
    expect(() => handler.startResponse('500 Oops', [], thrown)).toThrow(thrown);
  });

  it('treats a null or undefined excInfo as none', async () => {
    const handler = await ready();
    handler.startResponse('200 OK', [], null);
    expectCode(
      () => handler.startResponse('200 OK', [], undefined),
      'ERR_WSGI_HEADERS_ALREADY_SET',
    );
  });
});

describe('write()', () => {
  it('refuses data that is not a Uint8Array, synchronously', async () => {
    const handler = await ready();
    const write = handler.startResponse('200 OK', []);
    for (const data of ['text', [104, 105], new Uint16Array(2), new ArrayBuffer(2), null]) {
      expectCode(() => write(data as unknown as Uint8Array), 'ERR_WSGI_NOT_BYTES');
    }
    expect(handler.output).toBe('');
  });

  it('refuses to write before startResponse()', async () => {
    const handler = await ready();
    expectCode(() => handler.write(enc('x')), 'ERR_WSGI_NO_START_RESPONSE');
  });

  it('refuses to write or start a response after it finished', async () => {
    let saved: { write: Write; start: typeof MemoryHandler.prototype.startResponse } | undefined;
    const handler = await runCgi((_e, s) => {
      saved = { write: s('200 OK', []), start: s };
      return [enc('done')];
    });
    if (saved === undefined) throw new Error('the application did not run');
    const { write, start } = saved;
    expectCode(() => write(enc('late')), 'ERR_WSGI_RESPONSE_FINISHED');
    expectCode(() => start('200 OK', []), 'ERR_WSGI_RESPONSE_FINISHED');
    expect(handler.output).toBe('Status: 200 OK\r\nContent-Length: 4\r\n\r\ndone');
  });

  it('sends the headers at the first call, even with empty data', async () => {
    const handler = await ready();
    const write = handler.startResponse('200 OK', [['X', '1']]);
    expect(handler.headersSent).toBe(false);
    await write(new Uint8Array());
    expect(handler.headersSent).toBe(true);
    expect(handler.output).toBe('Status: 200 OK\r\nX: 1\r\n\r\n');
    expect(handler.bytesSent).toBe(0);
    await write(enc('abc'));
    await write(Buffer.from('de'));
    expect(handler.bytesSent).toBe(5);
    expect(handler.output).toBe('Status: 200 OK\r\nX: 1\r\n\r\nabcde');
  });

  it('keeps writes in order when they are not awaited (async transport)', async () => {
    const handler = await runCgi(
      (_e, s) => {
        const write = s('200 OK', []);
        const pending = ['a', 'b', 'c', 'd'].map((x) => write(enc(x)));
        expect(pending.every((p) => p instanceof Promise)).toBe(true);
        return (async function* () {
          await Promise.resolve();
          yield enc('e');
          void write(enc('f'));
          yield enc('g');
        })();
      },
      { async: true },
    );
    expect(handler.output).toBe('Status: 200 OK\r\n\r\nabcdefg');
    expect(handler.errors.text).toBe('');
  });

  it('starts a write only after the one before it is done, and resolves each in turn', async () => {
    const pending: Array<() => void> = [];
    class Manual extends MemoryHandler {
      override _write(data: Uint8Array): Promise<void> {
        this.writes.push(Uint8Array.from(data));
        return new Promise((resolve) => pending.push(resolve));
      }
    }
    const handler = new Manual();
    handler.originServer = false;
    await handler.setupEnviron();
    const write = handler.startResponse('200 OK', []);
    const settled: string[] = [];
    const first = write(enc('1')).then(() => settled.push('1'));
    const second = write(enc('2')).then(() => settled.push('2'));
    expect(handler.writes).toHaveLength(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(handler.writes).toHaveLength(1);
    pending.shift()?.();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toEqual(['1']);
    expect(handler.output).toBe('Status: 200 OK\r\n\r\n12');
    pending.shift()?.();
    await second;
    expect(settled).toEqual(['1', '2']);
  });

  it('finishes the response only after writes the application did not await', async () => {
    const events: string[] = [];
    class Recording extends MemoryHandler {
      override _write(data: Uint8Array): Promise<void> {
        this.writes.push(Uint8Array.from(data));
        return new Promise((resolve) =>
          setTimeout(() => {
            events.push(`written ${Buffer.from(data).toString('latin1').slice(-1)}`);
            resolve();
          }, 2),
        );
      }
    }
    const handler = new Recording();
    handler.originServer = false;
    await handler.run((_e, s) => {
      const write = s('200 OK', []);
      void write(enc('a'));
      void write(enc('b'));
      return Object.assign([], { close: () => void events.push('closed') });
    });
    expect(events).toEqual(['written a', 'written b', 'closed']);
    expect(handler.output).toBe('Status: 200 OK\r\n\r\nab');
  });

  it('works when detached from the handler (it is bound)', async () => {
    const handler = await runCgi((_e, s) => {
      const { write } = { write: s('200 OK', []) };
      void write(enc('bound'));
      return [];
    });
    expect(handler.output).toBe('Status: 200 OK\r\n\r\nbound');
  });
});
