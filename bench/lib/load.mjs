// Load generators: wrk when installed (else autocannon from npm) for request rates, curl (else
// a Node client) for the big transfers. Each runs as its own process pinned to the load core.
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { pinned, pinning } from './proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function which(command) {
  try {
    return execFileSync('/bin/sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** Which load generator this run uses: `wrk` when on PATH, unless BENCH_LOADGEN says otherwise. */
export function loadGenerator() {
  const wanted = process.env['BENCH_LOADGEN'];
  const wrk = which('wrk');
  if (wanted === 'autocannon' || wrk === '') {
    const bin = join(dirname(require.resolve('autocannon/package.json')), 'autocannon.js');
    return { name: 'autocannon', bin, version: require('autocannon/package.json').version };
  }
  const version = /wrk\s+(\S+)/.exec(run('wrk', ['-v'], 5000, true).stdout)?.[1] ?? '?';
  return { name: 'wrk', bin: wrk, version };
}

/** Whether curl is there for the transfer scenarios. */
export const curl = which('curl');

function run(command, args, timeoutMs, sync = false, interruptMs = 0) {
  if (sync) {
    try {
      return { stdout: execFileSync(command, args, { encoding: 'utf8', timeout: timeoutMs }) };
    } catch (err) {
      return { stdout: String(err.stdout ?? '') };
    }
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    // wrk takes whole seconds only; on SIGINT it stops early and still prints its summary.
    // The clock starts when its threads exist (the Lua `setup` hook), not at spawn.
    let interrupt;
    if (interruptMs > 0) {
      child.stderr.on('data', () => {
        if (interrupt === undefined && stderr.includes('WRKSTART')) {
          interrupt = setTimeout(() => child.kill('SIGINT'), interruptMs);
        }
      });
    }
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(interrupt);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${command} ${args.join(' ')}: ${code ?? signal}\n${stderr}${stdout}`));
    });
  });
}

/**
 * Loads `url` for `seconds` with `connections` keep-alive connections from one thread.
 * Resolves to requests, req/s, latency percentiles (µs) and the error count.
 */
export async function httpLoad(gen, { url, connections, seconds, cpus }) {
  const core = cpus === undefined ? (pinning?.load ?? null) : cpus;
  const timeoutMs = seconds * 1000 + 15_000;
  if (gen.name === 'wrk') {
    const whole = Number.isInteger(seconds);
    const args = ['-t1', `-c${connections}`, `-d${Math.ceil(seconds)}s`, '--timeout', '10s'];
    args.push('-s', join(here, 'wrk-report.lua'), url);
    const [cmd, argv] = pinned(core, gen.bin, args);
    const { stdout } = await run(cmd, argv, timeoutMs, false, whole ? 0 : seconds * 1000);
    const line = /WRKJSON (.*)/.exec(stdout)?.[1];
    if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout}`);
    const r = JSON.parse(line);
    const errors = r.connectErrors + r.readErrors + r.writeErrors + r.statusErrors + r.timeouts;
    const s = r.durationUs / 1e6;
    return {
      requests: r.requests,
      seconds: s,
      rps: r.requests / s,
      p50Us: r.p50Us,
      p99Us: r.p99Us,
      meanUs: r.meanUs,
      errors,
    };
  }
  const args = [gen.bin, '-c', String(connections), '-d', String(seconds), '--json', url];
  const [cmd, argv] = pinned(core, process.execPath, args);
  const { stdout } = await run(cmd, argv, timeoutMs);
  const r = JSON.parse(stdout.slice(stdout.indexOf('{')));
  const s = r.duration;
  const requests = r.requests.total;
  return {
    requests,
    seconds: s,
    rps: requests / s,
    p50Us: r.latency.p50 * 1000,
    p99Us: r.latency.p99 * 1000,
    meanUs: r.latency.average * 1000,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}

/**
 * One big transfer: a GET that discards the body, or a POST that streams `file` as the body.
 * Resolves to bytes moved, seconds, the HTTP status and the response body (uploads only).
 */
export async function transfer({ direction, url, file, cpus }) {
  const core = cpus === undefined ? (pinning?.load ?? null) : cpus;
  let cmd;
  let argv;
  if (curl !== '') {
    const args = [
      '-sS',
      '--max-time',
      '120',
      '-w',
      '\nCURL %{http_code} %{size_download} %{size_upload} %{time_total}\n',
    ];
    if (direction === 'download') args.push('-o', '/dev/null', url);
    else
      args.push(
        '-X',
        'POST',
        '-H',
        'Expect:',
        '-H',
        'Content-Type: application/octet-stream',
        '-T',
        file,
        url,
      );
    [cmd, argv] = pinned(core, curl, args);
  } else {
    [cmd, argv] = pinned(core, process.execPath, [
      join(here, 'client.mjs'),
      direction,
      url,
      file ?? '',
    ]);
  }
  const { stdout } = await run(cmd, argv, 130_000);
  const m = /CURL (\d+) (\d+) (\d+) ([\d.]+)/.exec(stdout);
  if (m === null) throw new Error(`no transfer summary:\n${stdout}`);
  const [, status, down, up, secs] = m.map(Number);
  return {
    status,
    bytes: direction === 'download' ? down : up,
    seconds: secs,
    body: stdout.slice(0, m.index).trim(),
  };
}
