import { describe, expect, it } from 'vitest';
import { runAuditSinkContract } from '../contracts/audit-sink-contract.js';
import type { AuditEvent } from '../types.js';
import { createNotingAuditSink, INTENT, setup } from './__fixtures__/runtime-setup.js';
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

  it("keeps the runtime's own events as they are, and copies any other frozen event", async () => {
    const sink = createInMemoryAuditSink();
    const { sink: front, handed } = createNotingAuditSink({ next: sink });
    const { runtime, tool } = setup({ audit: front });
    await runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await runtime.call('read_file', tool, { args: { path: '/workspace/a.txt' }, provenance: 'USER_TRUSTED' });
    expect(handed.length).toBeGreaterThan(3);
    expect(sink.events).toHaveLength(handed.length);
    for (const [index, event] of handed.entries()) expect(sink.events[index]).toBe(event);
    // The last event appended again, after the runtime's append ended, is kept as any other: a copy.
    const again = handed[handed.length - 1] as AuditEvent;
    sink.append(again);
    const copy = sink.events[handed.length];
    expect(copy).not.toBe(again);
    expect(copy).toEqual(again);
    expect(Object.isFrozen(copy)).toBe(true);
  });

  it('copies a frozen event whose fields are getters, reading each once', () => {
    const sink = createInMemoryAuditSink();
    let reads = 0;
    const data = Object.freeze({ ok: true });
    const event = Object.freeze({
      type: 'tool.executed' as const,
      tenant: 't',
      session: 's',
      get time() {
        reads++;
        return reads;
      },
      data,
    });
    sink.append(event);
    expect(sink.events[0]?.time).toBe(1);
    expect(sink.events[0]?.time).toBe(1);
    expect(reads).toBe(1);
  });
});
