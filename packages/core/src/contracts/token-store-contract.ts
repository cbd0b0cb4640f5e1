import { describe, expect, it } from 'vitest';
import type { TokenRecord, TokenStore } from '../ports/token-store.js';

function record(id: string, tenant: string, session: string, expiresAt = 2_000): TokenRecord {
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
    issuedAt: 1_000,
    expiresAt,
  });
}

/**
 * The contract every {@link TokenStore} must pass, as a vitest suite. Call it at the top level of a
 * test file with a factory returning a fresh, empty store:
 * `runTokenStoreContract(() => new InMemoryTokenStore(), { name: 'InMemoryTokenStore' })`.
 */
export function runTokenStoreContract(
  create: () => TokenStore | Promise<TokenStore>,
  options: { readonly name?: string } = {},
): void {
  describe(`TokenStore contract${options.name === undefined ? '' : `: ${options.name}`}`, () => {
    it('returns a stored record once from take and then nothing', async () => {
      const store = await create();
      await store.put(record('t1', 'acme', 's1'));
      expect((await store.take('t1'))?.id).toBe('t1');
      expect(await store.take('t1')).toBeUndefined();
      expect(await store.size()).toBe(0);
    });

    it('returns undefined from take for an id it never held', async () => {
      const store = await create();
      expect(await store.take('missing')).toBeUndefined();
    });

    it('gives a record to exactly one of 1,000 concurrent takes', async () => {
      const store = await create();
      await store.put(record('t1', 'acme', 's1'));
      const results = await Promise.all(Array.from({ length: 1_000 }, async () => store.take('t1')));
      expect(results.filter((result) => result !== undefined)).toHaveLength(1);
    });

    it('removes the records of one session and leaves the others', async () => {
      const store = await create();
      await store.put(record('a', 'acme', 's1'));
      await store.put(record('b', 'acme', 's1'));
      await store.put(record('c', 'acme', 's2'));
      await store.put(record('d', 'other', 's1'));
      const removed = await store.removeWhere({ tenant: 'acme', session: 's1' });
      expect(removed.map((item) => item.id).sort()).toEqual(['a', 'b']);
      expect(await store.size()).toBe(2);
      expect(await store.take('c')).toBeDefined();
      expect(await store.take('d')).toBeDefined();
    });

    it('removes every record of one tenant and no other tenant', async () => {
      const store = await create();
      await store.put(record('a', 'acme', 's1'));
      await store.put(record('b', 'acme', 's2'));
      await store.put(record('c', 'other', 's1'));
      const removed = await store.removeWhere({ tenant: 'acme' });
      expect(removed.map((item) => item.id).sort()).toEqual(['a', 'b']);
      expect(await store.take('c')).toBeDefined();
    });

    it('removes nothing for a tenant it does not know', async () => {
      const store = await create();
      await store.put(record('a', 'acme', 's1'));
      expect(await store.removeWhere({ tenant: 'nobody' })).toEqual([]);
      expect(await store.size()).toBe(1);
    });

    it('purges records expiring at or before now and keeps later ones', async () => {
      const store = await create();
      await store.put(record('early', 'acme', 's1', 1_500));
      await store.put(record('exact', 'acme', 's1', 2_000));
      await store.put(record('late', 'acme', 's1', 2_001));
      expect(await store.purgeExpired(2_000)).toBe(2);
      expect(await store.size()).toBe(1);
      expect((await store.take('late'))?.id).toBe('late');
    });

    it('does not return a taken record from a later session removal', async () => {
      const store = await create();
      await store.put(record('a', 'acme', 's1'));
      await store.take('a');
      expect(await store.removeWhere({ tenant: 'acme', session: 's1' })).toEqual([]);
    });

    it('keeps memory bounded: size returns to zero after put and take of many records', async () => {
      const store = await create();
      for (let index = 0; index < 500; index++) await store.put(record(`t${index}`, 'acme', `s${index % 7}`));
      for (let index = 0; index < 500; index++) await store.take(`t${index}`);
      expect(await store.size()).toBe(0);
    });
  });
}
