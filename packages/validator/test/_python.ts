/** Runs specs through Python's wsgiref.validate (fixtures/validate_cases.py). */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { Spec, Verdict } from './fixtures/cases.ts';

const PYTHON = '/root/.pyenv/versions/3.11.7/bin/python3';
const SCRIPT = fileURLToPath(new URL('fixtures/validate_cases.py', import.meta.url));

/** Whether the differential tests can run: Python is here, or this is CI (where it must be). */
export const CAN_RUN_PYTHON = existsSync(PYTHON) || process.env['CI'] !== undefined;

/** Python's verdict, and what it raised or warned, for each named spec. */
export async function pythonVerdicts(
  cases: Array<{ name: string; spec: Spec }>,
): Promise<Map<string, { verdict: Verdict; detail: string }>> {
  const output = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      PYTHON,
      [SCRIPT],
      { timeout: 15_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end(JSON.stringify(cases));
  });
  const verdicts = new Map<string, { verdict: Verdict; detail: string }>();
  for (const line of output.trim().split('\n')) {
    const row = JSON.parse(line) as { name: string; verdict: Verdict; detail: string };
    verdicts.set(row.name, row);
  }
  return verdicts;
}
