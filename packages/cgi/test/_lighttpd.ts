import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Python's own CGIHandler runs under this interpreter (never the slow pyenv shim). */
export const PYTHON = '/root/.pyenv/versions/3.11.7/bin/python3';
/** The requests to Python's CGI application carry this `Host`; everything else goes to ours. */
export const PYTHON_HOST = 'python.test';
/**
 * The server sets `HTTP_PROXY` for these paths, like a server without lighttpd's httpoxy
 * filter that passes a client's `Proxy:` header on.
 */
const LEAKY_PATHS = '^/cgi-bin/app.cgi/(leaky|process-proxy)';
export const LEAKED_PROXY = 'http://attacker.invalid:3128';

const FIXTURES = fileURLToPath(new URL('fixtures/', import.meta.url));

/** Whether an executable is on this machine (lighttpd, the pinned Python). */
export function hasCommand(command: string, args: string[] = ['-v']): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 5000 });
  return result.error === undefined && result.status === 0;
}

export function lighttpdPath(): string | undefined {
  for (const candidate of ['/usr/sbin/lighttpd', '/usr/local/sbin/lighttpd']) {
    if (hasCommand(candidate)) return candidate;
  }
  return hasCommand('lighttpd') ? 'lighttpd' : undefined;
}

export interface Lighttpd {
  port: number;
  /** lighttpd's error log, where the CGI scripts' stderr goes too. */
  errorLog: string;
  readErrorLog(): Promise<string>;
  /** Stops the server by its PID; safe to call twice. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function config(dir: string, port: number): string {
  const errorLog = join(dir, 'error.log');
  return `
server.modules = ("mod_setenv", "mod_cgi")
server.document-root = "${join(dir, 'node')}"
server.bind = "127.0.0.1"
server.port = ${port}
server.errorlog = "${errorLog}"
server.upload-dirs = ("${join(dir, 'uploads')}")
server.stream-response-body = 2
# PATH_INFO must be able to carry any byte (PEP 3333 native strings), not only UTF-8.
server.http-parseopts = ("url-invalid-utf8-reject" => "disable")
cgi.assign = (".cgi" => "${process.execPath}")
$HTTP["host"] == "${PYTHON_HOST}" {
  server.document-root = "${join(dir, 'python')}"
  cgi.assign = (".cgi" => "${PYTHON}")
}
$HTTP["url"] =~ "${LEAKY_PATHS}" {
  setenv.add-environment = ("HTTP_PROXY" => "${LEAKED_PROXY}")
}
`;
}

async function prepare(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wsgi-cgi-lighttpd-'));
  for (const sub of ['node/cgi-bin', 'python/cgi-bin', 'uploads']) {
    await mkdir(join(dir, sub), { recursive: true });
  }
  await symlink(join(FIXTURES, 'app.mjs'), join(dir, 'node/cgi-bin/app.cgi'));
  await symlink(join(FIXTURES, 'app.py'), join(dir, 'python/cgi-bin/app.cgi'));
  await writeFile(join(dir, 'error.log'), '');
  return dir;
}

async function waitUntilListening(child: ChildProcess, port: number): Promise<boolean> {
  const deadline = Date.now() + 5000;
  for (let attempt = 0; attempt < 200 && Date.now() < deadline; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    if (await canConnect(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    return Promise.resolve();
  }
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }, 3000);
  return exited.finally(() => {
    clearTimeout(timer);
  });
}

/**
 * Starts lighttpd on 127.0.0.1 with a generated configuration in a temp dir: our example
 * application at `/cgi-bin/app.cgi` through `CGIHandler`, and Python's at the same path
 * for requests with `Host: python.test`.
 */
export async function startLighttpd(binary: string): Promise<Lighttpd> {
  const dir = await prepare();
  const errorLog = join(dir, 'error.log');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'lighttpd.conf');
    await writeFile(conf, config(dir, port));
    // In the foreground, lighttpd hands its own stderr to the CGI scripts (a daemon would use
    // server.breakagelog): point it at the error log, so the tracebacks land there.
    const log = await open(errorLog, 'a');
    const child = spawn(binary, ['-D', '-f', conf], { stdio: ['ignore', 'ignore', log.fd] });
    await log.close();
    if (await waitUntilListening(child, port)) {
      let stopped = false;
      return {
        port,
        errorLog,
        readErrorLog: () => readFile(errorLog, 'utf8'),
        async stop() {
          if (stopped) return;
          stopped = true;
          await stopChild(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    await stopChild(child);
    // Another process may have taken the port in between: try a new one.
    if (attempt === 4) {
      const log = await readFile(errorLog, 'utf8');
      await rm(dir, { recursive: true, force: true });
      throw new Error(`lighttpd did not start:\n${log}`);
    }
  }
  throw new Error('unreachable');
}
