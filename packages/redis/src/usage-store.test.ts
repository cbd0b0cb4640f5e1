import { ApeError, type UsageCounter } from '@ape/core';
import { replayUsageBeginSchedule, runUsageStoreContract } from '@ape/core/contracts';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, uniquePrefix, useRedisServer } from './__fixtures__/server.js';
import type { RedisConnection } from './connection.js';
import { RedisUsageStore } from './usage-store.js';

const { server } = useRedisServer();
const opened: RedisConnection[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((connection) => connection.close()));
});

function store(prefix = uniquePrefix()): {
  store: RedisUsageStore;
  connection: RedisConnection;
  prefix: string;
} {
  const connection = connect(server().url);
  opened.push(connection);
  return { store: new RedisUsageStore({ connection, prefix }), connection, prefix };
}

runUsageStoreContract(() => store().store, { name: 'RedisUsageStore' });

const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);
const key = (tenant: string, limit: string): string => `${tenant}\u0000tenant\u0000${tenant}\u0000${limit}`;

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return ApeError.isInstance(error) ? error.code : 'not an ApeError';
  }
  return undefined;
}

describe('RedisUsageStore acquire', () => {
  it('admits uses up to max and then refuses, naming the full counter and its use', async () => {
    const { store: usage } = store();
    const counter: UsageCounter = { key: key('acme', 'mail'), max: 2 };
    expect((await usage.acquire({ counters: [counter], now: T0 })).ok).toBe(true);
    expect((await usage.acquire({ counters: [counter], now: T0 + 1 })).ok).toBe(true);
    expect(await usage.acquire({ counters: [counter], now: T0 + 2 })).toEqual({
      ok: false,
      key: counter.key,
      used: 2,
      max: 2,
    });
  });

  it('admits nothing for a counter whose max is 0', async () => {
    const { store: usage } = store();
    expect(await usage.acquire({ counters: [{ key: key('acme', 'none'), max: 0 }], now: T0 })).toMatchObject({
      ok: false,
      used: 0,
    });
  });

  it('records nothing on any counter when one of them is full (all or nothing)', async () => {
    const { store: usage } = store();
    const roomy: UsageCounter = { key: key('acme', 'roomy'), max: 10 };
    const windowed: UsageCounter = { key: key('acme', 'windowed'), max: 10, windowMs: 60_000 };
    const full: UsageCounter = { key: key('acme', 'full'), max: 1 };
    await usage.acquire({ counters: [full], now: T0 });
    const refused = await usage.acquire({ counters: [roomy, windowed, full], now: T0 + 1 });
    expect(refused).toMatchObject({ ok: false, key: full.key, used: 1 });
    expect(await usage.usage([roomy, windowed, full], T0 + 1)).toEqual([0, 0, 1]);
  });

  it('slides the window: a use stops counting exactly windowMs after it was made', async () => {
    const { store: usage } = store();
    const counter: UsageCounter = { key: key('acme', 'hourly'), max: 2, windowMs: 1_000 };
    expect((await usage.acquire({ counters: [counter], now: T0 })).ok).toBe(true);
    expect((await usage.acquire({ counters: [counter], now: T0 + 500 })).ok).toBe(true);
    expect((await usage.acquire({ counters: [counter], now: T0 + 999 })).ok).toBe(false);
    expect((await usage.acquire({ counters: [counter], now: T0 + 1_000 })).ok).toBe(true);
    expect(await usage.usage([counter], T0 + 1_000)).toEqual([2]);
    expect(await usage.usage([counter], T0 + 1_500)).toEqual([1]);
  });

  it('never admits more than max uses in any window under a random schedule (property)', async () => {
    const connections = [store(), store(), store()];
    const prefix = uniquePrefix();
    const stores = connections.map(({ connection }) => new RedisUsageStore({ connection, prefix }));
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 3_000 }), via: fc.integer({ min: 0, max: 2 }) }), {
          minLength: 1,
          maxLength: 25,
        }),
        async (max, schedule) => {
          run += 1;
          const counter: UsageCounter = { key: key('acme', `property-${run}`), max, windowMs: 1_000 };
          const sorted = [...schedule].sort((a, b) => a.at - b.at);
          const granted: number[] = [];
          // Calls at the same instant race each other; calls at different instants follow in time.
          for (const at of new Set(sorted.map((item) => item.at))) {
            const now = T0 + at;
            const results = await Promise.all(
              sorted
                .filter((item) => item.at === at)
                .map((item) => (stores[item.via] as RedisUsageStore).acquire({ counters: [counter], now })),
            );
            for (const result of results) if (result.ok) granted.push(now);
          }
          for (const start of granted) {
            expect(
              granted.filter((time) => time >= start && time < start + 1_000).length,
            ).toBeLessThanOrEqual(max);
          }
          // Greedy admission is exact: replay the schedule against a model of the sliding window.
          const model: number[] = [];
          let expected = 0;
          for (const item of sorted) {
            const now = T0 + item.at;
            const inWindow = model.filter((time) => now - time < 1_000).length;
            if (inWindow < max) {
              model.push(now);
              expected += 1;
            }
          }
          expect(granted).toHaveLength(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('gives exactly max of 300 concurrent acquires over three connections', async () => {
    const prefix = uniquePrefix();
    const stores = [store(), store(), store()].map(
      ({ connection }) => new RedisUsageStore({ connection, prefix }),
    );
    const counters = [
      { key: key('acme', 'day'), max: 37, windowMs: 86_400_000 },
      { key: key('acme', 'forever'), max: 1_000 },
    ];
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, index) =>
        (stores[index % 3] as RedisUsageStore).acquire({ counters, now: T0 + (index % 5) }),
      ),
    );
    expect(results.filter((result) => result.ok)).toHaveLength(37);
    expect(await (stores[0] as RedisUsageStore).usage(counters, T0 + 10)).toEqual([37, 37]);
  });

  it('refuses malformed counters with ARGS_INVALID before it sends anything', async () => {
    const { store: usage } = store();
    expect(await codeOf(usage.acquire({ counters: [{ key: '', max: 1 }], now: T0 }))).toBe('ARGS_INVALID');
    expect(await codeOf(usage.acquire({ counters: [{ key: 'k', max: -1 }], now: T0 }))).toBe('ARGS_INVALID');
    expect(await codeOf(usage.acquire({ counters: [{ key: 'k', max: 1, windowMs: 0 }], now: T0 }))).toBe(
      'ARGS_INVALID',
    );
    expect(await codeOf(usage.acquire({ counters: [], now: Number.NaN }))).toBe('ARGS_INVALID');
    expect(await codeOf(usage.setPreviousAction(['k'], ''))).toBe('ARGS_INVALID');
    expect(await codeOf(usage.release({} as never))).toBe('ARGS_INVALID');
  });
});

