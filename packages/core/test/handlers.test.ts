/**
 * BaseHandler through the memory handler: running applications, the environ, framing and the
 * preamble. PEP 3333 sections are named where a test pins one of its rules.
 */
import { Readable } from 'node:stream';

import { FileWrapper } from '@wsgi/util';
import { describe, expect, it } from 'vitest';

import { BaseHandler } from '../src/index.ts';
import type { Application, Environ, ResponseBody } from '../src/index.ts';
import { MemoryHandler, cgi, enc, runCgi } from './_memory-handler.ts';

const DATE = /^Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n/m;

const hello: Application = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [enc('Hello world!')];
};

const HELLO =
  'Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nHello world!';

describe('run() with the kinds of application and body', () => {
  it('runs a sync application with a one-element array body', async () => {
    const handler = await runCgi(hello);
    expect(handler.output).toBe(HELLO);
    expect(handler.errors.text).toBe('');
  });

  it('runs an async application the same way', async () => {
    const handler = await runCgi(async (environ, startResponse) => {
      await Promise.resolve();
      return hello(environ, startResponse);
    });
    expect(handler.output).toBe(HELLO);
  });

  const bodies: Array<[string, () => ResponseBody]> = [
    ['a two-element array', () => [enc('ab'), enc('cd')]],
    [
      'a generator',
      function* () {
        yield enc('ab');
        yield enc('cd');
      },
    ],
    [
      'an async generator',
      async function* () {
        await Promise.resolve();
        yield enc('ab');
        yield enc('cd');
      },
    ],
    ['a Set', () => new Set([enc('ab'), enc('cd')])],
    ['a Node Readable', () => Readable.from([enc('ab'), enc('cd')], { objectMode: true })],
    [
      'a hand-written iterable',
      () => {
        const items = [enc('ab'), enc('cd')];
        return {
          [Symbol.iterator]: (): Iterator<Uint8Array> => {
            let i = 0;
            return {
              next: () => {
                const value = items[i++];
                return value === undefined
                  ? { done: true, value: undefined }
                  : { done: false, value };
              },
            };
          },
        };
      },
    ],
  ];

  for (const [name, make] of bodies) {
    it(`sends ${name} chunk by chunk, without Content-Length`, async () => {
      for (const async of [false, true]) {
        const handler = await runCgi(
          (_environ, startResponse) => {
            startResponse('200 OK', [['Content-Type', 'text/plain']]);
            return make();
          },
          { async },
        );
        expect(handler.output).toBe('Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nabcd');
        expect(handler.errors.text).toBe('');
      }
    });
  }

  it('iterates a FileWrapper body when sendfile() declines', async () => {
    const data = enc('0123456789');
    let offset = 0;
    const file = {
      read: (size: number) => data.subarray(offset, (offset += size)),
    };
    const handler = await runCgi((environ, startResponse) => {
      startResponse('200 OK', []);
      const wrap = environ['wsgi.file_wrapper'];
      if (wrap === undefined) throw new Error('no file_wrapper');
      return wrap(file, 4);
    });
    expect(handler.output).toBe('Status: 200 OK\r\n\r\n0123456789');
    // Header block plus first block in one call, then one call per block.
    expect(handler.writes.map((w) => w.length)).toEqual([22, 4, 2]);
  });

  it('asks sendfile() first for a FileWrapper body, and skips iteration when it sends', async () => {
    class SendfileHandler extends MemoryHandler {
      asked = 0;
      override async sendfile(): Promise<boolean> {
        this.asked += 1;
        await this.sendHeaders();
        await this._write(enc('sent by sendfile'));
        return true;
      }
    }
    const handler = new SendfileHandler();
    handler.originServer = false;
    let reads = 0;
    await handler.run((_environ, startResponse) => {
      startResponse('200 OK', []);
      return new FileWrapper({
        read: () => {
          reads += 1;
          return new Uint8Array();
        },
      });
    });
    expect(handler.asked).toBe(1);
    expect(reads).toBe(0);
    expect(handler.output).toBe('Status: 200 OK\r\n\r\nsent by sendfile');
  });

  it('does not ask sendfile() when wsgiFileWrapper is null', async () => {
    class Never extends MemoryHandler {
      override sendfile(): boolean {
        throw new Error('sendfile() must not be asked');
      }
    }
    const handler = new Never();
    handler.originServer = false;
    handler.wsgiFileWrapper = null;
    await handler.run((environ, startResponse) => {
      expect(environ['wsgi.file_wrapper']).toBeUndefined();
      startResponse('200 OK', []);
      return new FileWrapper({ read: () => new Uint8Array() });
    });
    expect(handler.output).toBe('Status: 200 OK\r\nContent-Length: 0\r\n\r\n');
    expect(handler.errors.text).toBe('');
  });

  it('completes a sync application with sync hooks before run() yields', () => {
    const handler = cgi();
    let closed = 0;
    const promise = handler.run((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return Object.assign([enc('Hello world!')], { close: () => void (closed += 1) });
    });
    // Nothing was awaited: the bytes are written and the body closed synchronously.
    expect(handler.output).toBe(HELLO);
    expect(closed).toBe(1);
    return promise;
  });

  it('hands the header block and a small first chunk to one _write() call', async () => {
    const handler = await runCgi(hello);
    expect(handler.writes).toHaveLength(1);
    expect(handler.flushes).toBe(1);
  });

  it('writes the header block and a first chunk above 16 KiB separately', async () => {
    const big = Buffer.alloc(16 * 1024 + 1, 0x61);
    const handler = await runCgi((_environ, startResponse) => {
      startResponse('200 OK', []);
      return [big];
    });
    expect(handler.writes.map((w) => w.length)).toEqual([
      'Status: 200 OK\r\nContent-Length: 16385\r\n\r\n'.length,
      big.length,
    ]);
    expect(handler.bytes.subarray(-big.length).equals(big)).toBe(true);
  });

  // Generator objects are probed through their shared prototype when nothing of their own
  // could answer differently; these change what the probes must find.
  it('calls close() found on a generator function prototype, once', async () => {
    let closed = 0;
    function* body(): Generator<Uint8Array> {
      yield enc('ab');
    }
    Object.assign(body.prototype as object, {
      close: () => {
        closed += 1;
      },
    });
    const handler = await runCgi((_environ, startResponse) => {
      startResponse('200 OK', []);
      return body();
    });
    expect(handler.output).toBe('Status: 200 OK\r\n\r\nab');
    expect(closed).toBe(1);
  });

  it('uses a generator own next(), and awaits a generator with an own then()', async () => {
    const handler = await runCgi((_environ, startResponse) => {
      startResponse('200 OK', []);
      const generator = (function* () {
        yield enc('never');
      })();
      return Object.assign(generator, {
        next: (): IteratorResult<Uint8Array> => ({ done: true, value: undefined }),
      });
    });
    expect(handler.output).toBe('Status: 200 OK\r\nContent-Length: 0\r\n\r\n');
    const awaited = await runCgi((_environ, startResponse) => {
      startResponse('200 OK', []);
      const generator = (function* () {
        yield enc('not this');
      })();
      const then = (resolve: (body: ResponseBody) => void): void => {
        resolve([enc('this')]);
      };
      return Object.assign(generator, { then });
    });
    expect(awaited.output).toBe('Status: 200 OK\r\nContent-Length: 4\r\n\r\nthis');
  });

  it('iterates generators made by a new closure per request', async () => {
    for (let i = 0; i < 3; i += 1) {
      const handler = await runCgi((_environ, startResponse) => {
        startResponse('200 OK', []);
        return (function* () {
          yield enc('a');
          yield enc(String(i));
        })();
      });
      expect(handler.output).toBe(`Status: 200 OK\r\n\r\na${String(i)}`);
    }
  });
  // The prototype of the generators seen most is remembered and its objects read directly:
  // what is added to it, or to one of its objects, later must still be found.
  it('finds what is added later to a generator function run many times, or to its objects', async () => {
    function* body(): Generator<Uint8Array> {
      yield enc('a');
      yield enc('b');
    }
    const app: Application = (_environ, startResponse) => {
      startResponse('200 OK', []);
      return body();
    };
    const plain = 'Status: 200 OK\r\n\r\nab';
    // Enough runs for it to be remembered, whatever ran before.
    for (let i = 0; i < 200; i += 1) expect((await runCgi(app)).output).toBe(plain);
    let closed = 0;
    const proto = body.prototype as object;
    Object.assign(proto, {
      close: () => {
        closed += 1;
      },
    });
    try {
      for (let i = 0; i < 3; i += 1) expect((await runCgi(app)).output).toBe(plain);
      expect(closed).toBe(3);
      // Generators made per request in between (which are not remembered) change nothing.
      for (let i = 0; i < 3; i += 1) {
        const other = await runCgi((_environ, startResponse) => {
          startResponse('200 OK', []);
          return (function* () {
            yield enc(String(i));
          })();
        });
        expect(other.output).toBe(`Status: 200 OK\r\n\r\n${String(i)}`);
      }
      expect((await runCgi(app)).output).toBe(plain);
      expect(closed).toBe(4);
      const awaited = await runCgi((_environ, startResponse) => {
        startResponse('200 OK', []);
        const then = (resolve: (value: ResponseBody) => void): void => {
          resolve([enc('then')]);
        };
        return Object.assign(body(), { then });
      });
      expect(awaited.output).toBe('Status: 200 OK\r\nContent-Length: 4\r\n\r\nthen');
      expect(closed).toBe(4);
    } finally {
      Reflect.deleteProperty(proto, 'close');
    }
    expect((await runCgi(app)).output).toBe(plain);
    expect(closed).toBe(4);
  });

  it('sends an array as its iterator would: items added while it is sent are sent too', async () => {
    const handler = await runCgi((_environ, startResponse) => {
      startResponse('200 OK', []);
      const body: Uint8Array[] = [];
      Object.defineProperty(body, 0, {
        get: () => {
          if (body.length === 1) body.push(enc('b'));
          return enc('a');
        },
        enumerable: true,
        configurable: true,
      });
      return body;
    });
    expect(handler.output).toBe('Status: 200 OK\r\n\r\nab');
  });

  it('calls close() of an array body, once', async () => {
    let closed = 0;
    const handler = await runCgi((_environ, startResponse) => {
      startResponse('200 OK', []);
      return Object.assign([enc('ab'), enc('cd')], {
        close: () => {
          closed += 1;
        },
      });
    });
    expect(handler.output).toBe('Status: 200 OK\r\n\r\nabcd');
    expect(closed).toBe(1);
  });
});

