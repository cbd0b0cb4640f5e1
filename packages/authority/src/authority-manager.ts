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
import { randomFingerprint, randomHex } from './random-pool.js';
import { SessionIndex } from './session-index.js';

/** Options of {@link AuthorityManager}. */
export interface AuthorityManagerOptions {
  /** The one tenant this manager issues tokens for. */
  readonly tenant: string;
  /** How long a token stays valid after issue, in milliseconds (default 60 000). */
  readonly ttlMs?: number;
  /** The time source for issue and expiry (default: the system clock). */
  readonly clock?: Clock;
  /**
   * Where outstanding tokens are kept as records by id (a {@link TokenStore}). Default: none; the
   * manager keeps its tokens itself, in this process, without records or ids (the token object is
   * the only handle).
   */
  readonly store?: TokenStore;
}

/** The default token lifetime: 60 seconds. */
export const DEFAULT_TOKEN_TTL_MS = 60_000;

/** Expired tokens are purged once every this many issues (amortised, bounded memory). */
const PURGE_EVERY_ISSUES = 64;
const TOKEN_ID_BYTES = 32;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Module-private: only this file can make a token (`new token.constructor(...)` is refused). */
const MINT = Symbol('ape.authority.mint');

/** How an outstanding token's life ended: used, voided by a wrong binding, expired, or revoked. */
type TokenEnd = 'consumed' | 'voided' | 'expired' | RevokedEnd;

/** The end of a revoked token, with the reason a later consume reports. */
interface RevokedEnd {
  readonly revoked: RevocationReason;
}

function revokedBy(reason: RevocationReason): RevokedEnd {
  return Object.freeze({ revoked: reason });
}

/**
 * Module-private access to a token's private state (assigned in {@link IssuedToken}'s static block).
 * Private fields are not properties: copies, clones, proxies and JSON round trips do not have them,
 * and freezing the token leaves them writable for this module alone.
 */
interface TokenInternals {
  /** Whether `value` is a token this module minted (not a copy, a proxy or a look-alike). */
  isToken(value: unknown): value is IssuedToken;
  issuer(token: IssuedToken): AuthorityManager;
  /** The store's key of the token's record; `undefined` for a token its manager keeps itself. */
  id(token: IssuedToken): string | undefined;
  /** The session of an outstanding token its manager keeps itself; `undefined` otherwise. */
  session(token: IssuedToken): string | undefined;
  /**
   * The first field (in `TOKEN_BINDING_FIELDS` order) where `actual` differs from the binding of an
   * outstanding token its manager keeps itself (whose tenant is its manager's).
   */
  differingField(token: IssuedToken, actual: TokenBinding): BindingField | undefined;
  /** How the token's outstanding life ended; `undefined` while outstanding as far as this module saw. */
  end(token: IssuedToken): TokenEnd | undefined;
  /** Ends the token's outstanding life: records how, and lets a kept binding go. */
  settle(token: IssuedToken, end: TokenEnd): void;
}
let internals: TokenInternals;

/** The lifetime of `manager`'s tokens (assigned in {@link AuthorityManager}'s static block). */
let ttlOf: (manager: AuthorityManager) => number;

/**
 * The opaque handle handed out by {@link AuthorityManager.issue}. It holds no secret: its state
 * (issuer, how it ended, its store key or its binding) is in private fields, readable by this
 * module only. A manager without a store keeps the token itself as its record, binding included
 * (field by field: one object per token, not two), so this is most of the memory of an outstanding
 * token.
 */
class IssuedToken implements AuthorityToken {
  readonly fingerprint: string;
  readonly #issuer: AuthorityManager;
  readonly #issuedAt: number;
  /** The store's key of its record; `undefined` when its manager keeps it itself. */
  readonly #id: string | undefined;
  /** How its outstanding life ended; `undefined` while outstanding. */
  #end: TokenEnd | undefined = undefined;
  // Its binding while its manager keeps it and it is outstanding (the tenant is the manager's);
  // `undefined` for a token of a store, and once it ended.
  #session: string | undefined;
  #intentVersion: string | undefined;
  #planHash: string | undefined;
  #stepIndex: number | undefined;
  #action: string | undefined;
  #argsHash: string | undefined;

  static {
    internals = {
      isToken: (value): value is IssuedToken => typeof value === 'object' && value !== null && #end in value,
      issuer: (token) => token.#issuer,
      id: (token) => token.#id,
      session: (token) => token.#session,
      differingField: (token, actual) =>
        firstDifferingField(
          token.#issuer.tenant,
          token.#session,
          token.#intentVersion,
          token.#planHash,
          token.#stepIndex,
          token.#action,
          token.#argsHash,
          actual,
        ),
      end: (token) => token.#end,
      settle: (token, end) => {
        token.#end = end;
        token.#session = undefined;
        token.#intentVersion = undefined;
        token.#planHash = undefined;
        token.#action = undefined;
        token.#argsHash = undefined;
      },
    };
  }

