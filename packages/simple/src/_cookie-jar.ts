/**
 * A small cookie store for `TestClient`: `Set-Cookie` is kept per domain and path (RFC 6265
 * §5.3, without the public-suffix list) and sent back as `Cookie` on matching requests.
 *
 * @module
 */

interface StoredCookie {
  readonly name: string;
  readonly value: string;
  /** Lower-case; `hostOnly` when the response gave no Domain attribute. */
  readonly domain: string;
  readonly hostOnly: boolean;
  readonly path: string;
  /** Epoch ms; `Infinity` for a session cookie. */
  readonly expires: number;
}

/** RFC 6265 §5.1.4: the directory of the request path, the default Path. */
function defaultPath(requestPath: string): string {
  if (!requestPath.startsWith('/')) return '/';
  const slash = requestPath.lastIndexOf('/');
  return slash <= 0 ? '/' : requestPath.slice(0, slash);
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/';
}

/** RFC 6265 §5.1.3 domain-match. */
function domainMatches(host: string, cookie: StoredCookie): boolean {
  if (host === cookie.domain) return true;
  return !cookie.hostOnly && host.endsWith(`.${cookie.domain}`);
}

/** Cookies received, in the order they were first set. */
export class CookieJar {
  #cookies: StoredCookie[] = [];

  /** Stores one `Set-Cookie` value received from `host` for `requestPath` (RFC 6265 §5.2). */
  store(header: string, host: string, requestPath: string, now = Date.now()): void {
    const [pair = '', ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let domain = host.toLowerCase();
    let hostOnly = true;
    let path = defaultPath(requestPath);
    let expires = Infinity;
    let maxAgeSeen = false;
    for (const attribute of attributes) {
      const at = attribute.indexOf('=');
      const key = (at === -1 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
      const val = at === -1 ? '' : attribute.slice(at + 1).trim();
      if (key === 'domain' && val !== '') {
        const wanted = val.replace(/^\./, '').toLowerCase();
        // A cookie for another site is ignored (RFC 6265 §5.3 step 6).
        if (domain !== wanted && !domain.endsWith(`.${wanted}`)) return;
        domain = wanted;
        hostOnly = false;
      } else if (key === 'path' && val.startsWith('/')) {
        path = val;
      } else if (key === 'max-age' && /^-?\d+$/.test(val)) {
        maxAgeSeen = true;
        expires = now + Number(val) * 1000;
      } else if (key === 'expires' && !maxAgeSeen) {
        const time = Date.parse(val);
        if (!Number.isNaN(time)) expires = time;
      }
    }
    this.#cookies = this.#cookies.filter(
      (c) => !(c.name === name && c.domain === domain && c.path === path),
    );
    if (expires > now) this.#cookies.push({ name, value, domain, hostOnly, path, expires });
  }

  /** The `Cookie` header for a request to `host` and `requestPath`, `undefined` for none. */
  header(host: string, requestPath: string, now = Date.now()): string | undefined {
    this.#cookies = this.#cookies.filter((c) => c.expires > now);
    const lowerHost = host.toLowerCase();
    const matching = this.#cookies.filter(
      (c) => domainMatches(lowerHost, c) && pathMatches(requestPath, c.path),
    );
    if (matching.length === 0) return undefined;
    // RFC 6265 §5.4: longer paths first; the sort is stable, so earlier ones first otherwise.
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** Every stored cookie's `name → value` (the last one wins when a name repeats). */
  toObject(): Record<string, string> {
    return Object.fromEntries(this.#cookies.map((c) => [c.name, c.value]));
  }

  /** Forgets every cookie. */
  clear(): void {
    this.#cookies = [];
  }
}