describe('setupEnviron()', () => {
  it('copies osEnviron, adds the CGI variables and every wsgi.* key', async () => {
    const handler = new MemoryHandler({ environ: { HOME: '/override/home', X: 'Y' } });
    handler.osEnviron = { HOME: '/my/home', PATH: '/my/path' };
    await handler.setupEnviron();
    const environ = handler.environ as Environ;
    // A plain object, as a dict is in Python (PEP 3333: "a builtin Python dictionary").
    expect(Object.getPrototypeOf(environ)).toBe(Object.prototype);
    expect(Object.prototype.toString.call(environ)).toBe('[object Object]');
    expect(environ.constructor).toBe(Object);
    expect(environ['HOME']).toBe('/override/home');
    expect(environ['PATH']).toBe('/my/path');
    expect(environ['X']).toBe('Y');
    expect(handler.osEnviron).toEqual({ HOME: '/my/home', PATH: '/my/path' });
    expect(environ['wsgi.version']).toEqual([1, 0]);
    expect(environ['wsgi.run_once']).toBe(false);
    expect(environ['wsgi.multithread']).toBe(true);
    expect(environ['wsgi.multiprocess']).toBe(true);
    expect(environ['wsgi.url_scheme']).toBe('http');
    expect(environ['wsgi.errors']).toBe(handler.errors);
    expect((await environ['wsgi.input'].read()).length).toBe(0);
    expect(Object.keys(environ).slice(-8)).toEqual([
      'wsgi.input',
      'wsgi.errors',
      'wsgi.version',
      'wsgi.run_once',
      'wsgi.url_scheme',
      'wsgi.multithread',
      'wsgi.multiprocess',
      'wsgi.file_wrapper',
    ]);
  });

  it('takes the configuration attributes', async () => {
    const handler = new MemoryHandler({ environ: { HTTPS: 'on' } });
    handler.wsgiVersion = [1, 1];
    handler.wsgiRunOnce = true;
    handler.wsgiMultithread = false;
    handler.wsgiMultiprocess = false;
    await handler.setupEnviron();
    const environ = handler.environ as Environ;
    expect(environ['wsgi.version']).toEqual([1, 1]);
    expect(environ['wsgi.run_once']).toBe(true);
    expect(environ['wsgi.multithread']).toBe(false);
    expect(environ['wsgi.multiprocess']).toBe(false);
    expect(environ['wsgi.url_scheme']).toBe('https');
  });

  it('waits for async hooks', async () => {
    const handler = new MemoryHandler({ async: true, environ: { X: 'async' } });
    const setup = handler.setupEnviron();
    expect(setup).toBeInstanceOf(Promise);
    await setup;
    expect(handler.environ?.['X']).toBe('async');
    expect(handler.environ?.['wsgi.errors']).toBe(handler.errors);
  });

  it('gives wsgi.file_wrapper as a factory of wsgiFileWrapper instances', async () => {
    class MyWrapper extends FileWrapper {}
    const handler = new MemoryHandler();
    handler.wsgiFileWrapper = MyWrapper;
    await handler.setupEnviron();
    const wrap = handler.environ?.['wsgi.file_wrapper'];
    expect(typeof wrap).toBe('function');
    const data = enc('abcdef');
    let offset = 0;
    const wrapper = wrap?.({ read: (n: number) => data.subarray(offset, (offset += n)) }, 4);
    expect(wrapper).toBeInstanceOf(MyWrapper);
    const chunks: string[] = [];
    for await (const chunk of wrapper ?? []) chunks.push(Buffer.from(chunk).toString());
    expect(chunks).toEqual(['abcd', 'ef']);
  });

  it('sets SERVER_SOFTWARE only for an origin server with serverSoftware, and only if absent', async () => {
    const cases: Array<[boolean, string | null, Record<string, string>, string | undefined]> = [
      [true, 'FooBar/1.0', {}, 'FooBar/1.0'],
      [true, 'FooBar/1.0', { SERVER_SOFTWARE: 'Mine/2' }, 'Mine/2'],
      [true, null, {}, undefined],
      [false, 'FooBar/1.0', {}, undefined],
    ];
    for (const [origin, software, environ, expected] of cases) {
      const handler = new MemoryHandler({ environ });
      handler.originServer = origin;
      handler.serverSoftware = software;
      await handler.setupEnviron();
      expect(handler.environ?.['SERVER_SOFTWARE']).toBe(expected);
    }
  });
});

