import { inspect } from 'node:util';
import { type ApeError, type AuthorityToken, TOKEN_BINDING_FIELDS, type TokenStore } from '@ape/core';
import { FakeClock } from '@ape/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthorityManager } from './authority-manager.js';
import { InMemoryTokenStore } from './in-memory-token-store.js';
import { binding, rejection } from './__fixtures__/binding.js';
import { recordingStore } from './__fixtures__/recording-store.js';

/** Where the managers under test keep their tokens: every behaviour below holds for both. */
const STORES = [
  ['kept by the manager', (): TokenStore | undefined => undefined],
  ['in an InMemoryTokenStore', (): TokenStore | undefined => new InMemoryTokenStore()],
] as const;

function managerWith(store: TokenStore | undefined, options: { ttlMs?: number; store?: TokenStore } = {}) {
  const clock = new FakeClock();
  const authority = new AuthorityManager({ tenant: 'acme', clock, ...(store && { store }), ...options });
  return { clock, authority };
}

const mismatches: Record<(typeof TOKEN_BINDING_FIELDS)[number], unknown> = {
  tenant: 'other',
  session: 'session-2',
  intentVersion: 'd'.repeat(64),
  planHash: 'e'.repeat(64),
  stepIndex: 1,
  action: 'write_file',
  argsHash: 'f'.repeat(64),
};

