import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '@ape/core';
import { runAuditSinkContract } from '@ape/core/contracts';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionEvent, sessionEvents } from './__fixtures__/events.js';
import {
  createJsonlFileAuditSink,
  type JsonlFileAuditSink,
  type JsonlFileAuditSinkOptions,
} from './jsonl-file-sink.js';
import { readAllAuditRecords } from './read.js';
import { AUDIT_GENESIS_HASH } from './record.js';
import { generateNoteKeyPair } from './signed-note.js';
import { verifyAuditLog } from './verify.js';

let directory = '';
let counter = 0;
const freshPath = () => join(directory, `log-${counter++}.jsonl`);

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ape-audit-file-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

runAuditSinkContract('JsonlFileAuditSink', () => createJsonlFileAuditSink(freshPath()), {
  read: async (sink: JsonlFileAuditSink) => readAllAuditRecords(sink.path),
});

runAuditSinkContract(
  'JsonlFileAuditSink (not durable, group commit, tiny queue)',
  () => createJsonlFileAuditSink(freshPath(), { durable: false, groupCommitMs: 1, maxPendingRecords: 3 }),
  { read: async (sink: JsonlFileAuditSink) => readAllAuditRecords(sink.path) },
);

runAuditSinkContract(
  'JsonlFileAuditSink (writer thread)',
  () => createJsonlFileAuditSink(freshPath(), { worker: true }),
  { read: async (sink: JsonlFileAuditSink) => readAllAuditRecords(sink.path) },
);

runAuditSinkContract(
  'JsonlFileAuditSink (writer thread, not durable, group commit, tiny queue)',
  () =>
    createJsonlFileAuditSink(freshPath(), {
      worker: true,
      durable: false,
      groupCommitMs: 1,
      maxPendingRecords: 3,
    }),
  { read: async (sink: JsonlFileAuditSink) => readAllAuditRecords(sink.path) },
);

/** Opens a sink that writes from its main thread (`false`) or from its writer thread (`true`). */
const opener =
  (worker: boolean) =>
  (path: string, options: JsonlFileAuditSinkOptions = {}): Promise<JsonlFileAuditSink> =>
    createJsonlFileAuditSink(path, { worker, ...options });

