import type { ApeError, TokenBinding } from '@ape/core';
import { FakeClock } from '@ape/core/testing';
import { describe, expect, it } from 'vitest';
import { AuthorityManager, DEFAULT_TOKEN_TTL_MS } from './authority-manager.js';
import { InMemoryTokenStore } from './in-memory-token-store.js';
import { binding, rejection } from './__fixtures__/binding.js';

describe('AuthorityManager binding and construction errors', () => {
  it('refuses to issue for a binding that is not an object, with UNAUTHORIZED_ACTION on field binding', async () => {
    const authority = new AuthorityManager({ tenant: 'acme' });
    for (const value of [null, undefined, 'acme', 7]) {
      const error = await rejection(authority.issue(value as unknown as TokenBinding));
      expect(error.code).toBe('UNAUTHORIZED_ACTION');
      expect(error.details).toEqual({ field: 'binding' });
      expect(error.message).toBe('A token binding must be an object.');
    }
  });

  it('names each malformed field: negative or fractional step, upper-case hash, empty strings', async () => {
    const authority = new AuthorityManager({ tenant: 'acme' });
    const cases: [keyof TokenBinding, unknown][] = [
      ['tenant', ''],
      ['tenant', undefined],
      ['stepIndex', -1],
      ['stepIndex', 0.5],
      ['stepIndex', '0'],
      ['argsHash', 'C'.repeat(64)],
      ['argsHash', 'c'.repeat(63)],
      ['argsHash', 7],
      ['session', ''],
      ['action', 3],
      ['planHash', ''],
      ['intentVersion', undefined],
    ];
    for (const [field, value] of cases) {
      const error = await rejection(authority.issue({ ...binding, [field]: value }));
      expect(error.code).toBe('UNAUTHORIZED_ACTION');
      expect(error.details).toEqual({ field });
      expect(error.message).toBe(`Token binding field "${field}" is missing or malformed.`);
    }
  });

  it('accepts a step index of 0, any non-empty strings and lower-case hashes, and copies only the seven fields', async () => {
    const store = new InMemoryTokenStore();
    const authority = new AuthorityManager({ tenant: 'acme', store });
    const token = await authority.issue({ ...binding, extra: 'ignored' } as TokenBinding);
    expect(await store.size()).toBe(1);
    const [record] = await store.removeWhere({ tenant: 'acme' });
    expect(record?.binding).toEqual(binding);
    expect(Object.isFrozen(record?.binding)).toBe(true);
    expect(token.expiresAt - token.issuedAt).toBe(DEFAULT_TOKEN_TTL_MS);
  });

  it('explains a bad tenant or TTL at construction with CONFIG_INVALID naming the field', () => {
    const attempts: [Record<string, unknown>, string][] = [
      [{ tenant: '' }, 'tenant'],
      [{ tenant: 7 }, 'tenant'],
      [{ tenant: 'acme', ttlMs: 0 }, 'ttlMs'],
      [{ tenant: 'acme', ttlMs: -5 }, 'ttlMs'],
      [{ tenant: 'acme', ttlMs: Number.NaN }, 'ttlMs'],
      [{ tenant: 'acme', ttlMs: Number.POSITIVE_INFINITY }, 'ttlMs'],
      [{ tenant: 'acme', ttlMs: '100' }, 'ttlMs'],
    ];
    for (const [options, field] of attempts) {
      let caught: ApeError | undefined;
      try {
        new AuthorityManager(options as never);
      } catch (error) {
        caught = error as ApeError;
      }
      expect(caught?.code).toBe('CONFIG_INVALID');
      expect(caught?.details).toEqual({ field });
    }
    expect(new AuthorityManager({ tenant: 'acme', ttlMs: 1 }).ttlMs).toBe(1);
  });
});

describe('AuthorityManager when the store answers with a record of another tenant', () => {
  it('voids the token on the tenant field, even though the call is for its own tenant', async () => {
    const store = new InMemoryTokenStore();
    const authority = new AuthorityManager({ tenant: 'acme', store });
    const token = await authority.issue(binding);
    // A shared store gone wrong: the record it hands back is bound to another tenant.
    const take = store.take.bind(store);
    store.take = (id: string) => {
      const record = take(id);
      return record === undefined
        ? undefined
        : { ...record, binding: Object.freeze({ ...record.binding, tenant: 'globex' }) };
    };
    const error = await rejection(authority.consume(token, binding));
    expect(error.code).toBe('UNAUTHORIZED_ACTION');
    expect(error.details).toEqual({ field: 'tenant', fingerprint: token.fingerprint });
    expect((await rejection(authority.consume(token, binding))).details).toMatchObject({ reason: 'voided' });
  });
});

