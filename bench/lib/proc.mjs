// Child processes of the benchmark: start a server pinned to a core, wait for its port, read
// its CPU time and peak memory from /proc, and stop it (and only it) when done.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux everywhere in practice). */
const CLK_TCK = 100;
const cores = availableParallelism();

/** The core for servers and the one for the load generator, when the machine has two. */
export const pinning = cores >= 2 ? { server: '1', load: '0' } : null;

/** Wraps a command in `taskset -c <cpus>` when pinning is possible and wanted. */
export function pinned(cpus, command, args) {
  return cpus === null ? [command, args] : ['/usr/bin/taskset', ['-c', cpus, command, ...args]];
}

function readStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may hold spaces; fields after the last ')' are fixed.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      self: Number(fields[11]) + Number(fields[12]),
      children: Number(fields[13]) + Number(fields[14]),
    };
  } catch {
    return null;
  }
}

function descendants(root) {
  const parents = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(name);
    if (stat) parents.set(Number(name), stat.ppid);
  }
  const found = [root];
  for (let i = 0; i < found.length && i < 1000; i++) {
    for (const [pid, ppid] of parents) if (ppid === found[i]) found.push(pid);
  }
  return found;
}

/**
 * CPU seconds (user + system) used so far by a process, its live descendants, and the
 * children it has already reaped (CGI scripts under lighttpd).
 */
export function cpuSeconds(pid) {
  let ticks = 0;
  for (const p of descendants(pid)) {
    const stat = readStat(p);
    if (stat) ticks += stat.self + stat.children;
  }
  return ticks / CLK_TCK;
}

/** Peak and current resident memory (bytes) of a process and its live descendants. */
export function memory(pid) {
  let peak = 0;
  let rss = 0;
  for (const p of descendants(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'latin1');
      peak += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // the process ended between the listing and the read
    }
  }
  return { peak, rss };
}

const started = new Set();

/**
 * Starts a server process and resolves once it printed `LISTENING <port>` (or, with
 * `port` given, once that port accepts connections). Rejects after `timeoutMs`.
 */
export function startServer({ name, command, args, env, cwd, port, cpus, timeoutMs = 15_000 }) {
  const [cmd, argv] = pinned(cpus === undefined ? (pinning?.server ?? null) : cpus, command, args);
  const child = spawn(cmd, argv, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (d) => {
    if (stderr.length < 20_000) stderr += d;
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stopServer(child);
      reject(new Error(`${name}: ${why}\n${stderr.slice(-2000)}`));
    };
    const timer = setTimeout(() => {
      fail(`not listening after ${timeoutMs} ms`);
    }, timeoutMs);
    child.on('error', (err) => {
      fail(err.message);
    });
    child.on('exit', (code, signal) => {
      fail(`exited early (${code ?? signal})`);
    });
    const ready = (p) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ name, pid: child.pid, port: p, child, stderr: () => stderr });
    };
    child.stdout.setEncoding('utf8').on('data', (d) => {
      if (port !== undefined) return;
      stdout += d;
      const m = /LISTENING (\d+)/.exec(stdout);
      if (m) ready(Number(m[1]));
    });
    if (port !== undefined)
      void waitForPort(port, timeoutMs).then(() => {
        ready(port);
      });
  });
}

async function waitForPort(port, timeoutMs) {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => {
        resolve(false);
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops one child we started: SIGTERM, then SIGKILL after a grace period. */
export function stopServer(child, graceMs = 2000) {
  started.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Kills every child still running (on exit or interrupt). */
export function killAll() {
  for (const child of started) child.kill('SIGKILL');
  started.clear();
}

process.on('exit', killAll);
