import { fileURLToPath } from 'node:url';
import { AuthorityManager } from '@ape/authority';
import { ApeError, createRuntime, type EscalationRequest } from '@ape/core';
import { createRecordingAuditSink, createScriptedEscalationHandler, FakeClock } from '@ape/core/testing';
import { loadPolicy } from '@ape/policy';
import { tainted } from '@ape/provenance';
import { describe, expect, it, vi } from 'vitest';

// Issue 24, done when: "summarise this page and e-mail it to my manager" is allowed with the shipped
// mail_and_payments policy, in calls mode and plan mode, through the real runtime, policy and
// authority from their built packages; the attack variant (recipient from the page) is escalated and
// refused, and its tool spy is never called.

const policy = loadPolicy(fileURLToPath(new URL('../../policies/mail_and_payments.yaml', import.meta.url)));
const PAGE = 'https://news.example/article';
const SUMMARY = 'The article, summarised.';
const INTENT = { allowed_actions: ['send_email', 'send_payment'], forbidden_actions: [], scope: 'mail' };

function session() {
  const clock = new FakeClock();
  const audit = createRecordingAuditSink();
  const escalation = createScriptedEscalationHandler([
    { approved: false, approver: 'manager', provenance: 'USER_TRUSTED' },
  ]);
  const runtime = createRuntime({
    tenant: 'acme',
    policy,
    authority: new AuthorityManager({ tenant: 'acme', clock }),
    audit,
    clock,
    escalation,
  });
  return { runtime, audit, escalation };
}

async function refusal(promise: Promise<unknown>): Promise<ApeError> {
  try {
    await promise;
  } catch (error) {
    if (ApeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('per-argument provenance end to end (library)', () => {
  it('calls mode: mails the page’s summary to the user’s recipient, escalates the page’s recipient', async () => {
    const { runtime, audit, escalation } = session();
    await runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    const legitimate = vi.fn(() => 'sent');
    const result = await runtime.call('send_email', legitimate, {
      args: {
        to: 'manager@example.com',
        subject: 'Summary',
        body: tainted(SUMMARY, 'EXTERNAL_UNTRUSTED', PAGE),
      },
      provenance: 'USER_TRUSTED',
    });
    expect(result.value).toBe('sent');
    expect(legitimate).toHaveBeenCalledWith({ to: 'manager@example.com', subject: 'Summary', body: SUMMARY });

    const attack = vi.fn(() => 'sent');
    const error = await refusal(
      runtime.call('send_email', attack, {
        args: {
          to: tainted('attacker@evil.example', 'EXTERNAL_UNTRUSTED', PAGE),
          subject: 'Summary',
          body: SUMMARY,
        },
        provenance: 'USER_TRUSTED',
      }),
    );
    expect(error.code).toBe('ESCALATION_DENIED');
    expect(attack).not.toHaveBeenCalled();
    const request = escalation.requests[0] as EscalationRequest;
    expect(request.decision.rules).toEqual(['mail-to-untrusted-recipient']);
    expect({ ...request.argLabels }).toEqual({
      '/to': 'EXTERNAL_UNTRUSTED',
      '/subject': 'USER_TRUSTED',
      '/body': 'USER_TRUSTED',
    });
    const decisions = audit.events
      .filter((event) => event.type === 'decision.made')
      .map((event) => [event.data['decision'], event.data['argLabels']]);
    expect(decisions).toEqual([
      ['ALLOW', { '/to': 'USER_TRUSTED', '/subject': 'USER_TRUSTED', '/body': 'EXTERNAL_UNTRUSTED' }],
      ['ESCALATE', { '/to': 'EXTERNAL_UNTRUSTED', '/subject': 'USER_TRUSTED', '/body': 'USER_TRUSTED' }],
    ]);
  });

  it('plan mode: the payment to the user’s IBAN runs with an untrusted memo; an IBAN from the page is denied', async () => {
    const { runtime } = session();
    await runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await runtime.submitPlan(
      { steps: [{ action_id: 'send_payment' }, { action_id: 'send_payment' }] },
      { provenance: 'USER_TRUSTED' },
    );
    const pay = vi.fn(() => 'paid');
    await runtime.executeStep(0, pay, {
      args: {
        iban: 'DE89370400440532013000',
        amount: 120,
        memo: tainted('Invoice 42', 'EXTERNAL_UNTRUSTED', PAGE),
      },
      provenance: 'USER_TRUSTED',
    });
    expect(pay).toHaveBeenCalledTimes(1);
    const attack = vi.fn(() => 'paid');
    const error = await refusal(
      runtime.executeStep(1, attack, {
        args: {
          iban: tainted('GB33BUKB20201555555555', 'EXTERNAL_UNTRUSTED', PAGE),
          amount: 120,
          memo: 'Invoice 42',
        },
        provenance: 'USER_TRUSTED',
      }),
    );
    expect(error.code).toBe('POLICY_DENY');
    expect(error.details['rules']).toEqual(['no-payment-to-untrusted-account']);
    expect(attack).not.toHaveBeenCalled();
  });
});
