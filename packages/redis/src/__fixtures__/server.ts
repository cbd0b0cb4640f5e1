import { afterAll, beforeAll } from 'vitest';
import { createRedisConnection, type RedisConnection } from '../connection.js';
import { startRedisServer, type TestRedisServer } from '../testing/redis-server.js';

/** One redis-server per test file, started before its tests and stopped after them. */
export function useRedisServer(): { readonly server: () => TestRedisServer } {
  let server: TestRedisServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    server: () => {
      if (server === undefined) throw new Error('the test Redis server is not running');
      return server;
    },
  };
}

let prefixCounter = 0;

/** A key prefix no other test of this process uses, so tests sharing a server never see each other's keys. */
export function uniquePrefix(): string {
  prefixCounter += 1;
  return `test${process.pid}-${prefixCounter}:`;
}

/** A connection with a generous bound for tests that are not about time bounds. */
export function connect(url: string, timeoutMs = 2_000): RedisConnection {
  return createRedisConnection({ url, timeoutMs });
}
