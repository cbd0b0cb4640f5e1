import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionEvent } from './__fixtures__/events.js';
import {
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  readUnverifiedCheckpoint,
  signCheckpoint,
} from './checkpoint.js';
import {
  checkpointAuditLog,
  parseAuditConsistencyProof,
  parseAuditInclusionProof,
  proveAuditConsistency,
  proveAuditRecord,
  verifyAuditConsistency,
  verifyAuditInclusionProof,
} from './log-proofs.js';
import { MemoryAuditSink } from './memory-sink.js';
import { generateNoteKeyPair } from './signed-note.js';
import { verifyAuditLog } from './verify.js';

const keys = generateNoteKeyPair('ape.test/log');
const otherKeys = generateNoteKeyPair('ape.test/log');
let directory = '';
let counter = 0;

async function writeLog(count: number, offset = 0): Promise<{ path: string; lines: string[] }> {
  const sink = new MemoryAuditSink();
  for (let n = 0; n < count; n++) await sink.append(decisionEvent(n + offset));
  const lines = sink.lines();
  const path = join(directory, `log-${counter++}.jsonl`);
  await writeFile(path, lines.map((line) => `${line}\n`).join(''));
  return { path, lines };
}

/** A log that shares the first `prefix` records with `base` and then goes another way. */
async function forkLog(prefix: number, count: number): Promise<string> {
  const sink = new MemoryAuditSink();
  for (let n = 0; n < count; n++) await sink.append(decisionEvent(n < prefix ? n : n + 1000));
  const path = join(directory, `fork-${counter++}.jsonl`);
  await writeFile(
    path,
    sink
      .lines()
      .map((line) => `${line}\n`)
      .join(''),
  );
  return path;
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ape-audit-proofs-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('checkpoints', () => {
  it('formats the C2SP tlog-checkpoint body and parses it back', () => {
    const body = formatCheckpoint({
      origin: 'example.com/log',
      size: 8,
      rootHash: 'ab'.repeat(32),
      extensions: ['x y'],
    });
    expect(body).toBe(`example.com/log\n8\n${Buffer.alloc(32, 0xab).toString('base64')}\nx y\n`);
    expect(parseCheckpoint(body)).toEqual({
      origin: 'example.com/log',
      size: 8,
      rootHash: 'ab'.repeat(32),
      extensions: ['x y'],
    });
  });

  it('refuses malformed bodies with checkpoint-invalid', () => {
    const root = Buffer.alloc(32).toString('base64');
    for (const body of [
      'o\n8\n',
      `\n8\n${root}\n`,
      `o\n08\n${root}\n`,
      `o\n-1\n${root}\n`,
      `o\n8\nAAAA\n`,
      `o\n8\n${root}`,
      `o\n8\n${root}\n\n`,
    ]) {
      expect(() => parseCheckpoint(body)).toThrow(
        expect.objectContaining({
          code: 'AUDIT_INVALID',
          details: expect.objectContaining({ problem: 'checkpoint-invalid' }),
        }),
      );
    }
    expect(() => formatCheckpoint({ origin: 'a\nb', size: 1, rootHash: 'ab'.repeat(32) })).toThrow(/origin/);
    expect(() => formatCheckpoint({ origin: 'a', size: -1, rootHash: 'ab'.repeat(32) })).toThrow(/size/);
    expect(() => formatCheckpoint({ origin: 'a', size: 1, rootHash: 'AB'.repeat(32) })).toThrow(/root hash/);
  });

  it('signs a checkpoint that opens with the verifier key and not with another key', () => {
    const note = signCheckpoint(
      { origin: 'ape.test/log', size: 3, rootHash: 'cd'.repeat(32) },
      keys.signerKey,
    );
    expect(openCheckpoint(note, keys.verifierKey)).toMatchObject({
      size: 3,
      rootHash: 'cd'.repeat(32),
      otherSignatures: [],
    });
    expect(readUnverifiedCheckpoint(note).size).toBe(3);
    expect(() => openCheckpoint(note, otherKeys.verifierKey)).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ problem: 'checkpoint-signature' }) }),
    );
  });
});

