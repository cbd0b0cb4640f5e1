import type { ApeError, AuthorityToken, TokenBinding, TokenStore } from '@ape/core';
import { FakeClock } from '@ape/core/testing';
import { describe, expect, it } from 'vitest';
import { AuthorityManager } from './authority-manager.js';
import { InMemoryTokenStore } from './in-memory-token-store.js';
import { binding, rejection } from './__fixtures__/binding.js';

const step = (stepIndex: number): TokenBinding => ({ ...binding, stepIndex });

function constructionError(options: unknown): ApeError | undefined {
  try {
    new AuthorityManager(options as never);
  } catch (error) {
    return error as ApeError;
  }
  return undefined;
}

/** A store answering every call a macrotask later, like a store across the network. */
function remoteStore(inner: InMemoryTokenStore): TokenStore {
  const later = <T>(work: () => T): Promise<T> =>
    new Promise((resolve, reject) => {
      setImmediate(() => {
        try {
          resolve(work());
        } catch (error) {
          reject(error);
        }
      });
    });
  return {
    put: (record) => later(() => inner.put(record)),
    take: (id) => later(() => inner.take(id)),
    removeWhere: (filter) => later(() => inner.removeWhere(filter)),
    purgeExpired: (now) => later(() => inner.purgeExpired(now)),
    size: () => later(() => inner.size()),
  };
}

/** A store that expires records on its own schedule (as with server-side TTLs): its purge is a no-op. */
function selfExpiringStore(): TokenStore {
  const inner = new InMemoryTokenStore();
  return {
    put: (record) => inner.put(record),
    take: (id) => inner.take(id),
    removeWhere: (filter) => inner.removeWhere(filter),
    purgeExpired: () => 0,
    size: () => inner.size(),
  };
}

describe('AuthorityManager construction messages', () => {
  it('refuses missing options with CONFIG_INVALID on the tenant field', () => {
    const error = constructionError(undefined);
    expect(error?.code).toBe('CONFIG_INVALID');
    expect(error?.details).toEqual({ field: 'tenant' });
    expect(error?.message).toContain('`tenant` must be a non-empty string');
  });

  it('names ttlMs in the message for a bad lifetime', () => {
    const error = constructionError({ tenant: 'acme', ttlMs: -1 });
    expect(error?.code).toBe('CONFIG_INVALID');
    expect(error?.message).toContain('`ttlMs` must be a positive number of milliseconds');
  });
});

describe('AuthorityManager tokens', () => {
  it('serialises a token to JSON as redacted plus its fingerprint', async () => {
    const authority = new AuthorityManager({ tenant: 'acme', clock: new FakeClock() });
    const token = await authority.issue(binding);
    expect(JSON.parse(JSON.stringify(token))).toEqual({ token: 'redacted', fingerprint: token.fingerprint });
  });

  it('tells a caller of the token constructor that only AuthorityManager.issue makes tokens', async () => {
    const authority = new AuthorityManager({ tenant: 'acme', clock: new FakeClock() });
    const token = await authority.issue(binding);
    const Token = token.constructor as new (...args: unknown[]) => AuthorityToken;
    expect(() => new Token(Symbol('mint'), {}, 'f'.repeat(16), 0)).toThrow(/AuthorityManager\.issue only/);
  });

  it('refuses an argsHash that only coerces to a hash (an array or an object with toString)', async () => {
    const authority = new AuthorityManager({ tenant: 'acme', clock: new FakeClock() });
    const hash = 'c'.repeat(64);
    for (const value of [[hash], { toString: () => hash }]) {
      const error = await rejection(authority.issue({ ...binding, argsHash: value as unknown as string }));
      expect(error.code).toBe('UNAUTHORIZED_ACTION');
      expect(error.details).toEqual({ field: 'argsHash' });
    }
  });
});

describe('AuthorityManager with a store that answers asynchronously', () => {
  it('waits for put before handing out the token, then consumes it through an asynchronous take', async () => {
    const inner = new InMemoryTokenStore();
    const authority = new AuthorityManager({
      tenant: 'acme',
      clock: new FakeClock(),
      store: remoteStore(inner),
    });
    const token = await authority.issue(binding);
    expect(inner.size()).toBe(1);
    await expect(authority.consume(token, binding)).resolves.toBeUndefined();
    expect(inner.size()).toBe(0);
    expect((await rejection(authority.consume(token, binding))).details['reason']).toBe('replay');
  });

  it('fails the issue when the asynchronous put fails', async () => {
    const store: TokenStore = {
      ...remoteStore(new InMemoryTokenStore()),
      put: () => Promise.reject(new Error('store down')),
    };
    const authority = new AuthorityManager({ tenant: 'acme', clock: new FakeClock(), store });
    await expect(authority.issue(binding)).rejects.toThrow('store down');
  });
});

