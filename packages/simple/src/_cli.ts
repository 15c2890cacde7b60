/**
 * `wsgi-serve`: serve a WSGI application module over HTTP.
 *
 * @module
 */
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { Application } from '@wsgi/util';

import { helpText, parseCliArgs, UsageError } from './_cli-args.ts';
import type { CliArgs } from './_cli-args.ts';
import { WSGIServerError } from './_errors.ts';
import { demoApp } from './demo-app.ts';
import { makeServer } from './simple-server.ts';

/**
 * Loads `module[:export]`: a path to an ES module (`.js`/`.mjs`), relative to the working
 * directory; the named export, else `app`, else the default export, which must be a function.
 *
 * @throws WSGIServerError (`ERR_WSGI_MODULE_NOT_FOUND`, `ERR_WSGI_NO_APPLICATION`).
 */
export async function loadApplication(spec: string | undefined): Promise<Application> {
  if (spec === undefined) return demoApp;
  const match = /^(.+?):([A-Za-z_$][\w$]*)$/.exec(spec);
  const path = match?.[1] ?? spec;
  const name = match?.[2];
  const file = isAbsolute(path) ? path : resolve(path);
  if (!existsSync(file)) {
    throw new WSGIServerError(
      'ERR_WSGI_MODULE_NOT_FOUND',
      `cannot find module ${JSON.stringify(path)}`,
    );
  }
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n', 1)[0] ?? '') : String(error);
    throw new WSGIServerError(
      'ERR_WSGI_MODULE_NOT_FOUND',
      `cannot load module ${JSON.stringify(path)}: ${reason}`,
      {
        cause: error,
      },
    );
  }
  const candidates = name === undefined ? ['app', 'default'] : [name];
  for (const key of candidates) {
    const value = exports[key];
    if (typeof value === 'function') return value as Application;
  }
  throw new WSGIServerError(
    'ERR_WSGI_NO_APPLICATION',
    `module ${JSON.stringify(path)} exports no application function (${candidates.map((c) => JSON.stringify(c)).join(' or ')})`,
  );
}

function fail(message: string, status = 2): void {
  process.stderr.write(`${message}\n`);
  process.exitCode = status;
}

/** `Serving HTTP on 127.0.0.1 port 8000 (http://127.0.0.1:8000/) ...`, as `http.server` says it. */
function announce(host: string, port: number): void {
  const shown = host === '' ? '0.0.0.0' : host;
  const url = shown.includes(':') ? `[${shown}]` : shown;
  process.stdout.write(
    `Serving HTTP on ${shown} port ${String(port)} (http://${url}:${String(port)}/) ...\n`,
  );
}

/** Serves in this process; a first SIGINT/SIGTERM closes gracefully, a second exits at once. */
async function serve(args: CliArgs, primary: boolean): Promise<void> {
  const app = await loadApplication(args.module);
  const server = await makeServer(args.host, args.port, app, args.options);
  if (primary) announce(server.host, server.port);
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    server.close().then(
      () => {
        process.exit(0);
      },
      (error: unknown) => {
        fail(`wsgi-serve: ${String(error)}`, 1);
        process.exit();
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** What a worker that cannot start sends its primary. */
interface WorkerFailure {
  wsgiServeFailure: string;
  status: number;
}

function isWorkerFailure(message: unknown): message is WorkerFailure {
  return typeof (message as Partial<WorkerFailure> | null)?.wsgiServeFailure === 'string';
}

/** The primary of `--workers N`: forks the workers, prints the address once, relays signals. */
function supervise(args: CliArgs): void {
  let stopping = false;
  let listening = false;
  const fork = (): void => {
    cluster.fork();
  };
  let ready = 0;
  cluster.on('listening', (_worker, address) => {
    ready += 1;
    // The address is announced once every worker takes connections.
    if (listening || ready < args.workers) return;
    listening = true;
    announce(args.host, address.port);
  });
  let reported = false;
  cluster.on('message', (_worker, message: unknown) => {
    if (!isWorkerFailure(message) || reported) return;
    reported = true;
    fail(message.wsgiServeFailure, message.status);
  });
  cluster.on('exit', (_worker, code, signal) => {
    const alive = Object.keys(cluster.workers ?? {}).length;
    if (stopping || !listening) {
      // A worker that could not start (bad module, port in use) stops the whole service.
      if (!stopping) {
        stopping = true;
        for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
        if (!reported) process.exitCode = code === 0 ? 1 : code;
      }
      if (alive === 0) process.exit();
      return;
    }
    // @types/node says number, but a worker killed by a signal exits with a null code.
    const how = signal ? `by ${signal}` : `with status ${String(code)}`;
    process.stderr.write(`wsgi-serve: a worker exited ${how}; starting another\n`);
    fork();
  });
  const stop = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  for (let i = 0; i < args.workers; i += 1) fork();
}

/** The one line and exit status an error ends the command with. */
function failure(error: unknown): { message: string; status: number } {
  if (error instanceof UsageError) return { message: error.message, status: 2 };
  if (error instanceof WSGIServerError)
    return { message: `wsgi-serve: ${error.message}`, status: 2 };
  const text = error instanceof Error ? error.message : String(error);
  return { message: `wsgi-serve: ${text.split('\n', 1)[0] ?? ''}`, status: 1 };
}

/**
 * Runs `wsgi-serve` with `argv`; a bad command line or module is one line on stderr and exit
 * status 2. Workers parse the same `argv`, so every flag holds in each of them.
 */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    if (cluster.isWorker) {
      await serve(parseCliArgs(argv), false);
      return;
    }
    const args = parseCliArgs(argv);
    if (args.help) {
      process.stdout.write(helpText());
      return;
    }
    if (args.workers > 1) supervise(args);
    else await serve(args, true);
  } catch (error) {
    const { message, status } = failure(error);
    if (cluster.isWorker && process.send !== undefined) {
      // The primary prints it once, however many workers fail the same way.
      const report: WorkerFailure = { wsgiServeFailure: message, status };
      process.send(report, () => process.exit(status));
      return;
    }
    fail(message, status);
    // The module may hold the event loop open (its own timer, pool or server): end anyway.
    process.exit();
  }
}
