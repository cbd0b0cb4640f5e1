import type { EscalationRequest } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { formatRequest, summariseArgumentLabels } from './display.js';

describe('per-argument labels on the terminal', () => {
  it('lists each argument’s label by pointer, sorted and escaped', () => {
    expect(
      summariseArgumentLabels(
        Object.freeze({ '/to': 'USER_TRUSTED', '/body\u001b[2J': 'EXTERNAL_UNTRUSTED' }),
      ),
    ).toEqual(['/body\\x1b[2J: EXTERNAL_UNTRUSTED', '/to: USER_TRUSTED']);
  });

  it('counts the labels past the twentieth', () => {
    const labels = Object.fromEntries(
      Array.from({ length: 25 }, (_, index) => [`/a${String(index).padStart(2, '0')}`, 'USER_TRUSTED']),
    );
    const lines = summariseArgumentLabels(labels as EscalationRequest['argLabels']);
    expect(lines).toHaveLength(21);
    expect(lines.at(-1)).toBe('… and 5 more');
  });

  it('shows the labels under the provenance line of the approval block, and nothing without them', () => {
    const request: EscalationRequest = {
      tenant: 't',
      session: 's',
      stepIndex: 0,
      action: 'send_email',
      args: { to: 'x@evil.example' },
      provenance: 'EXTERNAL_UNTRUSTED',
      argLabels: Object.freeze({ '/to': 'EXTERNAL_UNTRUSTED' }),
      decision: { decision: 'ESCALATE', rules: ['r'], reason: 'why', policy: 'p' },
    };
    expect(formatRequest(request)).toContain(
      'provenance: EXTERNAL_UNTRUSTED\n  /to: EXTERNAL_UNTRUSTED\nrules:',
    );
    const { argLabels: _none, ...plain } = request;
    expect(formatRequest(plain)).toContain('provenance: EXTERNAL_UNTRUSTED\nrules:');
  });
});
