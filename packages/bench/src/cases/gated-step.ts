import { createAuditChain, MemoryAuditSink, serializeAuditRecord } from '@ape/audit';
import { AuthorityManager } from '@ape/authority';
import {
  type AgentRuntime,
  type AuditEvent,
  type AuditSink,
  createInMemoryAuditSink,
  hashCanonical,
  sha256,
} from '@ape/core';
import { compilePolicy } from '@ape/policy';
import {
  type InterleavedOperation,
  measureAsync,
  measureInterleaved,
  measureSync,
  type Settings,
} from '../harness.js';
import {
  formatDuration,
  formatRatio,
  measuredRow,
  type Row,
  type Stats,
  type TargetResult,
} from '../report.js';
import { targetAtMost } from '../targets.js';
import { threeListDocument } from '../workloads.js';
import type { BenchCase } from './context.js';
import {
  openCallsSession,
  openSession,
  runNextCall,
  runNextStep,
  STEP_ACTION,
  STEP_ARGS,
  STEP_BINDING,
  submitStepsPlan,
  TENANT,
} from './session.js';
import { caseResult } from './shared.js';

/** Steps per session: a new session (not timed) starts when one runs out. */
const PLAN_STEPS = 1000;

/** Records the events of one real step, to replay them into a sink alone. */
class RecordingSink implements AuditSink {
  readonly events: AuditEvent[] = [];
  append(event: AuditEvent): Promise<void> {
    this.events.push(event);
    return Promise.resolve();
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * `executeStep` over a stream of sessions of {@link PLAN_STEPS} steps (2 quick), each with the same
 * policy and authority and a fresh sink from `createSink`; the next session is opened untimed in
 * `beforeEach`.
 */
async function planStepOperation(
  settings: Settings,
  createSink: () => AuditSink,
): Promise<InterleavedOperation> {
  const policy = compilePolicy(threeListDocument());
  const authority = new AuthorityManager({ tenant: TENANT });
  const steps = settings.quick ? 2 : PLAN_STEPS;
  let runtime: AgentRuntime = await openSession({ policy, authority, audit: createSink() }, steps);
  return {
    name: 'plan-step',
    async beforeEach() {
      if (runtime.nextStepIndex < steps) return;
      await runtime.terminate();
      runtime = await openSession({ policy, authority, audit: createSink() }, steps);
    },
    run: () => runNextStep(runtime),
  };
}

/**
 * Calls-mode `call` over a stream of sessions of as many calls as a plan-mode session has steps,
 * with the same policy and a fresh sink from `createSink`: the calls-mode counterpart of
 * {@link planStepOperation}.
 */
async function callOperation(settings: Settings, createSink: () => AuditSink): Promise<InterleavedOperation> {
  const policy = compilePolicy(threeListDocument());
  const authority = new AuthorityManager({ tenant: TENANT });
  const calls = settings.quick ? 2 : PLAN_STEPS;
  let runtime: AgentRuntime = await openCallsSession({ policy, authority, audit: createSink() });
  let made = 0;
  return {
    name: 'call',
    async beforeEach() {
      if (made++ < calls) return;
      made = 1;
      await runtime.terminate();
      runtime = await openCallsSession({ policy, authority, audit: createSink() });
    },
    run: () => runNextCall(runtime),
  };
}

/** Measures one operation alone, its `beforeEach` untimed. */
async function measureOperation(
  name: string,
  settings: Settings,
  operation: InterleavedOperation,
): Promise<Stats> {
  const { beforeEach } = operation;
  return measureAsync(
    name,
    operation.run,
    settings,
    beforeEach === undefined ? {} : { hooks: { beforeEach } },
  );
}

/**
 * A plan-mode step and a calls-mode call measured call by call in turn, so that a drift of the
 * machine during the case weighs on both alike: what the calls-over-plan ratio is taken from. The
 * rows are measured one after the other, and a ratio of two of them moved from 0.7× to 1.3× between
 * runs with the host's speed.
 */
async function measureStepsAndCallsInterleaved(
  settings: Settings,
  createSink: () => AuditSink,
): Promise<{ readonly plan?: Stats; readonly calls?: Stats }> {
  const [plan, calls] = await measureInterleaved(
    [await planStepOperation(settings, createSink), await callOperation(settings, createSink)],
    settings,
  );
  return {
    ...(plan !== undefined && 'stats' in plan ? { plan: plan.stats } : {}),
    ...(calls !== undefined && 'stats' in calls ? { calls: calls.stats } : {}),
  };
}

/**
 * Measures `submitPlan` of a plan of as many steps as a plan-mode session runs (a fresh session,
 * intent set, for each sample; opening it is not timed), divided by its steps: the share of the
 * plan's submission (validation, hashing, the `plan.submitted` record) that each plan-mode step
 * carries. Calls mode does that work per call, inside the timed `call`.
 */
async function measureSubmitShare(
  name: string,
  settings: Settings,
  createSink: () => AuditSink,
): Promise<Stats> {
  const policy = compilePolicy(threeListDocument());
  const authority = new AuthorityManager({ tenant: TENANT });
  const steps = settings.quick ? 2 : PLAN_STEPS;
  let runtime: AgentRuntime = await openCallsSession({ policy, authority, audit: createSink() });
  const whole = await measureAsync(name, () => submitStepsPlan(runtime, steps), settings, {
    hooks: {
      async beforeEach() {
        runtime = await openCallsSession({ policy, authority, audit: createSink() });
      },
    },
  });
  return {
    meanUs: whole.meanUs / steps,
    p50Us: whole.p50Us / steps,
    p99Us: whole.p99Us / steps,
    opsPerSecond: whole.opsPerSecond * steps,
    samples: whole.samples,
    batch: steps,
  };
}

/**
 * The p50 of a calls-mode gated call over the p50 cost of a plan-mode step, measured in one run. A
 * plan-mode step costs its `executeStep` plus its share of the plan's submission: a call appends
 * and hashes its own step and records `plan.extended` inside the timed call, which plan mode does for
 * every step at once in `submitPlan`. The ratio against `executeStep` alone is given in the note.
 */
const CALLS_OVER_PLAN_GOAL = 1.1;

function callsOverPlanTarget(
  plan: Stats | undefined,
  submitShare: Row | undefined,
  calls: Stats | undefined,
): TargetResult {
  const id = 'case5-calls-over-plan';
  const description =
    'case 5: calls-mode call over plan-mode step (executeStep + its share of submitPlan), MemoryAuditSink (p50 ratio)';
  const goal = `≤ ${CALLS_OVER_PLAN_GOAL}×`;
  const stepP50 = plan?.p50Us;
  const shareP50 = submitShare?.stats?.p50Us;
  const callsP50 = calls?.p50Us;
  if (stepP50 === undefined || shareP50 === undefined || callsP50 === undefined || stepP50 <= 0) {
    return {
      id,
      description,
      goal,
      measured: 'not measured',
      met: null,
      note: 'a step row was not measured',
    };
  }
  const ratio = callsP50 / (stepP50 + shareP50);
  return {
    id,
    description,
    goal,
    measured: formatRatio(ratio),
    met: ratio <= CALLS_OVER_PLAN_GOAL,
    note: `measured call by call in turn (call ${formatDuration(callsP50)}, step ${formatDuration(stepP50)} p50); against executeStep alone (the plan submitted before, not timed): ${formatRatio(callsP50 / stepP50)}`,
  };
}

/** The events a gated step appends once the session is executing (the second step of a session). */
async function eventsOfOneStep(): Promise<readonly AuditEvent[]> {
  const recorder = new RecordingSink();
  const runtime = await openSession(
    {
      policy: compilePolicy(threeListDocument()),
      authority: new AuthorityManager({ tenant: TENANT }),
      audit: recorder,
    },
    2,
  );
  await runNextStep(runtime);
  const before = recorder.events.length;
  await runNextStep(runtime);
  return recorder.events.slice(before);
}

/** Case 5: the full gated step, and what each layer of it costs on its own. */
export const gatedStepCase: BenchCase = {
  id: 'gated-step',
  number: 5,
  title: 'Full gated step (executeStep, no-op tool, audit to memory) and the cost of each layer',
  async run({ settings }) {
    const stepEvents = await eventsOfOneStep();
    const policy = compilePolicy(threeListDocument());
    const gateRequest = Object.freeze({
      tenant: TENANT,
      action: STEP_ACTION,
      args: STEP_ARGS,
      provenance: 'USER_TRUSTED' as const,
      session: Object.freeze({
        id: 'session',
        previousAction: STEP_ACTION,
        calls: Object.freeze({ [STEP_ACTION]: 3 }),
      }),
      intent: Object.freeze({ allowed_actions: [STEP_ACTION], forbidden_actions: [] }),
    });
    const authority = new AuthorityManager({ tenant: TENANT });
    const binding = STEP_BINDING;
    let sink = new MemoryAuditSink();
    let appended = 0;
    // The floor of a hash-chained step: one sha256 per record over its canonical line.
    const floorChain = createAuditChain();
    const stepLines = stepEvents.map((event) => serializeAuditRecord(floorChain.next(event)));

    const rows: Row[] = [
      measuredRow({
        id: 'step:memory-audit',
        engine: 'ape',
        label: 'executeStep, MemoryAuditSink (hash-chained)',
        group: 'step',
        stats: await measureOperation(
          'step-memory',
          settings,
          await planStepOperation(settings, () => new MemoryAuditSink()),
        ),
        extra: { auditRecordsPerStep: stepEvents.length },
      }),
      measuredRow({
        id: 'step:calls-memory-audit',
        engine: 'ape',
        label: 'call (calls mode), MemoryAuditSink (hash-chained)',
        group: 'step-calls',
        stats: await measureOperation(
          'step-calls-memory',
          settings,
          await callOperation(settings, () => new MemoryAuditSink()),
        ),
      }),
      measuredRow({
        id: 'step:plan-submit-share',
        engine: 'ape',
        label: `submitPlan of ${PLAN_STEPS} steps ÷ ${PLAN_STEPS}, MemoryAuditSink (each plan step's share)`,
        group: 'step-submit',
        stats: await measureSubmitShare('step-submit-share', settings, () => new MemoryAuditSink()),
      }),
      measuredRow({
        id: 'step:plain-memory',
        engine: 'ape',
        label: 'executeStep, core in-memory sink (no hash chain)',
        group: 'step-plain',
        stats: await measureOperation(
          'step-plain',
          settings,
          await planStepOperation(settings, () => createInMemoryAuditSink()),
        ),
      }),
      measuredRow({
        id: 'layer:policy',
        engine: 'ape',
        label: 'layer: policy.evaluate (request as the gate builds it)',
        group: 'layer-policy',
        stats: await measureSync('policy', () => policy.evaluate(gateRequest), settings, { batch: 1000 }),
      }),
      measuredRow({
        id: 'layer:args-hash',
        engine: 'ape',
        label: 'layer: hashCanonical(args) (token binding)',
        group: 'layer-hash',
        stats: await measureSync('hash', () => hashCanonical(STEP_ARGS), settings, { batch: 100 }),
      }),
      measuredRow({
        id: 'layer:token',
        engine: 'ape',
        label: 'layer: token issue + consume',
        group: 'layer-token',
        stats: await measureAsync(
          'token',
          async () => authority.consume(await authority.issue(binding), binding),
          settings,
        ),
      }),
      measuredRow({
        id: 'layer:audit',
        engine: 'ape',
        label: `layer: MemoryAuditSink.append × ${stepEvents.length} (one step's records)`,
        group: 'layer-audit',
        stats: await measureAsync(
          'audit',
          async () => {
            for (const event of stepEvents) await sink.append(event);
          },
          settings,
          {
            hooks: {
              beforeEach() {
                // A fresh sink now and then keeps memory flat; it is not timed.
                if (++appended % 10_000 === 0) sink = new MemoryAuditSink();
              },
            },
          },
        ),
      }),
      measuredRow({
        id: 'layer:sha256-floor',
        engine: 'ape',
        label: `floor: sha256 of ${stepLines.length} canonical record lines`,
        group: 'layer-sha256',
        stats: await measureSync(
          'sha256-floor',
          () => {
            for (const line of stepLines) sha256(line);
          },
          settings,
          { batch: 100 },
        ),
      }),
    ];
    const interleaved = await measureStepsAndCallsInterleaved(settings, () => new MemoryAuditSink());
    return caseResult(
      gatedStepCase,
      rows,
      [
        targetAtMost('case5-step', 'case 5: full gated step, MemoryAuditSink (p50)', rows[0], 10, 'p50Us'),
        callsOverPlanTarget(interleaved.plan, rows[2], interleaved.calls),
      ],
      [
        `A step appends ${stepEvents.length} audit records (${stepEvents.map((event) => event.type).join(', ')}); the first step of a session also records state.changed.`,
        'Step rows time every call (no batching), so p50/p99 are per step. Sessions of 1,000 steps; opening the next session is not timed.',
        'The calls-mode row runs `runtime.call` (a proposal appended to the chain, then the same gate) with the same policy, sink type and session length as the plan-mode row, in the same run.',
        `Its target compares a call with what a plan-mode step costs, both measured again call by call in turn (so that the machine's drift weighs on both alike): executeStep plus its share of submitPlan (a ${PLAN_STEPS}-step plan's submission ÷ ${PLAN_STEPS}; the longest plan, so the smallest share). A call validates, hashes and records its own step inside the timed call; plan mode does that for all steps in submitPlan, outside the executeStep row. The target's note gives the ratio against executeStep alone.`,
        'Layer rows are measured alone; their sum differs from the step (the step also validates state, copies and freezes args, builds the binding and awaits each layer).',
      ],
    );
  },
};
