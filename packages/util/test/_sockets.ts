import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';

/** Both ends of one real TCP connection on 127.0.0.1, and a teardown that destroys them. */
export interface SocketPair {
  /** The accepted end: what a server reads a request body from. */
  server: Socket;
  /** The connecting end: what a client writes the body to. */
  client: Socket;
  close: () => Promise<void>;
}

/** Opens a real TCP connection on 127.0.0.1 port 0; `close()` destroys both ends and the server. */
export async function socketPair(): Promise<SocketPair> {
  const sockets = new Set<Socket>();
  const listener = createServer((s) => {
    sockets.add(s);
  });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = connect(address.port, '127.0.0.1');
  sockets.add(client);
  const [server] = await accepted;
  // An error after the test is over (a reset it caused) must not fail another test.
  client.on('error', () => undefined);
  let closed = false;
  return {
    server,
    client,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      listener.close();
      await once(listener, 'close');
    },
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `test()` holds, checking every 5 ms; rejects after `ms` milliseconds. */
export async function until(test: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await sleep(5);
  }
}