describe('verifyAuditLog with a checkpoint', () => {
  it('proves an untouched log and a log that grew since matches its checkpoint', async () => {
    const { path } = await writeLog(10);
    const { note } = await checkpointAuditLog(path, keys.signerKey);
    const result = await verifyAuditLog(path, { checkpoint: { note, key: keys.verifierKey } });
    expect(result).toMatchObject({ ok: true, records: 10, checkpoint: { size: 10, matches: true } });
    const { lines } = await writeLog(15);
    expect(await verifyAuditLog(lines, { checkpoint: { note, key: keys.verifierKey } })).toMatchObject({
      ok: true,
      records: 15,
      checkpoint: { size: 10, matches: true },
    });
  });

  it('reports a cut tail as checkpoint-ahead', async () => {
    const { lines } = await writeLog(10);
    const note = (await checkpointAuditLog((await writeLog(10)).path, keys.signerKey)).note;
    const result = await verifyAuditLog(lines.slice(0, 7), { checkpoint: { note, key: keys.verifierKey } });
    expect(result).toMatchObject({ ok: false, problem: 'checkpoint-ahead', firstBadSeq: 7, records: 7 });
    expect(result.message).toMatch(/3 records were cut from the end/);
  });

  it('reports a rewritten log and a fork as checkpoint-mismatch', async () => {
    const { path } = await writeLog(10);
    const { note } = await checkpointAuditLog(path, keys.signerKey);
    const fork = await forkLog(4, 12);
    const result = await verifyAuditLog(fork, { checkpoint: { note, key: keys.verifierKey } });
    expect(result).toMatchObject({
      ok: false,
      problem: 'checkpoint-mismatch',
      records: 12,
      checkpoint: { matches: false },
    });
    expect(result.message).toMatch(/rewritten .* or is a fork/);
  });

  it('refuses a checkpoint signed by another key or malformed, before reading the log', async () => {
    const { path } = await writeLog(3);
    const foreign = (await checkpointAuditLog(path, otherKeys.signerKey)).note;
    expect(
      await verifyAuditLog(path, { checkpoint: { note: foreign, key: keys.verifierKey } }),
    ).toMatchObject({
      ok: false,
      problem: 'checkpoint-signature',
    });
    expect(
      await verifyAuditLog(path, { checkpoint: { note: 'garbage', key: keys.verifierKey } }),
    ).toMatchObject({
      ok: false,
      problem: 'checkpoint-invalid',
    });
    await expect(
      verifyAuditLog(path, { checkpoint: { note: foreign, key: 'not a key' } }),
    ).rejects.toMatchObject({
      code: 'AUDIT_KEY_INVALID',
    });
  });

  it('reports chain tampering before comparing with the checkpoint', async () => {
    const { path, lines } = await writeLog(6);
    const { note } = await checkpointAuditLog(path, keys.signerKey);
    const dropped = [...lines.slice(0, 2), ...lines.slice(3)];
    expect(await verifyAuditLog(dropped, { checkpoint: { note, key: keys.verifierKey } })).toMatchObject({
      ok: false,
      problem: 'dropped',
    });
  });
});

describe('checkpointAuditLog', () => {
  it('refuses a tampered log and a torn tail unless allowed', async () => {
    const { path, lines } = await writeLog(4);
    await writeFile(path, `${lines.join('\n')}\n{"torn`);
    await expect(checkpointAuditLog(path, keys.signerKey)).rejects.toMatchObject({
      code: 'AUDIT_INVALID',
      details: { problem: 'truncated' },
    });
    const { checkpoint } = await checkpointAuditLog(path, keys.signerKey, { allowTornTail: true });
    expect(checkpoint.size).toBe(4);
    await writeFile(path, [lines[1], lines[0], ...lines.slice(2)].map((line) => `${line}\n`).join(''));
    await expect(checkpointAuditLog(path, keys.signerKey)).rejects.toMatchObject({
      details: { problem: 'reordered' },
    });
    await expect(checkpointAuditLog(join(directory, 'missing.jsonl'), keys.signerKey)).rejects.toMatchObject({
      code: 'AUDIT_INVALID',
    });
  });
});

