import { performance } from 'node:perf_hooks';
import type {
  Clock,
  Revocation,
  RevocationFeed,
  RevocationStatus,
  RevocationSubject,
  RevocationTarget,
} from '@ape/core';
import {
  ConfigurationError,
  checkRevocationDetails,
  checkRevocationTarget,
  findRevocation,
  revocationTargetKey,
  StoreUnavailableError,
  systemClock,
} from '@ape/core';
import type { RedisConnection } from './connection.js';
import { LuaScript } from './connection.js';
import { checkMilliseconds, checkPrefix, tenantSegment } from './keys.js';
import { decodeRevocation, encodeRecord } from './records.js';

/** Options of {@link RedisRevocationFeed}. */
export interface RedisRevocationFeedOptions {
  /** The connection (shared with the other stores of the process). */
  readonly connection: RedisConnection;
  /** Prepended to every key and channel; default `ape:`. */
  readonly prefix?: string;
  /**
   * The tenants whose revocations this process keeps in its local view (the tenants it serves).
   * `check` answers `stale` for any other tenant. Empty (the default) for a process that only
   * revokes, such as `ape revoke`.
   */
  readonly tenants?: readonly string[];
  /** How often the view is re-read, in milliseconds, besides pub/sub wake-ups; default 100. */
  readonly refreshMs?: number;
  /**
   * How old the view may be before `check` fails closed (`stale`), in milliseconds; default 1000
   * (or `refreshMs` + twice the connection's `timeoutMs`, when that is more). Must exceed
   * `refreshMs` plus the connection's `timeoutMs`.
   */
  readonly maxStalenessMs?: number;
  /** The clock for `revokedAt`; default the system clock. */
  readonly clock?: Clock;
}

const STORE = 'RedisRevocationFeed';

// KEYS: the tenants' hashes. Returns each hash as a flat field/value array.
const READ = new LuaScript(`
local result = {}
for i = 1, #KEYS do result[i] = redis.call('HGETALL', KEYS[i]) end
return result
`);

// KEYS: the tenant's hash. ARGV: field, value ('' to delete), channel. Returns 1 when it changed something.
const WRITE = new LuaScript(`
local changed
if ARGV[2] == '' then changed = redis.call('HDEL', KEYS[1], ARGV[1]) else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); changed = 1 end
redis.call('PUBLISH', ARGV[3], ARGV[1])
return changed
`);

/**
 * The {@link RevocationFeed} of a fleet, on Redis: revocations of a tenant are a hash
 * `<prefix>revocations:<tenant>`, changes are announced on `<prefix>revocations-changed:<tenant>`.
 * Each process keeps a local view of the tenants it serves, re-read every `refreshMs` (one round
 * trip for all of them) and at once on an announcement. `check` reads only that view (no round
 * trip) and answers `stale` when the last successful read began more than `maxStalenessMs` ago, so
 * a revocation reaches every process within that bound or the process stops (fail closed). Recovers
 * on its own when Redis returns. Call `close` to stop the refresh timer.
 */
export class RedisRevocationFeed implements RevocationFeed {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #tenants: ReadonlySet<string>;
  readonly #refreshMs: number;
  readonly #maxStalenessMs: number;
  #view = new Map<string, Revocation>();
  #syncedAt = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #syncing: Promise<void> | undefined;
  #again = false;
  #closed = false;
  #unsubscribers: (() => Promise<void>)[] | undefined;
  readonly #lookup = (key: string): Revocation | undefined => this.#view.get(key);

