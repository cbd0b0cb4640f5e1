import { describe, expect, it } from 'vitest';
import type {
  UsageAcquireResult,
  UsageBeginResult,
  UsageCounter,
  UsagePreviousWrite,
  UsageReservation,
  UsageStore,
} from '../ports/usage-store.js';

const T0 = Date.UTC(2026, 0, 1);

function key(tenant: string, scope: string, id: string, limit: string): string {
  return `${tenant}\u0000${scope}\u0000${id}\u0000${limit}`;
}

function reservationOf(result: UsageAcquireResult) {
  if (!result.ok) throw new Error(`expected the store to admit the use; it refused ${result.key}`);
  return result.reservation;
}

/** One step of a schedule of {@link replayUsageBeginSchedule}. */
export type UsageBeginStep =
  /** A call begins: one use of the counter, and `action` as the previous action on success. */
  | { readonly kind: 'begin'; readonly action: string }
  /** The `nth` begin so far (modulo their number) is undone: its use and its write. */
  | { readonly kind: 'undo'; readonly nth: number };

/** The in-memory model of one previous-action key and one counter under begin/undo. */
interface BeginModel {
  used: number;
  current: { action: string; version: number | undefined } | undefined;
}

function beginOf(store: UsageStore): NonNullable<UsageStore['begin']> {
  if (typeof store.begin !== 'function' || typeof store.undo !== 'function') {
    throw new Error('this UsageStore does not implement begin and undo together');
  }
  return store.begin.bind(store);
}

/**
 * Replays `steps` one after the other on `store` (one windowless counter of `max` uses and one
 * previous-action key, both derived from `name`) and checks every answer, the counter and the
 * previous action after each step against a model of the contract: begin is all or nothing and
 * writes only on success; an undo releases once and restores the replaced action only while the
 * key still holds that very write. Used by the contract suite (seeded schedules) and by property
 * tests (fast-check schedules).
 */
export async function replayUsageBeginSchedule(
  store: UsageStore,
  name: string,
  max: number,
  steps: readonly UsageBeginStep[],
): Promise<void> {
  const begin = beginOf(store);
  const counter: UsageCounter = { key: `acme\u0000lineage\u0000${name}\u0000budget`, max };
  const previousKey = `acme\u0000lineage\u0000${name}\u0000previous`;
  const model: BeginModel = { used: 0, current: undefined };
  const begun: {
    result: UsageBeginResult;
    version: number | undefined;
    replaced: string | undefined;
    undone: boolean;
  }[] = [];
  let versions = 0;
  for (const step of steps) {
    if (step.kind === 'begin') {
      const answer = await begin({ counters: [counter], now: T0, previousKey, action: step.action });
      expect(answer.previous).toBe(model.current?.action);
      const admitted = model.used < max;
      expect(answer.result.ok).toBe(admitted);
      if (admitted) {
        versions += 1;
        begun.push({ result: answer, version: versions, replaced: model.current?.action, undone: false });
        model.used += 1;
        model.current = { action: step.action, version: versions };
        expect(answer.written).toMatchObject({ key: previousKey, replaced: begun.at(-1)!.replaced });
      } else {
        expect(answer.written).toBeUndefined();
      }
    } else if (begun.length > 0) {
      const target = begun[step.nth % begun.length]!;
      const { result, written } = target.result;
      await store.undo!({
        ...(result.ok ? { reservation: result.reservation } : {}),
        ...(written === undefined ? {} : { written }),
      });
      if (!target.undone) {
        target.undone = true;
        model.used -= 1;
        if (model.current?.version === target.version) {
          model.current =
            target.replaced === undefined ? undefined : { action: target.replaced, version: undefined };
        }
      }
    }
    expect(await store.usage([counter], T0)).toEqual([model.used]);
    expect(await store.previousAction(previousKey)).toBe(model.current?.action);
  }
}

/** A small seeded generator (xorshift32), so the contract's random schedules are reproducible. */
function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

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

function reservationOfBegin(answer: UsageBeginResult): UsageReservation {
  return reservationOf(answer.result);
}

function writeOf(answer: UsageBeginResult): UsagePreviousWrite {
  if (answer.written === undefined) throw new Error('expected begin to write the previous action');
  return answer.written;
}

