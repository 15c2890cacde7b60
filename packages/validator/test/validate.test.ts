/**
 * validator(): options, where findings go (thrown, onFinding, onWarning, process warnings),
 * collect mode, and a valid application's output left unchanged.
 */
import { toInputStream, type Application, type ResponseBody } from '@wsgi/util';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { ValidationError, validator, WSGIWarning, type Finding } from '../src/index.ts';
import { collecting, hello, TEXT } from './_apps.ts';
import { drive, makeEnviron } from './_wsgi.ts';

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
