/**
 * Two connected in-memory sockets: what one writes, the other reads. They let `node:http`'s
 * server and client parsers talk without a network socket (for `TestClient`).
 *
 * @module
 */
import { Duplex } from 'node:stream';

/** One end of an in-memory connection, with the address fields `node:http` and logs read. */
export class MemorySocket extends Duplex {
  /** The other end. */
  peer: MemorySocket | undefined;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteFamily = 'IPv4';
  /** A write held back until the peer reads again (backpressure, as on a real socket). */
  #held: (() => void) | undefined;

  constructor(local: readonly [string, number], remote: readonly [string, number]) {
    super({ allowHalfOpen: true });
    [this.localAddress, this.localPort] = local;
    [this.remoteAddress, this.remotePort] = remote;
  }

  override _read(): void {
    const peer = this.peer;
    const held = peer === undefined ? undefined : peer.#held;
    if (peer !== undefined && held !== undefined) {
      peer.#held = undefined;
      held();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    const peer = this.peer;
    if (peer === undefined || peer.destroyed) {
      callback();
      return;
    }
    if (peer.push(chunk)) callback();
    else this.#held = callback;
  }

  override _final(callback: () => void): void {
    // A FIN: the peer reads to its end.
    if (this.peer !== undefined && !this.peer.destroyed) this.peer.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    const peer = this.peer;
    this.peer = undefined;
    const held = this.#held;
    this.#held = undefined;
    held?.();
    if (peer !== undefined) {
      peer.peer = undefined;
      // The peer reads what it was sent, then its end (a FIN).
      if (!peer.destroyed) peer.push(null);
      // Closed before its writes were finished: a reset, once the peer has read its bytes.
      if (!this.writableFinished && !peer.destroyed) {
        if (peer.readableLength === 0) peer.destroy();
        else peer.once('end', () => peer.destroy());
      }
    }
    callback(error);
  }

  // The socket methods node:http calls; nothing to tune in memory.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
}

/** A connected `[server, client]` pair; the client is 127.0.0.1 and the server `host:port`. */
export function memorySocketPair(host: string, port: number): [MemorySocket, MemorySocket] {
  const server = new MemorySocket([host, port], ['127.0.0.1', 50_000]);
  const client = new MemorySocket(['127.0.0.1', 50_000], [host, port]);
  server.peer = client;
  client.peer = server;
  return [server, client];
}
