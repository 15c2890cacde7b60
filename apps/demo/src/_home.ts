/**
 * `/`: what the demo is, links to every route and two small forms.
 *
 * @module
 */
import { html, layout, type SafeHtml } from './_html.ts';

/** The home page; `base` is the application's URL prefix. */
export function homePage(base: string): SafeHtml {
  return layout(
    'The @wsgi demo',
    base,
    html`<p>
        This server is Python's <code>wsgiref</code> rebuilt in TypeScript: one WSGI application
        (PEP 3333), checked on every request by <code>@wsgi/validator</code>, served by
        <code>@wsgi/simple</code>'s HTTP/1.1 server or, as <code>cgi-bin/demo.cgi</code>, by
        <code>@wsgi/cgi</code> under any web server.
      </p>
      <ul id="routes">
        <li><a href="${base}/hello">/hello</a>: plain text.</li>
        <li>
          <a href="${base}/environ">/environ</a>: <code>demoApp</code>, the request's environ.
        </li>
        <li>
          <a href="${base}/upload">/upload</a>: forms whose files are streamed and hashed with
          SHA-256.
        </li>
        <li>
          <a href="${base}/files/">/files/</a>: sample files sent with
          <code>wsgi.file_wrapper</code>.
        </li>
        <li><a href="${base}/stream">/stream</a>: a line every 100 ms for 2 s, chunked.</li>
        <li>
          <a href="${base}/error">/error</a>: the application throws; you get the 500 page, the log
          gets the stack.
        </li>
      </ul>
      <form method="get" action="${base}/hello">
        <label>Your name <input type="text" name="name" value="world" /></label>
        <button type="submit">Say hello</button>
      </form>
      <form method="post" action="${base}/upload" enctype="multipart/form-data">
        <label>A file to hash <input type="file" name="file" /></label>
        <button type="submit">Upload</button>
      </form>`,
  );
}
