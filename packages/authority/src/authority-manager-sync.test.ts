import { ApeError, type AuthorityToken, type TokenBinding, type TokenRecord } from '@ape/core';
import { FakeClock } from '@ape/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthorityManager } from './authority-manager.js';
import { InMemoryTokenStore } from './in-memory-token-store.js';
import { binding } from './__fixtures__/binding.js';

/** The APE error `run` throws synchronously; anything else (a return, a non-APE error) fails the test. */
function thrown(run: () => unknown): ApeError {
  try {
    run();
  } catch (error) {
    if (ApeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a throw');
}

/** A store that answers every call with a promise (as a shared store does), delegating to a map store. */
class AsyncStore {
  readonly inner = new InMemoryTokenStore();
  calls = 0;
  async put(record: TokenRecord): Promise<void> {
    this.calls++;
    this.inner.put(record);
  }
  async take(id: string): Promise<TokenRecord | undefined> {
    this.calls++;
    return this.inner.take(id);
  }
  async removeWhere(filter: { tenant: string; session?: string }): Promise<readonly TokenRecord[]> {
    this.calls++;
    return this.inner.removeWhere(filter);
  }
  async purgeExpired(now: number): Promise<number> {
    this.calls++;
    return this.inner.purgeExpired(now);
  }
  async size(): Promise<number> {
    return this.inner.size();
  }
}

describe('AuthorityManager.issueSync and consumeSync (the default store)', () => {
  it('issue and consume without a promise; the token is single-use either way', async () => {
    const authority = new AuthorityManager({ tenant: 'acme' });
    const token = authority.issueSync(binding);
    expect(token).toBeDefined();
    expect(token).not.toBeInstanceOf(Promise);
    expect(await authority.outstandingCount()).toBe(1);
    expect(authority.consumeSync(token as AuthorityToken, binding)).toBe(true);
    expect(await authority.outstandingCount()).toBe(0);
    const replay = thrown(() => authority.consumeSync(token as AuthorityToken, binding));
    expect(replay.code).toBe('UNAUTHORIZED_ACTION');
    expect(replay.details).toMatchObject({ field: 'token', reason: 'replay' });
    // The async form sees the same state.
    await expect(authority.consume(token as AuthorityToken, binding)).rejects.toMatchObject({
      code: 'UNAUTHORIZED_ACTION',
      details: { reason: 'replay' },
    });
  });

  it('mixes freely with the async forms: a token issued by one is consumed by the other', async () => {
    const authority = new AuthorityManager({ tenant: 'acme' });
    const early = await authority.issue(binding);
    expect(authority.consumeSync(early, binding)).toBe(true);
    const late = authority.issueSync(binding) as AuthorityToken;
    await expect(authority.consume(late, binding)).resolves.toBeUndefined();
  });

  it('throws what issue rejects with: malformed binding, another tenant, a broken clock', () => {
    const authority = new AuthorityManager({ tenant: 'acme' });
    const malformed = thrown(() => authority.issueSync({ ...binding, argsHash: 'C'.repeat(64) }));
    expect(malformed.code).toBe('UNAUTHORIZED_ACTION');
    expect(malformed.details).toEqual({ field: 'argsHash' });
    const foreign = thrown(() => authority.issueSync({ ...binding, tenant: 'globex' }));
    expect(foreign.code).toBe('TENANT_MISMATCH');
    const broken = new AuthorityManager({ tenant: 'acme', clock: { now: () => Number.NaN } });
    const clock = thrown(() => broken.issueSync(binding));
    expect(clock.code).toBe('CLOCK_INVALID');
    expect(clock.details).toMatchObject({ operation: 'issue' });
  });

  it('throws what consume rejects with: wrong binding (voids), expiry, another tenant (revokes), forgery', async () => {
    const clock = new FakeClock();
    const authority = new AuthorityManager({ tenant: 'acme', clock, ttlMs: 1000 });
    const voided = authority.issueSync(binding) as AuthorityToken;
    const mismatch = thrown(() => authority.consumeSync(voided, { ...binding, action: 'send_email' }));
    expect(mismatch.code).toBe('UNAUTHORIZED_ACTION');
    expect(mismatch.details).toMatchObject({ field: 'action' });
    expect(thrown(() => authority.consumeSync(voided, binding)).details).toMatchObject({ reason: 'voided' });

    const expiring = authority.issueSync(binding) as AuthorityToken;
    clock.advance(1000);
    expect(thrown(() => authority.consumeSync(expiring, binding)).code).toBe('AUTHORITY_EXPIRED');

    const presented = authority.issueSync(binding) as AuthorityToken;
    const foreign = thrown(() => authority.consumeSync(presented, { ...binding, tenant: 'globex' }));
    expect(foreign.code).toBe('TENANT_MISMATCH');
    expect(thrown(() => authority.consumeSync(presented, binding)).details).toMatchObject({
      reason: 'revoked',
      revocationReason: 'tenant_mismatch',
    });

    const forged = { fingerprint: presented.fingerprint, issuedAt: 0, expiresAt: 0 } as AuthorityToken;
    expect(thrown(() => authority.consumeSync(forged, binding)).details).toMatchObject({
      field: 'token',
      reason: 'unknown_token',
    });
    expect(await authority.outstandingCount()).toBe(0);
  });

  it('purges expired tokens on the way, as issue does (every 64 issues)', async () => {
    const clock = new FakeClock();
    const authority = new AuthorityManager({ tenant: 'acme', clock, ttlMs: 10 });
    for (let index = 0; index < 10; index++) authority.issueSync({ ...binding, stepIndex: index });
    clock.advance(10);
    for (let index = 0; index < 54; index++) authority.issueSync(binding);
    // The 64th issue purged the ten expired records before storing its own.
    expect(await authority.outstandingCount()).toBe(54);
  });
});

describe('AuthorityManager.issueSync and consumeSync when the default store breaks its word', () => {
  it('refuse (throw) rather than hand out a promise as the answer', async () => {
    const store = new InMemoryTokenStore();
    const authority = new AuthorityManager({ tenant: 'acme', store });
    const token = authority.issueSync(binding) as AuthorityToken;
    // A patched instance: the class is the default one, its answers are not.
    const take = store.take.bind(store);
    Object.assign(store, { take: async (id: string) => take(id), put: async () => undefined });
    expect(() => authority.consumeSync(token, binding)).toThrow('the token store answered with a promise');
    expect(() => authority.issueSync(binding)).toThrow('the token store answered with a promise');
  });
});

/** A store that answers each call a timer tick later, and logs what it did in order. */
class SlowStore extends AsyncStore {
  readonly log: string[] = [];
  override async put(record: TokenRecord): Promise<void> {
    await tick();
    this.log.push('put');
    return super.put(record);
  }
  override async take(id: string): Promise<TokenRecord | undefined> {
    await tick();
    this.log.push('take');
    return super.take(id);
  }
  override async purgeExpired(now: number): Promise<number> {
    // Slower than a put: an issue that did not wait for its purge would log the put first.
    await tick();
    await tick();
    this.log.push('purge');
    return super.purgeExpired(now);
  }
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

describe('AuthorityManager waits for a store that answers later, at every step', () => {
  it('issue: the token exists only once the store has its record, and a purge finishes first', async () => {
    const clock = new FakeClock();
    const store = new SlowStore();
    const authority = new AuthorityManager({ tenant: 'acme', clock, ttlMs: 10, store });
    for (let index = 0; index < 63; index++) await authority.issue(binding);
    store.log.length = 0;
    clock.advance(10);
    const token = await authority.issue(binding);
    expect(store.log).toEqual(['purge', 'put']);
    // The 63 expired records were purged: only the new one is left.
    expect(await authority.outstandingCount()).toBe(1);
    await expect(authority.consume(token, binding)).resolves.toBeUndefined();
  });

  it('consume for another tenant: refused only after the record was taken out', async () => {
    const store = new SlowStore();
    const authority = new AuthorityManager({ tenant: 'acme', store });
    const token = await authority.issue(binding);
    await expect(authority.consume(token, { ...binding, tenant: 'globex' })).rejects.toMatchObject({
      code: 'TENANT_MISMATCH',
    });
    expect(await store.inner.size()).toBe(0);
    await expect(authority.consume(token, binding)).rejects.toMatchObject({
      details: { reason: 'revoked', revocationReason: 'tenant_mismatch' },
    });
  });

  it('revoke: resolves to false for a token no longer in the store', async () => {
    const store = new SlowStore();
    const authority = new AuthorityManager({ tenant: 'acme', store });
    const token = await authority.issue(binding);
    await authority.consume(token, binding);
    expect(await authority.revoke(token, 'explicit')).toBe(false);
    const live = await authority.issue(binding);
    expect(await authority.revoke(live, 'explicit')).toBe(true);
  });
});

describe('AuthorityManager.issueSync and consumeSync with a store that may answer later', () => {
  it('answer undefined and false and touch nothing, so the caller uses issue and consume', async () => {
    const store = new AsyncStore();
    const authority = new AuthorityManager({ tenant: 'acme', store });
    expect(authority.issueSync(binding)).toBeUndefined();
    expect(store.calls).toBe(0);
    expect(await authority.outstandingCount()).toBe(0);
    const token = await authority.issue(binding);
    expect(authority.consumeSync(token, binding)).toBe(false);
    expect(await authority.outstandingCount()).toBe(1);
    await expect(authority.consume(token, binding)).resolves.toBeUndefined();
    await expect(authority.consume(token, binding)).rejects.toMatchObject({ details: { reason: 'replay' } });
  });

  it('treat a subclass of the default store as one that may answer later', () => {
    class LoggingStore extends InMemoryTokenStore {}
    const authority = new AuthorityManager({ tenant: 'acme', store: new LoggingStore() });
    expect(authority.issueSync(binding)).toBeUndefined();
  });
});

/** One operation of the equivalence property: issue for a binding variant, or consume token `pick` with one. */
type Operation =
  | { readonly kind: 'issue'; readonly variant: number }
  | { readonly kind: 'consume'; readonly pick: number; readonly variant: number }
  | { readonly kind: 'advance'; readonly ms: number };

const VARIANTS: readonly TokenBinding[] = [
  binding,
  { ...binding, stepIndex: 1 },
  { ...binding, action: 'send_email' },
  { ...binding, tenant: 'globex' },
  { ...binding, argsHash: 'not a hash' },
];

/** What an operation did: `token`, `ok` (consumed), or the APE error's code and details (any other error is rethrown). */
function outcomeOf(run: () => unknown): string {
  try {
    const value = run();
    return value === undefined || value === true ? 'ok' : 'token';
  } catch (error) {
    return refusalOutcome(error);
  }
}

/** {@link outcomeOf} of an async operation. */
async function asyncOutcomeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    return (await run()) === undefined ? 'ok' : 'token';
  } catch (error) {
    return refusalOutcome(error);
  }
}

/** A refusal's outcome without the fingerprint, which differs between the two managers. */
function refusalOutcome(error: unknown): string {
  if (!ApeError.isInstance(error)) throw error;
  return `${error.code} ${JSON.stringify({ ...error.details, fingerprint: undefined })}`;
}

describe('the synchronous forms are the async forms answered at once', () => {
  it('any sequence of issues, consumes and clock moves gives the same outcomes and leaves the same count', async () => {
    const operation: fc.Arbitrary<Operation> = fc.oneof(
      fc.record({ kind: fc.constant('issue' as const), variant: fc.nat(VARIANTS.length - 1) }),
      fc.record({
        kind: fc.constant('consume' as const),
        pick: fc.nat(20),
        variant: fc.nat(VARIANTS.length - 1),
      }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(1500) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 40 }), async (operations) => {
        const syncClock = new FakeClock();
        const asyncClock = new FakeClock();
        const sync = new AuthorityManager({ tenant: 'acme', clock: syncClock, ttlMs: 1000 });
        const async = new AuthorityManager({ tenant: 'acme', clock: asyncClock, ttlMs: 1000 });
        const syncTokens: AuthorityToken[] = [];
        const asyncTokens: AuthorityToken[] = [];
        for (const step of operations) {
          if (step.kind === 'advance') {
            syncClock.advance(step.ms);
            asyncClock.advance(step.ms);
            continue;
          }
          const variant = VARIANTS[step.variant] as TokenBinding;
          if (step.kind === 'issue') {
            const left = outcomeOf(() => {
              const token = sync.issueSync(variant);
              if (token !== undefined) syncTokens.push(token);
              return token;
            });
            const right = await asyncOutcomeOf(async () => {
              const token = await async.issue(variant);
              asyncTokens.push(token);
              return token;
            });
            expect(left).toBe(right);
            continue;
          }
          if (syncTokens.length === 0) continue;
          const index = step.pick % syncTokens.length;
          const left = outcomeOf(() => sync.consumeSync(syncTokens[index] as AuthorityToken, variant));
          const right = await asyncOutcomeOf(() =>
            async.consume(asyncTokens[index] as AuthorityToken, variant),
          );
          expect(left).toBe(right);
        }
        expect(await sync.outstandingCount()).toBe(await async.outstandingCount());
      }),
      { numRuns: 200 },
    );
  });
});
