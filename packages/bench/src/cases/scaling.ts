import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CompiledPolicy, loadPolicy } from '@ape/policy';
import { blackhole, measureAsync, measureSync, type Settings, statsOf } from '../harness.js';
import { type CasbinEngine, loadCasbin } from '../peers/casbin.js';
import { type CedarEngine, loadCedar } from '../peers/cedar.js';
import {
  type CaseResult,
  formatRatio,
  measuredRow,
  type Row,
  type Stats,
  formatDuration,
  type TargetResult,
  withSpeedups,
} from '../report.js';
import { speedupTargets } from '../targets.js';
import {
  CASBIN_ACTION_MODEL,
  GLOB_COUNT,
  request,
  SCALE_LIMITS,
  SCALE_SIZES,
  scaleCasbin,
  scaleCedar,
  scaleJson,
  scaleProbeAction,
  scaleYaml,
} from '../workloads.js';
import type { BenchCase, CaseContext } from './context.js';
import { caseResult } from './shared.js';
import { messageOf } from '@ape/core';

/** The engines of the scaling cases. */
export const SCALE_ENGINES = ['ape', 'cedar', 'casbin'] as const;

/** An engine of the scaling cases. */
export type ScaleEngine = (typeof SCALE_ENGINES)[number];

/** What one engine at one size measured. */
export interface PointResult {
  readonly load: Stats;
  readonly decision: Stats;
  /** APE only: the same policy loaded from JSON text. */
  readonly loadJson?: Stats;
}

/** Sizes of a quick run (smoke test): enough to run every engine, small enough for seconds. */
const QUICK_SIZES = [10, 1_000] as const;

/** An isolated point is not started with less than this left in the run budget. */
const MINIMUM_POINT_BUDGET_MS = 5_000;

/** Peers first within a size: APE's largest point may use whatever budget is left. */
const RUN_ORDER: readonly ScaleEngine[] = ['cedar', 'casbin', 'ape'];

function decisionBatch(engine: ScaleEngine, size: number): number {
  if (engine === 'ape') return 1000;
  if (engine === 'cedar') return size <= 100 ? 10 : 1;
  return size <= 100 ? 100 : size <= 1_000 ? 10 : 1;
}

/**
 * Loads the scaling policy of `size` exact rules plus {@link GLOB_COUNT} globs into `engine`
 * (from its text form: YAML, Cedar text, casbin CSV; generating the text is not timed), checks it
 * answers ALLOW for the probe action, then measures one decision.
 */
export async function runScalePoint(
  engine: ScaleEngine,
  size: number,
  settings: Settings,
): Promise<PointResult> {
  const action = scaleProbeAction(size);
  const loadOptions = { minSamples: 1, timeMs: settings.quick ? 0 : 500, warmupMs: 0 };
  const decisionOptions = {
    batch: decisionBatch(engine, size),
    ...(settings.quick ? {} : { minSamples: size >= 10_000 ? 8 : 16 }),
  };
  // The engine used for the decision is the one the last timed load produced: a 100,000-rule
  // policy may take minutes to load, so it is never loaded once more than needed.
  if (engine === 'ape') {
    const text = scaleYaml(size);
    let policy: CompiledPolicy | undefined;
    const load = () => {
      policy = loadPolicy({ text, filename: `scale-${size}.yaml` }, { limits: SCALE_LIMITS });
    };
    const loadStats = await measureSync('ape-load', load, settings, loadOptions);
    const ready = policy ?? fail('APE');
    // The same document as JSON (the form a generated policy usually has), read by its own reader.
    const json = scaleJson(size);
    let fromJson: CompiledPolicy | undefined;
    const loadJson = await measureSync(
      'ape-load-json',
      () => {
        fromJson = loadPolicy(
          { text: json, format: 'json', filename: `scale-${size}.json` },
          { limits: SCALE_LIMITS },
        );
      },
      settings,
      loadOptions,
    );
    if ((fromJson ?? fail('APE (JSON)')).digest !== ready.digest) {
      throw new Error(`APE compiled scale-${size}.json and scale-${size}.yaml to different policies`);
    }
    const probe = request(action);
    const answer = ready.evaluate(probe).decision;
    if (answer !== 'ALLOW') throw new Error(`APE answered ${answer} for ${action}; expected ALLOW`);
    const decision = await measureSync(
      'ape-decision',
      () => ready.evaluate(probe),
      settings,
      decisionOptions,
    );
    return { load: loadStats, decision, loadJson };
  }
  if (engine === 'cedar') {
    const text = scaleCedar(size);
    let cedar: CedarEngine | undefined;
    const loadStats = await measureSync(
      'cedar-load',
      () => {
        cedar = loadCedar(text);
      },
      settings,
      loadOptions,
    );
    const ready = cedar ?? fail('Cedar');
    const call = ready.prepare(action);
    const answer = ready.decide(call);
    if (answer !== 'ALLOW') throw new Error(`Cedar answered ${answer} for ${action}; expected ALLOW`);
    const decision = await measureSync('cedar-decision', () => ready.decide(call), settings, decisionOptions);
    return { load: loadStats, decision };
  }
  const lines = scaleCasbin(size);
  let casbin: CasbinEngine | undefined;
  const loadStats = await measureAsync(
    'casbin-load',
    async () => {
      casbin = await loadCasbin(CASBIN_ACTION_MODEL, lines);
    },
    settings,
    loadOptions,
  );
  const ready = casbin ?? fail('casbin');
  if (!ready.decide('agent', action)) throw new Error(`casbin denied ${action}; expected an allow`);
  const decision = await measureSync(
    'casbin-decision',
    () => ready.decide('agent', action),
    settings,
    decisionOptions,
  );
  return { load: loadStats, decision };
}

