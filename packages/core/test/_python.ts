/**
 * Running the real CPython 3.11 interpreter for differential tests. The tests are skipped only
 * where that interpreter is absent and CI is not set; in CI a missing interpreter fails them.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = '/root/.pyenv/versions/3.11.7/bin/python3';
export const hasPython = existsSync(PYTHON) || process.env['CI'] !== undefined;

/** Runs python with `args`, writes `input` to its stdin, resolves with its stdout. */
export function runPython(args: string[], input: string, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else {
        const detail = Buffer.concat(err).toString('utf8');
        reject(new Error(`python exited with ${String(code ?? signal)}: ${detail}`));
      }
    });
    child.stdin.end(input);
  });
}
