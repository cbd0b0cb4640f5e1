import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionEvent } from './__fixtures__/events.js';
import { createJsonlFileAuditSink } from './jsonl-file-sink.js';
import { type AuditQuery, readAllAuditRecords, readAuditLog } from './read.js';

let directory = '';
let path = '';

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ape-audit-read-'));
  path = join(directory, 'shared.jsonl');
  const sink = await createJsonlFileAuditSink(path);
  for (let n = 0; n < 12; n++) {
    await sink.append(
      decisionEvent(n, {
        tenant: n % 2 === 0 ? 'tenant-a' : 'tenant-b',
        session: `session-${n % 3}`,
        type: n % 4 === 0 ? 'tool.executed' : 'decision.made',
      }),
    );
  }
  await sink.close();
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('readAuditLog', () => {
  it('returns only the records of the requested tenant, in order', async () => {
    const records = await readAuditLog(path, { tenant: 'tenant-a' });
    expect(records.map((record) => record.data['n'])).toEqual([0, 2, 4, 6, 8, 10]);
    expect(records.every((record) => record.tenant === 'tenant-a')).toBe(true);
  });

  it('never returns another tenant’s records whatever the session or type filter', async () => {
    const records = await readAuditLog(path, { tenant: 'tenant-b', session: 'session-0' });
    expect(records.map((record) => record.data['n'])).toEqual([3, 9]);
    expect(await readAuditLog(path, { tenant: 'tenant-c' })).toEqual([]);
  });

  it('filters by type', async () => {
    const records = await readAuditLog(path, { tenant: 'tenant-a', type: 'tool.executed' });
    expect(records.map((record) => record.data['n'])).toEqual([0, 4, 8]);
  });

  it('returns deep-frozen records', async () => {
    const [record] = await readAuditLog(path, { tenant: 'tenant-a' });
    expect(Object.isFrozen(record)).toBe(true);
    expect(Object.isFrozen(record?.data)).toBe(true);
  });

  it.each([
    ['a missing tenant', {}],
    ['an empty tenant', { tenant: '' }],
  ])('refuses %s with TENANT_MISMATCH', async (_name, query) => {
    await expect(readAuditLog(path, query as AuditQuery)).rejects.toMatchObject({ code: 'TENANT_MISMATCH' });
  });

  it('throws AUDIT_INVALID naming the problem when the chain is broken', async () => {
    const tampered = join(directory, 'tampered.jsonl');
    const lines = (await readFile(path, 'utf8')).split('\n');
    await writeFile(tampered, [...lines.slice(0, 3), ...lines.slice(4)].join('\n'));
    await expect(readAuditLog(tampered, { tenant: 'tenant-a' })).rejects.toMatchObject({
      code: 'AUDIT_INVALID',
      details: { problem: 'dropped', firstBadSeq: 3 },
    });
    const unverified = await readAuditLog(tampered, { tenant: 'tenant-b' }, { verify: false });
    expect(unverified.map((record) => record.data['n'])).toEqual([1, 5, 7, 9, 11]);
  });

  it('skips a torn last line', async () => {
    const torn = join(directory, 'torn.jsonl');
    await writeFile(torn, await readFile(path));
    await appendFile(torn, '{"data":{"n":12');
    expect(await readAuditLog(torn, { tenant: 'tenant-a' })).toHaveLength(6);
  });

  it('throws AUDIT_INVALID for a malformed line that is not the last, even without verification', async () => {
    const broken = join(directory, 'broken.jsonl');
    const lines = (await readFile(path, 'utf8')).split('\n');
    await writeFile(broken, [...lines.slice(0, 2), 'garbage', ...lines.slice(2)].join('\n'));
    await expect(readAuditLog(broken, { tenant: 'tenant-a' }, { verify: false })).rejects.toMatchObject({
      code: 'AUDIT_INVALID',
      details: { line: 3 },
    });
  });

  it('throws AUDIT_INVALID when the file does not exist', async () => {
    await expect(readAuditLog(join(directory, 'none.jsonl'), { tenant: 'tenant-a' })).rejects.toMatchObject({
      code: 'AUDIT_INVALID',
    });
  });
});

describe('readAllAuditRecords', () => {
  it('returns every tenant’s records for operators', async () => {
    expect(await readAllAuditRecords(path)).toHaveLength(12);
    expect(
      (await readAllAuditRecords(path, { session: 'session-1' })).map((record) => record.data['n']),
    ).toEqual([1, 4, 7, 10]);
  });
});
