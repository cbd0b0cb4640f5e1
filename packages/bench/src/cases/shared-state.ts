import { AuthorityManager } from '@ape/authority';
import {
  type AgentRuntime,
  createInMemoryUsageStore,
  messageOf,
  type PolicyEvaluator,
  type UsageCounter,
  type UsageLimit,
  type UsageStore,
} from '@ape/core';
import { compilePolicy } from '@ape/policy';
import { createRedisConnection, type RedisConnection, RedisUsageStore } from '@ape/redis';
import {
  type RedisCommandCounter,
  startRedisCommandCounter,
  startRedisServer,
  type TestRedisServer,
} from '@ape/redis/testing';
import { measureAsync, type Settings, statsOf } from '../harness.js';
import { measuredRow, type Row, type Stats, type TargetResult } from '../report.js';
import { targetAtMostValue } from '../targets.js';
import { threeListDocument } from '../workloads.js';
import type { BenchCase } from './context.js';
import { runNextStep, STEP_ACTION, startSession, submitStepsPlan, TENANT } from './session.js';
import { caseResult } from './shared.js';

const PLAN_STEPS = 1000;
/** Acquires kept in flight on one connection for the throughput row (node-redis pipelines them). */
const IN_FLIGHT = 64;
/** Sessions (one lineage each) running gated steps at once over one connection, for the fleet throughput row. */
const SESSIONS = 16;
/** Gated steps counted on the wire for the round-trips row (after one warm-up step loads the scripts). */
const COUNTED_STEPS = 200;

/** The counters one call with a tenant budget and a lineage budget touches. */
const COUNTERS: readonly UsageCounter[] = Object.freeze([
  {
    key: `${TENANT}\u0000tenant\u0000${TENANT}\u0000calls-per-day`,
    max: Number.MAX_SAFE_INTEGER,
    windowMs: 86_400_000,
  },
  { key: `${TENANT}\u0000lineage\u0000conversation-1\u0000calls`, max: Number.MAX_SAFE_INTEGER },
]);

/** The limits the benchmark policy adds: a tenant budget per day and a lineage budget, as a fleet would. */
const LIMITS: readonly UsageLimit[] = Object.freeze([
  Object.freeze({
    id: 'calls-per-day',
    max: Number.MAX_SAFE_INTEGER,
    scope: 'tenant' as const,
    windowMs: 86_400_000,
  }),
  Object.freeze({ id: 'calls', max: Number.MAX_SAFE_INTEGER, scope: 'lineage' as const }),
]);

/** The three-list policy with {@link LIMITS} on every action. */
function limitedPolicy(): PolicyEvaluator {
  const base = compilePolicy(threeListDocument());
  return {
    digest: base.digest,
    evaluate: (request) => base.evaluate(request),
    mayPermit: (tenant, action) => base.mayPermit(tenant, action),
    limitsFor: () => LIMITS,
  };
}

/** A session of `steps` identical steps whose budget and lineage live in `usage`. */
async function openLimitedSession(
  policy: PolicyEvaluator,
  usage: UsageStore,
  steps: number,
  lineage = 'conversation-1',
): Promise<AgentRuntime> {
  const runtime = await startSession({
    tenant: TENANT,
    policy,
    authority: new AuthorityManager({ tenant: TENANT }),
    usage,
    lineage,
    usageTimeoutMs: 1_000,
  });
  return submitStepsPlan(runtime, steps);
}

/** Runs gated steps (budget + lineage in `usage`) forever, opening a new session when one runs out. */
async function measureSteps(name: string, settings: Settings, usage: UsageStore): Promise<Stats> {
  const policy = limitedPolicy();
  const steps = settings.quick ? 2 : PLAN_STEPS;
  let runtime = await openLimitedSession(policy, usage, steps);
  return measureAsync(name, () => runNextStep(runtime), settings, {
    hooks: {
      async beforeEach() {
        if (runtime.nextStepIndex < steps) return;
        await runtime.terminate();
        runtime = await openLimitedSession(policy, usage, steps);
      },
    },
  });
}

