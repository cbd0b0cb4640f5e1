import type { TokenRecord, TokenStore } from '@ape/core';
import { SessionIndex } from './session-index.js';

/**
 * @internal How many session sets the index holds (live and emptied): what bounds its memory.
 * For tests; not exported from the package.
 */
export let indexedSessionSets: (store: InMemoryTokenStore) => number;

/**
 * A {@link TokenStore} kept in a `Map` in this process, for callers that want the store port's
 * semantics (records by id) without a shared store. `take` is atomic because it runs synchronously
 * (no other caller can interleave between the read and the delete). An index by tenant and session
 * keeps `removeWhere` proportional to the tokens it removes, and a lower bound of the earliest
 * expiry lets `purgeExpired` return at once while nothing can have expired.
 *
 * An `AuthorityManager` given no store keeps its tokens itself, without records or ids; this store
 * is what it uses when you pass one.
 */
export class InMemoryTokenStore implements TokenStore {
  readonly #records = new Map<string, TokenRecord>();
  readonly #index = new SessionIndex<string>();
  /** No record expires before this (a lower bound: removals do not raise it, a purge scan does). */
  #earliestExpiry = Number.POSITIVE_INFINITY;

  static {
    indexedSessionSets = (store) => store.#index.setCount;
  }

  put(record: TokenRecord): void {
    // A record put again under the same id replaces the old one everywhere, index included: a stale
    // index entry would let another session's (or tenant's) removal take the new record.
    const previous = this.#records.get(record.id);
    if (previous !== undefined) this.#delete(previous);
    this.#records.set(record.id, record);
    if (record.expiresAt < this.#earliestExpiry) this.#earliestExpiry = record.expiresAt;
    this.#index.add(record.binding.tenant, record.binding.session, record.id);
  }

  take(id: string): TokenRecord | undefined {
    const record = this.#records.get(id);
    if (record === undefined) return undefined;
    this.#delete(record);
    return record;
  }

  removeWhere(filter: { readonly tenant: string; readonly session?: string }): readonly TokenRecord[] {
    const removed: TokenRecord[] = [];
    for (const id of this.#index.removeAll(filter.tenant, filter.session)) {
      const record = this.#records.get(id);
      if (record === undefined) continue;
      this.#records.delete(id);
      removed.push(record);
    }
    return removed;
  }

  purgeExpired(now: number): number {
    if (this.#records.size === 0) {
      this.#earliestExpiry = Number.POSITIVE_INFINITY;
      return 0;
    }
    if (now < this.#earliestExpiry) return 0;
    let purged = 0;
    let earliest = Number.POSITIVE_INFINITY;
    // Deleting the current entry while iterating a Map is well defined: iteration continues.
    for (const record of this.#records.values()) {
      if (record.expiresAt <= now) {
        this.#delete(record);
        purged++;
      } else if (record.expiresAt < earliest) {
        earliest = record.expiresAt;
      }
    }
    this.#earliestExpiry = earliest;
    return purged;
  }

  size(): number {
    return this.#records.size;
  }

  #delete(record: TokenRecord): void {
    this.#records.delete(record.id);
    this.#index.delete(record.binding.tenant, record.binding.session, record.id);
  }
}
