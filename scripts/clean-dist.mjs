// Removes every workspace package's build output (packages/*/dist, apps/*/dist), so the next
// build holds only what today's sources compile to: `tsc --build` never deletes the output of a
// source file that was removed or renamed, and a release would publish it.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
let removed = 0;
for (const group of ['packages', 'apps']) {
  for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    rmSync(join(root, group, entry.name, 'dist'), { recursive: true, force: true });
    removed += 1;
  }
}
process.stdout.write(`clean-dist: removed the dist of ${String(removed)} workspace packages\n`);
