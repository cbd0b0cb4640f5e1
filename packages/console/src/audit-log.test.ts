import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointAuditLog, createJsonlFileAuditSink, generateNoteKeyPair } from '@ape/audit';
import type { AuditEvent } from '@ape/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditReader, filterRecords, summarizeSessions } from './audit-log.js';

let work: string;
let log: string;
const keys = generateNoteKeyPair('console-unit');

function event(
  type: AuditEvent['type'],
  tenant: string,
  session: string,
  time: number,
  data: Record<string, unknown>,
): AuditEvent {
  return { type, tenant, session, time, data };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ape-console-audit-'));
  log = join(work, 'audit.jsonl');
  const sink = await createJsonlFileAuditSink(log);
  const start = Date.parse('2026-01-01T00:00:00Z');
  await sink.append(event('session.created', 'acme', 's1', start, { lineage: 'train-1', mode: 'plan' }));
  await sink.append(event('intent.set', 'acme', 's1', start + 1, { scope: 'ship it' }));
  await sink.append(
    event('decision.made', 'acme', 's1', start + 2, { action: 'deploy', decision: 'ESCALATE' }),
  );
  await sink.append(
    event('state.changed', 'acme', 's1', start + 3, { from: 'EXECUTING', to: 'ESCALATION_REQUIRED' }),
  );
  await sink.append(event('session.terminated', 'acme', 's1', start + 4, { reason: 'escalation_denied' }));
  await sink.append(
    event('decision.made', 'globex', 's2', start + 60_000, { action: 'read', decision: 'ALLOW' }),
  );
  await sink.close();
  const checkpoint = await checkpointAuditLog(log, keys.signerKey);
  writeFileSync(join(work, 'good.checkpoint'), checkpoint.note);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('the audit reader', () => {
  it('reports an intact log with its records', async () => {
    const snapshot = await createAuditReader({ file: log }).snapshot();
    expect(snapshot.status).toMatchObject({ state: 'intact', records: 6 });
    expect(snapshot.records).toHaveLength(6);
  });

  it('reports a checkpoint the log matches', async () => {
    const snapshot = await createAuditReader({
      file: log,
      checkpoint: { file: join(work, 'good.checkpoint'), key: keys.verifierKey },
    }).snapshot();
    expect(snapshot.status.state).toBe('intact');
    expect(snapshot.status.checkpoint).toMatchObject({ matches: true, size: 6 });
  });

  it('reports a log cut below its checkpoint as tampered', async () => {
    const cut = join(work, 'cut.jsonl');
    writeFileSync(cut, `${readFileSync(log, 'utf8').split('\n').slice(0, 4).join('\n')}\n`);
    const snapshot = await createAuditReader({
      file: cut,
      checkpoint: { file: join(work, 'good.checkpoint'), key: keys.verifierKey },
    }).snapshot();
    expect(snapshot.status.state).toBe('tampered');
    expect(snapshot.status.checkpoint?.matches).toBe(false);
  });

  it('reports a checkpoint signed by another key, and one it cannot read, as tampered', async () => {
    const other = generateNoteKeyPair('console-unit');
    const wrongKey = await createAuditReader({
      file: log,
      checkpoint: { file: join(work, 'good.checkpoint'), key: other.verifierKey },
    }).snapshot();
    expect(wrongKey.status.state).toBe('tampered');
    const missing = await createAuditReader({
      file: log,
      checkpoint: { file: join(work, 'missing.checkpoint'), key: keys.verifierKey },
    }).snapshot();
    expect(missing.status.state).toBe('tampered');
    expect(missing.status.checkpoint?.message).toContain('cannot read the checkpoint');
  });

  it('reports an edited record as tampered with the first bad line', async () => {
    const edited = join(work, 'edited.jsonl');
    writeFileSync(edited, readFileSync(log, 'utf8').replace('"deploy"', '"delete"'));
    const snapshot = await createAuditReader({ file: edited }).snapshot();
    expect(snapshot.status).toMatchObject({ state: 'tampered', firstBadLine: 3 });
  });

  it('reports a malformed line in the middle as tampered and keeps the message', async () => {
    const broken = join(work, 'broken.jsonl');
    const lines = readFileSync(log, 'utf8').split('\n');
    lines[1] = '{not json';
    writeFileSync(broken, lines.join('\n'));
    const snapshot = await createAuditReader({ file: broken }).snapshot();
    expect(snapshot.status.state).toBe('tampered');
  });

  it('reports a torn last line apart from tampering', async () => {
    const torn = join(work, 'torn.jsonl');
    writeFileSync(torn, readFileSync(log, 'utf8'));
    appendFileSync(torn, '{"seq":6,"ts"');
    const snapshot = await createAuditReader({ file: torn }).snapshot();
    expect(snapshot.status.state).toBe('torn');
    expect(snapshot.records).toHaveLength(6);
  });

  it('reports a missing file as unreadable', async () => {
    const snapshot = await createAuditReader({ file: join(work, 'nothing.jsonl') }).snapshot();
    expect(snapshot.status.state).toBe('unreadable');
  });

  it('re-reads only when the file changed', async () => {
    const copy = join(work, 'copy.jsonl');
    writeFileSync(copy, readFileSync(log, 'utf8'));
    const reader = createAuditReader({ file: copy });
    const first = await reader.snapshot();
    expect(await reader.snapshot()).toBe(first);
    appendFileSync(copy, 'torn');
    expect(await reader.snapshot()).not.toBe(first);
  });
});

describe('sessions and filters', () => {
  it('derives each session: state, lineage, scope, record count', async () => {
    const { records } = await createAuditReader({ file: log }).snapshot();
    expect(summarizeSessions(records)).toEqual([
      expect.objectContaining({
        tenant: 'acme',
        session: 's1',
        state: 'TERMINATED',
        lineage: 'train-1',
        scope: 'ship it',
        records: 5,
      }),
      expect.objectContaining({ tenant: 'globex', session: 's2', state: 'INITIALIZED', records: 1 }),
    ]);
  });

  it('filters by tenant, session, type, action, decision and time', async () => {
    const { records } = await createAuditReader({ file: log }).snapshot();
    expect(filterRecords(records, { tenant: 'globex' }).map((r) => r.seq)).toEqual([5]);
    expect(filterRecords(records, { session: 's1', type: 'decision.made' }).map((r) => r.seq)).toEqual([2]);
    expect(filterRecords(records, { action: 'deploy', decision: 'ESCALATE' }).map((r) => r.seq)).toEqual([2]);
    expect(filterRecords(records, { decision: 'ALLOW' }).map((r) => r.seq)).toEqual([5]);
    expect(filterRecords(records, { from: '2026-01-01T00:00:30.000Z' }).map((r) => r.seq)).toEqual([5]);
    expect(filterRecords(records, { to: '2026-01-01T00:00:00.001Z' }).map((r) => r.seq)).toEqual([0, 1]);
  });
});
