import type { TokenRecord } from '@ape/core';
import { runTokenStoreContract } from '@ape/core/contracts';
import { describe, expect, it } from 'vitest';
import { InMemoryTokenStore, indexedSessionSets } from './in-memory-token-store.js';

runTokenStoreContract(() => new InMemoryTokenStore(), { name: 'InMemoryTokenStore' });

function record(id: string, session: string, expiresAt = 2_000, tenant = 'acme'): TokenRecord {
  return Object.freeze({
    id,
    fingerprint: `fp-${id}`,
    binding: Object.freeze({
      tenant,
      session,
      intentVersion: 'i'.repeat(64),
      planHash: 'p'.repeat(64),
      stepIndex: 0,
      action: 'read_file',
      argsHash: 'a'.repeat(64),
    }),
    issuedAt: 0,
    expiresAt,
  });
}

/** Puts and takes one token (`<prefix><i>`) in each of `count` sessions (`<sessions><i>`): emptied sets. */
function churn(store: InMemoryTokenStore, count: number, prefix: string, sessions = 's'): void {
  for (let index = 0; index < count; index++) {
    store.put(record(`${prefix}${index}`, `${sessions}${index}`));
    expect(store.take(`${prefix}${index}`)?.id).toBe(`${prefix}${index}`);
  }
}

describe('InMemoryTokenStore index and purge bookkeeping', () => {
  it('keeps the earliest remaining expiry after a purge, so the next purge at that time drops it', () => {
    const store = new InMemoryTokenStore();
    store.put(record('first', 's1', 100));
    store.put(record('second', 's1', 130));
    store.put(record('third', 's1', 150));
    expect(store.purgeExpired(100)).toBe(1);
    expect(store.purgeExpired(129)).toBe(0);
    expect(store.purgeExpired(130)).toBe(1);
    expect(store.size()).toBe(1);
    expect(store.take('third')?.id).toBe('third');
  });

  it('reuses and drops emptied session sets without losing a record (one token per session, 1,000 sessions)', () => {
    const store = new InMemoryTokenStore();
    // Each session's set empties after its take; past 256 such sets they are all dropped at once.
    churn(store, 1_000, 't');
    // A set emptied and filled again still indexes its record; a dropped one is made anew.
    store.put(record('again', 's999'));
    store.put(record('anew', 's0'));
    store.put(record('other-tenant', 's999', 2_000, 'globex'));
    expect(store.removeWhere({ tenant: 'acme', session: 's999' }).map((item) => item.id)).toEqual(['again']);
    expect(store.removeWhere({ tenant: 'acme' }).map((item) => item.id)).toEqual(['anew']);
    expect(store.size()).toBe(1);
    expect(store.removeWhere({ tenant: 'globex' }).map((item) => item.id)).toEqual(['other-tenant']);
    expect(store.size()).toBe(0);
  });

  it('keeps its index bounded: at most 256 emptied session sets besides the live ones', () => {
    const store = new InMemoryTokenStore();
    store.put(record('live', 'L'));
    // A put into a set that holds records, and a take that leaves one: neither set is emptied.
    store.put(record('live2', 'L'));
    store.put(record('m1', 'M'));
    store.put(record('m2', 'M'));
    store.take('m1');
    expect(indexedSessionSets(store)).toBe(2);
    churn(store, 256, 't');
    // 256 emptied sets are kept for reuse; the next one drops them all.
    expect(indexedSessionSets(store)).toBe(258);
    store.put(record('again', 's7'));
    store.take('again');
    expect(indexedSessionSets(store)).toBe(258);
    store.put(record('one-more', 'fresh'));
    store.take('one-more');
    expect(indexedSessionSets(store)).toBe(2);
    // A reused set is live again: it does not count as emptied.
    store.put(record('x', 'X'));
    store.take('x');
    store.put(record('y', 'X'));
    churn(store, 256, 'v', 'w');
    expect(indexedSessionSets(store)).toBe(259);
    churn(store, 10_000, 'z', 'session-');
    expect(indexedSessionSets(store)).toBeLessThanOrEqual(3 + 256);
    expect(
      store
        .removeWhere({ tenant: 'acme' })
        .map((item) => item.id)
        .sort(),
    ).toEqual(['live', 'live2', 'm2', 'y']);
  });

  it('drops only emptied session sets: live records of other sessions and tenants stay indexed', () => {
    const store = new InMemoryTokenStore();
    store.put(record('live-a', 'A'));
    store.put(record('live-b1', 'B'));
    store.put(record('live-b2', 'B'));
    store.put(record('foreign', 'A', 2_000, 'globex'));
    // Enough emptied sets to drop them all at least twice.
    churn(store, 600, 't');
    expect(store.take('live-b1')?.id).toBe('live-b1');
    churn(store, 300, 'u');
    expect(store.removeWhere({ tenant: 'acme', session: 'A' }).map((item) => item.id)).toEqual(['live-a']);
    expect(store.removeWhere({ tenant: 'acme', session: 'B' }).map((item) => item.id)).toEqual(['live-b2']);
    expect(store.removeWhere({ tenant: 'globex' }).map((item) => item.id)).toEqual(['foreign']);
    expect(store.size()).toBe(0);
  });

  it('still removes the other records of a session after one of them was taken', () => {
    const store = new InMemoryTokenStore();
    store.put(record('a', 's1'));
    store.put(record('b', 's1'));
    expect(store.take('a')?.id).toBe('a');
    expect(store.removeWhere({ tenant: 'acme', session: 's1' }).map((item) => item.id)).toEqual(['b']);
    expect(store.size()).toBe(0);
  });

  it("still removes a tenant's other sessions after the only record of one session was taken", () => {
    const store = new InMemoryTokenStore();
    store.put(record('a', 's1'));
    store.put(record('b', 's2'));
    expect(store.take('a')?.id).toBe('a');
    expect(store.removeWhere({ tenant: 'acme' }).map((item) => item.id)).toEqual(['b']);
    expect(store.size()).toBe(0);
  });

  it('removes nothing for an unknown session of a known tenant', () => {
    const store = new InMemoryTokenStore();
    store.put(record('a', 's1'));
    expect(store.removeWhere({ tenant: 'acme', session: 'nobody' })).toEqual([]);
    expect(store.size()).toBe(1);
  });

  it('files an id taken and put again under another session under the new session only', () => {
    const store = new InMemoryTokenStore();
    store.put(record('x', 's1'));
    expect(store.take('x')?.binding.session).toBe('s1');
    store.put(record('x', 's2'));
    expect(store.removeWhere({ tenant: 'acme', session: 's1' })).toEqual([]);
    expect(store.removeWhere({ tenant: 'acme', session: 's2' }).map((item) => item.binding.session)).toEqual([
      's2',
    ]);
  });

  it('replaces a record put again under the same id: the old session or tenant no longer reaches it', () => {
    const store = new InMemoryTokenStore();
    store.put(record('x', 's1'));
    store.put(record('x', 's2'));
    expect(store.size()).toBe(1);
    expect(store.removeWhere({ tenant: 'acme', session: 's1' })).toEqual([]);
    store.put(record('x', 's1', 2_000, 'globex'));
    expect(store.removeWhere({ tenant: 'acme' })).toEqual([]);
    const [moved] = store.removeWhere({ tenant: 'globex' });
    expect(moved?.binding).toMatchObject({ tenant: 'globex', session: 's1' });
    expect(store.size()).toBe(0);
  });
});
