/**
 * The README's example runs as written, in a real Node.js process, and prints what the README
 * says it prints.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));

function block(readme: string, lang: string): string {
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme);
  if (match?.[1] === undefined) throw new Error(`no ${lang} block in the README`);
  return match[1];
}

describe('README', () => {
  it('has an example that prints what it says', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    // Evaluated from the package directory, so '@wsgi/core' resolves to this package's dist.
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', block(readme, 'js')],
      { cwd: PACKAGE, timeout: 10_000, encoding: 'latin1' },
    );
    expect(stderr).toBe('');
    const [head = '', body] = block(readme, 'text').split('\n\n');
    expect(stdout).toBe(`${head.replaceAll('\n', '\r\n')}\r\n\r\n${String(body)}`);
  });

  it('lists every error code in its errors table', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const source = await readFile(new URL('../src/_errors.ts', import.meta.url), 'utf8');
    const codes = [...source.matchAll(/'(ERR_WSGI_[A-Z_]+)'/g)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThan(5);
    for (const code of codes) expect(readme).toMatch(new RegExp(`\\| +\`${String(code)}\` +\\|`));
  });
});
