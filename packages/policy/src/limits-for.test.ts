import { describe, expect, it } from 'vitest';
import { compilePolicy } from './index.js';

const policy = compilePolicy({
  version: 1,
  name: 'limits-for',
  allowed_actions: ['read_file', 'http.get', 'send_email'],
  limits: [
    { id: 'reads', actions: ['read_file', 'read_*'], max_calls: 2, reason: 'Two reads' },
    { actions: ['http.*'], max_calls: 3 },
  ],
  tenants: {
    'acme-bank': { limits: [{ id: 'bank-reads', actions: ['read_file'], max_calls: 1 }] },
  },
});

describe('limitsFor', () => {
  it('returns the session-scoped limits an action counts against, once per id, with the reason', () => {
    expect(policy.limitsFor('anyone', 'read_file')).toEqual([
      { id: 'reads', max: 2, scope: 'session', reason: 'Two reads' },
    ]);
    expect(policy.limitsFor('anyone', 'http.get')).toEqual([{ id: 'limits[1]', max: 3, scope: 'session' }]);
  });

  it('adds the tenant overlay to the base limits', () => {
    expect(
      policy
        .limitsFor('acme-bank', 'read_file')
        .map((limit) => limit.id)
        .sort(),
    ).toEqual(['bank-reads', 'reads']);
  });

  it('returns the same frozen array for the same arguments, and an empty one without limits', () => {
    const first = policy.limitsFor('anyone', 'read_file');
    expect(policy.limitsFor('anyone', 'read_file')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first[0])).toBe(true);
    expect(policy.limitsFor('anyone', 'send_email')).toEqual([]);
    expect(policy.limitsFor('anyone', 42 as unknown as string)).toEqual([]);
  });

  it('leaves evaluate counting session.calls for a caller that sends them', () => {
    const request = { tenant: 'anyone', action: 'read_file', args: {}, provenance: 'USER_TRUSTED' as const };
    expect(policy.evaluate({ ...request, session: { id: 's', calls: { read_file: 2 } } }).decision).toBe(
      'DENY',
    );
    expect(policy.evaluate({ ...request, session: { id: 's' } }).decision).toBe('ALLOW');
  });
});
