import { describe, expect, it } from 'vitest';
import type { UsageCounter, UsageStore } from '../ports/usage-store.js';
import { runBeginContract } from './usage-begin-contract.js';
import { key, reservationOf, T0 } from './usage-contract-support.js';

/** Options of {@link runUsageStoreContract}. */
export interface UsageStoreContractOptions {
  readonly name?: string;
  /**
   * Whether the store implements `begin` and `undo` (one store call per gated call); default
   * `true`. Pass `false` for a store that implements neither: the suite then checks that it has
   * neither (the runtime falls back to three calls).
   */
  readonly begin?: boolean;
}

/**
 * The contract every {@link UsageStore} must pass, as a vitest suite. Call it at the top level of a
 * test file with a factory returning a fresh, empty store (a shared store: one whose keys no other
 * test uses): `runUsageStoreContract(() => createInMemoryUsageStore(), { name: 'in-memory' })`.
 */
export function runUsageStoreContract(
  create: () => UsageStore | Promise<UsageStore>,
  options: UsageStoreContractOptions = {},
): void {
  describe(`UsageStore contract${options.name === undefined ? '' : `: ${options.name}`}`, () => {
    const reads: UsageCounter = { key: key('acme', 'session', 's1', 'reads'), max: 2 };

    it('admits uses up to max and then refuses, naming the counter, its uses and its max', async () => {
      const store = await create();
      expect((await store.acquire({ counters: [reads], now: T0 })).ok).toBe(true);
      expect((await store.acquire({ counters: [reads], now: T0 + 1 })).ok).toBe(true);
      expect(await store.acquire({ counters: [reads], now: T0 + 2 })).toEqual({
        ok: false,
        key: reads.key,
        used: 2,
        max: 2,
      });
      expect(await store.usage([reads], T0 + 3)).toEqual([2]);
    });

    it('admits nothing under max 0', async () => {
      const store = await create();
      const none = { key: key('acme', 'tenant', 'acme', 'never'), max: 0 };
      expect(await store.acquire({ counters: [none], now: T0 })).toMatchObject({
        ok: false,
        used: 0,
        max: 0,
      });
    });

    it('is all-or-nothing: a refused counter leaves every other counter unchanged', async () => {
      const store = await create();
      const full = { key: key('acme', 'session', 's1', 'full'), max: 1 };
      const roomy = { key: key('acme', 'session', 's1', 'roomy'), max: 10 };
      reservationOf(await store.acquire({ counters: [full], now: T0 }));
      const refused = await store.acquire({ counters: [roomy, full], now: T0 });
      expect(refused).toMatchObject({ ok: false, key: full.key });
      expect(await store.usage([roomy, full], T0)).toEqual([0, 1]);
    });

    it('admits exactly max of many concurrent acquisitions of one counter', async () => {
      const store = await create();
      const counter = { key: key('acme', 'lineage', 'l1', 'burst'), max: 7 };
      const results = await Promise.all(
        Array.from({ length: 50 }, () => Promise.resolve(store.acquire({ counters: [counter], now: T0 }))),
      );
      expect(results.filter((result) => result.ok)).toHaveLength(7);
      expect(await store.usage([counter], T0)).toEqual([7]);
    });

    it('undoes a reservation once: a second release, or one of an unknown reservation, changes nothing', async () => {
      const store = await create();
      const first = reservationOf(await store.acquire({ counters: [reads], now: T0 }));
      reservationOf(await store.acquire({ counters: [reads], now: T0 }));
      await store.release(first);
      expect(await store.usage([reads], T0)).toEqual([1]);
      await store.release(first);
      await store.release({ id: 'never-issued', keys: [reads.key], at: T0 });
      expect(await store.usage([reads], T0)).toEqual([1]);
      expect((await store.acquire({ counters: [reads], now: T0 })).ok).toBe(true);
      expect((await store.acquire({ counters: [reads], now: T0 })).ok).toBe(false);
    });

    it('gives every acquisition its own reservation id', async () => {
      const store = await create();
      const counter = { key: key('acme', 'session', 's1', 'ids'), max: 5 };
      const one = reservationOf(await store.acquire({ counters: [counter], now: T0 }));
      const two = reservationOf(await store.acquire({ counters: [counter], now: T0 }));
      expect(one.id).not.toBe(two.id);
      expect(one.keys).toEqual([counter.key]);
    });

    it('slides a window: a use counts while now - usedAt < windowMs', async () => {
      const store = await create();
      const perMinute = { key: key('acme', 'tenant', 'acme', 'per-minute'), max: 2, windowMs: 60_000 };
      reservationOf(await store.acquire({ counters: [perMinute], now: T0 }));
      reservationOf(await store.acquire({ counters: [perMinute], now: T0 + 30_000 }));
      expect((await store.acquire({ counters: [perMinute], now: T0 + 59_999 })).ok).toBe(false);
      expect(await store.usage([perMinute], T0 + 59_999)).toEqual([2]);
      expect(await store.usage([perMinute], T0 + 60_000)).toEqual([1]);
      expect((await store.acquire({ counters: [perMinute], now: T0 + 60_000 })).ok).toBe(true);
      expect((await store.acquire({ counters: [perMinute], now: T0 + 60_001 })).ok).toBe(false);
      expect(await store.usage([perMinute], T0 + 200_000)).toEqual([0]);
    });

    it('releases a windowed use', async () => {
      const store = await create();
      const windowed = { key: key('acme', 'session', 's1', 'w'), max: 1, windowMs: 1_000 };
      const reservation = reservationOf(await store.acquire({ counters: [windowed], now: T0 }));
      await store.release(reservation);
      expect(await store.usage([windowed], T0)).toEqual([0]);
      expect((await store.acquire({ counters: [windowed], now: T0 })).ok).toBe(true);
    });

    it('never lets a counter without a window forget a use', async () => {
      const store = await create();
      const forever = { key: key('acme', 'session', 's1', 'forever'), max: 1 };
      reservationOf(await store.acquire({ counters: [forever], now: T0 }));
      expect((await store.acquire({ counters: [forever], now: T0 + 10 * 365 * 86_400_000 })).ok).toBe(false);
    });

    it('keeps keys isolated, also keys that share a prefix or differ only in their tenant', async () => {
      const store = await create();
      const acme = { key: key('acme', 'session', 's1', 'reads'), max: 1 };
      const globex = { key: key('globex', 'session', 's1', 'reads'), max: 1 };
      const longer = { key: `${acme.key}x`, max: 1 };
      reservationOf(await store.acquire({ counters: [acme], now: T0 }));
      expect((await store.acquire({ counters: [globex], now: T0 })).ok).toBe(true);
      expect((await store.acquire({ counters: [longer], now: T0 })).ok).toBe(true);
      expect(await store.usage([acme, globex, longer], T0)).toEqual([1, 1, 1]);
    });

    it('remembers the previous action per key', async () => {
      const store = await create();
      const lineage = key('acme', 'lineage', 'l1', 'previous');
      const other = key('acme', 'lineage', 'l2', 'previous');
      expect(await store.previousAction(lineage)).toBeUndefined();
      await store.setPreviousAction([lineage], 'read_file');
      await store.setPreviousAction([lineage], 'list_dir');
      expect(await store.previousAction(lineage)).toBe('list_dir');
      expect(await store.previousAction(other)).toBeUndefined();
    });

    it('reports usage in request order without recording a use', async () => {
      const store = await create();
      const a = { key: key('acme', 'session', 's1', 'a'), max: 3 };
      const b = { key: key('acme', 'session', 's1', 'b'), max: 3 };
      reservationOf(await store.acquire({ counters: [b], now: T0 }));
      expect(await store.usage([a, b], T0)).toEqual([0, 1]);
      expect(await store.usage([a, b], T0)).toEqual([0, 1]);
    });

    if (options.begin === false) {
      it('implements neither begin nor undo (the runtime makes three calls)', async () => {
        const store = await create();
        expect(store.begin).toBeUndefined();
        expect(store.undo).toBeUndefined();
      });
    } else {
      runBeginContract(create);
    }
  });
}
