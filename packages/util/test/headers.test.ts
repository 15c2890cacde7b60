import { describe, expect, it } from 'vitest';

import { Headers } from '../src/index.ts';

const codeOf = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as { code?: unknown }).code;
  }
  throw new Error('expected a throw');
};

describe('Headers', () => {
  it('starts empty and counts duplicates', () => {
    const h = new Headers();
    expect(h.length).toBe(0);
    expect(h.toString()).toBe('\r\n');
    h.set('X-A', '1');
    h.addHeader('x-a', '2');
    expect(h.length).toBe(2);
  });

  it('looks names up case-insensitively and keeps order', () => {
    const h = new Headers([
      ['Content-Type', 'text/plain'],
      ['Set-Cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
    expect(h.get('content-type')).toBe('text/plain');
    expect(h.get('SET-COOKIE')).toBe('a=1');
    expect(h.getAll('Set-Cookie')).toEqual(['a=1', 'b=2']);
    expect(h.getAll('missing')).toEqual([]);
    expect(h.get('missing')).toBeUndefined();
    expect(h.has('CONTENT-TYPE')).toBe(true);
    expect(h.has('content-length')).toBe(false);
    expect(h.keys()).toEqual(['Content-Type', 'Set-Cookie', 'set-cookie']);
    expect(h.values()).toEqual(['text/plain', 'a=1', 'b=2']);
  });

  it('set() replaces every occurrence and appends at the end', () => {
    const h = new Headers([
      ['A', '1'],
      ['B', '2'],
      ['a', '3'],
    ]);
    h.set('A', '4');
    expect(h.items()).toEqual([
      ['B', '2'],
      ['A', '4'],
    ]);
  });

  it('delete() removes all and tolerates a missing name', () => {
    const h = new Headers([
      ['A', '1'],
      ['a', '2'],
      ['B', '3'],
    ]);
    h.delete('A');
    h.delete('nothing');
    expect(h.items()).toEqual([['B', '3']]);
  });

  it('setDefault() returns the first value or appends', () => {
    const h = new Headers([['A', '1']]);
    expect(h.setDefault('a', '2')).toBe('1');
    expect(h.setDefault('B', '3')).toBe('3');
    expect(h.items()).toEqual([
      ['A', '1'],
      ['B', '3'],
    ]);
  });

  it('addHeader() formats and quotes parameters like wsgiref', () => {
    const h = new Headers();
    h.addHeader('content-disposition', 'attachment', { filename: 'bud.gif' });
    h.addHeader('X-Flag', null, { no_cache: null, a_b: 'x"y\\z', empty: '' });
    h.addHeader('X-Empty', null);
    expect(h.toString()).toBe(
      'content-disposition: attachment; filename="bud.gif"\r\n' +
        'X-Flag: no-cache; a-b="x\\"y\\\\z"; empty\r\n' +
        'X-Empty: \r\n\r\n',
    );
  });

  it('copies the list it is given and what it hands out', () => {
    const list: Array<[string, string]> = [['A', '1']];
    const h = new Headers(list);
    list.push(['B', 'evil\r\n']);
    const items = h.items();
    items[0] = ['C', '3'];
    const first = h.items()[0];
    if (first) first[1] = 'changed';
    expect(h.items()).toEqual([['A', '1']]);
    expect([...h]).toEqual([['A', '1']]);
  });

  it('toString() and toBytes() give the latin-1 header block', () => {
    const h = new Headers([
      ['Content-Type', 'text/plain; charset=latin-1'],
      ['X-Caf\u00e9', 'na\u00efve\tvalue'],
    ]);
    const text =
      'Content-Type: text/plain; charset=latin-1\r\nX-Caf\u00e9: na\u00efve\tvalue\r\n\r\n';
    expect(h.toString()).toBe(text);
    expect(String(h)).toBe(text);
    expect(Buffer.from(h.toBytes())).toEqual(Buffer.from(text, 'latin1'));
    expect(h.toBytes()).toHaveLength(text.length);
  });

  it('refuses values that are not strings', () => {
    const bad: unknown[] = [1, null, undefined, {}, ['x'], Buffer.from('x')];
    for (const value of bad) {
      expect(codeOf(() => new Headers([['A', value as string]]))).toBe(
        'ERR_WSGI_INVALID_HEADER_TYPE',
      );
      expect(codeOf(() => new Headers([[value as string, 'v']]))).toBe(
        'ERR_WSGI_INVALID_HEADER_TYPE',
      );
      const h = new Headers();
      expect(
        codeOf(() => {
          h.set('A', value as string);
        }),
      ).toBe('ERR_WSGI_INVALID_HEADER_TYPE');
      expect(codeOf(() => h.get(value as string))).toBe('ERR_WSGI_INVALID_HEADER_TYPE');
      expect(codeOf(() => h.setDefault('A', value as string))).toBe('ERR_WSGI_INVALID_HEADER_TYPE');
      expect(
        codeOf(() => {
          h.addHeader(value as string, 'v');
        }),
      ).toBe('ERR_WSGI_INVALID_HEADER_TYPE');
      // null is the one non-string addHeader takes: a bare value or a bare parameter.
      if (value !== null) {
        expect(
          codeOf(() => {
            h.addHeader('A', value as string);
          }),
        ).toBe('ERR_WSGI_INVALID_HEADER_TYPE');
        expect(
          codeOf(() => {
            h.addHeader('A', 'v', { p: value as string });
          }),
        ).toBe('ERR_WSGI_INVALID_HEADER_TYPE');
      }
      expect(h.length).toBe(0);
    }
  });

  it('refuses a list that is not an array of pairs', () => {
    expect(() => new Headers('A: 1' as unknown as Array<[string, string]>)).toThrow(TypeError);
    expect(() => new Headers([['A']] as unknown as Array<[string, string]>)).toThrow(
      /\[name, value\] pair/,
    );
    expect(() => new Headers([['A', 'b', 'c']] as unknown as Array<[string, string]>)).toThrow(
      TypeError,
    );
  });

  it('refuses CR, LF, NUL, other controls and chars above \\xff in names and values', () => {
    const bad = ['a\rb', 'a\nb', 'a\0b', 'a\x1bb', 'a\x7fb', 'a\u0100b', 'caf\u20ac', '\r\n'];
    for (const s of bad) {
      const h = new Headers();
      expect(
        codeOf(() => {
          h.set('X', s);
        }),
      ).toBe('ERR_WSGI_INVALID_HEADER_CHAR');
      expect(
        codeOf(() => {
          h.set(s, 'v');
        }),
      ).toBe('ERR_WSGI_INVALID_HEADER_CHAR');
      expect(codeOf(() => h.setDefault(s, 'v'))).toBe('ERR_WSGI_INVALID_HEADER_CHAR');
      expect(codeOf(() => h.setDefault('X', s))).toBe('ERR_WSGI_INVALID_HEADER_CHAR');
      expect(
        codeOf(() => {
          h.addHeader('X', s);
        }),
      ).toBe('ERR_WSGI_INVALID_HEADER_CHAR');
      expect(
        codeOf(() => {
          h.addHeader(s, 'v');
        }),
      ).toBe('ERR_WSGI_INVALID_HEADER_CHAR');
      expect(
        codeOf(() => {
          h.addHeader('X', 'v', { f: s });
        }),
      ).toBe('ERR_WSGI_INVALID_HEADER_CHAR');
      expect(
        codeOf(() => {
          h.addHeader('X', 'v', { [s]: 'x' });
        }),
      ).toBe('ERR_WSGI_INVALID_HEADER_CHAR');
      expect(codeOf(() => new Headers([['X', s]]))).toBe('ERR_WSGI_INVALID_HEADER_CHAR');
      expect(h.toString()).toBe('\r\n');
    }
  });

  it('allows tab and every char from \\x20 to \\xff but \\x7f', () => {
    let all = '\t';
    for (let c = 0x20; c <= 0xff; c++) if (c !== 0x7f) all += String.fromCharCode(c);
    const h = new Headers([['X', all]]);
    expect(h.get('x')).toBe(all);
  });
});