describe('AuthorityManager purges while issuing every 64th token', () => {
  it('purges on the 64th issue and not before, then counts again from zero', async () => {
    const clock = new FakeClock(0);
    const authority = new AuthorityManager({ tenant: 'acme', clock, ttlMs: 10 });
    await authority.issue(step(0));
    clock.set(10);
    for (let index = 1; index < 63; index++) await authority.issue(step(index));
    // 63 issues: the first token has expired but no purge has run yet.
    expect(await authority.outstandingCount()).toBe(63);
    await authority.issue(step(63));
    expect(await authority.outstandingCount()).toBe(63);
    clock.set(20);
    for (let index = 64; index < 127; index++) await authority.issue(step(index));
    expect(await authority.outstandingCount()).toBe(126);
    await authority.issue(step(127));
    expect(await authority.outstandingCount()).toBe(64);
  });
});

describe('AuthorityManager error codes, details and messages', () => {
  it('refuses to issue for another tenant, naming both tenants', async () => {
    const authority = new AuthorityManager({ tenant: 'acme', clock: new FakeClock() });
    const error = await rejection(authority.issue({ ...binding, tenant: 'globex' }));
    expect(error.code).toBe('TENANT_MISMATCH');
    expect(error.details).toEqual({ field: 'tenant' });
    expect(error.message).toContain('tenant "globex"');
    expect(error.message).toContain('serves tenant "acme"');
  });

  it('treats a consume without a binding as another tenant: TENANT_MISMATCH, and the token is revoked', async () => {
    const authority = new AuthorityManager({ tenant: 'acme', clock: new FakeClock() });
    const token = await authority.issue(binding);
    const error = await rejection(authority.consume(token, undefined as unknown as TokenBinding));
    expect(error.code).toBe('TENANT_MISMATCH');
    expect(error.details).toEqual({ field: 'tenant', fingerprint: token.fingerprint });
    expect(error.message).toContain(`Token ${token.fingerprint} was presented for another tenant`);
    expect(error.message).toContain('revoked');
    const again = await rejection(authority.consume(token, binding));
    expect(again.details).toEqual({
      field: 'token',
      reason: 'revoked',
      revocationReason: 'tenant_mismatch',
      fingerprint: token.fingerprint,
    });
    expect(again.message).toContain(`Token ${token.fingerprint} was revoked (tenant_mismatch)`);
  });

  it('keeps reporting an expired token as expired on every later consume', async () => {
    const clock = new FakeClock(0);
    const authority = new AuthorityManager({ tenant: 'acme', clock, ttlMs: 100 });
    const token = await authority.issue(binding);
    clock.set(100);
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await rejection(authority.consume(token, binding));
      expect(error.code).toBe('AUTHORITY_EXPIRED');
      expect(error.details).toEqual({ fingerprint: token.fingerprint, expiresAt: 100 });
      expect(error.message).toContain(`Token ${token.fingerprint} expired at 100 (now 100)`);
    }
  });

  it('keeps reporting a token lost from a shared store as expired once its lifetime is over', async () => {
    const clock = new FakeClock(0);
    const store = new InMemoryTokenStore();
    const issuer = new AuthorityManager({ tenant: 'acme', clock, store, ttlMs: 100 });
    const other = new AuthorityManager({ tenant: 'acme', clock, store });
    const token = await issuer.issue(binding);
    await other.revokeTenant('acme', 'explicit');
    clock.set(150);
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await rejection(issuer.consume(token, binding));
      expect(error.code).toBe('AUTHORITY_EXPIRED');
      expect(error.message).toContain(`Token ${token.fingerprint} expired at 100 (now 150)`);
    }
  });

  it('names the mismatching field and says the token is now void', async () => {
    const authority = new AuthorityManager({ tenant: 'acme', clock: new FakeClock() });
    const token = await authority.issue(binding);
    const error = await rejection(authority.consume(token, { ...binding, action: 'write_file' }));
    expect(error.details).toEqual({ field: 'action', fingerprint: token.fingerprint });
    expect(error.message).toContain(`Token ${token.fingerprint} is not valid for this call`);
    expect(error.message).toContain('its action binding does not match');
    expect(error.message).toContain('now void');
    const again = await rejection(authority.consume(token, binding));
    expect(again.details).toEqual({ field: 'token', reason: 'voided', fingerprint: token.fingerprint });
    expect(again.message).toContain(`Token ${token.fingerprint} is void`);
  });

  it('explains a replay with the fingerprint', async () => {
    const authority = new AuthorityManager({ tenant: 'acme', clock: new FakeClock() });
    const token = await authority.issue(binding);
    await authority.consume(token, binding);
    const error = await rejection(authority.consume(token, binding));
    expect(error.details).toEqual({ field: 'token', reason: 'replay', fingerprint: token.fingerprint });
    expect(error.message).toContain(`Token ${token.fingerprint} was already used`);
  });

  it('names the revocation reason of a revoked session in the message', async () => {
    const authority = new AuthorityManager({ tenant: 'acme', clock: new FakeClock() });
    const token = await authority.issue(binding);
    await authority.revokeSession('acme', 'session-1', 'terminated');
    const error = await rejection(authority.consume(token, binding));
    expect(error.details).toEqual({
      field: 'token',
      reason: 'revoked',
      revocationReason: 'terminated',
      fingerprint: token.fingerprint,
    });
    expect(error.message).toContain(`Token ${token.fingerprint} was revoked (terminated)`);
  });

  it('refuses an unknown token with reason unknown_token and says copies are refused', async () => {
    const authority = new AuthorityManager({ tenant: 'acme', clock: new FakeClock() });
    const token = await authority.issue(binding);
    const error = await rejection(authority.consume({ ...token }, binding));
    expect(error.details).toEqual({ field: 'token', reason: 'unknown_token' });
    expect(error.message).toContain('not issued by an authority');
  });

  it("names the fingerprint of another tenant's token and the other authority's token", async () => {
    const authority = new AuthorityManager({ tenant: 'acme', clock: new FakeClock() });
    const globex = new AuthorityManager({ tenant: 'globex', clock: new FakeClock() });
    const foreign = await globex.issue({ ...binding, tenant: 'globex' });
    const crossTenant = await rejection(authority.consume(foreign, binding));
    expect(crossTenant.code).toBe('TENANT_MISMATCH');
    expect(crossTenant.details).toEqual({ field: 'tenant', fingerprint: foreign.fingerprint });
    expect(crossTenant.message).toContain(`Token ${foreign.fingerprint} belongs to another tenant`);

    const sibling = new AuthorityManager({ tenant: 'acme', clock: new FakeClock() });
    const token = await sibling.issue(binding);
    const crossAuthority = await rejection(authority.consume(token, binding));
    expect(crossAuthority.details).toEqual({
      field: 'token',
      reason: 'foreign_authority',
      fingerprint: token.fingerprint,
    });
    expect(crossAuthority.message).toContain(`Token ${token.fingerprint} was issued by another authority`);
  });

  it('refuses to revoke another tenant, naming both tenants', async () => {
    const authority = new AuthorityManager({ tenant: 'acme', clock: new FakeClock() });
    for (const attempt of [
      authority.revokeSession('globex', 's', 'explicit'),
      authority.revokeTenant('globex', 'explicit'),
    ]) {
      const error = await rejection(attempt);
      expect(error.code).toBe('TENANT_MISMATCH');
      expect(error.details).toEqual({ field: 'tenant' });
      expect(error.message).toContain('serves tenant "acme", not "globex"');
    }
  });

  it('does not revoke a token of another manager sharing its store', async () => {
    const store = new InMemoryTokenStore();
    const issuer = new AuthorityManager({ tenant: 'acme', clock: new FakeClock(), store });
    const other = new AuthorityManager({ tenant: 'acme', clock: new FakeClock(), store });
    const token = await issuer.issue(binding);
    expect(await other.revoke(token, 'explicit')).toBe(false);
    await expect(issuer.consume(token, binding)).resolves.toBeUndefined();
  });
});

