import { describe, expect, it } from 'vitest';
import { compilePolicy } from './load.js';

const policy = compilePolicy({
  version: 1,
  name: 'edges',
  allowed_actions: ['read'],
  rules: [
    { id: 'deploys', actions: ['deploy'], effect: 'escalate' },
    { id: 'mail', actions: ['send'], effect: 'allow' },
  ],
  limits: [
    { id: 'reads', actions: ['read'], max_calls: 2 },
    { id: 'mail-per-hour', actions: ['send'], max_calls: 1, scope: 'lineage', window: '1h' },
  ],
  tenants: { acme: { rules: [{ id: 'acme-send', actions: ['send'], effect: 'escalate' }] } },
});

const request = (action: string, session: Record<string, unknown> = { id: 's' }, tenant = 'default') => ({
  tenant,
  action,
  args: {},
  provenance: 'USER_TRUSTED' as const,
  session: session as never,
});

describe('the evaluator at its edges', () => {
  it('mayEscalate: true only for actions an escalate rule matches, per tenant overlay, false for non-strings', () => {
    expect(policy.mayEscalate('default', 'deploy')).toBe(true);
    expect(policy.mayEscalate('default', 'send')).toBe(false);
    expect(policy.mayEscalate('acme', 'send')).toBe(true);
    expect(policy.mayEscalate('nobody', 'read')).toBe(false);
    expect(policy.mayEscalate(42 as never, 'deploy')).toBe(true);
    expect(policy.mayEscalate('default', 7 as never)).toBe(false);
  });

  it('mayPermit: false for what is not an action id, the base policy for an unknown or non-string tenant', () => {
    expect(policy.mayPermit('default', 'not an id')).toBe(false);
    expect(policy.mayPermit(undefined as never, 'read')).toBe(true);
    expect(policy.mayPermit('nobody', 'send')).toBe(true);
  });

  it('counts usage that is not an object, or an invalid count, as used up (fail closed)', () => {
    const notAnObject = policy.evaluate(request('read', { id: 's', usage: 5 }));
    expect(notAnObject.decision).toBe('DENY');
    const negative = policy.evaluate(request('read', { id: 's', usage: { reads: -1 } }));
    expect(negative.decision).toBe('DENY');
    expect(negative.reason).toContain('has used an invalid number of the');
    expect(policy.evaluate(request('read', { id: 's', usage: { other: 3 } })).decision).toBe('ALLOW');
  });

  it('names the scope and window of a windowed limit when usage reaches it', () => {
    const decision = policy.evaluate(request('send', { id: 's', usage: { 'mail-per-hour': 1 } }));
    expect(decision.decision).toBe('DENY');
    expect(decision.reason).toContain(
      'The lineage has used 1 of the 1 call limit mail-per-hour allows in the last 1h',
    );
  });

  it('judges a windowless session limit from session.calls, and invalid calls as used up', () => {
    expect(policy.evaluate(request('read', { id: 's', calls: { read: 2 } })).decision).toBe('DENY');
    expect(policy.evaluate(request('read', { id: 's', calls: { read: 1 } })).decision).toBe('ALLOW');
    expect(policy.evaluate(request('read', { id: 's', calls: 'many' })).decision).toBe('DENY');
  });
});
