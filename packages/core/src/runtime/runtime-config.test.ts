import { describe, expect, it, vi } from 'vitest';
import { createFakeAuthority } from '../testing/fake-authority.js';
import { createStubPolicy } from '../testing/stub-policy.js';
import { createRuntime, type RuntimeConfig } from './runtime.js';
import {
  createHoldingAuditSink,
  dataOf,
  DECISIONS as decisions,
  INTENT as intent,
  readStep,
  ready,
  rejection,
  setup,
} from './__fixtures__/runtime-setup.js';

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