describe('RedisUsageStore release', () => {
  it('undoes exactly the uses of one reservation, once', async () => {
    const { store: usage } = store();
    const counters = [
      { key: key('acme', 'w'), max: 5, windowMs: 60_000 },
      { key: key('acme', 'plain'), max: 5 },
    ];
    const first = await usage.acquire({ counters, now: T0 });
    const second = await usage.acquire({ counters, now: T0 + 1 });
    if (!first.ok || !second.ok) throw new Error('expected room');
    expect(await usage.usage(counters, T0 + 2)).toEqual([2, 2]);
    await usage.release(first.reservation);
    expect(await usage.usage(counters, T0 + 2)).toEqual([1, 1]);
    await usage.release(first.reservation);
    expect(await usage.usage(counters, T0 + 2)).toEqual([1, 1]);
  });

  it('changes nothing for a reservation it does not know', async () => {
    const { store: usage } = store();
    const counters = [{ key: key('acme', 'plain'), max: 5 }];
    await usage.acquire({ counters, now: T0 });
    await usage.release({ id: 'made-up', keys: [counters[0]?.key ?? ''], at: T0 });
    expect(await usage.usage(counters, T0)).toEqual([1]);
  });
});

describe('RedisUsageStore previous action', () => {
  it('remembers the last action under every key it was written to, and nothing under others', async () => {
    const { store: usage } = store();
    expect(await usage.previousAction('acme\u0000lineage\u0000l1')).toBeUndefined();
    await usage.setPreviousAction(['acme\u0000lineage\u0000l1', 'acme\u0000session\u0000s1'], 'read_file');
    await usage.setPreviousAction(['acme\u0000session\u0000s1'], 'send_email');
    expect(await usage.previousAction('acme\u0000lineage\u0000l1')).toBe('read_file');
    expect(await usage.previousAction('acme\u0000session\u0000s1')).toBe('send_email');
    expect(await usage.previousAction('other\u0000lineage\u0000l1')).toBeUndefined();
  });
});

