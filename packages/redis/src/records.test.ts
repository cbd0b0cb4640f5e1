import { hashCanonical, StoreUnavailableError } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { decodeRequest, decodeRevocation, decodeSettlement, encodeRecord } from './records.js';

const args = { target: 'production' };
const binding = {
  tenant: 'acme',
  session: 'session-1',
  stepIndex: 2,
  action: 'deploy_production',
  argsHash: hashCanonical(args),
};
const request = {
  ...binding,
  id: 'req-1',
  args,
  provenance: 'USER_TRUSTED',
  decision: { decision: 'ESCALATE', rules: ['human'], reason: 'needs a human', policy: 'sha256:x' },
  expiresAt: 2_000,
  createdAt: 1_000,
};
const answered = {
  state: 'answered',
  id: 'req-1',
  approved: true,
  approver: 'alice',
  provenance: 'USER_TRUSTED',
  reason: 'checked',
  binding,
  settledAt: 1_500,
};
const revocation = {
  target: { tenant: 'acme', session: 'session-1' },
  reason: 'incident',
  revokedBy: 'ops',
  revokedAt: 1_000,
};

/** Runs `decode` and returns the StoreUnavailableError it threw (fails the test if none). */
function refusal(decode: () => unknown): StoreUnavailableError {
  try {
    decode();
  } catch (error) {
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    return error as StoreUnavailableError;
  }
  throw new Error('the malformed record was accepted');
}

describe('decodeRequest', () => {
  it('reads back what was stored, frozen', () => {
    const decoded = decodeRequest('RedisApprovalQueue', 'get', encodeRecord(request), 'req-1');
    expect(decoded).toMatchObject({ id: 'req-1', createdAt: 1_000, action: 'deploy_production' });
    expect(Object.isFrozen(decoded)).toBe(true);
  });

  it.each([
    ['a non-string reply', 42],
    ['text that is not JSON', '{"id":'],
    ['a JSON array', '[1]'],
    ['JSON null', 'null'],
    ['another id', encodeRecord({ ...request, id: 'req-2' })],
    ['a negative createdAt', encodeRecord({ ...request, createdAt: -1 })],
    ['an invalid publication', encodeRecord({ ...request, provenance: 'TRUST_ME' })],
  ])('refuses %s as unavailable (denied), naming store and operation', (_what, text) => {
    const error = refusal(() => decodeRequest('RedisApprovalQueue', 'get', text, 'req-1'));
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.details).toMatchObject({ store: 'RedisApprovalQueue', operation: 'get' });
    expect(error.message).toContain('approval request stored in Redis is malformed');
  });
});

describe('decodeSettlement', () => {
  it('reads back each state', () => {
    expect(decodeSettlement('Q', 'wait', encodeRecord(answered), 'req-1')).toMatchObject({
      state: 'answered',
      approved: true,
      approver: 'alice',
      settledAt: 1_500,
    });
    expect(
      decodeSettlement('Q', 'wait', encodeRecord({ state: 'timeout', id: 'req-1', settledAt: 3 }), 'req-1'),
    ).toEqual({ state: 'timeout', id: 'req-1', settledAt: 3 });
    expect(
      decodeSettlement(
        'Q',
        'wait',
        encodeRecord({ state: 'cancelled', id: 'req-1', reason: 'session_terminated', settledAt: 4 }),
        'req-1',
      ),
    ).toEqual({ state: 'cancelled', id: 'req-1', reason: 'session_terminated', settledAt: 4 });
  });

  it.each([
    ['an unknown state', { ...answered, state: 'approved' }],
    ['another id', { ...answered, id: 'req-2' }],
    ['a fractional settledAt', { ...answered, settledAt: 1.5 }],
    ['an answer without an approver', { ...answered, approver: '' }],
    ['a cancel reason that is not text', { state: 'cancelled', id: 'req-1', reason: 7, settledAt: 4 }],
  ])('refuses %s as unavailable (denied)', (_what, record) => {
    const error = refusal(() => decodeSettlement('Q', 'wait', encodeRecord(record), 'req-1'));
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.message).toContain('approval settlement stored in Redis is malformed');
  });
});

describe('decodeRevocation', () => {
  it('reads back what was stored', () => {
    expect(decodeRevocation('F', 'check', encodeRecord(revocation))).toEqual(revocation);
  });

  it.each([
    ['a target without a tenant', { ...revocation, target: { session: 'session-1' } }],
    ['a missing revokedAt', { ...revocation, revokedAt: undefined }],
    ['a revokedAt that is a string', { ...revocation, revokedAt: '1000' }],
  ])('refuses %s as unavailable (denied)', (_what, record) => {
    const error = refusal(() => decodeRevocation('F', 'check', encodeRecord(record)));
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.message).toContain('revocation stored in Redis is malformed');
  });
});
