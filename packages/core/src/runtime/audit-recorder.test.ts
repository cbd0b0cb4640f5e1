import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEvent, AuditSink } from '../index.js';
import { AuditRecorder, CallAppends, RECORDED } from './audit-recorder.js';

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
  it('drains nothing when no append was started', () => {
    expect(new CallAppends().drain()).toBeUndefined();
  });

  it('waits for every started append before the drain resolves', async () => {
    const appends = new CallAppends();
    const first = deferred();
    const second = deferred();
    appends.track(first.promise);
    appends.track(second.promise);
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
          for (const append of started) appends.track(append.promise);
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
    appends.track(append.promise);
    append.reject(new Error('the sink failed'));
    await settle();
    // Vitest fails the run on an unhandled rejection; reaching here with the failure kept is the check.
    await expect(appends.failureOr('other')).resolves.toMatchObject({ message: 'the sink failed' });
  });

  it("reports a tracked append's failure as what `failed` turns it into, once that settled", async () => {
    const appends = new CallAppends();
    const append = deferred();
    let terminated = false;
    appends.track(append.promise, async (error) => {
      await settle();
      terminated = true;
      throw new Error(`audit failure (${String(error)})`);
    });
    const draining = appends.drain()!;
    append.reject('disk full');
    await expect(draining).rejects.toThrow('audit failure (disk full)');
    expect(terminated).toBe(true);
  });
});

describe('AuditRecorder.start', () => {
  const clock = { now: () => 1_700_000_000_000 };

  /** A recorder over `append`, and the reasons it terminated the session with. */
  function recorderOver(append: (event: AuditEvent) => unknown) {
    const terminations: string[] = [];
    const sink = { append, flush: () => undefined, close: () => undefined } as unknown as AuditSink;
    const recorder = new AuditRecorder(sink, clock, 'tenant', 'session', async (reason) => {
      terminations.push(reason);
    });
    return { recorder, terminations };
  }

  it('tracks a sink promise, and a thenable that is not a promise, without unhandled rejections', async () => {
    for (const answer of [
      () => Promise.reject(new Error('the disk is full')),
      // A foreign thenable: adopted through a native promise before the recorder relies on it.
      () => ({
        // biome-ignore lint/suspicious/noThenProperty: a sink may answer with a thenable; this is one.
        then: (_: unknown, reject: (error: unknown) => void) => reject(new Error('the disk is full')),
      }),
    ]) {
      const { recorder, terminations } = recorderOver(answer);
      const appends = new CallAppends();
      recorder.start(appends, 'token.issued', { stepIndex: 0 });
      await expect(appends.drain()).rejects.toMatchObject({
        code: 'AUDIT_FAILURE',
        details: { event: 'token.issued' },
      });
      expect(terminations).toEqual(['audit failure on token.issued']);
    }
  });

  it('fails the call the same way when the sink throws synchronously', async () => {
    const { recorder, terminations } = recorderOver(() => {
      throw new Error('closed');
    });
    const appends = new CallAppends();
    recorder.start(appends, 'decision.made', { stepIndex: 0 });
    await expect(appends.failureOr('other')).resolves.toMatchObject({
      code: 'AUDIT_FAILURE',
      details: { event: 'decision.made' },
    });
    expect(terminations).toEqual(['audit failure on decision.made']);
  });

  it('tracks nothing for a sink that recorded synchronously', () => {
    const { recorder } = recorderOver(() => RECORDED);
    const appends = new CallAppends();
    recorder.start(appends, 'token.consumed', { stepIndex: 0 });
    expect(appends.drain()).toBeUndefined();
  });
});
