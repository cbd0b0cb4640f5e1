import { describe, expect, it, vi } from 'vitest';
import type { PolicyDecision } from '../types.js';
import { FakeClock } from '../testing/fake-clock.js';
import { createFakeAuthority } from '../testing/fake-authority.js';
import { createRecordingAuditSink } from '../testing/recording-audit-sink.js';
import { createStubPolicy } from '../testing/stub-policy.js';
import { createRuntime } from './runtime.js';
import {
  dataOf,
  DECISIONS as decisions,
  INTENT as intent,
  readStep,
  ready,
  rejection,
  setup,
  type Context,
} from './__fixtures__/runtime-setup.js';

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
