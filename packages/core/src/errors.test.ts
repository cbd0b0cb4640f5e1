import { describe, expect, it } from 'vitest';
import {
  ApeError,
  AuthorityExpiredError,
  ClockError,
  IntentError,
  PlanError,
  PolicyDenyError,
  PolicyError,
  ProvenanceError,
  RuntimeStateError,
  StoreUnavailableError,
  TenantIsolationError,
  UnauthorizedActionError,
  EscalationRequiredError,
  InternalError,
  messageOf,
} from './errors.js';

const cases = [
  [IntentError, 'INTENT_INVALID'],
  [PlanError, 'PLAN_INVALID'],
  [PolicyDenyError, 'POLICY_DENY'],
  [PolicyError, 'POLICY_INVALID'],
  [EscalationRequiredError, 'ESCALATION_REQUIRED'],
  [AuthorityExpiredError, 'AUTHORITY_EXPIRED'],
  [UnauthorizedActionError, 'UNAUTHORIZED_ACTION'],
  [RuntimeStateError, 'RUNTIME_STATE'],
  [ProvenanceError, 'PROVENANCE'],
  [TenantIsolationError, 'TENANT_MISMATCH'],
  [ClockError, 'CLOCK_INVALID'],
  [InternalError, 'INTERNAL'],
  [StoreUnavailableError, 'STORE_UNAVAILABLE'],
] as const;

describe('typed errors', () => {
  it.each(cases)('%o carries the stable code %s and its own name', (ErrorClass, code) => {
    const error = new ErrorClass('something failed', { step: 2 });
    expect(error.code).toBe(code);
    expect(ErrorClass.CODE).toBe(code);
    expect(error.name).toBe(ErrorClass.name);
    expect(error).toBeInstanceOf(ApeError);
    expect(error).toBeInstanceOf(Error);
    expect(error.details).toEqual({ step: 2 });
    expect(Object.isFrozen(error.details)).toBe(true);
  });

  it('recognises errors by brand, also a copy from another package instance', () => {
    const foreign = Object.assign(new Error('x'), { code: 'PLAN_INVALID' });
    Object.defineProperty(foreign, Symbol.for('ape.error'), { value: true });
    expect(ApeError.isInstance(foreign)).toBe(true);
    expect(PlanError.isInstance(foreign)).toBe(true);
    expect(IntentError.isInstance(foreign)).toBe(false);
  });

  it('does not recognise look-alikes without the brand', () => {
    expect(ApeError.isInstance({ code: 'PLAN_INVALID', message: 'x' })).toBe(false);
    expect(ApeError.isInstance(new Error('x'))).toBe(false);
    expect(ApeError.isInstance(null)).toBe(false);
    expect(ApeError.isInstance('PLAN_INVALID')).toBe(false);
  });

  it('serialises to JSON without a stack trace', () => {
    const error = new PolicyDenyError('denied', { rules: ['r1'] }, { cause: new Error('inner') });
    const json = JSON.parse(JSON.stringify(error));
    expect(json).toEqual({
      name: 'PolicyDenyError',
      code: 'POLICY_DENY',
      message: 'denied',
      details: { rules: ['r1'] },
    });
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('reads the message of an Error and stringifies anything else', () => {
    expect(messageOf(new InternalError('solver down'))).toBe('solver down');
    expect(messageOf('plain text')).toBe('plain text');
    expect(messageOf(42)).toBe('42');
  });
});