describe('inclusion proofs', () => {
  it('proves every record of a log against its signed checkpoint, without the log', async () => {
    const { path } = await writeLog(13);
    const { note } = await checkpointAuditLog(path, keys.signerKey);
    for (let seq = 0; seq < 13; seq++) {
      const proof = await proveAuditRecord(path, seq, { checkpoint: note });
      const reparsed = parseAuditInclusionProof(JSON.stringify(proof));
      expect(verifyAuditInclusionProof(reparsed, { key: keys.verifierKey })).toMatchObject({
        ok: true,
        signatureChecked: true,
      });
    }
  });

  it('refuses a proof whose record, path or checkpoint was changed', async () => {
    const { path, lines } = await writeLog(9);
    const { note } = await checkpointAuditLog(path, keys.signerKey);
    const proof = await proveAuditRecord(path, 4, { checkpoint: note });
    const key = keys.verifierKey;
    expect(verifyAuditInclusionProof({ ...proof, record: lines[5] as string }, { key })).toMatchObject({
      ok: false,
      problem: 'proof-mismatch',
    });
    expect(verifyAuditInclusionProof({ ...proof, path: [...proof.path].reverse() }, { key })).toMatchObject({
      ok: false,
      problem: 'proof-mismatch',
    });
    expect(verifyAuditInclusionProof(proof, { key: otherKeys.verifierKey })).toMatchObject({
      ok: false,
      problem: 'checkpoint-signature',
    });
    const { checkpoint: _dropped, ...unsigned } = proof;
    expect(verifyAuditInclusionProof(unsigned, { key })).toMatchObject({
      ok: false,
      problem: 'checkpoint-invalid',
    });
    expect(verifyAuditInclusionProof(unsigned)).toMatchObject({ ok: true, signatureChecked: false });
  });

  it('refuses to prove a record outside the tree or against a checkpoint the log does not match', async () => {
    const { path } = await writeLog(5);
    await expect(proveAuditRecord(path, 5)).rejects.toMatchObject({ details: { problem: 'proof-invalid' } });
    const bigger = (await checkpointAuditLog((await writeLog(8)).path, keys.signerKey)).note;
    await expect(proveAuditRecord(path, 1, { checkpoint: bigger })).rejects.toMatchObject({
      details: { problem: 'checkpoint-ahead' },
    });
    const fork = (await checkpointAuditLog(await forkLog(2, 5), keys.signerKey)).note;
    await expect(proveAuditRecord(path, 1, { checkpoint: fork })).rejects.toMatchObject({
      details: { problem: 'checkpoint-mismatch' },
    });
  });

  it('refuses proof documents that are not proofs with proof-invalid', () => {
    const bad = ['nope', '[]', '{"format":"other"}', '{"format":"ape-audit-inclusion-proof/v1","seq":-1}'];
    for (const text of bad) {
      expect(() => parseAuditInclusionProof(text)).toThrow(
        expect.objectContaining({ details: expect.objectContaining({ problem: 'proof-invalid' }) }),
      );
      expect(() => parseAuditConsistencyProof(text)).toThrow(
        expect.objectContaining({ details: expect.objectContaining({ problem: 'proof-invalid' }) }),
      );
    }
  });
});

