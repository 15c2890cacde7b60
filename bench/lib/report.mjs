// Turns scenario results into console text and the Markdown of bench/RESULTS.md.
import { fmt, markdownTable, MiB, ratio, textTable } from './stats.mjs';

function rows(outcome) {
  const { kind, result, baseline } = outcome;
  if (kind === 'rate') {
    const header = [
      'variant',
      'req/s',
      'CPU µs/req',
      'p50 latency ms',
      'peak RSS MiB',
      'req/s ratio',
      'CPU/req ratio',
    ];
    const body = Object.entries(result).map(([name, r]) => [
      name === baseline ? `${name} (baseline)` : name,
      fmt(r.rps),
      fmt(r.cpu, 1),
      fmt(r.p50 / 1e3, 2),
      fmt(r.peakRss / MiB, 1),
      ratio(r.rpsRatio),
      ratio(r.cpuRatio),
    ]);
    return [header, body];
  }
  if (kind === 'transfer') {
    const header = [
      'variant',
      'MB/s',
      'CPU ms/GiB',
      'peak RSS growth MiB',
      'MB/s ratio',
      'CPU ratio',
    ];
    const body = Object.entries(result).map(([name, r]) => [
      name === baseline ? `${name} (baseline)` : name,
      fmt(r.mbps),
      fmt(r.cpu),
      fmt(r.rssGrowth / MiB, 1),
      ratio(r.mbpsRatio),
      ratio(r.cpuRatio),
    ]);
    return [header, body];
  }
  if (kind === 'cgi') {
    const header = ['variant', 'mean ms/request', 'p50 ms', 'CPU ms/request'];
    const body = Object.entries(result).map(([name, r]) => [
      name,
      fmt(r.ms, 1),
      fmt(r.p50, 1),
      fmt(r.cpuMs, 1),
    ]);
    return [header, body];
  }
  const r = result;
  return [
    ['runs/s', 'µs/run (wall)', 'µs CPU/run'],
    [[fmt(r.runsPerSec), fmt(r.usPerRun, 2), fmt(r.cpuUsPerRun, 2)]],
  ];
}

function goalLine(g) {
  const value =
    typeof g.value === 'number'
      ? Math.abs(g.value) < 100
        ? g.value.toFixed(2)
        : g.value.toFixed(0)
      : String(g.value);
  const verdict = g.met === null ? 'reported' : g.met ? 'MET' : 'NOT MET';
  return `${g.text}: ${value} — ${verdict}`;
}

/** The console block of one scenario. */
export function consoleBlock(scenario, outcome) {
  if (outcome.skipped) return `\n== ${scenario.title}: skipped (${outcome.skipped})`;
  if (outcome.error) return `\n== ${scenario.title}: FAILED\n${outcome.error}`;
  const [header, body] = rows(outcome);
  const size = outcome.sizeMiB ? ` (${outcome.sizeMiB} MiB)` : '';
  return [
    `\n== ${scenario.title}${size}`,
    textTable(header, body),
    ...outcome.goals.map((g) => `goal ${goalLine(g)}`),
  ].join('\n');
}

/** The Markdown of one scenario. */
export function markdownBlock(scenario, outcome) {
  if (outcome.skipped) return `### ${scenario.title}\n\nSkipped: ${outcome.skipped}.\n`;
  if (outcome.error)
    return `### ${scenario.title}\n\nFailed:\n\n\`\`\`\n${outcome.error}\n\`\`\`\n`;
  const [header, body] = rows(outcome);
  const size = outcome.sizeMiB ? ` (${outcome.sizeMiB} MiB)` : '';
  return [
    `### ${scenario.title}${size}`,
    '',
    markdownTable(header, body),
    '',
    ...outcome.goals.map((g) => `- ${goalLine(g)}`),
    '',
    ...roundLines(outcome),
  ].join('\n');
}

const ROUND_METRICS = [
  ['rpsRounds', 'req/s', 0],
  ['mbpsRounds', 'MB/s', 0],
  ['msRounds', 'ms/request', 1],
  ['cpuRounds', 'CPU', 1],
  ['cpuMsRounds', 'CPU ms', 1],
];

/** Every round's figures, so the spread behind each median can be judged. */
function roundLines(outcome) {
  const lines = [];
  for (const [name, r] of Object.entries(outcome.result)) {
    const parts = ROUND_METRICS.filter(([key]) => Array.isArray(r[key])).map(
      ([key, label, digits]) =>
        `${label} ${r[key].map((x) => fmt(x, x < 100 ? digits : 0)).join(', ')}`,
    );
    if (parts.length > 0) lines.push(`  - ${name}: ${parts.join('; ')}`);
  }
  return lines.length > 0 ? ['Rounds, in order:', '', ...lines.map((l) => l.slice(2)), ''] : [];
}
