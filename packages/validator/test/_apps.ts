/** Small applications and a collect-mode wrapper the unit tests share. */
import type { Application } from '@wsgi/util';

import { validator, type Finding } from '../src/index.ts';

export const TEXT: Array<[string, string]> = [['Content-Type', 'text/plain']];

/** Hello world with a one-item array body. */
export const hello: Application = (_environ, startResponse) => {
  startResponse('200 OK', TEXT);
  return [Buffer.from('Hello world!')];
};

/** `app` under the validator in collect mode, and the findings it records. */
export function collecting(app: Application): { app: Application; findings: Finding[] } {
  const findings: Finding[] = [];
  return { app: validator(app, { mode: 'collect', onFinding: (f) => findings.push(f) }), findings };
}
