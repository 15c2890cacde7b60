/**
 * `/upload`: a form (GET) and its handler (POST). The handler streams `wsgi.input` through the
 * multipart parser, hashing each file as it goes, so no upload is ever held in memory whole.
 *
 * @module
 */
import { createHash, type Hash } from 'node:crypto';

import type { Environ, StartResponse } from '@wsgi/core';

import { parseHeaderParams } from './_header-params.ts';
import { html, layout, type SafeHtml } from './_html.ts';
import { MultipartError, MultipartParser } from './_multipart.ts';
import { baseOf, checkMethod, sendError, sendHtml } from './_respond.ts';

/** The limits of the upload handler, in bytes. */
export interface UploadLimits {
  /** The whole request body. */
  readonly uploadLimit: number;
  /** All non-file fields together (and a whole urlencoded body). */
  readonly fieldsLimit: number;
  /** The number of parts of a multipart body. */
  readonly maxParts: number;
}

interface Field {
  readonly name: string;
  readonly value: string;
}

interface UploadedFile {
  readonly field: string;
  readonly filename: string;
  readonly contentType: string;
  size: number;
  sha256: string;
}

interface FormData {
  readonly fields: Field[];
  readonly files: UploadedFile[];
  bytes: number;
}

class TooLarge extends Error {
  override name = 'TooLarge';
}

const READ_SIZE = 64 * 1024;

/** Handles `/upload`. */
export async function upload(
  environ: Environ,
  startResponse: StartResponse,
  limits: UploadLimits,
): Promise<Uint8Array[]> {
  const refused = checkMethod(environ, startResponse, ['GET', 'HEAD', 'POST']);
  if (refused) return refused;
  if (environ.REQUEST_METHOD !== 'POST') {
    return sendHtml(startResponse, 200, uploadPage(baseOf(environ), limits));
  }
  const declared = environ.CONTENT_LENGTH ?? '';
  if (declared !== '' && !/^\d+$/.test(declared)) {
    return sendError(environ, startResponse, 400, 'The Content-Length is not a number.');
  }
  if (declared !== '' && Number(declared) > limits.uploadLimit) {
    return sendError(environ, startResponse, 413, tooLargeMessage(limits));
  }
  const { type, params } = parseHeaderParams(environ.CONTENT_TYPE ?? '');
  const started = performance.now();
  let form: FormData;
  try {
    if (type === 'multipart/form-data') {
      const boundary = params.get('boundary');
      if (boundary === undefined) {
        return sendError(environ, startResponse, 400, 'The multipart body has no boundary.');
      }
      form = await readMultipart(environ, boundary, limits);
    } else if (type === 'application/x-www-form-urlencoded') {
      form = await readUrlencoded(environ, limits);
    } else {
      return sendError(
        environ,
        startResponse,
        415,
        'Send multipart/form-data or application/x-www-form-urlencoded.',
      );
    }
  } catch (error) {
    if (error instanceof TooLarge) return sendError(environ, startResponse, 413, error.message);
    if (error instanceof MultipartError) {
      return sendError(environ, startResponse, 400, `Malformed upload: ${error.message}`);
    }
    throw error;
  }
  const elapsed = performance.now() - started;
  return sendHtml(startResponse, 200, resultPage(baseOf(environ), form, elapsed));
}

function tooLargeMessage(limits: UploadLimits): string {
  return `Uploads are limited to ${limits.uploadLimit} bytes.`;
}

// Reads `wsgi.input` chunk by chunk, refusing more than the upload limit in total.
async function pump(
  environ: Environ,
  limits: UploadLimits,
  sink: (chunk: Uint8Array) => void,
): Promise<number> {
  const input = environ['wsgi.input'];
  let total = 0;
  for (;;) {
    const chunk = await input.read(READ_SIZE);
    if (chunk.length === 0) return total;
    total += chunk.length;
    if (total > limits.uploadLimit) throw new TooLarge(tooLargeMessage(limits));
    sink(chunk);
  }
}

