import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UsageAcquireResult, UsageBeginResult } from '../ports/usage-store.js';
import { replayUsageBeginSchedule } from '../contracts/usage-begin-contract.js';
import { runUsageStoreContract } from '../contracts/usage-store-contract.js';
import { createInMemoryUsageStore } from './in-memory-usage-store.js';

runUsageStoreContract(() => createInMemoryUsageStore(), { name: 'createInMemoryUsageStore' });

describe('createInMemoryUsageStore', () => {
  const T0 = Date.UTC(2026, 0, 1);

  it('refuses malformed requests with a RangeError (the runtime turns it into a DENY)', () => {
    const store = createInMemoryUsageStore();
    const bad: unknown[] = [
      { counters: 'x', now: T0 },
      { counters: [{ key: 1, max: 1 }], now: T0 },
      { counters: [{ key: 'k', max: -1 }], now: T0 },
      { counters: [{ key: 'k', max: 1.5 }], now: T0 },
      { counters: [{ key: 'k', max: 1, windowMs: 0 }], now: T0 },
      { counters: [{ key: 'k', max: 1, windowMs: Number.NaN }], now: T0 },
      { counters: [{ key: 'k', max: 1 }], now: Number.NaN },
      null,
    ];
    for (const request of bad) expect(() => store.acquire(request as never)).toThrow(RangeError);
    expect(() => store.usage([{ key: 'k', max: 1 }], Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => store.setPreviousAction('k' as never, 'a')).toThrow(RangeError);
    expect(() => createInMemoryUsageStore({ maxReservations: -1 })).toThrow(RangeError);
    expect(() => createInMemoryUsageStore({ maxWrites: 1.5 })).toThrow(RangeError);
  });

  it('forgets the oldest reservation past maxReservations, and its use then stays counted', () => {
    const store = createInMemoryUsageStore({ maxReservations: 1 });
    const counter = { key: 'acme\u0000session\u0000s\u0000reads', max: 5 };
    const first = store.acquire({ counters: [counter], now: T0 }) as UsageAcquireResult;
    const second = store.acquire({ counters: [counter], now: T0 }) as UsageAcquireResult;
    if (!first.ok || !second.ok) throw new Error('expected room');
    store.release(first.reservation);
    expect(store.usage([counter], T0)).toEqual([2]);
    store.release(second.reservation);
    expect(store.usage([counter], T0)).toEqual([1]);
  });

  it('counts two counters of one request that share a key as two uses', () => {
    const store = createInMemoryUsageStore();
    const counter = { key: 'k', max: 1 };
    expect(store.acquire({ counters: [counter, counter], now: T0 })).toMatchObject({ ok: false, used: 1 });
    expect(store.usage([counter], T0)).toEqual([0]);
  });

  it('never holds more than max uses in any window, whatever the order of acquisitions and releases', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 2_000 })), { maxLength: 60 }),
        (max, windowMs, operations) => {
          const store = createInMemoryUsageStore();
          const counter = { key: 'k', max, windowMs };
          const live: { at: number; reservation: { id: string; keys: readonly string[]; at: number } }[] = [];
          let now = T0;
          for (const [release, step] of operations) {
            now += step;
            if (release && live.length > 0) {
              const [taken] = live.splice(step % live.length, 1);
              store.release(taken!.reservation);
              continue;
            }
            const result = store.acquire({ counters: [counter], now }) as UsageAcquireResult;
            if (result.ok) live.push({ at: now, reservation: result.reservation });
            const inWindow = live.filter((use) => now - use.at < windowMs).length;
            expect(inWindow).toBeLessThanOrEqual(max);
            expect(store.usage([counter], now)).toEqual([inWindow]);
          }
        },
      ),
    );
  });

  it('keeps begin and undo to the model under any schedule: the previous action is never an undone write (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 6 }),
        fc.array(
          fc.oneof(
            {
              weight: 4,
              arbitrary: fc.record({
                kind: fc.constant('begin' as const),
                action: fc.constantFrom('a', 'b', 'c'),
              }),
            },
            {
              weight: 4,
              arbitrary: fc.record({ kind: fc.constant('undo' as const), nth: fc.nat({ max: 40 }) }),
            },
            {
              weight: 1,
              arbitrary: fc.record({
                kind: fc.constant('set' as const),
                action: fc.constantFrom('a', 'b', 'c'),
              }),
            },
            {
              weight: 1,
              arbitrary: fc.record({
                kind: fc.constant('late' as const),
                action: fc.constantFrom('a', 'b', 'c'),
              }),
            },
          ),
          { maxLength: 40 },
        ),
        (max, steps) => replayUsageBeginSchedule(createInMemoryUsageStore(), 'property', max, steps),
      ),
    );
  });

  it('refuses a begin that reuses a version already written, and an empty version, with a RangeError', () => {
    const store = createInMemoryUsageStore();
    const request = { counters: [], now: T0, previousKey: 'k', action: 'read_file', version: 'v1' };
    store.begin!(request);
    expect(() => store.begin!(request)).toThrow(RangeError);
    expect(() => store.begin!({ ...request, version: '' })).toThrow(RangeError);
    expect(store.previousAction('k')).toBe('read_file');
  });

  it('forgets the oldest writes beyond maxWrites: undoing a forgotten current write removes the previous action', () => {
    const store = createInMemoryUsageStore({ maxWrites: 2 });
    store.setPreviousAction(['k'], 'read_file');
    const first = store.begin!({ counters: [], now: T0, previousKey: 'k', action: 'a1' }) as UsageBeginResult;
    store.begin!({ counters: [], now: T0, previousKey: 'j', action: 'b1' });
    store.begin!({ counters: [], now: T0, previousKey: 'j', action: 'b2' });
    store.undo!({ written: first.written! });
    expect(store.previousAction('k')).toBeUndefined();
  });

  it('refuses a malformed begin with a RangeError, and ignores a malformed undo', () => {
    const store = createInMemoryUsageStore();
    expect(() => store.begin!({ counters: [], now: T0, previousKey: 7 as never })).toThrow(RangeError);
    expect(() => store.begin!({ counters: [], now: T0, previousKey: 'k', action: 1 as never })).toThrow(
      RangeError,
    );
    store.setPreviousAction(['k'], 'read_file');
    store.undo!({ written: { key: 'k', version: undefined as never } });
    store.undo!(null as never);
    expect(store.previousAction('k')).toBe('read_file');
  });
});

describe('createInMemoryUsageStore in the gate', () => {
  it('says it lives in the process (the gate makes the separate calls), but not through a spread copy', () => {
    const store = createInMemoryUsageStore();
    expect(store.inProcess).toBe(true);
    expect(Object.keys(store)).not.toContain('inProcess');
    expect({ ...store }.inProcess).toBeUndefined();
  });
});
