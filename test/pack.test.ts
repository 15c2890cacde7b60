// Packaging: every published package is packed with `pnpm pack` (which turns `workspace:^` into
// real ranges), installed with plain npm into a fresh project outside the workspace, imported
// from an ES module that serves a hello application through makeServer and CGIHandler, and
// type-checked from a strict TypeScript file.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packages = ['util', 'core', 'simple', 'cgi', 'validator', 'fetch'];
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

let work = '';
let consumer = '';

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'wsgi-pack-'));
  const tarballs = join(work, 'tarballs');
  await mkdir(tarballs);
  for (const name of packages) {
    await run(bin('pnpm'), ['pack', '--pack-destination', tarballs], {
      cwd: join(root, 'packages', name),
    });
  }
  consumer = join(work, 'consumer');
  await cp(join(root, 'test', 'fixtures', 'consumer'), consumer, { recursive: true });
  const files = (await readdir(tarballs)).map((file) => join(tarballs, file));
  // Our packages have no third-party runtime dependencies, so npm needs no registry for them.
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...files], {
    cwd: consumer,
  });
  // The type check needs Node's types; take the workspace's copy rather than the registry's.
  await mkdir(join(consumer, 'node_modules', '@types'), { recursive: true });
  await symlink(
    join(root, 'node_modules', '@types', 'node'),
    join(consumer, 'node_modules', '@types', 'node'),
  );
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed packages', () => {
  let rootRepository: { type: string; url: string } | undefined;
  beforeAll(async () => {
    const rootManifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      repository: { type: string; url: string };
    };
    rootRepository = rootManifest.repository;
    expect(rootManifest.repository.url).toMatch(/^git\+https:\/\/.+\.git$/);
  });

  it('ship only dist, src (and a bin), README and LICENSE, with workspace ranges resolved', async () => {
    for (const name of packages) {
      const dir = join(consumer, 'node_modules', '@wsgi', name);
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
        repository?: unknown;
      };
      for (const range of Object.values(manifest.dependencies ?? {})) {
        expect(range).not.toMatch(/^workspace:/);
      }
      // One repository for all, each package pointing at its own folder in it.
      expect(manifest.repository).toEqual({ ...rootRepository, directory: `packages/${name}` });
      const entries = (await readdir(dir)).sort();
      const expected = ['LICENSE', 'README.md', 'dist', 'package.json', 'src'];
      // @wsgi/simple's command has a fixed entry point in bin/.
      if (name === 'simple') expected.push('bin');
      expect(entries).toEqual(expected.sort());
    }
  });

  it('ship the sources their source maps name (stack traces, go to definition)', async () => {
    let checked = 0;
    for (const name of packages) {
      const dist = join(consumer, 'node_modules', '@wsgi', name, 'dist');
      const maps = (await readdir(dist)).filter((file) => file.endsWith('.map'));
      expect(maps.length).toBeGreaterThan(0);
      for (const map of maps) {
        const { sourceRoot = '', sources } = JSON.parse(
          await readFile(join(dist, map), 'utf8'),
        ) as { sourceRoot?: string; sources: string[] };
        for (const source of sources) {
          await expect(readFile(join(dist, sourceRoot, source), 'utf8')).resolves.toMatch(/\S/);
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('serve a hello application through makeServer, CGIHandler, BaseHandler and toFetchHandler from plain ESM', async () => {
    const { stdout } = await run(process.execPath, ['smoke.mjs'], { cwd: consumer });
    expect(JSON.parse(stdout)).toEqual({
      server: { status: 200, body: 'Hello world!\n' },
      cgi: 'Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello world!\n',
      validated: 'Hello world!\n',
      fetch: 'Hello world!\n',
    });
  });

  it('install the wsgi-serve command, which runs from the tarball', async () => {
    const { stdout } = await run(join(consumer, 'node_modules', '.bin', 'wsgi-serve'), ['--help']);
    expect(stdout).toMatch(/^usage: wsgi-serve /m);
    expect(stdout).toContain('--max-body-size');
  });

  it('type-check against the public types under strict', async () => {
    await expect(
      run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], {
        cwd: consumer,
      }),
    ).resolves.toBeTruthy();
  });
});
