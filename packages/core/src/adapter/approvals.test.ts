import { describe, expect, it } from 'vitest';
import { hashCanonical } from '../canonical-json.js';
import { createStubPolicy } from '../testing/stub-policy.js';
import {
  answerOfRecorded,
  checkHumanAnswer,
  escalationResultOf,
  type HumanAnswer,
  hashOfInput,
  MAX_PENDING_APPROVALS,
  type PredictedCall,
  predictEscalation,
  rememberPending,
  sameInputHash,
} from './approvals.js';

describe('hashOfInput and sameInputHash', () => {
  it('hashes the canonical form of an object, and of anything else as an empty object', () => {
    expect(hashOfInput({ b: 1, a: 2 })).toBe(hashCanonical({ a: 2, b: 1 }));
    expect(hashOfInput('text')).toBe(hashCanonical({}));
  });

  it('gives no hash for input that is not JSON, and no hash matches anything', () => {
    expect(hashOfInput({ when: new Date(0) })).toBeUndefined();
    expect(sameInputHash(undefined, undefined)).toBe(false);
    expect(sameInputHash('a', 'a')).toBe(true);
    expect(sameInputHash('a', 'b')).toBe(false);
  });
});

describe('checkHumanAnswer', () => {
  it('accepts an approver with or without a reason', () => {
    expect(() => checkHumanAnswer({ approver: 'alice' })).not.toThrow();
    expect(() => checkHumanAnswer({ approver: 'alice', reason: 'ok' })).not.toThrow();
  });

  it.each([
    ['approver', null],
    ['approver', { approver: '' }],
    ['approver', { approver: 7 }],
    ['reason', { approver: 'alice', reason: 7 }],
  ])('refuses a malformed answer with CONFIG_INVALID (%s)', (field, answer) => {
    expect(() => checkHumanAnswer(answer as unknown as HumanAnswer)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field } }),
    );
  });
});

describe('escalationResultOf', () => {
  it("returns the human's answer as USER_TRUSTED", async () => {
    await expect(
      escalationResultOf('ape-test', undefined, { approved: true, approver: 'alice', reason: 'fine' }),
    ).resolves.toEqual({ approved: true, approver: 'alice', provenance: 'USER_TRUSTED', reason: 'fine' });
    await expect(
      escalationResultOf('ape-test', undefined, { approved: false, approver: 'bob' }),
    ).resolves.toEqual({ approved: false, approver: 'bob', provenance: 'USER_TRUSTED' });
  });

  it('denies as the adapter when there is a refusal or no answer', async () => {
    await expect(
      escalationResultOf('ape-test', 'another call', { approved: true, approver: 'alice' }),
    ).resolves.toEqual({
      approved: false,
      approver: 'ape-test',
      provenance: 'SYSTEM_TRUSTED',
      reason: 'another call',
    });
    await expect(escalationResultOf('ape-test', undefined, undefined)).resolves.toMatchObject({
      approved: false,
      reason: 'no answer.',
    });
  });
});

describe('answerOfRecorded', () => {
  const recorded = {
    action: 'send_email',
    argsHash: hashOfInput({ to: 'a' }),
    answer: { approved: true, approver: 'alice' },
  };

  it('approves only the exact call that was escalated', async () => {
    await expect(
      answerOfRecorded('ape-test', recorded, { action: 'send_email', args: { to: 'a' } }, 'none'),
    ).resolves.toMatchObject({ approved: true, approver: 'alice' });
    await expect(
      answerOfRecorded('ape-test', recorded, { action: 'send_email', args: { to: 'b' } }, 'none'),
    ).resolves.toMatchObject({
      approved: false,
      approver: 'ape-test',
      reason: expect.stringMatching(/another call/),
    });
    await expect(
      answerOfRecorded('ape-test', recorded, { action: 'delete_file', args: { to: 'a' } }, 'none'),
    ).resolves.toMatchObject({ approved: false, approver: 'ape-test' });
  });

  it('denies with the given reason when no answer was recorded', async () => {
    await expect(
      answerOfRecorded(
        'ape-test',
        { ...recorded, answer: undefined },
        { action: 'send_email', args: { to: 'a' } },
        'answer with thread.approve',
      ),
    ).resolves.toMatchObject({ approved: false, reason: 'answer with thread.approve' });
  });
});

