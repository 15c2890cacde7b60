import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';

/** Splits `data` at the given cut points (any numbers; taken modulo the length, sorted). */
export function chunk(data: Uint8Array, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (data.length === 0 ? 0 : c % (data.length + 1))))];
  points.sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of [...points, data.length]) {
    out.push(Buffer.from(data.subarray(last, p)));
    last = p;
  }
  return out;
}

/** An async generator over `chunks`, each after a macrotask, counting the chunks taken. */
export function slowChunks(chunks: readonly Uint8Array[]): {
  source: AsyncIterable<Uint8Array>;
  pulled: () => number;
} {
  let pulled = 0;
  async function* gen(): AsyncGenerator<Uint8Array> {
    for (const c of chunks) {
      await new Promise((resolve) => setImmediate(resolve));
      pulled++;
      yield c;
    }
  }
  return { source: gen(), pulled: () => pulled };
}

/** A byte `Readable` that gets `chunks` pushed one per macrotask, then ends. */
export function trickle(chunks: readonly Uint8Array[], end = true): Readable {
  const stream = new PassThrough();
  let i = 0;
  const next = (): void => {
    const c = chunks[i++];
    if (c === undefined) {
      if (end) stream.end();
      return;
    }
    stream.write(c);
    setImmediate(next);
  };
  setImmediate(next);
  return stream;
}

/** A reference reader over one buffer: what every InputStream must agree with. */
export class Reference {
  #data: Buffer;
  #pos = 0;

  constructor(data: Uint8Array) {
    this.#data = Buffer.from(data);
  }

  read(size?: number): Buffer {
    const end =
      size === undefined || size < 0
        ? this.#data.length
        : Math.min(this.#pos + size, this.#data.length);
    const out = this.#data.subarray(this.#pos, end);
    this.#pos = end;
    return out;
  }

  readline(size?: number): Buffer {
    const nl = this.#data.indexOf(0x0a, this.#pos);
    let end = nl === -1 ? this.#data.length : nl + 1;
    if (size !== undefined && size >= 0) end = Math.min(end, this.#pos + size);
    const out = this.#data.subarray(this.#pos, end);
    this.#pos = end;
    return out;
  }
}
