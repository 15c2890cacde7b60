/**
 * The same applications through Python's wsgiref.validate (test/fixtures/validate_cases.py) and
 * through ours: both must agree on error / warning / fine, except where API.md says we
 * deliberately differ.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { beforeAll, describe, expect, it } from 'vitest';

import { EXTRA, RULES, type Spec, type Verdict } from './fixtures/cases.ts';
import { runSpec } from './_spec.ts';

const PYTHON = '/root/.pyenv/versions/3.11.7/bin/python3';
const SCRIPT = fileURLToPath(new URL('fixtures/validate_cases.py', import.meta.url));
const WARNINGS = new Set([
  'environ.query-string-missing',
  'environ.request-method',
  'status.reason',
  'body.not-closed',
]);

interface Case {
  name: string;
  spec: Spec;
  ours: Verdict;
  python: Verdict;
}

const cases: Case[] = [
  ...RULES.flatMap((rule): Case[] => {
    const ours: Verdict = WARNINGS.has(rule.code) ? 'warning' : 'error';
    return [
      {
        name: `breaks ${rule.code}`,
        spec: rule.breaks,
        ours,
        python: rule.python?.verdict ?? ours,
      },
      { name: `keeps ${rule.code}`, spec: rule.keeps, ours: 'fine', python: 'fine' },
    ];
  }),
  ...EXTRA,
];

function runPython(input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [SCRIPT], { timeout: 15_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

describe.runIf(existsSync(PYTHON) || process.env['CI'] !== undefined)(
  'against wsgiref.validate',
  () => {
    const python = new Map<string, { verdict: Verdict; detail: string }>();

    beforeAll(async () => {
      const output = await runPython(
        JSON.stringify(cases.map(({ name, spec }) => ({ name, spec }))),
      );
      for (const line of output.trim().split('\n')) {
        const row = JSON.parse(line) as { name: string; verdict: Verdict; detail: string };
        python.set(row.name, row);
      }
    });

    it('ran every case through Python', () => {
      expect([...python.keys()]).toEqual(cases.map((c) => c.name));
    });

    for (const c of cases) {
      it(c.name, async () => {
        const ours = await runSpec(c.spec);
        const theirs = python.get(c.name);
        expect({ ours: ours.verdict, python: theirs?.verdict }, theirs?.detail).toEqual({
          ours: c.ours,
          python: c.python,
        });
      });
    }
  },
);
