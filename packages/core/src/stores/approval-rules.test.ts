import { describe, expect, it } from 'vitest';
import {
  answeredSettlement,
  checkApprovalAnswer,
  checkApprovalBinding,
  checkApprovalPublication,
  checkCancelReason,
  findApprovalBindingMismatch,
} from './approval-rules.js';

const binding = {
  tenant: 'acme',
  session: 'session-1',
  stepIndex: 2,
  action: 'send_email',
  argsHash: 'a'.repeat(64),
};
const publication = {
  ...binding,
  args: { to: 'bob@example.com' },
  provenance: 'USER_TRUSTED',
  decision: { decision: 'ESCALATE', rules: ['r'], reason: 'needs a human', policy: 'sha256:x' },
  expiresAt: 1_000,
};
const answer = { approved: true, approver: 'alice', provenance: 'USER_TRUSTED', binding };

function refusal(check: () => unknown): { code: string; field: unknown; message: string } {
  try {
    check();
  } catch (error) {
    const { code, details, message } = error as {
      code: string;
      details: { field: unknown };
      message: string;
    };
    return { code, field: details.field, message };
  }
  throw new Error('expected the value to be refused');
}

describe('checkApprovalBinding', () => {
  it('returns a frozen copy with only the binding fields', () => {
    const copy = checkApprovalBinding('queue.publish', { ...binding, extra: true });
    expect(copy).toEqual(binding);
    expect(Object.isFrozen(copy)).toBe(true);
  });

  it('refuses a non-object with ARGS_INVALID, naming the prefix when one is given', () => {
    expect(refusal(() => checkApprovalBinding('queue.publish', null))).toEqual({
      code: 'ARGS_INVALID',
      field: 'binding',
      message: 'queue.publish: "binding" must be an object.',
    });
    expect(refusal(() => checkApprovalBinding('queue.answer', 'x', 'binding.')).field).toBe('binding.');
  });

  it.each([
    ['stepIndex', -1],
    ['stepIndex', 1.5],
    ['stepIndex', '2'],
    ['argsHash', 'A'.repeat(64)],
    ['tenant', ''],
    ['session', '   '],
    ['action', 'x'.repeat(1_001)],
    ['action', 7],
  ])('refuses %s = %j with ARGS_INVALID naming the prefixed field', (field, value) => {
    expect(
      refusal(() => checkApprovalBinding('w', { ...binding, [field]: value }, 'binding.')),
    ).toMatchObject({
      code: 'ARGS_INVALID',
      field: `binding.${field}`,
    });
  });
});

describe('findApprovalBindingMismatch', () => {
  it('names the first differing field, or nothing for the same call', () => {
    expect(findApprovalBindingMismatch(binding, { ...binding })).toBeUndefined();
    expect(findApprovalBindingMismatch(binding, { ...binding, stepIndex: 3 })).toBe('stepIndex');
    expect(findApprovalBindingMismatch(binding, { ...binding, argsHash: 'b'.repeat(64), action: 'x' })).toBe(
      'action',
    );
  });
});

describe('checkApprovalPublication', () => {
  it('returns a deep-frozen copy the caller cannot change afterwards', () => {
    const input = structuredClone(publication);
    const copy = checkApprovalPublication('queue.publish', input);
    input.args.to = 'mallory@evil.example';
    expect(copy.args).toEqual({ to: 'bob@example.com' });
    expect(Object.isFrozen(copy.args)).toBe(true);
    expect(Object.isFrozen(copy.decision)).toBe(true);
  });

  it('keeps a copy of each argument label by JSON pointer, and none when the publication has none', () => {
    const labels = { '/to': 'USER_TRUSTED', '/body': 'EXTERNAL_UNTRUSTED', '/__proto__': 'USER_TRUSTED' };
    const copy = checkApprovalPublication('queue.publish', { ...publication, argLabels: labels });
    labels['/to'] = 'EXTERNAL_UNTRUSTED';
    expect(copy.argLabels).toEqual({
      '/to': 'USER_TRUSTED',
      '/body': 'EXTERNAL_UNTRUSTED',
      '/__proto__': 'USER_TRUSTED',
    });
    expect(Object.getPrototypeOf(copy.argLabels)).toBe(Object.prototype);
    expect(Object.isFrozen(copy.argLabels)).toBe(true);
    expect('argLabels' in checkApprovalPublication('queue.publish', publication)).toBe(false);
  });

  it.each([
    ['args', null],
    ['args', []],
    ['args', 'text'],
    ['provenance', 'ROOT'],
    ['expiresAt', -1],
    ['expiresAt', 1.5],
    ['expiresAt', '1000'],
    ['decision', null],
    ['decision', 'ALLOW'],
    ['argLabels', 'USER_TRUSTED'],
    ['argLabels', ['USER_TRUSTED']],
    ['argLabels', { to: 'USER_TRUSTED' }],
    ['argLabels', { '/to': 'ROOT' }],
  ])('refuses %s = %j with ARGS_INVALID naming the field', (field, value) => {
    expect(refusal(() => checkApprovalPublication('p', { ...publication, [field]: value }))).toMatchObject({
      code: 'ARGS_INVALID',
      field,
    });
  });
});

describe('checkApprovalAnswer and answeredSettlement', () => {
  it('keeps a reason when given and leaves it out when not', () => {
    expect(checkApprovalAnswer('a', { ...answer, reason: 'looks fine' }).reason).toBe('looks fine');
    const bare = checkApprovalAnswer('a', answer);
    expect(bare).not.toHaveProperty('reason');
    const settled = answeredSettlement('id-1', bare, 5);
    expect(settled).toEqual({
      state: 'answered',
      id: 'id-1',
      approved: true,
      approver: 'alice',
      provenance: 'USER_TRUSTED',
      binding,
      settledAt: 5,
    });
    expect(answeredSettlement('id-2', { ...bare, reason: 'ok' }, 6)).toMatchObject({ reason: 'ok' });
  });

  it.each([
    ['answer', null],
    ['approved', 'yes'],
    ['approver', ''],
    ['provenance', undefined],
    ['reason', ''],
    ['binding.', 7],
    ['binding.session', { ...binding, session: '' }],
  ])('refuses a bad %s with ARGS_INVALID naming it', (field, value) => {
    const input =
      field === 'answer'
        ? value
        : field.startsWith('binding.')
          ? { ...answer, binding: value }
          : { ...answer, [field]: value };
    expect(refusal(() => checkApprovalAnswer('a', input))).toMatchObject({ code: 'ARGS_INVALID', field });
  });

  it('refuses an empty cancellation reason and returns a good one', () => {
    expect(checkCancelReason('c', 'timed out')).toBe('timed out');
    expect(refusal(() => checkCancelReason('c', ' '))).toMatchObject({
      code: 'ARGS_INVALID',
      field: 'reason',
    });
  });
});