async function readMultipart(
  environ: Environ,
  boundary: string,
  limits: UploadLimits,
): Promise<FormData> {
  const form: FormData = { fields: [], files: [], bytes: 0 };
  let fieldBytes = 0;
  let parts = 0;
  let field: { name: string; chunks: Uint8Array[] } | undefined;
  let file: { info: UploadedFile; hash: Hash } | undefined;
  const parser = new MultipartParser(boundary, {
    onPart(headers) {
      if (++parts > limits.maxParts)
        throw new TooLarge(`At most ${limits.maxParts} parts are accepted.`);
      const disposition = parseHeaderParams(headers.get('content-disposition') ?? '');
      const name = disposition.params.get('name') ?? '';
      const filename = disposition.params.get('filename');
      if (filename === undefined) {
        field = { name, chunks: [] };
        return;
      }
      const info: UploadedFile = {
        field: name,
        filename,
        contentType: headers.get('content-type') ?? 'text/plain',
        size: 0,
        sha256: '',
      };
      form.files.push(info);
      file = { info, hash: createHash('sha256') };
    },
    onData(data) {
      if (file) {
        file.info.size += data.length;
        file.hash.update(data);
        return;
      }
      fieldBytes += data.length;
      if (fieldBytes > limits.fieldsLimit) {
        throw new TooLarge(`Form fields are limited to ${limits.fieldsLimit} bytes in total.`);
      }
      // Copied: the parser's slices are only valid during this call.
      field?.chunks.push(Uint8Array.prototype.slice.call(data));
    },
    onPartEnd() {
      if (file) file.info.sha256 = file.hash.digest('hex');
      else if (field)
        form.fields.push({ name: field.name, value: Buffer.concat(field.chunks).toString('utf8') });
      file = undefined;
      field = undefined;
    },
  });
  form.bytes = await pump(environ, limits, (chunk) => {
    parser.write(chunk);
  });
  parser.end();
  return form;
}

async function readUrlencoded(environ: Environ, limits: UploadLimits): Promise<FormData> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const bytes = await pump(environ, limits, (chunk) => {
    size += chunk.length;
    if (size > limits.fieldsLimit) {
      throw new TooLarge(`Form fields are limited to ${limits.fieldsLimit} bytes in total.`);
    }
    chunks.push(chunk);
  });
  const fields = [...new URLSearchParams(Buffer.concat(chunks).toString('utf8'))].map(
    ([name, value]) => ({
      name,
      value,
    }),
  );
  return { fields, files: [], bytes };
}

function uploadPage(base: string, limits: UploadLimits): SafeHtml {
  return layout(
    'Upload',
    base,
    html`<p>
        Files are streamed through a multipart parser and hashed on the fly; nothing is stored.
        Uploads are limited to ${limits.uploadLimit} bytes.
      </p>
      <h2>multipart/form-data</h2>
      <form method="post" action="${base}/upload" enctype="multipart/form-data">
        <label>Note <input type="text" name="note" value="hello" /></label>
        <label>Files <input type="file" name="file" multiple /></label>
        <button type="submit">Upload</button>
      </form>
      <h2>application/x-www-form-urlencoded</h2>
      <form method="post" action="${base}/upload">
        <label>Name <input type="text" name="name" /></label>
        <label>Comment <textarea name="comment" rows="3" cols="40"></textarea></label>
        <button type="submit">Send</button>
      </form>`,
  );
}

function resultPage(base: string, form: FormData, elapsed: number): SafeHtml {
  const fields = form.fields.length
    ? html`<table id="fields">
        <tr>
          <th>Name</th>
          <th>Value</th>
        </tr>
        ${form.fields.map(
          (f) =>
            html`<tr>
              <td>${f.name}</td>
              <td><pre>${f.value}</pre></td>
            </tr>`,
        )}
      </table>`
    : html`<p>No fields.</p>`;
  const files = form.files.length
    ? html`<table id="files">
        <tr>
          <th>Field</th>
          <th>File name</th>
          <th>Type</th>
          <th>Size (bytes)</th>
          <th>SHA-256</th>
        </tr>
        ${form.files.map(
          (f) =>
            html`<tr>
              <td>${f.field}</td>
              <td class="filename">${f.filename || '(no file chosen)'}</td>
              <td>${f.contentType}</td>
              <td class="size">${f.size}</td>
              <td class="sha256">${f.sha256}</td>
            </tr>`,
        )}
      </table>`
    : html`<p>No files.</p>`;
  return layout(
    'Upload received',
    base,
    html`<p>Read ${form.bytes} bytes in ${elapsed.toFixed(1)} ms.</p>
      <h2>Fields</h2>
      ${fields}
      <h2>Files</h2>
      ${files}
      <p><a href="${base}/upload">Upload more</a></p>`,
  );
}
