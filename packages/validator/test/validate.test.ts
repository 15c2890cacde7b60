/**
 * validator(): options, where findings go, and the promise that a valid application's output
 * is unchanged (framing, sync vs async iteration, close(), return()).
 */
import { toErrorStream, toInputStream, type Application, type ResponseBody } from '@wsgi/util';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { ValidationError, validator, WSGIWarning, type Finding } from '../src/index.ts';
import { collectGarbage } from './_spec.ts';
import { drive, makeEnviron, TestErrors } from './_wsgi.ts';

const TEXT: Array<[string, string]> = [['Content-Type', 'text/plain']];
const hello: Application = (_environ, startResponse) => {
  startResponse('200 OK', TEXT);
  return [Buffer.from('Hello world!')];
};

function collecting(app: Application): { app: Application; findings: Finding[] } {
  const findings: Finding[] = [];
  return { app: validator(app, { mode: 'collect', onFinding: (f) => findings.push(f) }), findings };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('options', () => {
  it('refuses an unknown option, a bad mode, a callback that is not a function', () => {
    expect(() => validator(hello, { strict: true } as never)).toThrow(TypeError);
    expect(() => validator(hello, { mode: 'loud' } as never)).toThrow(/mode/);
    expect(() => validator(hello, { onWarning: 'log' } as never)).toThrow(/onWarning/);
    expect(() => validator('app' as never)).toThrow(TypeError);
  });

  it('needs onFinding in collect mode', () => {
    expect(() => validator(hello, { mode: 'collect' })).toThrow(/onFinding/);
  });
});

describe('errors', () => {
  it('throws a ValidationError naming the rule and showing the value, from startResponse', async () => {
    const app = validator((_environ, startResponse) => {
      startResponse('2OO OK', TEXT);
      return [];
    });
    const error = await drive(app).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      name: 'ValidationError',
      code: 'status.format',
      severity: 'error',
      message: "[status.format] the status must start with a three-digit code: '2OO OK'",
    });
  });

  it('lets an error of the application through unchanged', async () => {
    const boom = new RangeError('boom');
    const app = validator(() => {
      throw boom;
    });
    await expect(drive(app)).rejects.toBe(boom);
  });

  it('passes an error onFinding first, then throws it', () => {
    const findings: Finding[] = [];
    const app = validator(hello, { onFinding: (f) => findings.push(f) });
    const environ = makeEnviron();
    environ.SCRIPT_NAME = '/';
    let thrown: unknown;
    try {
      void app(environ, () => async () => {});
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect(findings).toEqual([thrown]);
    expect(findings.map((f) => f.code)).toEqual(['environ.script-name-root']);
  });
});

describe('warnings', () => {
  it('go to onWarning as WSGIWarning objects and do not stop the call', async () => {
    const warnings: WSGIWarning[] = [];
    const app = validator(hello, { onWarning: (w) => warnings.push(w) });
    const environ = makeEnviron();
    environ.REQUEST_METHOD = 'BREW';
    const response = await drive(app, environ);
    expect(Buffer.concat(response.chunks).toString()).toBe('Hello world!');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toBeInstanceOf(WSGIWarning);
    expect(warnings[0]).toMatchObject({ name: 'WSGIWarning', code: 'environ.request-method' });
    expect(warnings[0]?.message).toContain("'BREW'");
  });

  it("are emitted with process.emitWarning as 'WSGIWarning' by default", async () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const app = validator((_environ, startResponse) => {
      startResponse('200', TEXT);
      return [];
    });
    await drive(app);
    expect(emit).toHaveBeenCalledTimes(1);
    expect(emit.mock.calls[0]?.[0]).toMatch(/^\[status\.reason\] .*'200'/);
    expect(emit.mock.calls[0]?.[1]).toBe('WSGIWarning');
  });

  it('reach a real process warning listener with their type and code', async () => {
    const seen = new Promise<Error>((resolve) => {
      process.once('warning', resolve);
    });
    const environ = makeEnviron();
    delete environ.QUERY_STRING;
    await drive(validator(hello), environ);
    const warning = await seen;
    expect(warning.name).toBe('WSGIWarning');
    expect(warning.message).toMatch(/^\[environ\.query-string-missing\] /);
  });
});

