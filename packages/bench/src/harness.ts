import { Bench, type FnOptions } from 'tinybench';
import type { Stats } from './report.js';

/** How long and how often the harness measures; see {@link settingsFor}. */
export interface Settings {
  readonly quick: boolean;
  /** Time budget per row, in milliseconds (tinybench `time`). */
  readonly timeMs: number;
  /** Warm-up budget per row, in milliseconds; 0 disables warm-up. */
  readonly warmupMs: number;
  /** Minimum samples per row (tinybench `iterations`). */
  readonly minSamples: number;
}

/** Full runs: half a second per row after a 200 ms warm-up. Quick runs (smoke test): one sample. */
export function settingsFor(quick: boolean): Settings {
  return quick
    ? { quick, timeMs: 0, warmupMs: 0, minSamples: 1 }
    : { quick, timeMs: 500, warmupMs: 200, minSamples: 16 };
}

/** Per-row overrides of {@link Settings}. */
export interface MeasureOptions {
  /** Calls per sample (default 1): a sample is the mean of a batch, for operations near the timer's resolution. */
  readonly batch?: number;
  readonly timeMs?: number;
  readonly minSamples?: number;
  readonly warmupMs?: number;
  readonly hooks?: Pick<FnOptions, 'beforeEach' | 'beforeAll' | 'afterAll'>;
}

/** Keeps results alive so the optimiser cannot drop the measured calls. */
export const blackhole: { value: unknown } = { value: undefined };

function toStats(bench: Bench, batch: number): Stats {
  const task = bench.tasks[0];
  const result = task?.result;
  if (result === undefined || !('latency' in result)) {
    const error = result !== undefined && 'error' in result ? result.error : undefined;
    throw new Error(`the benchmark did not complete: ${error?.message ?? String(result?.state)}`, {
      cause: error,
    });
  }
  const { latency } = result;
  const meanUs = latency.mean * 1000;
  return {
    meanUs,
    p50Us: latency.p50 * 1000,
    p99Us: latency.p99 * 1000,
    opsPerSecond: meanUs > 0 ? 1_000_000 / meanUs : Number.POSITIVE_INFINITY,
    samples: latency.samplesCount,
    batch,
  };
}

function createBench(settings: Settings, options: MeasureOptions): Bench {
  const warmupMs = options.warmupMs ?? settings.warmupMs;
  return new Bench({
    time: options.timeMs ?? settings.timeMs,
    iterations: options.minSamples ?? settings.minSamples,
    warmup: warmupMs > 0,
    warmupTime: warmupMs,
    warmupIterations: warmupMs > 0 ? 4 : 0,
    timestampProvider: 'hrtimeNow',
    throws: true,
  });
}

/** Measures a synchronous operation with tinybench. */
export async function measureSync(
  name: string,
  operation: () => unknown,
  settings: Settings,
  options: MeasureOptions = {},
): Promise<Stats> {
  const batch = options.batch ?? 1;
  const bench = createBench(settings, options);
  if (batch === 1) {
    bench.add(
      name,
      () => {
        blackhole.value = operation();
      },
      { ...options.hooks, async: false },
    );
  } else {
    bench.add(
      name,
      () => {
        const start = bench.now();
        for (let index = 0; index < batch; index++) blackhole.value = operation();
        const elapsed = bench.now() - start;
        return { overriddenDuration: elapsed / batch, overriddenIterationCost: elapsed };
      },
      { ...options.hooks, async: false },
    );
  }
  await bench.run();
  return toStats(bench, batch);
}

/**
 * Measures an asynchronous operation with tinybench. Each sample awaits one call, or with `batch`
 * that many calls one after another (a sample is then their mean: for operations near the cost of
 * the sample's own timing and promise hops).
 */
