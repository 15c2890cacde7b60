// One server per process: `node servers/node.mjs <kind>`; prints `LISTENING <port>` when ready.
// The raw, fastify and hono kinds are the baselines; the wsgi-* kinds are @wsgi/simple.
import { closeSync, createReadStream, fstatSync, openSync, read, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { Buffer } from 'node:buffer';
import process from 'node:process';
import * as apps from '../apps/wsgi-apps.mjs';

const HOST = '127.0.0.1';
const kind = process.argv[2] ?? '';
const HELLO = apps.HELLO;

function listening(port) {
  process.stdout.write(`LISTENING ${port}\n`);
}

function listenRaw(handler) {
  const server = createServer(handler);
  server.listen(0, HOST, () => {
    const address = server.address();
    listening(typeof address === 'object' && address ? address.port : 0);
  });
}

async function listenWsgi(app, options = {}) {
  const { makeServer } = await import('@wsgi/simple');
  const server = await makeServer(HOST, 0, app, { quiet: true, ...options });
  listening(server.port);
}

async function withValidator(app) {
  const { validator } = await import('@wsgi/validator');
  return validator(app);
}

function rawFile(highWaterMark) {
  const path = process.env['BENCH_FILE'] ?? '';
  listenRaw((_req, res) => {
    const { size } = statSync(path);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size });
    createReadStream(path, { highWaterMark }).pipe(res);
  });
}

/**
 * Two reused buffers of `block` bytes: the next block is read while the previous one is being
 * written, and a buffer is read into again only after its write callback (the kernel has it).
 */
function rawFileReuse(block) {
  const path = process.env['BENCH_FILE'] ?? '';
  listenRaw((_req, res) => {
    const fd = openSync(path, 'r');
    const { size } = fstatSync(fd);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size });
    const free = [Buffer.allocUnsafeSlow(block), Buffer.allocUnsafeSlow(block)];
    let position = 0;
    let reading = false;
    let done = false;
    const finish = (error) => {
      if (done) return;
      done = true;
      closeSync(fd);
      if (error) res.destroy(error);
      else res.end();
    };
    const step = () => {
      const buffer = free.pop();
      if (reading || done || buffer === undefined) {
        if (buffer !== undefined) free.push(buffer);
        return;
      }
      reading = true;
      read(fd, buffer, 0, Math.min(block, size - position), position, (error, n) => {
        reading = false;
        if (error || n === 0) {
          finish(error ?? new Error('file ended early'));
          return;
        }
        position += n;
        res.write(buffer.subarray(0, n), () => {
          free.push(buffer);
          step();
        });
        if (position >= size) finish();
        else step();
      });
    };
    res.on('close', () => {
      finish();
    });
    step();
  });
}

/** A plain environ for `raw-environ`: one store per key, header names mapped through `keys`. */
function environFloor(req, keys) {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const socket = req.socket;
  const environ = {};
  environ['SERVER_NAME'] = 'localhost';
  environ['GATEWAY_INTERFACE'] = 'CGI/1.1';
  environ['SERVER_PORT'] = String(socket.localPort);
  environ['REMOTE_HOST'] = '';
  environ['SCRIPT_NAME'] = '';
  environ['SERVER_PROTOCOL'] = `HTTP/${req.httpVersion}`;
  environ['REQUEST_METHOD'] = req.method ?? '';
  environ['PATH_INFO'] = q === -1 ? url : url.slice(0, q);
  environ['QUERY_STRING'] = q === -1 ? '' : url.slice(q + 1);
  environ['REMOTE_ADDR'] = socket.remoteAddress;
  environ['REMOTE_PORT'] = String(socket.remotePort);
  environ['CONTENT_TYPE'] = req.headers['content-type'] ?? 'text/plain';
  environ['CONTENT_LENGTH'] = req.headers['content-length'] ?? '';
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    let key = keys.get(raw[i]);
    if (key === undefined) {
      key = `HTTP_${raw[i].toUpperCase().replaceAll('-', '_')}`;
      if (keys.size < 1024) keys.set(raw[i], key);
    }
    environ[key] = raw[i + 1];
  }
  environ['wsgi.input'] = req;
  environ['wsgi.errors'] = process.stderr;
  environ['wsgi.version'] = [1, 0];
  environ['wsgi.run_once'] = false;
  environ['wsgi.url_scheme'] = 'http';
  environ['wsgi.multithread'] = true;
  environ['wsgi.multiprocess'] = false;
  environ['wsgi.file_wrapper'] = null;
  return environ;
}

const kinds = {
  'raw-hello': () => {
    listenRaw((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': HELLO.length });
      res.end(HELLO);
    });
  },
  // Reference: the least any WSGI server on node:http does per request, with no WSGI stack:
  // build an environ of CGI variables, HTTP_* headers and wsgi.* keys, and answer with the
  // Server header a WSGI server sends (PEP 3333 and wsgiref); the application is not called.
  'raw-environ': () => {
    const server = `WSGIServer/0.2 Node/${process.versions.node}`;
    const keys = new Map();
    listenRaw((req, res) => {
      const environ = environFloor(req, keys);
      if (environ['REQUEST_METHOD'] === '') throw new Error('no method');
      res.writeHead(200, 'OK', [
        'Content-Type',
        'text/plain',
        'Content-Length',
        String(HELLO.length),
        'Server',
        server,
      ]);
      res.end(HELLO);
    });
  },
  'raw-chunked': () => {
    listenRaw((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('Hello, ');
      res.end('World!');
    });
  },
  'raw-file': () => {
    rawFile(undefined);
  },
  // References for what plain Node reaches with bigger blocks than the 64 KiB default.
  'raw-file-1m': () => {
    rawFile(1024 * 1024);
  },
  'raw-file-reuse': () => {
    rawFileReuse(4 * 1024 * 1024);
  },
  'raw-upload': () => {
    listenRaw((req, res) => {
      const hash = createHash('sha256');
      req.pipe(hash).on('finish', () => {
        const body = hash.digest('hex');
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
        res.end(body);
      });
    });
  },
  'fastify-hello': async () => {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false });
    app.get('/', (_req, reply) => reply.type('text/plain').send('Hello, World!'));
    await app.listen({ host: HOST, port: 0 });
    const address = app.server.address();
    listening(typeof address === 'object' && address ? address.port : 0);
  },
  'hono-hello': async () => {
    const [{ Hono }, { serve }] = await Promise.all([import('hono'), import('@hono/node-server')]);
    const app = new Hono();
    app.get('/', (c) => c.text('Hello, World!'));
    serve({ fetch: app.fetch, hostname: HOST, port: 0 }, (info) => {
      listening(info.port);
    });
  },
  'wsgi-hello': () => listenWsgi(apps.hello),
  'wsgi-validator': async () => listenWsgi(await withValidator(apps.hello)),
  'wsgi-generator': () => listenWsgi(apps.helloGenerator),
  'wsgi-generator-closure': () => listenWsgi(apps.helloGeneratorClosure),
  'wsgi-file': () => listenWsgi(apps.download),
  // The default maxBodySize (1 MiB) would answer 413 to the 256 MiB upload.
  'wsgi-upload': () => listenWsgi(apps.upload, { maxBodySize: 2 ** 31 }),
};

const start = Object.hasOwn(kinds, kind) ? kinds[kind] : undefined;
if (start === undefined) {
  process.stderr.write(
    `unknown server kind ${JSON.stringify(kind)}; one of ${Object.keys(kinds).join(', ')}\n`,
  );
  process.exit(2);
}
// Exit normally on SIGTERM/SIGINT so `--cpu-prof` writes its profile.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    process.exit(0);
  });
}
await start();
