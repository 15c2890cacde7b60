/**
 * The buffer behind `wsgi.input`: a queue of byte chunks whose operations cost time linear in
 * the bytes they handle, however many chunks those bytes came in.
 *
 * @module
 */

const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
/** Consumed slots are dropped from the array once there are this many and they are half of it. */
const COMPACT_AT = 64;

/**
 * A FIFO of non-empty chunks. The unread bytes start at `#offset` in `#chunks[#head]`; slots
 * before `#head` are spent and removed in batches (never one `shift()` per chunk, which is
 * linear in the array's length). Positions (`#start`, `#scanFrom`, `#scanChunkStart`) count
 * bytes from the start of the stream, so consuming bytes does not move them.
 */
export class ChunkQueue {
  #chunks: Buffer[] = [];
  #head = 0;
  #offset = 0;
  /** Unread bytes in the queue. */
  #length = 0;
  /** Stream position of the first unread byte. */
  #start = 0;
  // The line search resumes where the last one stopped: no `\n` lies in [#start, #scanFrom),
  // and #scanFrom is in #chunks[#scanIndex], which starts at stream position #scanChunkStart.
  #scanIndex = 0;
  #scanChunkStart = 0;
  #scanFrom = 0;

  /** Unread bytes in the queue. */
  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /**
   * The number of unread bytes up to and including the first `\n`, or -1 if none is queued.
   * Each queued byte is looked at once, however often this is called.
   */
  lineEnd(): number {
    if (this.#scanFrom < this.#start) {
      // The bytes the last search covered have been read since; start at the first unread one.
      this.#scanIndex = this.#head;
      this.#scanChunkStart = this.#start - this.#offset;
      this.#scanFrom = this.#start;
    }
    for (;;) {
      const chunk = this.#chunks[this.#scanIndex];
      if (chunk === undefined) return -1;
      const at = chunk.indexOf(LF, this.#scanFrom - this.#scanChunkStart);
      if (at !== -1) {
        // Stay on the `\n`, so asking again finds it at once.
        this.#scanFrom = this.#scanChunkStart + at;
        return this.#scanFrom + 1 - this.#start;
      }
      this.#scanChunkStart += chunk.length;
      this.#scanFrom = this.#scanChunkStart;
      this.#scanIndex++;
    }
  }

  /**
   * Removes and returns the first `length` unread bytes (fewer if fewer are queued): a view of
   * the first chunk when it holds them all, else one new buffer filled in a single pass.
   */
  take(length: number): Buffer {
    const wanted = Math.min(length, this.#length);
    const first = this.#chunks[this.#head];
    if (wanted <= 0 || first === undefined) return EMPTY;
    let out: Buffer;
    if (first.length - this.#offset >= wanted) {
      out = first.subarray(this.#offset, this.#offset + wanted);
      this.#advance(first, wanted);
    } else {
      out = Buffer.allocUnsafe(wanted);
      let filled = 0;
      while (filled < wanted) {
        const chunk = this.#chunks[this.#head];
        if (chunk === undefined) break; // cannot happen: `wanted` bytes are queued
        const n = Math.min(chunk.length - this.#offset, wanted - filled);
        chunk.copy(out, filled, this.#offset, this.#offset + n);
        filled += n;
        this.#advance(chunk, n);
      }
    }
    this.#length -= wanted;
    this.#start += wanted;
    this.#compact();
    return out;
  }

  /** Removes and returns the unread part of the first chunk (no copy); `undefined` if empty. */
  shift(): Buffer | undefined {
    const first = this.#chunks[this.#head];
    if (first === undefined) return undefined;
    const out = this.#offset === 0 ? first : first.subarray(this.#offset);
    this.#advance(first, out.length);
    this.#length -= out.length;
    this.#start += out.length;
    this.#compact();
    return out;
  }

  #advance(chunk: Buffer, n: number): void {
    this.#offset += n;
    if (this.#offset === chunk.length) {
      // Let the spent chunk be collected now, not at the next compaction.
      this.#chunks[this.#head] = EMPTY;
      this.#head++;
      this.#offset = 0;
    }
  }

  /** Drops spent slots: all at once when the queue is empty, else when they are half of it. */
  #compact(): void {
    const spent = this.#head;
    if (spent === this.#chunks.length) {
      this.#chunks = [];
    } else if (spent >= COMPACT_AT && spent * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(spent);
    } else {
      return;
    }
    this.#head = 0;
    // A cursor among the spent slots is reset by lineEnd(), which checks positions, not slots.
    this.#scanIndex = Math.max(0, this.#scanIndex - spent);
  }
}
