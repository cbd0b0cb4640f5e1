import type { ActionRequest, SessionContext } from '@ape/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, loadPolicy, validatePolicy } from './index.js';
import { MAX_LIMIT_WINDOW_MS, windowToMs } from './window.js';

const POLICY = `name: budgets
allowed_actions: [read_file, write_file, "net.*", send_email]
limits:
  - { id: reads-per-session, actions: [read_file], max_calls: 3 }
  - { id: reads-per-hour, actions: [read_file], max_calls: 10, scope: lineage, window: 1h, reason: Ten reads an hour }
  - { id: net-per-tenant, actions: ["net.*"], max_calls: 100, scope: tenant, window: 1d }
  - { id: no-mail, actions: [send_email], max_calls: 0, scope: lineage, window: 30s }
tenants:
  acme:
    limits:
      - { id: acme-writes, actions: [write_file], max_calls: 1, window: 1m }
`;

const policy = loadPolicy({ text: POLICY, filename: 'budgets.yaml' });

function request(action: string, session?: Omit<SessionContext, 'id'>, tenant = 'default'): ActionRequest {
  return {
    tenant,
    action,
    args: {},
    provenance: 'USER_TRUSTED',
    ...(session === undefined ? {} : { session: { id: 's', ...session } }),
  };
}

function findingsOf(text: string): { code: string; path?: string; line?: number; message: string }[] {
  return validatePolicy({ text, filename: 'p.yaml' }).findings.map((finding) => ({
    code: finding.code,
    message: finding.message,
    ...(finding.path === undefined ? {} : { path: finding.path }),
    ...(finding.line === undefined ? {} : { line: finding.line }),
  }));
}

describe('limits[].scope and limits[].window in the schema', () => {
  it.each([
    ['0m', 'a zero window'],
    ['5w', 'weeks, which are not a unit'],
    ['1.5h', 'a fraction'],
    ['01h', 'a leading zero'],
    ['h', 'no number'],
    ['1 h', 'a space'],
    ['1000000000s', 'ten digits'],
  ])('refuses the window %s (%s) as SCHEMA with its path and line', (window) => {
    const findings = findingsOf(
      `allowed_actions: [a]\nlimits:\n  - actions: [a]\n    max_calls: 1\n    window: "${window}"\n`,
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: 'SCHEMA', path: '$.limits[0].window', line: 5 });
    expect(findings[0]?.message).toContain('such as 30s, 1m, 1h or 1d');
  });

  it('refuses an unknown scope as SCHEMA naming the accepted scopes', () => {
    const findings = findingsOf(
      'allowed_actions: [a]\nlimits:\n  - actions: [a]\n    max_calls: 1\n    scope: forever\n',
    );
    expect(findings).toEqual([
      {
        code: 'SCHEMA',
        path: '$.limits[0].scope',
        line: 5,
        message: 'must be one of "session", "lineage", "tenant"',
      },
    ]);
  });

  it('refuses a window longer than 366 days as SCHEMA, in a tenant overlay too', () => {
    const findings = findingsOf(
      'allowed_actions: [a]\ntenants:\n  t:\n    limits:\n      - { id: long, actions: [a], max_calls: 1, window: 367d }\n',
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: 'SCHEMA', path: '$.tenants.t.limits[0].window', line: 5 });
    expect(findings[0]?.message).toContain('longer than 366 days');
    expect(
      findingsOf('allowed_actions: [a]\nlimits: [{ actions: [a], max_calls: 1, window: 8785h }]\n'),
    ).toEqual([expect.objectContaining({ code: 'SCHEMA', path: '$.limits[0].window' })]);
  });

  it('accepts 366 days and every unit, in tenant overlays too', () => {
    const result = validatePolicy({
      text: 'allowed_actions: [a]\nlimits:\n  - { actions: [a], max_calls: 1, window: 366d, scope: tenant }\n  - { actions: [a], max_calls: 1, window: 30s }\ntenants:\n  t:\n    limits: [{ actions: [a], max_calls: 1, window: 1h, scope: lineage }]\n',
    });
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('converts durations to milliseconds, and 366 days is the bound', () => {
    expect(windowToMs('30s')).toBe(30_000);
    expect(windowToMs('1m')).toBe(60_000);
    expect(windowToMs('1h')).toBe(3_600_000);
    expect(windowToMs('1d')).toBe(86_400_000);
    expect(windowToMs('366d')).toBe(MAX_LIMIT_WINDOW_MS);
    expect(windowToMs('5w')).toBeUndefined();
    expect(windowToMs('0s')).toBeUndefined();
  });
});

