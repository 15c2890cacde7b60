/**
 * The README's example runs as written, in a real Node.js process, and prints what the README
 * says it prints; its API table names every export.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import * as fetchExports from '../src/index.ts';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));

function block(readme: string, lang: string): string {
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme);
  if (match?.[1] === undefined) throw new Error(`no ${lang} block in the README`);
  return match[1];
}

describe('README', () => {
  it('has an example that prints what it says', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    // Evaluated from the package directory, so '@wsgi/fetch' resolves to this package's dist.
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', block(readme, 'js')],
      { cwd: PACKAGE, timeout: 10_000 },
    );
    expect(stderr).toBe('');
    expect(stdout).toBe(block(readme, 'text'));
  });

  it('documents every export and its types', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    for (const name of [...Object.keys(fetchExports), 'FetchHandler', 'ToFetchHandlerOptions']) {
      expect(readme).toMatch(new RegExp(`\\| \`(type |interface )?${name}[(.\`]`));
    }
  });
});
