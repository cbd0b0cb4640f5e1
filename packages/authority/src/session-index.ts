/** How many emptied session sets an index keeps before it drops them all. */
export const MAX_EMPTY_SESSIONS = 256;

/**
 * Items (token ids, or tokens) indexed by tenant and session, so that removing a session's or a
 * tenant's items costs what it removes, not what the index holds. Not exported from the package.
 *
 * A session usually holds one token at a time, so deleting its set when it empties and creating it
 * again on the next token was most of the cost: emptied sets are kept for reuse, and dropped all at
 * once when more than {@link MAX_EMPTY_SESSIONS} have gathered, so memory stays bounded.
 */
export class SessionIndex<T> {
  readonly #byTenant = new Map<string, Map<string, Set<T>>>();
  /** Emptied session sets still held. */
  #emptySets = 0;
  #size = 0;
  /**
   * The session set looked up last, and its keys: a session's token is usually added and deleted
   * in turn, and two `Map` lookups per call were a tenth of issue + consume. Forgotten whenever a
   * set leaves the index, so it never points at a set the index no longer holds.
   */
  #lastTenant: string | undefined;
  #lastSession: string | undefined;
  #lastItems: Set<T> | undefined;

  /** How many items the index holds. */
  get size(): number {
    return this.#size;
  }

  /** How many session sets the index holds, live and emptied: what bounds its memory (for tests). */
  get setCount(): number {
    let count = 0;
    for (const sessions of this.#byTenant.values()) count += sessions.size;
    return count;
  }

  add(tenant: string, session: string, item: T): void {
    let items = this.#setOf(tenant, session);
    if (items === undefined) {
      let sessions = this.#byTenant.get(tenant);
      if (sessions === undefined) {
        sessions = new Map();
        this.#byTenant.set(tenant, sessions);
      }
      items = new Set();
      sessions.set(session, items);
      this.#remember(tenant, session, items);
    } else if (items.size === 0) {
      this.#emptySets--;
    }
    const before = items.size;
    items.add(item);
    this.#size += items.size - before;
  }

  /** Removes `item` from its session's set; `false` when it was not there. */
  delete(tenant: string, session: string, item: T): boolean {
    const items = this.#setOf(tenant, session);
    if (items === undefined || !items.delete(item)) return false;
    this.#size--;
    if (items.size === 0 && ++this.#emptySets > MAX_EMPTY_SESSIONS) this.#dropEmptySets();
    return true;
  }

  /** Removes and returns every item of the tenant, or of one of its sessions, in insertion order. */
  removeAll(tenant: string, session?: string): T[] {
    const sessions = this.#byTenant.get(tenant);
    if (sessions === undefined) return [];
    const sets = session === undefined ? [...sessions.values()] : [sessions.get(session)];
    const removed: T[] = [];
    for (const items of sets) {
      if (items === undefined || items.size === 0) continue;
      for (const item of items) removed.push(item);
      this.#size -= items.size;
      items.clear();
      this.#emptySets++;
    }
    if (this.#emptySets > MAX_EMPTY_SESSIONS) this.#dropEmptySets();
    return removed;
  }

  /**
   * Visits every item once and removes those `remove` answers `true` for; returns how many it
   * removed. `remove` must not change the index.
   */
  removeWhere(remove: (item: T) => boolean): number {
    let removed = 0;
    for (const sessions of this.#byTenant.values()) {
      for (const items of sessions.values()) {
        if (items.size === 0) continue;
        // Deleting the current entry while iterating a Set is well defined: iteration continues.
        for (const item of items) {
          if (!remove(item)) continue;
          items.delete(item);
          removed++;
        }
        if (items.size === 0) this.#emptySets++;
      }
    }
    this.#size -= removed;
    if (this.#emptySets > MAX_EMPTY_SESSIONS) this.#dropEmptySets();
    return removed;
  }

  /** The set of one session, if the index holds one (emptied or not). */
  #setOf(tenant: string, session: string): Set<T> | undefined {
    if (session === this.#lastSession && tenant === this.#lastTenant) return this.#lastItems;
    const items = this.#byTenant.get(tenant)?.get(session);
    if (items !== undefined) this.#remember(tenant, session, items);
    return items;
  }

  #remember(tenant: string, session: string, items: Set<T>): void {
    this.#lastTenant = tenant;
    this.#lastSession = session;
    this.#lastItems = items;
  }

  /** Removes every emptied session set, and every tenant left without one. */
  #dropEmptySets(): void {
    this.#lastTenant = undefined;
    this.#lastSession = undefined;
    this.#lastItems = undefined;
    for (const [tenant, sessions] of this.#byTenant) {
      for (const [session, items] of sessions) if (items.size === 0) sessions.delete(session);
      if (sessions.size === 0) this.#byTenant.delete(tenant);
    }
    this.#emptySets = 0;
  }
}