function fail(engine: string): never {
  throw new Error(`${engine}: the load was never run`);
}

/** Calls per sample of the interleaved decision measurement (a sample is their mean). */
const FLAT_BATCH = 1000;

/** Processes that each measure every size interleaved; each size reports its median process. */
const FLAT_PROCESSES = 5;

/** APE's decision at several sizes, measured in one process: per size, the mean of each sample's calls, in µs. */
export interface FlatResult {
  readonly sizes: readonly number[];
  readonly samplesUs: readonly (readonly number[])[];
}

/**
 * Loads APE's scaling policy at every size into one process, checks each answers ALLOW for its
 * probe, then measures the decisions size by size in turn (A B C D E, B C D E A, …), a batch of
 * {@link FLAT_BATCH} calls per turn: whatever drifts while the process runs (the machine's speed,
 * the heap, the JIT) weighs on every size alike, so slowest over fastest measures the policy, not
 * the moment each size happened to be measured at. Warms up for `warmupMs` per size (at most
 * 100 ms), then measures for at least `timeMs` per size (at most 200 ms) and `minSamples` rounds.
 */
export function measureFlatDecisions(sizes: readonly number[], settings: Settings): FlatResult {
  // Five sizes share the process's time: at most 100 ms of warm-up and 200 ms of samples per size.
  const warmupMs = Math.min(settings.warmupMs, 100);
  const timeMs = Math.min(settings.timeMs, 200);
  const points = sizes.map((size) => {
    const policy = loadPolicy(
      { text: scaleYaml(size), filename: `scale-${size}.yaml` },
      { limits: SCALE_LIMITS },
    );
    const action = scaleProbeAction(size);
    const probe = request(action);
    const answer = policy.evaluate(probe).decision;
    if (answer !== 'ALLOW') throw new Error(`APE answered ${answer} for ${action}; expected ALLOW`);
    return { policy, probe };
  });
  const samples: number[][] = sizes.map(() => []);
  const count = points.length;
  const round = (index: number, record: boolean): void => {
    for (let turn = 0; turn < count; turn++) {
      const which = (index + turn) % count;
      const { policy, probe } = points[which] as (typeof points)[number];
      const start = performance.now();
      for (let call = 0; call < FLAT_BATCH; call++) blackhole.value = policy.evaluate(probe);
      const elapsed = performance.now() - start;
      if (record) (samples[which] as number[]).push((elapsed * 1000) / FLAT_BATCH);
    }
  };
  let index = 0;
  const warmupEnd = performance.now() + warmupMs * count;
  while (warmupMs > 0 && performance.now() < warmupEnd) round(index++, false);
  const end = performance.now() + timeMs * count;
  for (let rounds = 0; rounds < settings.minSamples || performance.now() < end; rounds++) {
    round(index++, true);
  }
  return { sizes: [...sizes], samplesUs: samples };
}

/** Runs {@link measureFlatDecisions} in a child process (`node dist/run.js --flat <sizes>`), with a time limit. */
function runIsolatedFlat(
  sizes: readonly number[],
  quick: boolean,
  timeoutMs: number,
): ChildOutcome<FlatResult> {
  return runChild(['--flat', sizes.join(','), ...(quick ? ['--quick'] : [])], timeoutMs);
}