describe('limitsFor', () => {
  it('returns the matching limits with scope, window in milliseconds and reason, frozen', () => {
    const limits = policy.limitsFor('default', 'read_file');
    expect(limits).toEqual([
      { id: 'reads-per-hour', max: 10, scope: 'lineage', windowMs: 3_600_000, reason: 'Ten reads an hour' },
      { id: 'reads-per-session', max: 3, scope: 'session' },
    ]);
    expect(Object.isFrozen(limits)).toBe(true);
    for (const limit of limits) expect(Object.isFrozen(limit)).toBe(true);
  });

  it('returns the very same array for the same arguments, for named and glob-matched actions', () => {
    expect(policy.limitsFor('default', 'read_file')).toBe(policy.limitsFor('default', 'read_file'));
    const net = policy.limitsFor('default', 'net.fetch');
    expect(net).toEqual([{ id: 'net-per-tenant', max: 100, scope: 'tenant', windowMs: 86_400_000 }]);
    expect(policy.limitsFor('default', 'net.fetch')).toBe(net);
    expect(policy.limitsFor('default', 'net.post')).toBe(net);
  });

  it("adds the tenant overlay's limits to the base limits", () => {
    expect(policy.limitsFor('acme', 'write_file')).toEqual([
      { id: 'acme-writes', max: 1, scope: 'session', windowMs: 60_000 },
    ]);
    expect(policy.limitsFor('acme', 'read_file').map((limit) => limit.id)).toEqual([
      'reads-per-hour',
      'reads-per-session',
    ]);
    expect(policy.limitsFor('default', 'write_file')).toEqual([]);
  });

  it('gives an unknown tenant the base limits and an action no limit matches none', () => {
    expect(policy.limitsFor('nobody', 'read_file')).toBe(policy.limitsFor('default', 'read_file'));
    expect(policy.limitsFor('default', 'list_files')).toEqual([]);
  });

  it('never throws and always returns a frozen array, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (tenant, action) => {
        const limits = policy.limitsFor(tenant as string, action as string);
        expect(Array.isArray(limits)).toBe(true);
        expect(Object.isFrozen(limits)).toBe(true);
      }),
    );
  });

  it('gives a policy without limits no limits', () => {
    const plain = compilePolicy({ allowed_actions: ['a'] });
    expect(plain.limitsFor('default', 'a')).toEqual([]);
  });
});

