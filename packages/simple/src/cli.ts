#!/usr/bin/env node
/**
 * The `wsgi-serve` command: `wsgi-serve [--host 127.0.0.1] [--port 8000] [--workers N]
 * [--quiet] [--<limit> N ...] [module[:export]]`, with one flag per `makeServer()` limit
 * (`--max-body-size 1048576`, `--headers-timeout 60000`, …); `wsgi-serve --help` lists them.
 *
 * @module
 */
import { main } from './_cli.ts';

await main(process.argv.slice(2));
