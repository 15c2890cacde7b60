/**
 * The demo server's settings from the environment: `HOST`, `PORT`, `UPLOAD_LIMIT`.
 *
 * @module
 */

/** Where and how the demo server listens. */
export interface ServerConfig {
  /** Default `127.0.0.1`. */
  readonly host: string;
  /** Default 8000; 0 picks a free port. */
  readonly port: number;
  /** The `/upload` limit in bytes; default 10 MiB. */
  readonly uploadLimit: number;
}

/** The default `/upload` limit: 10 MiB. */
export const DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024;

/**
 * Reads the settings from `env`.
 *
 * @throws RangeError for a `PORT` or `UPLOAD_LIMIT` that is not a whole number in range.
 */
export function configFromEnv(env: NodeJS.ProcessEnv): ServerConfig {
  const port = env['PORT'] ?? '';
  const limit = env['UPLOAD_LIMIT'] ?? '';
  if (port !== '' && (!/^\d{1,5}$/.test(port) || Number(port) > 65535)) {
    throw new RangeError(
      `PORT must be a whole number from 0 to 65535, got ${JSON.stringify(port)}`,
    );
  }
  if (limit !== '' && !/^\d{1,15}$/.test(limit)) {
    throw new RangeError(
      `UPLOAD_LIMIT must be a whole number of bytes, got ${JSON.stringify(limit)}`,
    );
  }
  return {
    host: env['HOST'] || '127.0.0.1',
    port: port === '' ? 8000 : Number(port),
    uploadLimit: limit === '' ? DEFAULT_UPLOAD_LIMIT : Number(limit),
  };
}
