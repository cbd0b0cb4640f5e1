import type { PendingApproval } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { argumentHref, argumentLabels, pointerToken } from './approvals.js';

function request(extra: Record<string, unknown> = {}): PendingApproval {
  return {
    id: 'acme/1',
    tenant: 'acme',
    session: 's',
    stepIndex: 0,
    action: 'send_email',
    argsHash: 'a'.repeat(64),
    args: { to: 'cfo@example.com', body: { text: 'hi' }, 'a/b': 1 },
    provenance: 'EXTERNAL_UNTRUSTED',
    decision: { decision: 'ESCALATE', rules: ['r'], reason: 'why', policy: 'p' },
    expiresAt: 2,
    createdAt: 1,
    ...extra,
  } as PendingApproval;
}

describe('argument labels', () => {
  it("shows the call's label for every argument when the request has no per-argument labels", () => {
    expect(argumentLabels(request(), 'to')).toEqual(['EXTERNAL_UNTRUSTED']);
  });

  it('shows each argument its own labels from argLabels (every leaf at or below it)', () => {
    const labelled = request({
      argLabels: {
        '/to': 'USER_TRUSTED',
        '/body/text': 'EXTERNAL_UNTRUSTED',
        '/body/sig': 'SYSTEM_TRUSTED',
        '/a~1b': 'USER_TRUSTED',
      },
    });
    expect(argumentLabels(labelled, 'to')).toEqual(['USER_TRUSTED']);
    expect(argumentLabels(labelled, 'body')).toEqual(['EXTERNAL_UNTRUSTED', 'SYSTEM_TRUSTED']);
    expect(argumentLabels(labelled, 'a/b')).toEqual(['USER_TRUSTED']);
    expect(argumentLabels(labelled, 'unlabelled')).toEqual(['EXTERNAL_UNTRUSTED']);
  });

  it('does not confuse an argument with another whose name it prefixes', () => {
    expect(argumentLabels(request({ argLabels: { '/toolong': 'USER_TRUSTED' } }), 'to')).toEqual([
      'EXTERNAL_UNTRUSTED',
    ]);
  });

  it('escapes ~ and / in pointer tokens (RFC 6901)', () => {
    expect(pointerToken('a~/b')).toBe('a~0~1b');
  });

  it('links "show all" with the id and name encoded, never as a scheme', () => {
    expect(argumentHref('acme/1', 'javascript:alert(1)')).toBe(
      '/approvals/value?id=acme%2F1&arg=javascript%3Aalert(1)',
    );
  });
});
