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
import { startRedisServer, type TestRedisServer } from '@ape/redis/testing';
import { measureAsync, type Settings, statsOf } from '../harness.js';
import { measuredRow, type Row, type Stats } from '../report.js';
import { threeListDocument } from '../workloads.js';
import type { BenchCase } from './context.js';
import { runNextStep, startSession, submitStepsPlan, TENANT } from './session.js';
import { caseResult } from './shared.js';

const PLAN_STEPS = 1000;
/** Acquires kept in flight on one connection for the throughput row (node-redis pipelines them). */
const IN_FLIGHT = 64;

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
): Promise<AgentRuntime> {
  const runtime = await startSession({
    tenant: TENANT,
    policy,
    authority: new AuthorityManager({ tenant: TENANT }),
    usage,
    lineage: 'conversation-1',
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

/** Throughput of `total` acquires with {@link IN_FLIGHT} outstanding at a time. */
async function pipelinedAcquires(store: RedisUsageStore, total: number): Promise<Stats> {
  const samples: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(IN_FLIGHT, total) }, async () => {
      while (next < total) {
        next += 1;
        const begin = performance.now();
        const result = await store.acquire({ counters: COUNTERS, now: Date.now() });
        if (!result.ok) throw new Error('the benchmark budget ran out');
        samples.push((performance.now() - begin) * 1000);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return statsOf(samples, total / seconds);
}

function unavailableRows(note: string): Row[] {
  return [
    'shared-state:acquire:redis',
    'shared-state:acquire-pipelined:redis',
    'shared-state:gated-step:redis',
  ].map((id) => ({ id, engine: 'ape', label: id, group: 'shared-state', status: 'unavailable', note }));
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
    try {
      server = await startRedisServer();
      connection = createRedisConnection({ url: server.url, timeoutMs: 1_000 });
      const store = new RedisUsageStore({ connection, prefix: 'bench:' });
      const acquire = await measureAsync(
        'acquire',
        () => store.acquire({ counters: COUNTERS, now: Date.now() }),
        settings,
      );
      const pipelined = await pipelinedAcquires(store, settings.quick ? IN_FLIGHT : 20_000);
      const redisStep = await measureSteps('gated step, budget and lineage on Redis', settings, store);
      rows.push(
        measuredRow({
          id: 'shared-state:acquire:redis',
          engine: 'ape',
          label: 'RedisUsageStore.acquire, tenant window + lineage counter (1 round trip)',
          group: 'shared-state-acquire',
          stats: acquire,
        }),
        measuredRow({
          id: 'shared-state:acquire-pipelined:redis',
          engine: 'ape',
          label: `RedisUsageStore.acquire, ${IN_FLIGHT} in flight on one connection (throughput)`,
          group: 'shared-state-pipelined',
          stats: pipelined,
          extra: { inFlight: IN_FLIGHT },
        }),
        measuredRow({
          id: 'shared-state:gated-step:redis',
          engine: 'ape',
          label: 'gated step with a tenant budget and a lineage, RedisUsageStore',
          group: 'shared-state-step',
          stats: redisStep,
        }),
      );
    } catch (error) {
      rows.push(...unavailableRows(`redis-server could not be used: ${messageOf(error)}`));
    } finally {
      await connection?.close();
      await server?.stop();
    }
    return caseResult(
      sharedStateCase,
      rows,
      [],
      [
        'Redis is a throwaway redis-server on 127.0.0.1 (no persistence) started by the case; the client is node-redis over one connection.',
        'The acquire is one Lua script: the check and the increment of both counters in one round trip. A gated step with a lineage makes three sequential store calls (read the previous action, acquire, write the previous action), so three round trips on Redis.',
      ],
    );
  },
};
