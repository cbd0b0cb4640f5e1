import { randomFillSync } from 'node:crypto';
import {
  type ApeError,
  ConfigurationError,
  type Authority,
  AuthorityExpiredError,
  ClockError,
  type AuthorityToken,
  type Clock,
  type RevocationReason,
  systemClock,
  TenantIsolationError,
  type TOKEN_BINDING_FIELDS,
  type TokenBinding,
  type TokenRecord,
  type TokenStore,
  UnauthorizedActionError,
} from '@ape/core';
import { tokenFingerprint } from './fingerprint.js';
import { InMemoryTokenStore } from './in-memory-token-store.js';

/** Options of {@link AuthorityManager}. */
export interface AuthorityManagerOptions {
  /** The one tenant this manager issues tokens for. */
  readonly tenant: string;
  /** How long a token stays valid after issue, in milliseconds (default 60 000). */
  readonly ttlMs?: number;
  /** The time source for issue and expiry (default: the system clock). */
  readonly clock?: Clock;
  /** Where outstanding tokens are kept (default: a new {@link InMemoryTokenStore}). */
  readonly store?: TokenStore;
}

/** The default token lifetime: 60 seconds. */
export const DEFAULT_TOKEN_TTL_MS = 60_000;

/** Expired records are purged from the store once every this many issues (amortised, bounded memory). */
const PURGE_EVERY_ISSUES = 64;
const TOKEN_ID_BYTES = 32;
/**
 * Random bytes drawn from the CSPRNG at once and handed out 32 at a time (2,048 token ids): a
 * `randomFillSync` call costs about 4 µs before its first byte, 13 µs for all 64 KiB.
 */
const RANDOM_POOL_BYTES = 65_536;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

type TokenStatus = 'outstanding' | 'consumed' | 'voided' | 'revoked' | 'expired';

/** What the issuing manager remembers about one of its token objects; never reachable from the token. */
interface TokenEntry {
  readonly issuer: AuthorityManager;
  readonly id: string;
  readonly tenant: string;
  readonly expiresAt: number;
  status: TokenStatus;
  revocationReason?: RevocationReason;
}

/** Pooled CSPRNG output: bytes before `randomPoolOffset` were handed out (and zeroed) and are never reused. */
const randomPool = Buffer.alloc(RANDOM_POOL_BYTES);
let randomPoolOffset = RANDOM_POOL_BYTES;

/**
 * A fresh 256-bit token id (64 hex characters) from `crypto.randomFillSync`, drawn from a pool so the
 * CSPRNG is called once per 2,048 ids. Each slice is read once and zeroed; the pool is refilled when
 * exhausted, so no byte is ever used twice.
 */
function nextTokenId(): string {
  if (randomPoolOffset + TOKEN_ID_BYTES > RANDOM_POOL_BYTES) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const start = randomPoolOffset;
  randomPoolOffset = start + TOKEN_ID_BYTES;
  const id = randomPool.toString('hex', start, randomPoolOffset);
  randomPool.fill(0, start, randomPoolOffset);
  return id;
}

/** Module-private: only this file can make a token (`new token.constructor(...)` is refused). */
const MINT = Symbol('ape.authority.mint');

/**
 * The manager's bookkeeping of a token, reachable only through {@link entryOf}: a token carries it
 * in a private field, which copies, clones, proxies and JSON round trips do not have.
 */
let entryOf: (token: unknown) => TokenEntry | undefined;

/** The opaque handle handed out by {@link AuthorityManager.issue}. It holds no secret. */
class IssuedToken implements AuthorityToken {
  readonly fingerprint: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly #entry: TokenEntry;

  static {
    entryOf = (token) =>
      typeof token === 'object' && token !== null && #entry in token ? token.#entry : undefined;
  }

  constructor(mint: symbol, entry: TokenEntry, fingerprint: string, issuedAt: number) {
    if (mint !== MINT) throw new TypeError('Authority tokens are issued by AuthorityManager.issue only.');
    this.#entry = entry;
    this.fingerprint = fingerprint;
    this.issuedAt = issuedAt;
    this.expiresAt = entry.expiresAt;
    Object.freeze(this);
  }

  toJSON(): { readonly token: 'redacted'; readonly fingerprint: string } {
    return { token: 'redacted', fingerprint: this.fingerprint };
  }

  toString(): string {
    return `AuthorityToken(${this.fingerprint}, redacted)`;
  }

  [INSPECT](): string {
    return this.toString();
  }
}
Object.freeze(IssuedToken.prototype);
Object.freeze(IssuedToken);

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}