describe.each(STORES)('AuthorityManager issue and consume (tokens %s)', (_where, makeStore) => {
  const setup = (options: { ttlMs?: number } = {}) => managerWith(makeStore(), options);

  it('consumes a token issued for the same binding once', async () => {
    const { authority } = setup();
    const token = await authority.issue(binding);
    await expect(authority.consume(token, binding)).resolves.toBeUndefined();
  });

  it('issues a frozen token with a 16-hex fingerprint and the TTL from the clock', async () => {
    const { authority, clock } = setup({ ttlMs: 5_000 });
    const token = await authority.issue(binding);
    expect(Object.isFrozen(token)).toBe(true);
    expect(token.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(token.issuedAt).toBe(clock.now());
    expect(token.expiresAt).toBe(clock.now() + 5_000);
  });

  it('defaults the TTL to 60 seconds', () => {
    expect(new AuthorityManager({ tenant: 'acme' }).ttlMs).toBe(60_000);
  });

  it('refuses a replayed token', async () => {
    const { authority } = setup();
    const token = await authority.issue(binding);
    await authority.consume(token, binding);
    const error = await rejection(authority.consume(token, binding));
    expect(error.code).toBe('UNAUTHORIZED_ACTION');
    expect(error.details['reason']).toBe('replay');
  });

  it('lets exactly one of 1,000 concurrent consumers use a token', async () => {
    const { authority } = setup();
    const token = await authority.issue(binding);
    const results = await Promise.allSettled(
      Array.from({ length: 1_000 }, () => authority.consume(token, binding)),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'rejected') expect((result.reason as ApeError).code).toBe('UNAUTHORIZED_ACTION');
    }
  });

  for (const field of TOKEN_BINDING_FIELDS.filter((name) => name !== 'tenant')) {
    it(`refuses a consume whose ${field} differs and names the field`, async () => {
      const { authority } = setup();
      const token = await authority.issue(binding);
      const error = await rejection(authority.consume(token, { ...binding, [field]: mismatches[field] }));
      expect(error.code).toBe('UNAUTHORIZED_ACTION');
      expect(error.details['field']).toBe(field);
    });
  }

  it('voids a token presented with a wrong binding, so the right binding fails afterwards', async () => {
    const { authority } = setup();
    const token = await authority.issue(binding);
    await rejection(authority.consume(token, { ...binding, stepIndex: 1 }));
    const error = await rejection(authority.consume(token, binding));
    expect(error.code).toBe('UNAUTHORIZED_ACTION');
    expect(error.details['reason']).toBe('voided');
  });

  it('refuses a consume for another tenant with TENANT_MISMATCH and revokes the token', async () => {
    const { authority } = setup();
    const token = await authority.issue(binding);
    const error = await rejection(authority.consume(token, { ...binding, tenant: 'other' }));
    expect(error.code).toBe('TENANT_MISMATCH');
    const again = await rejection(authority.consume(token, binding));
    expect(again.details['revocationReason']).toBe('tenant_mismatch');
  });

  it('refuses to issue for another tenant', async () => {
    const { authority } = setup();
    const error = await rejection(authority.issue({ ...binding, tenant: 'other' }));
    expect(error.code).toBe('TENANT_MISMATCH');
  });

  it('refuses to issue for a malformed binding, naming the field', async () => {
    const { authority } = setup();
    for (const [field, value] of [
      ['stepIndex', -1],
      ['stepIndex', 1.5],
      ['argsHash', 'not-a-hash'],
      ['session', ''],
    ] as const) {
      const error = await rejection(authority.issue({ ...binding, [field]: value }));
      expect(error.code).toBe('UNAUTHORIZED_ACTION');
      expect(error.details['field']).toBe(field);
    }
  });

  it('refuses an empty tenant or a non-positive TTL at construction', () => {
    expect(() => new AuthorityManager({ tenant: '' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => new AuthorityManager({ tenant: 'acme', ttlMs: 0 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});

describe.each(STORES)('AuthorityManager refuses forged tokens (tokens %s)', (_where, makeStore) => {
  const setup = (options: { ttlMs?: number } = {}) => managerWith(makeStore(), options);

  const forgeries: Record<string, (token: AuthorityToken) => AuthorityToken> = {
    'a spread copy': (token) => ({ ...token }),
    'a structuredClone': (token) => structuredClone(token),
    'a JSON round trip': (token) => JSON.parse(JSON.stringify(token)) as AuthorityToken,
    'a hand-built object with the same fields': (token) =>
      Object.freeze({ fingerprint: token.fingerprint, issuedAt: token.issuedAt, expiresAt: token.expiresAt }),
    'an object whose prototype is the token': (token) => Object.create(token) as AuthorityToken,
    'a Proxy of the token': (token) => new Proxy(token, {}),
  };

  for (const [name, forge] of Object.entries(forgeries)) {
    it(`refuses ${name}`, async () => {
      const { authority } = setup();
      const token = await authority.issue(binding);
      const error = await rejection(authority.consume(forge(token), binding));
      expect(error.code).toBe('UNAUTHORIZED_ACTION');
      expect(error.details['field']).toBe('token');
      await expect(authority.consume(token, binding)).resolves.toBeUndefined();
    });
  }

  it('cannot be minted through the token class: its constructor refuses every caller but issue', async () => {
    const { authority } = setup();
    const token = await authority.issue(binding);
    const Token = token.constructor as new (...args: unknown[]) => AuthorityToken;
    expect(
      () =>
        new Token(
          Symbol('ape.authority.mint'),
          authority,
          'x',
          binding,
          'f'.repeat(16),
          0,
          Number.MAX_SAFE_INTEGER,
        ),
    ).toThrow(TypeError);
    expect(Object.isFrozen(Token)).toBe(true);
    await expect(authority.consume(token, binding)).resolves.toBeUndefined();
  });

  it('refuses null and primitives', async () => {
    const { authority } = setup();
    for (const value of [null, undefined, 'token', 42]) {
      const error = await rejection(authority.consume(value as unknown as AuthorityToken, binding));
      expect(error.code).toBe('UNAUTHORIZED_ACTION');
    }
  });

  it('refuses a token from another manager of the same tenant', async () => {
    const { authority } = setup();
    const other = new AuthorityManager({ tenant: 'acme', clock: new FakeClock() });
    const token = await other.issue(binding);
    const error = await rejection(authority.consume(token, binding));
    expect(error.code).toBe('UNAUTHORIZED_ACTION');
    expect(error.details['reason']).toBe('foreign_authority');
  });

  it('refuses a token from another tenant with TENANT_MISMATCH and revokes it at its issuer', async () => {
    const { authority } = setup();
    const other = new AuthorityManager({ tenant: 'globex', clock: new FakeClock() });
    const foreignBinding = { ...binding, tenant: 'globex' };
    const token = await other.issue(foreignBinding);
    const error = await rejection(authority.consume(token, binding));
    expect(error.code).toBe('TENANT_MISMATCH');
    await new Promise((resolve) => setImmediate(resolve));
    expect((await rejection(other.consume(token, foreignBinding))).details['revocationReason']).toBe(
      'tenant_mismatch',
    );
  });
});

describe.each(STORES)('AuthorityManager expiry (tokens %s)', (_where, makeStore) => {
  const setup = (options: { ttlMs?: number } = {}) => managerWith(makeStore(), options);

  it('accepts a token one millisecond before expiry', async () => {
    const { authority, clock } = setup({ ttlMs: 1_000 });
    const token = await authority.issue(binding);
    clock.advance(999);
    await expect(authority.consume(token, binding)).resolves.toBeUndefined();
  });

  it('refuses a token at its expiry time with AUTHORITY_EXPIRED', async () => {
    const { authority, clock } = setup({ ttlMs: 1_000 });
    const token = await authority.issue(binding);
    clock.advance(1_000);
    expect((await rejection(authority.consume(token, binding))).code).toBe('AUTHORITY_EXPIRED');
  });

  it('reports AUTHORITY_EXPIRED for a token already purged', async () => {
    const { authority, clock } = setup({ ttlMs: 1_000 });
    const token = await authority.issue(binding);
    clock.advance(5_000);
    expect(await authority.purgeExpired()).toBe(1);
    expect(await authority.outstandingCount()).toBe(0);
    expect((await rejection(authority.consume(token, binding))).code).toBe('AUTHORITY_EXPIRED');
  });

  it('keeps memory bounded: expired tokens are purged while issuing', async () => {
    const { authority, clock } = setup({ ttlMs: 10 });
    for (let index = 0; index < 1_000; index++) {
      await authority.issue({ ...binding, stepIndex: index });
      clock.advance(10);
    }
    expect(await authority.outstandingCount()).toBeLessThan(100);
  });

  it('no longer holds a consumed token', async () => {
    const { authority } = setup();
    const token = await authority.issue(binding);
    await authority.consume(token, binding);
    expect(await authority.outstandingCount()).toBe(0);
  });
});

describe.each(STORES)('AuthorityManager revocation (tokens %s)', (_where, makeStore) => {
  const setup = (options: { ttlMs?: number } = {}) => managerWith(makeStore(), options);

  it('revokes one token', async () => {
    const { authority } = setup();
    const token = await authority.issue(binding);
    const kept = await authority.issue({ ...binding, stepIndex: 1 });
    expect(await authority.revoke(token, 'explicit')).toBe(true);
    expect(await authority.revoke(token, 'explicit')).toBe(false);
    const error = await rejection(authority.consume(token, binding));
    expect(error.code).toBe('UNAUTHORIZED_ACTION');
    expect(error.details['reason']).toBe('revoked');
    await expect(authority.consume(kept, { ...binding, stepIndex: 1 })).resolves.toBeUndefined();
  });

  it('does not revoke a token it did not issue', async () => {
    const { authority } = setup();
    const token = await authority.issue(binding);
    expect(await authority.revoke({ ...token }, 'explicit')).toBe(false);
  });

  it('revokes every token of a session and no other session', async () => {
    const { authority } = setup();
    const first = await authority.issue(binding);
    const second = await authority.issue({ ...binding, stepIndex: 1 });
    const otherSession = await authority.issue({ ...binding, session: 'session-2' });
    expect(await authority.revokeSession('acme', 'session-1', 'terminated')).toBe(2);
    for (const [token, stepIndex] of [
      [first, 0],
      [second, 1],
    ] as const) {
      const error = await rejection(authority.consume(token, { ...binding, stepIndex }));
      expect(error.details['revocationReason']).toBe('terminated');
    }
    await expect(
      authority.consume(otherSession, { ...binding, session: 'session-2' }),
    ).resolves.toBeUndefined();
  });

  it('revokes every token of the tenant', async () => {
    const { authority } = setup();
    await authority.issue(binding);
    await authority.issue({ ...binding, session: 'session-2' });
    expect(await authority.revokeTenant('acme', 'policy_reloaded')).toBe(2);
    expect(await authority.outstandingCount()).toBe(0);
  });

  it('refuses to revoke the tokens of another tenant', async () => {
    const { authority } = setup();
    expect((await rejection(authority.revokeSession('other', 's', 'explicit'))).code).toBe('TENANT_MISMATCH');
    expect((await rejection(authority.revokeTenant('other', 'explicit'))).code).toBe('TENANT_MISMATCH');
  });
});

describe('AuthorityManager with a TokenStore', () => {
  it('purges only what expired when tokens with different lifetimes share a store', async () => {
    const clock = new FakeClock();
    const store = new InMemoryTokenStore();
    const long = new AuthorityManager({ tenant: 'acme', clock, store, ttlMs: 10_000 });
    const short = new AuthorityManager({ tenant: 'acme', clock, store, ttlMs: 100 });
    const kept = await long.issue(binding);
    await short.issue({ ...binding, stepIndex: 1 });
    clock.advance(50);
    expect(await short.purgeExpired()).toBe(0);
    clock.advance(100);
    expect(await short.purgeExpired()).toBe(1);
    expect(await store.size()).toBe(1);
    await long.consume(kept, binding);
    expect(await store.size()).toBe(0);
  });

  it('draws every token id fresh from the CSPRNG pool: 256-bit hex, never repeated across refills', async () => {
    const { store, records } = recordingStore();
    const { authority } = managerWith(store);
    for (let index = 0; index < 400; index++) await authority.issue({ ...binding, stepIndex: index });
    const ids = records.map((record) => record.id);
    expect(ids).toHaveLength(400);
    expect(new Set(ids).size).toBe(400);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      expect(id).not.toBe('0'.repeat(64));
    }
  });
});

describe('AuthorityManager without a store', () => {
  it('gives each token 64 random bits as its fingerprint, never repeated across pool refills', async () => {
    const { authority } = managerWith(undefined);
    // 9,000 fingerprints of 8 bytes each are more than one 64 KiB pool: at least one refill.
    const fingerprints = new Set<string>();
    for (let index = 0; index < 9_000; index++) {
      const token = authority.issueSync({ ...binding, stepIndex: index });
      expect(token?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
      expect(token?.fingerprint).not.toBe('0'.repeat(16));
      fingerprints.add(token?.fingerprint ?? '');
    }
    expect(fingerprints.size).toBe(9_000);
  });

  it('answers synchronously and holds nothing once its tokens are consumed, revoked or purged', async () => {
    const { authority, clock } = managerWith(undefined, { ttlMs: 100 });
    const consumed = authority.issueSync(binding);
    const revoked = authority.issueSync({ ...binding, stepIndex: 1 });
    authority.issueSync({ ...binding, session: 'session-2' });
    expect(await authority.outstandingCount()).toBe(3);
    expect(consumed && authority.consumeSync(consumed, binding)).toBe(true);
    expect(revoked && (await authority.revoke(revoked, 'explicit'))).toBe(true);
    expect(await authority.outstandingCount()).toBe(1);
    clock.advance(100);
    expect(await authority.purgeExpired()).toBe(1);
    expect(await authority.outstandingCount()).toBe(0);
    expect(await authority.purgeExpired()).toBe(0);
  });
});

describe('AuthorityManager never reveals token ids', () => {
  it('stringifies a token as its fingerprint only', async () => {
    const { store, records } = recordingStore();
    const spied = new AuthorityManager({ tenant: 'acme', clock: new FakeClock(), store });
    const token = await spied.issue(binding);
    const id = records[0]?.id ?? '';
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    for (const text of [JSON.stringify(token), inspect(token), String(token), JSON.stringify({ ...token })]) {
      expect(text).not.toContain(id);
      expect(text).toContain(token.fingerprint);
    }
    const error = await rejection(spied.consume(token, { ...binding, action: 'x' }));
    expect(JSON.stringify(error)).not.toContain(id);
    expect(error.message).not.toContain(id);
  });

  it.each(STORES)('issues distinct fingerprints, tokens %s (property)', async (_where, makeStore) => {
    const { authority } = managerWith(makeStore());
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 50 }), async (count) => {
        const tokens = await Promise.all(
          Array.from({ length: count }, (_, stepIndex) => authority.issue({ ...binding, stepIndex })),
        );
        expect(new Set(tokens.map((token) => token.fingerprint)).size).toBe(count);
      }),
      { numRuns: 20 },
    );
  });
});

describe('AuthorityManager with a failing store', () => {
  it('propagates a store failure from consume instead of accepting the token', async () => {
    const failing: TokenStore = {
      put: () => undefined,
      take: () => {
        throw new Error('store down');
      },
      removeWhere: () => [],
      purgeExpired: () => 0,
      size: () => 0,
    };
    const { authority } = managerWith(failing);
    const token = await authority.issue(binding);
    await expect(authority.consume(token, binding)).rejects.toThrow('store down');
  });
});

describe.each(STORES)(
  'AuthorityManager with a clock that is not a finite number (tokens %s)',
  (_where, makeStore) => {
    /** A clock whose answer the test sets; `undefined` until set, so the cast reaches runtime. */
    function brokenClockSetup() {
      const answer: { value: unknown } = { value: 1_000 };
      const store = makeStore();
      const authority = new AuthorityManager({
        tenant: 'acme',
        clock: { now: () => answer.value as number },
        ...(store && { store }),
        ttlMs: 1_000,
      });
      return { answer, authority };
    }

    it.each([
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
      ['a string', '1000'],
      ['undefined', undefined],
    ])(
      'refuses to issue when the clock returns %s, with CLOCK_INVALID, and stores nothing',
      async (_name, value) => {
        const { answer, authority } = brokenClockSetup();
        answer.value = value;
        const error = await rejection(authority.issue(binding));
        expect(error.code).toBe('CLOCK_INVALID');
        expect(error.details['operation']).toBe('issue');
        expect(error.message).toContain('Fix the clock');
        expect(await authority.outstandingCount()).toBe(0);
      },
    );

    it.each([
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
      ['a string', 'later'],
    ])('refuses to consume when the clock returns %s, with CLOCK_INVALID', async (_name, value) => {
      const { answer, authority } = brokenClockSetup();
      const token = await authority.issue(binding);
      answer.value = value;
      const error = await rejection(authority.consume(token, binding));
      expect(error.code).toBe('CLOCK_INVALID');
      expect(error.details['operation']).toBe('consume');
      // Once the clock is sane again, the expiry still holds: the token issued at 1,000 ends at 2,000.
      answer.value = 2_000;
      expect((await rejection(authority.consume(token, binding))).code).toBe('AUTHORITY_EXPIRED');
    });

    it('never issues a token that outlives its TTL because the clock said NaN (the reported bypass)', async () => {
      const { answer, authority } = brokenClockSetup();
      answer.value = Number.NaN;
      expect((await rejection(authority.issue(binding))).code).toBe('CLOCK_INVALID');
      answer.value = 1_000;
      const token = await authority.issue(binding);
      expect(token.expiresAt).toBe(2_000);
      answer.value = Number.NaN;
      expect((await rejection(authority.consume(token, binding))).code).toBe('CLOCK_INVALID');
      answer.value = 10_000;
      expect((await rejection(authority.consume(token, binding))).code).toBe('AUTHORITY_EXPIRED');
    });

    it('refuses to purge when the clock returns NaN, with CLOCK_INVALID', async () => {
      const { answer, authority } = brokenClockSetup();
      await authority.issue(binding);
      answer.value = Number.NaN;
      const error = await rejection(authority.purgeExpired());
      expect(error.code).toBe('CLOCK_INVALID');
      expect(error.details['operation']).toBe('purge');
    });
  },
);