describe('AuthorityManager forgets expired tokens on purge, with a store that expires records itself', () => {
  async function threeTokens() {
    const clock = new FakeClock(0);
    const authority = new AuthorityManager({ tenant: 'acme', clock, store: selfExpiringStore(), ttlMs: 100 });
    const first = await authority.issue(step(0));
    clock.set(30);
    const second = await authority.issue(step(1));
    clock.set(50);
    const third = await authority.issue(step(2));
    return { clock, authority, first, second, third };
  }

  it('reports a token that expired (exactly at the purge) before its session was revoked as expired, not revoked', async () => {
    const { clock, authority, first, second } = await threeTokens();
    clock.set(100);
    await authority.purgeExpired();
    // The store still holds all three records: the revocation finds them.
    expect(await authority.revokeSession('acme', 'session-1', 'terminated')).toBe(3);
    const expired = await rejection(authority.consume(first, step(0)));
    expect(expired.code).toBe('AUTHORITY_EXPIRED');
    const revoked = await rejection(authority.consume(second, step(1)));
    expect(revoked.details).toMatchObject({ reason: 'revoked', revocationReason: 'terminated' });
  });

  it('keeps the earliest remaining expiry, so the next purge at that time forgets the next token', async () => {
    const { clock, authority, first, second, third } = await threeTokens();
    clock.set(100);
    await authority.purgeExpired();
    clock.set(130);
    await authority.purgeExpired();
    expect(await authority.revokeSession('acme', 'session-1', 'terminated')).toBe(3);
    expect((await rejection(authority.consume(first, step(0)))).code).toBe('AUTHORITY_EXPIRED');
    expect((await rejection(authority.consume(second, step(1)))).code).toBe('AUTHORITY_EXPIRED');
    const revoked = await rejection(authority.consume(third, step(2)));
    expect(revoked.details).toMatchObject({ reason: 'revoked', revocationReason: 'terminated' });
  });
});
