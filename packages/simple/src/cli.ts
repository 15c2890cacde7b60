#!/usr/bin/env node
/**
 * The `wsgi-serve` command: `wsgi-serve [--host 127.0.0.1] [--port 8000] [--workers N]
 * [--quiet] [module[:export]]`.
 *
 * @module
 */
import { main } from './_cli.ts';

await main(process.argv.slice(2));
