import { describe, expect, it, vi } from 'vitest';
import type { Decision } from '../types.js';
import { defineTool } from './tool.js';
import {
  dataOf,
  DECISIONS as decisions,
  INTENT as intent,
  readStep,
  ready,
  rejection,
  setup,
} from './__fixtures__/runtime-setup.js';

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
