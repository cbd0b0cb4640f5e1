/**
 * Shared state for APE fleets on Redis: `RedisUsageStore` (budgets and previous actions),
 * `RedisApprovalQueue` (escalations answered from any process) and `RedisRevocationFeed` (the
 * kill switch), over one bounded `RedisConnection`. Authority tokens never come here: they stay in
 * the process that runs the tool.
 *
 * @packageDocumentation
 */
export type { RedisConnection, RedisConnectionOptions, RedisMessageListener } from './connection.js';
export { createRedisConnection, LuaScript } from './connection.js';
export { DEFAULT_KEY_PREFIX } from './keys.js';
export type { RedisUsageStoreOptions } from './usage-store.js';
export { RedisUsageStore } from './usage-store.js';
export type { RedisApprovalQueueOptions } from './approval-queue.js';
export { RedisApprovalQueue } from './approval-queue.js';
export type { RedisRevocationFeedOptions } from './revocation-feed.js';
export { RedisRevocationFeed } from './revocation-feed.js';
