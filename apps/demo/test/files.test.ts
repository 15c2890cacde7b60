// /files/<name> must never leave its folder. PATH_INFO is percent-decoded (PEP 3333,
// "environ Variables"), so every encoded form below reaches the application already decoded.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { checkFileName } from '../src/_files.ts';
import { createDemoApp } from '../src/app.ts';
import { rawGet, serve, type Served } from './_http.ts';

const SECRET = 'TOP-SECRET-MARKER-4f1c';
let root: string;
let served: Served;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wsgi-demo-files-'));
  const pub = join(root, 'public');
  await mkdir(join(pub, 'sub'), { recursive: true });
  await writeFile(join(root, 'secret.txt'), SECRET);
  await writeFile(join(pub, 'ok.txt'), 'fine\n');
  await writeFile(join(pub, 'sub', 'inner.txt'), SECRET);
  await writeFile(join(pub, '.env'), SECRET);
  await symlink(join(root, 'secret.txt'), join(pub, 'link.txt'));
  served = await serve(createDemoApp({ filesDir: pub }));
});

afterAll(async () => {
  await served.close();
  await rm(root, { recursive: true, force: true });
});

describe('/files/<name> stays in its folder', () => {
  it('serves a plain file of the folder', async () => {
    const res = await rawGet(served.port, '/files/ok.txt');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('fine\n');
  });

  const attempts = [
    '/files/../secret.txt',
    '/files/..%2fsecret.txt',
    '/files/..%2Fsecret.txt',
    '/files/%2e%2e/secret.txt',
    '/files/%2e%2e%2fsecret.txt',
    '/files/%2E%2E%2Fsecret.txt',
    '/files/.%2e/secret.txt',
    '/files/..',
    '/files/%2e%2e',
    '/files/.',
    '/files/..%5csecret.txt',
    '/files/..\\secret.txt',
    '/files/%5c..%5csecret.txt',
    '/files/sub/../../secret.txt',
    '/files/sub%2f..%2f..%2fsecret.txt',
    '/files/sub/inner.txt',
    '/files/sub',
    '/files/link.txt',
    '/files/.env',
    '/files//etc/passwd',
    '/files/%2fetc%2fpasswd',
    '/files/%2Fetc%2Fpasswd',
    '/files/C:%5cWindows%5cwin.ini',
    '/files/secret.txt%00',
    '/files/ok.txt%00.png',
    '/files/%00',
    '/files/ok.txt%0d%0aX-Injected:%201',
    '/files/%252e%252e%252fsecret.txt',
    '/files/..%252fsecret.txt',
    '/files/%c0%ae%c0%ae%c0%afsecret.txt',
    '/files/%e2%80%a5%2fsecret.txt',
  ];

  it.each(attempts)('%s is refused with 400 or 404', async (target) => {
    const res = await rawGet(served.port, target);
    expect([400, 404]).toContain(res.status);
    expect(res.body.toString('latin1')).not.toContain(SECRET);
    expect(res.body.toString('latin1')).not.toMatch(/root:.*:0:0:/);
    expect(res.headers.has('x-injected')).toBe(false);
  });

  it('says 400 for separators and dot segments', async () => {
    for (const target of [
      '/files/..%2fsecret.txt',
      '/files/%2e%2e',
      '/files/..%5csecret.txt',
      '/files/%00',
    ]) {
      expect((await rawGet(served.port, target)).status, target).toBe(400);
    }
  });

  it('lists only plain files of the folder', async () => {
    const page = (await rawGet(served.port, '/files/')).body.toString();
    expect(page).toContain('>ok.txt</a>');
    expect(page).not.toContain('link.txt');
    expect(page).not.toContain('.env');
    expect(page).not.toContain('>sub<');
  });
});

describe('checkFileName', () => {
  it('passes only names without separators, control characters or leading dots (property)', () => {
    const pieces = fc.constantFrom(
      '.',
      '..',
      '/',
      '\\',
      ':',
      '\0',
      '\n',
      'a',
      'é',
      '%2e',
      'C:',
      ' ',
      '\u00c3\u00a9',
    );
    fc.assert(
      fc.property(
        fc.array(pieces, { maxLength: 8 }).map((p) => p.join('')),
        (native) => {
          const check = checkFileName(native);
          if (check.ok) {
            expect(
              /[/\\:]/.test(check.name) ||
                Array.from(check.name, (ch) => ch.charCodeAt(0)).some((c) => c < 0x20),
            ).toBe(false);
            expect(check.name.startsWith('.')).toBe(false);
            expect(check.name).not.toBe('');
            expect(Buffer.from(check.name, 'utf8').toString('latin1')).toBe(native);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('decodes UTF-8 carried as latin-1', () => {
    expect(checkFileName('caf\u00c3\u00a9.txt')).toEqual({ ok: true, name: 'café.txt' });
    expect(checkFileName('caf\u00e9.txt')).toMatchObject({ ok: false, status: 404 });
  });
});
