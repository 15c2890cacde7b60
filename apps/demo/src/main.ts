/**
 * `node dist/main.js`: serves the demo on http://127.0.0.1:8000 (`HOST`, `PORT` and
 * `UPLOAD_LIMIT` override; port 0 picks a free one) and stops gracefully on SIGINT or SIGTERM:
 * no new connections, requests in flight finish, then the process exits.
 *
 * @module
 */
import { makeServer } from '@wsgi/simple';

import { configFromEnv } from './_config.ts';
import { createDemoApp } from './app.ts';

async function main(): Promise<void> {
  const { host, port, uploadLimit } = configFromEnv(process.env);
  // The server refuses bodies over the limit on every route; /upload checks it again itself
  // (that check is the only one under CGI).
  const server = await makeServer(host, port, createDemoApp({ uploadLimit }), {
    maxBodySize: uploadLimit,
  });
  const shown = host.includes(':') ? `[${host}]` : host;
  console.log(`The @wsgi demo is serving on http://${shown}:${server.port}/ (Ctrl+C to stop)`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.log(`${signal} again: exiting without waiting.`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: finishing requests in flight, then stopping…`);
    server.close().then(
      () => {
        console.log('Stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(
    `The demo could not start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exitCode = 1;
});