/**
 * The answer of an operation run against a store known to be synchronous. A promise here means the
 * store broke that promise: refused (fail closed) rather than handed out as if it were the answer.
 */
function settledNow<T>(value: T | Promise<T>): T {
  if (isThenable(value)) {
    value.then(undefined, () => undefined);
    throw new Error('the token store answered with a promise, not at once');
  }
  return value;
}

/**
 * Issues, checks and revokes single-use authority tokens for one tenant; implements core's
 * `Authority` port.
 *
 * - Token ids are 256 bits from the CSPRNG (`crypto.randomFillSync`, pooled: each byte is used once);
 *   the token object is frozen and carries only a
 *   fingerprint. Only the very objects this manager issued are recognised.
 * - `consume` takes the record out of the store first (atomic, so of concurrent callers exactly one
 *   gets it), then checks expiry and every binding field. A token presented with a wrong binding is
 *   therefore void afterwards: a mismatch is treated as an attack, not a typo.
 * - Consumed, revoked and expired records leave the store; expired ones are purged every 64
 *   issues.
 */
export class AuthorityManager implements Authority {
  /** The tenant this manager serves. */
  readonly tenant: string;
  /** The token lifetime in milliseconds. */
  readonly ttlMs: number;
  readonly #clock: Clock;
  readonly #store: TokenStore;
  /** Whether the store is the default {@link InMemoryTokenStore}, whose answers are never promises. */
  readonly #synchronous: boolean;
  /** Outstanding entries by id, so revocations by session can be explained on a later consume. */
  readonly #outstanding = new Map<string, TokenEntry>();
  #issuesSincePurge = 0;
  /** A lower bound of the earliest `expiresAt` in `#outstanding`: no entry can have expired before it. */
  #earliestExpiry = Number.POSITIVE_INFINITY;

