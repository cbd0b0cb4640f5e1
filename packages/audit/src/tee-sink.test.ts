import { type AuditEvent, AuditError, type AuditSink } from '@ape/core';
import { runAuditSinkContract } from '@ape/core/contracts';
import { describe, expect, it, vi } from 'vitest';
import { decisionEvent } from './__fixtures__/events.js';
import { MemoryAuditSink } from './memory-sink.js';
import { TeeAuditSink } from './tee-sink.js';

class TeeUnderTest extends TeeAuditSink {
  constructor(
    readonly first: MemoryAuditSink,
    readonly second: MemoryAuditSink,
  ) {
    super([first, second]);
  }
}

runAuditSinkContract('TeeAuditSink', () => new TeeUnderTest(new MemoryAuditSink(), new MemoryAuditSink()), {
  read: (sink) => {
    expect(sink.second.lines()).toEqual(sink.first.lines());
    return sink.first.records();
  },
});

function failingSink(): AuditSink & { append: ReturnType<typeof vi.fn> } {
  return {
    append: vi.fn((_event: AuditEvent) => Promise.reject(new AuditError('disk gone'))),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

describe('TeeAuditSink', () => {
  it('delivers to every sink and fails with the failing sink’s error', async () => {
    const memory = new MemoryAuditSink();
    const broken = failingSink();
    const tee = new TeeAuditSink([broken, memory]);
    await expect(tee.append(decisionEvent(0))).rejects.toMatchObject({
      code: 'AUDIT_FAILURE',
      message: 'disk gone',
    });
    expect(memory.records()).toHaveLength(1);
    expect(broken.append).toHaveBeenCalledTimes(1);
  });

  it('reports several failures as one AUDIT_FAILURE listing them', async () => {
    const tee = new TeeAuditSink([failingSink(), new MemoryAuditSink(), failingSink()]);
    await expect(tee.append(decisionEvent(0))).rejects.toMatchObject({
      code: 'AUDIT_FAILURE',
      details: { failures: [0, 2] },
    });
  });

  it('turns a sink that throws synchronously into a rejection', async () => {
    const throwing: AuditSink = {
      append: () => {
        throw new AuditError('sync failure');
      },
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    await expect(new TeeAuditSink([throwing]).append(decisionEvent(0))).rejects.toMatchObject({
      code: 'AUDIT_FAILURE',
    });
  });

  it('refuses an empty list of sinks with AUDIT_FAILURE', () => {
    expect(() => new TeeAuditSink([])).toThrow(expect.objectContaining({ code: 'AUDIT_FAILURE' }));
  });
});
