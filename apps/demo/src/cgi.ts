/**
 * The CGI entry (`cgi-bin/demo.cgi` loads it): runs the demo application once through
 * `CGIHandler`, reading the request from the environment and stdin and writing to stdout.
 * `UPLOAD_LIMIT` (bytes) may be set in the web server's environment for the script.
 *
 * @module
 */
import { CGIHandler } from '@wsgi/cgi';

import { configFromEnv } from './_config.ts';
import { createDemoApp } from './app.ts';

const { uploadLimit } = configFromEnv({ UPLOAD_LIMIT: process.env['UPLOAD_LIMIT'] });
await new CGIHandler().run(createDemoApp({ uploadLimit }));
