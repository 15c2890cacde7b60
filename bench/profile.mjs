// Profiles one server kind under load: `node bench/profile.mjs <kind> [seconds] [connections]`.
// Starts `servers/node.mjs <kind>` with `--cpu-prof`, loads it (the *-file and *-upload kinds:
// `seconds` transfers of BENCH_FILE), stops it, and prints the
// functions with the most self time and the most total (inclusive) time. The .cpuprofile
// stays in bench/.tmp/prof/ for Chrome DevTools.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { httpLoad, loadGenerator, transfer } from './lib/load.mjs';
import { cpuSeconds, startServer, stopServer } from './lib/proc.mjs';
import { textTable } from './lib/stats.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const [kind = 'wsgi-hello', secondsArg = '3', connectionsArg = '50'] = process.argv.slice(2);
const dir = join(benchDir, '.tmp', 'prof', kind);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

const server = await startServer({
  name: kind,
  command: process.execPath,
  args: [
    '--cpu-prof',
    '--cpu-prof-interval',
    process.env['BENCH_PROF_INTERVAL'] ?? '200',
    '--cpu-prof-dir',
    dir,
    join(benchDir, 'servers', 'node.mjs'),
    kind,
  ],
  env: {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    NODE_ENV: 'production',
    BENCH_FILE: process.env['BENCH_FILE'] ?? '',
  },
  cwd: benchDir,
});
const gen = loadGenerator();
const url = `http://127.0.0.1:${server.port}/`;
// Upload and download kinds move BENCH_FILE `seconds` times instead of a timed request load.
const direction = /upload/.test(kind) ? 'upload' : /file/.test(kind) ? 'download' : null;
let warm;
let r;
let cpu;
if (direction === null) {
  const connections = Number(connectionsArg);
  warm = await httpLoad(gen, { url, connections, seconds: 1 });
  const cpu0 = cpuSeconds(server.pid);
  r = await httpLoad(gen, { url, connections, seconds: Number(secondsArg) });
  cpu = cpuSeconds(server.pid) - cpu0;
} else {
  warm = { requests: 0 };
  const cpu0 = cpuSeconds(server.pid);
  let bytes = 0;
  let seconds = 0;
  const count = Number(secondsArg);
  for (let i = 0; i < count; i++) {
    const t = await transfer({ direction, url, file: process.env['BENCH_FILE'] });
    if (t.status !== 200) throw new Error(`status ${t.status}`);
    bytes += t.bytes;
    seconds += t.seconds;
  }
  cpu = cpuSeconds(server.pid) - cpu0;
  r = { requests: count, rps: count / seconds };
  process.stdout.write(
    `${kind}: ${(bytes / seconds / 1e6).toFixed(0)} MB/s, ${((cpu * 1e3 * 2 ** 30) / bytes).toFixed(0)} ms CPU/GiB\n`,
  );
}
process.stdout.write(
  `${kind}: ${r.rps.toFixed(0)} req/s, ${((cpu * 1e6) / r.requests).toFixed(1)} µs CPU/request (profiler on)\n`,
);
await stopServer(server.child, 10_000);

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (file === undefined) throw new Error(`no profile written in ${dir}`);
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
const key = (n) => {
  const { functionName, url: u, lineNumber } = n.callFrame;
  const path = u.startsWith('file:') ? relative(join(benchDir, '..'), fileURLToPath(u)) : u;
  const where = u ? `${path}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
};
const self = new Map();
const byFile = new Map();
const total = new Map();
const walk = (node, seen) => {
  const k = key(node);
  let sum = node.hitCount ?? 0;
  self.set(k, (self.get(k) ?? 0) + sum);
  const f = k.includes(' ') ? k.slice(k.indexOf(' ') + 1).replace(/:\d+$/, '') : k;
  byFile.set(f, (byFile.get(f) ?? 0) + sum);
  const inner = new Set(seen).add(k);
  for (const id of node.children ?? []) sum += walk(byId.get(id), inner);
  if (!seen.has(k)) total.set(k, (total.get(k) ?? 0) + sum);
  return sum;
};
walk(profile.nodes[0], new Set());
const all = profile.samples.length;
// The profile covers the warm-up too: per-request figures divide by both loads' requests.
const requests = warm.requests + r.requests;
process.stdout.write(`requests profiled: ${requests}\n`);
const top = (map, n) =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, hits]) => [
      ((100 * hits) / all).toFixed(1) + '%',
      ((hits * interval) / 1000).toFixed(0) + ' ms',
      ((hits * interval) / requests).toFixed(2),
      k.slice(0, 130),
    ]);
process.stdout.write(`\nself time (${all} samples, ${interval.toFixed(0)} µs each)\n`);
process.stdout.write(`${textTable(['share', 'time', 'µs/req', 'function'], top(self, 25))}\n`);
process.stdout.write(
  `\nself time by file\n${textTable(['share', 'time', 'µs/req', 'file'], top(byFile, 20))}\n`,
);
process.stdout.write(
  `\ntotal time\n${textTable(['share', 'time', 'µs/req', 'function'], top(total, 40))}\n`,
);
process.stdout.write(`\nprofile: ${join(dir, file)}\n`);
