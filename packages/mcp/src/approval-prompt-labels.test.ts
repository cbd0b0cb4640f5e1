import type { EscalationRequest } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { approvalPrompt } from './approval-prompt.js';

const REQUEST: EscalationRequest = {
  tenant: 't',
  session: 's',
  stepIndex: 0,
  action: 'send_email',
  args: { to: 'x@evil.example', body: 'hi', 'evil\u202e': 1 },
  provenance: 'EXTERNAL_UNTRUSTED',
  argLabels: Object.freeze({
    '/to': 'EXTERNAL_UNTRUSTED',
    '/body': 'EXTERNAL_UNTRUSTED',
    '/evil\u202e': 'USER_TRUSTED',
  }),
  decision: { decision: 'ESCALATE', rules: ['r'], reason: 'Recipient from a page.', policy: 'p' },
};

describe('approvalPrompt with per-argument labels', () => {
  it('shows each argument’s label by pointer, sorted, with the pointer escaped', () => {
    const prompt = approvalPrompt(REQUEST);
    expect(prompt.ok).toBe(true);
    const message = prompt.ok ? prompt.message : '';
    expect(message).toContain(
      [
        'Provenance of each argument:',
        '  "/body": EXTERNAL_UNTRUSTED',
        '  "/evil\\u202e": USER_TRUSTED',
        '  "/to": EXTERNAL_UNTRUSTED',
      ].join('\n'),
    );
    expect(message).not.toContain('\u202e');
  });

  it('adds no section when the call carries no per-argument labels', () => {
    const { argLabels: _none, ...plain } = REQUEST;
    const prompt = approvalPrompt(plain);
    expect(prompt.ok && prompt.message.includes('Provenance of each argument')).toBe(false);
  });
});