  /** `id` for a token of a store; `binding` (checked and copied) for a token its manager keeps. */
  constructor(
    mint: symbol,
    issuer: AuthorityManager,
    id: string | undefined,
    binding: TokenBinding | undefined,
    fingerprint: string,
    issuedAt: number,
  ) {
    if (mint !== MINT) throw new TypeError('Authority tokens are issued by AuthorityManager.issue only.');
    this.#issuer = issuer;
    this.#issuedAt = issuedAt;
    this.#id = id;
    this.#session = binding?.session;
    this.#intentVersion = binding?.intentVersion;
    this.#planHash = binding?.planHash;
    this.#stepIndex = binding?.stepIndex;
    this.#action = binding?.action;
    this.#argsHash = binding?.argsHash;
    this.fingerprint = fingerprint;
    Object.freeze(this);
  }

  /** When the token was issued, in the issuer's clock's milliseconds. */
  get issuedAt(): number {
    return this.#issuedAt;
  }

  /** When the token stops being valid: `issuedAt + ttlMs`, the very sum its issuer computed. */
  get expiresAt(): number {
    return this.#issuedAt + ttlOf(this.#issuer);
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
 * - The token object is frozen and carries only a fingerprint. Only the very objects this manager
 *   issued are recognised: the object is the capability.
 * - Without a store (the default) the manager keeps its outstanding tokens itself, indexed by
 *   session; a token has no id and its fingerprint is 64 random bits. With a {@link TokenStore}, each
 *   token has a record under a 256-bit id from the CSPRNG (`crypto.randomFillSync`, pooled: each byte
 *   is used once), and its fingerprint is {@link tokenFingerprint} of that id.
 * - `consume` takes the token out of the outstanding ones first (atomic, so of concurrent callers
 *   exactly one gets it), then checks expiry and every binding field. A token presented with a wrong
 *   binding is therefore void afterwards: a mismatch is treated as an attack, not a typo.
 * - Consumed, revoked and expired tokens leave the outstanding ones; expired ones are purged every
 *   64 issues.
 */
export class AuthorityManager implements Authority {
  /** The tenant this manager serves. */
  readonly tenant: string;
  /** The token lifetime in milliseconds. */
  readonly ttlMs: number;
  /** The lifetime the tokens compute their expiry with (a private copy: `ttlMs` is only read-only to TypeScript). */
  readonly #ttlMs: number;
  readonly #clock: Clock;
  /** The store of token records; `undefined` when the manager keeps its tokens itself. */
  readonly #store: TokenStore | undefined;
  /** The outstanding tokens, by session, when the manager keeps them itself (no store). */
  readonly #kept: SessionIndex<IssuedToken> | undefined;
  /** Whether every operation answers at once: no store, or an {@link InMemoryTokenStore} (that class exactly). */
  readonly #synchronous: boolean;
  /** With a store: outstanding tokens by id, so revocations by session can be explained on a later consume. */
  readonly #outstanding = new Map<string, IssuedToken>();
  #issuesSincePurge = 0;
  /** A lower bound of the earliest `expiresAt` of the outstanding tokens: none can have expired before it. */
  #earliestExpiry = Number.POSITIVE_INFINITY;

  static {
    ttlOf = (manager) => manager.#ttlMs;
  }

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
    this.#ttlMs = ttlMs;
    this.#clock = options.clock ?? systemClock;
    this.#store = options.store;
    this.#kept = this.#store === undefined ? new SessionIndex() : undefined;
    // Only InMemoryTokenStore's own class is known to answer at once; a subclass or another store may not.
    this.#synchronous =
      this.#store === undefined || Object.getPrototypeOf(this.#store) === InMemoryTokenStore.prototype;
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
   * {@link issue} answered synchronously: the token, or `undefined` when this manager has a store
   * other than an {@link InMemoryTokenStore} (a store that may answer later; nothing is done then,
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
   * manager has a store other than an {@link InMemoryTokenStore} (nothing is done then, use
   * `consume`). Same checks, same errors, thrown.
   */
  consumeSync(token: AuthorityToken, binding: TokenBinding): boolean {
    if (!this.#synchronous) return false;
    settledNow(this.#consume(token, binding));
    return true;
  }

  /**
   * The one implementation of `issue`: synchronous while the store answers synchronously (always
   * without a store or with an {@link InMemoryTokenStore}), a promise from the first store answer that
   * is one.
   */
  #issue(binding: TokenBinding): AuthorityToken | Promise<AuthorityToken> {
    const checked = checkBinding(binding);
    if (checked.tenant !== this.tenant) {
      throw new TenantIsolationError(
        `Cannot issue a token for tenant "${checked.tenant}": this authority serves tenant "${this.tenant}".`,
        { field: 'tenant' },
      );
    }
    const now = this.#now('issue');
    if (++this.#issuesSincePurge >= PURGE_EVERY_ISSUES) {
      this.#issuesSincePurge = 0;
      const purged = this.#purgeExpired();
      if (isThenable(purged)) return purged.then(() => this.#put(checked, now));
    }
    return this.#put(checked, now);
  }

  /**
   * Keeps a new token for `binding` (the private copy {@link checkBinding} made), or stores its
   * record, with that copy frozen, and mints the token once the store has it.
   */
  #put(binding: TokenBinding, now: number): AuthorityToken | Promise<AuthorityToken> {
    const expiresAt = now + this.#ttlMs;
    if (expiresAt < this.#earliestExpiry) this.#earliestExpiry = expiresAt;
    const kept = this.#kept;
    if (kept !== undefined) {
      const token = new IssuedToken(MINT, this, undefined, binding, randomFingerprint(), now);
      kept.add(binding.tenant, binding.session, token);
      return token;
    }
    const store = this.#store as TokenStore;
    const id = randomHex(TOKEN_ID_BYTES);
    const fingerprint = tokenFingerprint(id);
    const record: TokenRecord = Object.freeze({
      id,
      fingerprint,
      binding: Object.freeze(binding),
      issuedAt: now,
      expiresAt,
    });
    // A synchronous store (an InMemoryTokenStore) is not awaited: no microtask hop per token.
    const stored = store.put(record);
    if (isThenable(stored)) return stored.then(() => this.#mint(id, fingerprint, now));
    return this.#mint(id, fingerprint, now);
  }

  #mint(id: string, fingerprint: string, now: number): AuthorityToken {
    const token = new IssuedToken(MINT, this, id, undefined, fingerprint, now);
    this.#outstanding.set(id, token);
    return token;
  }

  /** The one implementation of `consume`, synchronous while the store answers synchronously. */
  #consume(presented: AuthorityToken, binding: TokenBinding): void | Promise<void> {
    const token = this.#ownToken(presented);
    if (binding?.tenant !== this.tenant) {
      const mismatch = new TenantIsolationError(
        `Token ${token.fingerprint} was presented for another tenant; it is revoked.`,
        { field: 'tenant', fingerprint: token.fingerprint },
      );
      const revoked = this.#revokeToken(token, 'tenant_mismatch');
      if (isThenable(revoked)) {
        return revoked.then(() => {
          throw mismatch;
        });
      }
      throw mismatch;
    }
    // Read (and check) the clock before taking the token: a broken clock changes no state.
    const now = this.#now('consume');
    const kept = this.#kept;
    if (kept !== undefined) {
      const session = internals.session(token);
      if (session === undefined || !kept.delete(this.tenant, session, token)) {
        throw this.#notOutstanding(token, now);
      }
      this.#spend(token, token, internals.differingField(token, binding), now);
      return;
    }
    const id = internals.id(token) as string;
    const taken = (this.#store as TokenStore).take(id);
    if (isThenable(taken)) return taken.then((record) => this.#spendRecord(token, id, binding, record, now));
    this.#spendRecord(token, id, binding, taken, now);
  }

  /** The rest of `consume` once the record was taken out of the store (`undefined`: it was not there). */
  #spendRecord(
    token: IssuedToken,
    id: string,
    binding: TokenBinding,
    record: TokenRecord | undefined,
    now: number,
  ): void {
    if (record === undefined) throw this.#notOutstanding(token, now);
    this.#outstanding.delete(id);
    this.#spend(token, record, differingField(record.binding, binding), now);
  }

  /**
   * The rest of `consume` once the token left the outstanding ones: `held` is what was kept of it (its
   * record, or the token itself), `field` the first binding field the call differs in, if any.
   */
  #spend(
    token: IssuedToken,
    held: { readonly fingerprint: string; readonly expiresAt: number },
    field: BindingField | undefined,
    now: number,
  ): void {
    if (now >= held.expiresAt) {
      internals.settle(token, 'expired');
      throw new AuthorityExpiredError(
        `Token ${held.fingerprint} expired at ${held.expiresAt} (now ${now}).`,
        {
          fingerprint: held.fingerprint,
          expiresAt: held.expiresAt,
        },
      );
    }
    if (field !== undefined) {
      internals.settle(token, 'voided');
      throw new UnauthorizedActionError(
        `Token ${held.fingerprint} is not valid for this call: its ${field} binding does not match. The token is now void.`,
        { field, fingerprint: held.fingerprint },
      );
    }
    internals.settle(token, 'consumed');
  }

  /** Revokes one token this manager issued; resolves to whether it was still outstanding. */
  async revoke(token: AuthorityToken, reason: RevocationReason): Promise<boolean> {
    if (!internals.isToken(token) || internals.issuer(token) !== this) return false;
    return this.#revokeToken(token, reason);
  }

  /**
   * Revokes every outstanding token of one session; resolves to how many.
   * @throws TenantIsolationError (`TENANT_MISMATCH`) when `tenant` is not this manager's tenant.
   */
  async revokeSession(tenant: string, session: string, reason: RevocationReason): Promise<number> {
    this.#assertOwnTenant(tenant);
    if (this.#kept !== undefined) return settleRevoked(this.#kept.removeAll(tenant, session), reason);
    return this.#markRevoked(await (this.#store as TokenStore).removeWhere({ tenant, session }), reason);
  }

  /**
   * Revokes every outstanding token of the tenant; resolves to how many.
   * @throws TenantIsolationError (`TENANT_MISMATCH`) when `tenant` is not this manager's tenant.
   */
  async revokeTenant(tenant: string, reason: RevocationReason): Promise<number> {
    this.#assertOwnTenant(tenant);
    if (this.#kept !== undefined) return settleRevoked(this.#kept.removeAll(tenant), reason);
    return this.#markRevoked(await (this.#store as TokenStore).removeWhere({ tenant }), reason);
  }

  /**
   * Drops expired tokens now (also done automatically while issuing); resolves to how many left the
   * store, or the manager when it keeps its tokens itself. Nothing is scanned before the earliest
   * expiry may have passed.
   * @throws ClockError (`CLOCK_INVALID`) when the clock's time is not a finite number.
   */
  async purgeExpired(): Promise<number> {
    return this.#purgeExpired();
  }

  /** {@link purgeExpired}, synchronous while the store answers synchronously. */
  #purgeExpired(): number | Promise<number> {
    const now = this.#now('purge');
    const kept = this.#kept;
    const held = kept === undefined ? this.#outstanding.size : kept.size;
    let purged = 0;
    if (held === 0) {
      this.#earliestExpiry = Number.POSITIVE_INFINITY;
    } else if (this.#earliestExpiry <= now) {
      let earliest = Number.POSITIVE_INFINITY;
      const expire = (token: IssuedToken): boolean => {
        if (token.expiresAt <= now) {
          internals.settle(token, 'expired');
          return true;
        }
        if (token.expiresAt < earliest) earliest = token.expiresAt;
        return false;
      };
      if (kept !== undefined) {
        purged = kept.removeWhere(expire);
      } else {
        for (const [id, token] of this.#outstanding) if (expire(token)) this.#outstanding.delete(id);
      }
      this.#earliestExpiry = earliest;
    }
    return this.#store === undefined ? purged : this.#store.purgeExpired(now);
  }

  /** How many tokens are held (outstanding, plus expired ones not yet purged), by the store if there is one. */
  async outstandingCount(): Promise<number> {
    return this.#store === undefined ? (this.#kept as SessionIndex<IssuedToken>).size : this.#store.size();
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

  /** `token` as one this manager issued, or the refusal of anything else. */
  #ownToken(token: AuthorityToken): IssuedToken {
    if (!internals.isToken(token)) {
      throw new UnauthorizedActionError(
        'The token was not issued by an authority: copies, clones, JSON round trips and hand-built tokens are refused.',
        { field: 'token', reason: 'unknown_token' },
      );
    }
    const issuer = internals.issuer(token);
    if (issuer === this) return token;
    if (issuer.tenant !== this.tenant) {
      void issuer.revoke(token, 'tenant_mismatch').catch(() => undefined);
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

  /** Why `token`, which this manager no longer holds as outstanding, cannot be consumed. */
  #notOutstanding(token: IssuedToken, now: number): ApeError {
    const fingerprint = token.fingerprint;
    const end = internals.end(token);
    if (end === 'consumed') {
      return new UnauthorizedActionError(`Token ${fingerprint} was already used; tokens are single-use.`, {
        field: 'token',
        reason: 'replay',
        fingerprint,
      });
    }
    if (end === 'voided') {
      return new UnauthorizedActionError(
        `Token ${fingerprint} is void: it was presented with a wrong binding.`,
        {
          field: 'token',
          reason: 'voided',
          fingerprint,
        },
      );
    }
    if (typeof end === 'object') {
      return new UnauthorizedActionError(`Token ${fingerprint} was revoked (${end.revoked}).`, {
        field: 'token',
        reason: 'revoked',
        revocationReason: end.revoked,
        fingerprint,
      });
    }
    // Expired, or gone from the store while outstanding here (another manager of a shared store).
    if (now >= token.expiresAt) {
      internals.settle(token, 'expired');
      return new AuthorityExpiredError(`Token ${fingerprint} expired at ${token.expiresAt} (now ${now}).`, {
        fingerprint,
        expiresAt: token.expiresAt,
      });
    }
    return new UnauthorizedActionError(`Token ${fingerprint} is not outstanding.`, {
      field: 'token',
      reason: 'not_outstanding',
      fingerprint,
    });
  }

  /** Takes the token out of the outstanding ones; synchronous while the store answers synchronously. */
  #revokeToken(token: IssuedToken, reason: RevocationReason): boolean | Promise<boolean> {
    const kept = this.#kept;
    if (kept !== undefined) {
      const session = internals.session(token);
      if (session === undefined || !kept.delete(this.tenant, session, token)) return false;
      internals.settle(token, revokedBy(reason));
      return true;
    }
    const id = internals.id(token) as string;
    const taken = (this.#store as TokenStore).take(id);
    if (isThenable(taken)) return taken.then((record) => this.#revoked(token, id, record, reason));
    return this.#revoked(token, id, taken, reason);
  }

  #revoked(
    token: IssuedToken,
    id: string,
    record: TokenRecord | undefined,
    reason: RevocationReason,
  ): boolean {
    this.#outstanding.delete(id);
    if (record === undefined) return false;
    internals.settle(token, revokedBy(reason));
    return true;
  }

  #markRevoked(records: readonly TokenRecord[], reason: RevocationReason): number {
    const end = revokedBy(reason);
    for (const record of records) {
      const token = this.#outstanding.get(record.id);
      if (token === undefined) continue;
      internals.settle(token, end);
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

/** Marks tokens a manager kept itself as revoked; returns how many. */
function settleRevoked(tokens: readonly IssuedToken[], reason: RevocationReason): number {
  const end = revokedBy(reason);
  for (const token of tokens) internals.settle(token, end);
  return tokens.length;
}

/** One of the seven fields a token is bound to. */
type BindingField = (typeof TOKEN_BINDING_FIELDS)[number];

const HASH_PATTERN = /^[0-9a-f]{64}$/;
/** The last `argsHash` that matched {@link HASH_PATTERN} (calls repeat their arguments; strings are immutable). */
let lastWellFormedHash: unknown;

/** A private copy of the binding with exactly its seven fields, each checked (read once). */
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
  // A private copy, not frozen: a manager that keeps its tokens copies its fields into the token
  // (freezing a copy that is dropped at once cost a map transition per token); `#put` freezes it
  // when it goes into a store's record.
  return { tenant, session, intentVersion, planHash, stepIndex, action, argsHash };
}

function isText(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

function malformedBinding(field: BindingField): UnauthorizedActionError {
  return new UnauthorizedActionError(`Token binding field "${field}" is missing or malformed.`, { field });
}

/** The first field (in TOKEN_BINDING_FIELDS order) where `actual` differs from `bound`. */
function differingField(bound: TokenBinding, actual: TokenBinding): BindingField | undefined {
  return firstDifferingField(
    bound.tenant,
    bound.session,
    bound.intentVersion,
    bound.planHash,
    bound.stepIndex,
    bound.action,
    bound.argsHash,
    actual,
  );
}

/**
 * The first field (in TOKEN_BINDING_FIELDS order) where `actual` differs from the bound values,
 * unrolled: the one comparison of a store's record and of a token kept without a store.
 */
function firstDifferingField(
  tenant: string,
  session: string | undefined,
  intentVersion: string | undefined,
  planHash: string | undefined,
  stepIndex: number | undefined,
  action: string | undefined,
  argsHash: string | undefined,
  actual: TokenBinding,
): BindingField | undefined {
  if (tenant !== actual.tenant) return 'tenant';
  if (session !== actual.session) return 'session';
  if (intentVersion !== actual.intentVersion) return 'intentVersion';
  if (planHash !== actual.planHash) return 'planHash';
  if (stepIndex !== actual.stepIndex) return 'stepIndex';
  if (action !== actual.action) return 'action';
  if (argsHash !== actual.argsHash) return 'argsHash';
  return undefined;
}
