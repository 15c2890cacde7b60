/**
 * The command line of `wsgi-serve`: its flags (one per `makeServer()` option), their defaults,
 * the help text and strict checking.
 *
 * @module
 */
import { parseArgs } from 'node:util';

import { DEFAULT_OPTIONS } from './_options.ts';
import type { ServerOptions } from './_options.ts';

export const USAGE =
  'usage: wsgi-serve [--host 127.0.0.1] [--port 8000] [--workers N] [--quiet] [--<limit> N ...] [module[:export]]';

/** What the command line asks for. */
export interface CliArgs {
  host: string;
  port: number;
  workers: number;
  /** The `makeServer()` options given on the command line; the others keep their defaults. */
  options: Omit<ServerOptions, 'handlerClass'>;
  module: string | undefined;
  help: boolean;
}

/** A bad command line: the message is printed as is, and the exit status is 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type LimitKey = Exclude<keyof typeof DEFAULT_OPTIONS, 'quiet'>;

interface Limit {
  /** The smallest value `makeServer()` takes (1 where 0 would refuse every request). */
  min: number;
  /** Milliseconds are capped at the longest delay a Node timer takes (2^31 - 1). */
  max: number;
  /** What the value counts, shown in the help. */
  unit: string;
  /** What the limit does, shown in the help. */
  help: string;
}

const MAX_DELAY = 2_147_483_647;
const MAX = Number.MAX_SAFE_INTEGER;

/** Every numeric `makeServer()` option; the `Record` makes a new option a compile error here. */
const LIMITS: Readonly<Record<LimitKey, Limit>> = {
  maxHeaderSize: { min: 1, max: MAX, unit: 'BYTES', help: 'request line and headers; 431 beyond' },
  maxHeaderCount: { min: 1, max: MAX, unit: 'N', help: 'header fields; 431 beyond' },
  maxRequestLineSize: {
    min: 1,
    max: MAX,
    unit: 'BYTES',
    help: 'request target, at most --max-header-size; 414 beyond',
  },
  maxBodySize: { min: 0, max: MAX, unit: 'BYTES', help: 'request body; 413 beyond' },
  headersTimeout: { min: 0, max: MAX_DELAY, unit: 'MS', help: 'whole request head; 408 beyond' },
  requestTimeout: { min: 0, max: MAX_DELAY, unit: 'MS', help: 'whole request; 408 beyond' },
  timeout: { min: 0, max: MAX_DELAY, unit: 'MS', help: 'inactivity mid-request, 0 for none' },
  keepAliveTimeout: { min: 0, max: MAX_DELAY, unit: 'MS', help: 'idle keep-alive connection' },
  connectionsCheckingInterval: {
    min: 1,
    max: MAX_DELAY,
    unit: 'MS',
    help: 'how often the request timeouts are checked',
  },
  maxRequestsPerSocket: { min: 0, max: MAX, unit: 'N', help: 'requests per connection, 0 for any' },
  maxConnections: { min: 0, max: MAX, unit: 'N', help: 'open connections; more are closed' },
};

const LIMIT_KEYS = Object.keys(LIMITS) as LimitKey[];

/** `maxBodySize` → `max-body-size`. */
function flagOf(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** The `--help` text: every flag with its default. */
export function helpText(): string {
  const rows: [string, string][] = [
    ['--host HOST', 'address to listen on, "" for every interface (default 127.0.0.1)'],
    ['-p, --port PORT', 'port to listen on, 0 for a free one (default 8000)'],
    ['-w, --workers N', 'processes serving the same port (default 1)'],
    ['-q, --quiet', 'no log line per request on stderr'],
    ...LIMIT_KEYS.map((key): [string, string] => {
      const { unit, help } = LIMITS[key];
      return [`--${flagOf(key)} ${unit}`, `${help} (default ${String(DEFAULT_OPTIONS[key])})`];
    }),
    ['-h, --help', 'show this help and exit'],
  ];
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  const lines = rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`);
  return `${USAGE}\n\noptions:\n${lines.join('\n')}\n`;
}

function integer(text: string, flag: string, min: number, max: number): number {
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new UsageError(
      `wsgi-serve: --${flag} must be an integer from ${String(min)} to ${String(max)}, got ${JSON.stringify(text)} (see wsgi-serve --help)`,
    );
  }
  return value;
}

const LIMIT_FLAGS = Object.fromEntries(
  LIMIT_KEYS.map((key) => [flagOf(key), { type: 'string' } as const]),
);

/** One line naming the flag, for an error of `parseArgs()` (whose messages span lines). */
function argumentError(error: Error & { code?: string }): string {
  // Node quotes the flag as it was declared: '--port', '-p, --port <value>' or '-x'.
  const quoted = /'([^']*)'/.exec(error.message)?.[1] ?? '';
  const flag = /--[\w-]+/.exec(quoted)?.[0] ?? /^-\w/.exec(quoted)?.[0];
  const first = (error.message.split('\n', 1)[0] ?? '').trim();
  if (flag === undefined) return first;
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${flag}`;
  if (first.endsWith('argument missing')) return `${flag} needs a value`;
  if (first.endsWith('ambiguous.')) return `${flag} needs a value, not one starting with "-"`;
  return first;
}

/**
 * Parses `argv` (without `node` and the script).
 *
 * @throws UsageError (one line) for an unknown flag, a missing or bad value, or two modules.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        ...LIMIT_FLAGS,
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', short: 'p', default: '8000' },
        workers: { type: 'string', short: 'w', default: '1' },
        quiet: { type: 'boolean', short: 'q', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(`wsgi-serve: ${argumentError(error as Error)} (see wsgi-serve --help)`);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    throw new UsageError('wsgi-serve: one module at most (see wsgi-serve --help)');
  }
  const options: CliArgs['options'] = { quiet: values.quiet };
  // The limit flags are built from a table, so their values are looked up by name.
  const given: Readonly<Record<string, unknown>> = values;
  for (const key of LIMIT_KEYS) {
    const flag = flagOf(key);
    const text = given[flag];
    if (typeof text === 'string') {
      options[key] = integer(text, flag, LIMITS[key].min, LIMITS[key].max);
    }
  }
  const headerSize = options.maxHeaderSize ?? DEFAULT_OPTIONS.maxHeaderSize;
  if (options.maxRequestLineSize !== undefined && options.maxRequestLineSize > headerSize) {
    throw new UsageError(
      `wsgi-serve: --max-request-line-size must not exceed --max-header-size (${String(headerSize)}) (see wsgi-serve --help)`,
    );
  }
  return {
    host: values.host,
    port: integer(values.port, 'port', 0, 65_535),
    workers: integer(values.workers, 'workers', 1, 1024),
    options,
    module: positionals[0],
    help: values.help,
  };
}
