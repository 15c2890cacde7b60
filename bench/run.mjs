// `pnpm bench`: runs every scenario of issue 8 against its baselines, prints medians and
// ratios, and writes bench/RESULTS.md. `--smoke` (or BENCH_SMOKE=1): one short round of each,
// a few seconds in all, failing only when a scenario cannot run; RESULTS.md is left alone.
// `--only=hello,cgi` picks scenarios; `--exclude=@wsgi` leaves out variants by name; `--rounds=N` and `--seconds=S` override the defaults.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { curl, loadGenerator } from './lib/load.mjs';
import { killAll, pinning } from './lib/proc.mjs';
import { consoleBlock, markdownBlock } from './lib/report.mjs';
import { PYTHON, scenarios } from './lib/scenarios.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const flag = (name) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const smoke = args.includes('--smoke') || ['1', 'true'].includes(process.env['BENCH_SMOKE'] ?? '');

const cfg = smoke
  ? {
      rounds: 1,
      seconds: 0.3,
      warmSeconds: 0,
      downloadMiB: 8,
      uploadMiB: 8,
      cgiSeconds: 0.3,
      inprocSeconds: 0.2,
    }
  : {
      rounds: 5,
      seconds: 3,
      warmSeconds: 1,
      downloadMiB: 512,
      uploadMiB: 256,
      cgiSeconds: 3,
      inprocSeconds: 2,
    };
if (flag('rounds')) cfg.rounds = Number(flag('rounds'));
if (flag('seconds')) cfg.seconds = cfg.cgiSeconds = cfg.inprocSeconds = Number(flag('seconds'));
const only = flag('only')?.split(',');
cfg.exclude = flag('exclude')?.split(',') ?? [];

function tryRun(command, argv) {
  try {
    return execFileSync(command, argv, {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch {
    return '';
  }
}

function findWsgiServe() {
  try {
    const pkgPath = require.resolve('@wsgi/simple/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
    const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.['wsgi-serve'];
    const path = bin === undefined ? '' : join(dirname(pkgPath), bin);
    return path !== '' && existsSync(path) ? path : '';
  } catch {
    return '';
  }
}

function version(pkg) {
  // Not require(`${pkg}/package.json`): hono's exports map does not list it.
  try {
    return JSON.parse(readFileSync(join(benchDir, 'node_modules', pkg, 'package.json'), 'utf8'))
      .version;
  } catch {
    return 'missing';
  }
}

const gen = loadGenerator();
const python = existsSync(PYTHON) ? PYTHON : '';
const lighttpd = tryRun('/bin/sh', ['-c', 'command -v lighttpd']);
const wsgiServe = findWsgiServe();
const cpuModel = os.cpus()[0]?.model ?? '?';
const machine = {
  cores: os.availableParallelism(),
  cpu: cpuModel,
  memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
  kernel: `${os.type()} ${os.release()}`,
  node: process.version,
  python: python ? tryRun(python, ['--version']).replace('Python ', '') : 'absent',
  loadgen: `${gen.name} ${gen.version}`,
  transfers: curl ? `curl ${tryRun(curl, ['--version']).split(' ')[1] ?? '?'}` : 'node client',
  lighttpd: lighttpd ? tryRun(lighttpd, ['-v']).split(' ')[0] : 'absent',
  commit: tryRun('git', ['-C', benchDir, 'rev-parse', '--short', 'HEAD']),
};
const refs = {
  fastify: version('fastify'),
  hono: version('hono'),
  '@hono/node-server': version('@hono/node-server'),
};

const log = (line) => {
  process.stdout.write(`${line}\n`);
};
log(
  `@wsgi bench${smoke ? ' (smoke)' : ''}: load generator ${gen.name} ${gen.version}; transfers by ${machine.transfers}`,
);
log(
  pinning
    ? `servers pinned to core ${pinning.server}, load generator to core ${pinning.load} (taskset)`
    : 'one core: no pinning',
);
log(`${cfg.rounds} round(s) of ${cfg.seconds} s per variant, alternating order`);
if (!python) log(`note: ${PYTHON} is absent, CPython baselines skipped`);
if (!lighttpd) log('note: lighttpd is absent, the CGI scenario is skipped');

// A bound on the whole run: stop every child and fail rather than hang.
const limitMs = (smoke ? 120 : 1200) * 1000;
const watchdog = setTimeout(() => {
  log(`\nbench: still running after ${limitMs / 1000} s, stopping`);
  killAll();
  process.exit(1);
}, limitMs);
watchdog.unref();

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

const outcomes = [];
const load = (values) => values.map((x) => x.toFixed(2)).join(' ');
const loadBefore = load(os.loadavg());
const started = Date.now();
for (const scenario of scenarios) {
  if (only && !only.includes(scenario.id)) continue;
  log(`\n-- ${scenario.title}`);
  let outcome;
  try {
    outcome = await scenario.run({ gen, cfg, log, python, lighttpd, wsgiServe });
  } catch (err) {
    outcome = { error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  outcomes.push([scenario, outcome]);
  log(consoleBlock(scenario, outcome));
}
const seconds = (Date.now() - started) / 1000;
const loadAfter = load(os.loadavg());

const failed = outcomes.filter(([, o]) => o.error);
const ratios = outcomes.filter(([, o]) => o.goals);
log(
  `\n${ratios.length} scenario(s) measured, ${outcomes.length - ratios.length - failed.length} skipped, ${failed.length} failed, in ${seconds.toFixed(0)} s`,
);

if (!smoke && !only && cfg.exclude.length === 0) {
  const resultsPath = join(benchDir, 'RESULTS.md');
  const previous = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '';
  const findingsAt = previous.indexOf('\n## Findings');
  const findings =
    findingsAt >= 0 ? previous.slice(findingsAt + 1) : '## Findings\n\nNone recorded yet.\n';
  const md = [
    '# Benchmark results',
    '',
    `Written by \`pnpm bench\` on ${new Date().toISOString()} (commit ${machine.commit}), ${seconds.toFixed(0)} s.`,
    `Medians of ${cfg.rounds} alternating rounds of ${cfg.seconds} s per variant; ratios are medians of the`,
    "per-round ratios against the baseline of the same round. CPU is the server process's own",
    'user + system time (from `/proc/<pid>/stat`), the steadier figure on a shared machine.',
    '',
    '## Machine',
    '',
    ...Object.entries(machine).map(([k, v]) => `- ${k}: ${v}`),
    `- references: ${Object.entries(refs)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `- load average (1, 5, 15 min): ${loadBefore} at the start, ${loadAfter} at the end (other work on the machine)`,
    `- pinning: ${pinning ? `servers on core ${pinning.server}, load generator on core ${pinning.load}` : 'none'}`,
    '',
    '## Scenarios',
    '',
    ...outcomes.map(([s, o]) => markdownBlock(s, o)),
    findings,
  ].join('\n');
  writeFileSync(resultsPath, md);
  log(`wrote ${resultsPath}`);
}

if (failed.length > 0 || ratios.length === 0) process.exitCode = 1;