describe("mode: 'collect'", () => {
  it('records every finding in order and lets the call go on unchanged', async () => {
    const { app, findings } = collecting((_environ, startResponse) => {
      startResponse('20 OK', [
        ['Status', '200'],
        ['X-Bad-', 'a\x00b'],
      ]);
      return ['text' as unknown as Uint8Array];
    });
    const environ = makeEnviron();
    environ['HTTP_CONTENT_LENGTH'] = '3';
    const seen: unknown[] = [];
    const body = await app(environ, (...args) => {
      seen.push(...args);
      return async () => {};
    });
    expect(seen).toEqual([
      '20 OK',
      [
        ['Status', '200'],
        ['X-Bad-', 'a\x00b'],
      ],
    ]);
    expect(findings.map((f) => f.code)).toEqual([
      'environ.http-content-header',
      'status.format',
      'headers.status',
      'headers.name-ending',
      'headers.value',
      'body.item',
    ]);
    expect([...(body as Iterable<unknown>)]).toEqual(['text']);
    await body.close?.();
  });

  it('does not emit warnings when there is no onWarning', async () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const { app, findings } = collecting(hello);
    const environ = makeEnviron();
    environ.REQUEST_METHOD = 'BREW';
    await drive(app, environ);
    expect(findings.map((f) => f.code)).toEqual(['environ.request-method']);
    expect(emit).not.toHaveBeenCalled();
  });

  it('hands back a body it cannot wrap as it is', async () => {
    const { app, findings } = collecting((_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      return 'text' as unknown as ResponseBody;
    });
    expect(await app(makeEnviron(), () => async () => {})).toBe('text');
    expect(findings.map((f) => f.code)).toEqual(['body.string']);
  });
});

