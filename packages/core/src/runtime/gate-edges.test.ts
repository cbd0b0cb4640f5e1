import { describe, expect, it, vi } from 'vitest';
import { PolicyDenyError, TenantIsolationError } from '../errors.js';
import type { Authority } from '../ports/authority.js';
import type { Clock } from '../ports/clock.js';
import { createFakeAuthority } from '../testing/fake-authority.js';
import { createStubPolicy } from '../testing/stub-policy.js';
import type { AuthorityToken } from '../types.js';
import {
  dataOf,
  INTENT,
  readStep,
  ready,
  rejection,
  setup,
  threeCallStoreWith,
} from './__fixtures__/runtime-setup.js';

const READ = readStep.args;

/** A clock whose time moves 5 ms per reading, and that fails its next reading once `failNext` is set. */
function failingClock() {
  let time = Date.UTC(2026, 0, 1);
  const state = { failNext: false, readings: 0 };
  const clock: Clock = {
    now: () => {
      state.readings++;
      if (state.failNext) {
        state.failNext = false;
        throw new Error('clock offline');
      }
      time += 5;
      return time;
    },
  };
  return { clock, state };
}

/** A fake authority (tenant `acme`) whose `issue`/`consume` can be made to fail or wait. */
function steerableAuthority(clock?: Clock) {
  const inner = createFakeAuthority({ tenant: 'acme', ...(clock === undefined ? {} : { clock }) });
  const steer: {
    issueFailure: unknown;
    consumeFailure: unknown;
    issueGate: Promise<void> | undefined;
    issued: (token: AuthorityToken) => AuthorityToken;
  } = { issueFailure: undefined, consumeFailure: undefined, issueGate: undefined, issued: (token) => token };
  const authority: Authority & { readonly inner: typeof inner } = {
    inner,
    issue: async (binding) => {
      if (steer.issueGate !== undefined) await steer.issueGate;
      if (steer.issueFailure !== undefined) throw steer.issueFailure;
      return steer.issued(await inner.issue(binding));
    },
    consume: async (token, binding) => {
      if (steer.consumeFailure !== undefined) throw steer.consumeFailure;
      return inner.consume(token, binding);
    },
    revoke: (token, reason) => inner.revoke(token, reason),
    revokeSession: (tenant, session, reason) => inner.revokeSession(tenant, session, reason),
    revokeTenant: (tenant, reason) => inner.revokeTenant(tenant, reason),
  };
  return { authority, steer };
}

