import { describe, expect, it, vi } from 'vitest';
import { hashCanonical } from '../canonical-json.js';
import { createLabeled } from '../labeled.js';
import { createStubPolicy } from '../testing/stub-policy.js';
import { defineTool } from './tool.js';
import { dataOf, INTENT as intent, readStep, ready, rejection, setup } from './__fixtures__/runtime-setup.js';

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
