import {
  ApeError,
  AuditError,
  AuthorityExpiredError,
  ClockError,
  EscalationDeniedError,
  IntentError,
  PlanError,
  PolicyDenyError,
  RuntimeStateError,
  UnauthorizedActionError,
} from '@ape/core';
import { loadPolicy } from '@ape/policy';
import { describe, expect, it } from 'vitest';
import { describeRules, mechanismOf, ruleKindsOf } from './mechanism.js';

const policy = loadPolicy({
  text: [
    'version: 1',
    'allowed_actions: [read_file]',
    'rules:',
    '  - { id: no-untrusted-send, actions: [send_email], effect: deny, when: { provenance: [EXTERNAL_UNTRUSTED] } }',
    'tool_transitions: { read_file: [read_file] }',
    'limits: [{ id: reads, actions: [read_file], max_calls: 3 }]',
  ].join('\n'),
});
const kinds = ruleKindsOf(policy);

describe('mechanismOf', () => {
  it('labels rules by kind: provenance, transition, limit, list entries, default and intent', () => {
    expect(describeRules(['no-untrusted-send'], kinds)).toBe('provenance:no-untrusted-send');
    expect(describeRules(['tool_transitions.read_file'], kinds)).toBe(
      'transition:tool_transitions.read_file',
    );
    expect(describeRules(['reads'], kinds)).toBe('limit:reads');
    expect(describeRules(['allowed_actions[0]'], kinds)).toBe('policy:allowed_actions[0]');
    expect(describeRules(['default'], kinds)).toBe('policy:default-deny');
    expect(describeRules(['intent.forbidden_actions'], kinds)).toBe('intent:forbidden_actions');
    expect(describeRules([], kinds)).toBe('policy');
  });

  it('names token, state, escalation, audit and fail-closed refusals', () => {
    expect(mechanismOf(new UnauthorizedActionError('x', { field: 'argsHash' }), kinds)).toBe(
      'token:binding:argsHash',
    );
    expect(mechanismOf(new UnauthorizedActionError('x', { field: 'token', reason: 'replay' }), kinds)).toBe(
      'token:replay',
    );
    expect(mechanismOf(new AuthorityExpiredError('x'), kinds)).toBe('token:expired');
    expect(mechanismOf(new ClockError('x'), kinds)).toBe('fail-closed:CLOCK_INVALID');
    expect(mechanismOf(new RuntimeStateError('x'), kinds)).toBe('state-machine');
    expect(mechanismOf(new EscalationDeniedError('x', { reason: 'timeout' }), kinds)).toBe(
      'escalation:timeout',
    );
    expect(mechanismOf(new AuditError('x'), kinds)).toBe('fail-closed:audit');
    expect(mechanismOf(new IntentError('x'), kinds)).toBe('intent:invalid');
    expect(mechanismOf(new PlanError('x', { rules: ['reads'] }), kinds)).toBe('plan:limit:reads');
    expect(mechanismOf(new PlanError('x'), kinds)).toBe('plan:invalid');
    expect(mechanismOf(new PolicyDenyError('x', { code: 'CLOCK_FAILURE' }), kinds)).toBe(
      'fail-closed:CLOCK_FAILURE',
    );
    expect(
      mechanismOf(new PolicyDenyError('x', { code: 'USAGE_STORE_FAILURE', rules: ['reads'] }), kinds),
    ).toBe('fail-closed:USAGE_STORE_FAILURE');
    expect(
      mechanismOf(new PolicyDenyError('x', { code: 'USAGE_SCOPE_MISSING', rules: ['reads'] }), kinds),
    ).toBe('fail-closed:USAGE_SCOPE_MISSING');
    expect(mechanismOf(new ApeError('INTERNAL', 'x'), kinds)).toBe('error:INTERNAL');
  });

  it('returns undefined for an untyped error, which the battery reports as a failure', () => {
    expect(mechanismOf(new TypeError('boom'), kinds)).toBeUndefined();
    expect(mechanismOf('text', kinds)).toBeUndefined();
  });

  it('reads no kinds from an evaluator without explain', () => {
    expect(ruleKindsOf({ evaluate: () => undefined }).size).toBe(0);
    expect(
      ruleKindsOf({
        explain: () => {
          throw new Error('x');
        },
      }).size,
    ).toBe(0);
  });
});
