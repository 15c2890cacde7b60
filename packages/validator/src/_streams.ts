/**
 * Wrappers for `wsgi.input` and `wsgi.errors` that check how the application uses them, as
 * `InputWrapper` and `ErrorWrapper` of `wsgiref.validate` do.
 *
 * @see PEP 3333, "Input and Error Streams"
 * @module
 */
import type { ErrorStream, InputStream } from '@wsgi/util';

import type { Reporter } from './_report.ts';
import { show } from './_report.ts';

function checkSize(report: Reporter, method: string, args: readonly unknown[]): void {
  const size = args[0];
  if (args.length > 1 || (size !== undefined && typeof size !== 'number')) {
    report.fail(
      'input.arguments',
      `wsgi.input.${method}() takes at most one number argument: ${show(args)}`,
    );
  }
}

/** `source` names where the chunk came from, e.g. `'wsgi.input.read()'`. */
function checkChunk(report: Reporter, source: string, chunk: unknown): void {
  if (!(chunk instanceof Uint8Array)) {
    report.fail('input.result', `${source} must give a Uint8Array: ${show(chunk)}`);
  }
}

/** A stream of the server's, seen through the validator. */
abstract class CheckedStream<S> {
  protected readonly stream: S;
  protected readonly report: Reporter;

  constructor(stream: S, report: Reporter) {
    this.stream = stream;
    this.report = report;
  }
}

/**
 * `environ['wsgi.input']` as the application sees it under the validator. `read()` without a
 * size is allowed (PEP 3333; `wsgiref.validate` refuses it).
 */
export class CheckedInput extends CheckedStream<InputStream> implements InputStream {
  async read(...args: [size?: number]): Promise<Uint8Array> {
    checkSize(this.report, 'read', args);
    const chunk = await this.stream.read(...args);
    checkChunk(this.report, 'wsgi.input.read()', chunk);
    return chunk;
  }

  async readline(...args: [size?: number]): Promise<Uint8Array> {
    checkSize(this.report, 'readline', args);
    const line = await this.stream.readline(...args);
    checkChunk(this.report, 'wsgi.input.readline()', line);
    return line;
  }

  async readlines(...args: [hint?: number]): Promise<Uint8Array[]> {
    checkSize(this.report, 'readlines', args);
    const lines: unknown = await this.stream.readlines(...args);
    if (!Array.isArray(lines)) {
      this.report.fail('input.result', `wsgi.input.readlines() must give an array: ${show(lines)}`);
    } else {
      for (const line of lines) checkChunk(this.report, 'wsgi.input.readlines()', line);
    }
    return lines as Uint8Array[];
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for await (const line of this.stream) {
      checkChunk(this.report, 'iterating wsgi.input', line);
      yield line;
    }
  }

  /** PEP 3333: applications must not close `wsgi.input`; this only reports it. */
  close(): void {
    this.report.fail('input.close', 'wsgi.input.close() must not be called');
  }
}

/** `environ['wsgi.errors']` as the application sees it under the validator. */
export class CheckedErrors extends CheckedStream<ErrorStream> implements ErrorStream {
  write(s: string): void {
    if (typeof s !== 'string') {
      this.report.fail('errors.type', `wsgi.errors.write() takes a string: ${show(s)}`);
    }
    this.stream.write(s);
  }

  writelines(lines: Iterable<string>): void {
    for (const line of lines) this.write(line);
  }

  flush(): void {
    this.stream.flush();
  }

  /** PEP 3333: applications must not close `wsgi.errors`; this only reports it. */
  close(): void {
    this.report.fail('errors.close', 'wsgi.errors.close() must not be called');
  }
}
