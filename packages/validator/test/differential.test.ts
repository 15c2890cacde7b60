/**
 * The same applications through Python's wsgiref.validate (test/fixtures/validate_cases.py) and
 * through ours: both must agree on error / warning / fine, except where API.md says we
 * deliberately differ.
 */
import { beforeAll, describe, expect, it } from 'vitest';

import { EXTRA, RULES, type Spec, type Verdict } from './fixtures/cases.ts';
import { CAN_RUN_PYTHON, pythonVerdicts } from './_python.ts';
import { runSpec } from './_spec.ts';

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

describe.runIf(CAN_RUN_PYTHON)('against wsgiref.validate', () => {
  let python = new Map<string, { verdict: Verdict; detail: string }>();

  beforeAll(async () => {
    python = await pythonVerdicts(cases.map(({ name, spec }) => ({ name, spec })));
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
});
