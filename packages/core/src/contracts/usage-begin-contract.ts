import { describe, expect, it } from 'vitest';
import type {
  UsageBeginResult,
  UsageCounter,
  UsagePreviousWrite,
  UsageReservation,
  UsageStore,
} from '../ports/usage-store.js';
import { key, reservationOf, T0 } from './usage-contract-support.js';

/** One step of a schedule of {@link replayUsageBeginSchedule}. */
export type UsageBeginStep =
  /** A call begins: one use of the counter, and `action` as the previous action on success. */
  | { readonly kind: 'begin'; readonly action: string }
  /** The `nth` begin so far (modulo their number) is undone: its use and its write. */
  | { readonly kind: 'undo'; readonly nth: number }
  /** A call that ran without `begin` writes `action` (`setPreviousAction`). */
  | { readonly kind: 'set'; readonly action: string }
  /**
   * A call whose `begin` did not answer in time: its undo (by the version it chose) reaches the
   * store first, then its `begin` does, which must write nothing.
   */
  | { readonly kind: 'late'; readonly action: string };

/** An action that became the previous action: by an admitted begin (undoable) or by a plain write. */
interface WrittenEvent {
  readonly action: string;
  undone: boolean;
}

function beginOf(store: UsageStore): NonNullable<UsageStore['begin']> {
  if (typeof store.begin !== 'function' || typeof store.undo !== 'function') {
    throw new Error('this UsageStore does not implement begin and undo together');
  }
  return store.begin.bind(store);
}