describe.each([false, true])('createJsonlFileAuditSink (worker: %s)', (worker) => {
  const open = opener(worker);

  it('writes 10,000 records from concurrent async appends as one verifying chain', async () => {
    const path = freshPath();
    const sink = await open(path, { maxPendingRecords: 256 });
    const writers = Array.from({ length: 8 }, async (_, writer) => {
      for (let n = 0; n < 1250; n++) {
        await sink.append(decisionEvent(n, { session: `session-${writer}`, data: { writer, n } }));
      }
    });
    await Promise.all(writers);
    await sink.close();
    const result = await verifyAuditLog(path);
    expect(result).toMatchObject({ ok: true, records: 10_000 });
    const records = await readAllAuditRecords(path);
    for (let writer = 0; writer < 8; writer++) {
      const mine = records
        .filter((record) => record.data['writer'] === writer)
        .map((record) => record.data['n']);
      expect(mine).toEqual(Array.from({ length: 1250 }, (_, n) => n));
    }
  });

  it('applies back-pressure instead of dropping when the queue is full', async () => {
    const path = freshPath();
    const sink = await open(path, { maxPendingRecords: 2, groupCommitMs: 2 });
    const appends = Array.from({ length: 50 }, (_, n) => sink.append(decisionEvent(n)));
    await Promise.all(appends);
    await sink.close();
    const records = await readAllAuditRecords(path);
    expect(records.map((record) => record.data['n'])).toEqual(Array.from({ length: 50 }, (_, n) => n));
  });

  it('has written a record to the file when its append resolves', async () => {
    const path = freshPath();
    const sink = await open(path);
    await sink.append(decisionEvent(0));
    expect((await readFile(path, 'utf8')).split('\n')).toHaveLength(2);
    await sink.close();
  });

  it('creates the file readable by its owner only', async () => {
    const path = freshPath();
    const sink = await open(path);
    await sink.close();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('continues the chain when an existing file is reopened', async () => {
    const path = freshPath();
    const first = await open(path);
    for (let n = 0; n < 5; n++) await first.append(decisionEvent(n));
    await first.close();
    const second = await open(path);
    expect(second.recovery).toEqual({ existed: true, records: 5, truncated: false, truncatedBytes: 0 });
    expect(second.position.seq).toBe(5);
    for (let n = 5; n < 8; n++) await second.append(decisionEvent(n));
    await second.close();
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 8 });
    expect((await readAllAuditRecords(path)).map((record) => record.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('starts a new file at the genesis hash and reports no recovery', async () => {
    const sink = await open(freshPath());
    expect(sink.position).toEqual({ seq: 0, prev: AUDIT_GENESIS_HASH });
    expect(sink.recovery).toEqual({ existed: false, records: 0, truncated: false, truncatedBytes: 0 });
    await sink.close();
  });

  it('cuts a torn last line on reopen, reports it, and continues the chain', async () => {
    const path = freshPath();
    const first = await open(path);
    for (let n = 0; n < 4; n++) await first.append(decisionEvent(n));
    await first.close();
    const intact = (await stat(path)).size;
    await appendFile(path, '{"data":{"n":4},"hash":"ab');
    const second = await open(path);
    expect(second.recovery).toEqual({ existed: true, records: 4, truncated: true, truncatedBytes: 26 });
    expect((await stat(path)).size).toBe(intact);
    await second.append(decisionEvent(4));
    await second.close();
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 5 });
  });

  it('refuses a tampered file with AUDIT_INVALID and leaves it untouched', async () => {
    const path = freshPath();
    const first = await open(path);
    for (let n = 0; n < 4; n++) await first.append(decisionEvent(n));
    await first.close();
    const tampered = (await readFile(path, 'utf8')).replace('"n":2', '"n":3');
    await writeFile(path, tampered);
    await expect(open(path)).rejects.toMatchObject({
      code: 'AUDIT_INVALID',
      details: { problem: 'edited', firstBadSeq: 2, firstBadLine: 3 },
    });
    expect(await readFile(path, 'utf8')).toBe(tampered);
  });

  it('treats an existing empty file as a new chain', async () => {
    const path = freshPath();
    await writeFile(path, '');
    const sink = await open(path);
    await sink.append(decisionEvent(0));
    await sink.close();
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 1 });
  });

  it('recovers a file torn inside its first line to an empty chain', async () => {
    const path = freshPath();
    await writeFile(path, '{"data":');
    const sink = await open(path);
    expect(sink.recovery).toMatchObject({ truncated: true, records: 0, truncatedBytes: 8 });
    await sink.close();
    expect((await stat(path)).size).toBe(0);
  });

  it('rejects an append after close with AUDIT_FAILURE, and close twice resolves', async () => {
    const sink = await open(freshPath());
    await sink.close();
    await expect(sink.close()).resolves.toBeUndefined();
    await expect(sink.flush()).resolves.toBeUndefined();
    await expect(sink.append(decisionEvent(0))).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
  });

  it('rejects an oversized record with AUDIT_FAILURE and keeps the chain intact', async () => {
    const path = freshPath();
    const sink = await open(path, { maxLineBytes: 600 });
    await sink.append(decisionEvent(0));
    await expect(sink.append(decisionEvent(1, { data: { blob: 'x'.repeat(1000) } }))).rejects.toMatchObject({
      code: 'AUDIT_FAILURE',
    });
    await sink.append(decisionEvent(2));
    await sink.close();
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 2 });
  });

  it('answers each append of a burst alone: oversized records refused, the others written in order', async () => {
    // The appends of one batch share its promise; a refused record never joins a batch, and
    // back-pressure (a queue of 1 to 6 records) admits the waiting ones into later batches.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        async (oversized, maxPendingRecords) => {
          const path = freshPath();
          const sink = await open(path, { maxLineBytes: 600, maxPendingRecords, durable: false });
          const appends = oversized.map((big, n) =>
            sink.append(decisionEvent(n, big ? { data: { n, blob: 'x'.repeat(1000) } } : {})),
          );
          const results = await Promise.allSettled(appends);
          expect(results.map((result) => (result.status === 'rejected' ? result.reason.code : 'ok'))).toEqual(
            oversized.map((big) => (big ? 'AUDIT_FAILURE' : 'ok')),
          );
          await sink.close();
          const records = await readAllAuditRecords(path);
          expect(records.map((record) => record.data['n'])).toEqual(
            oversized.flatMap((big, n) => (big ? [] : [n])),
          );
          expect(await verifyAuditLog(path)).toMatchObject({ ok: true });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('counts a line in UTF-8 bytes against maxLineBytes, to the byte', async () => {
    // Two bytes per character: the line's UTF-16 length is under its byte size, three times it over.
    const event = decisionEvent(0, { data: { note: '\u00e9'.repeat(300) } });
    const free = freshPath();
    const unlimited = await open(free);
    await unlimited.append(event);
    await unlimited.close();
    const line = (await readFile(free, 'utf8')).split('\n')[0]!;
    const bytes = Buffer.byteLength(line, 'utf8');
    expect(line.length).toBeLessThan(bytes);
    const tight = freshPath();
    const refusing = await open(tight, { maxLineBytes: bytes - 1 });
    await expect(refusing.append(event)).rejects.toMatchObject({ code: 'AUDIT_FAILURE', details: { bytes } });
    await refusing.close();
    const exact = freshPath();
    const taking = await open(exact, { maxLineBytes: bytes });
    await taking.append(event);
    await taking.close();
    expect(await readFile(exact, 'utf8')).toBe(`${line}\n`);
  });

  it('rejects a malformed event with AUDIT_FAILURE without failing the sink', async () => {
    const sink = await open(freshPath());
    await expect(sink.append(decisionEvent(0, { session: '' }))).rejects.toMatchObject({
      code: 'AUDIT_FAILURE',
    });
    expect(sink.failure).toBeUndefined();
    await sink.append(decisionEvent(1));
    await sink.close();
  });

  it.each([
    ['groupCommitMs', { groupCommitMs: -1 }],
    ['maxPendingRecords', { maxPendingRecords: 0 }],
    ['maxLineBytes', { maxLineBytes: 1.5 }],
  ])('refuses an invalid %s with AUDIT_FAILURE', async (field, options) => {
    await expect(open(freshPath(), options)).rejects.toMatchObject({
      code: 'AUDIT_FAILURE',
      details: { field },
    });
  });

  it('fails with AUDIT_FAILURE when the file cannot be opened', async () => {
    await expect(open(join(directory, 'missing-dir', 'log.jsonl'))).rejects.toMatchObject({
      code: 'AUDIT_FAILURE',
    });
  });

  it('never records raw arguments or token ids, only fingerprints', async () => {
    const path = freshPath();
    const sink = await open(path);
    for (const event of sessionEvents('tenant-a', 'session-1', ['fp-aaa111', 'fp-bbb222']))
      await sink.append(event);
    await sink.append(
      decisionEvent(0, { type: 'token.issued', data: { fingerprint: 'fp-ccc', token_id: 'tok_raw_secret' } }),
    );
    await sink.close();
    const text = await readFile(path, 'utf8');
    expect(text).toContain('fp-aaa111');
    expect(text).not.toContain('tok_raw_secret');
    expect(text).not.toContain('/workspace/');
  });

  it('logs the argument fields the host opted in', async () => {
    const path = freshPath();
    const sink = await open(path, { logFields: ['path'] });
    await sink.append(decisionEvent(0, { data: { args: { path: '/workspace/a', content: 'hunter2' } } }));
    await sink.close();
    const [record] = await readAllAuditRecords(path);
    expect(record?.data['args']).toMatchObject({
      argNames: ['content', 'path'],
      fields: { path: '/workspace/a' },
    });
    expect(await readFile(path, 'utf8')).not.toContain('hunter2');
  });
});

