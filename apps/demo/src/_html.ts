/**
 * HTML building with escaping by default: every interpolated value is escaped unless it is
 * already {@link SafeHtml}, so a page cannot forget to escape a visitor's input.
 *
 * @module
 */

/** A fragment of markup that is known to be safe (built by {@link html}). */
export class SafeHtml {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

/** What {@link html} accepts between `${}`: text is escaped, `SafeHtml` kept, lists joined. */
export type HtmlValue = SafeHtml | string | number | readonly HtmlValue[] | null | undefined;

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes `& < > " '`, so the text is safe in element content and in quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined) return '';
  if (value instanceof SafeHtml) return value.value;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return escapeHtml(value);
  return value.map(render).join('');
}

/** The tagged template: `` html`<p>${userText}</p>` `` escapes `userText`. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    out += render(values[i]) + (strings[i + 1] ?? '');
  }
  return new SafeHtml(out);
}

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:0 auto;padding:1rem 1.5rem;color:#1d2330;background:#fbfbfd}
header{display:flex;gap:1rem;align-items:baseline;flex-wrap:wrap;border-bottom:1px solid #d8dce6;margin-bottom:1rem}
header a{font-weight:600}
h1{font-size:1.6rem;margin:.6rem 0}
a{color:#2453c7}
code,pre{font-family:ui-monospace,monospace;font-size:.9em}
pre{background:#eef0f5;padding:.75rem;overflow:auto}
table{border-collapse:collapse;margin:.5rem 0 1rem}
th,td{border:1px solid #d8dce6;padding:.3rem .6rem;text-align:left;vertical-align:top}
td pre{margin:0}
td.sha256{font-family:ui-monospace,monospace;font-size:.8em;word-break:break-all}
form{background:#fff;border:1px solid #d8dce6;padding:1rem;margin:1rem 0}
label{display:block;margin:.4rem 0}
.error{color:#a1261b}
`;

/** The `Content-Security-Policy` of every page: no scripts at all, forms post to this site only. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/**
 * Wraps a page body in the common layout.
 *
 * @param base - the application's URL prefix (the encoded `SCRIPT_NAME`), for the navigation.
 */
export function layout(title: string, base: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <link rel="icon" href="data:," />
        <title>${title} · @wsgi demo</title>
        <style>
          ${new SafeHtml(STYLE)}
        </style>
      </head>
      <body>
        <header>
          <a href="${base}/">@wsgi demo</a>
          <nav>
            <a href="${base}/hello">hello</a> · <a href="${base}/environ">environ</a> ·
            <a href="${base}/upload">upload</a> · <a href="${base}/files/">files</a> ·
            <a href="${base}/stream">stream</a> · <a href="${base}/error">error</a>
          </nav>
        </header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html> `;
}
