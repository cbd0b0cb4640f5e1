import type { ActionRequest } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from './load.js';

// `ape simulate` prints this trace: each check the evaluator made, in order, whether it applied and
// why. The table below is its contract, one check kind after another.
const policy = compilePolicy({
  version: 1,
  name: 'trace',
  allowed_actions: ['read', 'write', 'send'],
  forbidden_actions: ['rm'],
  escalation_required: ['deploy'],
  tool_transitions: { read: ['write', 'read'] },
  rules: [
    {
      id: 'write-ws',
      actions: ['write'],
      effect: 'allow',
      when: {
        args: {
          type: 'object',
          required: ['path'],
          properties: { path: { type: 'string', pattern: '^/ws/' } },
        },
        provenance: ['USER_TRUSTED'],
      },
    },
    { id: 'send-ok', actions: ['send'], effect: 'allow', reason: 'mail is fine' },
  ],
  limits: [
    { id: 'reads', actions: ['read'], max_calls: 2 },
    { id: 'hourly', actions: ['send'], max_calls: 3, scope: 'lineage', window: '1h' },
  ],
  tenants: {
    acme: {
      allowed_actions: ['read', 'deploy'],
      rules: [{ id: 'acme-deploy', actions: ['deploy'], effect: 'escalate', reason: 'acme asks' }],
    },
  },
});

function request(action: string, extra: Partial<ActionRequest> = {}): ActionRequest {
  return { tenant: 'default', action, args: {}, provenance: 'USER_TRUSTED', ...extra };
}

const INTENT_READ = Object.freeze({ allowed_actions: ['read'], forbidden_actions: [] });

