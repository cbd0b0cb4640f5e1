import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a free loopback port in front of a Redis server that counts the commands its
 * clients send: the round trips a store really makes, measured on the wire (a Lua script is one
 * `EVALSHA` however many commands it runs inside Redis).
 */
export interface RedisCommandCounter {
  /** `redis://127.0.0.1:<port>`: connect the stores here instead of to the server. */
  readonly url: string;
  /** The names (upper case) of the commands received since the start or the last {@link take}. */
  readonly names: readonly string[];
  /** Returns {@link names} and starts counting afresh. */
  take(): readonly string[];
  /** Closes the proxy and every connection through it. */
  close(): Promise<void>;
}

interface Parsed {
  readonly name: string;
  readonly end: number;
}

function lineAt(
  buffer: Buffer,
  offset: number,
): { readonly text: string; readonly next: number } | undefined {
  const end = buffer.indexOf('\r\n', offset);
  if (end < 0) return undefined;
  return { text: buffer.toString('latin1', offset, end), next: end + 2 };
}

/** One request (a RESP array of bulk strings, or an inline command) at `offset`, if complete. */
function requestAt(buffer: Buffer, offset: number): Parsed | undefined {
  const head = lineAt(buffer, offset);
  if (head === undefined) return undefined;
  if (!head.text.startsWith('*')) {
    return { name: (head.text.split(' ')[0] ?? '').toUpperCase(), end: head.next };
  }
  const count = Number(head.text.slice(1));
  let position = head.next;
  let name = '';
  for (let index = 0; index < count; index++) {
    const size = lineAt(buffer, position);
    if (size === undefined) return undefined;
    const length = Number(size.text.slice(1));
    if (buffer.length < size.next + length + 2) return undefined;
    if (index === 0) name = buffer.toString('latin1', size.next, size.next + length).toUpperCase();
    position = size.next + length + 2;
  }
  return { name, end: position };
}

/**
 * Starts a {@link RedisCommandCounter} forwarding to `port` on 127.0.0.1 (for tests and benchmarks;
 * not for production traffic).
 */
export function startRedisCommandCounter(port: number): Promise<RedisCommandCounter> {
  let names: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ port, host: '127.0.0.1' });
    sockets.add(client);
    sockets.add(upstream);
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let offset = 0;
      for (
        let request = requestAt(pending, offset);
        request !== undefined;
        request = requestAt(pending, offset)
      ) {
        names.push(request.name);
        offset = request.end;
      }
      pending = pending.subarray(offset);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address !== 'object' || address === null) {
        reject(new Error('could not read the port of the command counter'));
        return;
      }
      resolve({
        url: `redis://127.0.0.1:${address.port}`,
        get names() {
          return names;
        },
        take() {
          const taken = names;
          names = [];
          return taken;
        },
        close() {
          for (const socket of sockets) socket.destroy();
          return new Promise<void>((done) => server.close(() => done()));
        },
      });
    });
  });
}