export async function measureAsync(
  name: string,
  operation: () => Promise<unknown>,
  settings: Settings,
  options: MeasureOptions = {},
): Promise<Stats> {
  const batch = options.batch ?? 1;
  const bench = createBench(settings, options);
  if (batch === 1) {
    bench.add(
      name,
      async () => {
        blackhole.value = await operation();
      },
      { ...options.hooks, async: true },
    );
  } else {
    bench.add(
      name,
      async () => {
        const start = bench.now();
        for (let index = 0; index < batch; index++) blackhole.value = await operation();
        const elapsed = bench.now() - start;
        return { overriddenDuration: elapsed / batch, overriddenIterationCost: elapsed };
      },
      { ...options.hooks, async: true },
    );
  }
  await bench.run();
  return toStats(bench, batch);
}

/** Statistics of samples measured by hand (microseconds each), for rows tinybench cannot drive. */
export function statsOf(samplesUs: readonly number[], opsPerSecond?: number): Stats {
  const sorted = [...samplesUs].sort((left, right) => left - right);
  const count = sorted.length;
  const mean = count === 0 ? Number.NaN : sorted.reduce((sum, value) => sum + value, 0) / count;
  return {
    meanUs: mean,
    p50Us: quantile(sorted, 0.5),
    p99Us: quantile(sorted, 0.99),
    opsPerSecond: opsPerSecond ?? (mean > 0 ? 1_000_000 / mean : Number.NaN),
    samples: count,
    batch: 1,
  };
}

/** Linear interpolation between order statistics (the definition tinybench uses). */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] ?? Number.NaN;
  const high = sorted[upper] ?? low;
  return low + (high - low) * (position - lower);
}

/** One operation of {@link measureInterleaved}. */
export interface InterleavedOperation {
  readonly name: string;
  readonly run: () => Promise<unknown>;
  /** Runs before each call of `run`, untimed (for example: open a new session every N calls). */
  readonly beforeEach?: () => Promise<void> | void;
}

/** What {@link measureInterleaved} measured of one operation: its statistics, or why it stopped. */
export type InterleavedResult =
  | { readonly name: string; readonly stats: Stats }
  | { readonly name: string; readonly error: unknown };

/**
 * Measures several asynchronous operations call by call in turn (A B C, B C A, C A B, …), so that
 * whatever drifts during a run (the machine's speed, the heap, the JIT) weighs on each of them
 * alike: the fair way to take a difference between them, such as an adapter's overhead over its
 * bare framework call. Warms up for `warmupMs` per operation, then measures for at least `timeMs`
 * per operation and `minSamples` rounds. An operation that throws leaves the rotation and is
 * reported with its error; the others go on.
 */
export async function measureInterleaved(
  operations: readonly InterleavedOperation[],
  settings: Settings,
): Promise<readonly InterleavedResult[]> {
  const count = operations.length;
  const samples: number[][] = operations.map(() => []);
  const errors: (unknown | undefined)[] = operations.map(() => undefined);
  const failed: boolean[] = operations.map(() => false);
  const round = async (index: number, record: boolean): Promise<void> => {
    for (let turn = 0; turn < count; turn++) {
      const which = (index + turn) % count;
      const operation = operations[which] as InterleavedOperation;
      if (failed[which]) continue;
      try {
        await operation.beforeEach?.();
        const start = performance.now();
        blackhole.value = await operation.run();
        const elapsed = performance.now() - start;
        if (record) (samples[which] as number[]).push(elapsed * 1000);
      } catch (error) {
        failed[which] = true;
        errors[which] = error;
      }
    }
  };
  let index = 0;
  const warmupEnd = performance.now() + settings.warmupMs * count;
  while (settings.warmupMs > 0 && performance.now() < warmupEnd && !failed.every(Boolean)) {
    await round(index++, false);
  }
  const end = performance.now() + settings.timeMs * count;
  let rounds = 0;
  while ((rounds < settings.minSamples || performance.now() < end) && !failed.every(Boolean)) {
    await round(index++, true);
    rounds++;
  }
  return operations.map((operation, which) =>
    failed[which]
      ? { name: operation.name, error: errors[which] }
      : { name: operation.name, stats: statsOf(samples[which] as number[]) },
  );
}
