import { AuthorityManager } from '@ape/authority';
import { type AgentRuntime, createRuntime, messageOf, type PolicyEvaluator } from '@ape/core';
import { compilePolicy } from '@ape/policy';
import {
  type InterleavedOperation,
  type InterleavedResult,
  measureInterleaved,
  type Settings,
} from '../harness.js';
import { type CaseResult, formatDuration, measuredRow, type Row, type TargetResult } from '../report.js';
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
 * The wrapped operation: one call through an adapter at a time, a new adapter (untimed) every
 * {@link CALLS_PER_THREAD} calls. The first call's answer goes to `check`, which throws when the
 * call was refused (the policy must allow it).
 */
async function throughAdapter(
  name: string,
  policyName: string,
  open: (policy: PolicyEvaluator, authority: AuthorityManager) => OpenedAdapter,
  check: (first: unknown) => void,
): Promise<PreparedOperation> {
  const { policy, authority } = allowReadFile(policyName);
  let calls = 0;
  let opened = open(policy, authority);
  try {
    check(await opened.call());
  } catch (error) {
    await opened.ape.close();
    throw error;
  }
  return {
    name,
    run: () => opened.call(),
    async beforeEach() {
      if (++calls < CALLS_PER_THREAD) return;
      calls = 0;
      await opened.ape.close();
      opened = open(policy, authority);
    },
    close: () => opened.ape.close(),
  };
}

/** The gate-alone operation: `runtime.call` of `run` with `args` in calls mode, no adapter. */
async function gateAlone(
  name: string,
  policyName: string,
  run: (args: Readonly<Record<string, unknown>>) => Promise<unknown>,
  args: Readonly<Record<string, unknown>>,
): Promise<PreparedOperation> {
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
  return {
    name,
    run: call,
    async beforeEach() {
      if (++calls < CALLS_PER_THREAD) return;
      calls = 0;
      await runtime.terminate();
      runtime = await open();
    },
    close: () => runtime.terminate(),
  };
}

/** An operation ready to measure, and how to release what it holds. */
interface PreparedOperation extends InterleavedOperation {
  readonly close: () => Promise<void>;
}

/**
 * A `check` of {@link throughAdapter}: throws unless the first call's answer (what `read`
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
  /** Through the adapter: see {@link throughAdapter} for `open` and `check`. */
  readonly wrapped: {
    readonly label: string;
    readonly open: (policy: PolicyEvaluator, authority: AuthorityManager) => OpenedAdapter;
    readonly check: (first: unknown) => void;
  };
  readonly notes: readonly string[];
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
  const fields: Omit<Row, 'status' | 'stats'>[] = [
    { id: `${group}:bare`, engine: 'node', label: spec.bare.label, group },
    { id: `${group}:gate`, engine: 'ape', label: spec.gate.label, group },
    { id: `${group}:ape`, engine: 'ape', label: spec.wrapped.label, group },
  ];
  // Each row's operation is prepared on its own (a failure fails only its row), then the three are
  // measured call by call in turn, so that a drift of the machine during the run weighs on each alike.
  const prepared = await Promise.allSettled([
    (async (): Promise<PreparedOperation> => {
      await spec.bare.call();
      return { name: `${group}:bare`, run: spec.bare.call, close: async () => undefined };
    })(),
    gateAlone(`${group}:gate`, policyName, spec.gate.run, spec.gate.args),
    throughAdapter(`${group}:ape`, policyName, spec.wrapped.open, spec.wrapped.check),
  ]);
  const ready = prepared.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  let measured: readonly InterleavedResult[];
  try {
    measured = await measureInterleaved(ready, settings);
  } finally {
    await Promise.allSettled(ready.map((operation) => operation.close()));
  }
  const [bare, gate, wrapped] = fields.map((row, index): Row => {
    const outcome = prepared[index];
    if (outcome?.status === 'rejected') return { ...row, status: 'failed', note: messageOf(outcome.reason) };
    const result = measured.find((entry) => entry.name === row.id);
    if (result === undefined || !('stats' in result)) {
      return { ...row, status: 'failed', note: messageOf(result?.error ?? 'not measured') };
    }
    return measuredRow({ ...row, stats: result.stats });
  }) as [Row, Row, Row];
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
  return caseResult(
    benchCase,
    rows,
    [target],
    [
      ...spec.notes,
      'The three rows are measured call by call in turn (bare, gate, wrapped, each round starting one further), so a drift of the machine during the run weighs on each alike.',
    ],
  );
}
