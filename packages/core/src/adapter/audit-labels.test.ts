import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../canonical-json.js';
import { createNotingAuditSink, setup } from '../runtime/__fixtures__/runtime-setup.js';
import { createInMemoryAuditSink } from '../runtime/in-memory-audit-sink.js';
import { createRecordingAuditSink } from '../testing/recording-audit-sink.js';
import type { AuditEvent } from '../types.js';
import { labellingSink } from './audit-labels.js';

const event = (type: AuditEvent['type'], data: Record<string, unknown>): AuditEvent => ({
  type,
  tenant: 'acme',
  session: 's',
  time: 1,
  data,
});

describe('labellingSink', () => {
  it('adds the output label to each successful tool.executed and passes the rest through', async () => {
    const sink = createRecordingAuditSink();
    const labelled = labellingSink(sink, (action) =>
      action === 'clock' ? 'SYSTEM_TRUSTED' : 'EXTERNAL_UNTRUSTED',
    );
    await labelled.append(event('tool.executed', { action: 'clock', ok: true }));
    await labelled.append(event('tool.executed', { ok: true }));
    await labelled.append(event('tool.executed', { action: 'clock', ok: false }));
    await labelled.append(event('session.created', {}));
    await labelled.flush();
    await labelled.close();
    expect(sink.events.map((recorded) => recorded.data['outputLabel'])).toEqual([
      'SYSTEM_TRUSTED',
      'EXTERNAL_UNTRUSTED',
      undefined,
      undefined,
    ]);
  });

  it('hands the sink frozen events (the very objects, not copies)', async () => {
    const seen: AuditEvent[] = [];
    const labelled = labellingSink(
      { append: (recorded) => void seen.push(recorded), flush: async () => {}, close: async () => {} },
      () => 'SYSTEM_TRUSTED',
    );
    await labelled.append(event('tool.executed', { action: 'clock', ok: true }));
    expect(seen[0]?.data['outputLabel']).toBe('SYSTEM_TRUSTED');
    expect(Object.isFrozen(seen[0])).toBe(true);
    expect(Object.isFrozen(seen[0]?.data)).toBe(true);
  });

  it('says canonicalData as its sink does (false for a sink whose hint throws)', () => {
    const base = { append: () => {}, flush: async () => {}, close: async () => {} };
    const throwing = {
      ...base,
      get canonicalData(): boolean {
        throw new Error('no');
      },
    };
    const label = () => 'SYSTEM_TRUSTED' as const;
    expect(labellingSink({ ...base, canonicalData: true }, label).canonicalData).toBe(true);
    expect(labellingSink({ ...base, canonicalData: false }, label).canonicalData).toBe(false);
    expect(labellingSink(base, label).canonicalData).toBe(false);
    expect(labellingSink(throwing, label).canonicalData).toBe(false);
  });

  it('gives a canonical sink behind it the text of every event, the labelled copy included', async () => {
    const { sink, handed: events, texts } = createNotingAuditSink({ canonicalData: true });
    const { runtime, tool } = setup({ audit: labellingSink(sink, () => 'SYSTEM_TRUSTED') });
    await runtime.setIntent(
      { allowed_actions: ['read_file'], forbidden_actions: [], scope: 'labels' },
      { provenance: 'USER_TRUSTED' },
    );
    await runtime.call('read_file', tool, { args: { path: '/workspace/a.txt' }, provenance: 'USER_TRUSTED' });
    expect(events.map((recorded) => recorded.type)).toContain('tool.executed');
    expect(events.find((recorded) => recorded.type === 'tool.executed')?.data['outputLabel']).toBe(
      'SYSTEM_TRUSTED',
    );
    expect(texts).toEqual(events.map((recorded) => canonicalJson(JSON.parse(JSON.stringify(recorded.data)))));
  });

  it("has core's in-memory sink keep the labelled copy of a runtime event as it is, and copy any other", async () => {
    const sink = createInMemoryAuditSink();
    const { sink: spy, handed } = createNotingAuditSink({ next: sink });
    const { runtime, tool } = setup({ audit: labellingSink(spy, () => 'SYSTEM_TRUSTED') });
    await runtime.setIntent(
      { allowed_actions: ['read_file'], forbidden_actions: [], scope: 'labels' },
      { provenance: 'USER_TRUSTED' },
    );
    await runtime.call('read_file', tool, { args: { path: '/workspace/a.txt' }, provenance: 'USER_TRUSTED' });
    const executed = handed.findIndex((recorded) => recorded.type === 'tool.executed');
    expect(handed[executed]?.data['outputLabel']).toBe('SYSTEM_TRUSTED');
    expect(sink.events[executed]).toBe(handed[executed]);
    // A tool.executed appended from outside the runtime: its labelled copy is copied again by the sink.
    const before = sink.events.length;
    await labellingSink(sink, () => 'SYSTEM_TRUSTED').append(
      event('tool.executed', { action: 'clock', ok: true }),
    );
    const kept = sink.events[before];
    expect(kept?.data['outputLabel']).toBe('SYSTEM_TRUSTED');
    expect(Object.isFrozen(kept)).toBe(true);
  });
});