  /** @throws ConfigurationError (`CONFIG_INVALID`) when the tenant is empty or `ttlMs` is not a positive finite number. */
  constructor(options: AuthorityManagerOptions) {
    if (typeof options?.tenant !== 'string' || options.tenant.length === 0) {
      throw new ConfigurationError('AuthorityManager: `tenant` must be a non-empty string.', {
        field: 'tenant',
      });
    }
    const ttlMs = options.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new ConfigurationError('AuthorityManager: `ttlMs` must be a positive number of milliseconds.', {
        field: 'ttlMs',
      });
    }
    this.tenant = options.tenant;
    this.ttlMs = ttlMs;
    this.#clock = options.clock ?? systemClock;
    this.#store = options.store ?? new InMemoryTokenStore();
    // Only the default store's class is known to answer at once; a subclass or another store may not.
    this.#synchronous = Object.getPrototypeOf(this.#store) === InMemoryTokenStore.prototype;
  }

  /**
   * Issues a token bound to `binding`, valid for `ttlMs`.
   * @throws TenantIsolationError (`TENANT_MISMATCH`) when `binding.tenant` is not this manager's tenant.
   * @throws UnauthorizedActionError (`UNAUTHORIZED_ACTION`) when a binding field is missing or malformed (`details.field`).
   * @throws ClockError (`CLOCK_INVALID`) when the clock's time is not a finite number; no token is issued.
   */
  async issue(binding: TokenBinding): Promise<AuthorityToken> {
    return this.#issue(binding);
  }

  /**
   * {@link issue} answered synchronously: the token, or `undefined` when this manager's store is
   * not the default {@link InMemoryTokenStore} (a store that may answer later; nothing is done then,
   * use `issue`). Same checks, same errors, thrown. The runtime prefers it (no promise per token).
   */
  issueSync(binding: TokenBinding): AuthorityToken | undefined {
    if (!this.#synchronous) return undefined;
    return settledNow(this.#issue(binding));
  }

  /**
   * Consumes `token` for the call described by `binding`: succeeds once, then never again.
   * @throws UnauthorizedActionError (`UNAUTHORIZED_ACTION`) for an unknown, copied, forged or foreign
   *   token (`details.field: 'token'`), a token already used, revoked or voided, or a binding field that
   *   differs (`details.field` names it).
   * @throws TenantIsolationError (`TENANT_MISMATCH`) when the token or `binding` belongs to another
   *   tenant; the token is revoked at its issuer.
   * @throws AuthorityExpiredError (`AUTHORITY_EXPIRED`) when the token's lifetime is over.
   * @throws ClockError (`CLOCK_INVALID`) when the clock's time is not a finite number; the token is
   *   left untouched and the call must not run.
   */
  async consume(token: AuthorityToken, binding: TokenBinding): Promise<void> {
    return this.#consume(token, binding);
  }

  /**
   * {@link consume} answered synchronously: `true` once the token is consumed; `false` when this
   * manager's store is not the default {@link InMemoryTokenStore} (nothing is done then, use
   * `consume`). Same checks, same errors, thrown.
   */
  consumeSync(token: AuthorityToken, binding: TokenBinding): boolean {
    if (!this.#synchronous) return false;
    settledNow(this.#consume(token, binding));
    return true;
  }

  /**
   * The one implementation of `issue`: synchronous while the store answers synchronously (always,
   * with the default store), a promise from the first store answer that is one.
   */
  #issue(binding: TokenBinding): AuthorityToken | Promise<AuthorityToken> {
    const frozenBinding = checkBinding(binding);
    if (frozenBinding.tenant !== this.tenant) {
      throw new TenantIsolationError(
        `Cannot issue a token for tenant "${frozenBinding.tenant}": this authority serves tenant "${this.tenant}".`,
        { field: 'tenant' },
      );
    }
    const now = this.#now('issue');
    if (++this.#issuesSincePurge >= PURGE_EVERY_ISSUES) {
      this.#issuesSincePurge = 0;
      const purged = this.#purgeExpired();
      if (isThenable(purged)) return purged.then(() => this.#put(frozenBinding, now));
    }
    return this.#put(frozenBinding, now);
  }

  /** Stores a new record for `binding` and mints its token once the store has it. */
  #put(binding: TokenBinding, now: number): AuthorityToken | Promise<AuthorityToken> {
    const id = nextTokenId();
    const fingerprint = tokenFingerprint(id);
    const expiresAt = now + this.ttlMs;
    const record: TokenRecord = Object.freeze({ id, fingerprint, binding, issuedAt: now, expiresAt });
    // A synchronous store (the default) is not awaited: no microtask hop per token.
    const stored = this.#store.put(record);
    if (isThenable(stored)) return stored.then(() => this.#mint(id, fingerprint, now, expiresAt));
    return this.#mint(id, fingerprint, now, expiresAt);
  }

  #mint(id: string, fingerprint: string, now: number, expiresAt: number): AuthorityToken {
    const entry: TokenEntry = { issuer: this, id, tenant: this.tenant, expiresAt, status: 'outstanding' };
    const token = new IssuedToken(MINT, entry, fingerprint, now);
    this.#outstanding.set(id, entry);
    if (expiresAt < this.#earliestExpiry) this.#earliestExpiry = expiresAt;
    return token;
  }

  /** The one implementation of `consume`, synchronous while the store answers synchronously. */
  #consume(token: AuthorityToken, binding: TokenBinding): void | Promise<void> {
    const entry = this.#entryOf(token);
    if (binding?.tenant !== this.tenant) {
      const mismatch = new TenantIsolationError(
        `Token ${token.fingerprint} was presented for another tenant; it is revoked.`,
        { field: 'tenant', fingerprint: token.fingerprint },
      );
      const revoked = this.#revokeEntry(entry, 'tenant_mismatch');
      if (isThenable(revoked)) {
        return revoked.then(() => {
          throw mismatch;
        });
      }
      throw mismatch;
    }
    // Read (and check) the clock before taking the record: a broken clock changes no state.
    const now = this.#now('consume');
    const taken = this.#store.take(entry.id);
    if (isThenable(taken)) return taken.then((record) => this.#spend(entry, token, binding, record, now));
    this.#spend(entry, token, binding, taken, now);
  }

  /** The rest of `consume` once the record was taken out of the store (`undefined`: it was not there). */
  #spend(
    entry: TokenEntry,
    token: AuthorityToken,
    binding: TokenBinding,
    record: TokenRecord | undefined,
    now: number,
  ): void {
    if (record === undefined) throw this.#notOutstanding(entry, token.fingerprint, now);
    this.#outstanding.delete(entry.id);
    if (now >= record.expiresAt) {
      entry.status = 'expired';
      throw new AuthorityExpiredError(
        `Token ${record.fingerprint} expired at ${record.expiresAt} (now ${now}).`,
        {
          fingerprint: record.fingerprint,
          expiresAt: record.expiresAt,
        },
      );
    }
    const field = differingField(record.binding, binding);
    if (field !== undefined) {
      entry.status = 'voided';
      throw new UnauthorizedActionError(
        `Token ${record.fingerprint} is not valid for this call: its ${field} binding does not match. The token is now void.`,
        { field, fingerprint: record.fingerprint },
      );
    }
    entry.status = 'consumed';
  }

  /** Revokes one token this manager issued; resolves to whether it was still outstanding. */
  async revoke(token: AuthorityToken, reason: RevocationReason): Promise<boolean> {
    const entry = entryOf(token);
    if (entry === undefined || entry.issuer !== this) return false;
    return this.#revokeEntry(entry, reason);
  }

  /**
   * Revokes every outstanding token of one session; resolves to how many.
   * @throws TenantIsolationError (`TENANT_MISMATCH`) when `tenant` is not this manager's tenant.
   */
  async revokeSession(tenant: string, session: string, reason: RevocationReason): Promise<number> {
    this.#assertOwnTenant(tenant);
    return this.#markRevoked(await this.#store.removeWhere({ tenant, session }), reason);
  }

  /**
   * Revokes every outstanding token of the tenant; resolves to how many.
   * @throws TenantIsolationError (`TENANT_MISMATCH`) when `tenant` is not this manager's tenant.
   */
  async revokeTenant(tenant: string, reason: RevocationReason): Promise<number> {
    this.#assertOwnTenant(tenant);
    return this.#markRevoked(await this.#store.removeWhere({ tenant }), reason);
  }

  /**
   * Drops expired records from the store now (also done automatically while issuing); resolves to how
   * many. The outstanding entries are scanned only once the earliest expiry may have passed.
   * @throws ClockError (`CLOCK_INVALID`) when the clock's time is not a finite number.
   */
  async purgeExpired(): Promise<number> {
    return this.#purgeExpired();
  }

  /** {@link purgeExpired}, synchronous while the store answers synchronously. */
  #purgeExpired(): number | Promise<number> {
    const now = this.#now('purge');
    if (this.#outstanding.size === 0) {
      this.#earliestExpiry = Number.POSITIVE_INFINITY;
    } else if (this.#earliestExpiry <= now) {
      let earliest = Number.POSITIVE_INFINITY;
      for (const [id, entry] of this.#outstanding) {
        if (entry.expiresAt <= now) {
          entry.status = 'expired';
          this.#outstanding.delete(id);
        } else if (entry.expiresAt < earliest) {
          earliest = entry.expiresAt;
        }
      }
      this.#earliestExpiry = earliest;
    }
    return this.#store.purgeExpired(now);
  }

  /** How many tokens the store holds (outstanding, plus expired ones not yet purged). */
  async outstandingCount(): Promise<number> {
    return this.#store.size();
  }

  /**
   * The clock's time, refused unless it is a finite number: with `NaN` every expiry comparison is
   * false, so a token would never expire (fail closed instead).
   */
  #now(operation: 'issue' | 'consume' | 'purge'): number {
    const now: unknown = this.#clock.now();
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new ClockError(
        `Cannot ${operation} a token: the clock returned ${typeof now === 'number' ? String(now) : `a ${typeof now}`}, not a finite number of milliseconds. Fix the clock passed to AuthorityManager.`,
        { operation, value: typeof now === 'number' ? String(now) : typeof now },
      );
    }
    return now;
  }

  #entryOf(token: AuthorityToken): TokenEntry {
    const entry = entryOf(token);
    if (entry === undefined) {
      throw new UnauthorizedActionError(
        'The token was not issued by an authority: copies, clones, JSON round trips and hand-built tokens are refused.',
        { field: 'token', reason: 'unknown_token' },
      );
    }
    if (entry.issuer === this) return entry;
    if (entry.tenant !== this.tenant) {
      void entry.issuer.revoke(token, 'tenant_mismatch').catch(() => undefined);
      throw new TenantIsolationError(
        `Token ${token.fingerprint} belongs to another tenant; it is revoked at its issuer.`,
        { field: 'tenant', fingerprint: token.fingerprint },
      );
    }
    throw new UnauthorizedActionError(`Token ${token.fingerprint} was issued by another authority.`, {
      field: 'token',
      reason: 'foreign_authority',
      fingerprint: token.fingerprint,
    });
  }

  #notOutstanding(entry: TokenEntry, fingerprint: string, now: number): ApeError {
    switch (entry.status) {
      case 'consumed':
        return new UnauthorizedActionError(`Token ${fingerprint} was already used; tokens are single-use.`, {
          field: 'token',
          reason: 'replay',
          fingerprint,
        });
      case 'voided':
        return new UnauthorizedActionError(
          `Token ${fingerprint} is void: it was presented with a wrong binding.`,
          {
            field: 'token',
            reason: 'voided',
            fingerprint,
          },
        );
      case 'revoked': {
        const revocationReason = entry.revocationReason ?? 'explicit';
        return new UnauthorizedActionError(`Token ${fingerprint} was revoked (${revocationReason}).`, {
          field: 'token',
          reason: 'revoked',
          revocationReason,
          fingerprint,
        });
      }
      case 'expired':
      case 'outstanding':
        if (now >= entry.expiresAt) {
          entry.status = 'expired';
          return new AuthorityExpiredError(
            `Token ${fingerprint} expired at ${entry.expiresAt} (now ${now}).`,
            {
              fingerprint,
              expiresAt: entry.expiresAt,
            },
          );
        }
        return new UnauthorizedActionError(`Token ${fingerprint} is not outstanding.`, {
          field: 'token',
          reason: 'not_outstanding',
          fingerprint,
        });
    }
  }

  /** Takes the entry's record out of the store; synchronous while the store answers synchronously. */
  #revokeEntry(entry: TokenEntry, reason: RevocationReason): boolean | Promise<boolean> {
    const taken = this.#store.take(entry.id);
    if (isThenable(taken)) return taken.then((record) => this.#revoked(entry, record, reason));
    return this.#revoked(entry, taken, reason);
  }

  #revoked(entry: TokenEntry, record: TokenRecord | undefined, reason: RevocationReason): boolean {
    this.#outstanding.delete(entry.id);
    if (record === undefined) return false;
    entry.status = 'revoked';
    entry.revocationReason = reason;
    return true;
  }

  #markRevoked(records: readonly TokenRecord[], reason: RevocationReason): number {
    for (const record of records) {
      const entry = this.#outstanding.get(record.id);
      if (entry === undefined) continue;
      entry.status = 'revoked';
      entry.revocationReason = reason;
      this.#outstanding.delete(record.id);
    }
    return records.length;
  }

  #assertOwnTenant(tenant: string): void {
    if (tenant !== this.tenant) {
      throw new TenantIsolationError(`This authority serves tenant "${this.tenant}", not "${tenant}".`, {
        field: 'tenant',
      });
    }
  }
}

