import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CompiledPolicy, loadPolicy } from '@ape/policy';
import { measureAsync, measureSync, type Settings } from '../harness.js';
import { type CasbinEngine, loadCasbin } from '../peers/casbin.js';
import { type CedarEngine, loadCedar } from '../peers/cedar.js';
import {
  type CaseResult,
  formatRatio,
  measuredRow,
  type Row,
  type Stats,
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
    const probe = request(action);
    const answer = ready.evaluate(probe).decision;
    if (answer !== 'ALLOW') throw new Error(`APE answered ${answer} for ${action}; expected ALLOW`);
    const decision = await measureSync(
      'ape-decision',
      () => ready.evaluate(probe),
      settings,
      decisionOptions,
    );
    return { load: loadStats, decision };
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

type PointOutcome =
  | { readonly ok: true; readonly result: PointResult }
  | { readonly ok: false; readonly status: 'skipped' | 'failed'; readonly reason: string };

/** Runs a point in a child process (`node dist/run.js --point <engine> <size>`), with a time limit. */
function runIsolatedPoint(
  engine: ScaleEngine,
  size: number,
  quick: boolean,
  timeoutMs: number,
): PointOutcome {
  // The entry script, beside this module's chunk in dist/ (this module is bundled into its own
  // chunk, so its own URL is not a script that runs anything).
  const script = join(dirname(fileURLToPath(import.meta.url)), 'run.js');
  const child = spawnSync(
    process.execPath,
    [script, '--point', engine, String(size), ...(quick ? ['--quick'] : [])],
    { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (child.error !== undefined && (child.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    return {
      ok: false,
      status: 'skipped',
      reason: `did not finish within the ${(timeoutMs / 1000).toFixed(0)} s left in the run budget`,
    };
  }
  const last = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status === 0 && last.startsWith('{')) {
    const parsed = JSON.parse(last) as { ok: boolean; result?: PointResult; error?: string };
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
    }
    const decisions = withSpeedups(decisionRows);
    const loads = withSpeedups(loadRows).map((row) => {
      const { speedup: _unused, ...rest } = row;
      return rest;
    });
    const notes = [
      `Every policy has N exact action ids (one in ten forbidden, one in ten escalated, the rest allowed) plus ${GLOB_COUNT} globs (a quarter forbidden, a quarter escalated). The probe is an allowed exact id in the middle.`,
      context.isolate
        ? 'Each engine and size runs in its own Node.js process (clean heap; a crash or time-out is recorded, not fatal).'
        : 'All points ran in this process (quick mode).',
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
        ...caps.map((cap) => `not measured: ${cap}`),
      ],
    );
    return [scaling, load];
  },
};