describe('the simulation trace', () => {
  it('lists every check an allowed call passed: intent, transition, limit and the matching rule', () => {
    const result = policy.simulate(
      request('read', {
        intent: INTENT_READ,
        session: { id: 's', previousAction: 'read', calls: { read: 1 } },
      }),
    );
    expect(result.decision).toBe('ALLOW');
    expect(result.tenant).toBeNull();
    expect(result.trace).toEqual([
      { rule: 'intent.allowed_actions', kind: 'intent', applied: false, because: '"read" is within intent.' },
      {
        rule: 'tool_transitions.read',
        kind: 'transition',
        applied: false,
        because: '"read" may follow "read" (tool_transitions.read).',
      },
      {
        rule: 'reads',
        kind: 'limit',
        applied: false,
        because: 'The session has used 1 of the 2 calls limit reads allows.',
      },
      {
        rule: 'allowed_actions[0]',
        kind: 'allow',
        applied: true,
        because: 'allowed_actions[0] matches "read" and its conditions hold (allow).',
      },
    ]);
  });

  it('names the argument a conditional rule rejected, and still lists the rule that allowed', () => {
    const result = policy.simulate(
      request('write', { args: { path: '/etc/x' }, session: { id: 's', previousAction: 'read' } }),
    );
    expect(result.decision).toBe('ALLOW');
    expect(result.trace.map((step) => [step.rule, step.kind, step.applied])).toEqual([
      ['tool_transitions.read', 'transition', false],
      ['allowed_actions[1]', 'allow', true],
      ['write-ws', 'allow', false],
    ]);
    expect(result.trace[2]!.because).toBe(
      'write-ws matches "write" but its conditions fail: arguments do not match: args.path must match pattern "^/ws/".',
    );
  });

  it('names the provenance a conditional rule does not accept', () => {
    const result = policy.simulate(
      request('write', { args: { path: '/ws/a' }, provenance: 'EXTERNAL_UNTRUSTED' }),
    );
    expect(result.trace.find((step) => step.rule === 'write-ws')).toEqual({
      rule: 'write-ws',
      kind: 'allow',
      applied: false,
      because:
        'write-ws matches "write" but its conditions fail: provenance EXTERNAL_UNTRUSTED is not among the labels it accepts.',
    });
  });

  it('records a refused transition as applied and says a windowed limit is judged by the usage store', () => {
    const result = policy.simulate(request('send', { session: { id: 's', previousAction: 'read' } }));
    expect(result).toMatchObject({ decision: 'DENY', rules: ['tool_transitions.read'] });
    expect(result.reason).toBe('"send" may not follow "read" (tool_transitions.read).');
    expect(result.trace.slice(0, 2)).toEqual([
      {
        rule: 'tool_transitions.read',
        kind: 'transition',
        applied: true,
        because: '"send" may not follow "read" (tool_transitions.read).',
      },
      {
        rule: 'hourly',
        kind: 'limit',
        applied: false,
        because:
          "Limit hourly (per lineage in any 1h window) is counted by the runtime's usage store, not from session.calls; not judged here.",
      },
    ]);
  });

  it('words an exhausted windowed limit by its scope and window, and a limit within its budget from usage', () => {
    const exhausted = policy.simulate(request('send', { session: { id: 's', usage: { hourly: 3 } } }));
    expect(exhausted.trace[0]).toEqual({
      rule: 'hourly',
      kind: 'limit',
      applied: true,
      because: 'The lineage has used 3 of the 3 calls limit hourly allows in the last 1h for "send".',
    });
    const within = policy.simulate(request('send', { session: { id: 's', usage: { hourly: 1 } } }));
    expect(within.decision).toBe('ALLOW');
    expect(within.trace[0]).toEqual({
      rule: 'hourly',
      kind: 'limit',
      applied: false,
      because: 'The lineage has used 1 of the 3 calls limit hourly allows in the last 1h.',
    });
    const plain = policy.simulate(request('read', { session: { id: 's', usage: { reads: 1 } } }));
    expect(plain.trace[0]!.because).toBe('The session has used 1 of the 2 calls limit reads allows.');
  });

  it('words an invalid usage count as an invalid number, and denies', () => {
    const result = policy.simulate(request('read', { session: { id: 's', usage: { reads: -1 } } }));
    expect(result.decision).toBe('DENY');
    expect(result.trace[0]).toEqual({
      rule: 'reads',
      kind: 'limit',
      applied: true,
      because: 'The session has used an invalid number of the 2 calls limit reads allows for "read".',
    });
  });

  it('lists both intent denials, the tenant filter and every rule, in that order', () => {
    const result = policy.simulate(
      request('rm', { tenant: 'acme', intent: { allowed_actions: [], forbidden_actions: ['rm'] } }),
    );
    expect(result.tenant).toBe('acme');
    expect(result.rules).toEqual([
      'intent.forbidden_actions',
      'intent.allowed_actions',
      'tenants.acme.allowed_actions',
      'forbidden_actions[0]',
    ]);
    expect(result.reason).toBe('"rm" is forbidden by intent.');
    expect(result.trace).toEqual([
      {
        rule: 'intent.forbidden_actions',
        kind: 'intent',
        applied: true,
        because: '"rm" is forbidden by intent.',
      },
      {
        rule: 'intent.allowed_actions',
        kind: 'intent',
        applied: true,
        because: '"rm" is outside intent (not in its allowed_actions).',
      },
      {
        rule: 'tenants.acme.allowed_actions',
        kind: 'tenant_filter',
        applied: true,
        because: 'Tenant "acme" may not use "rm" (tenants.acme.allowed_actions).',
      },
      {
        rule: 'forbidden_actions[0]',
        kind: 'deny',
        applied: true,
        because: 'forbidden_actions[0] matches "rm" and its conditions hold (deny).',
      },
    ]);
  });

  it('shows a tenant filter that lets the action through, and the escalation with its reason', () => {
    const result = policy.simulate(request('deploy', { tenant: 'acme' }));
    expect(result).toMatchObject({ decision: 'ESCALATE', tenant: 'acme' });
    expect(result.rules).toEqual(['acme-deploy', 'escalation_required[0]']);
    expect(result.reason).toBe('Human approval required by acme-deploy: acme asks.');
    expect(result.trace[0]).toEqual({
      rule: 'tenants.acme.allowed_actions',
      kind: 'tenant_filter',
      applied: false,
      because: 'Tenant "acme" may use "deploy".',
    });
  });

  it('ends a default denial with the default step, naming the rules whose conditions failed', () => {
    const none = policy.simulate(request('nothing'));
    expect(none.trace).toEqual([
      {
        rule: 'default',
        kind: 'default',
        applied: true,
        because: 'No rule allows "nothing"; denied by default.',
      },
    ]);
    const strict = compilePolicy({
      version: 1,
      name: 'strict',
      rules: [
        {
          id: 'trusted-write',
          actions: ['write'],
          effect: 'allow',
          when: { provenance: ['SYSTEM_TRUSTED'] },
        },
      ],
    });
    const unmet = strict.simulate(request('write'));
    expect(unmet.rules).toEqual(['default']);
    expect(unmet.trace.at(-1)).toEqual({
      rule: 'default',
      kind: 'default',
      applied: true,
      because:
        'No rule allows "write" for this call (conditions of trusted-write not met); denied by default.',
    });
  });

  it('traces a malformed request as one request step', () => {
    for (const [bad, reason] of [
      [null, 'Denied: the request is not an object.'],
      [request('not an id'), 'Denied: the request has no valid action id.'],
      [request('read', { args: [] as never }), 'Denied: the arguments of "read" are not an object.'],
      [request('read', { args: 'read' as never }), 'Denied: the arguments of "read" are not an object.'],
      [
        request('read', { intent: { allowed_actions: 'read', forbidden_actions: [] } as never }),
        'Denied: the request carries a malformed intent.',
      ],
      [
        request('read', { intent: { allowed_actions: ['read'], forbidden_actions: 'rm' } as never }),
        'Denied: the request carries a malformed intent.',
      ],
      [
        request('read', { intent: { allowed_actions: 'read' } as never }),
        'Denied: the request carries a malformed intent.',
      ],
    ] as const) {
      const result = policy.simulate(bad as ActionRequest);
      expect(result).toMatchObject({ decision: 'DENY', rules: ['request'], code: 'ACTION_INVALID', reason });
      expect(result.trace).toEqual([{ rule: 'request', kind: 'default', applied: true, because: reason }]);
    }
  });
});
