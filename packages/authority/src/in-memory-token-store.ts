import type { TokenRecord, TokenStore } from '@ape/core';

/**
 * The default {@link TokenStore}: a `Map` in this process. `take` is atomic because it runs
 * synchronously (no other caller can interleave between the read and the delete). An index by
 * tenant and session keeps `removeWhere` proportional to the tokens it removes, and a lower bound of
 * the earliest expiry lets `purgeExpired` return at once while nothing can have expired.
 */
/**
 * @internal How many session sets the index holds (live and emptied): what bounds its memory.
 * For tests; not exported from the package.
 */
export let indexedSessionSets: (store: InMemoryTokenStore) => number;

export class InMemoryTokenStore implements TokenStore {
  readonly #records = new Map<string, TokenRecord>();
  readonly #bySession = new Map<string, Map<string, Set<string>>>();
  /** No record expires before this (a lower bound: removals do not raise it, a purge scan does). */
  #earliestExpiry = Number.POSITIVE_INFINITY;
  /**
   * Index entries whose set emptied. They are kept for reuse (a session usually holds one token at a
   * time, so deleting and re-creating its set on every token was most of the store's cost) and
   * dropped all at once when more than {@link MAX_EMPTY_SESSIONS} have gathered: memory stays bounded.
   */
  #emptySessions = 0;

  static {
    indexedSessionSets = (store) => {
      let count = 0;
      for (const sessions of store.#bySession.values()) count += sessions.size;
      return count;
    };
  }

  put(record: TokenRecord): void {
    // A record put again under the same id replaces the old one everywhere, index included: a stale
    // index entry would let another session's (or tenant's) removal take the new record.
    const previous = this.#records.get(record.id);
    if (previous !== undefined) this.#delete(previous);
    this.#records.set(record.id, record);
    if (record.expiresAt < this.#earliestExpiry) this.#earliestExpiry = record.expiresAt;
    let sessions = this.#bySession.get(record.binding.tenant);
    if (sessions === undefined) {
      sessions = new Map();
      this.#bySession.set(record.binding.tenant, sessions);
    }
    let ids = sessions.get(record.binding.session);
    if (ids === undefined) {
      ids = new Set();
      sessions.set(record.binding.session, ids);
    } else if (ids.size === 0) {
      this.#emptySessions--;
    }
    ids.add(record.id);
  }

  take(id: string): TokenRecord | undefined {
    const record = this.#records.get(id);
    if (record === undefined) return undefined;
    this.#delete(record);
    return record;
  }

  removeWhere(filter: { readonly tenant: string; readonly session?: string }): readonly TokenRecord[] {
    const sessions = this.#bySession.get(filter.tenant);
    if (sessions === undefined) return [];
    const idSets = filter.session === undefined ? [...sessions.values()] : [sessions.get(filter.session)];
    const removed: TokenRecord[] = [];
    for (const ids of idSets) {
      if (ids === undefined) continue;
      for (const id of [...ids]) {
        const record = this.take(id);
        if (record !== undefined) removed.push(record);
      }
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
    const sessions = this.#bySession.get(record.binding.tenant);
    const ids = sessions?.get(record.binding.session);
    if (sessions === undefined || ids === undefined) return;
    if (ids.delete(record.id) && ids.size === 0 && ++this.#emptySessions > MAX_EMPTY_SESSIONS) {
      this.#dropEmptySessions();
    }
  }

  /** Removes every emptied session set, and every tenant left without one. */
  #dropEmptySessions(): void {
    for (const [tenant, sessions] of this.#bySession) {
      for (const [session, ids] of sessions) if (ids.size === 0) sessions.delete(session);
      if (sessions.size === 0) this.#bySession.delete(tenant);
    }
    this.#emptySessions = 0;
  }
}

/** How many emptied session sets the index keeps before it drops them all. */
const MAX_EMPTY_SESSIONS = 256;
