import { describe, expect, it } from 'vitest';
import type { Settings } from '../harness.js';
import type { Stats } from '../report.js';
import { measureFlatDecisions, medianByP50 } from './scaling.js';

const settings: Settings = { quick: true, timeMs: 0, warmupMs: 0, minSamples: 3 };

describe('measureFlatDecisions (APE decisions at several sizes, interleaved)', () => {
  it('measures every size in every round, in the order given, as per-call means', () => {
    const result = measureFlatDecisions([10, 100, 1_000], settings);
    expect(result.sizes).toEqual([10, 100, 1_000]);
    expect(result.samplesUs).toHaveLength(3);
    for (const samples of result.samplesUs) {
      // minSamples rounds, each with one sample per size: the sizes are measured in turn.
      expect(samples).toHaveLength(3);
      for (const sample of samples) {
        expect(Number.isFinite(sample)).toBe(true);
        expect(sample).toBeGreaterThan(0);
      }
    }
  });

  it('refuses to measure a size whose probe is not allowed (the workload must mean what it says)', () => {
    // A size of 0 has no exact rules: its probe action is not in the policy, so APE denies it.
    expect(() => measureFlatDecisions([0, 10], settings)).toThrow(/expected ALLOW/);
  });
});

describe('medianByP50 (a size reports the process in the middle)', () => {
  const stats = (p50Us: number): Stats => ({
    meanUs: p50Us * 2,
    p50Us,
    p99Us: p50Us * 3,
    opsPerSecond: 1,
    samples: 10,
    batch: 1000,
  });

  it('takes the middle p50 of an odd count, whole (not a mix of fields)', () => {
    expect(medianByP50([stats(0.09), stats(0.035), stats(0.04), stats(0.2), stats(0.036)])).toEqual(
      stats(0.04),
    );
  });

  it('takes the upper middle of an even count (the slower of the two), and the only one of one', () => {
    expect(medianByP50([stats(0.05), stats(0.03)])).toEqual(stats(0.05));
    expect(medianByP50([stats(0.04), stats(0.03), stats(0.06), stats(0.05)])).toEqual(stats(0.05));
    expect(medianByP50([stats(0.07)])).toEqual(stats(0.07));
  });
});