/**
 * APE's decision statistics per size, interleaved ({@link measureFlatDecisions}), in
 * {@link FLAT_PROCESSES} child processes one after another: each process has its own string hash
 * seed, and with it its own slow keys (a lookup whose hash bucket holds other keys costs up to
 * twice as much, whatever the policy's size), so a size's statistics are those of its median
 * process (by p50; the upper median when an even number completed). In-process once when not
 * isolating (quick mode). The reason instead when no process completed.
 */
async function flatDecisions(
  sizes: readonly number[],
  context: CaseContext,
): Promise<{ stats: ReadonlyMap<number, Stats>; processes: number } | { reason: string }> {
  const perProcess: Stats[][] = sizes.map(() => []);
  let processes = 0;
  let reason = 'not run';
  const runs = context.isolate ? FLAT_PROCESSES : 1;
  for (let run = 0; run < runs; run++) {
    const timeoutMs = Math.floor(context.deadline - performance.now());
    if (context.isolate && timeoutMs < MINIMUM_POINT_BUDGET_MS) {
      reason = 'no time left in the run budget';
      break;
    }
    context.log(`scaling: APE decisions at every size, interleaved (process ${run + 1} of ${runs})`);
    let outcome: ChildOutcome<FlatResult>;
    if (context.isolate) outcome = runIsolatedFlat(sizes, context.settings.quick, timeoutMs);
    else {
      try {
        outcome = { ok: true, result: measureFlatDecisions(sizes, context.settings) };
      } catch (error) {
        outcome = { ok: false, status: 'failed', reason: messageOf(error) };
      }
    }
    if (!outcome.ok) {
      reason = outcome.reason;
      continue;
    }
    processes++;
    outcome.result.samplesUs.forEach((samples, which) => {
      (perProcess[which] as Stats[]).push({ ...statsOf(samples), batch: FLAT_BATCH });
    });
  }
  if (processes === 0) return { reason };
  const stats = new Map<number, Stats>();
  sizes.forEach((size, which) => {
    stats.set(size, medianByP50(perProcess[which] as Stats[]));
  });
  return { stats, processes };
}

/** The statistics whose p50 is the median of `all` (the upper median for an even count); `all` is not empty. */
export function medianByP50(all: readonly Stats[]): Stats {
  const sorted = [...all].sort((left, right) => left.p50Us - right.p50Us);
  return sorted[Math.floor(sorted.length / 2)] as Stats;
}

/** What a measurement in a child process gave: its result, or why there is none. */
type ChildOutcome<T> =
  | { readonly ok: true; readonly result: T }
  | { readonly ok: false; readonly status: 'skipped' | 'failed'; readonly reason: string };

type PointOutcome = ChildOutcome<PointResult>;

/**
 * Runs `node dist/run.js <args>` with a time limit and reads the one JSON line it prints last
 * (`{ ok, result }` or `{ ok: false, error }`): a time-out is `skipped`, anything else that gives
 * no result `failed`, with the reason.
 */