describe('AuthorityManager when the store loses a record', () => {
  it('refuses a token whose record another manager of the shared store revoked, as not outstanding', async () => {
    const clock = new FakeClock();
    const store = new InMemoryTokenStore();
    const issuer = new AuthorityManager({ tenant: 'acme', clock, store });
    const other = new AuthorityManager({ tenant: 'acme', clock, store });
    const token = await issuer.issue(binding);
    expect(await other.revokeSession('acme', 'session-1', 'explicit')).toBe(1);
    const error = await rejection(issuer.consume(token, binding));
    expect(error.code).toBe('UNAUTHORIZED_ACTION');
    expect(error.details).toEqual({
      field: 'token',
      reason: 'not_outstanding',
      fingerprint: token.fingerprint,
    });
    expect(error.message).toBe(`Token ${token.fingerprint} is not outstanding.`);
  });

  it('reports such a token as expired once its lifetime is over', async () => {
    const clock = new FakeClock();
    const store = new InMemoryTokenStore();
    const issuer = new AuthorityManager({ tenant: 'acme', clock, store, ttlMs: 100 });
    const other = new AuthorityManager({ tenant: 'acme', clock, store });
    const token = await issuer.issue(binding);
    await other.revokeTenant('acme', 'explicit');
    clock.advance(100);
    const error = await rejection(issuer.consume(token, binding));
    expect(error.code).toBe('AUTHORITY_EXPIRED');
    expect(error.details).toEqual({ fingerprint: token.fingerprint, expiresAt: token.expiresAt });
  });
});

describe('AuthorityManager purge bookkeeping', () => {
  it('keeps the earliest remaining expiry, so a later purge drops exactly the next token to expire', async () => {
    const clock = new FakeClock(0);
    const store = new InMemoryTokenStore();
    const authority = new AuthorityManager({ tenant: 'acme', clock, store, ttlMs: 100 });
    const first = await authority.issue(binding);
    clock.set(30);
    const second = await authority.issue({ ...binding, stepIndex: 1 });
    clock.set(50);
    const third = await authority.issue({ ...binding, stepIndex: 2 });
    clock.set(100);
    expect(await authority.purgeExpired()).toBe(1);
    expect(await authority.outstandingCount()).toBe(2);
    clock.set(129);
    expect(await authority.purgeExpired()).toBe(0);
    await expect(authority.consume(second, { ...binding, stepIndex: 1 })).resolves.toBeUndefined();
    clock.set(150);
    expect(await authority.purgeExpired()).toBe(1);
    expect(await authority.outstandingCount()).toBe(0);
    expect((await rejection(authority.consume(first, binding))).code).toBe('AUTHORITY_EXPIRED');
    expect((await rejection(authority.consume(third, { ...binding, stepIndex: 2 }))).code).toBe(
      'AUTHORITY_EXPIRED',
    );
  });

  it('purges nothing and keeps working when no token is outstanding', async () => {
    const clock = new FakeClock(0);
    const authority = new AuthorityManager({ tenant: 'acme', clock, ttlMs: 10 });
    expect(await authority.purgeExpired()).toBe(0);
    const token = await authority.issue(binding);
    await authority.consume(token, binding);
    clock.set(1_000);
    expect(await authority.purgeExpired()).toBe(0);
    const later = await authority.issue(binding);
    expect(later.expiresAt).toBe(1_010);
  });
});

describe('AuthorityManager clock errors say what the clock returned', () => {
  it.each([
    [Number.NaN, 'NaN', 'NaN'],
    ['soon', 'a string', 'string'],
    [undefined, 'a undefined', 'undefined'],
  ])('names %s in the message and details', async (value, shown, detail) => {
    const authority = new AuthorityManager({ tenant: 'acme', clock: { now: () => value as number } });
    const error = await rejection(authority.issue(binding));
    expect(error.code).toBe('CLOCK_INVALID');
    expect(error.details).toEqual({ operation: 'issue', value: detail });
    expect(error.message).toBe(
      `Cannot issue a token: the clock returned ${shown}, not a finite number of milliseconds. Fix the clock passed to AuthorityManager.`,
    );
  });
});
