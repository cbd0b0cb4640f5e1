/**
 * `@ape/authority`: single-use, unforgeable capability tokens bound to tenant, session, intent
 * version, plan hash, step index, action and arguments hash.
 */
export type { AuthorityManagerOptions } from './authority-manager.js';
export { AuthorityManager, DEFAULT_TOKEN_TTL_MS } from './authority-manager.js';
export { tokenFingerprint } from './fingerprint.js';
export { InMemoryTokenStore } from './in-memory-token-store.js';