  /** Starts reading the view in the background. @throws ConfigurationError (`CONFIG_INVALID`). */
  constructor(options: RedisRevocationFeedOptions) {
    this.#connection = options.connection;
    this.#prefix = checkPrefix(STORE, options.prefix);
    this.#clock = options.clock ?? systemClock;
    const tenants = options.tenants ?? [];
    if (!Array.isArray(tenants) || tenants.some((tenant) => typeof tenant !== 'string' || tenant === '')) {
      throw new ConfigurationError(`${STORE}: "tenants" must be an array of non-empty tenant ids.`, {
        field: 'tenants',
      });
    }
    this.#tenants = new Set(tenants);
    this.#refreshMs = checkMilliseconds(STORE, 'refreshMs', options.refreshMs ?? 100, 10, 60_000);
    this.#maxStalenessMs = checkMilliseconds(
      STORE,
      'maxStalenessMs',
      options.maxStalenessMs ?? Math.max(1_000, this.#refreshMs + 2 * this.#connection.timeoutMs),
      1,
      600_000,
    );
    if (this.#tenants.size > 0 && this.#maxStalenessMs <= this.#refreshMs + this.#connection.timeoutMs) {
      throw new ConfigurationError(
        `${STORE}: "maxStalenessMs" (${this.#maxStalenessMs}) must exceed "refreshMs" (${this.#refreshMs}) plus the connection's timeoutMs (${this.#connection.timeoutMs}), or the view would be stale between two reads.`,
        { field: 'maxStalenessMs' },
      );
    }
    if (this.#tenants.size > 0) this.#schedule(0);
  }

  /**
   * Resolves once the view has been read (at once if it is fresh), retrying for up to `withinMs`
   * (default 5000) while Redis is still being reached.
   * @throws StoreUnavailableError from the last attempt when no read succeeds in time.
   */
  async ready(withinMs = 5_000): Promise<void> {
    const deadline = performance.now() + withinMs;
    for (;;) {
      if (this.#fresh()) return;
      try {
        await this.#sync(true);
        return;
      } catch (error) {
        if (performance.now() >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** Answers from the local view; see {@link RevocationFeed.check}. Never throws. */
  check(subject: RevocationSubject): RevocationStatus {
    const tenant = subject?.tenant;
    if (typeof tenant !== 'string' || !this.#tenants.has(tenant)) {
      return Object.freeze({
        ok: false,
        reason: 'stale',
        ageMs: Number.POSITIVE_INFINITY,
        boundMs: this.#maxStalenessMs,
      });
    }
    const ageMs = performance.now() - this.#syncedAt;
    if (!(ageMs <= this.#maxStalenessMs)) {
      return Object.freeze({ ok: false, reason: 'stale', ageMs, boundMs: this.#maxStalenessMs });
    }
    const revocation = findRevocation(this.#lookup, subject);
    return revocation === undefined ? OK : Object.freeze({ ok: false, reason: 'revoked', revocation });
  }

  /**
   * Stores the revocation, announces it, and applies it to this view at once. A revoke that fails
   * with `StoreUnavailableError` may still take effect (the command may have reached Redis before it
   * froze); retrying it is harmless.
   */
  async revoke(
    target: RevocationTarget,
    details: { readonly reason: string; readonly revokedBy: string },
  ): Promise<void> {
    const checked = checkRevocationTarget(`${STORE}.revoke`, target);
    const { reason, revokedBy } = checkRevocationDetails(`${STORE}.revoke`, details);
    const revocation: Revocation = Object.freeze({
      target: checked,
      reason,
      revokedBy,
      revokedAt: this.#clock.now(),
    });
    const key = revocationTargetKey(checked);
    await this.#write('revoke', checked.tenant, key, encodeRecord(revocation));
    if (this.#tenants.has(checked.tenant)) this.#view.set(key, revocation);
  }

  /** Removes the revocation of exactly `target`, announces it, and applies it to this view. */
  async lift(target: RevocationTarget): Promise<boolean> {
    const checked = checkRevocationTarget(`${STORE}.lift`, target);
    const key = revocationTargetKey(checked);
    const changed = await this.#write('lift', checked.tenant, key, '');
    this.#view.delete(key);
    return changed;
  }

  /** Reads the tenant's revocations from Redis. */
  async list(tenant: string): Promise<readonly Revocation[]> {
    const [entries] = await this.#read('list', [String(tenant)]);
    return entries ?? [];
  }

  /** Stops the refresh timer and the subscriptions; `check` then goes stale. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await Promise.all((this.#unsubscribers ?? []).map((unsubscribe) => unsubscribe()));
  }

  #fresh(): boolean {
    return performance.now() - this.#syncedAt <= this.#maxStalenessMs;
  }

  #schedule(delay: number): void {
    if (this.#closed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sync(false).catch(() => {});
    }, delay);
    this.#timer.unref?.();
  }

  /** One read of every watched tenant; coalesces concurrent triggers into one more read. */
  async #sync(rethrow: boolean): Promise<void> {
    if (this.#syncing !== undefined) {
      this.#again = true;
      return this.#syncing;
    }
    const run = async (): Promise<void> => {
      try {
        do {
          this.#again = false;
          const startedAt = performance.now();
          const tenants = [...this.#tenants];
          const lists = await this.#read('check', tenants);
          const view = new Map<string, Revocation>();
          for (const list of lists)
            for (const revocation of list) view.set(revocationTargetKey(revocation.target), revocation);
          this.#view = view;
          this.#syncedAt = startedAt;
          if (this.#unsubscribers === undefined) await this.#subscribe(tenants);
        } while (this.#again && !this.#closed);
      } finally {
        this.#syncing = undefined;
        this.#schedule(this.#refreshMs);
      }
    };
    this.#syncing = run();
    if (rethrow) return this.#syncing;
    return this.#syncing.catch(() => {});
  }

  async #subscribe(tenants: readonly string[]): Promise<void> {
    const unsubscribers: (() => Promise<void>)[] = [];
    try {
      for (const tenant of tenants) {
        unsubscribers.push(
          await this.#connection.subscribe(STORE, this.#channel(tenant), () => {
            this.#sync(false).catch(() => {});
          }),
        );
      }
      this.#unsubscribers = unsubscribers;
    } catch {
      // Pub/sub only shortens the delay; the periodic read keeps the bound. Retried on the next read.
      await Promise.all(unsubscribers.map((unsubscribe) => unsubscribe()));
    }
  }

  async #read(operation: string, tenants: readonly string[]): Promise<Revocation[][]> {
    if (tenants.length === 0) return [];
    const reply = await this.#connection.script(
      STORE,
      operation,
      READ,
      tenants.map((tenant) => this.#hashKey(tenant)),
      [],
    );
    if (!Array.isArray(reply) || reply.length !== tenants.length) throw this.#malformedReply(operation);
    return reply.map((flat: unknown, index) => {
      if (!Array.isArray(flat) || flat.length % 2 !== 0) throw this.#malformedReply(operation);
      const revocations: Revocation[] = [];
      for (let field = 0; field < flat.length; field += 2) {
        const revocation = decodeRevocation(STORE, operation, flat[field + 1]);
        if (
          revocation.target.tenant !== tenants[index] ||
          revocationTargetKey(revocation.target) !== flat[field]
        ) {
          throw this.#malformedReply(operation);
        }
        revocations.push(revocation);
      }
      return revocations;
    });
  }

  async #write(operation: string, tenant: string, field: string, value: string): Promise<boolean> {
    const reply = await this.#connection.script(
      STORE,
      operation,
      WRITE,
      [this.#hashKey(tenant)],
      [field, value, this.#channel(tenant)],
    );
    if (reply !== 0 && reply !== 1) throw this.#malformedReply(operation);
    return reply === 1;
  }

  #hashKey(tenant: string): string {
    return `${this.#prefix}revocations:${tenantSegment(tenant)}`;
  }

  #channel(tenant: string): string {
    return `${this.#prefix}revocations-changed:${tenantSegment(tenant)}`;
  }

  #malformedReply(operation: string): StoreUnavailableError {
    return new StoreUnavailableError(
      `${STORE}.${operation}: Redis answered a malformed reply; the view is not updated and goes stale (denied).`,
      { store: STORE, operation },
    );
  }
}

const OK: RevocationStatus = Object.freeze({ ok: true });
