import { describe, expect, it } from 'vitest';
import { hashCanonical } from '../canonical-json.js';
import { TenantIsolationError } from '../errors.js';
import { createLabeled } from '../labeled.js';
import type { Decision } from '../types.js';
import { createFakeAuthority } from '../testing/fake-authority.js';
import { createStubPolicy } from '../testing/stub-policy.js';
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
