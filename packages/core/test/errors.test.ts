import { describe, expect, it } from 'vitest';

import { WSGIAssertionError, WSGIError } from '../src/index.ts';

describe('WSGIError and WSGIAssertionError', () => {
  it('set name to the class name, keep the code and pass the cause through', () => {
    const cause = new Error('underneath');
    const error = new WSGIAssertionError('ERR_WSGI_NOT_BYTES', 'not bytes', { cause });
    expect(error).toBeInstanceOf(WSGIAssertionError);
    expect(error).toBeInstanceOf(WSGIError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('WSGIAssertionError');
    expect(error.code).toBe('ERR_WSGI_NOT_BYTES');
    expect(error.message).toBe('not bytes');
    expect(error.cause).toBe(cause);
    expect(error.stack?.startsWith('WSGIAssertionError: not bytes\n')).toBe(true);
  });

  it('name the base class and a subclass after themselves', () => {
    expect(new WSGIError('ERR_WSGI_INVALID_BODY', 'x').name).toBe('WSGIError');
    class Mine extends WSGIError {}
    expect(new Mine('ERR_WSGI_INVALID_BODY', 'x').name).toBe('Mine');
    expect(new WSGIError('ERR_WSGI_INVALID_BODY', 'x').cause).toBeUndefined();
  });
});