describe('consistency proofs', () => {
  it('proves a later checkpoint extends an earlier one of the same log', async () => {
    const small = await writeLog(6);
    const { note: note1 } = await checkpointAuditLog(small.path, keys.signerKey);
    const large = await writeLog(11);
    const { note: note2 } = await checkpointAuditLog(large.path, keys.signerKey);
    const proof = await proveAuditConsistency(large.path, 6, 11);
    const reparsed = parseAuditConsistencyProof(JSON.stringify({ ok: true, proof }));
    expect(verifyAuditConsistency(note1, note2, reparsed, { key: keys.verifierKey })).toMatchObject({
      ok: true,
      signatureChecked: true,
    });
    expect(verifyAuditConsistency(note2, note1, reparsed, { key: keys.verifierKey })).toMatchObject({
      ok: false,
      problem: 'inconsistent',
    });
  });

  it('detects a fork: two logs that share a prefix and then differ', async () => {
    const base = await writeLog(8);
    const { note: note1 } = await checkpointAuditLog(base.path, keys.signerKey);
    const fork = await forkLog(5, 12);
    const { note: note2 } = await checkpointAuditLog(fork, keys.signerKey);
    const proof = await proveAuditConsistency(fork, 8, 12);
    const result = verifyAuditConsistency(note1, note2, proof, { key: keys.verifierKey });
    expect(result).toMatchObject({ ok: false, problem: 'inconsistent' });
    expect(result.message).toMatch(/a fork/);
  });

  it('refuses a proof for other sizes and a checkpoint by another key', async () => {
    const log = await writeLog(9);
    const { note: note1 } = await checkpointAuditLog((await writeLog(4)).path, keys.signerKey);
    const { note: note2 } = await checkpointAuditLog(log.path, keys.signerKey);
    const proof = await proveAuditConsistency(log.path, 3, 9);
    expect(verifyAuditConsistency(note1, note2, proof, { key: keys.verifierKey })).toMatchObject({
      ok: false,
      problem: 'proof-mismatch',
    });
    const foreign = (await checkpointAuditLog(log.path, otherKeys.signerKey)).note;
    expect(verifyAuditConsistency(note1, foreign, proof, { key: keys.verifierKey })).toMatchObject({
      ok: false,
      problem: 'checkpoint-signature',
    });
    await expect(proveAuditConsistency(log.path, 3, 10)).rejects.toMatchObject({
      details: { problem: 'checkpoint-ahead' },
    });
    await expect(proveAuditConsistency(log.path, 5, 3)).rejects.toMatchObject({
      details: { problem: 'inconsistent' },
    });
  });

  it('writes the checkpoint file the CLI reads', async () => {
    const { path } = await writeLog(2);
    const { note } = await checkpointAuditLog(path, keys.signerKey, { origin: 'custom/origin' });
    const file = join(directory, 'cp.txt');
    await writeFile(file, note);
    expect(readUnverifiedCheckpoint(await readFile(file, 'utf8'))).toMatchObject({
      origin: 'custom/origin',
      size: 2,
    });
  });
});

