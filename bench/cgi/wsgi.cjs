// The same CGI hello as wsgi.mjs, as a CommonJS script: the form packages/cgi's README shows
// (Node >= 20.19 require()s the ES module packages, and loads them synchronously).
const { CGIHandler } = require('@wsgi/cgi');
const { hello } = require('../apps/wsgi-apps.mjs');

void new CGIHandler().run(hello);
