// The measuring loops: every variant of a scenario runs side by side, in alternating order
// round after round, and each run records the server's own CPU time and peak memory.
import { cpuSeconds, memory, stopServer } from './proc.mjs';
import { httpLoad, transfer } from './load.mjs';
import { median } from './stats.mjs';

// Node's globals that eslint's plain-JS rules do not know.
const { fetch, AbortSignal } = globalThis;

/** Rounds in alternating order: A B C, then C B A, … so drift does not favour one variant. */
function order(variants, round) {
  return round % 2 === 0 ? variants : [...variants].reverse();
}

/**
 * Runs one measurement, and once more if it fails (a stalled connection, a client error): a
 * lone stall on a shared machine should not sink a whole run. The failure is logged; a second
 * failure is thrown.
 */
export async function retryOnce(log, label, attempt) {
  try {
    return await attempt();
  } catch (error) {
    log(`  ${label}: ${error instanceof Error ? error.message : String(error)}; measuring again`);
    return attempt();
  }
}

/** Drops the variants named in `--exclude=` (for runs while a package is missing). */
export function included(variants, cfg) {
  return variants.filter((v) => !cfg.exclude.some((x) => x !== '' && v.name.includes(x)));
}

/** Starts every variant's server at once; on any failure stops the others and throws. */
async function startAll(variants) {
  const started = await Promise.allSettled(variants.map((v) => v.start()));
  const servers = new Map();
  for (const [i, outcome] of started.entries()) {
    if (outcome.status === 'fulfilled') servers.set(variants[i].name, outcome.value);
  }
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed) {
    await stopAll(servers);
    throw failed.reason;
  }
  return servers;
}

async function stopAll(servers) {
  await Promise.all([...servers.values()].map((s) => stopServer(s.child)));
}

/** Checks a server's answer once before loading it: status, body, and optional headers. */
export async function preflight(name, url, { body, header } = {}) {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (res.status !== 200)
    throw new Error(`${name}: status ${res.status} from ${url}: ${text.slice(0, 300)}`);
  if (body !== undefined && text !== body)
    throw new Error(`${name}: body ${JSON.stringify(text.slice(0, 200))}`);
  if (header !== undefined) {
    const got = res.headers.get(header[0]);
    if (got !== header[1])
      throw new Error(`${name}: ${header[0]} is ${got}, expected ${header[1]}`);
  }
}

/**
 * Request-rate scenario. Each variant: `{ name, start(), path?, check? }`. Returns per variant
 * the median req/s, server CPU µs per request, p50 latency and peak RSS, and per round the
 * paired ratios against `baseline`.
 */
export async function rateScenario({
  variants: all,
  baseline,
  gen,
  cfg,
  connections = 50,
  cpus,
  log,
}) {
  const variants = included(all, cfg);
  const servers = await startAll(variants);
  try {
    for (const v of variants) {
      const s = servers.get(v.name);
      await preflight(v.name, `http://127.0.0.1:${s.port}${v.path ?? '/'}`, v.check);
    }
    const runs = new Map(variants.map((v) => [v.name, []]));
    const once = async (v, seconds) => {
      const s = servers.get(v.name);
      const cpu0 = cpuSeconds(s.pid);
      const r = await httpLoad(gen, {
        url: `http://127.0.0.1:${s.port}${v.path ?? '/'}`,
        connections,
        seconds,
        cpus,
      });
      const cpu = cpuSeconds(s.pid) - cpu0;
      if (r.errors > 0) throw new Error(`${v.name}: ${r.errors} errors in ${r.requests} requests`);
      if (r.requests === 0) throw new Error(`${v.name}: no request completed`);
      return { ...r, cpuUsPerReq: (cpu * 1e6) / r.requests };
    };
    if (cfg.warmSeconds > 0) {
      for (const v of variants) await retryOnce(log, v.name, () => once(v, cfg.warmSeconds));
    }
    for (let round = 0; round < cfg.rounds; round++) {
      for (const v of order(variants, round)) {
        const r = await retryOnce(log, v.name, () => once(v, cfg.seconds));
        runs.get(v.name).push(r);
        log(
          `  round ${round + 1} ${v.name}: ${r.rps.toFixed(0)} req/s, ${r.cpuUsPerReq.toFixed(1)} µs CPU/req`,
        );
      }
    }
    return summarise(variants, baseline, runs, servers, {
      rps: (r) => r.rps,
      cpu: (r) => r.cpuUsPerReq,
      p50: (r) => r.p50Us,
    });
  } finally {
    await stopAll(servers);
  }
}

function summarise(variants, baseline, runs, servers, metrics) {
  const base = runs.get(baseline);
  const result = {};
  for (const v of variants) {
    const rs = runs.get(v.name);
    const entry = { runs: rs.length, peakRss: memory(servers.get(v.name).pid).peak };
    for (const [key, get] of Object.entries(metrics)) {
      entry[key] = median(rs.map(get));
      // Paired ratios: round i of this variant over round i of the baseline.
      entry[`${key}Ratio`] = base ? median(rs.map((r, i) => get(r) / get(base[i]))) : Number.NaN;
      entry[`${key}Rounds`] = rs.map(get);
    }
    result[v.name] = entry;
  }
  return result;
}

/**
 * Big-transfer scenario (download or upload). Each variant: `{ name, start() }`; `check(v, server)`
 * runs once per server after its memory baseline, `verify(v, server, result)` after each transfer.
 * Returns per variant the median MB/s, server CPU ms per GiB, and the growth of the server's
 * peak RSS over the whole scenario.
 */
export async function transferScenario({
  check,
  variants: all,
  baseline,
  direction,
  file,
  cfg,
  log,
  verify,
}) {
  const variants = included(all, cfg);
  const servers = await startAll(variants);
  try {
    const before = new Map();
    for (const v of variants) before.set(v.name, memory(servers.get(v.name).pid).peak);
    if (check) for (const v of variants) await check(v, servers.get(v.name));
    const runs = new Map(variants.map((v) => [v.name, []]));
    const once = async (v) => {
      const s = servers.get(v.name);
      const cpu0 = cpuSeconds(s.pid);
      const r = await transfer({ direction, url: `http://127.0.0.1:${s.port}/`, file: file.path });
      const cpu = cpuSeconds(s.pid) - cpu0;
      if (r.status !== 200) throw new Error(`${v.name}: status ${r.status}`);
      if (r.bytes !== file.size)
        throw new Error(`${v.name}: moved ${r.bytes} of ${file.size} bytes`);
      if (verify) await verify(v, s, r);
      return {
        ...r,
        mbps: r.bytes / r.seconds / 1e6,
        cpuMsPerGiB: (cpu * 1e3 * 2 ** 30) / r.bytes,
      };
    };
    for (let round = 0; round < cfg.rounds; round++) {
      for (const v of order(variants, round)) {
        const r = await retryOnce(log, v.name, () => once(v));
        runs.get(v.name).push(r);
        log(
          `  round ${round + 1} ${v.name}: ${r.mbps.toFixed(0)} MB/s, ${r.cpuMsPerGiB.toFixed(0)} ms CPU/GiB`,
        );
      }
    }
    const result = summarise(variants, baseline, runs, servers, {
      mbps: (r) => r.mbps,
      cpu: (r) => r.cpuMsPerGiB,
    });
    for (const v of variants)
      result[v.name].rssGrowth = result[v.name].peakRss - before.get(v.name);
    return result;
  } finally {
    await stopAll(servers);
  }
}