describe('gate: tool failures in the audit trail', () => {
  it('fails the call when the sink rejects the tool.executed record (the tool ran; the session ends)', async () => {
    const context = setup();
    await ready(context);
    context.audit.failWhen((event) => event.type === 'tool.executed');
    const error = await rejection(context.runtime.executeStep(0, context.tool, { args: READ }));
    expect(error.code).toBe('AUDIT_FAILURE');
    expect(error.details).toEqual({ event: 'tool.executed' });
    expect(context.tool).toHaveBeenCalledTimes(1);
    expect(context.runtime.state).toBe('TERMINATED');
  });

  it('records an APE error thrown by a tool with its name and code', async () => {
    const context = setup();
    await ready(context);
    const failing = () => {
      throw new PolicyDenyError('downstream refused', { step: 0 });
    };
    expect((await rejection(context.runtime.executeStep(0, failing, { args: READ }))).code).toBe(
      'POLICY_DENY',
    );
    const [executed] = dataOf(context.audit.events, 'tool.executed');
    expect(executed?.['ok']).toBe(false);
    expect(executed?.['error']).toEqual({ name: 'PolicyDenyError', code: 'POLICY_DENY' });
  });

  it('records a plain error thrown by a tool with its name only', async () => {
    const context = setup();
    await ready(context);
    const failing = () => {
      throw new TypeError('bad input');
    };
    await expect(context.runtime.executeStep(0, failing, { args: READ })).rejects.toThrow('bad input');
    const [executed] = dataOf(context.audit.events, 'tool.executed');
    expect(executed?.['error']).toEqual({ name: 'TypeError' });
  });

  it('records a thrown non-error by its type', async () => {
    const context = setup();
    await ready(context);
    const failing = () => {
      throw 'just a string';
    };
    await expect(context.runtime.executeStep(0, failing, { args: READ })).rejects.toBe('just a string');
    const [executed] = dataOf(context.audit.events, 'tool.executed');
    expect(executed?.['error']).toEqual({ name: 'string' });
  });

  it('records a duration of 0 when the clock fails after the tool ran', async () => {
    const { clock, state } = failingClock();
    const context = setup({ clock });
    await ready(context);
    const tool = vi.fn(() => {
      state.failNext = true;
      return 'done';
    });
    expect((await context.runtime.executeStep(0, tool, { args: READ })).value).toBe('done');
    const [executed] = dataOf(context.audit.events, 'tool.executed');
    expect(executed?.['ok']).toBe(true);
    expect(executed?.['durationMs']).toBe(0);
  });

  it('records the time the tool took from the runtime clock', async () => {
    const { clock } = failingClock();
    const context = setup({ clock });
    await ready(context);
    await context.runtime.executeStep(0, context.tool, { args: READ });
    const [executed] = dataOf(context.audit.events, 'tool.executed');
    expect(executed?.['durationMs']).toBe(5);
  });

  it('dates tool.executed by the reading that ended the run', async () => {
    const { clock, state } = failingClock();
    const context = setup({ clock });
    await ready(context);
    let readingsBefore = 0;
    const tool = vi.fn(() => {
      readingsBefore = state.readings;
      return 'done';
    });
    await context.runtime.executeStep(0, tool, { args: READ });
    const consumed = context.audit.events.find((event) => event.type === 'token.consumed')!;
    const executed = context.audit.events.find((event) => event.type === 'tool.executed')!;
    // token.consumed at T, the run started at T + 5 and ended at T + 10: one reading after the tool.
    expect(executed.time).toBe(consumed.time + 10);
    expect(executed.data['durationMs']).toBe(5);
    expect(state.readings).toBe(readingsBefore + 1);
  });

  it('records a thrown tool with a duration of 0 when the clock fails as it ends, dated by the next reading', async () => {
    const { clock, state } = failingClock();
    const context = setup({ clock });
    await ready(context);
    const failing = vi.fn(() => {
      state.failNext = true;
      throw new RangeError('tool broke');
    });
    await expect(context.runtime.executeStep(0, failing, { args: READ })).rejects.toThrow('tool broke');
    const consumed = context.audit.events.find((event) => event.type === 'token.consumed')!;
    const executed = context.audit.events.find((event) => event.type === 'tool.executed')!;
    expect(executed.data).toMatchObject({ ok: false, durationMs: 0, error: { name: 'RangeError' } });
    // token.consumed at T, the run started at T + 5, the failed reading, then the record's own: T + 10.
    expect(executed.time).toBe(consumed.time + 10);
  });

  it("dates a thrown tool's record by the reading that ended its run", async () => {
    const { clock } = failingClock();
    const context = setup({ clock });
    await ready(context);
    const failing = vi.fn(() => {
      throw new RangeError('tool broke');
    });
    await expect(context.runtime.executeStep(0, failing, { args: READ })).rejects.toThrow('tool broke');
    const consumed = context.audit.events.find((event) => event.type === 'token.consumed')!;
    const executed = context.audit.events.find((event) => event.type === 'tool.executed')!;
    expect(executed.data['durationMs']).toBe(5);
    expect(executed.time).toBe(consumed.time + 10);
  });

  it('fails closed when the clock gives a non-finite time as the tool ends', async () => {
    let reads = 0;
    let broken = false;
    const clock: Clock = { now: () => (broken ? Number.NaN : Date.UTC(2026, 0, 1) + reads++) };
    const context = setup({ clock });
    await ready(context);
    const tool = vi.fn(() => {
      broken = true;
      return 'done';
    });
    const error = await rejection(context.runtime.executeStep(0, tool, { args: READ }));
    expect(error.code).toBe('AUDIT_FAILURE');
    expect(context.runtime.state).toBe('TERMINATED');
  });
});