// HEAD, so that the declared length of a body not sent is not logged as a mismatch.
describe('framing, as wsgiref does it', () => {
  const cases: Array<[string, Application, string]> = [
    [
      'Content-Length for a one-element array',
      (_e, s) => {
        s('200 OK', []);
        return [enc('http')];
      },
      'Status: 200 OK\r\nContent-Length: 4\r\n\r\nhttp',
    ],
    [
      'Content-Length: 0 for an empty body',
      (_e, s) => {
        s('200 OK', []);
        return [];
      },
      'Status: 200 OK\r\nContent-Length: 0\r\n\r\n',
    ],
    [
      "the application's own Content-Length (a HEAD response)",
      (_e, s) => {
        s('200 OK', [['Content-Length', '12345']]);
        return [];
      },
      'Status: 200 OK\r\nContent-Length: 12345\r\n\r\n',
    ],
    [
      'no Content-Length after write()',
      (_e, s) => {
        void s('200 OK', [])(enc('http'));
        return [];
      },
      'Status: 200 OK\r\n\r\nhttp',
    ],
    [
      'the UTF-8 bytes counted, not characters',
      (_e, s) => {
        s('200 OK', []);
        return [Buffer.from('\u0442\u0435\u0441\u0442', 'utf8')];
      },
      'Status: 200 OK\r\nContent-Length: 8\r\n\r\n\xd1\x82\xd0\xb5\xd1\x81\xd1\x82',
    ],
  ];
  for (const [name, app, expected] of cases) {
    it(name, async () => {
      const handler = await runCgi(app, { environ: { REQUEST_METHOD: 'HEAD' } });
      expect(handler.output).toBe(expected);
      expect(handler.errors.text).toBe('');
    });
  }
});

