#!/usr/bin/env node
// The `wsgi-serve` command. The command itself is compiled to dist/cli.js; this file is only
// its fixed entry point, there from the start, so a package manager can link the command
// before the package is built (in a workspace) as well as after it is installed.
await import('../dist/cli.js');
