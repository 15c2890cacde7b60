// The scenarios of issue 8, each with its baselines measured in the same run, and its goals.
import { createHash, randomFillSync } from 'node:crypto';
import {
  createReadStream,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  statSync,
  writeSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { Buffer } from 'node:buffer';
import { fileURLToPath } from 'node:url';
import { included, preflight, rateScenario, retryOnce, transferScenario } from './harness.mjs';
import { memory, pinning, startServer, stopServer, cpuSeconds } from './proc.mjs';
import { httpLoad } from './load.mjs';
import { median, MiB } from './stats.mjs';
import { spin } from '../apps/wsgi-apps.mjs';

// Node's globals that eslint's plain-JS rules do not know.
const { fetch, AbortSignal } = globalThis;
const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmpDir = join(benchDir, '.tmp');
export const PYTHON = '/root/.pyenv/versions/3.11.7/bin/python3';
const HELLO = 'Hello, World!';

const BUNDLED_CGI = '@wsgi/cgi, the same script bundled into one file (reference)';
/** packages/cgi's README form: a CommonJS script that require()s the ES module packages. */
const COMMONJS_CGI = '@wsgi/cgi, the same script as CommonJS (require)';
/** A WSGI-shaped environ and the Server header on plain node:http: the floor for any WSGI server. */
const FLOOR = 'reference: node:http + an environ + Server (no WSGI stack)';

/**
 * The deployment recipe of packages/cgi's README: rolldown bundles bench/cgi/wsgi.mjs and the
 * @wsgi packages it imports into one ES module, so node loads one file instead of ~30.
 */
async function bundleCgiScript() {
  const { build } = await import('rolldown');
  await build({
    input: join(benchDir, 'cgi', 'wsgi.mjs'),
    platform: 'node',
    logLevel: 'warn',
    output: { file: join(benchDir, 'cgi', 'wsgi.bundle.mjs'), format: 'esm' },
  });
}

/** The environment of every Node server: small and the same for all, so environ copies are fair. */
function nodeEnv(extra = {}) {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/',
    NODE_ENV: 'production',
    ...extra,
  };
}

function nodeServer(kind, env = {}) {
  return () =>
    startServer({
      name: kind,
      command: process.execPath,
      args: [join(benchDir, 'servers', 'node.mjs'), kind],
      env: nodeEnv(env),
      cwd: benchDir,
    });
}

function pythonServer(kind, ...args) {
  // A clean environment, as `env -i` gives.
  return () =>
    startServer({
      name: `wsgiref-${kind}`,
      command: PYTHON,
      args: [join(benchDir, 'servers', 'wsgiref_server.py'), kind, ...args],
      env: {},
      cwd: benchDir,
    });
}

/** Stands for a variant left out with --exclude: its goals read NaN, not met. */
const missing = { rpsRatio: NaN, cpuRatio: NaN, mbpsRatio: NaN, mbps: NaN, rssGrowth: NaN };

const helloCheck = { body: HELLO };

function goal(text, value, met) {
  return { text, value, met };
}

/** A file of random bytes in bench/.tmp, made once per size, with its SHA-256. */
function testFile(mib) {
  mkdirSync(tmpDir, { recursive: true });
  const path = join(tmpDir, `random-${mib}MiB.bin`);
  const size = mib * MiB;
  if (!existsSync(path) || statSync(path).size !== size) {
    const fd = openSync(path, 'w');
    const block = Buffer.alloc(MiB);
    for (let i = 0; i < mib; i++) writeSync(fd, randomFillSync(block));
    closeSync(fd);
  }
  return { path, size };
}

function sha256File(path) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: MiB })
      .on('error', reject)
      .on('data', (c) => hash.update(c))
      .on('end', () => {
        resolve(hash.digest('hex'));
      });
  });
}

async function downloadHash(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  const hash = createHash('sha256');
  if (res.body === null) throw new Error('no body');
  for await (const chunk of res.body) hash.update(chunk);
  return hash.digest('hex');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => {
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  });
}

/**
 * A scenario of two servers (plus `extra` reference rows) where the goal is a minimum req/s
 * ratio of ours to the base.
 */
function abRate({ id, title, base, ours, check, min, text, extra = [] }) {
  return {
    id,
    title,
    async run({ gen, cfg, log }) {
      const variants = [base, ours, ...extra].map(([name, kind]) => ({
        name,
        start: nodeServer(kind),
        check,
      }));
      const r = await rateScenario({ variants, baseline: base[0], gen, cfg, log });
      const w = r[ours[0]] ?? missing;
      const goals = [goal(`≥ ${min.toFixed(2)}× req/s ${text}`, w.rpsRatio, w.rpsRatio >= min)];
      return { kind: 'rate', baseline: base[0], result: r, goals };
    },
  };
}