/** Throughput of `total` operations with `inFlight` outstanding at a time; latency per operation. */
async function pipelined(
  total: number,
  inFlight: number,
  operation: (worker: number) => Promise<unknown>,
): Promise<Stats> {
  const samples: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(inFlight, total) }, async (_, worker) => {
      while (next < total) {
        next += 1;
        const begin = performance.now();
        await operation(worker);
        samples.push((performance.now() - begin) * 1000);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return statsOf(samples, total / seconds);
}

async function acquireOrThrow(store: RedisUsageStore): Promise<void> {
  const result = await store.acquire({ counters: COUNTERS, now: Date.now() });
  if (!result.ok) throw new Error('the benchmark budget ran out');
}

async function beginOrThrow(store: RedisUsageStore): Promise<void> {
  const answer = await store.begin({
    counters: COUNTERS,
    now: Date.now(),
    previousKey: `${TENANT}\u0000lineage\u0000conversation-1\u0000previous`,
    action: STEP_ACTION,
  });
  if (!answer.result.ok) throw new Error('the benchmark budget ran out');
}

/** Gated steps of {@link SESSIONS} sessions at once (one lineage each) over one connection. */
async function concurrentSteps(settings: Settings, store: RedisUsageStore): Promise<Stats> {
  const policy = limitedPolicy();
  const total = settings.quick ? SESSIONS * 2 : 20_000;
  const steps = Math.ceil(total / SESSIONS) + 1;
  const runtimes = await Promise.all(
    Array.from({ length: SESSIONS }, (_, index) =>
      openLimitedSession(policy, store, steps, `conversation-${index}`),
    ),
  );
  const stats = await pipelined(total, SESSIONS, (worker) => runNextStep(runtimes[worker] as AgentRuntime));
  await Promise.all(runtimes.map((runtime) => runtime.terminate()));
  return stats;
}

/** The commands a gated step sends to Redis, counted on the wire by a proxy (not assumed). */
async function roundTripsPerStep(server: TestRedisServer): Promise<number> {
  let counter: RedisCommandCounter | undefined;
  let connection: RedisConnection | undefined;
  try {
    counter = await startRedisCommandCounter(server.port);
    connection = createRedisConnection({ url: counter.url, timeoutMs: 1_000 });
    const store = new RedisUsageStore({ connection, prefix: 'bench-counted:' });
    const runtime = await openLimitedSession(limitedPolicy(), store, COUNTED_STEPS + 1);
    await runNextStep(runtime);
    counter.take();
    for (let step = 0; step < COUNTED_STEPS; step++) await runNextStep(runtime);
    const commands = counter.take().length;
    await runtime.terminate();
    return commands / COUNTED_STEPS;
  } finally {
    await connection?.close();
    await counter?.close();
  }
}

const REDIS_ROWS = [
  'shared-state:acquire:redis',
  'shared-state:acquire-pipelined:redis',
  'shared-state:begin:redis',
  'shared-state:begin-pipelined:redis',
  'shared-state:gated-step:redis',
  'shared-state:gated-step-concurrent:redis',
];

function unavailableRows(note: string): Row[] {
  return REDIS_ROWS.map((id) => ({
    id,
    engine: 'ape',
    label: id,
    group: 'shared-state',
    status: 'unavailable',
    note,
  }));
}

const ROUND_TRIPS_TARGET =
  'issue 19: Redis round trips per gated call (budget + lineage, measured on the wire)';

/** The row of `RedisUsageStore[op]` run {@link IN_FLIGHT} at a time on one connection. */
function pipelinedRow(op: 'acquire' | 'begin', group: string, stats: Stats): Row {
  return measuredRow({
    id: `shared-state:${op}-pipelined:redis`,
    engine: 'ape',
    label: `RedisUsageStore.${op}, ${IN_FLIGHT} in flight on one connection (throughput)`,
    group,
    stats,
    extra: { inFlight: IN_FLIGHT },
  });
}

/**
 * A gated call whose budget and lineage live in Redis (a real `redis-server` on loopback) beside the
 * same call with nothing shared: what a fleet pays per call.
 */
export const sharedStateCase: BenchCase = {
  id: 'shared-state',
  title: 'Shared state on Redis (loopback): budget + lineage per gated call, beside in memory',
  async run({ settings }) {
    const memory = await measureSteps('gated step, in memory', settings, createInMemoryUsageStore());
    const rows: Row[] = [
      measuredRow({
        id: 'shared-state:gated-step:memory',
        engine: 'ape',
        label: 'gated step with a tenant budget and a lineage, in-memory UsageStore',
        group: 'shared-state-step',
        stats: memory,
      }),
    ];
    let server: TestRedisServer | undefined;
    let connection: RedisConnection | undefined;
    let target: TargetResult = targetAtMostValue('issue19-round-trips', ROUND_TRIPS_TARGET, undefined, 1, '');
    try {
      server = await startRedisServer();
      connection = createRedisConnection({ url: server.url, timeoutMs: 1_000 });
      const store = new RedisUsageStore({ connection, prefix: 'bench:' });
      const acquire = await measureAsync(
        'acquire',
        () => store.acquire({ counters: COUNTERS, now: Date.now() }),
        settings,
      );
      const total = settings.quick ? IN_FLIGHT : 20_000;
      const acquires = await pipelined(total, IN_FLIGHT, () => acquireOrThrow(store));
      const begin = await measureAsync('begin', () => beginOrThrow(store), settings);
      const begins = await pipelined(total, IN_FLIGHT, () => beginOrThrow(store));
      const redisStep = await measureSteps('gated step, budget and lineage on Redis', settings, store);
      const concurrent = await concurrentSteps(settings, store);
      const roundTrips = await roundTripsPerStep(server);
      target = targetAtMostValue('issue19-round-trips', ROUND_TRIPS_TARGET, roundTrips, 1, '');
      rows.push(
        measuredRow({
          id: 'shared-state:acquire:redis',
          engine: 'ape',
          label: 'RedisUsageStore.acquire, tenant window + lineage counter (1 round trip)',
          group: 'shared-state-acquire',
          stats: acquire,
        }),
        pipelinedRow('acquire', 'shared-state-pipelined', acquires),
        measuredRow({
          id: 'shared-state:begin:redis',
          engine: 'ape',
          label:
            'RedisUsageStore.begin: previous action + both counters + new previous action (1 round trip)',
          group: 'shared-state-begin',
          stats: begin,
        }),
        pipelinedRow('begin', 'shared-state-begin-pipelined', begins),
        measuredRow({
          id: 'shared-state:gated-step:redis',
          engine: 'ape',
          label: 'gated step with a tenant budget and a lineage, RedisUsageStore',
          group: 'shared-state-step',
          stats: redisStep,
          extra: { roundTripsPerCall: roundTrips },
        }),
        measuredRow({
          id: 'shared-state:gated-step-concurrent:redis',
          engine: 'ape',
          label: `gated steps of ${SESSIONS} sessions at once over one connection, RedisUsageStore (pipelined throughput)`,
          group: 'shared-state-step-concurrent',
          stats: concurrent,
          extra: { sessions: SESSIONS },
        }),
      );
    } catch (error) {
      const note = `redis-server could not be used: ${messageOf(error)}`;
      rows.push(...unavailableRows(note));
      target = targetAtMostValue('issue19-round-trips', ROUND_TRIPS_TARGET, undefined, 1, '', note);
    } finally {
      await connection?.close();
      await server?.stop();
    }
    return caseResult(
      sharedStateCase,
      rows,
      [target],
      [
        'Redis is a throwaway redis-server on 127.0.0.1 (no persistence) started by the case; the client is node-redis over one connection.',
        `A gated step with a lineage makes one store call, UsageStore.begin: one Lua script reads the previous action, checks and increments both counters and writes the new previous action. Round trips are counted by a proxy on the wire over ${COUNTED_STEPS} allowed steps; a refused call adds one (undo).`,
      ],
    );
  },
};