function runBeginContract(create: () => UsageStore | Promise<UsageStore>): void {
  describe('begin and undo', () => {
    const lineage = key('acme', 'lineage', 'l1', 'previous');
    const budget: UsageCounter = { key: key('acme', 'lineage', 'l1', 'budget'), max: 2 };
    const daily: UsageCounter = { key: key('acme', 'tenant', 'acme', 'daily'), max: 5, windowMs: 86_400_000 };

    it('reads the previous action, acquires every counter and writes the action, in one call', async () => {
      const store = await create();
      const begin = beginOf(store);
      await store.setPreviousAction([lineage], 'list_dir');
      const first = await begin({
        counters: [budget, daily],
        now: T0,
        previousKey: lineage,
        action: 'read_file',
      });
      expect(first.previous).toBe('list_dir');
      reservationOfBegin(first);
      expect(writeOf(first)).toMatchObject({ key: lineage, replaced: 'list_dir' });
      expect(await store.previousAction(lineage)).toBe('read_file');
      expect(await store.usage([budget, daily], T0)).toEqual([1, 1]);
      const second = await begin({ counters: [budget], now: T0, previousKey: lineage, action: 'write_file' });
      expect(second.previous).toBe('read_file');
    });

    it('is all or nothing: a full counter leaves every counter and the previous action unchanged', async () => {
      const store = await create();
      const begin = beginOf(store);
      const full = { key: key('acme', 'lineage', 'l1', 'full'), max: 0 };
      await store.setPreviousAction([lineage], 'list_dir');
      const refused = await begin({
        counters: [budget, daily, full],
        now: T0,
        previousKey: lineage,
        action: 'x',
      });
      expect(refused.previous).toBe('list_dir');
      expect(refused.result).toEqual({ ok: false, key: full.key, used: 0, max: 0 });
      expect(refused.written).toBeUndefined();
      expect(await store.usage([budget, daily, full], T0)).toEqual([0, 0, 0]);
      expect(await store.previousAction(lineage)).toBe('list_dir');
    });

    it('writes nothing when it is given no action, and admits a call with no counters', async () => {
      const store = await create();
      const begin = beginOf(store);
      const readOnly = await begin({ counters: [budget], now: T0, previousKey: lineage });
      expect(readOnly.written).toBeUndefined();
      expect(await store.previousAction(lineage)).toBeUndefined();
      const uncounted = await begin({ counters: [], now: T0, previousKey: lineage, action: 'read_file' });
      expect(uncounted.result.ok).toBe(true);
      expect(await store.previousAction(lineage)).toBe('read_file');
    });

    it('undoes both in one call: the uses are released and the replaced action comes back', async () => {
      const store = await create();
      const begin = beginOf(store);
      await store.setPreviousAction([lineage], 'list_dir');
      const answer = await begin({
        counters: [budget, daily],
        now: T0,
        previousKey: lineage,
        action: 'read_file',
      });
      await store.undo!({ reservation: reservationOfBegin(answer), written: writeOf(answer) });
      expect(await store.usage([budget, daily], T0)).toEqual([0, 0]);
      expect(await store.previousAction(lineage)).toBe('list_dir');
      const fresh = key('acme', 'lineage', 'l2', 'previous');
      const first = await begin({ counters: [], now: T0, previousKey: fresh, action: 'read_file' });
      await store.undo!({ written: writeOf(first) });
      expect(await store.previousAction(fresh)).toBeUndefined();
    });

    it('never erases a newer action: an undo after another call wrote leaves the newer one', async () => {
      const store = await create();
      const begin = beginOf(store);
      const older = await begin({ counters: [budget], now: T0, previousKey: lineage, action: 'read_file' });
      const newer = await begin({ counters: [budget], now: T0, previousKey: lineage, action: 'write_file' });
      await store.undo!({ reservation: reservationOfBegin(older), written: writeOf(older) });
      expect(await store.previousAction(lineage)).toBe('write_file');
      expect(await store.usage([budget], T0)).toEqual([1]);
      await store.setPreviousAction([lineage], 'list_dir');
      await store.undo!({ written: writeOf(newer) });
      expect(await store.previousAction(lineage)).toBe('list_dir');
    });

    it('undoes exactly once: a second undo, even after the same action was written again, changes nothing', async () => {
      const store = await create();
      const begin = beginOf(store);
      await store.setPreviousAction([lineage], 'list_dir');
      const answer = await begin({ counters: [budget], now: T0, previousKey: lineage, action: 'read_file' });
      const undo = { reservation: reservationOfBegin(answer), written: writeOf(answer) };
      await store.undo!(undo);
      const again = await begin({ counters: [budget], now: T0, previousKey: lineage, action: 'read_file' });
      reservationOfBegin(again);
      await store.undo!(undo);
      expect(await store.usage([budget], T0)).toEqual([1]);
      expect(await store.previousAction(lineage)).toBe('read_file');
    });

    it('undoes a write alone (the uses stay) or a reservation alone (the write stays)', async () => {
      const store = await create();
      const begin = beginOf(store);
      const answer = await begin({ counters: [budget], now: T0, previousKey: lineage, action: 'send_email' });
      await store.undo!({ written: writeOf(answer) });
      expect(await store.usage([budget], T0)).toEqual([1]);
      expect(await store.previousAction(lineage)).toBeUndefined();
      const other = await begin({ counters: [budget], now: T0, previousKey: lineage, action: 'read_file' });
      await store.undo!({ reservation: reservationOfBegin(other) });
      expect(await store.usage([budget], T0)).toEqual([1]);
      expect(await store.previousAction(lineage)).toBe('read_file');
    });

    it('admits exactly max of many concurrent begins, and their previous actions form one chain', async () => {
      const store = await create();
      const begin = beginOf(store);
      const counter = { key: key('acme', 'lineage', 'l1', 'burst'), max: 7 };
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, index) =>
          Promise.resolve(begin({ counters: [counter], now: T0, previousKey: lineage, action: `a${index}` })),
        ),
      );
      const admitted = answers.flatMap((answer, index) => (answer.result.ok ? [`a${index}`] : []));
      expect(admitted).toHaveLength(7);
      expect(await store.usage([counter], T0)).toEqual([7]);
      // Atomic begins are serial: each admitted call saw the one admitted before it (the first saw none).
      const seen = answers.filter((answer) => answer.result.ok).map((answer) => answer.previous);
      const last = await store.previousAction(lineage);
      expect(admitted).toContain(last);
      expect(new Set(seen)).toEqual(new Set([undefined, ...admitted.filter((action) => action !== last)]));
    });

    it('matches the model over random schedules of begin and undo (seeded)', async () => {
      const store = await create();
      const random = seeded(0x5eed);
      for (let run = 0; run < 12; run++) {
        const steps: UsageBeginStep[] = Array.from({ length: 16 }, (_, index) =>
          random() < 0.6
            ? { kind: 'begin' as const, action: `action-${Math.floor(random() * 3)}-${index % 2}` }
            : { kind: 'undo' as const, nth: Math.floor(random() * 16) },
        );
        await replayUsageBeginSchedule(store, `schedule-${run}`, Math.floor(random() * 5), steps);
      }
    });
  });
}