/** One of the seven fields a token is bound to. */
type BindingField = (typeof TOKEN_BINDING_FIELDS)[number];

const HASH_PATTERN = /^[0-9a-f]{64}$/;
/** The last `argsHash` that matched {@link HASH_PATTERN} (calls repeat their arguments; strings are immutable). */
let lastWellFormedHash: unknown;

/** A frozen copy of the binding with exactly its seven fields, each checked. */
function checkBinding(binding: TokenBinding): TokenBinding {
  if (typeof binding !== 'object' || binding === null) {
    throw new UnauthorizedActionError('A token binding must be an object.', { field: 'binding' });
  }
  // Each field is read once (a getter cannot answer the check and the copy differently), checked in
  // TOKEN_BINDING_FIELDS order (the first malformed one is named), unrolled: this runs on every issue.
  const { tenant, session, intentVersion, planHash, stepIndex, action, argsHash } = binding;
  if (!isText(tenant)) throw malformedBinding('tenant');
  if (!isText(session)) throw malformedBinding('session');
  if (!isText(intentVersion)) throw malformedBinding('intentVersion');
  if (!isText(planHash)) throw malformedBinding('planHash');
  if (!(Number.isSafeInteger(stepIndex) && stepIndex >= 0)) throw malformedBinding('stepIndex');
  if (!isText(action)) throw malformedBinding('action');
  if (argsHash !== lastWellFormedHash) {
    if (!(typeof argsHash === 'string' && HASH_PATTERN.test(argsHash))) throw malformedBinding('argsHash');
    lastWellFormedHash = argsHash;
  }
  return Object.freeze({ tenant, session, intentVersion, planHash, stepIndex, action, argsHash });
}

function isText(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

function malformedBinding(field: BindingField): UnauthorizedActionError {
  return new UnauthorizedActionError(`Token binding field "${field}" is missing or malformed.`, { field });
}

/** The first field (in TOKEN_BINDING_FIELDS order) where `actual` differs from `bound`, unrolled. */
function differingField(bound: TokenBinding, actual: TokenBinding): BindingField | undefined {
  if (bound.tenant !== actual.tenant) return 'tenant';
  if (bound.session !== actual.session) return 'session';
  if (bound.intentVersion !== actual.intentVersion) return 'intentVersion';
  if (bound.planHash !== actual.planHash) return 'planHash';
  if (bound.stepIndex !== actual.stepIndex) return 'stepIndex';
  if (bound.action !== actual.action) return 'action';
  if (bound.argsHash !== actual.argsHash) return 'argsHash';
  return undefined;
}
