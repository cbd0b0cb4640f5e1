import { describe, expect, it, vi } from 'vitest';
import { canonicalJson, sha256 } from '../canonical-json.js';
import { createLabeled } from '../labeled.js';
import type { ProvenanceLabel, TokenBinding } from '../types.js';
import { createFakeAuthority } from '../testing/fake-authority.js';
import { dataOf, INTENT, rejection, setup } from './__fixtures__/runtime-setup.js';
import { defineTool } from './tool.js';

const READ = { path: '/workspace/a.txt' };

/** sha256 of canonical JSON, computed here rather than through the chain's own helpers. */
function digest(value: unknown): string {
  return sha256(canonicalJson(value));
}

async function started(context: ReturnType<typeof setup>): Promise<void> {
  await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
}

describe('calls mode: runtime.call', () => {
  it('runs an allowed call, returns its labelled output and puts the session in calls mode', async () => {
    const context = setup();
    await started(context);
    expect(context.runtime.sessionMode).toBeUndefined();
    const result = await context.runtime.call('read_file', context.tool, {
      args: READ,
      provenance: 'USER_TRUSTED',
    });
    expect(result.value).toEqual({ echoed: READ });
    expect(result.label).toBe('EXTERNAL_UNTRUSTED');
    expect(result.sources).toEqual(['tool:read_file']);
    expect(context.runtime.sessionMode).toBe('calls');
    expect(context.runtime.state).toBe('EXECUTING');
    expect(context.runtime.nextStepIndex).toBe(1);
    expect(context.runtime.plan).toEqual({ steps: [{ action_id: 'read_file', args: READ }] });
    expect(Object.isFrozen(context.runtime.plan?.steps)).toBe(true);
    expect(dataOf(context.audit.events, 'state.changed')).toContainEqual({
      from: 'INTENT_SET',
      to: 'EXECUTING',
      event: 'BEGIN_CALL',
    });
  });

  it('chains heads as sha256(canonical({ prev, index, step })) from head0 = sha256(canonical({ intent }))', async () => {
    const context = setup();
    await started(context);
    const head0 = digest({ intent: context.runtime.intentVersion });
    expect(context.runtime.planHash).toBeUndefined();
    await context.runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' });
    const head1 = digest({ prev: head0, index: 0, step: { action_id: 'read_file', args: READ } });
    expect(context.runtime.planHash).toBe(head1);
    await context.runtime.call('write_file', context.tool, {
      args: { path: createLabeled('/workspace/b', 'USER_TRUSTED') },
      provenance: 'USER_TRUSTED',
    });
    const head2 = digest({
      prev: head1,
      index: 1,
      step: { action_id: 'write_file', args: { path: '/workspace/b' } },
    });
    expect(context.runtime.planHash).toBe(head2);
    expect(dataOf(context.audit.events, 'plan.extended')).toEqual([
      { index: 0, action: 'read_file', argsDigest: digest(READ), head: head1, prev: head0 },
      {
        index: 1,
        action: 'write_file',
        argsDigest: digest({ path: '/workspace/b' }),
        head: head2,
        prev: head1,
      },
    ]);
  });

  it('records plan.extended before the decision of the call', async () => {
    const context = setup();
    await started(context);
    await context.runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' });
    const types = context.audit.events.map((event) => event.type);
    expect(types.indexOf('plan.extended')).toBeLessThan(types.indexOf('decision.made'));
    expect(types.slice(-5)).toEqual([
      'plan.extended',
      'decision.made',
      'token.issued',
      'token.consumed',
      'tool.executed',
    ]);
  });

  it('binds the token to the new head and the call index', async () => {
    const context = setup();
    const bindings: TokenBinding[] = [];
    const authority = createFakeAuthority({ tenant: 'acme', clock: context.clock });
    const issue = authority.issue.bind(authority);
    const spying = Object.assign(Object.create(authority) as typeof authority, {
      issue: (binding: TokenBinding) => {
        bindings.push(binding);
        return issue(binding);
      },
    });
    const runtime = setup({ authority: spying }).runtime;
    await runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' });
    await runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' });
    expect(bindings.map((binding) => [binding.planHash, binding.stepIndex])).toEqual([
      [
        digest({
          prev: digest({ intent: runtime.intentVersion }),
          index: 0,
          step: { action_id: 'read_file', args: READ },
        }),
        0,
      ],
      [runtime.planHash, 1],
    ]);
    expect(bindings[1]?.argsHash).toBe(digest(READ));
  });

  it('denies a call the policy denies without running the tool, revokes tokens, and lets the next call run', async () => {
    const context = setup({ policy: { decisions: { read_file: 'ALLOW', write_file: 'DENY' } } });
    await started(context);
    const denied = await rejection(
      context.runtime.call('write_file', context.tool, { args: { path: '/x' }, provenance: 'USER_TRUSTED' }),
    );
    expect(denied.code).toBe('POLICY_DENY');
    expect(denied.details).toMatchObject({ step: 0, action: 'write_file', rules: ['stub:write_file'] });
    expect(context.tool).not.toHaveBeenCalled();
    expect(context.authority.revocations).toContainEqual({
      scope: 'session',
      reason: 'policy_violation',
      count: 0,
    });
    expect(context.runtime.state).toBe('EXECUTING');
    await context.runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' });
    expect(context.tool).toHaveBeenCalledTimes(1);
    expect(context.runtime.plan?.steps.map((step) => step.action_id)).toEqual(['write_file', 'read_file']);
  });

  it('decides intent membership before the policy: a forbidden or unlisted action is denied by the intent alone', async () => {
    const context = setup({ policy: { decisions: { delete_file: 'ALLOW', rm: 'ALLOW' } } });
    await started(context);
    const forbidden = await rejection(
      context.runtime.call('delete_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' }),
    );
    expect(forbidden.code).toBe('POLICY_DENY');
    expect(forbidden.details['rules']).toEqual(['intent.forbidden_actions']);
    const unlisted = await rejection(
      context.runtime.call('rm', context.tool, { provenance: 'USER_TRUSTED' }),
    );
    expect(unlisted.details['rules']).toEqual(['intent.allowed_actions']);
    expect(context.policy.requests).toHaveLength(0);
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('never upgrades provenance: an untrusted call under a rule requiring USER_TRUSTED is denied', async () => {
    const context = setup({
      policy: { decide: (request) => (request.provenance === 'EXTERNAL_UNTRUSTED' ? 'DENY' : 'ALLOW') },
    });
    await started(context);
    const plain = await rejection(context.runtime.call('write_file', context.tool, { args: { path: '/w' } }));
    expect(plain.code).toBe('POLICY_DENY');
    const labelled = await rejection(
      context.runtime.call('write_file', context.tool, {
        args: { path: createLabeled('/w', 'EXTERNAL_UNTRUSTED') },
        provenance: 'SYSTEM_TRUSTED',
      }),
    );
    expect(labelled.details['provenance']).toBe('EXTERNAL_UNTRUSTED');
    expect(context.policy.requests.map((request) => request.provenance)).toEqual([
      'EXTERNAL_UNTRUSTED',
      'EXTERNAL_UNTRUSTED',
    ]);
    expect(context.tool).not.toHaveBeenCalled();
  });

  for (const [declared, expected] of [
    [undefined, 'USER_TRUSTED'],
    ['SYSTEM_TRUSTED', 'SYSTEM_TRUSTED'],
  ] as const) {
    it(`labels a call with empty args ${expected} when it declares ${String(declared)} (defaultProvenance USER_TRUSTED)`, async () => {
      const context = setup({ defaultProvenance: 'USER_TRUSTED' });
      await started(context);
      await context.runtime.call(
        'read_file',
        context.tool,
        declared === undefined ? {} : { provenance: declared },
      );
      expect(context.policy.requests[0]?.provenance).toBe<ProvenanceLabel>(expected);
    });
  }

  it('runs an escalated call after a trusted approval', async () => {
    const context = setup({ script: [{ approved: true, approver: 'alice', provenance: 'USER_TRUSTED' }] });
    await started(context);
    await context.runtime.call('send_email', context.tool, {
      args: { to: 'a@b.c' },
      provenance: 'USER_TRUSTED',
    });
    expect(context.escalation.requests[0]).toMatchObject({ stepIndex: 0, action: 'send_email' });
    expect(context.tool).toHaveBeenCalledTimes(1);
    expect(context.runtime.state).toBe('EXECUTING');
  });

  it('terminates the session when an escalation is denied, without running the tool', async () => {
    const context = setup({ script: [{ approved: false, approver: 'bob', provenance: 'USER_TRUSTED' }] });
    await started(context);
    const error = await rejection(
      context.runtime.call('send_email', context.tool, { args: { to: 'a@b.c' } }),
    );
    expect(error.code).toBe('ESCALATION_DENIED');
    expect(context.runtime.state).toBe('TERMINATED');
    expect(context.tool).not.toHaveBeenCalled();
    expect((await rejection(context.runtime.call('read_file', context.tool, { args: READ }))).code).toBe(
      'RUNTIME_STATE',
    );
  });

  it('terminates the session when an escalation times out', async () => {
    const context = setup({ script: ['hang'], escalationTimeoutMs: 5 });
    await started(context);
    const error = await rejection(
      context.runtime.call('send_email', context.tool, { args: { to: 'a@b.c' } }),
    );
    expect(error.details['reason']).toBe('timeout');
    expect(context.escalation.aborted).toBe(1);
    expect(context.runtime.state).toBe('TERMINATED');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses a Tool whose id is not the proposed action (no alias), after recording the proposal', async () => {
    const context = setup();
    await started(context);
    const deleter = defineTool({ id: 'delete_file', run: context.tool });
    const error = await rejection(
      context.runtime.call('read_file', deleter, { args: READ, provenance: 'USER_TRUSTED' }),
    );
    expect(error.code).toBe('ACTION_INVALID');
    expect(error.details).toMatchObject({ field: 'tool', expected: 'read_file', actual: 'delete_file' });
    expect(context.tool).not.toHaveBeenCalled();
    expect(dataOf(context.audit.events, 'plan.extended')).toHaveLength(1);
  });

  it('refuses a malformed action id and arguments that are not JSON, appending nothing', async () => {
    const context = setup();
    await started(context);
    const bad = await rejection(context.runtime.call('../etc', context.tool));
    expect(bad).toMatchObject({ code: 'ACTION_INVALID', details: { field: 'actionId' } });
    const args = await rejection(
      context.runtime.call('read_file', context.tool, { args: { when: new Date() } }),
    );
    expect(args.code).toBe('ARGS_INVALID');
    expect(context.runtime.plan?.steps).toEqual([]);
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses a second call while one is in flight', async () => {
    const context = setup({ script: ['hang'] });
    await started(context);
    const first = rejection(context.runtime.call('send_email', context.tool, { args: { to: 'a@b.c' } }));
    const second = await rejection(context.runtime.call('read_file', context.tool, { args: READ }));
    expect(second.code).toBe('RUNTIME_STATE');
    await vi.waitFor(() => expect(context.escalation.requests).toHaveLength(1));
    const third = await rejection(context.runtime.call('read_file', context.tool, { args: READ }));
    expect(third.code).toBe('RUNTIME_STATE');
    await context.runtime.terminate();
    expect((await first).code).toBe('ESCALATION_DENIED');
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses a call before the intent', async () => {
    const context = setup();
    expect((await rejection(context.runtime.call('read_file', context.tool))).code).toBe('RUNTIME_STATE');
  });

  it('restarts the chain at the new head0 when the intent is updated, and stays in calls mode', async () => {
    const context = setup();
    await started(context);
    await context.runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' });
    await context.runtime.updateIntent({ ...INTENT, scope: 'narrower' }, { provenance: 'USER_TRUSTED' });
    expect(context.runtime.sessionMode).toBe('calls');
    expect(context.runtime.planHash).toBe(digest({ intent: context.runtime.intentVersion }));
    expect(context.runtime.plan?.steps).toEqual([]);
    await context.runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' });
    expect(context.tool).toHaveBeenCalledTimes(2);
  });
});

describe('one mode per session', () => {
  it('refuses submitPlan, executeStep and authorize in a session that used runtime.call', async () => {
    const context = setup();
    await started(context);
    await context.runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' });
    for (const attempt of [
      context.runtime.submitPlan([{ action_id: 'read_file' }], { provenance: 'USER_TRUSTED' }),
      context.runtime.executeStep(0, context.tool, { args: READ }),
      context.runtime.authorize(0, { args: READ }),
    ]) {
      const error = await rejection(attempt);
      expect(error.code).toBe('RUNTIME_STATE');
      expect(error.details['sessionMode']).toBe('calls');
      expect(error.message).toContain('calls mode');
    }
  });

  it('refuses runtime.call and authorizeCall in a session with a plan', async () => {
    const context = setup();
    await started(context);
    await context.runtime.submitPlan([{ action_id: 'read_file' }], { provenance: 'USER_TRUSTED' });
    for (const attempt of [
      context.runtime.call('read_file', context.tool),
      context.runtime.authorizeCall('read_file'),
    ]) {
      const error = await rejection(attempt);
      expect(error.code).toBe('RUNTIME_STATE');
      expect(error.details['sessionMode']).toBe('plan');
    }
    expect(context.runtime.sessionMode).toBe('plan');
  });
});

describe('calls mode: authorizeCall and gate.execute', () => {
  it('authorises a proposal and runs it through gate.execute with the index', async () => {
    const context = setup();
    await started(context);
    const { token, index } = await context.runtime.authorizeCall('write_file', {
      args: { path: '/a' },
      provenance: 'USER_TRUSTED',
    });
    expect(index).toBe(0);
    expect(context.tool).not.toHaveBeenCalled();
    const result = await context.runtime.gate.execute(token, context.tool, { index, args: { path: '/a' } });
    expect(result.value).toEqual({ echoed: { path: '/a' } });
    const replay = await rejection(
      context.runtime.gate.execute(token, context.tool, { index, args: { path: '/a' } }),
    );
    expect(replay.code).toBe('UNAUTHORIZED_ACTION');
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('refuses the token with other arguments than proposed', async () => {
    const context = setup();
    await started(context);
    const { token, index } = await context.runtime.authorizeCall('write_file', {
      args: { path: '/a' },
      provenance: 'USER_TRUSTED',
    });
    const error = await rejection(
      context.runtime.gate.execute(token, context.tool, { index, args: { path: '/b' } }),
    );
    expect(error).toMatchObject({ code: 'UNAUTHORIZED_ACTION', details: { field: 'argsHash' } });
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('voids an earlier authorisation when the next call is authorised', async () => {
    const context = setup();
    await started(context);
    const first = await context.runtime.authorizeCall('write_file', {
      args: { path: '/a' },
      provenance: 'USER_TRUSTED',
    });
    const second = await context.runtime.authorizeCall('write_file', {
      args: { path: '/b' },
      provenance: 'USER_TRUSTED',
    });
    expect(second.index).toBe(1);
    const error = await rejection(
      context.runtime.gate.execute(first.token, context.tool, { index: 0, args: { path: '/a' } }),
    );
    expect(error.code).toBe('UNAUTHORIZED_ACTION');
    expect(context.authority.outstanding()).toBe(1);
    await context.runtime.gate.execute(second.token, context.tool, { index: 1, args: { path: '/b' } });
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('refuses gate.execute for an index no call was authorised at', async () => {
    const context = setup();
    await started(context);
    const { token } = await context.runtime.authorizeCall('write_file', {
      args: {},
      provenance: 'USER_TRUSTED',
    });
    expect((await rejection(context.runtime.gate.execute(token, context.tool, { index: 7 }))).code).toBe(
      'RUNTIME_STATE',
    );
    expect(context.tool).not.toHaveBeenCalled();
  });

  it('refuses arguments less trusted than at authorizeCall', async () => {
    const context = setup();
    await started(context);
    const { token, index } = await context.runtime.authorizeCall('write_file', {
      args: { path: '/a' },
      provenance: 'USER_TRUSTED',
    });
    const error = await rejection(
      context.runtime.gate.execute(token, context.tool, {
        index,
        args: { path: createLabeled('/a', 'EXTERNAL_UNTRUSTED') },
      }),
    );
    expect(error).toMatchObject({ code: 'UNAUTHORIZED_ACTION', details: { field: 'provenance' } });
    expect(context.tool).not.toHaveBeenCalled();
  });
});
