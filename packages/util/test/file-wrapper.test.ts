import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FileWrapper } from '../src/index.ts';
import type { ReadableFileLike } from '../src/index.ts';

let dir: string;
let path: string;
const DATA = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 7) % 256));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsgi-util-fw-'));
  path = join(dir, 'data.bin');
  writeFileSync(path, DATA);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function collect(wrapper: FileWrapper): Promise<Buffer[]> {
  const blocks: Buffer[] = [];
  for await (const block of wrapper) blocks.push(Buffer.from(block));
  return blocks;
}

const isClosed = (fd: number): boolean => {
  try {
    fstatSync(fd);
    return false;
  } catch (error) {
    return (error as { code?: string }).code === 'EBADF';
  }
};

describe('FileWrapper', () => {
  it('reads a FileHandle in blocks of the default 8192 bytes, and closes it', async () => {
    const handle = await open(path, 'r');
    const wrapper = new FileWrapper(handle);
    expect(wrapper.file).toBe(handle);
    expect(wrapper.blockSize).toBe(8192);
    const blocks = await collect(wrapper);
    expect(blocks.map((b) => b.length)).toEqual([8192, 8192, 20_000 - 16_384]);
    expect(Buffer.concat(blocks)).toEqual(DATA);
    const fd = handle.fd;
    await wrapper.close();
    expect(handle.fd).toBe(-1);
    expect(isClosed(fd)).toBe(true);
  });

  it('reads a file descriptor with the given block size, from its position', async () => {
    const fd = openSync(path, 'r');
    const wrapper = new FileWrapper(fd, 6000);
    const blocks = await collect(wrapper);
    expect(blocks.map((b) => b.length)).toEqual([6000, 6000, 6000, 2000]);
    expect(Buffer.concat(blocks)).toEqual(DATA);
    // Iterating again continues from the end: nothing left.
    expect(await collect(wrapper)).toEqual([]);
    expect(isClosed(fd)).toBe(false);
    await wrapper.close();
    expect(isClosed(fd)).toBe(true);
  });

  it('gives fresh blocks the consumer may keep', async () => {
    const fd = openSync(path, 'r');
    const wrapper = new FileWrapper(fd, 100);
    const kept: Uint8Array[] = [];
    let n = 0;
    for await (const block of wrapper) {
      kept.push(block);
      if (++n === 3) break;
    }
    expect(kept[0]?.buffer).not.toBe(kept[1]?.buffer);
    expect(Buffer.concat(kept)).toEqual(DATA.subarray(0, 300));
    // Leaving the loop early does not close the file.
    expect(isClosed(fd)).toBe(false);
    await wrapper.close();
    expect(isClosed(fd)).toBe(true);
  });

  it('wraps an object with read(size) and close(), sync or async', async () => {
    const sizes: number[] = [];
    let closes = 0;
    let pos = 0;
    const file: ReadableFileLike = {
      read(size) {
        sizes.push(size);
        const out = DATA.subarray(pos, pos + size);
        pos += out.length;
        return pos % 2 === 0 ? out : Promise.resolve(out);
      },
      close() {
        closes++;
      },
    };
    const wrapper = new FileWrapper(file, 4096);
    expect(Buffer.concat(await collect(wrapper))).toEqual(DATA);
    expect(sizes.every((s) => s === 4096)).toBe(true);
    expect(sizes).toHaveLength(Math.ceil(DATA.length / 4096) + 1);
    const first = wrapper.close();
    const second = wrapper.close();
    expect(second).toBe(first);
    await Promise.all([first, second, wrapper.close()]);
    expect(closes).toBe(1);
  });

  it('closes exactly once: a second close() of an fd does not close a reused number', async () => {
    const fd = openSync(path, 'r');
    const wrapper = new FileWrapper(fd);
    await wrapper.close();
    const reused = openSync(path, 'r');
    try {
      await wrapper.close();
      expect(isClosed(reused)).toBe(false);
    } finally {
      closeSync(reused);
    }
  });

  it('closes a handle once even when asked twice at the same time', async () => {
    const handle = await open(path, 'r');
    const wrapper = new FileWrapper(handle, 1);
    await Promise.all([wrapper.close(), wrapper.close()]);
    expect(handle.fd).toBe(-1);
  });

  it('has a no-op close() for an object without one', async () => {
    const wrapper = new FileWrapper({ read: () => new Uint8Array(0) });
    await expect(wrapper.close()).resolves.toBeUndefined();
    expect(await collect(wrapper)).toEqual([]);
  });

  it('passes on read and close errors', async () => {
    const boom = new Error('disk on fire');
    let calls = 0;
    const wrapper = new FileWrapper({
      read: () => {
        if (++calls === 2) throw boom;
        return Buffer.from('x');
      },
      close: () => Promise.reject(boom),
    });
    await expect(collect(wrapper)).rejects.toBe(boom);
    await expect(wrapper.close()).rejects.toBe(boom);
    const closed = new FileWrapper(openSync(path, 'r'));
    await closed.close();
    await expect(collect(closed)).rejects.toMatchObject({ code: 'EBADF' });
    await expect(new FileWrapper(2 ** 30).close()).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('refuses a read() that returns something other than bytes', async () => {
    const wrapper = new FileWrapper({ read: () => 'text' as unknown as Uint8Array });
    await expect(collect(wrapper)).rejects.toThrow(/must return a Uint8Array/);
  });

  it('refuses bad files and block sizes', () => {
    for (const bad of [null, undefined, 'path', {}, { read: 1 }, true]) {
      expect(() => new FileWrapper(bad as unknown as number)).toThrow(TypeError);
    }
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => new FileWrapper(bad)).toThrow(RangeError);
    }
    const file = { read: () => new Uint8Array(0) };
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, '10']) {
      expect(() => new FileWrapper(file, bad as number)).toThrow(RangeError);
    }
  });
});
