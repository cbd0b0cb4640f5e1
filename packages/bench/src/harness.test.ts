import { describe, expect, it } from 'vitest';
import { measureAsync, measureInterleaved, measureSync, type Settings } from './harness.js';

const SETTINGS: Settings = { quick: false, timeMs: 0, warmupMs: 0, minSamples: 4 };

describe('measureAsync and measureSync with a batch', () => {
  it('awaits every call of a batch one after another, and reports the batch with a sample per batch', async () => {
    let running = 0;
    let calls = 0;
    const stats = await measureAsync(
      'batched',
      async () => {
        expect(running).toBe(0);
        running++;
        await new Promise((resolve) => setImmediate(resolve));
        running--;
        calls++;
      },
      { ...SETTINGS, minSamples: 3 },
      { batch: 5 },
    );
    expect(stats.batch).toBe(5);
    expect(stats.samples).toBe(3);
    expect(calls).toBe(15);
  });

  it('reports a sample as the mean of its batch', async () => {
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const single = await measureAsync('one', () => wait(20), { ...SETTINGS, minSamples: 2 });
    const batched = await measureAsync('four', () => wait(20), { ...SETTINGS, minSamples: 2 }, { batch: 4 });
    // A batch of four 20 ms calls takes 80 ms or more; its sample is their mean, about 20 ms (the
    // bounds leave room for a loaded machine: the sample is not the batch's total).
    for (const stats of [single, batched]) {
      expect(stats.p50Us).toBeGreaterThanOrEqual(15_000);
      expect(stats.p50Us).toBeLessThan(75_000);
    }
    const sync = await measureSync('sync', () => undefined, { ...SETTINGS, minSamples: 2 }, { batch: 7 });
    expect(sync.batch).toBe(7);
  });
});

describe('measureInterleaved', () => {
  it('runs the operations call by call, each round starting one further, and times each apart', async () => {
    const order: string[] = [];
    const operation = (name: string) => ({
      name,
      run: async () => {
        order.push(name);
      },
    });
    const results = await measureInterleaved([operation('a'), operation('b'), operation('c')], SETTINGS);
    expect(order).toEqual(['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b', 'a', 'b', 'c']);
    expect(results.map((result) => result.name)).toEqual(['a', 'b', 'c']);
    for (const result of results) {
      expect('stats' in result && result.stats.samples).toBe(4);
    }
  });

  it('does not time beforeEach, and runs it before every call', async () => {
    let prepared = 0;
    const [result] = await measureInterleaved(
      [
        {
          name: 'slow set-up',
          beforeEach: () => new Promise<void>((resolve) => setTimeout(() => resolve(void prepared++), 20)),
          run: async () => undefined,
        },
      ],
      SETTINGS,
    );
    expect(prepared).toBe(4);
    expect(result && 'stats' in result && result.stats.p99Us).toBeLessThan(15_000);
  });

  it('drops an operation that throws and reports its error; the others are measured', async () => {
    let calls = 0;
    const results = await measureInterleaved(
      [
        {
          name: 'flaky',
          run: async () => {
            if (++calls === 2) throw new Error('second call failed');
          },
        },
        { name: 'steady', run: async () => undefined },
      ],
      SETTINGS,
    );
    expect(results[0]).toEqual({ name: 'flaky', error: new Error('second call failed') });
    expect(results[1] && 'stats' in results[1] && results[1].stats.samples).toBe(4);
    expect(calls).toBe(2);
  });

  it('warms up before measuring: warm-up calls are not samples', async () => {
    let calls = 0;
    const [result] = await measureInterleaved([{ name: 'op', run: async () => void calls++ }], {
      ...SETTINGS,
      warmupMs: 5,
    });
    expect(calls).toBeGreaterThan(4);
    expect(result && 'stats' in result && result.stats.samples).toBe(4);
  });
});
