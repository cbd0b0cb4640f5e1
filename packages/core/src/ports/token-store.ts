import type { TokenBinding } from '../types.js';

/** What an authority keeps about one outstanding token. The `id` is the secret; never log it. */
export interface TokenRecord {
  readonly id: string;
  readonly fingerprint: string;
  readonly binding: TokenBinding;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/**
 * Where an authority keeps its outstanding tokens. The in-memory store of `@ape/authority` is the
 * default; a shared store (Redis, a database) can replace it to let several processes share tokens.
 *
 * Contract:
 * - Called only by the authority.
 * - `take` is atomic: of any number of concurrent `take(id)` calls for one stored record, exactly
 *   one gets it; the record is gone afterwards.
 * - Consumed, revoked and expired records are removed so memory stays bounded (`purgeExpired`).
 * - A throwing store makes the authority refuse (the step is denied).
 */
export interface TokenStore {
  put(record: TokenRecord): void | Promise<void>;
  /** Removes and returns the record, or `undefined` when absent. Atomic. */
  take(id: string): TokenRecord | undefined | Promise<TokenRecord | undefined>;
  /** Removes every record matching `filter`; resolves to the removed records. */
  removeWhere(filter: {
    readonly tenant: string;
    readonly session?: string;
  }): readonly TokenRecord[] | Promise<readonly TokenRecord[]>;
  /** Removes records whose `expiresAt` is at or before `now`; resolves to how many. */
  purgeExpired(now: number): number | Promise<number>;
  /** How many records are held. */
  size(): number | Promise<number>;
}
