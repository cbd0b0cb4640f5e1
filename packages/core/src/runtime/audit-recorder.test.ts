import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CallAppends, RECORDED } from './audit-recorder.js';

/** A promise settled from outside, in any order. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** Lets every pending reaction run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('CallAppends', () => {
  it('drains nothing when every append finished synchronously', () => {
    const appends = new CallAppends();
    appends.start(RECORDED);
    appends.start(RECORDED);
    expect(appends.drain()).toBeUndefined();
  });

  it('waits for every started append before the drain resolves', async () => {
    const appends = new CallAppends();
    const first = deferred();
    const second = deferred();
    appends.start(first.promise);
    appends.start(second.promise);
    let drained = false;
    const draining = appends.drain()!.then(() => {
      drained = true;
    });
    second.resolve();
    await settle();
    expect(drained).toBe(false);
    first.resolve();
    await draining;
    expect(drained).toBe(true);
    // Settled without a failure: nothing left to wait for.
    expect(appends.drain()).toBeUndefined();
  });

  it('rejects with the failure of the first append in call order, whatever order they settle in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
        fc.func(fc.integer()),
        async (fails, order) => {
          const appends = new CallAppends();
          const started = fails.map(() => deferred());
          for (const append of started) appends.start(append.promise);
          const draining = appends.drain()!.then(
            () => 'resolved',
            (error: unknown) => error,
          );
          const failing = appends.failureOr('the call error');
          // Settle them in an arbitrary order.
          const indexes = started.map((_, index) => index);
          indexes.sort((a, b) => order(a) - order(b) || a - b);
          for (const index of indexes) {
            if (fails[index]) started[index]!.reject(`failure ${index}`);
            else started[index]!.resolve();
            await settle();
          }
          const first = fails.indexOf(true);
          const expected = first === -1 ? undefined : `failure ${first}`;
          expect(await draining).toBe(expected ?? 'resolved');
          expect(await failing).toBe(expected ?? 'the call error');
          // A later drain reports the same failure at once.
          if (expected !== undefined) await expect(appends.drain()).rejects.toBe(expected);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('handles a failed append nobody drains (no unhandled rejection)', async () => {
    const appends = new CallAppends();
    const append = deferred();
    appends.start(append.promise);
    append.reject(new Error('the sink failed'));
    await settle();
    // Vitest fails the run on an unhandled rejection; reaching here with the failure kept is the check.
    await expect(appends.failureOr('other')).resolves.toMatchObject({ message: 'the sink failed' });
  });
});
