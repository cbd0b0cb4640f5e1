import type { ActionRequest } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from './load.js';

function request(action: string, extra: Partial<ActionRequest> = {}): ActionRequest {
  return { tenant: 'default', action, args: {}, provenance: 'USER_TRUSTED', ...extra };
}

/** A request whose `args` throws `error` when the evaluator reads it. */
function throwingRequest(error: unknown): ActionRequest {
  const base = request('read');
  return Object.defineProperty({ ...base }, 'args', {
    enumerable: true,
    get() {
      throw error;
    },
  });
}

describe('a request the evaluator cannot read', () => {
  const policy = compilePolicy({ version: 1, name: 'plain', allowed_actions: ['read'] });

  it("denies with the error's code and its message, trailing dots and spaces trimmed", () => {
    const error = Object.assign(new Error('v1.2 failed. '), { code: 'X_TEST' });
    expect(policy.evaluate(throwingRequest(error))).toEqual({
      decision: 'DENY',
      rules: ['error'],
      reason: 'Denied because the policy could not be evaluated: v1.2 failed.',
      policy: policy.digest,
      code: 'X_TEST',
    });
  });

  it('reports INTERNAL for a thrown value without a string code', () => {
    for (const thrown of ['bad', null, undefined, 7, { code: 5, message: 'odd' }, new Error('plain')]) {
      const decision = policy.evaluate(throwingRequest(thrown));
      expect(decision, String(thrown)).toMatchObject({
        decision: 'DENY',
        rules: ['error'],
        code: 'INTERNAL',
      });
      expect(decision.reason).toMatch(/^Denied because the policy could not be evaluated: .+\.$/);
    }
  });

  it('ends the simulation trace with one error step carrying the reason', () => {
    const result = policy.simulate(throwingRequest(Object.assign(new Error('boom'), { code: 'X_TEST' })));
    expect(result).toMatchObject({ decision: 'DENY', rules: ['error'], code: 'X_TEST', tenant: null });
    expect(result.trace).toEqual([
      {
        rule: 'error',
        kind: 'default',
        applied: true,
        because: 'Denied because the policy could not be evaluated: boom.',
      },
    ]);
  });
});

describe('mayPermit and mayEscalate', () => {
  const policy = compilePolicy({
    version: 1,
    name: 'reach',
    allowed_actions: ['read', 'write', 'post'],
    forbidden_actions: ['rm'],
    rules: [
      {
        id: 'no-force',
        actions: ['write'],
        effect: 'deny',
        when: { args: { type: 'object', required: ['force'], properties: { force: true } } },
      },
      {
        id: 'no-untrusted-post',
        actions: ['post'],
        effect: 'deny',
        when: { provenance: ['EXTERNAL_UNTRUSTED'] },
      },
      {
        id: 'only-trusted-wipe',
        actions: ['wipe'],
        effect: 'deny',
        when: { provenance: ['EXTERNAL_UNTRUSTED'] },
      },
    ],
    tenants: {
      acme: {
        allowed_actions: ['read'],
        rules: [{ id: 'acme-fax', actions: ['fax'], effect: 'escalate' }],
      },
    },
  });

  it('an unconditional deny makes an action unreachable; a deny with a condition does not', () => {
    expect(policy.mayPermit('default', 'rm')).toBe(false);
    expect(policy.mayPermit('default', 'write')).toBe(true);
    expect(policy.mayPermit('default', 'post')).toBe(true);
    expect(policy.mayPermit('default', 'read')).toBe(true);
  });

  it('an unconditional deny under an allowing glob makes that one action unreachable', () => {
    const globs = compilePolicy({
      version: 1,
      name: 'globs',
      allowed_actions: ['fs.*'],
      forbidden_actions: ['fs.rm'],
    });
    expect(globs.mayPermit('default', 'fs.read')).toBe(true);
    expect(globs.mayPermit('default', 'fs.rm')).toBe(false);
  });

  it('a conditional deny alone permits nothing', () => {
    expect(policy.mayPermit('default', 'wipe')).toBe(false);
  });

  it("a tenant's filter narrows, and a tenant's own escalation never makes an action reachable", () => {
    expect(policy.mayPermit('acme', 'read')).toBe(true);
    expect(policy.mayPermit('acme', 'write')).toBe(false);
    expect(policy.mayPermit('acme', 'fax')).toBe(false);
  });

  it('never permits or escalates what is not an action id, even under a catch-all glob', () => {
    const open = compilePolicy({
      version: 1,
      name: 'open',
      allowed_actions: ['*'],
      escalation_required: ['*'],
    });
    expect(open.mayPermit('default', 'read')).toBe(true);
    expect(open.mayPermit('default', 'not an id')).toBe(false);
    expect(open.mayEscalate('default', 'read')).toBe(true);
    expect(open.mayEscalate('default', 7 as never)).toBe(false);
  });
});

