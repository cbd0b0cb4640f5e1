/**
 * Test helpers for `@ape/redis`: a throwaway `redis-server` per test file. Import from
 * `@ape/redis/testing`.
 */
export { type StartRedisServerOptions, startRedisServer, type TestRedisServer } from './redis-server.js';
