import { describe, expect, it } from 'vitest';
import { createInMemoryAuditSink } from './in-memory-audit-sink.js';

describe('createInMemoryAuditSink', () => {
  it('refuses an append after close with AUDIT_FAILURE naming the event type, and keeps the events', async () => {
    const sink = createInMemoryAuditSink();
    sink.append({ type: 'session.created', tenant: 't', session: 's', time: 1, data: {} });
    await sink.close();
    expect(() =>
      sink.append({ type: 'decision.made', tenant: 't', session: 's', time: 2, data: {} }),
    ).toThrow(expect.objectContaining({ code: 'AUDIT_FAILURE', details: { event: 'decision.made' } }));
    expect(sink.events.map((event) => event.type)).toEqual(['session.created']);
  });
});
