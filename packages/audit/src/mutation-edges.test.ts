import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionEvent } from './__fixtures__/events.js';
import { signCheckpoint } from './checkpoint.js';
import { AuditLogError } from './errors.js';
import { MemoryAuditSink } from './memory-sink.js';
import { type AuditRecord, hashAuditRecord, serializeAuditRecord } from './record.js';
import { generateNoteKeyPair, type NoteVerifier, parseVerifierKey } from './signed-note.js';
import { readFailure, verifyAuditLog } from './verify.js';

const COUNT = 12;
const keys = generateNoteKeyPair('ape.test/edges');
let lines: string[] = [];
let directory = '';
let files = 0;

beforeAll(async () => {
  lines = await chain(COUNT);
  directory = await mkdtemp(join(tmpdir(), 'ape-audit-edges-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function chain(count: number, offset = 0): Promise<string[]> {
  const sink = new MemoryAuditSink();
  for (let n = 0; n < count; n++) await sink.append(decisionEvent(n + offset));
  return sink.lines();
}

async function file(text: string | Buffer): Promise<string> {
  const path = join(directory, `log-${files++}.jsonl`);
  await writeFile(path, text);
  return path;
}

const parse = (line: string) => JSON.parse(line) as AuditRecord;
const hashOf = (index: number) => parse(lines[index]!).hash;
/** A record changed by someone who knows the format and recomputes its hash. */
function forge(record: AuditRecord, changes: Partial<AuditRecord>): string {
  const { hash: _hash, ...body } = { ...record, ...changes };
  return serializeAuditRecord({ ...body, hash: hashAuditRecord(body) });
}
const insertAt = (list: string[], index: number, line: string) => [
  ...list.slice(0, index),
  line,
  ...list.slice(index),
];
const replaceAt = (list: string[], index: number, line: string) =>
  list.map((item, i) => (i === index ? line : item));

/** A checkpoint signed by `keys` over the first `size` records of `log`. */
async function checkpointOf(log: string[], size: number): Promise<string> {
  const { rootHash } = await verifyAuditLog(log.slice(0, size));
  return signCheckpoint({ origin: 'ape.test/edges', size, rootHash }, keys.signerKey);
}

describe('verifyAuditLog never accepts a record out of the chain', () => {
  it('refuses a last record re-hashed with another seq even though it links to the one before', async () => {
    const tampered = replaceAt(lines, COUNT - 1, forge(parse(lines[COUNT - 1]!), { seq: 99 }));
    expect(await verifyAuditLog(tampered)).toMatchObject({
      ok: false,
      records: COUNT - 1,
      problem: 'dropped',
      firstBadSeq: COUNT - 1,
      firstBadLine: COUNT,
    });
  });
});

describe('verifyAuditLog classifies a misplaced record by what it links to', () => {
  it('calls a dropped record dropped although a later forged record links to the last good one', async () => {
    // Record 5 is gone; at the end, a record claiming seq 40 names record 4 as its prev.
    const tampered = [
      ...lines.slice(0, 5),
      ...lines.slice(6),
      forge(parse(lines[11]!), { seq: 40, prev: hashOf(4) }),
    ];
    const result = await verifyAuditLog(tampered);
    expect(result).toMatchObject({ ok: false, problem: 'dropped', firstBadSeq: 5, firstBadLine: 6 });
    expect(result.message).toContain('1 record is missing before seq 6');
  });

  it('calls a record reordered when only the record after it still names it as prev', async () => {
    // Record 6 is gone and record 5 moved to the end: record 7 appears at record 5's place.
    const tampered = [...lines.slice(0, 5), ...lines.slice(7), lines[5]!];
    const result = await verifyAuditLog(tampered);
    expect(result).toMatchObject({ ok: false, problem: 'reordered', firstBadSeq: 5, firstBadLine: 6 });
    expect(result.message).toContain('record 7 appears where record 5 belongs');
  });

  it('calls a forged record inserted when only the record before it is its prev', async () => {
    const forged = forge(parse(lines[5]!), { seq: 77 });
    const result = await verifyAuditLog(insertAt(lines, 5, forged));
    expect(result).toMatchObject({ ok: false, problem: 'inserted', firstBadSeq: 5, firstBadLine: 6 });
    expect(result.message).toContain('a record claiming seq 77 was inserted');
  });

  it('does not call an inserted record duplicated because a corrupt copy of it carries the same hash', async () => {
    const forged = forge(parse(lines[5]!), { seq: 77, prev: 'e'.repeat(64) });
    const corruptCopy = forged.replace('"ALLOW"', '"DENY"');
    const result = await verifyAuditLog([...insertAt(lines, 5, forged), corruptCopy]);
    expect(result).toMatchObject({ ok: false, problem: 'inserted', firstBadSeq: 5, firstBadLine: 6 });
  });

  it('classifies a moved record although the line after it is not a record at all', async () => {
    const moved = [...lines.slice(0, 5), lines[6]!, 'not json at all', lines[5]!, ...lines.slice(7)];
    expect(await verifyAuditLog(moved)).toMatchObject({
      ok: false,
      problem: 'reordered',
      firstBadSeq: 5,
      firstBadLine: 6,
    });
  });

  it('calls a forged seq-0 record in the middle of the log inserted, not a bad genesis', async () => {
    const forgedGenesis = forge(parse(lines[0]!), { prev: 'a'.repeat(64) });
    const result = await verifyAuditLog(insertAt(lines, 5, forgedGenesis));
    expect(result).toMatchObject({ ok: false, problem: 'inserted', firstBadSeq: 5, firstBadLine: 6 });
    expect(result.message).toContain('a record claiming seq 0 was inserted');
  });

  it('calls a foreign record that claims the previous seq with a foreign prev inserted at its own line', async () => {
    const foreign = forge(parse(lines[5]!), { seq: 4, prev: 'e'.repeat(64) });
    const result = await verifyAuditLog(replaceAt(lines, 5, foreign));
    expect(result).toMatchObject({ ok: false, problem: 'inserted', firstBadSeq: 5, firstBadLine: 6 });
    expect(result.message).toContain('a record claiming seq 4 was inserted');
  });

  it('calls a foreign record that links to an earlier record but claims an older seq inserted at its own line', async () => {
    const foreign = forge(parse(lines[5]!), { seq: 2, prev: hashOf(3) });
    const result = await verifyAuditLog(replaceAt(lines, 5, foreign));
    expect(result).toMatchObject({ ok: false, problem: 'inserted', firstBadSeq: 5, firstBadLine: 6 });
    expect(result.message).toContain('a record claiming seq 2 was inserted');
  });
});

describe('verifyAuditLog tells an edited record from an inserted one by the record after it', () => {
  const edited = () => replaceAt(lines, 5, lines[5]!.replace('"ALLOW"', '"DENY"'));

  it('calls it edited when the next record links to the last good one but claims another seq', async () => {
    const next = forge(parse(lines[6]!), { seq: 9, prev: hashOf(4) });
    const result = await verifyAuditLog(insertAt(edited(), 6, next));
    expect(result).toMatchObject({ ok: false, problem: 'edited', firstBadSeq: 5, firstBadLine: 6 });
    expect(result.message).toContain('does not match its hash');
  });

  it('calls it edited when the next record claims the expected seq but links elsewhere', async () => {
    const next = forge(parse(lines[5]!), { prev: 'e'.repeat(64), data: { other: true } });
    const result = await verifyAuditLog(insertAt(edited(), 6, next));
    expect(result).toMatchObject({ ok: false, problem: 'edited', firstBadSeq: 5, firstBadLine: 6 });
  });
});

describe('verifyAuditLog explains a torn or malformed line', () => {
  it('names a missing final newline and the size to truncate to', async () => {
    const path = await file(lines.join('\n'));
    const intact = Buffer.byteLength(lines.slice(0, -1).join('\n')) + 1;
    const result = await verifyAuditLog(path);
    expect(result).toMatchObject({ ok: true, truncated: true, problem: 'truncated', firstBadLine: COUNT });
    expect(result.message).toContain(`The last line (${COUNT}) has no terminating newline`);
    expect(result.message).toContain(`recoverable by truncating the file to ${intact} bytes`);
  });

  it('names why a complete but unreadable last line is torn', async () => {
    const result = await verifyAuditLog([...lines, '{"torn']);
    expect(result).toMatchObject({ ok: true, truncated: true, records: COUNT, firstBadLine: COUNT + 1 });
    expect(result.message).toContain(`The last line (${COUNT + 1}) is not JSON`);
    expect(result.message).not.toContain('newline');
  });

  it('names the reader problem of a line that is not UTF-8', async () => {
    const path = await file(
      Buffer.concat([
        Buffer.from(`${lines[0]}\n`),
        Buffer.from([0xff, 0xfe, 0x0a]),
        Buffer.from(`${lines[1]}\n`),
      ]),
    );
    const result = await verifyAuditLog(path);
    expect(result).toMatchObject({ ok: false, problem: 'malformed', firstBadLine: 2, firstBadSeq: 1 });
    expect(result.message).toContain('Line 2 (seq 1) is not valid UTF-8');
  });

  it('names the limit a too long line exceeds', async () => {
    const result = await verifyAuditLog([lines[0]!, 'x'.repeat(2000), lines[1]!], { maxLineBytes: 1000 });
    expect(result).toMatchObject({ ok: false, problem: 'malformed', firstBadLine: 2 });
    expect(result.message).toContain('Line 2 (seq 1) is longer than 1000 bytes');
  });
});

describe('verifyAuditLog against a checkpoint', () => {
  it('names the signer, the sizes and the missing count when the log holds fewer records', async () => {
    const note = await checkpointOf(lines, 10);
    const result = await verifyAuditLog(lines.slice(0, 7), { checkpoint: { note, key: keys.verifierKey } });
    expect(result).toMatchObject({ ok: false, problem: 'checkpoint-ahead', records: 7, firstBadSeq: 7 });
    expect(result.truncated).toBeUndefined();
    expect(result.message).toContain(
      `The checkpoint (signed by ${result.checkpoint?.signedBy}) covers 10 records but the log holds 7 intact records: 3 records were cut`,
    );
  });

  it('uses the singular for one intact record and one missing record', async () => {
    const note = await checkpointOf(lines, 2);
    const result = await verifyAuditLog(lines.slice(0, 1), { checkpoint: { note, key: keys.verifierKey } });
    expect(result).toMatchObject({ ok: false, problem: 'checkpoint-ahead', records: 1, firstBadSeq: 1 });
    expect(result.message).toContain('the log holds 1 intact record: 1 record was cut from the end');
  });

  it('keeps a torn tail flagged when the records before it fall short of the checkpoint', async () => {
    const note = await checkpointOf(lines, 10);
    const result = await verifyAuditLog([...lines.slice(0, 7), '{"torn'], {
      checkpoint: { note, key: keys.verifierKey },
    });
    expect(result).toMatchObject({
      ok: false,
      truncated: true,
      problem: 'checkpoint-ahead',
      records: 7,
      checkpoint: { size: 10, matches: false },
    });
  });

  it('reports a log of exactly the checkpoint size with other records as a mismatch, naming the signer', async () => {
    const note = await checkpointOf(lines, 10);
    const other = await chain(10, 1000);
    const result = await verifyAuditLog(other, { checkpoint: { note, key: keys.verifierKey } });
    expect(result).toMatchObject({
      ok: false,
      problem: 'checkpoint-mismatch',
      records: 10,
      checkpoint: { size: 10, matches: false },
    });
    expect(result.truncated).toBeUndefined();
    expect(result.firstBadSeq).toBeUndefined();
    expect(result.message).toContain(
      `The first 10 records do not hash to the root signed in the checkpoint (by ${result.checkpoint?.signedBy})`,
    );
  });

  it('names the checkpoint in the refusal of a note that is not one, by default and by its source', async () => {
    const unnamed = await verifyAuditLog(lines, { checkpoint: { note: 'garbage', key: keys.verifierKey } });
    expect(unnamed).toMatchObject({ ok: false, problem: 'checkpoint-invalid', records: 0 });
    expect(unnamed.message).toMatch(/^the checkpoint is not a signed note/);
    const named = await verifyAuditLog(lines, {
      checkpoint: { note: 'garbage', key: keys.verifierKey, source: 'cp.note' },
    });
    expect(named.message).toMatch(/^cp\.note is not a signed note/);
  });

  it('lets an error of the verifier itself through instead of calling the checkpoint bad', async () => {
    const note = await checkpointOf(lines, 3);
    const key = parseVerifierKey(keys.verifierKey);
    const outage = new Error('the key service is unreachable');
    const failing: NoteVerifier = {
      name: key.name,
      keyHash: key.keyHash,
      verify: () => {
        throw outage;
      },
    };
    await expect(verifyAuditLog(lines, { checkpoint: { note, key: failing } })).rejects.toBe(outage);
  });
});

describe('verifyAuditLog reading failures', () => {
  it('throws AUDIT_INVALID naming the path, with the system error as cause', async () => {
    const path = join(directory, 'missing.jsonl');
    const error = await verifyAuditLog(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuditLogError);
    const failure = error as AuditLogError;
    expect(failure).toMatchObject({ code: 'AUDIT_INVALID', details: { path, cause: 'ENOENT' } });
    expect(failure.message).toContain(`Cannot read audit log ${path}:`);
    expect(failure.cause).toMatchObject({ code: 'ENOENT' });
  });

  it('does not report a bad element of an in-memory line array as a file that cannot be read', async () => {
    const bad = [lines[0]!, 42 as unknown as string];
    const error = await verifyAuditLog(bad).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TypeError);
    expect(AuditLogError.isInstance(error)).toBe(false);
  });

  it('adds no cause code when the error has none, and passes an audit error through', () => {
    const plain = readFailure('log.jsonl', new Error('boom'));
    expect(plain.details).toMatchObject({ path: 'log.jsonl' });
    expect(plain.details).not.toHaveProperty('cause');
    expect(plain.message).toBe('Cannot read audit log log.jsonl: boom.');
    const audit = new AuditLogError('already explained', { path: 'x' });
    expect(readFailure('log.jsonl', audit)).toBe(audit);
  });
});
