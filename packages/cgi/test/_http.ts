import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

export interface Reply {
  status: number;
  reason: string;
  /** Header pairs as they came, names in their original case. */
  headers: Array<[string, string]>;
  body: Buffer;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Stops reading the response for `pauseMs` (500) once it starts, runs this, then reads on. */
  whilePaused?: () => Promise<void>;
  pauseMs?: number;
}

function pairs(raw: string[]): Array<[string, string]> {
  const result: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) result.push([raw[i] ?? '', raw[i + 1] ?? '']);
  return result;
}

/** One HTTP/1.1 request on a fresh connection, the whole response read; fails after 60 s. */
export function request(port: number, path: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
        timeout: 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        const whilePaused = options.whilePaused;
        if (whilePaused !== undefined) {
          res.pause();
          setTimeout(() => {
            whilePaused().then(
              () => res.resume(),
              (error: unknown) => req.destroy(error as Error),
            );
          }, options.pauseMs ?? 500);
        }
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            reason: res.statusMessage ?? '',
            headers: pairs(res.rawHeaders),
            body: Buffer.concat(chunks),
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out: ${path}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Writes literal bytes on a new connection and returns everything read until the server closes. */
export function exchange(port: number, bytes: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(20_000, () => socket.destroy(new Error('timed out')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      resolve(Buffer.concat(chunks));
    });
    socket.end(bytes);
  });
}

/** Splits a raw HTTP/1.x response framed by Content-Length into its parts. */
export function parseResponse(raw: Buffer): Reply {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`no header block in ${JSON.stringify(raw.toString('latin1'))}`);
  const [statusLine = '', ...lines] = raw.toString('latin1', 0, end).split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3}) (.*)$/.exec(statusLine);
  if (match === null) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  return {
    status: Number(match[1]),
    reason: match[2] ?? '',
    headers,
    body: raw.subarray(end + 4),
  };
}

/** The headers without those the web server adds on its own (`Date`, `Server`). */
export function comparable(headers: Array<[string, string]>): Array<[string, string]> {
  return headers.filter(([name]) => !/^(date|server)$/i.test(name));
}

export function header(reply: Reply, name: string): string | undefined {
  return reply.headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}