// `/dev/full` (every write fails with ENOSPC) is a real device on the Linux machines CI runs on; a
// machine without it fails here instead of silently skipping the fail-closed checks.
describe.each([false, true])('JsonlFileAuditSink write failures (worker: %s)', (worker) => {
  const open = opener(worker);
  it('has /dev/full to write to', () => {
    expect(existsSync('/dev/full')).toBe(true);
  });

  it('rejects every pending append with AUDIT_FAILURE and stays failed (fail closed)', async () => {
    const sink = await open('/dev/full', { maxPendingRecords: 2 });
    const appends = Array.from({ length: 5 }, (_, n) => sink.append(decisionEvent(n)));
    const results = await Promise.allSettled(appends);
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(results.map((result) => (result.status === 'rejected' ? result.reason.code : 'ok'))).toEqual(
      Array(5).fill('AUDIT_FAILURE'),
    );
    expect(sink.failure?.code).toBe('AUDIT_FAILURE');
    await expect(sink.append(decisionEvent(6))).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
    await expect(sink.flush()).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
    await expect(sink.close()).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
  });
});

describe.each([false, true])(
  'JsonlFileAuditSink on a file cut short outside the sink (worker: %s)',
  (worker) => {
    const open = opener(worker);
    it('verifies the prefix of a file truncated mid-line by another process', async () => {
      const path = freshPath();
      const sink = await open(path);
      for (let n = 0; n < 6; n++) await sink.append(decisionEvent(n));
      await sink.close();
      await truncate(path, (await stat(path)).size - 40);
      expect(await verifyAuditLog(path)).toMatchObject({ ok: true, truncated: true, records: 5 });
    });
  },
);