describe('rememberPending', () => {
  it('keeps at most MAX_PENDING_APPROVALS, dropping the oldest', () => {
    const pending = new Map<string, number>();
    for (let index = 0; index <= MAX_PENDING_APPROVALS; index++) rememberPending(pending, `c${index}`, index);
    expect(pending.size).toBe(MAX_PENDING_APPROVALS);
    expect(pending.has('c0')).toBe(false);
    expect(pending.get(`c${MAX_PENDING_APPROVALS}`)).toBe(MAX_PENDING_APPROVALS);
  });
});

describe('predictEscalation', () => {
  const call = (patch: Partial<PredictedCall> = {}): PredictedCall => ({
    tenant: 'acme',
    action: 'send_email',
    args: { to: 'a' },
    provenance: 'USER_TRUSTED',
    sessionId: 'pending',
    previousAction: undefined,
    intent: { allowed_actions: ['send_email', 'read_file'], forbidden_actions: [] },
    ...patch,
  });

  it('predicts the escalation the policy answers, with its reason and rules', () => {
    const policy = createStubPolicy({ decisions: { send_email: 'ESCALATE' } });
    expect(predictEscalation(policy, call({ previousAction: 'read_file' }))).toMatchObject({
      decision: 'ESCALATE',
      rules: ['stub:send_email'],
    });
    expect(policy.requests[0]?.session).toEqual({ id: 'pending', previousAction: 'read_file' });
  });

  it('predicts an escalation the intent requires of an allowed call', () => {
    const policy = createStubPolicy({ decisions: { send_email: 'ALLOW' } });
    const intent = {
      allowed_actions: ['send_email'],
      forbidden_actions: [],
      escalation_required: ['send_email'],
    };
    expect(predictEscalation(policy, call({ intent }))?.decision).toBe('ALLOW');
    expect(predictEscalation(policy, call())).toBeUndefined();
  });

  it('predicts none for a call the policy denies or the intent leaves out or forbids, without asking the policy then', () => {
    const policy = createStubPolicy({ decisions: { send_email: 'DENY' } });
    expect(predictEscalation(policy, call())).toBeUndefined();
    const asked = policy.requests.length;
    expect(predictEscalation(policy, call({ action: 'deploy' }))).toBeUndefined();
    expect(
      predictEscalation(
        policy,
        call({ intent: { allowed_actions: ['send_email'], forbidden_actions: ['send_email'] } }),
      ),
    ).toBeUndefined();
    expect(policy.requests.length).toBe(asked);
  });

  it('does not ask the policy when its mayEscalate says the action never escalates, unless the intent requires it', () => {
    const stub = createStubPolicy({ decisions: { send_email: 'ESCALATE' } });
    const policy = { ...stub, evaluate: stub.evaluate, mayPermit: stub.mayPermit, mayEscalate: () => false };
    expect(predictEscalation(policy, call())).toBeUndefined();
    expect(stub.requests.length).toBe(0);
    const intent = {
      allowed_actions: ['send_email'],
      forbidden_actions: [],
      escalation_required: ['send_email'],
    };
    expect(predictEscalation(policy, call({ intent }))?.decision).toBe('ESCALATE');
    expect(stub.requests.length).toBe(1);
  });

  it('computes a provenance given as a function only when it asks the policy, and passes its label on', () => {
    const stub = createStubPolicy({ decisions: { send_email: 'ESCALATE' } });
    const never = { ...stub, evaluate: stub.evaluate, mayPermit: stub.mayPermit, mayEscalate: () => false };
    let computed = 0;
    const provenance = () => {
      computed += 1;
      return 'EXTERNAL_UNTRUSTED' as const;
    };
    expect(predictEscalation(never, call({ provenance }))).toBeUndefined();
    expect(computed).toBe(0);
    expect(predictEscalation(stub, call({ provenance }))?.decision).toBe('ESCALATE');
    expect(computed).toBe(1);
    expect(stub.requests[0]?.provenance).toBe('EXTERNAL_UNTRUSTED');
  });
});
