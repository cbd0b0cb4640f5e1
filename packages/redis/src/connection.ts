import { createHash } from 'node:crypto';
import { ConfigurationError, messageOf, StoreUnavailableError } from '@ape/core';
import { createClient } from 'redis';
import { checkMilliseconds } from './keys.js';

/** Options of {@link createRedisConnection}. */
export interface RedisConnectionOptions {
  /**
   * Where Redis listens: `redis://[user:password@]host:port[/db]`, or `rediss://...` for TLS. The
   * password never appears in error messages.
   */
  readonly url: string;
  /**
   * The most any command may take, in milliseconds, before it fails with `StoreUnavailableError`
   * (the guarded call is then denied); default 250. Whole number, 1 .. 60000.
   */
  readonly timeoutMs?: number;
  /** The client name shown by `CLIENT LIST`; default `ape`. */
  readonly name?: string;
  /** The longest pause between reconnection attempts, in milliseconds; default 1000. */
  readonly maxReconnectDelayMs?: number;
}

/** A message listener of {@link RedisConnection.subscribe}. */
export type RedisMessageListener = (message: string) => void;

/**
 * One Redis server as the stores use it: every command bounded in time, reconnection in the
 * background, pub/sub on a second connection. Share one connection between the stores of a process.
 */
export interface RedisConnection {
  /** The time bound of every command, in milliseconds. */
  readonly timeoutMs: number;
  /** `host:port` without credentials, for messages. */
  readonly address: string;
  /**
   * Sends one command; resolves to its raw (RESP2) reply.
   * @throws StoreUnavailableError (`STORE_UNAVAILABLE`) when Redis is unreachable, answers an error
   *   or does not answer within `timeoutMs`; `details.store` and `details.operation` name the caller.
   */
  command(store: string, operation: string, args: readonly string[]): Promise<unknown>;
  /** Runs a Lua script (EVALSHA, loading it on `NOSCRIPT`); same errors as `command`. */
  script(
    store: string,
    operation: string,
    script: LuaScript,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown>;
  /**
   * Listens to a pub/sub channel on the subscriber connection (re-subscribed after a reconnection).
   * Resolves to a function that stops listening (at once, without waiting for Redis).
   * @throws StoreUnavailableError when the subscription is not confirmed within `timeoutMs`.
   */
  subscribe(store: string, channel: string, listener: RedisMessageListener): Promise<() => Promise<void>>;
  /** Closes both connections at once; pending commands fail. */
  close(): Promise<void>;
}

/** A Lua script and its SHA-1, computed once. @internal */
export class LuaScript {
  readonly source: string;
  readonly sha: string;
  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

/** The part of node-redis the stores use. */
interface RawClient {
  connect(): Promise<unknown>;
  destroy(): void;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  sendCommand(args: readonly string[], options?: { timeout?: number }): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  unsubscribe(channel: string, listener: (message: string) => void): Promise<void>;
}

const MAX_TIMEOUT_MS = 60_000;
const WHERE = 'createRedisConnection';

function addressOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigurationError(
      'createRedisConnection: "url" is not a URL; use redis://host:port or rediss://host:port.',
      {
        field: 'url',
      },
    );
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigurationError(
      `createRedisConnection: "url" must start with redis:// or rediss:// (TLS), not ${parsed.protocol}//.`,
      { field: 'url' },
    );
  }
  return `${parsed.protocol}//${parsed.host}`;
}

/**
 * Opens a {@link RedisConnection}. Returns at once: the connection is made (and remade after any
 * failure, with capped exponential back-off) in the background. A command sent while Redis is
 * unreachable waits at most `timeoutMs` for the connection and then fails with
 * `StoreUnavailableError` (it is dropped, never sent later). No restart is needed when Redis comes
 * back.
 * @throws ConfigurationError (`CONFIG_INVALID`) for a malformed `url` or option.
 */
export function createRedisConnection(options: RedisConnectionOptions): RedisConnection {
  if (typeof options?.url !== 'string') {
    throw new ConfigurationError('createRedisConnection: "url" is required (redis://host:port).', {
      field: 'url',
    });
  }
  const address = addressOf(options.url);
  const timeoutMs = checkMilliseconds(WHERE, 'timeoutMs', options.timeoutMs ?? 250, 1, MAX_TIMEOUT_MS);
  const maxDelay = checkMilliseconds(
    WHERE,
    'maxReconnectDelayMs',
    options.maxReconnectDelayMs ?? 1_000,
    10,
    MAX_TIMEOUT_MS,
  );
  const clientOptions = {
    url: options.url,
    name: options.name ?? 'ape',
    RESP: 2 as const,
    socket: {
      connectTimeout: Math.max(timeoutMs * 4, 1_000),
      keepAlive: true,
      reconnectStrategy: (retries: number) => Math.min(25 * 2 ** Math.min(retries, 10), maxDelay),
    },
  };
  const main = createClient(clientOptions) as unknown as RawClient;
  let subscriber: RawClient | undefined;
  let closed = false;
  const ignore = (): void => {};
  // Errors surface through the commands that fail; an unhandled 'error' event would crash the host.
  main.on('error', ignore);
  main.connect().catch(ignore);

  function unavailable(
    store: string,
    operation: string,
    reason: string,
    cause?: unknown,
  ): StoreUnavailableError {
    return new StoreUnavailableError(
      `${store}.${operation}: Redis at ${address} ${reason}; the guarded call is denied. Check that Redis is running and reachable; the store recovers on its own when it is.`,
      { store, operation, address, timeoutMs },
      cause === undefined ? undefined : { cause },
    );
  }

  function bounded<T>(store: string, operation: string, work: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(unavailable(store, operation, 'is closed (the connection was closed)'));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(unavailable(store, operation, `did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      let promise: Promise<T>;
      try {
        promise = work();
      } catch (error) {
        promise = Promise.reject(error);
      }
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(unavailable(store, operation, `failed (${messageOf(error)})`, error));
        },
      );
    });
  }

  function send(args: readonly string[]): Promise<unknown> {
    return main.sendCommand(args, { timeout: timeoutMs });
  }

  function getSubscriber(): RawClient {
    if (subscriber === undefined) {
      subscriber = createClient({
        ...clientOptions,
        name: `${clientOptions.name}-subscriber`,
      }) as unknown as RawClient;
      subscriber.on('error', ignore);
      subscriber.connect().catch(ignore);
    }
    return subscriber;
  }

  return {
    timeoutMs,
    address,
    command(store, operation, args) {
      return bounded(store, operation, () => send(args));
    },
    script(store, operation, script, keys, args) {
      const tail = [String(keys.length), ...keys, ...args];
      return bounded(store, operation, () =>
        send(['EVALSHA', script.sha, ...tail]).catch((error: unknown) => {
          if (!messageOf(error).startsWith('NOSCRIPT')) throw error;
          return send(['EVAL', script.source, ...tail]);
        }),
      );
    },
    async subscribe(store, channel, listener) {
      const client = getSubscriber();
      await bounded(store, 'subscribe', () => client.subscribe(channel, listener));
      // Unsubscribing is not awaited: a frozen server must not hold up the caller's cleanup.
      return async () => {
        client.unsubscribe(channel, listener).catch(ignore);
      };
    },
    async close() {
      closed = true;
      main.destroy();
      subscriber?.destroy();
    },
  };
}
