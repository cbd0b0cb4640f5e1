/**
 * Test helpers for `@ape/redis`: a throwaway `redis-server` per test file, and a proxy that counts
 * the commands (round trips) a client sends. Import from `@ape/redis/testing`.
 */
export { type RedisCommandCounter, startRedisCommandCounter } from './command-counter.js';
export { type StartRedisServerOptions, startRedisServer, type TestRedisServer } from './redis-server.js';