describe('gate: the decision record', () => {
  it('leaves out code when the decision has none, and lists argument names sorted', async () => {
    const context = setup();
    await ready(context, [{ action_id: 'read_file' }]);
    await context.runtime.executeStep(0, context.tool, { args: { zeta: 1, alpha: 2, mid: 3 } });
    const [decision] = dataOf(context.audit.events, 'decision.made');
    expect(decision?.['argNames']).toEqual(['alpha', 'mid', 'zeta']);
    expect(Object.hasOwn(decision ?? {}, 'code')).toBe(false);
  });

  it('keeps the decision code of a denial in the record and the error', async () => {
    const context = setup({
      policy: {
        decide: () => ({ decision: 'DENY', rules: ['r1'], reason: 'no', policy: 'p', code: 'CUSTOM_CODE' }),
      },
    });
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    const error = await rejection(context.runtime.call('read_file', context.tool, { args: READ }));
    expect(error.details['code']).toBe('CUSTOM_CODE');
    expect(dataOf(context.audit.events, 'decision.made')[0]?.['code']).toBe('CUSTOM_CODE');
  });

  it('leaves code out of a plain denial error', async () => {
    const policyDenies = setup({ policy: { decisions: {} } });
    await policyDenies.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    const error = await rejection(policyDenies.runtime.call('read_file', policyDenies.tool, { args: READ }));
    expect(error.code).toBe('POLICY_DENY');
    expect(error.details['step']).toBe(0);
    expect(Object.hasOwn(error.details, 'code')).toBe(false);
    expect(policyDenies.tool).not.toHaveBeenCalled();
  });

  it('records no args when none of the audited names is among the arguments', async () => {
    const context = setup({ auditArgs: ['secret'] });
    await ready(context);
    await context.runtime.executeStep(0, context.tool, { args: READ });
    const [decision] = dataOf(context.audit.events, 'decision.made');
    expect(Object.hasOwn(decision ?? {}, 'args')).toBe(false);
  });

  it('records only the audited names the arguments have', async () => {
    const context = setup({ auditArgs: ['path', 'missing'] });
    await ready(context);
    await context.runtime.executeStep(0, context.tool, { args: READ });
    const args = dataOf(context.audit.events, 'decision.made')[0]?.['args'] as Record<string, unknown>;
    expect(Object.keys(args)).toEqual(['path']);
    expect(args['path']).toBe(READ.path);
  });

  it('records the step of a denial that revokes the session tokens', async () => {
    const context = setup();
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await context.runtime.authorizeCall('read_file', { args: READ, provenance: 'USER_TRUSTED' });
    const error = await rejection(context.runtime.call('delete_file', context.tool, { args: READ }));
    expect(error.code).toBe('POLICY_DENY');
    expect(dataOf(context.audit.events, 'token.revoked')).toContainEqual({
      reason: 'policy_violation',
      count: 1,
      stepIndex: 1,
    });
    expect(context.tool).not.toHaveBeenCalled();
  });
});

