// `BaseHandler.run` of the hello app into memory, in a loop: prints one JSON line per round
// with runs, wall seconds and CPU seconds. Usage: node servers/inproc.mjs <rounds> <seconds>.
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { BaseHandler } from '@wsgi/core';
import { toInputStream } from '@wsgi/util';
import { hello } from '../apps/wsgi-apps.mjs';

const rounds = Number(process.argv[2] ?? 1);
const seconds = Number(process.argv[3] ?? 1);
const expected = 'Status: 200 OK';

const errors = { write() {}, writelines() {}, flush() {} };
const cgiVars = {
  REQUEST_METHOD: 'GET',
  SCRIPT_NAME: '',
  PATH_INFO: '/',
  QUERY_STRING: '',
  SERVER_NAME: '127.0.0.1',
  SERVER_PORT: '80',
  SERVER_PROTOCOL: 'HTTP/1.1',
  HTTP_HOST: '127.0.0.1',
};

class MemoryHandler extends BaseHandler {
  chunks = [];
  originServer = false;
  _write(data) {
    this.chunks.push(data);
  }
  _flush() {}
  getStdin() {
    return toInputStream(new Uint8Array(0));
  }
  getStderr() {
    return errors;
  }
  addCgiVars() {
    Object.assign(this.environ, cgiVars);
  }
}

async function once() {
  const h = new MemoryHandler();
  await h.run(hello);
  return h.chunks;
}

const first = Buffer.concat(await once()).toString('latin1');
if (!first.startsWith(expected) || !first.endsWith('Hello, World!')) {
  throw new Error(`unexpected output: ${JSON.stringify(first)}`);
}
for (let r = 0; r < rounds; r++) {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(seconds * 1e9));
  let runs = 0;
  while (runs < 1e8) {
    for (let i = 0; i < 256; i++) await once();
    runs += 256;
    if (process.hrtime.bigint() >= deadline) break;
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(`${JSON.stringify({ runs, wall, cpuSeconds })}\n`);
}
