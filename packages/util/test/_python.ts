import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The interpreter whose wsgiref we compare with (CI has it at the same path). */
export const PYTHON = '/root/.pyenv/versions/3.11.7/bin/python3';

/** Run differential tests where the interpreter is, and always in CI (where it must be). */
export const HAVE_PYTHON = existsSync(PYTHON) || process.env['CI'] !== undefined;

/** Runs `script` with `input` on stdin and resolves to its stdout (UTF-8 both ways). */
export function runPython(script: string, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      PYTHON,
      [script],
      { env: { ...process.env, PYTHONIOENCODING: 'utf-8' }, timeout: 15_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end(input);
  });
}