describe('decisions and their wording', () => {
  it('lists tenants sorted, whatever order the document gives', () => {
    const policy = compilePolicy({
      version: 1,
      name: 'tenants',
      allowed_actions: ['a'],
      tenants: {
        zeta: { allowed_actions: ['a'] },
        alpha: { allowed_actions: ['a'] },
        mid: { allowed_actions: ['a'] },
      },
    });
    expect(policy.tenants).toEqual(['alpha', 'mid', 'zeta']);
  });

  it("ends a rule's reason with a full stop only when it has no final punctuation", () => {
    const policy = compilePolicy({
      version: 1,
      name: 'reasons',
      rules: [
        { id: 'old', actions: ['old'], effect: 'deny', reason: 'Use v2.0 instead' },
        { id: 'done', actions: ['done'], effect: 'deny', reason: 'Already done!' },
        { id: 'ok', actions: ['ok'], effect: 'allow', reason: 'a trusted tool' },
      ],
    });
    expect(policy.evaluate(request('old')).reason).toBe('Denied by old: Use v2.0 instead.');
    expect(policy.evaluate(request('done')).reason).toBe('Denied by done: Already done!');
    expect(policy.evaluate(request('ok'))).toMatchObject({
      decision: 'ALLOW',
      rules: ['ok'],
      reason: 'Allowed by ok: a trusted tool.',
    });
  });

  it("denies by default an action only a tenant's escalation names (tenants only narrow)", () => {
    const policy = compilePolicy({
      version: 1,
      name: 'narrow',
      allowed_actions: ['read'],
      tenants: { acme: { rules: [{ id: 'acme-wire', actions: ['wire'], effect: 'escalate' }] } },
    });
    expect(policy.evaluate(request('wire', { tenant: 'acme' }))).toMatchObject({
      decision: 'DENY',
      rules: ['default'],
      reason: 'No rule allows "wire"; denied by default.',
    });
    expect(policy.evaluate(request('read', { tenant: 'acme' })).decision).toBe('ALLOW');
  });

  it('names every rule whose conditions failed in a default denial', () => {
    const policy = compilePolicy({
      version: 1,
      name: 'unmet',
      rules: [
        { id: 'sys', actions: ['w'], effect: 'allow', when: { provenance: ['SYSTEM_TRUSTED'] } },
        {
          id: 'ask',
          actions: ['w'],
          effect: 'escalate',
          when: { args: { type: 'object', required: ['why'], properties: { why: { type: 'string' } } } },
        },
      ],
    });
    expect(policy.evaluate(request('w')).reason).toBe(
      'No rule allows "w" for this call (conditions of ask, sys not met); denied by default.',
    );
  });

  it('describes a failed argument condition by where it failed and which keyword refused it', () => {
    const policy = compilePolicy({
      version: 1,
      name: 'args',
      rules: [
        {
          id: 'r',
          actions: ['write'],
          effect: 'allow',
          when: {
            args: {
              type: 'object',
              required: ['p'],
              properties: {
                p: { type: 'string', 'x-ape-path': { roots: ['/ws'] } },
                u: { type: 'string', 'x-ape-url': { schemes: ['https'], hosts: ['example.com'] } },
                n: { type: 'integer' },
              },
            },
          },
        },
      ],
    });
    const because = (args: Record<string, unknown>) =>
      policy.simulate(request('write', { args })).trace.find((step) => step.rule === 'r')?.because;
    const prefix = 'r matches "write" but its conditions fail: arguments do not match: ';
    expect(because({})).toBe(`${prefix}args is missing "p".`);
    expect(because({ p: '/etc' })).toBe(`${prefix}args.p is not a path within the allowed roots.`);
    expect(because({ p: '/ws/a', u: 'http://example.com' })).toBe(
      `${prefix}args.u is not a URL with an allowed scheme and host.`,
    );
    expect(because({ p: '/ws/a', n: 'x' })).toBe(`${prefix}args.n must be integer.`);
  });
});

describe('budgets read from the request', () => {
  const policy = compilePolicy({
    version: 1,
    name: 'budgets',
    allowed_actions: ['read', 'send'],
    limits: [
      { id: 'reads', actions: ['read'], max_calls: 2 },
      { id: 'team-sends', actions: ['send'], max_calls: 3, scope: 'lineage' },
    ],
  });

  it('counts usage that is null, or a count that is not a number, as used up', () => {
    const nullUsage = policy.evaluate(request('read', { session: { id: 's', usage: null as never } }));
    expect(nullUsage).toMatchObject({ decision: 'DENY', rules: ['reads'] });
    expect(nullUsage.reason).toBe(
      'The session has used an invalid number of the 2 calls limit reads allows for "read".',
    );
    const text = policy.evaluate(request('read', { session: { id: 's', usage: { reads: '1' as never } } }));
    expect(text).toMatchObject({ decision: 'DENY', rules: ['reads'] });
  });

  it('counts calls that are null, or a count that is not a number, as used up', () => {
    expect(policy.evaluate(request('read', { session: { id: 's', calls: null as never } }))).toMatchObject({
      decision: 'DENY',
      rules: ['reads'],
    });
    expect(
      policy.evaluate(request('read', { session: { id: 's', calls: { read: '1' as never } } })),
    ).toMatchObject({ decision: 'DENY', rules: ['reads'] });
    expect(policy.evaluate(request('read', { session: { id: 's', calls: { read: 1 } } })).decision).toBe(
      'ALLOW',
    );
  });

  it('names the scope of a windowless limit that is not per session, in the trace and in a denial', () => {
    const untold = policy.simulate(request('send', { session: { id: 's', calls: { send: 9 } } }));
    expect(untold.decision).toBe('ALLOW');
    expect(untold.trace[0]?.because).toBe(
      "Limit team-sends (per lineage) is counted by the runtime's usage store, not from session.calls; not judged here.",
    );
    const within = policy.simulate(request('send', { session: { id: 's', usage: { 'team-sends': 2 } } }));
    expect(within.trace[0]?.because).toBe('The lineage has used 2 of the 3 calls limit team-sends allows.');
    const spent = policy.evaluate(request('send', { session: { id: 's', usage: { 'team-sends': 3 } } }));
    expect(spent.reason).toBe('The lineage has used 3 of the 3 calls limit team-sends allows for "send".');
  });
});
