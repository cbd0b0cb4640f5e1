import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_EMPTY_SESSIONS, SessionIndex } from './session-index.js';

/** One item of one session. */
interface Entry {
  readonly tenant: string;
  readonly session: string;
  readonly item: number;
}

type Op =
  | (Entry & { readonly kind: 'add' })
  | (Entry & { readonly kind: 'delete' })
  | { readonly kind: 'removeAll'; readonly tenant: string; readonly session: string | undefined }
  | { readonly kind: 'removeWhere'; readonly modulus: number };

const tenant = fc.constantFrom('acme', 'globex');
const session = fc.constantFrom('s1', 's2', 's3');
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('add' as const), tenant, session, item: fc.nat(20) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), tenant, session, item: fc.nat(20) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('removeAll' as const),
      tenant,
      session: fc.option(session, { nil: undefined }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('removeWhere' as const),
      modulus: fc.integer({ min: 1, max: 4 }),
    }),
  },
);

/** The model: each (tenant, session) pair's items, in insertion order. */
function modelKey(tenantName: string, sessionName: string): string {
  return `${tenantName}\u0000${sessionName}`;
}

describe('SessionIndex', () => {
  it('holds, removes and counts exactly what a plain model of sets does (property)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const index = new SessionIndex<number>();
        const model = new Map<string, number[]>();
        const items = (key: string): number[] => model.get(key) ?? [];
        for (const step of ops) {
          if (step.kind === 'add') {
            const key = modelKey(step.tenant, step.session);
            if (!items(key).includes(step.item)) model.set(key, [...items(key), step.item]);
            index.add(step.tenant, step.session, step.item);
          } else if (step.kind === 'delete') {
            const key = modelKey(step.tenant, step.session);
            const had = items(key).includes(step.item);
            model.set(
              key,
              items(key).filter((item) => item !== step.item),
            );
            expect(index.delete(step.tenant, step.session, step.item)).toBe(had);
          } else if (step.kind === 'removeAll') {
            const keys = [...model.keys()].filter(
              (key) =>
                key.startsWith(`${step.tenant}\u0000`) &&
                (step.session === undefined || key === modelKey(step.tenant, step.session)),
            );
            const expected = keys.flatMap((key) => items(key));
            for (const key of keys) model.delete(key);
            const removed = index.removeAll(step.tenant, step.session);
            if (step.session === undefined) expect([...removed].sort()).toEqual([...expected].sort());
            else expect(removed).toEqual(expected);
          } else {
            let expected = 0;
            for (const [key, held] of model) {
              const kept = held.filter((item) => item % step.modulus !== 0);
              expected += held.length - kept.length;
              model.set(key, kept);
            }
            expect(index.removeWhere((item) => item % step.modulus === 0)).toBe(expected);
          }
          let size = 0;
          for (const held of model.values()) size += held.length;
          expect(index.size).toBe(size);
        }
        // What is left is exactly the model's, session by session.
        for (const [key, held] of model) {
          const [tenantName = '', sessionName = ''] = key.split('\u0000');
          expect(index.removeAll(tenantName, sessionName)).toEqual(held);
        }
        expect(index.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps at most MAX_EMPTY_SESSIONS emptied session sets (1,000 sessions, one item each)', () => {
    const index = new SessionIndex<string>();
    for (let count = 0; count < 1_000; count++) {
      index.add('acme', `s${count}`, `t${count}`);
      expect(index.delete('acme', `s${count}`, `t${count}`)).toBe(true);
      expect(index.setCount).toBeLessThanOrEqual(MAX_EMPTY_SESSIONS + 1);
    }
    expect(index.size).toBe(0);
    // A set emptied and filled again still holds its item; a dropped one is made anew.
    index.add('acme', 's999', 'again');
    index.add('acme', 's0', 'anew');
    expect(index.removeAll('acme', 's999')).toEqual(['again']);
    expect(index.removeAll('acme')).toEqual(['anew']);
  });

  it('drops emptied sets after removals by session, by tenant and by predicate too', () => {
    const index = new SessionIndex<number>();
    for (let count = 0; count < 600; count++) index.add('acme', `s${count}`, count);
    expect(index.removeWhere((item) => item < 300)).toBe(300);
    expect(index.setCount).toBeLessThanOrEqual(MAX_EMPTY_SESSIONS + 300);
    for (let count = 300; count < 600; count++) expect(index.removeAll('acme', `s${count}`)).toEqual([count]);
    expect(index.setCount).toBeLessThanOrEqual(MAX_EMPTY_SESSIONS);
    for (let count = 0; count < 600; count++) index.add('globex', `s${count}`, count);
    expect(index.removeAll('globex')).toHaveLength(600);
    expect(index.setCount).toBeLessThanOrEqual(MAX_EMPTY_SESSIONS);
    expect(index.size).toBe(0);
  });

  it('drops emptied sets on the removal that empties the 257th, whichever way they were emptied', () => {
    /** An index of `count` sessions of one item each (item `i` in session `s<i>`). */
    const indexOf = (count: number): SessionIndex<number> => {
      const index = new SessionIndex<number>();
      for (let item = 0; item < count; item++) index.add('acme', `s${item}`, item);
      return index;
    };
    // By predicate: 256 emptied sets are kept, the 257th drops them all.
    const byPredicate = indexOf(300);
    expect(byPredicate.removeWhere((item) => item < 256)).toBe(256);
    expect(byPredicate.setCount).toBe(300);
    // Sets that were already empty are not counted again.
    expect(byPredicate.removeWhere(() => false)).toBe(0);
    expect(byPredicate.setCount).toBe(300);
    expect(byPredicate.removeWhere((item) => item === 256)).toBe(1);
    expect(byPredicate.setCount).toBe(43);
    // By session: the same bound, and an empty session removed again is not counted again.
    const bySession = indexOf(300);
    for (let item = 0; item < 256; item++) expect(bySession.removeAll('acme', `s${item}`)).toEqual([item]);
    for (let again = 0; again < 10; again++) expect(bySession.removeAll('acme', 's0')).toEqual([]);
    expect(bySession.setCount).toBe(300);
    expect(bySession.removeAll('acme', 's256')).toEqual([256]);
    expect(bySession.setCount).toBe(43);
    // One by one: the same bound.
    const oneByOne = indexOf(300);
    for (let item = 0; item < 256; item++) oneByOne.delete('acme', `s${item}`, item);
    expect(oneByOne.setCount).toBe(300);
    oneByOne.delete('acme', 's256', 256);
    expect(oneByOne.setCount).toBe(43);
    // A set filled again is no longer counted as emptied.
    const refilled = indexOf(300);
    for (let item = 0; item < 256; item++) refilled.delete('acme', `s${item}`, item);
    refilled.add('acme', 's0', 0);
    refilled.delete('acme', 's256', 256);
    expect(refilled.setCount).toBe(300);
  });

  it('adds an item once, however often it is added', () => {
    const index = new SessionIndex<string>();
    index.add('acme', 's1', 'a');
    index.add('acme', 's1', 'a');
    expect(index.size).toBe(1);
    expect(index.delete('acme', 's1', 'a')).toBe(true);
    expect(index.delete('acme', 's1', 'a')).toBe(false);
    expect(index.delete('acme', 'nowhere', 'a')).toBe(false);
    expect(index.delete('nobody', 's1', 'a')).toBe(false);
    expect(index.removeAll('nobody')).toEqual([]);
    expect(index.size).toBe(0);
  });

  it('never adds into a set the index dropped, though it was the set looked up last', () => {
    const index = new SessionIndex<number>();
    // s0 is looked up last, then emptied; the 257th emptied set drops every emptied set, s0's too.
    index.add('acme', 's0', 0);
    index.delete('acme', 's0', 0);
    for (let item = 1; item <= MAX_EMPTY_SESSIONS; item++) {
      index.add('acme', `s${item}`, item);
      index.delete('acme', `s${item}`, item);
    }
    expect(index.setCount).toBe(0);
    // The last lookup was s256; s256's set was dropped: a new token of s256 must be revocable.
    index.add('acme', `s${MAX_EMPTY_SESSIONS}`, 1000);
    expect(index.setCount).toBe(1);
    expect(index.removeAll('acme', `s${MAX_EMPTY_SESSIONS}`)).toEqual([1000]);
    index.add('acme', 's0', 2000);
    expect(index.removeAll('acme')).toEqual([2000]);
    expect(index.size).toBe(0);
  });

  it('answers a lookup of another tenant with the same session id from that tenant', () => {
    const index = new SessionIndex<string>();
    index.add('acme', 's1', 'a');
    index.add('globex', 's1', 'g');
    expect(index.delete('acme', 's1', 'g')).toBe(false);
    expect(index.delete('globex', 's1', 'a')).toBe(false);
    expect(index.removeAll('acme', 's1')).toEqual(['a']);
    expect(index.removeAll('globex', 's1')).toEqual(['g']);
  });
});
