#!/usr/bin/env node
// The demo as a CGI script: point the web server's CGI handler at this file (see README.md).
// It is CommonJS (cgi-bin/package.json) so Node accepts the .cgi extension; it loads the
// built ES module, which runs the application once through @wsgi/cgi's CGIHandler.
'use strict';
import('../dist/cgi.js').catch((error) => {
  process.stderr.write(`demo.cgi: cannot start (run \`pnpm build\` first?): ${error && error.stack}\n`);
  process.stdout.write('Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\n' +
    'The demo is not built.\n');
  process.exitCode = 1;
});