describe('a valid application', () => {
  it('gives the same bytes with and without the validator', async () => {
    const app: Application = async (environ, startResponse) => {
      const input = environ['wsgi.input'];
      const first = await input.readline();
      const rest = await input.read();
      const write = startResponse('201 Created', [...TEXT, ['X-Len', String(rest.length)]]);
      await write(first);
      return (async function* () {
        yield await Promise.resolve(rest);
        yield new Uint8Array(0);
      })();
    };
    const request = (): ReturnType<typeof makeEnviron> => {
      const environ = makeEnviron();
      environ['wsgi.input'] = toInputStream('line 1\nthe rest', { contentLength: 15 });
      return environ;
    };
    const plain = await drive(app, request());
    const checked = await drive(validator(app), request());
    expect(checked.status).toBe(plain.status);
    expect(checked.headers).toEqual(plain.headers);
    expect(checked.chunks.map((c) => Buffer.from(c).toString('latin1'))).toEqual([
      'line 1\n',
      'the rest',
      '',
    ]);
    expect(checked.chunks).toEqual(plain.chunks);
  });

  it('keeps an array body an array of the same items, with a close()', async () => {
    const items = [Buffer.from('one')];
    const app = validator((_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      return items;
    });
    const body = (await app(makeEnviron(), () => async () => {})) as Uint8Array[] & ResponseBody;
    expect(Array.isArray(body)).toBe(true);
    expect(body).toHaveLength(1);
    expect(body[0]).toBe(items[0]);
    expect('close' in body).toBe(true);
    expect([...body]).toEqual(items);
    await body.close?.();
    expect(() => [...body]).toThrow(/body\.after-close/);
    expect(() => body[0]).toThrow(/body\.after-close/);
    expect(body.length).toBe(1);
  });

  it("forwards close() once to an array body's own close()", async () => {
    const close = vi.fn(() => Promise.resolve());
    const items = Object.assign([Buffer.from('x')], { close });
    const app = validator((_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      return items;
    });
    const body = await app(makeEnviron(), () => async () => {});
    await expect(body.close?.()).resolves.toBeUndefined();
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('keeps a sync body sync and an async body async', async () => {
    const wrap = async (body: ResponseBody): Promise<ResponseBody> =>
      validator((_environ, startResponse) => {
        startResponse('200 OK', TEXT);
        return body;
      })(makeEnviron(), () => async () => {});
    const sync = await wrap(new Set([Buffer.from('a')]));
    expect(Symbol.iterator in sync).toBe(true);
    expect(Symbol.asyncIterator in sync).toBe(false);
    const async = await wrap((async function* () {})());
    expect(Symbol.iterator in async).toBe(false);
    expect(Symbol.asyncIterator in async).toBe(true);
    const both = await wrap({
      *[Symbol.iterator]() {
        yield Buffer.from('s');
      },
      async *[Symbol.asyncIterator]() {
        yield await Promise.resolve(Buffer.from('a'));
      },
    });
    const viaAsync: Uint8Array[] = [];
    for await (const chunk of both as AsyncIterable<Uint8Array>) viaAsync.push(chunk);
    expect([...(both as Iterable<Uint8Array>)].map(String)).toEqual(['s']);
    expect(viaAsync.map(String)).toEqual(['a']);
    for (const body of [sync, async, both]) await body.close?.();
  });

  it('passes close() and its promise through, and ends a generator left early', async () => {
    const events: string[] = [];
    const app = validator((_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      const body = (function* () {
        try {
          yield Buffer.from('a');
          yield Buffer.from('b');
        } finally {
          events.push('finally');
        }
      })();
      return Object.assign(body, {
        close: async () => {
          await Promise.resolve();
          events.push('close');
        },
      });
    });
    const body = (await app(makeEnviron(), () => async () => {})) as Iterable<Uint8Array> &
      ResponseBody;
    for (const chunk of body) {
      expect(String(chunk)).toBe('a');
      break;
    }
    expect(events).toEqual(['finally']);
    const closed = body.close?.();
    expect(closed).toBeInstanceOf(Promise);
    await closed;
    expect(events).toEqual(['finally', 'close']);
  });

  it('lets the inner startResponse throw excInfo as it is', () => {
    const boom = new Error('boom');
    const app = validator((_environ, startResponse) => {
      startResponse('500 Oops', TEXT, boom);
      return [];
    });
    expect(() =>
      app(makeEnviron(), () => {
        throw boom;
      }),
    ).toThrow(boom);
  });

  it('wraps wsgi.input and wsgi.errors and forwards to them', async () => {
    const errors = new TestErrors();
    const app = validator(async (environ, startResponse) => {
      const input = environ['wsgi.input'];
      expect(await input.read(2)).toEqual(Buffer.from('ab'));
      expect(await input.readline()).toEqual(Buffer.from('c\n'));
      expect((await input.readlines()).map(String)).toEqual(['d\n', 'e']);
      environ['wsgi.errors'].write('one');
      environ['wsgi.errors'].writelines(['two', 'three']);
      environ['wsgi.errors'].flush();
      startResponse('200 OK', TEXT);
      return [];
    });
    const environ = makeEnviron();
    const input = toInputStream('abc\nd\ne');
    environ['wsgi.input'] = input;
    environ['wsgi.errors'] = errors;
    await drive(app, environ);
    expect(environ['wsgi.input']).not.toBe(input);
    expect(errors.written).toEqual(['one', 'two', 'three']);
  });

  it('checks lines given by iterating wsgi.input', async () => {
    const lines: string[] = [];
    const app = validator(async (environ, startResponse) => {
      for await (const line of environ['wsgi.input']) lines.push(String(line));
      startResponse('200 OK', TEXT);
      return [];
    });
    const environ = makeEnviron();
    environ['wsgi.input'] = toInputStream(['a\nb', '\n']);
    environ['wsgi.errors'] = toErrorStream(new TestErrors());
    await drive(app, environ);
    expect(lines).toEqual(['a\n', 'b\n']);
  });

  it('leaves lazy extension keys of the environ unread', async () => {
    const environ = makeEnviron();
    const getter = vi.fn(() => 'made');
    Object.defineProperty(environ, 'x_server.signal', { get: getter, enumerable: true });
    await drive(validator(hello), environ);
    expect(getter).not.toHaveBeenCalled();
  });

  it('can be wrapped twice', async () => {
    const response = await drive(validator(validator(hello)));
    expect(Buffer.concat(response.chunks).toString()).toBe('Hello world!');
  });
});

describe('an application that misuses the streams', () => {
  it('gets a rejected read() for a size that is not a number', async () => {
    const app = validator(async (environ) => {
      await environ['wsgi.input'].read('10' as never);
      return [];
    });
    await expect(drive(app)).rejects.toMatchObject({ code: 'input.arguments' });
  });

  it('gets an error for write() with a string, from the write() it was given', async () => {
    const written: unknown[] = [];
    const app = validator(async (_environ, startResponse) => {
      const write = startResponse('200 OK', TEXT);
      await write(Buffer.from('ok'));
      await write('text' as never);
      return [];
    });
    await expect(
      app(makeEnviron(), () => (data) => {
        written.push(data);
        return Promise.resolve();
      }),
    ).rejects.toMatchObject({ code: 'write.type' });
    expect(written).toEqual([Buffer.from('ok')]);
  });
});

describe('body.not-closed', () => {
  const dropped = async (make: () => ResponseBody, close: boolean): Promise<Finding[]> => {
    const { app, findings } = collecting((_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      return make();
    });
    await (async () => {
      const body = await app(makeEnviron(), () => async () => {});
      if (close) await body.close?.();
    })();
    await collectGarbage(() => findings.length > 0);
    return findings;
  };

  it('is reported for an array body dropped without close()', async () => {
    const findings = await dropped(() => [Buffer.from('x')], false);
    expect(findings.map((f) => f.code)).toEqual(['body.not-closed']);
    expect(findings[0]?.severity).toBe('warning');
  });

  it('is reported for an async body dropped without close()', async () => {
    const findings = await dropped(() => (async function* () {})(), false);
    expect(findings.map((f) => f.code)).toEqual(['body.not-closed']);
  });

  it('is not reported for a body that was closed', async () => {
    expect(await dropped(() => [Buffer.from('x')], true)).toEqual([]);
  });
});

describe('faults in the application', () => {
  const serving = (body: unknown): Promise<ResponseBody> =>
    Promise.resolve(
      validator((_environ, startResponse) => {
        startResponse('200 OK', TEXT);
        return body as ResponseBody;
      })(makeEnviron(), () => async () => {}),
    );

  it('lets an error thrown while iterating a body through, sync and async', async () => {
    const boom = new Error('boom');
    const sync = await serving(
      (function* () {
        yield Buffer.from('a');
        throw boom;
      })(),
    );
    expect(() => [...(sync as Iterable<Uint8Array>)]).toThrow(boom);
    const async = await serving(
      (async function* () {
        yield await Promise.resolve(Buffer.from('a'));
        throw boom;
      })(),
    );
    const read = async (): Promise<void> => {
      for await (const chunk of async as AsyncIterable<Uint8Array>) expect(chunk).toHaveLength(1);
    };
    await expect(read()).rejects.toBe(boom);
    await sync.close?.();
    await async.close?.();
  });

  it("lets an error of the body's close() through", async () => {
    const boom = new Error('close failed');
    const body = await serving(
      Object.assign([Buffer.from('a')], {
        close: () => {
          throw boom;
        },
      }),
    );
    expect(() => body.close?.()).toThrow(boom);
  });

  it('ends an async body left early with return()', async () => {
    const events: string[] = [];
    const body = await serving(
      (async function* () {
        try {
          yield await Promise.resolve(Buffer.from('a'));
          yield Buffer.from('b');
        } finally {
          events.push('finally');
        }
      })(),
    );
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      expect(String(chunk)).toBe('a');
      break;
    }
    expect(events).toEqual(['finally']);
    await body.close?.();
  });

  it('rejects an async application that resolves to no body', async () => {
    const app = validator(async (_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      const nothing: unknown = await Promise.resolve(null);
      return nothing as ResponseBody;
    });
    await expect(app(makeEnviron(), () => async () => {})).rejects.toMatchObject({
      code: 'body.type',
    });
  });

  it('reports an async body item that is not bytes, and reading after close()', async () => {
    const { app, findings } = collecting((_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      return (async function* () {
        yield await Promise.resolve('text' as unknown as Uint8Array);
      })();
    });
    const body = (await app(makeEnviron(), () => async () => {})) as AsyncIterable<Uint8Array> &
      ResponseBody;
    const items: unknown[] = [];
    for await (const item of body) items.push(item);
    await body.close?.();
    for await (const item of body) items.push(item);
    expect(items).toEqual(['text']);
    expect(findings.map((f) => f.code)).toEqual(['body.item', 'body.after-close']);
  });

  it('reports wsgi.input that gives lines that are not bytes, or readlines() no array', async () => {
    const { app, findings } = collecting(async (environ, startResponse) => {
      for await (const line of environ['wsgi.input']) expect(line).toBe('one\n');
      await environ['wsgi.input'].readlines();
      startResponse('200 OK', TEXT);
      return [];
    });
    const environ = makeEnviron();
    environ['wsgi.input'] = {
      read: () => Promise.resolve(new Uint8Array(0)),
      readline: () => Promise.resolve(new Uint8Array(0)),
      readlines: () => Promise.resolve('one\n' as never),
      async *[Symbol.asyncIterator]() {
        yield await Promise.resolve('one\n' as never);
      },
    };
    await drive(app, environ);
    expect(findings.map((f) => f.code)).toEqual(['input.result', 'input.result']);
    expect(findings.map((f) => f.message)).toEqual([
      "[input.result] iterating wsgi.input must give a Uint8Array: 'one\\n'",
      "[input.result] wsgi.input.readlines() must give an array: 'one\\n'",
    ]);
  });
});
