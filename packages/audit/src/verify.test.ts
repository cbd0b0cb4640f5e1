import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '@ape/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionEvent } from './__fixtures__/events.js';
import { MemoryAuditSink } from './memory-sink.js';
import { AUDIT_GENESIS_HASH, type AuditRecord, hashAuditRecord, serializeAuditRecord } from './record.js';
import { verifyAuditLog } from './verify.js';

const COUNT = 12;
let lines: string[] = [];
let directory = '';

beforeAll(async () => {
  const sink = new MemoryAuditSink();
  for (let n = 0; n < COUNT; n++) {
    await sink.append(
      decisionEvent(n, { session: `session-${n % 3}`, tenant: n % 2 === 0 ? 'tenant-a' : 'tenant-b' }),
    );
  }
  lines = sink.lines();
  directory = await mkdtemp(join(tmpdir(), 'ape-audit-verify-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const parse = (line: string) => JSON.parse(line) as AuditRecord;
/** A record changed by someone who knows the format and recomputes its hash. */
function forge(record: AuditRecord, changes: Partial<AuditRecord>): string {
  const { hash: _hash, ...body } = { ...record, ...changes };
  return serializeAuditRecord({ ...body, hash: hashAuditRecord(body) });
}
const without = (list: string[], index: number) => list.filter((_, i) => i !== index);
const insertAt = (list: string[], index: number, line: string) => [
  ...list.slice(0, index),
  line,
  ...list.slice(index),
];
function move(list: string[], from: number, to: number): string[] {
  const copy = [...list];
  const [item] = copy.splice(from, 1);
  copy.splice(to, 0, item!);
  return copy;
}

describe('verifyAuditLog on an intact log', () => {
  it('accepts every record and reports the head', async () => {
    const result = await verifyAuditLog(lines);
    expect(result).toMatchObject({ ok: true, records: COUNT, lastHash: parse(lines[COUNT - 1]!).hash });
    expect(result.problem).toBeUndefined();
    expect(result.intactBytes).toBe(Buffer.byteLength(lines.join('\n')) + 1);
  });

  it('accepts event types it does not know (a newer runtime adds types such as plan.extended)', async () => {
    const sink = new MemoryAuditSink();
    await sink.append(decisionEvent(0));
    // Types this version of core does not list: the sinks and the verifier accept any non-empty type.
    const newer = (n: number, type: string) => ({ ...decisionEvent(n), type }) as unknown as AuditEvent;
    await sink.append(newer(1, 'plan.extended'));
    await sink.append(newer(2, 'something.new'));
    expect(await verifyAuditLog(sink.lines())).toMatchObject({ ok: true, records: 3 });
  });

  it('reports the RFC 9162 Merkle root of the verified records', async () => {
    const { hashMerkleLeaf, merkleRootOf, EMPTY_MERKLE_ROOT } = await import('./merkle.js');
    const root = Buffer.from(merkleRootOf(lines.map((line) => hashMerkleLeaf(line)))).toString('hex');
    expect((await verifyAuditLog(lines)).rootHash).toBe(root);
    expect((await verifyAuditLog([])).rootHash).toBe(Buffer.from(EMPTY_MERKLE_ROOT).toString('hex'));
    const five = Buffer.from(merkleRootOf(lines.slice(0, 5).map((line) => hashMerkleLeaf(line)))).toString(
      'hex',
    );
    expect((await verifyAuditLog([...lines.slice(0, 5), '{"torn'])).rootHash).toBe(five);
  });

  it('accepts an empty log', async () => {
    expect(await verifyAuditLog([])).toMatchObject({
      ok: true,
      records: 0,
      lastHash: AUDIT_GENESIS_HASH,
      intactBytes: 0,
    });
  });

  it('reads the same result from a file as from its lines, ignoring the final empty split element', async () => {
    const path = join(directory, 'intact.jsonl');
    await writeFile(path, `${lines.join('\n')}\n`);
    const fromFile = await verifyAuditLog(path);
    expect(fromFile).toEqual(await verifyAuditLog(`${lines.join('\n')}\n`.split('\n')));
    expect(fromFile.intactBytes).toBe(Buffer.byteLength(`${lines.join('\n')}\n`));
  });

  it('throws AUDIT_INVALID when the file cannot be read', async () => {
    await expect(verifyAuditLog(join(directory, 'missing.jsonl'))).rejects.toMatchObject({
      code: 'AUDIT_INVALID',
    });
  });
});

describe('verifyAuditLog classifies tampering', () => {
  const k = 5;
  /** [what, tamper, problem, firstBadSeq, firstBadLine, what the message must say]. */
  const cases: [string, () => string[], string, number, number, string][] = [
    [
      'an edited record (hash left alone)',
      () => lines.map((l, i) => (i === k ? l.replace('"ALLOW"', '"DENY"') : l)),
      'edited',
      k,
      k + 1,
      'does not match its hash',
    ],
    [
      'an edited and re-hashed record',
      () => lines.map((l, i) => (i === k ? forge(parse(l), { data: { n: 99 } }) : l)),
      'edited',
      k,
      k + 1,
      'changed and re-hashed',
    ],
    [
      'an edited first record',
      () => lines.map((l, i) => (i === 0 ? l.replace('"ALLOW"', '"DENY"') : l)),
      'edited',
      0,
      1,
      'does not match its hash',
    ],
    [
      'an edited last record',
      () => lines.map((l, i) => (i === COUNT - 1 ? l.replace('"ALLOW"', '"DENY"') : l)),
      'edited',
      COUNT - 1,
      COUNT,
      'does not match its hash',
    ],
    [
      'a record re-serialised with whitespace',
      () => lines.map((l, i) => (i === k ? JSON.stringify(parse(l), null, 1).replace(/\n/g, '') : l)),
      'edited',
      k,
      k + 1,
      'not canonical JSON',
    ],
    ['a dropped record', () => without(lines, k), 'dropped', k, k + 1, '1 record is missing before seq 6'],
    ['a dropped first record', () => without(lines, 0), 'dropped', 0, 1, '1 record is missing before seq 1'],
    [
      'three dropped records',
      () => [...lines.slice(0, k), ...lines.slice(k + 3)],
      'dropped',
      k,
      k + 1,
      '3 records are missing before seq 8',
    ],
    [
      'an inserted record that does not verify',
      () => insertAt(lines, k, lines[k]!.replace('"ALLOW"', '"DENY"')),
      'inserted',
      k,
      k + 1,
      'not part of the chain was inserted',
    ],
    [
      'an inserted record forged to fit the slot',
      () => insertAt(lines, k, forge(parse(lines[k]!), { data: { forged: true } })),
      'inserted',
      k,
      k + 1,
      'two different records claim seq 5',
    ],
    [
      'an inserted record with an arbitrary seq and prev',
      () => insertAt(lines, k, forge(parse(lines[k]!), { seq: 77, prev: 'e'.repeat(64) })),
      'inserted',
      k,
      k + 1,
      'a record claiming seq 77 was inserted',
    ],
    [
      'two swapped records',
      () => move(lines, k, k + 1),
      'reordered',
      k,
      k + 1,
      'record 6 appears where record 5 belongs',
    ],
    [
      'the last two records swapped',
      () => move(lines, COUNT - 1, COUNT - 2),
      'reordered',
      COUNT - 2,
      COUNT - 1,
      'record 11 appears where record 10 belongs',
    ],
    [
      'the first two records swapped',
      () => move(lines, 0, 1),
      'reordered',
      0,
      1,
      'record 1 appears where record 0 belongs',
    ],
    [
      'a record moved to the end',
      () => move(lines, k, COUNT - 1),
      'reordered',
      k,
      k + 1,
      'record 6 appears where record 5 belongs',
    ],
    [
      'a record moved earlier',
      () => move(lines, k + 3, k),
      'reordered',
      k,
      k + 1,
      'record 8 appears where record 5 belongs',
    ],
    [
      'a record duplicated in place',
      () => insertAt(lines, k + 1, lines[k]!),
      'duplicated',
      k,
      k + 2,
      'record 5 appears more than once',
    ],
    [
      'a record duplicated at the end',
      () => [...lines, lines[k]!],
      'duplicated',
      k,
      COUNT + 1,
      'record 5 appears more than once',
    ],
    [
      'a record duplicated before its original',
      () => insertAt(lines, 2, lines[k]!),
      'duplicated',
      k,
      3,
      'record 5 appears more than once',
    ],
    [
      'a chain that does not start at genesis',
      () => [forge(parse(lines[0]!), { prev: 'a'.repeat(64) }), ...lines.slice(1)],
      'bad-genesis',
      0,
      1,
      'not the genesis value',
    ],
    [
      'a garbage line in the middle',
      () => insertAt(lines, k, 'not json at all'),
      'malformed',
      k,
      k + 1,
      'is not JSON',
    ],
    ['an empty line in the middle', () => insertAt(lines, k, ''), 'malformed', k, k + 1, 'is not JSON'],
    [
      'a __proto__ key in a middle record',
      () => lines.map((l, i) => (i === k ? l.replace('"data":{', '"data":{"__proto__":{"x":1},') : l)),
      'malformed',
      k,
      k + 1,
      'has a "__proto__" key in "data"',
    ],
    [
      'a record with an unknown field',
      () => lines.map((l, i) => (i === k ? l.replace('{"data"', '{"a":1,"data"') : l)),
      'malformed',
      k,
      k + 1,
      'has an unknown field "a"',
    ],
  ];

  it.each(cases)('detects %s', async (_name, tamper, problem, firstBadSeq, firstBadLine, says) => {
    const result = await verifyAuditLog(tamper());
    expect(result).toMatchObject({ ok: false, problem, firstBadSeq, firstBadLine });
    expect(result.message).toContain(`Line ${firstBadLine} (seq ${firstBadSeq})`);
    expect(result.message).toContain(says);
  });

  it('names the line of a malformed record', async () => {
    const result = await verifyAuditLog(insertAt(lines, 3, '{"broken":'));
    expect(result).toMatchObject({
      ok: false,
      problem: 'malformed',
      firstBadLine: 4,
      firstBadSeq: 3,
      records: 3,
    });
  });

  it('detects a single random tampering anywhere (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('edit', 'drop', 'duplicate', 'swap'),
        fc.integer({ min: 0, max: COUNT - 3 }),
        async (kind, at) => {
          const tampered =
            kind === 'edit'
              ? lines.map((l, i) => (i === at ? l.replace('"ALLOW"', '"DENY"') : l))
              : kind === 'drop'
                ? without(lines, at)
                : kind === 'duplicate'
                  ? insertAt(lines, at + 1, lines[at]!)
                  : move(lines, at, at + 1);
          const expected = { edit: 'edited', drop: 'dropped', duplicate: 'duplicated', swap: 'reordered' }[
            kind
          ];
          expect(await verifyAuditLog(tampered)).toMatchObject({
            ok: false,
            problem: expected,
            firstBadSeq: at,
          });
        },
      ),
    );
  });
});

describe('verifyAuditLog tells a torn tail from tampering', () => {
  it('reports a half-written last line as recoverable truncation', async () => {
    const last = lines[COUNT - 1]!;
    const result = await verifyAuditLog([...lines.slice(0, -1), last.slice(0, last.length / 2)]);
    expect(result).toMatchObject({
      ok: true,
      truncated: true,
      problem: 'truncated',
      records: COUNT - 1,
      firstBadLine: COUNT,
    });
    expect(result.firstBadSeq).toBeUndefined();
  });

  it('reports a file whose last line lacks its newline as truncated, even when the line is complete', async () => {
    const path = join(directory, 'no-final-newline.jsonl');
    await writeFile(path, lines.join('\n'));
    const result = await verifyAuditLog(path);
    expect(result).toMatchObject({ ok: true, truncated: true, records: COUNT - 1 });
    expect(result.intactBytes).toBe(Buffer.byteLength(lines.slice(0, -1).join('\n')) + 1);
  });

  it('reports zero bytes left by a crash at the end of a file as truncation', async () => {
    const path = join(directory, 'zero-tail.jsonl');
    await writeFile(path, Buffer.concat([Buffer.from(`${lines.join('\n')}\n`), Buffer.alloc(100)]));
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, truncated: true, records: COUNT });
  });

  it('does not call a torn line followed by more lines truncation', async () => {
    const torn = lines[4]!.slice(0, 20);
    expect(await verifyAuditLog(insertAt(lines, 4, torn))).toMatchObject({
      ok: false,
      problem: 'malformed',
      firstBadSeq: 4,
    });
  });

  it('treats an over-long line as malformed without buffering it whole', async () => {
    const path = join(directory, 'long-line.jsonl');
    await writeFile(path, `${lines.slice(0, 2).join('\n')}\n${'x'.repeat(5000)}\n${lines[2]}\n`);
    expect(await verifyAuditLog(path, { maxLineBytes: 1000 })).toMatchObject({
      ok: false,
      problem: 'malformed',
      firstBadLine: 3,
    });
  });

  it('treats bytes that are not UTF-8 in the middle as malformed', async () => {
    const path = join(directory, 'binary.jsonl');
    await writeFile(
      path,
      Buffer.concat([
        Buffer.from(`${lines[0]}\n`),
        Buffer.from([0xff, 0xfe, 0x0a]),
        Buffer.from(`${lines[1]}\n`),
      ]),
    );
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, problem: 'malformed', firstBadLine: 2 });
  });
});
