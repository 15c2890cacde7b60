// The transfer client used when curl is missing: prints curl's summary line format.
import { createReadStream, statSync } from 'node:fs';
import { request } from 'node:http';
import process from 'node:process';

const [direction, url, file] = process.argv.slice(2);
const started = process.hrtime.bigint();
const headers = {};
if (direction === 'upload') {
  headers['Content-Type'] = 'application/octet-stream';
  headers['Content-Length'] = String(statSync(file).size);
}
const req = request(url, { method: direction === 'upload' ? 'POST' : 'GET', headers }, (res) => {
  let down = 0;
  let body = '';
  res.on('data', (chunk) => {
    down += chunk.length;
    if (direction === 'upload' && body.length < 1000) body += chunk.toString('latin1');
  });
  res.on('end', () => {
    const secs = Number(process.hrtime.bigint() - started) / 1e9;
    const up = direction === 'upload' ? headers['Content-Length'] : 0;
    process.stdout.write(`${body}\nCURL ${res.statusCode} ${down} ${up} ${secs}\n`);
  });
});
req.setTimeout(120_000, () => req.destroy(new Error('timeout')));
if (direction === 'upload') createReadStream(file).pipe(req);
else req.end();
