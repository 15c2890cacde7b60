import { PassThrough, Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { toErrorStream } from '../src/index.ts';

function sink(): { stream: Writable; written: () => string } {
  let text = '';
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string, _encoding, callback) {
      text += chunk;
      callback();
    },
  });
  return { stream, written: () => text };
}

describe('toErrorStream()', () => {
  it('writes strings and lines to a Writable', () => {
    const { stream, written } = sink();
    const errors = toErrorStream(stream);
    errors.write('one\n');
    errors.writelines(['two\n', 'three\n']);
    errors.writelines(new Set(['four']));
    errors.flush();
    expect(written()).toBe('one\ntwo\nthree\nfour');
  });

  it('works with any object that has write(), and calls its flush()', () => {
    const seen: string[] = [];
    let flushes = 0;
    const errors = toErrorStream({
      write: (s: string) => seen.push(s),
      flush: () => {
        flushes++;
      },
    });
    errors.write('a');
    errors.flush();
    expect(seen).toEqual(['a']);
    expect(flushes).toBe(1);
  });

  it('refuses non-strings', () => {
    const { stream, written } = sink();
    const errors = toErrorStream(stream);
    expect(() => {
      errors.write(Buffer.from('x') as unknown as string);
    }).toThrow(TypeError);
    expect(() => {
      errors.writelines(['ok', 3 as unknown as string]);
    }).toThrow(/takes strings/);
    expect(written()).toBe('ok');
  });

  it('refuses a target without write()', () => {
    expect(() => toErrorStream({} as never)).toThrow(TypeError);
    expect(() => toErrorStream(null as never)).toThrow(TypeError);
  });

  it('drops writes to an ended or destroyed stream instead of raising an error event', async () => {
    const ended = new PassThrough();
    ended.end();
    const destroyed = new PassThrough();
    destroyed.destroy();
    const events: unknown[] = [];
    for (const stream of [ended, destroyed]) {
      stream.on('error', (error) => events.push(error));
      toErrorStream(stream).write('late');
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual([]);
  });
});
