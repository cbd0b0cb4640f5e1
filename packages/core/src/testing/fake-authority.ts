import { AuthorityExpiredError, TenantIsolationError, UnauthorizedActionError } from '../errors.js';
import type { Authority } from '../ports/authority.js';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import {
  TOKEN_BINDING_FIELDS,
  type AuthorityToken,
  type RevocationReason,
  type TokenBinding,
} from '../types.js';

/** Options of {@link createFakeAuthority}. */
export interface FakeAuthorityOptions {
  readonly tenant: string;
  readonly clock?: Clock;
  /** Token lifetime in ms (default 60 000). */
  readonly ttlMs?: number;
  /**
   * Also offer the port's optional `issueSync` and `consumeSync` (as `AuthorityManager` with its
   * default store does), so tests exercise the runtime's synchronous token path. Default `false`.
   */
  readonly synchronous?: boolean;
}

/** A revocation the fake authority saw. */
export interface RecordedRevocation {
  readonly scope: 'token' | 'session' | 'tenant';
  readonly reason: RevocationReason;
  readonly count: number;
}

/** An {@link Authority} test double with the same observable rules as `@ape/authority`, plus introspection. */
export interface FakeAuthority extends Authority {
  readonly tenant: string;
  /** Tokens issued and neither consumed, revoked nor expired, optionally for one session. */
  outstanding(session?: string): number;
  readonly revocations: readonly RecordedRevocation[];
  readonly issued: number;
}

/**
 * An in-memory authority for unit tests of code built on core (the runtime's tests use it because
 * core cannot depend on `@ape/authority`). Recognises only its own token objects, single use,
 * checks every binding field, honours expiry and revocation. Not for production: use
 * `AuthorityManager` from `@ape/authority` (random ids, a pluggable store, bounded memory).
 */
export function createFakeAuthority(options: FakeAuthorityOptions): FakeAuthority {
  const clock = options.clock ?? systemClock;
  const ttlMs = options.ttlMs ?? 60_000;
  const live = new Map<object, TokenBinding>();
  const revocations: RecordedRevocation[] = [];
  let issued = 0;
  const revokeWhere = (match: (binding: TokenBinding) => boolean): number => {
    let count = 0;
    for (const [token, binding] of live) {
      if (match(binding)) {
        live.delete(token);
        count++;
      }
    }
    return count;
  };
  const issueNow = (binding: TokenBinding): AuthorityToken => {
    if (binding.tenant !== options.tenant) {
      throw new TenantIsolationError('fake authority: binding of another tenant', { field: 'tenant' });
    }
    issued++;
    const issuedAt = clock.now();
    const token: AuthorityToken = Object.freeze({
      fingerprint: `fake${issued.toString(16).padStart(12, '0')}`,
      issuedAt,
      expiresAt: issuedAt + ttlMs,
    });
    live.set(token, Object.freeze({ ...binding }));
    return token;
  };
  const consumeNow = (token: AuthorityToken, binding: TokenBinding): void => {
    if (binding.tenant !== options.tenant) {
      throw new TenantIsolationError('fake authority: call of another tenant', { field: 'tenant' });
    }
    const bound = live.get(token);
    if (bound === undefined) {
      throw new UnauthorizedActionError('fake authority: unknown, used or revoked token', {
        field: 'token',
      });
    }
    live.delete(token);
    if (clock.now() >= token.expiresAt) throw new AuthorityExpiredError('fake authority: token expired');
    for (const field of TOKEN_BINDING_FIELDS) {
      if (bound[field] !== binding[field]) {
        throw new UnauthorizedActionError(`fake authority: ${field} binding differs`, { field });
      }
    }
  };
  return {
    tenant: options.tenant,
    get revocations(): readonly RecordedRevocation[] {
      return revocations;
    },
    get issued(): number {
      return issued;
    },
    outstanding(session?: string): number {
      const now = clock.now();
      let count = 0;
      for (const [token, binding] of live) {
        if (
          (token as AuthorityToken).expiresAt > now &&
          (session === undefined || binding.session === session)
        )
          count++;
      }
      return count;
    },
    async issue(binding: TokenBinding): Promise<AuthorityToken> {
      return issueNow(binding);
    },
    async consume(token: AuthorityToken, binding: TokenBinding): Promise<void> {
      consumeNow(token, binding);
    },
    ...(options.synchronous === true
      ? {
          issueSync: issueNow,
          consumeSync(token: AuthorityToken, binding: TokenBinding): boolean {
            consumeNow(token, binding);
            return true;
          },
        }
      : {}),
    async revoke(token: AuthorityToken, reason: RevocationReason): Promise<boolean> {
      const removed = live.delete(token);
      revocations.push({ scope: 'token', reason, count: removed ? 1 : 0 });
      return removed;
    },
    async revokeSession(tenant: string, session: string, reason: RevocationReason): Promise<number> {
      const count = tenant === options.tenant ? revokeWhere((binding) => binding.session === session) : 0;
      revocations.push({ scope: 'session', reason, count });
      return count;
    },
    async revokeTenant(tenant: string, reason: RevocationReason): Promise<number> {
      const count = tenant === options.tenant ? revokeWhere(() => true) : 0;
      revocations.push({ scope: 'tenant', reason, count });
      return count;
    },
  };
}
