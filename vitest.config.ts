import { readdirSync, readFileSync } from 'node:fs';

import { defineConfig } from 'vitest/config';

// One project per workspace package, named after it (`vitest run --project @wsgi/core`), each
// inheriting the timeouts below (a bare glob in `projects` would not).
const packageProjects = ['packages', 'apps'].flatMap((parent) =>
  readdirSync(parent).map((dir) => {
    const root = `${parent}/${dir}`;
    const { name } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { name: string };
    return { extends: true as const, test: { name, root } };
  }),
);

export default defineConfig({
  test: {
    projects: [
      ...packageProjects,
      { extends: true, test: { name: 'packaging', include: ['test/**/*.test.ts'] } },
    ],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