/**
 * Replays `steps` one after the other on `store` (one windowless counter of `max` uses and one
 * previous-action key, both derived from `name`; each step is one atomic store call, so a schedule
 * is any interleaving of concurrent calls) and checks every answer, the counter and the previous
 * action after each step against a model of the contract: begin is all or nothing and writes only
 * on success; an undo releases once; the previous action is always the action of the last write
 * (an admitted begin or a plain `setPreviousAction`) that was not undone, or nothing, and never
 * one that was undone. Used by the contract suite (seeded schedules) and by property tests
 * (fast-check schedules).
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
  let used = 0;
  const events: WrittenEvent[] = [];
  const current = (): string | undefined => {
    for (let index = events.length - 1; index >= 0; index--) {
      if (!events[index]!.undone) return events[index]!.action;
    }
    return undefined;
  };
  const begun: { result: UsageBeginResult; event: WrittenEvent | undefined; released: boolean }[] = [];
  let lates = 0;
  for (const step of steps) {
    if (step.kind === 'begin' || step.kind === 'late') {
      let version: string | undefined;
      if (step.kind === 'late') {
        lates += 1;
        version = `${name}-late-${lates}`;
        await store.undo!({ written: { key: previousKey, version } });
      }
      const before = current();
      const answer = await begin({
        counters: [counter],
        now: T0,
        previousKey,
        action: step.action,
        ...(version === undefined ? {} : { version }),
      });
      expect(answer.previous).toBe(before);
      const admitted = used < max;
      expect(answer.result.ok).toBe(admitted);
      if (admitted) {
        used += 1;
        const event = step.kind === 'begin' ? { action: step.action, undone: false } : undefined;
        if (event !== undefined) events.push(event);
        begun.push({ result: answer, event, released: false });
        expect(answer.written).toMatchObject({ key: previousKey, replaced: before });
        if (version !== undefined) expect(answer.written?.version).toBe(version);
      } else {
        expect(answer.written).toBeUndefined();
      }
    } else if (step.kind === 'set') {
      await store.setPreviousAction([previousKey], step.action);
      events.push({ action: step.action, undone: false });
    } else if (begun.length > 0) {
      const target = begun[step.nth % begun.length]!;
      const { result, written } = target.result;
      await store.undo!({
        ...(result.ok ? { reservation: result.reservation } : {}),
        ...(written === undefined ? {} : { written }),
      });
      if (!target.released) {
        target.released = true;
        used -= 1;
      }
      if (target.event !== undefined) target.event.undone = true;
    }
    expect(await store.usage([counter], T0)).toEqual([used]);
    expect(await store.previousAction(previousKey)).toBe(current());
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

function reservationOfBegin(answer: UsageBeginResult): UsageReservation {
  return reservationOf(answer.result);
}

function writeOf(answer: UsageBeginResult): UsagePreviousWrite {
  if (answer.written === undefined) throw new Error('expected begin to write the previous action');
  return answer.written;
}

/** @internal The begin/undo part of {@link runUsageStoreContract}. */
export function runBeginContract(create: () => UsageStore | Promise<UsageStore>): void {
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

    it('never restores an undone write: two refused calls undone in either order leave the action that ran', async () => {
      const store = await create();
      const begin = beginOf(store);
      for (const order of ['first-begun first', 'last-begun first'] as const) {
        const previousKey = key('acme', 'lineage', order, 'previous');
        await store.setPreviousAction([previousKey], 'read_file');
        const a = await begin({ counters: [], now: T0, previousKey, action: 'write_file' });
        const b = await begin({ counters: [], now: T0, previousKey, action: 'send_email' });
        expect(b.previous).toBe('write_file');
        const undos = order === 'first-begun first' ? [a, b] : [b, a];
        for (const answer of undos) await store.undo!({ written: writeOf(answer) });
        expect(await store.previousAction(previousKey)).toBe('read_file');
      }
    });

    it('restores the nearest write not undone when the writes between were undone', async () => {
      const store = await create();
      const begin = beginOf(store);
      const answers = [];
      for (const action of ['a1', 'a2', 'a3', 'a4', 'a5'])
        answers.push(await begin({ counters: [], now: T0, previousKey: lineage, action }));
      await store.undo!({ written: writeOf(answers[2]!) });
      await store.undo!({ written: writeOf(answers[3]!) });
      await store.undo!({ written: writeOf(answers[1]!) });
      expect(await store.previousAction(lineage)).toBe('a5');
      await store.undo!({ written: writeOf(answers[4]!) });
      expect(await store.previousAction(lineage)).toBe('a1');
      await store.undo!({ written: writeOf(answers[0]!) });
      expect(await store.previousAction(lineage)).toBeUndefined();
    });

    it('keeps a plain write that came after: undoing overwritten writes never brings them back', async () => {
      const store = await create();
      const begin = beginOf(store);
      const a = await begin({ counters: [], now: T0, previousKey: lineage, action: 'write_file' });
      await store.setPreviousAction([lineage], 'list_dir');
      const b = await begin({ counters: [], now: T0, previousKey: lineage, action: 'send_email' });
      await store.undo!({ written: writeOf(a) });
      await store.undo!({ written: writeOf(b) });
      expect(await store.previousAction(lineage)).toBe('list_dir');
    });

    it('writes nothing for a begin whose version was undone before it arrived (a begin that timed out)', async () => {
      const store = await create();
      const begin = beginOf(store);
      await store.setPreviousAction([lineage], 'read_file');
      await store.undo!({ written: { key: lineage, version: 'call-7' } });
      const late = await begin({
        counters: [budget],
        now: T0,
        previousKey: lineage,
        action: 'write_file',
        version: 'call-7',
      });
      expect(late.previous).toBe('read_file');
      expect(writeOf(late)).toMatchObject({ key: lineage, version: 'call-7' });
      expect(await store.previousAction(lineage)).toBe('read_file');
      await store.undo!({ reservation: reservationOfBegin(late), written: writeOf(late) });
      expect(await store.usage([budget], T0)).toEqual([0]);
      expect(await store.previousAction(lineage)).toBe('read_file');
    });

    it('undoes a write by the version the caller chose, without the answer of begin', async () => {
      const store = await create();
      const begin = beginOf(store);
      await store.setPreviousAction([lineage], 'read_file');
      await begin({ counters: [], now: T0, previousKey: lineage, action: 'write_file', version: 'call-8' });
      expect(await store.previousAction(lineage)).toBe('write_file');
      await store.undo!({ written: { key: lineage, version: 'call-8' } });
      expect(await store.previousAction(lineage)).toBe('read_file');
    });

    it('matches the model over random schedules of begin, undo, plain and late writes (seeded)', async () => {
      const store = await create();
      const random = seeded(0x5eed);
      for (let run = 0; run < 16; run++) {
        const steps: UsageBeginStep[] = Array.from({ length: 20 }, (_, index): UsageBeginStep => {
          const draw = random();
          const action = `action-${Math.floor(random() * 3)}-${index % 2}`;
          if (draw < 0.45) return { kind: 'begin', action };
          if (draw < 0.85) return { kind: 'undo', nth: Math.floor(random() * 20) };
          return draw < 0.93 ? { kind: 'set', action } : { kind: 'late', action };
        });
        await replayUsageBeginSchedule(store, `schedule-${run}`, Math.floor(random() * 8), steps);
      }
    });
  });
}