describe('sendPreamble() and clientIsModern()', () => {
  const empty: Application = (_e, s) => {
    s('200 OK', []);
    return [];
  };

  it('sends HTTP/<httpVersion>, Date and Server for an origin server', async () => {
    for (const version of ['1.0', '1.1']) {
      for (const software of ['FooBar/1.0', null]) {
        const handler = new MemoryHandler({ environ: { SERVER_PROTOCOL: 'HTTP/1.1' } });
        handler.httpVersion = version;
        handler.serverSoftware = software;
        await handler.run(empty);
        const server = software === null ? '' : `Server: ${software}\r\n`;
        expect(handler.output.replace(DATE, '')).toBe(
          `HTTP/${version} 200 OK\r\n${server}Content-Length: 0\r\n\r\n`,
        );
        expect(handler.output).toMatch(DATE);
      }
    }
  });

  it('keeps the Date and Server the application set', async () => {
    const handler = new MemoryHandler();
    handler.serverSoftware = 'FooBar/1.0';
    await handler.run((_e, s) => {
      s('200 OK', [
        ['Date', 'Sun, 06 Nov 1994 08:49:37 GMT'],
        ['Server', 'App/1'],
      ]);
      return [];
    });
    expect(handler.output).toBe(
      'HTTP/1.0 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: App/1\r\nContent-Length: 0\r\n\r\n',
    );
  });

  it('sends no status line or headers to an HTTP/0.9 client', async () => {
    const handler = new MemoryHandler({ environ: { SERVER_PROTOCOL: 'http/0.9' } });
    await handler.run(hello);
    expect(handler.clientIsModern()).toBe(true); // state reset by close()
    expect(handler.output).toBe('Hello world!');
  });

  it('still sends the Status line of a gateway for HTTP/0.9', async () => {
    const handler = await runCgi(empty, { environ: { SERVER_PROTOCOL: 'HTTP/0.9' } });
    expect(handler.output).toBe('Status: 200 OK\r\nContent-Length: 0\r\n\r\n');
  });

  it('writes the preamble directly when called outside sendHeaders()', async () => {
    const handler = new MemoryHandler({ environ: { SERVER_PROTOCOL: 'HTTP/1.0' } });
    handler.serverSoftware = 'X/1';
    await handler.setupEnviron();
    handler.startResponse('204 No Content', []);
    await handler.sendPreamble();
    expect(handler.output.replace(DATE, '')).toBe('HTTP/1.0 204 No Content\r\nServer: X/1\r\n');
  });
});

