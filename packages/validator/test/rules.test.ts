/**
 * Every rule: an application that breaks it gets the error or warning, with the rule's code
 * in the message; a near one that keeps it gets nothing.
 */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import type { ValidationCode } from '../src/index.ts';
import { RULES } from './fixtures/cases.ts';
import { runSpec } from './_spec.ts';

// Listing every code here makes the type checker fail when a code has no entry.
const SEVERITY: Record<ValidationCode, 'error' | 'warning'> = {
  'call.arguments': 'error',
  'environ.type': 'error',
  'environ.missing-key': 'error',
  'environ.http-content-header': 'error',
  'environ.not-string': 'error',
  'environ.version': 'error',
  'environ.url-scheme': 'error',
  'environ.input': 'error',
  'environ.errors': 'error',
  'environ.script-name': 'error',
  'environ.script-name-root': 'error',
  'environ.path-info': 'error',
  'environ.path-missing': 'error',
  'environ.content-length': 'error',
  'environ.query-string-missing': 'warning',
  'environ.request-method': 'warning',
  'input.arguments': 'error',
  'input.result': 'error',
  'input.close': 'error',
  'errors.type': 'error',
  'errors.close': 'error',
  'start-response.arguments': 'error',
  'status.type': 'error',
  'status.format': 'error',
  'status.code': 'error',
  'status.informational': 'error',
  'status.invalid-char': 'error',
  'status.reason': 'warning',
  'headers.type': 'error',
  'headers.item': 'error',
  'headers.not-string': 'error',
  'headers.status': 'error',
  'headers.name': 'error',
  'headers.name-ending': 'error',
  'headers.value': 'error',
  'headers.hop-by-hop': 'error',
  'headers.content-type-missing': 'error',
  'headers.content-type-forbidden': 'error',
  'exc-info.type': 'error',
  'write.type': 'error',
  'body.type': 'error',
  'body.string': 'error',
  'body.item': 'error',
  'body.before-start': 'error',
  'body.after-close': 'error',
  'body.not-closed': 'warning',
};

describe('every rule', () => {
  it('is in the README table with its kind, and nothing else is', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Rules'));
    const rows = [...table.matchAll(/^\| `([a-z.-]+)` +\| (error|warning) +\|/gm)];
    expect(Object.fromEntries(rows.map(([, code, kind]) => [code, kind]))).toEqual(SEVERITY);
    expect(rows).toHaveLength(Object.keys(SEVERITY).length);
  });

  it('has exactly one case', () => {
    expect(RULES.map((rule) => rule.code).sort()).toEqual(Object.keys(SEVERITY).sort());
  });

  for (const rule of RULES) {
    describe(rule.code, () => {
      it(`an application that breaks it gets a ${SEVERITY[rule.code]}`, async () => {
        const { verdict, findings } = await runSpec(rule.breaks);
        expect(verdict).toBe(SEVERITY[rule.code]);
        const finding = findings.find((f) => f.code === rule.code);
        expect(finding?.severity).toBe(SEVERITY[rule.code]);
        expect(finding?.message).toContain(`[${rule.code}]`);
        // Only the rule broken on purpose: the cases break one rule at a time.
        expect(new Set(findings.map((f) => f.code))).toEqual(new Set([rule.code]));
      });

      it('an application that keeps it gets nothing', async () => {
        const { verdict, findings } = await runSpec(rule.keeps);
        expect(findings.map((f) => f.message)).toEqual([]);
        expect(verdict).toBe('fine');
      });
    });
  }
});
