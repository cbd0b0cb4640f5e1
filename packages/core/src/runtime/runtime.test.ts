import { describe, expect, it, vi } from 'vitest';
import { hashCanonical } from '../canonical-json.js';
import { ApeError, TenantIsolationError } from '../errors.js';
import { createLabeled } from '../labeled.js';
import type { AuditEvent, Decision, PolicyDecision } from '../types.js';
import { FakeClock } from '../testing/fake-clock.js';
import { createFakeAuthority } from '../testing/fake-authority.js';
import { createRecordingAuditSink } from '../testing/recording-audit-sink.js';
import {
  createScriptedEscalationHandler,
  type ScriptedAnswer,
} from '../testing/scripted-escalation-handler.js';
import { createStubPolicy, type StubPolicyOptions } from '../testing/stub-policy.js';
import { createRuntime, type RuntimeConfig } from './runtime.js';
import { defineTool } from './tool.js';

const intent = {
  allowed_actions: ['read_file', 'write_file', 'send_email', 'deploy'],
  forbidden_actions: ['delete_file'],
  escalation_required: ['deploy'],
  scope: 'unit tests',
};

const decisions: Record<string, Decision> = {
  read_file: 'ALLOW',
  write_file: 'ALLOW',
  deploy: 'ALLOW',
  send_email: 'ESCALATE',
  delete_file: 'DENY',
};

interface SetupOptions extends Partial<Omit<RuntimeConfig, 'policy'>> {
  policy?: StubPolicyOptions;
  script?: readonly ScriptedAnswer[];
}

function setup(options: SetupOptions = {}) {
  const { policy: policyOptions, script, ...config } = options;
  const clock = new FakeClock();
  const authority = createFakeAuthority({ tenant: 'acme', clock });
  const audit = createRecordingAuditSink();
  const policy = createStubPolicy({ decisions, ...policyOptions });
  const escalation = createScriptedEscalationHandler(script ?? []);
  const tool = vi.fn((args: Readonly<Record<string, unknown>>) => ({ echoed: args }));
  const runtime = createRuntime({
    tenant: 'acme',
    policy,
    authority,
    audit,
    clock,
    escalation,
    sessionId: 'session-1',
    ...config,
  });
  return { clock, authority, audit, policy, escalation, tool, runtime };
}

type Context = ReturnType<typeof setup>;

const readStep = { action_id: 'read_file', args: { path: '/workspace/a.txt' } };

async function ready(context: Context, steps: readonly object[] = [readStep]): Promise<void> {
  await context.runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
  await context.runtime.submitPlan({ steps }, { provenance: 'USER_TRUSTED' });
}