describe('the methods, called directly', () => {
  it('clientIsModern() is false only for HTTP/0.9, in any case', async () => {
    for (const [protocol, modern] of [
      ['HTTP/0.9', false],
      ['http/0.9', false],
      ['HTTP/1.0', true],
      ['HTTP/1.1', true],
      ['HTTP/2', true],
    ] as const) {
      const handler = new MemoryHandler({ environ: { SERVER_PROTOCOL: protocol } });
      await handler.setupEnviron();
      expect(handler.clientIsModern(), protocol).toBe(modern);
    }
  });

  it('getScheme() follows HTTPS', async () => {
    for (const [https, scheme] of [
      ['on', 'https'],
      ['1', 'https'],
      ['yes', 'https'],
      ['off', 'http'],
    ]) {
      const handler = new MemoryHandler({ environ: { HTTPS: https as string } });
      await handler.setupEnviron();
      expect(handler.getScheme()).toBe(scheme);
    }
  });

  it('resultIsFile() is true only for an instance of wsgiFileWrapper', async () => {
    const handler = new MemoryHandler();
    await handler.setupEnviron();
    handler.result = new FileWrapper({ read: () => new Uint8Array() });
    expect(handler.resultIsFile()).toBe(true);
    handler.result = [enc('x')];
    expect(handler.resultIsFile()).toBe(false);
    handler.result = new FileWrapper({ read: () => new Uint8Array() });
    handler.wsgiFileWrapper = null;
    expect(handler.resultIsFile()).toBe(false);
  });

  it('cleanupHeaders() sets Content-Length only for a one-element array, never over the application', async () => {
    const handler = new MemoryHandler();
    await handler.setupEnviron();
    handler.startResponse('200 OK', []);
    handler.bytesSent = 7;
    handler.result = [enc('1234567'), enc('x')];
    handler.cleanupHeaders();
    expect(handler.headers?.has('Content-Length')).toBe(false);
    handler.result = [enc('1234567')];
    handler.cleanupHeaders();
    expect(handler.headers?.get('Content-Length')).toBe('7');
    handler.bytesSent = 3;
    handler.cleanupHeaders();
    expect(handler.headers?.getAll('Content-Length')).toEqual(['7']);
  });
});

