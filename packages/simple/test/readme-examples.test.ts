/**
 * The README's TestClient example, run as written (from a module inside this package, so that
 * `@wsgi/simple` resolves to this build and `@wsgi/validator` to the peer dependency).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The fenced `js` block of the README that starts with `// <name>`. */
async function example(name: string): Promise<string> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```js\n([\s\S]*?)```/g)]
    .map((match) => match[1] ?? '')
    .find((code) => code.startsWith(`// ${name}`));
  if (block === undefined) throw new Error(`README has no example ${name}`);
  return block;
}

it('runs the TestClient example from the README', async () => {
  const dir = await mkdtemp(join(root, '.readme-'));
  try {
    const file = join(dir, 'hello.test.mjs');
    await writeFile(file, await example('hello.test.mjs'));
    const run = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 15_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('fails when the example’s assertion does not hold', async () => {
  const dir = await mkdtemp(join(root, '.readme-'));
  try {
    const file = join(dir, 'broken.mjs');
    const code = (await example('hello.test.mjs')).replace("'Hello, world!'", "'Goodbye'");
    await writeFile(file, code);
    const run = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 15_000 });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('AssertionError');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
