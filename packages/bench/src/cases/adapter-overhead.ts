import { AuthorityManager } from '@ape/authority';
import { type AgentRuntime, createRuntime, messageOf, type PolicyEvaluator } from '@ape/core';
import { compilePolicy } from '@ape/policy';
import { measureAsync, type Settings } from '../harness.js';
import {
  type CaseResult,
  formatDuration,
  measuredRow,
  type Row,
  type Stats,
  type TargetResult,
} from '../report.js';
import type { BenchCase } from './context.js';
import { caseResult } from './shared.js';

/** Issue 15's goal: what an adapter adds per tool call over the bare framework tool, at the median. */
export const ADDED_P50_LIMIT_US = 20;

/** Calls per conversation: a new thread (not timed) starts when one runs out, so its chain stays short. */
const CALLS_PER_THREAD = 1000;

/** The tenant of every adapter bench. */
export const TENANT = 'bench';

/** One adapter (fresh: its in-memory audit sink starts empty) and one call through it, as the framework makes it. */
export interface OpenedAdapter {
  readonly ape: { close(): Promise<void> };
  readonly call: () => Promise<unknown>;
}

/** A policy allowing only `read_file`, named `name`, and an authority of the bench tenant. */
function allowReadFile(name: string): { policy: PolicyEvaluator; authority: AuthorityManager } {
  return {
    policy: compilePolicy({ version: 1, name, allowed_actions: ['read_file'] }),
    authority: new AuthorityManager({ tenant: TENANT }),
  };
}

/**
 * Measures `id`: one call through an adapter at a time, a new adapter (not timed) every
 * {@link CALLS_PER_THREAD} calls. The first call's answer goes to `check`, which throws when the
 * call was refused (the policy must allow it).
 */
async function measureThroughAdapter(
  id: string,
  policyName: string,
  settings: Settings,
  open: (policy: PolicyEvaluator, authority: AuthorityManager) => OpenedAdapter,
  check: (first: unknown) => void,
): Promise<Stats> {
  const { policy, authority } = allowReadFile(policyName);
  let calls = 0;
  let opened = open(policy, authority);
  check(await opened.call());
  try {
    return await measureAsync(id, () => opened.call(), settings, {
      hooks: {
        async beforeEach() {
          if (++calls < CALLS_PER_THREAD) return;
          calls = 0;
          await opened.ape.close();
          opened = open(policy, authority);
        },
      },
    });
  } finally {
    await opened.ape.close();
  }
}

/** Measures `id`: the APE gate alone, `runtime.call` of `run` with `args` in calls mode, no adapter. */
async function measureGateAlone(
  id: string,
  policyName: string,
  settings: Settings,
  run: (args: Readonly<Record<string, unknown>>) => Promise<unknown>,
  args: Readonly<Record<string, unknown>>,
): Promise<Stats> {
  const { policy, authority } = allowReadFile(policyName);
  const open = async (): Promise<AgentRuntime> => {
    const runtime = createRuntime({ tenant: TENANT, policy, authority });
    await runtime.setIntent(
      { allowed_actions: ['read_file'], forbidden_actions: [], scope: 'bench' },
      { provenance: 'SYSTEM_TRUSTED' },
    );
    return runtime;
  };
  let calls = 0;
  let runtime = await open();
  const call = () => runtime.call('read_file', run, { args, provenance: 'USER_TRUSTED' });
  await call();
  return measureAsync(id, call, settings, {
    hooks: {
      async beforeEach() {
        if (++calls < CALLS_PER_THREAD) return;
        calls = 0;
        await runtime.terminate();
        runtime = await open();
      },
    },
  });
}

/**
 * A `check` of {@link measureThroughAdapter}: throws unless the first call's answer (what `read`
 * takes of it) is `expected`, the bare tool's answer (the call was refused otherwise).
 */
export function expectAnswer(
  expected: unknown,
  read: (answer: unknown) => unknown = (answer) => answer,
): (answer: unknown) => void {
  return (answer) => {
    const value = read(answer);
    if (value !== expected) throw new Error(`the wrapped call was refused: ${String(value)}`);
  };
}

/**
 * An adapter overhead case as data: the rows `<group>:bare`, `<group>:gate`, `<group>:ape` and the
 * target `<group>-added-p50`; the policy of the gate and wrapped rows is named `bench_<group>`.
 */
