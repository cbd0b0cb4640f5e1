import type { ActionRequest, ProvenanceLabel } from '@ape/core';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from './index.js';

const directory = fileURLToPath(new URL('../../../policies/', import.meta.url));

/** A call whose arguments carry the given labels; the call's label is the least trusted of them. */
function labelled(
  action: string,
  args: Record<string, unknown>,
  labels: Record<string, ProvenanceLabel>,
): ActionRequest {
  const rank = { SYSTEM_TRUSTED: 2, USER_TRUSTED: 1, EXTERNAL_UNTRUSTED: 0 } as const;
  const provenance = Object.values(labels).reduce<ProvenanceLabel>(
    (low, label) => (rank[label] < rank[low] ? label : low),
    'SYSTEM_TRUSTED',
  );
  return {
    tenant: 'default',
    action,
    args,
    provenance,
    argLabels: Object.freeze(Object.assign(Object.create(null), labels)),
  };
}

const U = 'USER_TRUSTED';
const X = 'EXTERNAL_UNTRUSTED';
const MAIL = { to: 'boss@example.com', subject: 'Summary', body: 'The page says…' };

// Golden rows for the shipped per-argument policies: (policy, call, labels) → decision and rules.
const GOLDEN: readonly [string, ActionRequest, string, readonly string[]][] = [
  // mail_and_payments.yaml
  [
    'mail_and_payments',
    labelled('send_email', MAIL, { '/to': U, '/subject': X, '/body': X }),
    'ALLOW',
    ['mail-to-user-recipients'],
  ],
  [
    'mail_and_payments',
    labelled('send_email', MAIL, { '/to': X, '/subject': U, '/body': X }),
    'ESCALATE',
    ['mail-to-untrusted-recipient'],
  ],
  [
    'mail_and_payments',
    labelled(
      'send_email',
      { ...MAIL, bcc: ['a@example.com', 'x@evil.example'] },
      { '/to': U, '/bcc/0': U, '/bcc/1': X, '/subject': U, '/body': U },
    ),
    'ESCALATE',
    ['mail-to-untrusted-recipient'],
  ],
  [
    'mail_and_payments',
    labelled(
      'send_payment',
      { iban: 'DE89370400440532013000', amount: 120, memo: 'Invoice 42' },
      { '/iban': U, '/amount': U, '/memo': X },
    ),
    'ALLOW',
    ['pay-user-accounts'],
  ],
  [
    'mail_and_payments',
    labelled(
      'send_payment',
      { iban: 'GB33BUKB20201555555555', amount: 120, memo: 'Invoice 42' },
      { '/iban': X, '/amount': U, '/memo': X },
    ),
    'DENY',
    ['no-payment-to-untrusted-account'],
  ],
  [
    'mail_and_payments',
    labelled(
      'send_payment',
      { iban: 'DE89370400440532013000', amount: 4999, memo: 'x' },
      { '/iban': U, '/amount': X, '/memo': U },
    ),
    'DENY',
    ['no-payment-to-untrusted-account'],
  ],
  ['mail_and_payments', labelled('send_payment', { amount: 10 }, { '/amount': U }), 'DENY', ['default']],
  [
    'mail_and_payments',
    labelled(
      'share_file',
      { path: '/workspace/report.pdf', with: 'boss@example.com', note: 'x' },
      { '/path': U, '/with': U, '/note': X },
    ),
    'ALLOW',
    ['share-user-files'],
  ],
  [
    'mail_and_payments',
    labelled(
      'share_file',
      { path: '/workspace/report.pdf', with: 'x@evil.example' },
      { '/path': U, '/with': X },
    ),
    'DENY',
    ['default'],
  ],
  ['mail_and_payments', labelled('read_email', { id: '1' }, { '/id': X }), 'ALLOW', ['allowed_actions[0]']],
];

describe('per-argument provenance in the shipped policies', () => {
  const policies = new Map(
    ['mail_and_payments'].map((name) => [name, loadPolicy(`${directory}${name}.yaml`)]),
  );

  it.each(GOLDEN.map((row, index) => [index, ...row] as const))(
    'row %i: %s decides as the table says',
    (_index, name, request, decision, rules) => {
      const result = policies.get(name)!.evaluate(request);
      expect({ decision: result.decision, rules: result.rules }).toEqual({ decision, rules });
    },
  );

  it('decides as before for a call without per-argument labels', () => {
    const request = { tenant: 'default', action: 'send_email', args: MAIL, provenance: X } as const;
    expect(policies.get('mail_and_payments')!.evaluate(request).decision).toBe('ESCALATE');
  });
});
