import { describe, expect, it } from 'vitest';
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
});
