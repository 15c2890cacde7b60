/**
 * Keeping a body within the `Content-Length` the application declared (API.md, "Where we
 * deliberately differ from wsgiref", item 2).
 *
 * @module
 */
import type { Headers } from '@wsgi/util';

/** `Content-Length = 1*DIGIT` (RFC 9110, section 8.6), at most 15 digits so it is exact. */
export const DECLARED_LENGTH = /^[0-9]{1,15}$/;

/** The length `value` declares, or -1 when there is none or it is not 1 to 15 digits. */
export function parseContentLength(value: string | undefined): number {
  return value !== undefined && DECLARED_LENGTH.test(value) ? Number(value) : -1;
}

/** The declared length and what went past it, for one response. */
export class ContentLengthGuard {
  /** The application's `Content-Length`, or -1 when it declared none (or not a number). */
  limit = -1;
  /** Bytes dropped because they went past `limit`. */
  excess = 0;

  /** Reads the declared length from `headers`. */
  start(headers: Headers): void {
    this.limit = parseContentLength(headers.get('Content-Length'));
    this.excess = 0;
  }

  /** Forgets the declared length, for a new response. */
  clear(): void {
    this.limit = -1;
    this.excess = 0;
  }

  /** Whether a chunk went past the limit: nothing more will be sent. */
  get full(): boolean {
    return this.excess > 0;
  }

  /** `data` cut to what the limit still allows after `sent` bytes. */
  clip(data: Uint8Array, sent: number): Uint8Array {
    const limit = this.limit;
    if (limit < 0) return data;
    const room = Math.max(0, limit - sent);
    if (data.length <= room) return data;
    this.excess += data.length - room;
    return data.subarray(0, room);
  }

  /**
   * The line to log when `sent` bytes do not match the declared length, else `undefined`.
   * A shorter body is fine when `mayBeShort` (a `HEAD` response or a `304`).
   */
  mismatch(sent: number, mayBeShort: boolean): string | undefined {
    const limit = this.limit;
    if (limit < 0) return undefined;
    if (this.excess > 0) {
      return `Content-Length is ${limit} but the application sent more (at least ${limit + this.excess} bytes); the excess was not sent\n`;
    }
    if (sent < limit && !mayBeShort) {
      return `Content-Length is ${limit} but the application sent ${sent} bytes\n`;
    }
    return undefined;
  }
}
