/**
 * The body under the validator: an array stays an array, sync stays sync and async stays
 * async, close() and return() are passed through, faults go through unchanged, and a body
 * dropped without close() is reported.
 */
import type { ResponseBody } from '@wsgi/util';
import { describe, expect, it, vi } from 'vitest';

import { validator, type Finding } from '../src/index.ts';
import { collecting, TEXT } from './_apps.ts';
import { collectGarbage } from './_spec.ts';
import { makeEnviron } from './_wsgi.ts';

describe('a valid body', () => {
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

  it('hands out a copy of an array body, so an array the application reuses stays as it was', async () => {
    const shared = [Buffer.from('same')];
    const app = validator((_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      return shared;
    });
    for (let request = 0; request < 3; request++) {
      const body = (await app(makeEnviron(), () => async () => {})) as Uint8Array[] & ResponseBody;
      expect(body).not.toBe(shared);
      expect(Object.getPrototypeOf(body)).toBe(Array.prototype);
      expect(body.map(String)).toEqual(['same']);
      await body.close?.();
      expect(() => body[0]).toThrow(/body\.after-close/);
    }
    expect(shared).toEqual([Buffer.from('same')]);
    expect('close' in shared).toBe(false);
  });

  it('reports every way of reading an array body after close(), in collect mode too', async () => {
    const items = [Buffer.from('a'), Buffer.from('b')];
    const { app, findings } = collecting((_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      return items;
    });
    const body = (await app(makeEnviron(), () => async () => {})) as Uint8Array[] & ResponseBody;
    // An iterator taken before close(), as a server pumping the body holds one.
    const early = body.values();
    expect(early.next().value).toBe(items[0]);
    expect(findings).toEqual([]);
    await body.close?.();
    expect(body).toHaveLength(2);
    expect(body instanceof Array && Array.isArray(body)).toBe(true);
    expect(findings).toEqual([]);
    const reads: unknown[] = [
      early.next().value,
      body[0],
      body[1],
      ...body,
      Array.from({ length: body.length }, (_, index) => body[index]),
    ];
    // The reads still give the items, so a collecting run goes on unchanged.
    expect(reads).toEqual([items[1], items[0], items[1], ...items, items]);
    // One each, and one more for the spread's Symbol.iterator.
    expect(findings.map((f) => f.code)).toEqual(Array<string>(8).fill('body.after-close'));
    // Reading past the end, or anything but an item or the iterator, is no read of the body.
    expect(body[2]).toBeUndefined();
    expect(typeof body.slice).toBe('function');
    expect(findings).toHaveLength(8);
  });

  it('reports reads through array methods after close() and still gives the items', async () => {
    const items = [Buffer.from('a'), Buffer.from('b')];
    const reads: Array<[string, (body: Uint8Array[]) => unknown, unknown]> = [
      [
        'forEach',
        (body) => {
          const seen: unknown[] = [];
          body.forEach((item) => seen.push(item));
          return seen;
        },
        items,
      ],
      ['slice', (body) => body.slice(), items],
      ['map', (body) => body.map((item) => item), items],
      ['indexOf', (body) => body.indexOf(items[1] as Buffer), 1],
      ['concat', (body) => ([] as Uint8Array[]).concat(body), items],
    ];
    for (const [name, read, expected] of reads) {
      const { app, findings } = collecting((_environ, startResponse) => {
        startResponse('200 OK', TEXT);
        return items;
      });
      const body = (await app(makeEnviron(), () => async () => {})) as Uint8Array[] & ResponseBody;
      await body.close?.();
      expect(0 in body, name).toBe(true);
      expect(read(body), name).toEqual(expected);
      expect(
        findings.map((f) => f.code),
        name,
      ).toEqual(['body.after-close', 'body.after-close']);
    }
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

  // Bodies are watched from the next event-loop turn on (or the 512th body of a turn): the
  // bodies still open then must stay watched, whether they are closed later or dropped.
  const afterTurns = async (close: boolean): Promise<Finding[]> => {
    let calls = 0;
    const { app, findings } = collecting((_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      return calls++ === 0 ? [Buffer.from('x')] : (async function* () {})();
    });
    await (async () => {
      const bodies = [
        await app(makeEnviron(), () => async () => {}),
        await app(makeEnviron(), () => async () => {}),
      ];
      for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
      if (close) for (const body of bodies) await body.close?.();
    })();
    await collectGarbage(() => findings.length > 1);
    return findings;
  };

  it('is reported for a body that outlived its event-loop turn and was dropped', async () => {
    const findings = await afterTurns(false);
    expect(findings.map((f) => f.code)).toEqual(['body.not-closed', 'body.not-closed']);
  });

  it('is not reported for a body that outlived its event-loop turn and was closed', async () => {
    expect(await afterTurns(true)).toEqual([]);
  });

  it('is reported for one body dropped among 2000 closed ones in the same turn', async () => {
    const { app, findings } = collecting((_environ, startResponse) => {
      startResponse('200 OK', TEXT);
      return [Buffer.from('x')];
    });
    await (async () => {
      // All in one turn (microtasks only): the bodies are swept in batches, not per turn.
      const open: ResponseBody[] = [];
      for (let index = 0; index < 2000; index++) {
        const body = await app(makeEnviron(), () => async () => {});
        if (index % 3 === 0) open.push(body);
        else if (index !== 1234) await body.close?.();
      }
      for (const body of open) await body.close?.();
    })();
    await collectGarbage(() => findings.length > 0);
    // Bounded wait for a second, wrong report.
    await collectGarbage(() => false);
    expect(findings.map((f) => f.code)).toEqual(['body.not-closed']);
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
});