function runChild<T>(args: readonly string[], timeoutMs: number): ChildOutcome<T> {
  // The entry script, beside this module's chunk in dist/ (this module is bundled into its own
  // chunk, so its own URL is not a script that runs anything).
  const script = join(dirname(fileURLToPath(import.meta.url)), 'run.js');
  const child = spawnSync(process.execPath, [script, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.error !== undefined && (child.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    return {
      ok: false,
      status: 'skipped',
      reason: `did not finish within the ${(timeoutMs / 1000).toFixed(0)} s left in the run budget`,
    };
  }
  const last = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status === 0 && last.startsWith('{')) {
    const parsed = JSON.parse(last) as { ok: boolean; result?: T; error?: string };
    if (parsed.ok && parsed.result !== undefined) return { ok: true, result: parsed.result };
    return { ok: false, status: 'failed', reason: parsed.error ?? 'no result' };
  }
  const stderr = child.stderr.trim().split('\n');
  const detail = stderr.find((line) => /fatal|error/i.test(line)) ?? stderr.at(-1) ?? '';
  const how = child.signal === null ? `exit code ${String(child.status)}` : `signal ${child.signal}`;
  return {
    ok: false,
    status: 'failed',
    reason: `the process died (${how})${detail === '' ? '' : `: ${detail.trim()}`}`,
  };
}

/** Runs a point in a child process (`node dist/run.js --point <engine> <size>`), with a time limit. */
function runIsolatedPoint(
  engine: ScaleEngine,
  size: number,
  quick: boolean,
  timeoutMs: number,
): PointOutcome {
  return runChild(['--point', engine, String(size), ...(quick ? ['--quick'] : [])], timeoutMs);
}

async function runPoint(
  engine: ScaleEngine,
  size: number,
  context: CaseContext,
  timeoutMs: number,
): Promise<PointOutcome> {
  if (context.isolate) return runIsolatedPoint(engine, size, context.settings.quick, timeoutMs);
  try {
    return { ok: true, result: await runScalePoint(engine, size, context.settings) };
  } catch (error) {
    return { ok: false, status: 'failed', reason: messageOf(error) };
  }
}

const ENGINE_LABELS: Readonly<Record<ScaleEngine, { load: string; decision: string }>> = {
  ape: { load: 'loadPolicy (YAML text → compiled)', decision: 'policy.evaluate' },
  cedar: { load: 'preparsePolicySet (Cedar text)', decision: 'statefulIsAuthorized' },
  casbin: { load: 'newEnforcer (model + CSV in memory)', decision: 'enforceSync' },
};

/**
 * Flatness of APE's decision time across sizes: slowest p50 over fastest p50 (the p50 of batch
 * means is robust to the garbage-collection pauses and neighbours that move the mean).
 */
function flatness(rows: readonly Row[], sizes: readonly number[]): TargetResult {
  const ape = rows.filter((row) => row.engine === 'ape' && row.stats !== undefined);
  const goal = `≤ 1.5× from ${sizes[0]?.toLocaleString('en-US')} to ${sizes.at(-1)?.toLocaleString('en-US')} rules`;
  const description = 'case 3: APE decision time flat as rules grow (slowest p50 / fastest p50)';
  if (ape.length < 2) {
    return { id: 'case3-flat', description, goal, measured: 'not measured', met: null };
  }
  const ratioOf = (values: readonly number[]): number => Math.max(...values) / Math.min(...values);
  const ratio = ratioOf(ape.map((row) => row.stats?.p50Us ?? Number.NaN));
  const meanRatio = ratioOf(ape.map((row) => row.stats?.meanUs ?? Number.NaN));
  const largest = Math.max(...ape.map((row) => Number(row.extra?.['rules'] ?? 0)));
  const complete = largest === sizes.at(-1);
  return {
    id: 'case3-flat',
    description,
    goal,
    measured: `${formatRatio(ratio)} (means ${formatRatio(meanRatio)}) up to ${largest.toLocaleString('en-US')} rules`,
    met: complete ? ratio <= 1.5 : null,
    ...(complete ? {} : { note: `APE was measured only up to ${largest.toLocaleString('en-US')} rules` }),
  };
}

/** Cases 3 and 4: decision time and load time as the policy grows, for every engine. */
export const scalingCase: BenchCase = {
  id: 'scaling',
  title: 'Scaling and load time',
  async run(context) {
    const sizes: readonly number[] = context.settings.quick ? QUICK_SIZES : SCALE_SIZES;
    const decisionRows: Row[] = [];
    const loadRows: Row[] = [];
    const caps: string[] = [];
    // Largest sizes last, so what the time budget cuts short is the biggest policies.
    const order = sizes.flatMap((size) => RUN_ORDER.map((engine) => ({ engine, size })));
    /** APE's decision as each point's own process measured it, right after its load. */
    const apeAlone = new Map<number, Stats>();
    for (const { engine, size } of order) {
      const timeoutMs = Math.floor(context.deadline - performance.now());
      const group = `${size.toLocaleString('en-US')} rules`;
      const base = { engine, group, extra: { rules: size, globs: GLOB_COUNT } };
      context.log(`scaling: ${engine} with ${size} rules`);
      const outcome: PointOutcome =
        context.isolate && timeoutMs < MINIMUM_POINT_BUDGET_MS
          ? { ok: false, status: 'skipped', reason: 'no time left in the run budget' }
          : await runPoint(engine, size, context, timeoutMs);
      if (!outcome.ok) caps.push(`${engine} at ${size.toLocaleString('en-US')} rules: ${outcome.reason}`);
      else if (engine === 'ape') apeAlone.set(size, outcome.result.decision);
      for (const [rows, kind] of [
        [decisionRows, 'decision'],
        [loadRows, 'load'],
      ] as const) {
        const row = {
          ...base,
          id: `${kind}:${size}:${engine}`,
          label: `${group}: ${ENGINE_LABELS[engine][kind]}`,
        };
        rows.push(
          outcome.ok
            ? measuredRow({ ...row, stats: outcome.result[kind] })
            : { ...row, status: outcome.status, note: outcome.reason },
        );
      }
      if (engine === 'ape') {
        const row = {
          ...base,
          id: `load-json:${size}:ape`,
          label: `${group}: loadPolicy (JSON text → compiled)`,
          extra: { ...base.extra, format: 'json' },
        };
        const stats = outcome.ok ? outcome.result.loadJson : undefined;
        loadRows.push(
          stats !== undefined
            ? measuredRow({ ...row, stats })
            : {
                ...row,
                status: outcome.ok ? 'failed' : outcome.status,
                note: outcome.ok ? 'no JSON load measured' : outcome.reason,
              },
        );
      }
    }
    // APE's decision rows: every loaded size measured again, interleaved in one process (in five
    // processes, each size's median process), so that the flatness ratio compares sizes measured at
    // the same moments.
    const flatSizes = sizes.filter((size) => apeAlone.has(size));
    const flat = flatSizes.length >= 2 ? await flatDecisions(flatSizes, context) : undefined;
    const interleaved = flat !== undefined && 'stats' in flat ? flat : undefined;
    const decisions = withSpeedups(
      interleaved === undefined
        ? decisionRows
        : decisionRows.map((row) => {
            const stats =
              row.engine === 'ape' ? interleaved.stats.get(Number(row.extra?.['rules'])) : undefined;
            return stats === undefined ? row : { ...row, stats };
          }),
    );
    const alone = flatSizes
      .map(
        (size) =>
          `${size.toLocaleString('en-US')}: ${formatDuration(apeAlone.get(size)?.p50Us ?? Number.NaN)}`,
      )
      .join(', ');
    const loads = withSpeedups(loadRows).map((row) => {
      const { speedup: _unused, ...rest } = row;
      return rest;
    });
    const notes = [
      `Every policy has N exact action ids (one in ten forbidden, one in ten escalated, the rest allowed) plus ${GLOB_COUNT} globs (a quarter forbidden, a quarter escalated). The probe is an allowed exact id in the middle.`,
      context.isolate
        ? 'Each engine and size runs in its own Node.js process (clean heap; a crash or time-out is recorded, not fatal).'
        : 'All points ran in this process (quick mode).',
      interleaved === undefined
        ? `APE's decision rows were measured in each point's own process, right after its load${flat === undefined ? '' : ` (the interleaved measurement failed: ${'reason' in flat ? flat.reason : ''})`}.`
        : `APE's decision rows: every size loaded into one process and measured in turn, a batch of ${FLAT_BATCH} calls per turn (10, 100, …, then 100, 1,000, …, 10), in ${interleaved.processes} process${interleaved.processes === 1 ? '' : 'es'} one after another; each size's row is its median process (by p50). Within a process the sizes are measured at the same moments; across processes the string hash seed changes, and with it which keys share a hash bucket (such a key's lookups cost up to twice as much, whatever the size). Measured alone in each point's own process right after its load (the method before 2026-12-02), p50: ${alone}.`,
      ...caps.map((cap) => `not measured: ${cap}`),
    ];
    const scaling: CaseResult = caseResult(
      {
        id: 'scaling-decision',
        number: 3,
        title: `Scaling: decision time with N exact rules + ${GLOB_COUNT} globs`,
      },
      decisions,
      [flatness(decisions, sizes), ...speedupTargets('case3', 'case 3', decisions)],
      notes,
    );
    const load: CaseResult = caseResult(
      {
        id: 'scaling-load',
        number: 4,
        title: `Policy load + compile time with N exact rules + ${GLOB_COUNT} globs`,
      },
      loads,
      [],
      [
        'Load = from the policy text in memory to an engine ready to decide (APE: YAML parse, schema, lint, compile).',
        "APE's JSON rows load the same document written as JSON (indented by two spaces), read by @ape/policy's own JSON reader instead of the YAML parser; both forms are checked to compile to the same policy digest.",
        ...caps.map((cap) => `not measured: ${cap}`),
      ],
    );
    return [scaling, load];
  },
};