describe('proof documents field by field', () => {
  const hashA = 'a'.repeat(64);
  const inclusion = {
    format: 'ape-audit-inclusion-proof/v1',
    seq: 0,
    treeSize: 1,
    record: '{}',
    leafHash: hashA,
    path: [],
    rootHash: hashA,
  };
  const consistency = {
    format: 'ape-audit-consistency-proof/v1',
    size1: 1,
    size2: 2,
    root1: hashA,
    root2: hashA,
    path: [hashA],
  };

  function invalidBecause(parse: () => unknown): string {
    try {
      parse();
    } catch (error) {
      expect(error).toMatchObject({ code: 'AUDIT_INVALID', details: { problem: 'proof-invalid' } });
      return (error as Error).message;
    }
    throw new Error('expected the proof to be refused');
  }

  it('names the field that is wrong in an inclusion proof', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ record: 7 }, '"record" is not a string'],
      [{ checkpoint: 7 }, '"checkpoint" is not a string'],
      [{ treeSize: 1.5 }, '"treeSize" is not a non-negative integer'],
      [{ seq: '0' }, '"seq" is not a non-negative integer'],
      [{ leafHash: 'A'.repeat(64) }, '"leafHash" is not 64 lower-case hex digits'],
      [{ rootHash: 3 }, '"rootHash" is not 64 lower-case hex digits'],
      [{ path: 'x' }, '"path" is not a list of at most 64 hashes'],
      [{ path: Array.from({ length: 65 }, () => hashA) }, '"path" is not a list of at most 64 hashes'],
      [{ path: [hashA, 'zz'] }, '"path[1]" is not 64 lower-case hex digits'],
    ];
    for (const [change, why] of cases) {
      const message = invalidBecause(() =>
        parseAuditInclusionProof(JSON.stringify({ ...inclusion, ...change }), 'proof.json'),
      );
      expect(message).toBe(`proof.json is not a proof: ${why}.`);
    }
    expect(parseAuditInclusionProof(JSON.stringify(inclusion))).not.toHaveProperty('checkpoint');
  });

  it('names the field that is wrong in a consistency proof, bare or wrapped', () => {
    expect(invalidBecause(() => parseAuditConsistencyProof('{"proof":[]}'))).toContain(
      '"proof" is not an object',
    );
    expect(invalidBecause(() => parseAuditConsistencyProof('{"proof":null}'))).toContain(
      '"proof" is not an object',
    );
    expect(
      invalidBecause(() => parseAuditConsistencyProof(JSON.stringify({ ...consistency, size2: -2 }))),
    ).toContain('"size2" is not a non-negative integer');
    expect(
      invalidBecause(() =>
        parseAuditConsistencyProof(JSON.stringify({ proof: { ...consistency, root1: 'x' } })),
      ),
    ).toContain('"root1" is not 64 lower-case hex digits');
    expect(parseAuditConsistencyProof(JSON.stringify({ proof: consistency }))).toEqual(consistency);
  });
});

describe('inclusion proofs checked without the log', () => {
  it('refuses a record that is not a valid audit record, one of another seq, and a wrong leaf hash', async () => {
    const { path, lines } = await writeLog(4);
    const proof = await proveAuditRecord(path, 2);
    expect(verifyAuditInclusionProof({ ...proof, record: '{"seq":2}' })).toMatchObject({
      ok: false,
      problem: 'proof-mismatch',
      message: "The proof's record is not a valid audit record.",
    });
    const other = await proveAuditRecord(path, 1);
    expect(verifyAuditInclusionProof({ ...proof, record: lines[1] as string })).toMatchObject({
      ok: false,
      problem: 'proof-mismatch',
      message: "The proof's record has seq 1, not 2.",
    });
    expect(verifyAuditInclusionProof({ ...proof, leafHash: other.leafHash })).toMatchObject({
      ok: false,
      problem: 'proof-mismatch',
      message: "The proof's leaf hash is not the hash of its record.",
    });
  });

  it('reads an attached checkpoint without a key, and refuses one for another tree', async () => {
    const { path } = await writeLog(6);
    const { note } = await checkpointAuditLog(path, keys.signerKey);
    const proof = await proveAuditRecord(path, 3, { checkpoint: note });
    expect(verifyAuditInclusionProof(proof)).toMatchObject({ ok: true, signatureChecked: false });
    expect(verifyAuditInclusionProof(proof).message).toContain('an unsigned root');
    const smaller = (await checkpointAuditLog((await writeLog(5)).path, keys.signerKey)).note;
    expect(verifyAuditInclusionProof({ ...proof, checkpoint: smaller })).toMatchObject({
      ok: false,
      problem: 'proof-mismatch',
      message: "The proof is for a tree of 6 records that is not the checkpoint's (5 records).",
    });
    expect(verifyAuditInclusionProof({ ...proof, checkpoint: 'not a checkpoint' })).toMatchObject({
      ok: false,
      problem: 'checkpoint-invalid',
      signatureChecked: false,
    });
  });

  it('says who signed the root it checked', async () => {
    const { path } = await writeLog(3);
    const { note } = await checkpointAuditLog(path, keys.signerKey);
    const result = verifyAuditInclusionProof(await proveAuditRecord(path, 0, { checkpoint: note }), {
      key: keys.verifierKey,
    });
    const signedBy = keys.verifierKey.split('+').slice(0, 2).join('+');
    expect(result).toMatchObject({ ok: true, signatureChecked: true, signedBy });
    expect(result.message).toBe(
      `Record 0 is included in the tree of 3 records of the checkpoint signed by ${signedBy}.`,
    );
  });
});