describe('evaluate with scoped and windowed limits', () => {
  it('judges a windowless session limit from session.calls, as before', () => {
    expect(policy.evaluate(request('read_file', { calls: { read_file: 2 } })).decision).toBe('ALLOW');
    const denied = policy.evaluate(request('read_file', { calls: { read_file: 3 } }));
    expect(denied).toMatchObject({ decision: 'DENY', rules: ['reads-per-session'] });
  });

  it('does not judge a windowed or lineage limit from session.calls, and says so in the trace', () => {
    const simulated = policy.simulate(request('net.fetch', { calls: { 'net.fetch': 500 } }));
    expect(simulated.decision).toBe('ALLOW');
    const step = simulated.trace.find((entry) => entry.rule === 'net-per-tenant');
    expect(step).toMatchObject({ kind: 'limit', applied: false });
    expect(step?.because).toContain("counted by the runtime's usage store");
    expect(step?.because).toContain('per tenant in any 1d window');
  });

  it('still denies an action whose windowed limit allows no call at all', () => {
    const decision = policy.evaluate(request('send_email'));
    expect(decision).toMatchObject({ decision: 'DENY', rules: ['no-mail'] });
    expect(policy.mayPermit('default', 'send_email')).toBe(false);
  });

  it('judges every limit by session.usage when the request carries it', () => {
    const under = policy.evaluate(
      request('read_file', { usage: { 'reads-per-hour': 9, 'reads-per-session': 2 } }),
    );
    expect(under.decision).toBe('ALLOW');
    const over = policy.evaluate(request('read_file', { usage: { 'reads-per-hour': 10 } }));
    expect(over).toMatchObject({ decision: 'DENY', rules: ['reads-per-hour'] });
    expect(over.reason).toBe('Denied by limit reads-per-hour: Ten reads an hour.');
    const tenantWide = policy.evaluate(request('net.get', { usage: { 'net-per-tenant': 100 } }));
    expect(tenantWide.reason).toBe(
      'The tenant has used 100 of the 100 calls limit net-per-tenant allows in the last 1d for "net.get".',
    );
  });

  it('prefers session.usage over session.calls for a session limit', () => {
    const decision = policy.evaluate(
      request('read_file', { calls: { read_file: 50 }, usage: { 'reads-per-session': 1 } }),
    );
    expect(decision.decision).toBe('ALLOW');
  });

  it('fails closed on a malformed usage count or usage that is not an object', () => {
    const malformed: [Record<string, unknown>, string][] = [
      [{ 'reads-per-session': -1 }, 'reads-per-session'],
      [{ 'reads-per-session': Number.NaN }, 'reads-per-session'],
      [{ 'reads-per-session': Number.POSITIVE_INFINITY }, 'reads-per-session'],
      [{ 'reads-per-hour': '1' }, 'reads-per-hour'],
    ];
    for (const [usage, rule] of malformed) {
      const decision = policy.evaluate(request('read_file', { usage: usage as Record<string, number> }));
      expect(decision).toMatchObject({ decision: 'DENY', rules: [rule] });
    }
    const unexplained = policy.evaluate(
      request('net.fetch', { usage: { 'net-per-tenant': -3 } as Record<string, number> }),
    );
    expect(unexplained.reason).toContain('has used an invalid number of the');
    const notObject = policy.evaluate(
      request('read_file', { usage: 7 as unknown as Record<string, number> }),
    );
    expect(notObject.decision).toBe('DENY');
  });
});

describe('evaluate with session.usage, for any counts', () => {
  const ids = ['reads-per-session', 'reads-per-hour', 'net-per-tenant', 'no-mail', 'acme-writes'];
  const actions = ['read_file', 'write_file', 'net.fetch', 'send_email'];

  it('denies exactly when some matching limit is used up (or its count is malformed)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...actions),
        fc.constantFrom('default', 'acme'),
        fc.dictionary(
          fc.constantFrom(...ids),
          fc.oneof(fc.nat(12), fc.integer({ min: -3, max: -1 }), fc.constant(Number.NaN)),
        ),
        (action, tenant, usage) => {
          const decision = policy.evaluate(request(action, { usage }, tenant));
          const exhausted = policy
            .limitsFor(tenant, action)
            .filter((limit) => {
              const used = usage[limit.id];
              return used === undefined ? limit.max === 0 : !(used >= 0 && used < limit.max);
            })
            .map((limit) => limit.id);
          expect(decision.decision).toBe(exhausted.length > 0 ? 'DENY' : 'ALLOW');
          for (const id of exhausted) expect(decision.rules).toContain(id);
        },
      ),
    );
  });
});

describe('explain rows of limits', () => {
  it('carry the scope and window and say them in the conditions', () => {
    const rows = policy.explain().filter((row) => row.effect === 'limit');
    expect(rows.map((row) => [row.rule, row.scope, row.window, row.conditions])).toEqual([
      ['reads-per-session', 'session', undefined, 'at most 3 calls per session'],
      ['reads-per-hour', 'lineage', '1h', 'at most 10 calls per lineage in any 1h window'],
      ['net-per-tenant', 'tenant', '1d', 'at most 100 calls per tenant in any 1d window'],
      ['no-mail', 'lineage', '30s', 'at most 0 calls per lineage in any 30s window'],
      ['acme-writes', 'session', '1m', 'at most 1 call per session in any 1m window'],
    ]);
  });
});
