import { describe, expect, it } from 'vitest';
import { runAuditSinkContract } from '../contracts/audit-sink-contract.js';
import { createInMemoryAuditSink } from './in-memory-audit-sink.js';

runAuditSinkContract('createInMemoryAuditSink', () => createInMemoryAuditSink(), {
  read: (sink) => sink.events,
});

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

  it('refuses data that is not plain JSON with AUDIT_FAILURE, recording nothing', () => {
    const sink = createInMemoryAuditSink();
    expect(() =>
      sink.append({ type: 'decision.made', tenant: 't', session: 's', time: 1, data: { n: Number.NaN } }),
    ).toThrow(expect.objectContaining({ code: 'AUDIT_FAILURE' }));
    expect(sink.events).toEqual([]);
  });

  it('reads back frozen copies: changing what append was given changes nothing recorded', () => {
    const sink = createInMemoryAuditSink();
    const data = { rules: ['a'], nested: { x: 1 } };
    sink.append({ type: 'decision.made', tenant: 't', session: 's', time: 1, data });
    data.rules.push('b');
    data.nested.x = 2;
    const [event] = sink.events;
    expect(event?.data).toEqual({ rules: ['a'], nested: { x: 1 } });
    expect(Object.isFrozen(event?.data['nested'])).toBe(true);
  });

  it('keeps an event whose data is frozen as given (the runtime hands over what it froze)', () => {
    const sink = createInMemoryAuditSink();
    const data = Object.freeze({ decision: 'ALLOW' });
    sink.append({ type: 'decision.made', tenant: 't', session: 's', time: 1, data });
    expect(sink.events[0]?.data).toBe(data);
    expect(Object.isFrozen(sink.events[0])).toBe(true);
  });
});
