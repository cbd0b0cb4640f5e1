import { describe, expect, it } from 'vitest';
import { createDenyAllEscalationHandler } from './deny-all-escalation-handler.js';
import { createInMemoryAuditSink } from './in-memory-audit-sink.js';

const request = {
  tenant: 'acme',
  session: 's',
  stepIndex: 0,
  action: 'deploy',
  args: {},
  provenance: 'USER_TRUSTED',
  decision: { decision: 'ESCALATE', rules: [], reason: 'r', policy: 'p' },
} as const;

describe('createDenyAllEscalationHandler', () => {
  it('denies every request as approver deny-all', async () => {
    const handler = createDenyAllEscalationHandler();
    const answer = await handler.requestApproval(request, new AbortController().signal);
    expect(answer).toMatchObject({ approved: false, approver: 'deny-all', provenance: 'SYSTEM_TRUSTED' });
    expect(Object.isFrozen(answer)).toBe(true);
  });

  it('records a custom reason with line breaks and bidi overrides escaped, cut to 300 characters', async () => {
    const handler = createDenyAllEscalationHandler({
      reason: `approvals are off\n\u202eduring ${'x'.repeat(400)}`,
    });
    const answer = await handler.requestApproval(request, new AbortController().signal);
    expect(answer.approved).toBe(false);
    expect(answer.reason?.startsWith('approvals are off\\n\\u202eduring')).toBe(true);
    expect(answer.reason).toMatch(/more characters\)$/);
  });
});

describe('createInMemoryAuditSink', () => {
  const event = { type: 'session.created', tenant: 'acme', session: 's', time: 1, data: {} } as const;

  it('keeps appended events in order', async () => {
    const sink = createInMemoryAuditSink();
    sink.append(event);
    sink.append({ ...event, type: 'intent.set' });
    await sink.flush();
    expect(sink.events.map((item) => item.type)).toEqual(['session.created', 'intent.set']);
  });

  it('refuses appends after close with AUDIT_FAILURE', async () => {
    const sink = createInMemoryAuditSink();
    await sink.close();
    expect(() => sink.append(event)).toThrow(expect.objectContaining({ code: 'AUDIT_FAILURE' }));
  });
});
