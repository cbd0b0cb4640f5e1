import type { TokenRecord, TokenStore } from '@ape/core';
import { InMemoryTokenStore } from '../in-memory-token-store.js';

/**
 * A `TokenStore` that keeps its records in an `InMemoryTokenStore` and remembers every record put
 * (the token ids a test must never find anywhere else). Not the store's own class, so a manager
 * treats it as one that may answer later.
 */
export function recordingStore(): { readonly store: TokenStore; readonly records: readonly TokenRecord[] } {
  const inner = new InMemoryTokenStore();
  const records: TokenRecord[] = [];
  const store: TokenStore = {
    put: (record) => {
      records.push(record);
      return inner.put(record);
    },
    take: (id) => inner.take(id),
    removeWhere: (filter) => inner.removeWhere(filter),
    purgeExpired: (now) => inner.purgeExpired(now),
    size: () => inner.size(),
  };
  return { store, records };
}