describe('gate: the authority', () => {
  it('records what a token it issued and then consumed is bound to', async () => {
    const context = setup();
    await ready(context);
    await context.runtime.executeStep(0, context.tool, { args: READ });
    const [issued] = dataOf(context.audit.events, 'token.issued');
    const [consumed] = dataOf(context.audit.events, 'token.consumed');
    expect(issued).toEqual({
      fingerprint: 'fake000000000001',
      stepIndex: 0,
      action: 'read_file',
      expiresAt: Date.UTC(2026, 0, 1) + 60_000,
    });
    expect(consumed).toEqual({ fingerprint: 'fake000000000001', stepIndex: 0, action: 'read_file' });
  });

  for (const [what, answer] of [
    ['nothing', () => undefined],
    ['a token whose fingerprint is not a string', (token: AuthorityToken) => ({ ...token, fingerprint: 7 })],
  ] as const) {
    it(`denies with AUTHORITY_FAILURE when the authority issues ${what}`, async () => {
      const { authority, steer } = steerableAuthority();
      const context = setup({ authority });
      await ready(context);
      steer.issued = answer as unknown as (token: AuthorityToken) => AuthorityToken;
      const error = await rejection(context.runtime.executeStep(0, context.tool, { args: READ }));
      expect(error.code).toBe('POLICY_DENY');
      expect(error.details).toEqual({ step: 0, action: 'read_file', code: 'AUTHORITY_FAILURE' });
      expect(error.message).toContain(
        'the authority failed to issue a token (it returned no token with a string fingerprint)',
      );
      expect(dataOf(context.audit.events, 'token.issued')).toEqual([]);
      expect(context.tool).not.toHaveBeenCalled();
    });
  }

  it('denies with AUTHORITY_FAILURE naming the issue operation when the authority cannot issue', async () => {
    const { authority, steer } = steerableAuthority();
    const context = setup({ authority });
    await ready(context);
    steer.issueFailure = new Error('issuer offline');
    const error = await rejection(context.runtime.executeStep(0, context.tool, { args: READ }));
    expect(error.code).toBe('POLICY_DENY');
    expect(error.details).toEqual({ step: 0, action: 'read_file', code: 'AUTHORITY_FAILURE' });
    expect(error.message).toContain('the authority failed to issue a token (issuer offline)');
    expect((error.cause as Error).message).toBe('issuer offline');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('denies with AUTHORITY_FAILURE naming the consume operation when the authority cannot consume', async () => {
    const { authority, steer } = steerableAuthority();
    const context = setup({ authority });
    await ready(context);
    steer.consumeFailure = new Error('store offline');
    const error = await rejection(context.runtime.executeStep(0, context.tool, { args: READ }));
    expect(error.details['code']).toBe('AUTHORITY_FAILURE');
    expect(error.message).toContain('the authority failed to consume a token (store offline)');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('records the step when a tenant mismatch revokes the session tokens', async () => {
    const { authority, steer } = steerableAuthority();
    const context = setup({ authority });
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await context.runtime.authorizeCall('read_file', { args: READ, provenance: 'USER_TRUSTED' });
    steer.issueFailure = new TenantIsolationError('another tenant', { field: 'tenant' });
    const error = await rejection(context.runtime.call('read_file', context.tool, { args: READ }));
    expect(error.code).toBe('TENANT_MISMATCH');
    expect(dataOf(context.audit.events, 'token.revoked')).toContainEqual({
      reason: 'tenant_mismatch',
      count: 1,
      stepIndex: 1,
    });
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('revokes, as explicit, a token issued after the policy was reloaded mid-call', async () => {
    const { authority, steer } = steerableAuthority();
    const context = setup({ authority });
    await ready(context);
    let open = () => {};
    steer.issueGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const pending = context.runtime.executeStep(0, context.tool, { args: READ });
    await vi.waitFor(() => expect(dataOf(context.audit.events, 'decision.made')).toHaveLength(1));
    await context.runtime.reloadPolicy(createStubPolicy({ decisions: { read_file: 'ALLOW' } }));
    open();
    expect((await rejection(pending)).code).toBe('RUNTIME_STATE');
    expect(authority.inner.revocations).toContainEqual({ scope: 'token', reason: 'explicit', count: 1 });
    expect(authority.inner.outstanding()).toBe(0);
    expect(context.tool).not.toHaveBeenCalled();
  });
});

describe('gate: between consume and run', () => {
  it('denies with CLOCK_FAILURE and does not run the tool when the clock fails before the run', async () => {
    const { clock, state } = failingClock();
    const usage = threeCallStoreWith({
      setPreviousAction: () => {
        state.failNext = true;
      },
    });
    const context = setup({ clock, usage });
    await ready(context);
    const error = await rejection(context.runtime.executeStep(0, context.tool, { args: READ }));
    expect(error.code).toBe('POLICY_DENY');
    expect(error.details).toEqual({ step: 0, action: 'read_file', code: 'CLOCK_FAILURE' });
    expect(error.message).toContain('the clock failed (clock offline)');
    expect((error.cause as Error).message).toBe('clock offline');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('denies with USAGE_STORE_FAILURE when the previous action cannot be written', async () => {
    const usage = threeCallStoreWith({
      setPreviousAction: () => {
        throw new Error('disk full');
      },
    });
    const context = setup({ usage });
    await ready(context);
    const error = await rejection(context.runtime.executeStep(0, context.tool, { args: READ }));
    expect(error.details).toEqual({ step: 0, action: 'read_file', code: 'USAGE_STORE_FAILURE' });
    expect(error.message).toContain('the usage store could not record the previous action (disk full)');
    expect((error.cause as Error).message).toBe('disk full');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('names setPreviousAction when the store does not answer it in time', async () => {
    const usage = threeCallStoreWith({ setPreviousAction: () => new Promise<void>(() => {}) });
    const context = setup({ usage, usageTimeoutMs: 5 });
    await ready(context);
    const error = await rejection(context.runtime.executeStep(0, context.tool, { args: READ }));
    expect(error.details['code']).toBe('USAGE_STORE_FAILURE');
    expect(error.message).toContain('did not answer setPreviousAction within 5 ms');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('writes no previous action when enforcement is disabled', async () => {
    const setPreviousAction = vi.fn();
    const context = setup({ mode: 'disabled', usage: threeCallStoreWith({ setPreviousAction }) });
    await ready(context);
    await context.runtime.executeStep(0, context.tool, { args: READ });
    expect(context.tool).toHaveBeenCalledTimes(1);
    expect(setPreviousAction).not.toHaveBeenCalled();
  });

  it('spends the authorisation of a token consumed before a failure, so the token cannot be retried', async () => {
    let failing = true;
    const usage = threeCallStoreWith({
      setPreviousAction: () => {
        if (failing) throw new Error('disk full');
      },
    });
    const context = setup({ usage });
    await ready(context);
    const token = await context.runtime.authorize(0, { args: READ, provenance: 'USER_TRUSTED' });
    const first = await rejection(
      context.runtime.gate.execute(token, context.tool, { index: 0, args: READ }),
    );
    expect(first.details['code']).toBe('USAGE_STORE_FAILURE');
    failing = false;
    const again = await rejection(
      context.runtime.gate.execute(token, context.tool, { index: 0, args: READ }),
    );
    expect(again.code).toBe('UNAUTHORIZED_ACTION');
    expect(again.message).toContain('No authorisation is outstanding for step 0');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('revokes the token an earlier authorize left for the step before the step runs', async () => {
    const context = setup();
    await ready(context);
    await context.runtime.authorize(0, { args: READ, provenance: 'USER_TRUSTED' });
    let seen: readonly string[] = [];
    const tool = vi.fn(() => {
      seen = context.audit.types();
      return 'ran';
    });
    await context.runtime.executeStep(0, tool, { args: READ, provenance: 'USER_TRUSTED' });
    expect(seen).toContain('token.revoked');
    expect(dataOf(context.audit.events, 'token.revoked')).toContainEqual(
      expect.objectContaining({ reason: 'explicit', count: 1, superseded: true }),
    );
  });

  it('keeps the next call index of calls mode when an older proposal runs through the gate', async () => {
    const { authority, steer } = steerableAuthority();
    const context = setup({ authority });
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    const first = await context.runtime.authorizeCall('read_file', {
      args: READ,
      provenance: 'USER_TRUSTED',
    });
    steer.issueFailure = new Error('issuer offline');
    await rejection(context.runtime.authorizeCall('read_file', { args: READ, provenance: 'USER_TRUSTED' }));
    expect(context.runtime.nextStepIndex).toBe(2);
    steer.issueFailure = undefined;
    await context.runtime.gate.execute(first.token, context.tool, { index: 0, args: READ });
    expect(context.tool).toHaveBeenCalledTimes(1);
    expect(context.runtime.nextStepIndex).toBe(2);
  });
});