describe('JsonlFileAuditSink writer thread (option worker)', () => {
  const eventArbitrary = fc.record({
    type: fc.constantFrom('decision.made', 'token.issued', 'tool.executed', 'custom.event'),
    tenant: fc.constantFrom('tenant-a', 'tenant "b"', 'ténant\\c'),
    session: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
    time: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    data: fc.oneof(
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
      fc.record({ args: fc.dictionary(fc.string({ maxLength: 6 }), fc.string(), { maxKeys: 3 }) }),
      fc.record({ fingerprint: fc.string(), token_id: fc.string() }),
      // Non-ASCII text (and lone surrogates, which canonical JSON escapes) in the head.
      fc.record({ text: fc.string({ unit: 'grapheme', maxLength: 10 }) }),
      fc.record({ text: fc.string({ unit: 'binary', maxLength: 10 }) }),
    ),
  });

  /** Appends `events` concurrently; returns each append's outcome (`ok` or the error code). */
  async function appendAll(sink: JsonlFileAuditSink, events: readonly AuditEvent[]): Promise<string[]> {
    const settled = await Promise.allSettled(events.map((event) => sink.append(event)));
    return settled.map((result) => (result.status === 'fulfilled' ? 'ok' : String(result.reason.code)));
  }

  it('writes the same bytes and the same checkpoints as the main thread, for any events', async () => {
    const keys = generateNoteKeyPair('ape.test/thread');
    await fc.assert(
      fc.asyncProperty(fc.array(eventArbitrary, { minLength: 1, maxLength: 40 }), async (events) => {
        const files = await Promise.all(
          [false, true].map(async (worker) => {
            const path = freshPath();
            const checkpoint = `${path}.cp`;
            const sink = await createJsonlFileAuditSink(path, {
              worker,
              maxPendingRecords: 7,
              checkpoint: { key: keys.signerKey, path: checkpoint, every: 5 },
            });
            const outcomes = await appendAll(sink, events as unknown as AuditEvent[]);
            await sink.close();
            return { outcomes, text: await readFile(path, 'utf8'), note: await readFile(checkpoint, 'utf8') };
          }),
        );
        expect(files[1]?.outcomes).toEqual(files[0]?.outcomes);
        expect(files[1]?.text).toBe(files[0]?.text);
        expect(files[1]?.note).toBe(files[0]?.note);
      }),
      { numRuns: 40 },
    );
  });

  it('continues a chain written from the main thread, and the main thread continues its chain', async () => {
    const path = freshPath();
    const reference = freshPath();
    const all = Array.from({ length: 30 }, (_, n) => decisionEvent(n, { session: `s-${n % 3}` }));
    const whole = await createJsonlFileAuditSink(reference);
    await appendAll(whole, all);
    await whole.close();
    for (const [worker, slice] of [
      [false, all.slice(0, 10)],
      [true, all.slice(10, 20)],
      [false, all.slice(20)],
    ] as const) {
      const sink = await createJsonlFileAuditSink(path, { worker });
      await appendAll(sink, slice);
      await sink.close();
    }
    expect(await readFile(path, 'utf8')).toBe(await readFile(reference, 'utf8'));
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 30 });
  });

  it('writes the same bytes once the thread table of names starts over (more strings than it keeps)', async () => {
    // 17,000 records, each with its own session and ts: the table keeps at most 16,384 strings, so
    // it starts over twice, on both sides, between two batches.
    const events = Array.from({ length: 17_000 }, (_, n) => decisionEvent(n, { session: `session-${n}` }));
    const texts: string[] = [];
    for (const worker of [false, true]) {
      const path = freshPath();
      const sink = await createJsonlFileAuditSink(path, { worker, durable: false });
      await appendAll(sink, events);
      await sink.close();
      texts.push(await readFile(path, 'utf8'));
    }
    expect(texts[1]).toBe(texts[0]);
    expect(texts[1]?.split('\n')).toHaveLength(17_001);
  });

  it('reports the position of the records written, and of every record after flush', async () => {
    const path = freshPath();
    const sink = await createJsonlFileAuditSink(path, { worker: true });
    const appends = [sink.append(decisionEvent(0)), sink.append(decisionEvent(1))];
    expect(sink.position).toEqual({ seq: 0, prev: AUDIT_GENESIS_HASH });
    await Promise.all(appends);
    await sink.flush();
    const records = await readAllAuditRecords(path);
    expect(sink.position).toEqual({ seq: 2, prev: records[1]?.hash });
    await sink.close();
  });

  it('refuses a worker option that is not a boolean with AUDIT_FAILURE', async () => {
    await expect(
      createJsonlFileAuditSink(freshPath(), { worker: 'yes' } as unknown as JsonlFileAuditSinkOptions),
    ).rejects.toMatchObject({ code: 'AUDIT_FAILURE', details: { field: 'worker' } });
  });
});