describe('consistency checked without a key', () => {
  it('compares what the checkpoints claim and says the signatures were not checked', async () => {
    const large = await writeLog(7);
    const { note: note1 } = await checkpointAuditLog((await writeLog(3)).path, keys.signerKey);
    const { note: note2 } = await checkpointAuditLog(large.path, keys.signerKey);
    const proof = await proveAuditConsistency(large.path, 3, 7);
    const result = verifyAuditConsistency(note1, note2, proof, { sources: ['old.cp', 'new.cp'] });
    expect(result).toMatchObject({ ok: true, signatureChecked: false });
    expect(result).not.toHaveProperty('signedBy');
    expect(result.message).toBe(
      'new.cp (7 records) extends old.cp (3 records): the log was only appended to.',
    );
  });

  it('refuses checkpoints of two different logs, and a malformed checkpoint', async () => {
    const log = await writeLog(4);
    const { note: note1 } = await checkpointAuditLog(log.path, keys.signerKey, { origin: 'one/log' });
    const { note: note2 } = await checkpointAuditLog(log.path, keys.signerKey, { origin: 'two/log' });
    const proof = await proveAuditConsistency(log.path, 4, 4);
    expect(verifyAuditConsistency(note1, note2, proof)).toMatchObject({
      ok: false,
      problem: 'inconsistent',
      message: 'The checkpoints name different logs (one/log, two/log).',
    });
    expect(verifyAuditConsistency('garbage', note2, proof)).toMatchObject({
      ok: false,
      problem: 'checkpoint-invalid',
    });
  });

  it('throws AUDIT_KEY_INVALID for a malformed key instead of answering', async () => {
    const log = await writeLog(2);
    const { note } = await checkpointAuditLog(log.path, keys.signerKey);
    const proof = await proveAuditConsistency(log.path, 2, 2);
    expect(() => verifyAuditConsistency(note, note, proof, { key: 'not-a-key' })).toThrow(
      expect.objectContaining({ code: 'AUDIT_KEY_INVALID' }),
    );
  });

  it('refuses to checkpoint or prove from a log it cannot read, naming the path and the cause', async () => {
    const missing = join(directory, 'missing.jsonl');
    const expected = { code: 'AUDIT_INVALID', details: { path: missing, cause: 'ENOENT' } };
    await expect(checkpointAuditLog(missing, keys.signerKey)).rejects.toMatchObject(expected);
    await expect(proveAuditRecord(missing, 0)).rejects.toMatchObject(expected);
  });

  it('refuses to prove a record of a log that fails verification, naming the problem and the record', async () => {
    const { lines } = await writeLog(5);
    const path = join(directory, `tampered-${counter++}.jsonl`);
    const tampered = lines.map((line, index) => (index === 2 ? line.replace('"ALLOW"', '"DENY"') : line));
    await writeFile(path, tampered.map((line) => `${line}\n`).join(''));
    await expect(proveAuditRecord(path, 0)).rejects.toMatchObject({
      code: 'AUDIT_INVALID',
      details: { path, problem: 'edited', firstBadSeq: 2 },
    });
  });
});