async function rejection(promise: Promise<unknown>): Promise<ApeError> {
  try {
    await promise;
  } catch (error) {
    if (ApeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

function dataOf(events: readonly AuditEvent[], type: string): readonly Readonly<Record<string, unknown>>[] {
  return events.filter((event) => event.type === type).map((event) => event.data);
}

describe('createRuntime happy path', () => {
  it('runs an allowed step and returns its output labelled EXTERNAL_UNTRUSTED from tool:<action>', async () => {
    const context = setup();
    await ready(context);
    const result = await context.runtime.executeStep(0, context.tool, {
      args: { path: '/workspace/a.txt' },
      provenance: 'USER_TRUSTED',
    });
    expect(context.tool).toHaveBeenCalledTimes(1);
    expect(context.tool).toHaveBeenCalledWith({ path: '/workspace/a.txt' });
    expect(result.value).toEqual({ echoed: { path: '/workspace/a.txt' } });
    expect(result.label).toBe('EXTERNAL_UNTRUSTED');
    expect(result.sources).toEqual(['tool:read_file']);
    expect(context.runtime.state).toBe('EXECUTING');
    expect(context.runtime.nextStepIndex).toBe(1);
  });

  it('records every lifecycle event in order', async () => {
    const context = setup();
    await ready(context);
    await context.runtime.executeStep(0, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' });
    await context.runtime.terminate('done');
    expect(context.audit.types()).toEqual([
      'session.created',
      'intent.set',
      'state.changed',
      'plan.approved',
      'state.changed',
      'state.changed',
      'decision.made',
      'token.issued',
      'token.consumed',
      'tool.executed',
      'state.changed',
      'token.revoked',
      'session.terminated',
    ]);
    for (const event of context.audit.events) {
      expect(event.tenant).toBe('acme');
      expect(event.session).toBe('session-1');
    }
  });

  it('exposes intent version, plan hash and frozen copies of intent and plan', async () => {
    const context = setup();
    expect(context.runtime.intentVersion).toBeUndefined();
    await ready(context);
    expect(context.runtime.intentVersion).toMatch(/^[0-9a-f]{64}$/);
    expect(context.runtime.planHash).toBe(hashCanonical({ steps: [readStep] }));
    expect(Object.isFrozen(context.runtime.plan?.steps[0])).toBe(true);
    expect(context.runtime.intent?.scope).toBe('unit tests');
    expect(context.runtime.tenant).toBe('acme');
    expect(context.runtime.sessionId).toBe('session-1');
  });

  it('returns the output label a tool declares', async () => {
    const context = setup();
    await ready(context);
    const readFile = defineTool({ id: 'read_file', outputLabel: 'USER_TRUSTED', run: () => 'contents' });
    const result = await context.runtime.executeStep(0, readFile, {
      args: readStep.args,
      provenance: 'USER_TRUSTED',
    });
    expect(result.label).toBe('USER_TRUSTED');
    expect(result.value).toBe('contents');
  });

  it('records a decision with digest, argument names and provenance but no argument values', async () => {
    const context = setup();
    await ready(context);
    await context.runtime.executeStep(0, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' });
    const [decision] = dataOf(context.audit.events, 'decision.made');
    expect(decision).toMatchObject({
      stepIndex: 0,
      action: 'read_file',
      decision: 'ALLOW',
      rules: ['stub:read_file'],
      policy: 'stub-policy',
      argsDigest: hashCanonical(readStep.args),
      argNames: ['path'],
      provenance: 'USER_TRUSTED',
      mode: 'enforce',
      enforced: true,
    });
    expect(JSON.stringify(context.audit.events)).not.toContain('/workspace/a.txt"}');
    expect(decision?.['args']).toBeUndefined();
  });

  it('logs the arguments named in auditArgs in clear', async () => {
    const context = setup({ auditArgs: ['path'] });
    await ready(context);
    await context.runtime.executeStep(0, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' });
    expect(dataOf(context.audit.events, 'decision.made')[0]?.['args']).toEqual({ path: '/workspace/a.txt' });
  });

  it('records tool duration and failure, and advances past a step whose tool threw', async () => {
    const context = setup();
    await ready(context, [readStep, readStep]);
    const failing = vi.fn(() => {
      context.clock.advance(25);
      throw new Error('disk on fire');
    });
    await expect(
      context.runtime.executeStep(0, failing, { args: readStep.args, provenance: 'USER_TRUSTED' }),
    ).rejects.toThrow('disk on fire');
    expect(dataOf(context.audit.events, 'tool.executed')[0]).toMatchObject({ ok: false, durationMs: 25 });
    expect(context.runtime.nextStepIndex).toBe(1);
  });
});

describe('provenance of arguments and documents', () => {
  it('gives the policy the least trusted label inside the arguments and the tool plain values', async () => {
    const context = setup();
    await ready(context, [{ action_id: 'write_file' }]);
    const args = {
      path: '/workspace/a',
      body: createLabeled('from the web', 'EXTERNAL_UNTRUSTED', ['https://x']),
    };
    await context.runtime.executeStep(0, context.tool, { args, provenance: 'USER_TRUSTED' });
    expect(context.policy.requests[0]?.provenance).toBe('EXTERNAL_UNTRUSTED');
    expect(context.policy.requests[0]?.args).toEqual({ path: '/workspace/a', body: 'from the web' });
    expect(context.tool).toHaveBeenCalledWith({ path: '/workspace/a', body: 'from the web' });
    expect(dataOf(context.audit.events, 'decision.made')[0]?.['sources']).toEqual(['https://x']);
  });

  it('labels plain arguments with defaultProvenance when the call declares none', async () => {
    const context = setup({ defaultProvenance: 'SYSTEM_TRUSTED' });
    await ready(context);
    await context.runtime.executeStep(0, context.tool, { args: readStep.args });
    expect(context.policy.requests.at(-1)?.provenance).toBe('SYSTEM_TRUSTED');
  });

  it('labels plain arguments EXTERNAL_UNTRUSTED when neither the call nor the runtime says otherwise', async () => {
    const context = setup();
    await ready(context);
    await context.runtime.executeStep(0, context.tool, { args: readStep.args });
    expect(context.policy.requests.at(-1)?.provenance).toBe('EXTERNAL_UNTRUSTED');
  });

  for (const provenance of ['EXTERNAL_UNTRUSTED', undefined, 'ROOT']) {
    it(`refuses setIntent with provenance ${String(provenance)}`, async () => {
      const context = setup();
      const error = await rejection(
        context.runtime.setIntent(intent, { provenance } as unknown as { provenance: 'USER_TRUSTED' }),
      );
      expect(error.code).toBe('PROVENANCE');
      expect(context.runtime.state).toBe('INITIALIZED');
    });

    it(`refuses submitPlan with provenance ${String(provenance)} and records plan.rejected`, async () => {
      const context = setup();
      await context.runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
      const error = await rejection(
        context.runtime.submitPlan([readStep], { provenance } as unknown as { provenance: 'USER_TRUSTED' }),
      );
      expect(error.code).toBe('PROVENANCE');
      expect(context.runtime.state).toBe('INTENT_SET');
      expect(context.audit.types()).toContain('plan.rejected');
    });
  }

  it('refuses updateIntent from untrusted input', async () => {
    const context = setup();
    await ready(context);
    const error = await rejection(context.runtime.updateIntent(intent, { provenance: 'EXTERNAL_UNTRUSTED' }));
    expect(error.code).toBe('PROVENANCE');
    expect(context.runtime.state).toBe('PLAN_APPROVED');
  });
});

describe('state machine violations', () => {
  it('refuses executeStep before an intent', async () => {
    const context = setup();
    expect((await rejection(context.runtime.executeStep(0, context.tool))).code).toBe('RUNTIME_STATE');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses executeStep before a plan', async () => {
    const context = setup();
    await context.runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
    expect((await rejection(context.runtime.executeStep(0, context.tool))).code).toBe('RUNTIME_STATE');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses a second setIntent', async () => {
    const context = setup();
    await context.runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
    const error = await rejection(context.runtime.setIntent(intent, { provenance: 'USER_TRUSTED' }));
    expect(error.code).toBe('RUNTIME_STATE');
    expect(error.message).toContain('updateIntent');
  });

  it('refuses submitPlan and updateIntent before an intent', async () => {
    const context = setup();
    expect(
      (await rejection(context.runtime.submitPlan([readStep], { provenance: 'USER_TRUSTED' }))).code,
    ).toBe('RUNTIME_STATE');
    expect((await rejection(context.runtime.updateIntent(intent, { provenance: 'USER_TRUSTED' }))).code).toBe(
      'RUNTIME_STATE',
    );
  });

  it('refuses every operation after termination, and terminate is idempotent', async () => {
    const context = setup();
    await ready(context);
    await context.runtime.terminate();
    await context.runtime.terminate();
    expect(context.runtime.state).toBe('TERMINATED');
    for (const attempt of [
      context.runtime.executeStep(0, context.tool, { args: readStep.args }),
      context.runtime.authorize(0, { args: readStep.args }),
      context.runtime.setIntent(intent, { provenance: 'USER_TRUSTED' }),
      context.runtime.updateIntent(intent, { provenance: 'USER_TRUSTED' }),
      context.runtime.submitPlan([readStep], { provenance: 'USER_TRUSTED' }),
      context.runtime.reloadPolicy(createStubPolicy()),
    ]) {
      expect((await rejection(attempt)).code).toBe('RUNTIME_STATE');
    }
    expect(context.tool).not.toHaveBeenCalled();
    expect(context.audit.ofType('session.terminated')).toHaveLength(1);
  });

  it('refuses a plan change or intent update while a step is in progress', async () => {
    const context = setup();
    await ready(context);
    let release: () => void = () => undefined;
    const slow = vi.fn(() => new Promise<void>((resolve) => (release = resolve)));
    const running = context.runtime.executeStep(0, slow, { args: readStep.args, provenance: 'USER_TRUSTED' });
    await vi.waitFor(() => expect(slow).toHaveBeenCalled());
    expect(
      (await rejection(context.runtime.submitPlan([readStep], { provenance: 'USER_TRUSTED' }))).code,
    ).toBe('RUNTIME_STATE');
    expect((await rejection(context.runtime.updateIntent(intent, { provenance: 'USER_TRUSTED' }))).code).toBe(
      'RUNTIME_STATE',
    );
    release();
    await running;
  });

  it('refuses a step while another step is in progress', async () => {
    const context = setup();
    await ready(context, [readStep, readStep]);
    const first = context.runtime.executeStep(0, context.tool, {
      args: readStep.args,
      provenance: 'USER_TRUSTED',
    });
    const error = await rejection(context.runtime.executeStep(1, context.tool, { args: readStep.args }));
    expect(error.code).toBe('RUNTIME_STATE');
    await first;
    expect(context.tool).toHaveBeenCalledTimes(1);
  });
});

describe('step order', () => {
  it('refuses to skip a step', async () => {
    const context = setup();
    await ready(context, [readStep, readStep]);
    const error = await rejection(context.runtime.executeStep(1, context.tool, { args: readStep.args }));
    expect(error.code).toBe('RUNTIME_STATE');
    expect(error.details).toMatchObject({ step: 1, expected: 0 });
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses to repeat a step', async () => {
    const context = setup();
    await ready(context, [readStep, readStep]);
    await context.runtime.executeStep(0, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' });
    const error = await rejection(context.runtime.executeStep(0, context.tool, { args: readStep.args }));
    expect(error.code).toBe('RUNTIME_STATE');
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('refuses a step past the end of the plan and a non-integer index', async () => {
    const context = setup();
    await ready(context);
    await context.runtime.executeStep(0, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' });
    expect(
      (await rejection(context.runtime.executeStep(1, context.tool, { args: readStep.args }))).code,
    ).toBe('RUNTIME_STATE');
    expect(
      (await rejection(context.runtime.executeStep(0.5, context.tool, { args: readStep.args }))).code,
    ).toBe('RUNTIME_STATE');
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('refuses steps swapped out of order', async () => {
    const context = setup();
    await ready(context, [readStep, { action_id: 'write_file', args: { path: '/workspace/b' } }]);
    const error = await rejection(
      context.runtime.executeStep(0, context.tool, {
        args: { path: '/workspace/b' },
        provenance: 'USER_TRUSTED',
      }),
    );
    expect(error.code).toBe('ARGS_INVALID');
    expect(context.tool).not.toHaveBeenCalled();
  });
});

describe('arguments', () => {
  it('refuses arguments that differ from the plan’s fixed arguments', async () => {
    const context = setup();
    await ready(context);
    const error = await rejection(
      context.runtime.executeStep(0, context.tool, {
        args: { path: '/etc/passwd' },
        provenance: 'USER_TRUSTED',
      }),
    );
    expect(error.code).toBe('ARGS_INVALID');
    expect(error.details).toMatchObject({ step: 0, field: 'args' });
    expect(context.tool).not.toHaveBeenCalled();
    expect(context.policy.requests).toHaveLength(1);
  });

  it('ignores changes to the caller’s plan object after approval (args swapped after approval)', async () => {
    const context = setup();
    const steps = [{ action_id: 'read_file', args: { path: '/workspace/a.txt' } }];
    await context.runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
    await context.runtime.submitPlan({ steps }, { provenance: 'USER_TRUSTED' });
    steps[0]!.args.path = '/etc/shadow';
    steps.push({ action_id: 'write_file', args: { path: '/x' } });
    expect(
      (await rejection(context.runtime.executeStep(0, context.tool, { args: { path: '/etc/shadow' } }))).code,
    ).toBe('ARGS_INVALID');
    expect(context.tool).not.toHaveBeenCalled();
    await context.runtime.executeStep(0, context.tool, { args: { path: '/workspace/a.txt' } });
    expect(context.runtime.plan?.steps).toHaveLength(1);
  });

  it('refuses arguments that do not fit the tool schema before asking the policy', async () => {
    const context = setup();
    await ready(context, [{ action_id: 'write_file' }]);
    const run = vi.fn();
    const writeFile = defineTool({
      id: 'write_file',
      argsSchema: { type: 'object', required: ['path'], properties: { path: { type: 'string' } } },
      run,
    });
    const error = await rejection(context.runtime.executeStep(0, writeFile, { args: { path: 42 } }));
    expect(error.code).toBe('ARGS_INVALID');
    expect(run).not.toHaveBeenCalled();
    expect(context.policy.requests).toHaveLength(0);
  });

  it('refuses arguments that are not JSON', async () => {
    const context = setup();
    await ready(context, [{ action_id: 'write_file' }]);
    const error = await rejection(
      context.runtime.executeStep(0, context.tool, { args: { when: new Date() } }),
    );
    expect(error.code).toBe('ARGS_INVALID');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses a tool whose id is not the step’s action', async () => {
    const context = setup();
    await ready(context);
    const run = vi.fn();
    const error = await rejection(
      context.runtime.executeStep(0, defineTool({ id: 'delete_file', run }), { args: readStep.args }),
    );
    expect(error.code).toBe('ACTION_INVALID');
    expect(run).not.toHaveBeenCalled();
  });

  it('refuses a step whose tool_id aliases a forbidden tool (confused deputy)', async () => {
    const context = setup();
    await ready(context, [{ ...readStep, tool_id: 'delete_file' }]);
    const run = vi.fn();
    const error = await rejection(
      context.runtime.executeStep(0, defineTool({ id: 'delete_file', run }), { args: readStep.args }),
    );
    expect(error.code).toBe('ACTION_INVALID');
    expect(run).not.toHaveBeenCalled();
    const mismatch = await rejection(
      context.runtime.executeStep(0, defineTool({ id: 'read_file', run }), { args: readStep.args }),
    );
    expect(mismatch.code).toBe('ACTION_INVALID');
    expect(run).not.toHaveBeenCalled();
  });

  it('refuses something that is not a tool', async () => {
    const context = setup();
    await ready(context);
    const error = await rejection(
      context.runtime.executeStep(0, { run: () => 1 } as unknown as () => number, { args: readStep.args }),
    );
    expect(error.code).toBe('ACTION_INVALID');
  });
});

describe('plan approval against intent and policy', () => {
  it('rejects a plan whose step the policy denies, naming the step, and records plan.rejected', async () => {
    const context = setup({ policy: { decisions: { ...decisions, write_file: 'DENY' } } });
    await context.runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
    const error = await rejection(
      context.runtime.submitPlan([readStep, { action_id: 'write_file', args: { path: '/x' } }], {
        provenance: 'USER_TRUSTED',
      }),
    );
    expect(error.code).toBe('PLAN_INVALID');
    expect(error.details).toMatchObject({ step: 1, action: 'write_file' });
    expect(context.runtime.state).toBe('INTENT_SET');
    expect(dataOf(context.audit.events, 'plan.rejected')[0]).toMatchObject({ reason: 'policy', step: 1 });
  });

  it('rejects a plan with a step outside the intent', async () => {
    const context = setup();
    await context.runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
    const error = await rejection(
      context.runtime.submitPlan([{ action_id: 'delete_file' }], { provenance: 'USER_TRUSTED' }),
    );
    expect(error.code).toBe('PLAN_INVALID');
    expect(error.details['step']).toBe(0);
  });

  it('rejects a step without args that the policy can never permit', async () => {
    const context = setup({ policy: { decisions, mayPermit: (_tenant, action) => action !== 'write_file' } });
    await context.runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
    const error = await rejection(
      context.runtime.submitPlan([readStep, { action_id: 'write_file' }], { provenance: 'USER_TRUSTED' }),
    );
    expect(error.code).toBe('PLAN_INVALID');
    expect(error.details['step']).toBe(1);
  });

  it('rejects a plan when the policy throws (fail closed)', async () => {
    const context = setup({
      policy: {
        decide: () => {
          throw new Error('boom');
        },
      },
    });
    await context.runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
    expect(
      (await rejection(context.runtime.submitPlan([readStep], { provenance: 'USER_TRUSTED' }))).code,
    ).toBe('PLAN_INVALID');
  });

  it('admits ESCALATE steps and lists them in plan.approved', async () => {
    const context = setup();
    await ready(context, [
      readStep,
      { action_id: 'send_email', args: { to: 'a@b.c' } },
      { action_id: 'deploy' },
    ]);
    expect(dataOf(context.audit.events, 'plan.approved')[0]?.['escalations']).toEqual([1, 2]);
  });

  it('simulates the session while reviewing: the previous action, and no call counts (the usage store counts)', async () => {
    const seen: { previous: string | undefined; calls: unknown }[] = [];
    const context = setup({
      policy: {
        decide: (request) => {
          seen.push({ previous: request.session?.previousAction, calls: request.session?.calls });
          return 'ALLOW';
        },
      },
    });
    await ready(context, [readStep, readStep, readStep]);
    expect(seen).toEqual([
      { previous: undefined, calls: undefined },
      { previous: 'read_file', calls: undefined },
      { previous: 'read_file', calls: undefined },
    ]);
  });
});

describe('decisions at the gate', () => {
  it('denies a step the policy denies at execute time, revokes the session’s tokens and keeps the step pending', async () => {
    let verdict: Decision = 'ALLOW';
    const context = setup({ policy: { decide: () => verdict } });
    await ready(context, [readStep, { action_id: 'write_file' }]);
    await context.runtime.executeStep(0, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' });
    verdict = 'DENY';
    const error = await rejection(context.runtime.executeStep(1, context.tool, { args: { path: '/x' } }));
    expect(error.code).toBe('POLICY_DENY');
    expect(error.details).toMatchObject({ step: 1, action: 'write_file' });
    expect(context.tool).toHaveBeenCalledTimes(1);
    expect(context.authority.revocations).toContainEqual({
      scope: 'session',
      reason: 'policy_violation',
      count: 0,
    });
    expect(context.runtime.state).toBe('EXECUTING');
    expect(context.runtime.nextStepIndex).toBe(1);
  });

  it('passes the session context and the intent to the policy', async () => {
    const context = setup();
    await ready(context, [readStep, readStep]);
    await context.runtime.executeStep(0, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' });
    await context.runtime.executeStep(1, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' });
    const last = context.policy.requests.at(-1);
    expect(last?.session).toEqual({ id: 'session-1', previousAction: 'read_file' });
    expect(last?.intent?.allowed_actions).toEqual(intent.allowed_actions);
    expect(last?.tenant).toBe('acme');
  });

  it('forces ESCALATE for an action the intent marks escalation_required', async () => {
    const context = setup({ script: [{ approved: true, approver: 'alice', provenance: 'USER_TRUSTED' }] });
    await ready(context, [{ action_id: 'deploy' }]);
    await context.runtime.executeStep(0, context.tool, { args: {}, provenance: 'USER_TRUSTED' });
    expect(context.escalation.requests).toHaveLength(1);
    expect(dataOf(context.audit.events, 'decision.made')[0]?.['rules']).toContain(
      'intent.escalation_required',
    );
  });
});

describe('escalation', () => {
  const emailStep = { action_id: 'send_email', args: { to: 'boss@example.com' } };

  it('runs an escalated step after a trusted approval and returns to EXECUTING', async () => {
    const context = setup({ script: [{ approved: true, approver: 'alice', provenance: 'USER_TRUSTED' }] });
    await ready(context, [emailStep]);
    await context.runtime.executeStep(0, context.tool, { args: emailStep.args, provenance: 'USER_TRUSTED' });
    expect(context.tool).toHaveBeenCalledTimes(1);
    expect(context.runtime.state).toBe('EXECUTING');
    expect(context.escalation.requests[0]).toMatchObject({
      action: 'send_email',
      stepIndex: 0,
      args: emailStep.args,
    });
    expect(dataOf(context.audit.events, 'escalation.approved')[0]).toMatchObject({ approver: 'alice' });
    expect(dataOf(context.audit.events, 'state.changed')).toContainEqual({
      from: 'EXECUTING',
      to: 'ESCALATION_REQUIRED',
      event: 'REQUIRE_ESCALATION',
    });
  });

  async function expectDenied(context: Context, reason: string): Promise<void> {
    await ready(context, [emailStep]);
    const error = await rejection(
      context.runtime.executeStep(0, context.tool, { args: emailStep.args, provenance: 'USER_TRUSTED' }),
    );
    expect(error.code).toBe('ESCALATION_DENIED');
    expect(error.details['reason']).toBe(reason);
    expect(context.tool).not.toHaveBeenCalled();
    expect(context.runtime.state).toBe('TERMINATED');
    expect(context.authority.revocations).toContainEqual(
      expect.objectContaining({ scope: 'session', reason: 'escalation_denied' }),
    );
    expect(context.audit.types()).toContain('escalation.denied');
    expect(context.audit.types()).toContain('session.terminated');
  }

  it('terminates on a denial', async () => {
    await expectDenied(
      setup({ script: [{ approved: false, approver: 'bob', provenance: 'USER_TRUSTED' }] }),
      'denied',
    );
  });

  it('refuses an approval labelled EXTERNAL_UNTRUSTED as a denial', async () => {
    await expectDenied(
      setup({ script: [{ approved: true, approver: 'email-parser', provenance: 'EXTERNAL_UNTRUSTED' }] }),
      'untrusted_approval',
    );
  });

  it('terminates when the handler throws', async () => {
    await expectDenied(setup({ script: [{ throws: new Error('ui crashed') }] }), 'handler_failed');
  });

  it('terminates when the handler does not answer in time and aborts it', async () => {
    const context = setup({ script: ['hang'], escalationTimeoutMs: 20 });
    await expectDenied(context, 'timeout');
    expect(context.escalation.aborted).toBe(1);
  });

  it('denies with the default deny-all handler', async () => {
    const context = setup();
    const runtime = createRuntime({
      tenant: 'acme',
      policy: context.policy,
      authority: context.authority,
      audit: context.audit,
      clock: context.clock,
    });
    await runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
    await runtime.submitPlan([emailStep], { provenance: 'USER_TRUSTED' });
    const error = await rejection(runtime.executeStep(0, context.tool, { args: emailStep.args }));
    expect(error.code).toBe('ESCALATION_DENIED');
    expect(error.details['approver']).toBe('deny-all');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses every other operation but terminate while an escalation is pending', async () => {
    const context = setup({ script: ['hang'] });
    await ready(context, [emailStep]);
    const pending = context.runtime.executeStep(0, context.tool, {
      args: emailStep.args,
      provenance: 'USER_TRUSTED',
    });
    await vi.waitFor(() => expect(context.escalation.requests).toHaveLength(1));
    for (const attempt of [
      context.runtime.reloadPolicy(createStubPolicy()),
      context.runtime.executeStep(0, context.tool, { args: emailStep.args }),
      context.runtime.authorize(0, { args: emailStep.args }),
      context.runtime.submitPlan([emailStep], { provenance: 'USER_TRUSTED' }),
      context.runtime.updateIntent(intent, { provenance: 'USER_TRUSTED' }),
    ]) {
      expect((await rejection(attempt)).code).toBe('RUNTIME_STATE');
    }
    expect(context.runtime.state).toBe('ESCALATION_REQUIRED');
    await context.runtime.terminate();
    expect((await rejection(pending)).code).toBe('ESCALATION_DENIED');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('stops waiting when the session is terminated during an escalation', async () => {
    const context = setup({ script: ['hang'] });
    await ready(context, [emailStep]);
    const pending = context.runtime.executeStep(0, context.tool, {
      args: emailStep.args,
      provenance: 'USER_TRUSTED',
    });
    await vi.waitFor(() => expect(context.escalation.requests).toHaveLength(1));
    expect(context.runtime.state).toBe('ESCALATION_REQUIRED');
    await context.runtime.terminate('user left');
    const error = await rejection(pending);
    expect(error.code).toBe('ESCALATION_DENIED');
    expect(error.details['reason']).toBe('terminated');
    expect(context.escalation.aborted).toBe(1);
    expect(context.tool).not.toHaveBeenCalled();
  });
});

describe('fail closed', () => {
  it('denies when the policy throws', async () => {
    const context = setup({
      policy: {
        decide: () => {
          throw new Error('policy bug');
        },
        mayPermit: () => true,
      },
    });
    await ready(context, [{ action_id: 'read_file' }]);
    const error = await rejection(context.runtime.executeStep(0, context.tool, { args: {} }));
    expect(error.code).toBe('POLICY_DENY');
    expect(error.details['code']).toBe('POLICY_EVALUATION_FAILED');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('denies when the policy answers something that is not a decision', async () => {
    const context = setup({
      policy: { decide: () => ({ decision: 'YES' }) as unknown as PolicyDecision, mayPermit: () => true },
    });
    await ready(context, [{ action_id: 'read_file' }]);
    expect((await rejection(context.runtime.executeStep(0, context.tool, { args: {} }))).code).toBe(
      'POLICY_DENY',
    );
    expect(context.tool).not.toHaveBeenCalled();
  });

  for (const type of ['decision.made', 'token.issued', 'token.consumed'] as const) {
    it(`denies and terminates when the audit sink fails on ${type}`, async () => {
      const context = setup();
      await ready(context);
      context.audit.failWhen((event) => event.type === type);
      const error = await rejection(
        context.runtime.executeStep(0, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' }),
      );
      expect(error.code).toBe('AUDIT_FAILURE');
      expect(context.tool).not.toHaveBeenCalled();
      expect(context.runtime.state).toBe('TERMINATED');
      expect(context.authority.outstanding()).toBe(0);
    });
  }

  it('terminates a session whose session.created event cannot be recorded', async () => {
    const audit = createRecordingAuditSink({ failWhen: () => true });
    const clock = new FakeClock();
    const runtime = createRuntime({
      tenant: 'acme',
      policy: createStubPolicy({ decisions }),
      authority: createFakeAuthority({ tenant: 'acme', clock }),
      audit,
      clock,
    });
    await vi.waitFor(() => expect(runtime.state).toBe('TERMINATED'));
    const error = await rejection(runtime.setIntent(intent, { provenance: 'USER_TRUSTED' }));
    expect(error.code).toBe('RUNTIME_STATE');
    expect(error.message).toContain('audit failure');
  });

  it('denies when the clock throws', async () => {
    const context = setup();
    await ready(context);
    vi.spyOn(context.clock, 'now').mockImplementation(() => {
      throw new Error('clock broke');
    });
    const error = await rejection(
      context.runtime.executeStep(0, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' }),
    );
    expect(['AUDIT_FAILURE', 'POLICY_DENY']).toContain(error.code);
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('denies when the authority fails to issue', async () => {
    const context = setup();
    context.authority.issue = async () => {
      throw new Error('authority down');
    };
    await ready(context);
    const error = await rejection(
      context.runtime.executeStep(0, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' }),
    );
    expect(error.code).toBe('POLICY_DENY');
    expect(error.details['code']).toBe('AUTHORITY_FAILURE');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('denies when the authority refuses to consume', async () => {
    const context = setup();
    context.authority.consume = async () => {
      throw new Error('store down');
    };
    await ready(context);
    expect(
      (
        await rejection(
          context.runtime.executeStep(0, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' }),
        )
      ).code,
    ).toBe('POLICY_DENY');
    expect(context.tool).not.toHaveBeenCalled();
  });
});

describe('authorize and gate.execute', () => {
  const writeStep = { action_id: 'write_file' };

  it('runs a tool with a token from authorize', async () => {
    const context = setup();
    await ready(context, [writeStep]);
    const token = await context.runtime.authorize(0, { args: { path: '/a' }, provenance: 'USER_TRUSTED' });
    const result = await context.runtime.gate.execute(token, context.tool, {
      index: 0,
      args: { path: '/a' },
    });
    expect(result.value).toEqual({ echoed: { path: '/a' } });
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('refuses a copied token', async () => {
    const context = setup();
    await ready(context, [writeStep]);
    const token = await context.runtime.authorize(0, { args: { path: '/a' }, provenance: 'USER_TRUSTED' });
    const error = await rejection(
      context.runtime.gate.execute({ ...token }, context.tool, { index: 0, args: { path: '/a' } }),
    );
    expect(error.code).toBe('UNAUTHORIZED_ACTION');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses a token used with other arguments', async () => {
    const context = setup();
    await ready(context, [writeStep]);
    const token = await context.runtime.authorize(0, { args: { path: '/a' }, provenance: 'USER_TRUSTED' });
    const error = await rejection(
      context.runtime.gate.execute(token, context.tool, { index: 0, args: { path: '/b' } }),
    );
    expect(error.code).toBe('UNAUTHORIZED_ACTION');
    expect(error.details['field']).toBe('argsHash');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses gate.execute without an authorisation', async () => {
    const context = setup();
    await ready(context, [writeStep]);
    const other = await createFakeAuthority({ tenant: 'acme' }).issue({
      tenant: 'acme',
      session: 'session-1',
      intentVersion: context.runtime.intentVersion!,
      planHash: context.runtime.planHash!,
      stepIndex: 0,
      action: 'write_file',
      argsHash: hashCanonical({}),
    });
    const error = await rejection(context.runtime.gate.execute(other, context.tool, { index: 0 }));
    expect(error.code).toBe('UNAUTHORIZED_ACTION');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses arguments less trusted than at authorize', async () => {
    const context = setup();
    await ready(context, [writeStep]);
    const token = await context.runtime.authorize(0, { args: { path: '/a' }, provenance: 'USER_TRUSTED' });
    const error = await rejection(
      context.runtime.gate.execute(token, context.tool, {
        index: 0,
        args: { path: createLabeled('/a', 'EXTERNAL_UNTRUSTED') },
      }),
    );
    expect(error.code).toBe('UNAUTHORIZED_ACTION');
    expect(error.details['field']).toBe('provenance');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses an expired token', async () => {
    const context = setup();
    await ready(context, [writeStep]);
    const token = await context.runtime.authorize(0, { args: {}, provenance: 'USER_TRUSTED' });
    context.clock.advance(60_000);
    expect((await rejection(context.runtime.gate.execute(token, context.tool, { index: 0 }))).code).toBe(
      'AUTHORITY_EXPIRED',
    );
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('lets exactly one of 1,000 concurrent gate.execute calls with one token run', async () => {
    const context = setup();
    await ready(context, [writeStep]);
    const token = await context.runtime.authorize(0, { args: {}, provenance: 'USER_TRUSTED' });
    const results = await Promise.allSettled(
      Array.from({ length: 1_000 }, () => context.runtime.gate.execute(token, context.tool, { index: 0 })),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('lets exactly one of 1,000 concurrent executeStep calls for one step run', async () => {
    const context = setup();
    await ready(context);
    const results = await Promise.allSettled(
      Array.from({ length: 1_000 }, () =>
        context.runtime.executeStep(0, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' }),
      ),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(context.tool).toHaveBeenCalledTimes(1);
  });
});

describe('revocation triggers', () => {
  const writeStep = { action_id: 'write_file' };

  async function withOutstandingToken(context: Context) {
    await ready(context, [writeStep]);
    const token = await context.runtime.authorize(0, { args: {}, provenance: 'USER_TRUSTED' });
    expect(context.authority.outstanding('session-1')).toBe(1);
    return token;
  }

  async function expectRevoked(context: Context, reason: string): Promise<void> {
    expect(context.authority.outstanding('session-1')).toBe(0);
    expect(context.authority.revocations).toContainEqual({ scope: 'session', reason, count: 1 });
    expect(dataOf(context.audit.events, 'token.revoked')).toContainEqual(
      expect.objectContaining({ reason, count: 1 }),
    );
  }

  it('revokes on intent update and returns to INTENT_SET without a plan', async () => {
    const context = setup();
    const token = await withOutstandingToken(context);
    await context.runtime.updateIntent({ ...intent, scope: 'narrower' }, { provenance: 'USER_TRUSTED' });
    await expectRevoked(context, 'intent_updated');
    expect(context.runtime.state).toBe('INTENT_SET');
    expect(context.runtime.planHash).toBeUndefined();
    expect((await rejection(context.runtime.gate.execute(token, context.tool, { index: 0 }))).code).toBe(
      'RUNTIME_STATE',
    );
  });

  it('revokes on plan change', async () => {
    const context = setup();
    const token = await withOutstandingToken(context);
    await context.runtime.submitPlan([writeStep, readStep], { provenance: 'USER_TRUSTED' });
    await expectRevoked(context, 'plan_changed');
    expect((await rejection(context.runtime.gate.execute(token, context.tool, { index: 0 }))).code).toBe(
      'UNAUTHORIZED_ACTION',
    );
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('revokes on termination', async () => {
    const context = setup();
    await withOutstandingToken(context);
    await context.runtime.terminate();
    await expectRevoked(context, 'terminated');
  });

  it('revokes on policy reload and records the new digest', async () => {
    const context = setup();
    const token = await withOutstandingToken(context);
    await context.runtime.reloadPolicy(createStubPolicy({ decisions, digest: 'policy-2' }));
    await expectRevoked(context, 'policy_reloaded');
    expect(context.runtime.policyDigest).toBe('policy-2');
    expect((await rejection(context.runtime.gate.execute(token, context.tool, { index: 0 }))).code).toBe(
      'UNAUTHORIZED_ACTION',
    );
  });

  it('revokes on a policy violation', async () => {
    let verdict: Decision = 'ALLOW';
    const context = setup({ policy: { decide: () => verdict } });
    await withOutstandingToken(context);
    verdict = 'DENY';
    await rejection(context.runtime.executeStep(0, context.tool, { args: {} }));
    await expectRevoked(context, 'policy_violation');
  });

  it('revokes on escalation denial', async () => {
    let verdict: Decision = 'ALLOW';
    const context = setup({ policy: { decide: () => verdict } });
    await withOutstandingToken(context);
    verdict = 'ESCALATE';
    await rejection(context.runtime.executeStep(0, context.tool, { args: {} }));
    await expectRevoked(context, 'escalation_denied');
  });

  it('revokes on tenant mismatch reported by the authority', async () => {
    const context = setup();
    await withOutstandingToken(context);
    context.authority.consume = async () => {
      throw new TenantIsolationError('token of another tenant', { field: 'tenant' });
    };
    const error = await rejection(context.runtime.executeStep(0, context.tool, { args: {} }));
    expect(error.code).toBe('TENANT_MISMATCH');
    expect(context.tool).not.toHaveBeenCalled();
    expect(context.authority.revocations).toContainEqual(
      expect.objectContaining({ reason: 'tenant_mismatch' }),
    );
  });
});

describe('modes', () => {
  it('observe runs a denied call and records it as not enforced', async () => {
    const context = setup({ mode: 'observe', policy: { decisions: { ...decisions, write_file: 'DENY' } } });
    await ready(context, [{ action_id: 'write_file', args: { path: '/x' } }]);
    expect(dataOf(context.audit.events, 'plan.approved')[0]).toMatchObject({
      enforced: false,
      wouldReject: { step: 0 },
    });
    await context.runtime.executeStep(0, context.tool, { args: { path: '/x' } });
    expect(context.tool).toHaveBeenCalledTimes(1);
    expect(dataOf(context.audit.events, 'decision.made')[0]).toMatchObject({
      decision: 'DENY',
      enforced: false,
      mode: 'observe',
    });
  });

  it('observe runs an escalated call without asking the handler', async () => {
    const context = setup({ enforcementMode: 'observe' });
    await ready(context, [{ action_id: 'send_email' }]);
    await context.runtime.executeStep(0, context.tool, { args: {} });
    expect(context.escalation.requests).toHaveLength(0);
    expect(context.tool).toHaveBeenCalledTimes(1);
    expect(context.runtime.mode).toBe('observe');
  });

  it('disabled does not consult the policy and records every call as disabled', async () => {
    const context = setup({ mode: 'disabled', policy: { decisions: {} } });
    await ready(context, [{ action_id: 'write_file' }]);
    await context.runtime.executeStep(0, context.tool, { args: {} });
    expect(context.policy.requests).toHaveLength(0);
    expect(context.tool).toHaveBeenCalledTimes(1);
    expect(dataOf(context.audit.events, 'decision.made')[0]).toMatchObject({
      mode: 'disabled',
      enforced: false,
    });
    expect(context.audit.types()).toContain('token.consumed');
  });

  it('enforce is the default', () => {
    expect(setup().runtime.mode).toBe('enforce');
  });

  it('still refuses untrusted intents in observe mode', async () => {
    const context = setup({ mode: 'observe' });
    expect(
      (await rejection(context.runtime.setIntent(intent, { provenance: 'EXTERNAL_UNTRUSTED' }))).code,
    ).toBe('PROVENANCE');
  });
});

describe('configuration', () => {
  const base = () => ({
    tenant: 'acme',
    policy: createStubPolicy(),
    authority: createFakeAuthority({ tenant: 'acme' }),
  });

  it('refuses an authority of another tenant', () => {
    expect(() => createRuntime({ ...base(), authority: createFakeAuthority({ tenant: 'globex' }) })).toThrow(
      expect.objectContaining({ code: 'TENANT_MISMATCH' }),
    );
  });

  for (const [field, value] of [
    ['tenant', ''],
    ['policy', undefined],
    ['authority', undefined],
    ['mode', 'yolo'],
    ['defaultProvenance', 'ROOT'],
    ['escalationTimeoutMs', 0],
    ['auditArgs', 'path'],
    ['sessionId', ''],
  ] as const) {
    it(`refuses a malformed ${field}`, () => {
      expect(() => createRuntime({ ...base(), [field]: value } as unknown as RuntimeConfig)).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', details: { field } }),
      );
    });
  }

  it('refuses mode and enforcementMode that disagree', () => {
    expect(() => createRuntime({ ...base(), mode: 'enforce', enforcementMode: 'observe' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('generates a session id when none is given', () => {
    expect(createRuntime(base()).sessionId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

/** A sink that, once `hold()` is called, keeps each append pending until it is settled by hand. */
function createHoldingAuditSink() {
  const recorded: AuditEvent[] = [];
  const held: { event: AuditEvent; settle: (error?: Error) => void }[] = [];
  let holding = false;
  const sink = {
    append(event: AuditEvent): Promise<void> {
      if (!holding) {
        recorded.push(event);
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        held.push({
          event,
          settle: (error) => {
            if (error === undefined) {
              recorded.push(event);
              resolve();
            } else {
              reject(error);
            }
          },
        });
      });
    },
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return {
    sink,
    held,
    recorded,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
    },
  };
}

describe('audit appends of a step are pipelined', () => {
  it('starts decision.made, token.issued and token.consumed together and runs the tool only after all are recorded', async () => {
    const holding = createHoldingAuditSink();
    const context = setup({ audit: holding.sink });
    await ready(context, [readStep, readStep]);
    await context.runtime.executeStep(0, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' });
    holding.hold();
    const step = context.runtime.executeStep(1, context.tool, {
      args: readStep.args,
      provenance: 'USER_TRUSTED',
    });
    await vi.waitFor(() => expect(holding.held).toHaveLength(3));
    expect(holding.held.map((item) => item.event.type)).toEqual([
      'decision.made',
      'token.issued',
      'token.consumed',
    ]);
    expect(context.tool).toHaveBeenCalledTimes(1);
    holding.release();
    for (const item of holding.held.splice(0)) item.settle();
    await step;
    expect(context.tool).toHaveBeenCalledTimes(2);
    expect(holding.recorded.slice(-4).map((event) => event.type)).toEqual([
      'decision.made',
      'token.issued',
      'token.consumed',
      'tool.executed',
    ]);
  });

  for (const failing of ['decision.made', 'token.issued', 'token.consumed']) {
    it(`fails closed when ${failing} is rejected after the token was already consumed`, async () => {
      const holding = createHoldingAuditSink();
      const context = setup({ audit: holding.sink });
      await ready(context, [readStep, readStep]);
      await context.runtime.executeStep(0, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' });
      holding.hold();
      const step = rejection(
        context.runtime.executeStep(1, context.tool, { args: readStep.args, provenance: 'USER_TRUSTED' }),
      );
      await vi.waitFor(() => expect(holding.held).toHaveLength(3));
      holding.release();
      for (const item of holding.held.splice(0)) {
        item.settle(item.event.type === failing ? new Error('disk full') : undefined);
      }
      const error = await step;
      expect(error.code).toBe('AUDIT_FAILURE');
      expect(error.details['event']).toBe(failing);
      expect(context.tool).toHaveBeenCalledTimes(1);
      expect(context.runtime.state).toBe('TERMINATED');
      expect(context.authority.outstanding()).toBe(0);
    });
  }

  it('fails closed when decision.made is rejected before the token is issued, revoking the late token', async () => {
    const context = setup();
    await ready(context);
    context.audit.failWhen((event) => event.type === 'decision.made');
    const error = await rejection(
      context.runtime.authorize(0, { args: readStep.args, provenance: 'USER_TRUSTED' }),
    );
    expect(error.code).toBe('AUDIT_FAILURE');
    expect(context.runtime.state).toBe('TERMINATED');
    expect(context.authority.outstanding()).toBe(0);
  });
});