describe('RedisUsageStore begin and undo', () => {
  it('keeps begin and undo to the model under random schedules: the previous action is never an undone write (property)', async () => {
    const { store: usage } = store();
    let run = 0;
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
              arbitrary: fc.record({ kind: fc.constant('undo' as const), nth: fc.nat({ max: 20 }) }),
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
          { maxLength: 20 },
        ),
        async (max, steps) => {
          run += 1;
          await replayUsageBeginSchedule(usage, `property-${run}`, max, steps);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('refuses a malformed begin or undo with ARGS_INVALID before it sends anything', async () => {
    const { store: usage } = store();
    const counters = [{ key: key('acme', 'b'), max: 1 }];
    expect(await codeOf(usage.begin({ counters, now: T0, previousKey: '' }))).toBe('ARGS_INVALID');
    expect(await codeOf(usage.begin({ counters, now: T0, previousKey: 'p', action: '' }))).toBe(
      'ARGS_INVALID',
    );
    expect(await codeOf(usage.begin({ counters: [{ key: '', max: 1 }], now: T0, previousKey: 'p' }))).toBe(
      'ARGS_INVALID',
    );
    expect(await codeOf(usage.undo({ reservation: {} as never }))).toBe('ARGS_INVALID');
    expect(await codeOf(usage.undo({ written: { key: 'p', version: 3 as never } }))).toBe('ARGS_INVALID');
    expect(await codeOf(usage.undo({ written: { key: 'p', version: '' } }))).toBe('ARGS_INVALID');
    expect(
      await codeOf(usage.begin({ counters, now: T0, previousKey: 'p', action: 'read_file', version: '' })),
    ).toBe('ARGS_INVALID');
  });

  it('keeps the records of the newest 1,000 writes per key, and still undoes the newest', async () => {
    const { store: usage, connection, prefix } = store();
    const previousKey = 'acme\u0000lineage\u0000history';
    await usage.setPreviousAction([previousKey], 'read_file');
    let last: Awaited<ReturnType<RedisUsageStore['begin']>> | undefined;
    for (let index = 0; index < 1_010; index++) {
      last = await usage.begin({ counters: [], now: T0, previousKey, action: `a${index}` });
    }
    expect(
      await connection.command('test', 'hlen', ['HLEN', `${prefix}previous-writes:${previousKey}`]),
    ).toBe(1_000);
    expect(await connection.command('test', 'llen', ['LLEN', `${prefix}previous-order:${previousKey}`])).toBe(
      1_000,
    );
    await usage.undo({ written: last!.written! });
    expect(await usage.previousAction(previousKey)).toBe('a1008');
  });

  it('fails with STORE_UNAVAILABLE when something else wrote the previous-action key', async () => {
    const { store: usage, connection, prefix } = store();
    await connection.command('test', 'rpush', ['RPUSH', `${prefix}previous:p`, 'x']);
    expect(await codeOf(usage.begin({ counters: [], now: T0, previousKey: 'p', action: 'read_file' }))).toBe(
      'STORE_UNAVAILABLE',
    );
  });
});

describe('RedisUsageStore keys', () => {
  it('puts a TTL on every key it writes except windowless counters, all under its prefix', async () => {
    const { store: usage, connection, prefix } = store();
    const counters = [
      { key: key('acme', 'w'), max: 5, windowMs: 60_000 },
      { key: key('acme', 'plain'), max: 5 },
    ];
    await usage.acquire({ counters, now: T0 });
    await usage.setPreviousAction(['acme\u0000lineage\u0000l1'], 'read_file');
    await usage.begin({ counters, now: T0, previousKey: 'acme\u0000lineage\u0000l2', action: 'read_file' });
    const keys = (await connection.command('test', 'keys', ['KEYS', `${prefix}*`])) as string[];
    // usage ×2, the reservation marker ×2, previous ×2, previous-version, previous-writes, previous-order.
    expect(keys.length).toBe(9);
    for (const name of keys) {
      expect(name.startsWith(prefix)).toBe(true);
      const ttl = (await connection.command('test', 'pttl', ['PTTL', name])) as number;
      if (name === `${prefix}usage:${key('acme', 'plain')}`) expect(ttl).toBe(-1);
      else expect(ttl).toBeGreaterThan(0);
    }
  });

  it('keeps two prefixes apart: a store never sees another prefix’s uses', async () => {
    const { store: first } = store();
    const { store: second } = store();
    const counter = { key: key('acme', 'shared-name'), max: 1 };
    expect((await first.acquire({ counters: [counter], now: T0 })).ok).toBe(true);
    expect((await second.acquire({ counters: [counter], now: T0 })).ok).toBe(true);
  });

  it('refuses a prefix with glob characters with CONFIG_INVALID', () => {
    const { connection } = store();
    expect(() => new RedisUsageStore({ connection, prefix: 'ape*' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => new RedisUsageStore({ connection, previousActionTtlMs: 5 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'previousActionTtlMs' } }),
    );
  });
});
