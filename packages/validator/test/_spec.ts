/**
 * Runs a case of fixtures/cases.ts through our validator, the way a small server would, and
 * tells the verdict: a ValidationError thrown, warnings only, or nothing.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import type { Application, Environ, ResponseBody, StartResponse } from '@wsgi/util';

import { validator, type Finding } from '../src/index.ts';
import type { Spec, Val, Verdict } from './fixtures/cases.ts';
import { makeEnviron, TestInput } from './_wsgi.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects garbage until `done()` or a bounded number of rounds, letting finalizers run. */
export async function collectGarbage(done: () => boolean): Promise<void> {
  for (let round = 0; round < 20 && !done(); round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Turns a case value into the JavaScript value it stands for. */
export function decode(value: Val): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (typeof value !== 'object' || value === null) return value;
  if ('bytes' in value) return Buffer.from(value.bytes, 'latin1');
  if ('pair' in value) return value.pair.map(decode);
  if ('empty' in value) return {};
  return new Error(value.error);
}

function specEnviron(spec: Spec): Record<string, unknown> {
  const environ: Record<string, unknown> = makeEnviron();
  if (spec.badInput === true) environ['wsgi.input'] = new TestInput('line\n', { strings: true });
  for (const [key, value] of Object.entries(spec.environ ?? {})) {
    if (typeof value === 'object' && value !== null && 'delete' in value) {
      Reflect.deleteProperty(environ, key);
    } else environ[key] = decode(value);
  }
  if (spec.environSubclass === true) {
    class SubEnviron {
      toString(): string {
        return 'SubEnviron';
      }
    }
    return Object.assign(new SubEnviron(), environ);
  }
  return environ;
}

/** The application a spec describes, unwrapped. */
export function specApp(spec: Spec): Application {
  const startArgs = (spec.startArgs ?? ['200 OK', [{ pair: ['Content-Type', 'text/plain'] }]]).map(
    decode,
  );
  const start = spec.start ?? 'app';
  const body = spec.body ?? { list: [{ bytes: 'ok' }] };
  return async (environ: Environ, startResponse: StartResponse) => {
    const call = (): ReturnType<StartResponse> =>
      (startResponse as (...args: unknown[]) => ReturnType<StartResponse>)(...startArgs);
    const write = start === 'app' ? call() : undefined;
    for (const action of spec.actions ?? []) {
      if ('write' in action) {
        await write?.(decode(action.write) as Uint8Array);
        continue;
      }
      const target = environ[
        action.target === 'input' ? 'wsgi.input' : 'wsgi.errors'
      ] as unknown as Record<string, (...args: unknown[]) => unknown>;
      await target[action.method]?.(...action.args.map(decode));
    }
    if ('value' in body) return decode(body.value) as ResponseBody;
    if ('list' in body) return body.list.map(decode) as ResponseBody;
    const items = body.gen.map(decode);
    return (function* generate() {
      if (start === 'gen-before') call();
      for (const item of items) {
        yield item as Uint8Array;
        if (start === 'gen-after') call();
      }
    })();
  };
}

/** Drives a body as a server would; for `after-close`, reads it again after closing. */
async function serve(body: unknown, how: Spec['serve']): Promise<number> {
  const iterable = body as ResponseBody;
  let length = 0;
  if (Symbol.iterator in iterable) for (const chunk of iterable) length += chunk.length;
  else for await (const chunk of iterable) length += chunk.length;
  if (how === 'no-close') return length;
  await iterable.close?.();
  if (how === 'after-close')
    for (const chunk of iterable as Iterable<Uint8Array>) length += chunk.length;
  return length;
}

/** Runs a spec through the validator and reports the verdict and every finding. */
export async function runSpec(spec: Spec): Promise<{ verdict: Verdict; findings: Finding[] }> {
  const findings: Finding[] = [];
  const app = validator(specApp(spec), { onFinding: (f) => findings.push(f), onWarning: () => {} });
  let verdict: Verdict = 'fine';
  try {
    const args: unknown[] = [specEnviron(spec), () => async () => {}];
    if (spec.extraArg === true) args.push('extra');
    await serve(await (app as (...a: unknown[]) => unknown)(...args), spec.serve);
  } catch (error) {
    if (!findings.some((f) => f === error)) throw error;
  }
  if (spec.serve === 'no-close') {
    await collectGarbage(() => findings.some((f) => f.code === 'body.not-closed'));
  }
  if (findings.some((f) => f.severity === 'error')) verdict = 'error';
  else if (findings.length > 0) verdict = 'warning';
  return { verdict, findings };
}
