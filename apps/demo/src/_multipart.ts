/**
 * A streaming `multipart/form-data` parser (RFC 7578 on RFC 2046 §5.1). It is pushed chunks as
 * they arrive and hands each part's body on as slices, so memory stays bounded by one chunk
 * plus one delimiter (or one part's header block), whatever the size of the upload.
 *
 * @module
 */

/** Why a body could not be parsed. */
export type MultipartErrorCode =
  | 'ERR_MULTIPART_BOUNDARY'
  | 'ERR_MULTIPART_DELIMITER'
  | 'ERR_MULTIPART_HEADERS'
  | 'ERR_MULTIPART_HEADERS_TOO_LARGE'
  | 'ERR_MULTIPART_TRUNCATED';

/** A malformed multipart body. */
export class MultipartError extends Error {
  override name = 'MultipartError';
  constructor(
    readonly code: MultipartErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The callbacks of {@link MultipartParser}. Data slices are only valid during the call. */
export interface MultipartHandlers {
  /** A part starts; header names are lower-cased, values decoded as UTF-8. */
  onPart(headers: ReadonlyMap<string, string>): void;
  /** A piece of the current part's body (never empty). */
  onData(data: Uint8Array): void;
  /** The current part is complete. */
  onPartEnd(): void;
}

/** Options of {@link MultipartParser}. */
export interface MultipartOptions {
  /** The largest header block of one part, in bytes. Default 8 KiB. */
  readonly maxHeaderSize?: number;
}

// RFC 2046 §5.1.1: 1–70 characters from `bchars`, not ending with a space.
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

const enum State {
  Preamble,
  AfterDelimiter,
  Headers,
  Body,
  Epilogue,
}

/** Parses one `multipart/form-data` body pushed through {@link write}. */
export class MultipartParser {
  readonly #delimiter: Buffer;
  readonly #handlers: MultipartHandlers;
  readonly #maxHeaderSize: number;
  #state = State.Preamble;
  // The unconsumed tail of the data seen so far: at most a delimiter or a header block.
  // It starts as CRLF so that a body opening directly with `--boundary` matches the
  // delimiter `CRLF--boundary` like every later one (RFC 2046: the CRLF belongs to it).
  #pending: Buffer = CRLF;

  constructor(boundary: string, handlers: MultipartHandlers, options: MultipartOptions = {}) {
    if (!BOUNDARY.test(boundary)) {
      throw new MultipartError('ERR_MULTIPART_BOUNDARY', 'The multipart boundary is not valid.');
    }
    this.#delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    this.#handlers = handlers;
    this.#maxHeaderSize = options.maxHeaderSize ?? 8192;
  }

  /** How many bytes the parser holds between calls (for tests and limits). */
  get buffered(): number {
    return this.#pending.length;
  }

  /** Whether the closing delimiter has been seen. */
  get done(): boolean {
    return this.#state === State.Epilogue;
  }

  /** Feeds the next chunk of the body. Throws {@link MultipartError} on malformed input. */
  write(chunk: Uint8Array): void {
    if (this.#state === State.Epilogue || chunk.length === 0) return;
    const data =
      this.#pending.length === 0
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
        : Buffer.concat([this.#pending, chunk]);
    const pos = this.#consume(data);
    // Copy the small tail so a large chunk is not kept alive by a view into it.
    this.#pending = pos >= data.length ? EMPTY : Buffer.from(data.subarray(pos));
  }

  /** Ends the body; throws if the closing delimiter never came. */
  end(): void {
    if (this.#state !== State.Epilogue) {
      throw new MultipartError('ERR_MULTIPART_TRUNCATED', 'The multipart body ended early.');
    }
  }

  // Runs the state machine over `data`; returns where the unconsumed tail starts.
  #consume(data: Buffer): number {
    const delimiter = this.#delimiter;
    let pos = 0;
    for (;;) {
      switch (this.#state) {
        case State.Preamble: {
          const at = data.indexOf(delimiter, pos);
          if (at < 0) return Math.max(pos, data.length - delimiter.length + 1);
          pos = at + delimiter.length;
          this.#state = State.AfterDelimiter;
          break;
        }
        case State.AfterDelimiter: {
          // RFC 2046 allows transport padding (spaces and tabs) before the CRLF.
          let end = pos;
          while (end < data.length && (data[end] === 0x20 || data[end] === 0x09)) end++;
          if (end - pos > 256) {
            throw new MultipartError(
              'ERR_MULTIPART_DELIMITER',
              'Too much padding after a boundary.',
            );
          }
          if (data.length - end < 2) return pos;
          const a = data[end];
          const b = data[end + 1];
          if (a === 0x2d && b === 0x2d && end === pos) {
            this.#state = State.Epilogue;
            return data.length;
          }
          if (a !== 0x0d || b !== 0x0a) {
            throw new MultipartError(
              'ERR_MULTIPART_DELIMITER',
              'A boundary is not followed by CRLF.',
            );
          }
          pos = end + 2;
          this.#state = State.Headers;
          break;
        }
        case State.Headers: {
          // A part with no headers starts its body right after the delimiter line's CRLF.
          const empty = data.length - pos >= 2 && data[pos] === 0x0d && data[pos + 1] === 0x0a;
          const at = empty ? pos - 2 : data.indexOf(HEADER_END, pos);
          const size = (at < 0 ? data.length : at) - pos;
          if (size > this.#maxHeaderSize) {
            throw new MultipartError(
              'ERR_MULTIPART_HEADERS_TOO_LARGE',
              'A part header block is too large.',
            );
          }
          if (at < 0) return pos;
          const headers = empty
            ? new Map<string, string>()
            : parseHeaderBlock(data.subarray(pos, at));
          pos = at + 4;
          this.#state = State.Body;
          this.#handlers.onPart(headers);
          break;
        }
        case State.Body: {
          const at = data.indexOf(delimiter, pos);
          if (at < 0) {
            // Keep what could be the start of a delimiter split across chunks.
            const safe = Math.max(pos, data.length - delimiter.length + 1);
            if (safe > pos) this.#handlers.onData(data.subarray(pos, safe));
            return safe;
          }
          if (at > pos) this.#handlers.onData(data.subarray(pos, at));
          this.#handlers.onPartEnd();
          pos = at + delimiter.length;
          this.#state = State.AfterDelimiter;
          break;
        }
        case State.Epilogue:
          return data.length;
      }
    }
  }
}

function parseHeaderBlock(block: Buffer): Map<string, string> {
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (const line of block.toString('utf8').split('\r\n')) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      // Obsolete line folding (RFC 5322 §2.2.3): a continuation of the previous header.
      headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      throw new MultipartError('ERR_MULTIPART_HEADERS', 'A part header line is malformed.');
    }
    last = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(last)) headers.set(last, line.slice(colon + 1).trim());
  }
  return headers;
}