export interface AdapterOverheadSpec {
  readonly id: string;
  readonly title: string;
  readonly group: string;
  /** The framework's name in the target's description (`AI SDK`). */
  readonly framework: string;
  /** The baseline: one call of the bare framework tool, as the framework makes it. */
  readonly bare: { readonly label: string; readonly call: () => Promise<unknown> };
  /** The gate alone: `runtime.call` of `run` with `args`. */
  readonly gate: {
    readonly label: string;
    readonly run: (args: Readonly<Record<string, unknown>>) => Promise<unknown>;
    readonly args: Readonly<Record<string, unknown>>;
  };
  /** Through the adapter: see {@link measureThroughAdapter} for `open` and `check`. */
  readonly wrapped: {
    readonly label: string;
    readonly open: (policy: PolicyEvaluator, authority: AuthorityManager) => OpenedAdapter;
    readonly check: (first: unknown) => void;
  };
  readonly notes: readonly string[];
}

async function rowOf(fields: Omit<Row, 'status' | 'stats'>, measure: () => Promise<Stats>): Promise<Row> {
  try {
    return measuredRow({ ...fields, stats: await measure() });
  } catch (error) {
    return { ...fields, status: 'failed', note: messageOf(error) };
  }
}

/** The bench case of an adapter: the three rows, the added latency (wrapped − bare) and issue 15's target. */
export function adapterOverheadCase(spec: AdapterOverheadSpec): BenchCase {
  const benchCase: BenchCase = {
    id: spec.id,
    title: spec.title,
    run: ({ settings }) => runAdapterOverhead(benchCase, spec, settings),
  };
  return benchCase;
}

async function runAdapterOverhead(
  benchCase: Pick<BenchCase, 'id' | 'number' | 'title'>,
  spec: AdapterOverheadSpec,
  settings: Settings,
): Promise<CaseResult> {
  const { group } = spec;
  const policyName = `bench_${group.replaceAll('-', '_')}`;
  const bare = await rowOf(
    { id: `${group}:bare`, engine: 'node', label: spec.bare.label, group },
    async () => {
      await spec.bare.call();
      return measureAsync(`${group}:bare`, spec.bare.call, settings);
    },
  );
  const gate = await rowOf({ id: `${group}:gate`, engine: 'ape', label: spec.gate.label, group }, () =>
    measureGateAlone(`${group}:gate`, policyName, settings, spec.gate.run, spec.gate.args),
  );
  const wrapped = await rowOf({ id: `${group}:ape`, engine: 'ape', label: spec.wrapped.label, group }, () =>
    measureThroughAdapter(`${group}:ape`, policyName, settings, spec.wrapped.open, spec.wrapped.check),
  );
  const addedP50 =
    bare.stats === undefined || wrapped.stats === undefined
      ? undefined
      : wrapped.stats.p50Us - bare.stats.p50Us;
  const addedP99 =
    bare.stats === undefined || wrapped.stats === undefined
      ? undefined
      : wrapped.stats.p99Us - bare.stats.p99Us;
  const rows: Row[] = [
    bare,
    gate,
    addedP50 === undefined || addedP99 === undefined
      ? wrapped
      : {
          ...wrapped,
          extra: { addedP50Us: Number(addedP50.toFixed(2)), addedP99Us: Number(addedP99.toFixed(2)) },
          note: `adds ${formatDuration(addedP50)} p50, ${formatDuration(addedP99)} p99 per call`,
        },
  ];
  const description = `issue 15: added latency per ${spec.framework} tool call, in memory (p50)`;
  const goal = `≤ ${formatDuration(ADDED_P50_LIMIT_US)} p50`;
  const target: TargetResult =
    addedP50 === undefined
      ? {
          id: `${group}-added-p50`,
          description,
          goal,
          measured: 'not measured',
          met: null,
          note: (bare.stats === undefined ? bare.note : wrapped.note) ?? 'a row was not measured',
        }
      : {
          id: `${group}-added-p50`,
          description,
          goal,
          measured: formatDuration(addedP50),
          met: addedP50 <= ADDED_P50_LIMIT_US,
        };
  return caseResult(benchCase, rows, [target], spec.notes);
}