export const scenarios = [
  {
    id: 'hello',
    title: 'hello world, keep-alive, one-element array body',
    async run({ gen, cfg, log, python }) {
      const variants = [
        { name: 'node:http', start: nodeServer('raw-hello'), check: helloCheck },
        { name: '@wsgi/simple', start: nodeServer('wsgi-hello'), check: helloCheck },
        { name: 'fastify', start: nodeServer('fastify-hello'), check: helloCheck },
        { name: 'hono', start: nodeServer('hono-hello'), check: helloCheck },
        { name: FLOOR, start: nodeServer('raw-environ'), check: helloCheck },
      ];
      if (python)
        variants.push({ name: 'CPython wsgiref', start: pythonServer('hello'), check: helloCheck });
      const r = await rateScenario({ variants, baseline: 'node:http', gen, cfg, log });
      const w = r['@wsgi/simple'] ?? missing;
      return {
        kind: 'rate',
        baseline: 'node:http',
        result: r,
        goals: [
          goal('≥ 0.95× req/s of node:http', w.rpsRatio, w.rpsRatio >= 0.95),
          goal('≤ 1.05× CPU/request of node:http', w.cpuRatio, w.cpuRatio <= 1.05),
        ],
      };
    },
  },
  abRate({
    id: 'validator',
    title: 'hello world through validator()',
    base: ['@wsgi/simple', 'wsgi-hello'],
    ours: ['+ validator', 'wsgi-validator'],
    check: helloCheck,
    min: 0.8,
    text: 'without it',
  }),
  abRate({
    id: 'generator',
    title: 'hello world, generator body (chunked)',
    base: ['node:http write+end', 'raw-chunked'],
    ours: ['@wsgi/simple generator', 'wsgi-generator'],
    // A generator function made per request: each body has a prototype (a V8 map) of its own.
    extra: [['@wsgi/simple per-request generator', 'wsgi-generator-closure']],
    check: { body: HELLO, header: ['transfer-encoding', 'chunked'] },
    min: 0.9,
    text: 'of node:http',
  }),
  {
    id: 'download',
    title: 'FileWrapper download (sendfile path)',
    async run({ cfg, log, python }) {
      const file = testFile(cfg.downloadMiB);
      const digest = await sha256File(file.path);
      const env = { BENCH_FILE: file.path };
      const variants = [
        { name: 'fs.createReadStream().pipe(res)', start: nodeServer('raw-file', env) },
        { name: '@wsgi/simple FileWrapper', start: nodeServer('wsgi-file', env) },
        { name: 'reference: pipe with 1 MiB reads', start: nodeServer('raw-file-1m', env) },
        {
          name: 'reference: two reused 4 MiB buffers',
          start: nodeServer('raw-file-reuse', env),
        },
      ];
      if (python)
        variants.push({
          name: 'CPython wsgiref FileWrapper',
          start: pythonServer('file', file.path),
        });
      // Content check once per server, outside the timed rounds (its memory counts).
      const check = async (v, s) => {
        const got = await downloadHash(`http://127.0.0.1:${s.port}/`);
        if (got !== digest) throw new Error(`${v.name}: downloaded bytes differ from the file`);
      };
      const r = await transferScenario({
        variants,
        baseline: 'fs.createReadStream().pipe(res)',
        direction: 'download',
        check,
        file,
        cfg,
        log,
      });
      const w = r['@wsgi/simple FileWrapper'] ?? missing;
      const goals = [
        goal('≥ 2× MB/s of the raw pipe', w.mbpsRatio, w.mbpsRatio >= 2),
        goal('server peak RSS growth < 64 MiB', w.rssGrowth / MiB, w.rssGrowth < 64 * MiB),
      ];
      const py = r['CPython wsgiref FileWrapper'] ?? missing;
      if (py) {
        const vsPy = w.mbps / py.mbps;
        goals.unshift(goal('≥ 1.0× MB/s of CPython wsgiref', vsPy, vsPy >= 1));
      }
      return {
        kind: 'transfer',
        baseline: 'fs.createReadStream().pipe(res)',
        result: r,
        goals,
        sizeMiB: cfg.downloadMiB,
      };
    },
  },
  {
    id: 'upload',
    title: 'upload read through wsgi.input',
    async run({ cfg, log }) {
      const file = testFile(cfg.uploadMiB);
      const digest = await sha256File(file.path);
      const variants = [
        { name: 'req.pipe(hash)', start: nodeServer('raw-upload') },
        { name: '@wsgi/simple wsgi.input', start: nodeServer('wsgi-upload') },
      ];
      const verify = (v, _s, res) => {
        if (res.body !== digest)
          throw new Error(`${v.name}: answered ${res.body.slice(0, 100)}, not the file's SHA-256`);
      };
      const r = await transferScenario({
        variants,
        baseline: 'req.pipe(hash)',
        direction: 'upload',
        file,
        cfg,
        log,
        verify,
      });
      const w = r['@wsgi/simple wsgi.input'] ?? missing;
      const base = r['req.pipe(hash)'] ?? missing;
      return {
        kind: 'transfer',
        baseline: 'req.pipe(hash)',
        result: r,
        sizeMiB: cfg.uploadMiB,
        goals: [
          goal('≥ 0.90× MB/s', w.mbpsRatio, w.mbpsRatio >= 0.9),
          goal(
            'flat memory: peak RSS growth < 64 MiB (raw pipe: ' +
              (base.rssGrowth / MiB).toFixed(1) +
              ' MiB)',
            w.rssGrowth / MiB,
            w.rssGrowth < 64 * MiB,
          ),
        ],
      };
    },
  },
  {
    id: 'inproc',
    title: 'in-process BaseHandler.run of a hello app into memory',
    async run({ cfg, log }) {
      const { execFile } = await import('node:child_process');
      const { promisify } = await import('node:util');
      const args = [
        join(benchDir, 'servers', 'inproc.mjs'),
        String(cfg.rounds),
        String(cfg.inprocSeconds),
      ];
      const cmd = pinning
        ? ['/usr/bin/taskset', ['-c', pinning.server, process.execPath, ...args]]
        : [process.execPath, args];
      const { stdout } = await promisify(execFile)(cmd[0], cmd[1], {
        env: nodeEnv(),
        cwd: benchDir,
        timeout: 60_000 + cfg.rounds * cfg.inprocSeconds * 2000,
      });
      const rounds = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      for (const [i, r] of rounds.entries())
        log(
          `  round ${i + 1}: ${(r.runs / r.wall).toFixed(0)} runs/s, ${((r.cpuSeconds * 1e6) / r.runs).toFixed(2)} µs CPU/run`,
        );
      const runsPerSec = median(rounds.map((r) => r.runs / r.wall));
      const usPerRun = median(rounds.map((r) => (r.wall * 1e6) / r.runs));
      const cpuUsPerRun = median(rounds.map((r) => (r.cpuSeconds * 1e6) / r.runs));
      return {
        kind: 'inproc',
        result: { runsPerSec, usPerRun, cpuUsPerRun },
        goals: [goal('report runs/s and µs/run (regression guard)', usPerRun, null)],
      };
    },
  },
  {
    id: 'cgi',
    title: 'CGI hello under lighttpd',
    async run({ gen, cfg, log, python, lighttpd }) {
      if (!lighttpd) return { skipped: 'lighttpd is not installed' };
      mkdirSync(tmpDir, { recursive: true });
      const port = await freePort();
      const conf = join(tmpDir, 'lighttpd.conf');
      const assign = [`".mjs" => "${process.execPath}"`, `".cjs" => "${process.execPath}"`];
      if (python) assign.push(`".py" => "${PYTHON}"`);
      writeFileSync(
        conf,
        [
          `server.document-root = "${join(benchDir, 'cgi')}"`,
          `server.bind = "127.0.0.1"`,
          `server.port = ${port}`,
          `server.modules = ("mod_cgi")`,
          `server.errorlog = "${join(tmpDir, 'lighttpd-error.log')}"`,
          `cgi.assign = (${assign.join(', ')})`,
          '',
        ].join('\n'),
      );
      const server = await startServer({
        name: 'lighttpd',
        command: lighttpd,
        args: ['-D', '-f', conf],
        env: { PATH: '/usr/bin:/bin' },
        port,
      });
      try {
        let variants = [
          { name: 'bare node script', path: '/bare.mjs' },
          { name: '@wsgi/cgi CGIHandler', path: '/wsgi.mjs' },
          { name: COMMONJS_CGI, path: '/wsgi.cjs' },
          { name: BUNDLED_CGI, path: '/wsgi.bundle.mjs' },
        ];
        if (python) variants.push({ name: 'CPython wsgiref CGIHandler', path: '/wsgiref_cgi.py' });
        variants = included(variants, cfg);
        if (variants.some((v) => v.name === BUNDLED_CGI)) await bundleCgiScript();
        for (const v of variants)
          await preflight(v.name, `http://127.0.0.1:${port}${v.path}`, helloCheck);
        const runs = new Map(variants.map((v) => [v.name, []]));
        for (let round = 0; round < cfg.rounds; round++) {
          for (const v of round % 2 ? [...variants].reverse() : variants) {
            const { r, cpu } = await retryOnce(log, v.name, async () => {
              const cpu0 = cpuSeconds(server.pid);
              const load = await httpLoad(gen, {
                url: `http://127.0.0.1:${port}${v.path}`,
                connections: 1,
                seconds: cfg.cgiSeconds,
              });
              if (load.errors > 0 || load.requests === 0) {
                throw new Error(`${load.errors} errors in ${load.requests} requests`);
              }
              return { r: load, cpu: cpuSeconds(server.pid) - cpu0 };
            });
            const ms = (r.seconds * 1e3) / r.requests;
            runs.get(v.name).push({ ms, p50: r.p50Us / 1e3, cpuMs: (cpu * 1e3) / r.requests });
            log(
              `  round ${round + 1} ${v.name}: ${ms.toFixed(1)} ms/request, ${((cpu * 1e3) / r.requests).toFixed(1)} ms CPU/request`,
            );
          }
        }
        const result = {};
        for (const v of variants) {
          const rs = runs.get(v.name);
          result[v.name] = {
            ms: median(rs.map((r) => r.ms)),
            p50: median(rs.map((r) => r.p50)),
            cpuMs: median(rs.map((r) => r.cpuMs)),
            msRounds: rs.map((r) => r.ms),
            cpuMsRounds: rs.map((r) => r.cpuMs),
          };
        }
        const w = result['@wsgi/cgi CGIHandler'] ?? { ms: NaN };
        const over = w.ms - (result['bare node script']?.ms ?? NaN);
        const goals = [goal('≤ 10 ms over the bare node script', over, over <= 10)];
        const py = result['CPython wsgiref CGIHandler'];
        if (py) goals.unshift(goal('≤ 1.0× CPython latency', w.ms / py.ms, w.ms / py.ms <= 1));
        return { kind: 'cgi', result, goals, peakRss: memory(server.pid).peak };
      } finally {
        await stopServer(server.child);
      }
    },
  },
  {
    id: 'workers',
    title: 'wsgi-serve --workers 2 vs 1, ~1 ms CPU per request',
    async run({ gen, cfg, log, wsgiServe }) {
      if (!wsgiServe) return { skipped: 'the wsgi-serve CLI of @wsgi/simple is not built' };
      // Calibrate the burn loop to about 1 ms on this machine, once, for both variants.
      // The fastest of a few timings: preemption by other processes only makes a run slower.
      let best = Infinity;
      for (let i = 0; i < 6; i++) {
        const t0 = process.hrtime.bigint();
        spin(2e6);
        best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
      }
      const iters = Math.round(2e6 / best);
      const variants = [1, 2].map((n) => ({
        name: `${n} worker${n > 1 ? 's' : ''}`,
        check: helloCheck,
        start: async () => {
          const port = await freePort();
          const args = [
            wsgiServe,
            '--host',
            '127.0.0.1',
            '--port',
            String(port),
            '--quiet',
            '--workers',
            String(n),
            `${join(benchDir, 'apps', 'wsgi-apps.mjs')}:burn`,
          ];
          return startServer({
            name: `wsgi-serve --workers ${n}`,
            command: process.execPath,
            args,
            env: nodeEnv({ BENCH_BURN_ITERS: String(iters) }),
            cwd: benchDir,
            port,
            cpus: null,
          });
        },
      }));
      log(`  burn loop: ${iters} iterations ≈ 1 ms`);
      const r = await rateScenario({
        variants,
        baseline: '1 worker',
        gen,
        cfg,
        log,
        connections: 16,
        cpus: null,
      });
      const two = r['2 workers'] ?? missing;
      return {
        kind: 'rate',
        baseline: '1 worker',
        result: r,
        goals: [goal('≥ 1.6× req/s', two.rpsRatio, two.rpsRatio >= 1.6)],
      };
    },
  },
];
