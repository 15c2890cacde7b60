import fc from 'fast-check';

/** Any native-string character (char code 0–255). */
export const latin1Char = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));

/** A path segment: often a special one, else any latin-1 text without `/`. */
export const segment = fc.oneof(
  fc.constantFrom('', '.', '..', 'x', 'y', 'a b', 'caf\u00e9', ';p=1,2'),
  fc.string({ unit: latin1Char, maxLength: 6 }).map((s) => s.replaceAll('/', '')),
);

/** An absolute path (`/` + segments), or `''`. */
export const pathInfo = fc.oneof(
  fc.constant(''),
  fc.array(segment, { maxLength: 5 }).map((segments) => `/${segments.join('/')}`),
);

/** A SCRIPT_NAME: empty, absolute, or (for robustness) relative. */
export const scriptName = fc.oneof(
  pathInfo,
  fc.array(segment, { minLength: 1, maxLength: 3 }).map((segments) => segments.join('/')),
);

/** A segment that survives normalization: not empty, `.`, `..`, and without `/`. */
export const plainSegment = fc
  .string({ unit: latin1Char, minLength: 1, maxLength: 6 })
  .map((s) => s.replaceAll('/', '_'))
  .filter((s) => s !== '.' && s !== '..');

/** An environ for the URL functions (keys may be missing, as in a CGI environ). */
export const uriEnviron = fc.record(
  {
    'wsgi.url_scheme': fc.constantFrom('http', 'https'),
    HTTP_HOST: fc.constantFrom('', 'example.org', 'example.org:8080', '[::1]:80'),
    SERVER_NAME: fc.constantFrom('localhost', '127.0.0.1'),
    SERVER_PORT: fc.constantFrom('80', '443', '8000'),
    SCRIPT_NAME: scriptName,
    PATH_INFO: pathInfo,
    QUERY_STRING: fc.constantFrom('', 'a=1&b=%20', 'x'),
  },
  { requiredKeys: ['wsgi.url_scheme', 'SERVER_NAME', 'SERVER_PORT'] },
);