describe('close()', () => {
  it('resets the state for another request', async () => {
    const handler = cgi();
    await handler.run(hello);
    expect(handler.status).toBeNull();
    expect(handler.result).toBeNull();
    expect(handler.headers).toBeNull();
    expect(handler.environ).toBeNull();
    expect(handler.headersSent).toBe(false);
    expect(handler.bytesSent).toBe(0);
    await handler.run(hello);
    expect(handler.output).toBe(HELLO + HELLO);
  });

  it('lets a subclass see the final status and bytesSent before the reset', async () => {
    const seen: Array<[string | null, number]> = [];
    class Logging extends MemoryHandler {
      override close(): void | Promise<void> {
        seen.push([this.status, this.bytesSent]);
        return super.close();
      }
    }
    const handler = new Logging();
    await handler.run(hello);
    expect(seen).toEqual([['200 OK', 12]]);
  });

  it('waits for an async close() of the body', async () => {
    let closed = false;
    const handler = await runCgi((_e, s) => {
      s('200 OK', []);
      return Object.assign([enc('x')], {
        close: async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          closed = true;
        },
      });
    });
    expect(closed).toBe(true);
    expect(handler.status).toBeNull();
  });
});

describe('a subclass that is not a memory handler', () => {
  it('works with only the five hooks implemented', async () => {
    const out: Uint8Array[] = [];
    class Tiny extends BaseHandler {
      override originServer = false;
      _write(data: Uint8Array): void {
        out.push(data);
      }
      _flush(): void {
        // _write() sends directly.
      }
      getStdin(): never {
        throw new Error('unused');
      }
      getStderr(): { write(): void; writelines(): void; flush(): void } {
        return { write() {}, writelines() {}, flush() {} };
      }
      addCgiVars(environ: Environ): void {
        environ.SERVER_PROTOCOL = 'HTTP/1.0';
      }
    }
    const handler = new Tiny();
    // getStdin() throwing is an error before headers: the error page is sent.
    await handler.run(hello);
    expect(Buffer.concat(out).toString('latin1')).toBe(
      'Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 59\r\n\r\nA server error occurred.  Please contact the administrator.',
    );
  });
});
