/**
 * Random statuses, header names and header values, through our validator and through Python's
 * wsgiref.validate: the verdicts must agree. The alphabets leave out what API.md item 4 makes
 * us judge differently on purpose (tab and DEL in values, control characters in a status,
 * token characters other than letters, digits, `-` and `_` in names, 1xx statuses without
 * Content-Type, hop-by-hop names), and keep the characters both validators care about.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

import type { Spec, Val, Verdict } from './fixtures/cases.ts';
import { CAN_RUN_PYTHON, pythonVerdicts } from './_python.ts';
import { runSpec } from './_spec.ts';

// Every character here is one UTF-16 unit, so Array.from splits them safely.
const chars = (alphabet: string, max: number): fc.Arbitrary<string> =>
  fc
    .array(fc.constantFrom(...Array.from(alphabet)), { maxLength: max })
    .map((list) => list.join(''));

const name = fc
  .tuple(fc.constantFrom('X', 'y', 'Z'), chars('aZ09-_: \n\u00e9', 6))
  .map(([first, rest]) => first + rest);
const value = chars('aZ09 :;\n\r\x00\x1f\u00e9', 6);
const status = fc
  .tuple(chars('0123456789', 4), fc.constantFrom('', ' ', '\t', 'X', '0'), chars('OK é', 4))
  .map(([code, separator, reason]) => code + separator + reason);

const CT: Val = { pair: ['Content-Type', 'text/plain'] };
const not1xx = status.filter((line) => !line.startsWith('1'));
const spec: fc.Arbitrary<Spec> = fc.oneof(
  fc.tuple(name, value).map(([n, v]) => ({ startArgs: ['200 OK', [CT, { pair: [n, v] }]] })),
  not1xx.map((line) => ({ startArgs: [line, [CT]], body: { list: [] } })),
  not1xx.map((line) => ({ startArgs: [line, []], body: { list: [] } })),
);

describe.runIf(CAN_RUN_PYTHON)('random statuses and headers against wsgiref.validate', () => {
  const seed = Date.now();
  const specs = fc.sample(spec, { numRuns: 300, seed });
  const cases = specs.map((s, index) => ({ name: String(index), spec: s }));
  let python = new Map<string, { verdict: Verdict; detail: string }>();

  beforeAll(async () => {
    python = await pythonVerdicts(cases);
  });

  it(`agree on every case (seed ${seed})`, async () => {
    const disagreements: unknown[] = [];
    for (const { name: index, spec: s } of cases) {
      const ours = await runSpec(s);
      const theirs = python.get(index);
      if (ours.verdict !== theirs?.verdict) {
        disagreements.push({
          startArgs: s.startArgs,
          ours: ours.findings.map((f) => f.message),
          python: theirs,
        });
      }
    }
    expect(disagreements).toEqual([]);
    expect(python.size).toBe(cases.length);
  });
});
