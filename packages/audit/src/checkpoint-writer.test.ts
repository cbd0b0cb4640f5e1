import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionEvent } from './__fixtures__/events.js';
import { openCheckpoint } from './checkpoint.js';
import { createJsonlFileAuditSink } from './jsonl-file-sink.js';
import { MemoryAuditSink } from './memory-sink.js';
import { cutTornTail, findTornTail } from './repair.js';
import { generateNoteKeyPair } from './signed-note.js';
import { verifyAuditLog } from './verify.js';

const keys = generateNoteKeyPair('ape.test/sink');
let directory = '';
let counter = 0;
const fresh = (suffix: string) => join(directory, `${counter++}-${suffix}`);

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ape-audit-checkpoints-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function checkpointOf(path: string) {
  return openCheckpoint(await readFile(path, 'utf8'), keys.verifierKey);
}

describe('sinks writing checkpoints', () => {
  it('JsonlFileAuditSink writes a checkpoint every N records and at close, and the log verifies against it', async () => {
    const log = fresh('log.jsonl');
    const checkpoint = fresh('checkpoint.txt');
    const sink = await createJsonlFileAuditSink(log, {
      checkpoint: { key: keys.signerKey, path: checkpoint, every: 5, intervalMs: 60_000 },
    });
    for (let n = 0; n < 12; n++) await sink.append(decisionEvent(n));
    await sink.flush();
    expect((await checkpointOf(checkpoint)).size).toBe(10);
    await sink.close();
    const last = await readFile(checkpoint, 'utf8');
    expect(sink.lastCheckpoint).toBe(last);
    expect(openCheckpoint(last, keys.verifierKey)).toMatchObject({ origin: 'ape.test/sink', size: 12 });
    expect(await verifyAuditLog(log, { checkpoint: { note: last, key: keys.verifierKey } })).toMatchObject({
      ok: true,
      checkpoint: { matches: true },
    });
  });

  it('continues the tree of an existing log on reopen', async () => {
    const log = fresh('log.jsonl');
    const checkpoint = fresh('checkpoint.txt');
    const first = await createJsonlFileAuditSink(log);
    for (let n = 0; n < 7; n++) await first.append(decisionEvent(n));
    await first.close();
    const second = await createJsonlFileAuditSink(log, {
      checkpoint: { key: keys.signerKey, path: checkpoint },
    });
    for (let n = 7; n < 9; n++) await second.append(decisionEvent(n));
    await second.close();
    const note = await readFile(checkpoint, 'utf8');
    expect(await verifyAuditLog(log, { checkpoint: { note, key: keys.verifierKey } })).toMatchObject({
      ok: true,
      records: 9,
      checkpoint: { size: 9, matches: true },
    });
  });

  it('writes a checkpoint intervalMs after an uncovered record', async () => {
    const log = fresh('log.jsonl');
    const checkpoint = fresh('checkpoint.txt');
    const sink = await createJsonlFileAuditSink(log, {
      durable: false,
      checkpoint: { key: keys.signerKey, path: checkpoint, every: 1000, intervalMs: 5 },
    });
    await sink.append(decisionEvent(0));
    await sink.append(decisionEvent(1));
    await expect.poll(async () => (await readFile(checkpoint, 'utf8').catch(() => '')).length > 0).toBe(true);
    await sink.flush();
    expect((await checkpointOf(checkpoint)).size).toBe(2);
    await sink.close();
  });

  it('fails the sink with AUDIT_FAILURE when the checkpoint cannot be written', async () => {
    const log = fresh('log.jsonl');
    const sink = await createJsonlFileAuditSink(log, {
      checkpoint: { key: keys.signerKey, path: join(directory, 'no-such-dir', 'cp.txt'), every: 1 },
    });
    await sink.append(decisionEvent(0));
    await expect(sink.flush()).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
    await expect(sink.append(decisionEvent(1))).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
    await expect(sink.close()).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
  });

  it('refuses bad checkpoint options before creating the log', async () => {
    const log = fresh('log.jsonl');
    await expect(
      createJsonlFileAuditSink(log, { checkpoint: { key: keys.verifierKey, path: fresh('cp') } }),
    ).rejects.toMatchObject({ code: 'AUDIT_KEY_INVALID' });
    await expect(
      createJsonlFileAuditSink(log, { checkpoint: { key: keys.signerKey, path: fresh('cp'), every: 0 } }),
    ).rejects.toMatchObject({ code: 'AUDIT_FAILURE', details: { field: 'checkpoint.every' } });
    await expect(
      createJsonlFileAuditSink(log, {
        checkpoint: { key: keys.signerKey, path: fresh('cp'), intervalMs: -1 },
      }),
    ).rejects.toMatchObject({ code: 'AUDIT_FAILURE', details: { field: 'checkpoint.intervalMs' } });
    await expect(readFile(log)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('MemoryAuditSink writes checkpoints of its lines and fails closed when it cannot', async () => {
    const checkpoint = fresh('checkpoint.txt');
    const sink = new MemoryAuditSink({ checkpoint: { key: keys.signerKey, path: checkpoint, every: 3 } });
    for (let n = 0; n < 4; n++) await sink.append(decisionEvent(n));
    await sink.flush();
    expect((await checkpointOf(checkpoint)).size).toBe(3);
    await sink.close();
    const note = await readFile(checkpoint, 'utf8');
    expect(sink.lastCheckpoint).toBe(note);
    expect(await verifyAuditLog(sink.lines(), { checkpoint: { note, key: keys.verifierKey } })).toMatchObject(
      {
        ok: true,
        checkpoint: { size: 4, matches: true },
      },
    );
    const broken = new MemoryAuditSink({
      checkpoint: { key: keys.signerKey, path: join(directory, 'nope', 'cp'), every: 1 },
    });
    await broken.append(decisionEvent(0));
    await expect(broken.flush()).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
    await expect(broken.append(decisionEvent(1))).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
    expect(() => new MemoryAuditSink({ checkpoint: { key: 'bad', path: checkpoint } })).toThrow(
      expect.objectContaining({ code: 'AUDIT_KEY_INVALID' }),
    );
  });
});

describe('torn tail repair', () => {
  it('finds a torn tail, shows it, and cuts it off', async () => {
    const sink = new MemoryAuditSink();
    for (let n = 0; n < 3; n++) await sink.append(decisionEvent(n));
    const path = fresh('log.jsonl');
    const intact = sink
      .lines()
      .map((line) => `${line}\n`)
      .join('');
    await writeFile(path, `${intact}{"data":{"n":3`);
    const tail = await findTornTail(path);
    expect(tail).toMatchObject({
      records: 3,
      intactBytes: Buffer.byteLength(intact),
      line: 4,
      preview: '{"data":{"n":3',
    });
    await cutTornTail(tail as NonNullable<typeof tail>);
    expect(await readFile(path, 'utf8')).toBe(intact);
    expect(await findTornTail(path)).toBeUndefined();
  });

  it('refuses to repair a log that fails verification for another reason, or that changed since', async () => {
    const sink = new MemoryAuditSink();
    for (let n = 0; n < 3; n++) await sink.append(decisionEvent(n));
    const lines = sink.lines();
    const path = fresh('log.jsonl');
    await writeFile(path, `${lines[0]}\n${lines[2]}\n{"torn`);
    await expect(findTornTail(path)).rejects.toMatchObject({
      code: 'AUDIT_INVALID',
      details: { problem: 'dropped' },
    });
    await writeFile(path, `${lines.join('\n')}\n{"torn`);
    const tail = await findTornTail(path);
    await writeFile(path, `${lines.join('\n')}\n{"torn and growing`);
    await expect(cutTornTail(tail as NonNullable<typeof tail>)).rejects.toMatchObject({
      code: 'AUDIT_INVALID',
    });
    await expect(findTornTail(join(directory, 'missing.jsonl'))).rejects.toMatchObject({
      code: 'AUDIT_INVALID',
    });
  });
});
