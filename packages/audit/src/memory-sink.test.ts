import { runAuditSinkContract } from '@ape/core/testing';
import { describe, expect, it } from 'vitest';
import { decisionEvent, sessionEvents } from './__fixtures__/events.js';
import { MemoryAuditSink } from './memory-sink.js';
import { AUDIT_GENESIS_HASH, createAuditChain } from './record.js';
import { verifyAuditLog } from './verify.js';

runAuditSinkContract('MemoryAuditSink', () => new MemoryAuditSink(), { read: (sink) => sink.records() });

describe('MemoryAuditSink', () => {
  it('keeps a hash chain that verifies', async () => {
    const sink = new MemoryAuditSink();
    for (let n = 0; n < 20; n++) await sink.append(decisionEvent(n));
    expect(sink.records()[0]?.prev).toBe(AUDIT_GENESIS_HASH);
    expect(await verifyAuditLog(sink.lines())).toMatchObject({ ok: true, records: 20 });
  });

  it('reads back every record exactly as the chain built it, also after more appends', async () => {
    const sink = new MemoryAuditSink();
    const chain = createAuditChain();
    const built = [];
    for (let n = 0; n < 3; n++) {
      await sink.append(decisionEvent(n));
      built.push(chain.next(decisionEvent(n)));
    }
    expect(sink.records()).toEqual(built);
    for (let n = 3; n < 5; n++) {
      await sink.append(decisionEvent(n));
      built.push(chain.next(decisionEvent(n)));
    }
    const records = sink.records();
    expect(records).toEqual(built);
    expect(records.map((record) => Object.keys(record))).toEqual(built.map((record) => Object.keys(record)));
    expect(records.every((record) => Object.isFrozen(record) && Object.isFrozen(record.data))).toBe(true);
  });

  it('rejects an append after close with AUDIT_FAILURE and keeps the records', async () => {
    const sink = new MemoryAuditSink();
    await sink.append(decisionEvent(0));
    await sink.close();
    await expect(sink.append(decisionEvent(1))).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
    expect(sink.records()).toHaveLength(1);
  });

  it('rejects a malformed event with AUDIT_FAILURE without breaking the chain', async () => {
    const sink = new MemoryAuditSink();
    await sink.append(decisionEvent(0));
    await expect(sink.append(decisionEvent(1, { tenant: '' }))).rejects.toMatchObject({
      code: 'AUDIT_FAILURE',
    });
    await sink.append(decisionEvent(2));
    expect(await verifyAuditLog(sink.lines())).toMatchObject({ ok: true, records: 2 });
  });

  it('never records raw argument values or token ids of a full session', async () => {
    const sink = new MemoryAuditSink();
    const fingerprints = ['fp-1a2b3c', 'fp-4d5e6f'];
    for (const event of sessionEvents('tenant-a', 'session-1', fingerprints)) await sink.append(event);
    await sink.append(
      decisionEvent(99, { type: 'token.issued', data: { fingerprint: 'fp-x', tokenId: 'tok_secret_1' } }),
    );
    const text = sink.lines().join('\n');
    expect(text).toContain('fp-1a2b3c');
    expect(text).not.toContain('tok_secret_1');
    expect(text).not.toContain('/workspace/0');
  });
});
