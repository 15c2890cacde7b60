/** wsgi.input and wsgi.errors under the validator: forwarded when used well, reported when not. */
import { toErrorStream, toInputStream } from '@wsgi/util';
import { describe, expect, it } from 'vitest';

import { validator } from '../src/index.ts';
import { collecting, TEXT } from './_apps.ts';
import { drive, makeEnviron, TestErrors } from './_wsgi.ts';

describe('streams used well', () => {
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

describe('a server stream that misbehaves', () => {
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
