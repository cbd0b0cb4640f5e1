import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AuditRecord, createAuditChain, MemoryAuditSink, serializeAuditRecord } from '@ape/audit';
import type { AuditEvent } from '@ape/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ape, createScratch, expectNoStackTrace } from './run-ape.js';

// The tamper bench of issue 18: every attack on a log and its signed checkpoint, run through the
// built `ape` binary, is detected with its own message and exit 1; the untouched log verifies.

const COUNT = 20;
let scratch: ReturnType<typeof createScratch>;
let lines: string[];

function event(n: number, data: Record<string, unknown> = { n }): AuditEvent {
  return {
    type:
      n % 4 === 0
        ? 'decision.made'
        : n % 4 === 1
          ? 'token.issued'
          : n % 4 === 2
            ? 'token.consumed'
            : 'tool.executed',
    tenant: 'acme',
    session: `s${Math.floor(n / 4)}`,
    time: Date.UTC(2026, 0, 1, 0, 0, n),
    data,
  };
}

/** The lines of a fresh log of `count` events; from `divergeAt` on, the events differ. */
async function logLines(count: number, divergeAt = count): Promise<string[]> {
  const sink = new MemoryAuditSink();
  for (let n = 0; n < count; n++) await sink.append(event(n, n < divergeAt ? { n } : { n, forked: true }));
  return sink.lines();
}

function write(name: string, content: readonly string[], tail = '\n'): string {
  writeFileSync(join(scratch.path, name), content.join('\n') + tail);
  return name;
}

function run(...args: string[]) {
  return ape(args, { cwd: scratch.path });
}

/** Verifies `file` against the checkpoint through the binary, human and JSON. */
function verify(file: string, checkpoint = 'audit.cp', key = 'log.pub') {
  const human = run('audit', 'verify', file, '--checkpoint', checkpoint, '--key', key);
  const json = run('audit', 'verify', file, '--checkpoint', checkpoint, '--key', key, '--json');
  expectNoStackTrace(human);
  return { human, report: JSON.parse(json.stdout) as Record<string, unknown>, jsonCode: json.code };
}

beforeAll(async () => {
  scratch = createScratch();
  lines = await logLines(COUNT);
  write('audit.jsonl', lines);
  expect(run('audit', 'keygen', '--out', 'log', '--name', 'acme.example/audit').code).toBe(0);
  expect(run('audit', 'keygen', '--out', 'intruder', '--name', 'acme.example/audit').code).toBe(0);
  expect(run('audit', 'checkpoint', 'audit.jsonl', '--key', 'log.key', '--out', 'audit.cp').code).toBe(0);
});
afterAll(() => scratch.remove());

describe('the tamper bench: a log and its signed checkpoint', () => {
  it('verifies the untouched log against its checkpoint (exit 0)', () => {
    const { human, report } = verify('audit.jsonl');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /^intact audit\.jsonl: 20 records, hash chain verified, matches checkpoint audit\.cp/,
    );
    expect(report).toMatchObject({
      ok: true,
      status: 'intact',
      records: COUNT,
      checkpoint: { size: COUNT, matches: true },
    });
  });

  it.each([
    [
      'edit',
      () => lines.map((line, index) => (index === 7 ? line.replace('"n":7', '"n":70') : line)),
      'edited',
      /does not match its hash/,
    ],
    ['drop', () => lines.filter((_, index) => index !== 9), 'dropped', /1 record is missing before seq 10/],
    [
      'insert',
      () => [...lines.slice(0, 5), lines[5]?.replace('"n":5', '"n":55') ?? '', ...lines.slice(5)],
      'inserted',
      /not part of the chain was inserted/,
    ],
    [
      'reorder',
      () => [...lines.slice(0, 11), lines[12] ?? '', lines[11] ?? '', ...lines.slice(13)],
      'reordered',
      /record 12 appears where record 11 belongs/,
    ],
    [
      'duplicate',
      () => [...lines.slice(0, 14), lines[13] ?? '', ...lines.slice(14)],
      'duplicated',
      /record 13 appears more than once/,
    ],
  ])('detects a chain attack: %s', (name, tamper, problem, message) => {
    const file = write(`${name}.jsonl`, tamper());
    const { human, report, jsonCode } = verify(file);
    expect(human.code).toBe(1);
    expect(jsonCode).toBe(1);
    expect(human.stdout).toMatch(/^TAMPERED /);
    expect(human.stdout).toMatch(message);
    expect(report).toMatchObject({ ok: false, status: 'tampered', problem });
  });

  it('detects a torn tail (TORN, exit 1) unless allowed', () => {
    const file = write('torn.jsonl', [...lines, lines[COUNT - 1]?.slice(0, 40) ?? ''], '');
    const { human, report } = verify(file);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(
      /^TORN torn\.jsonl: 20 records intact, matches checkpoint audit\.cp .*then a torn last line \(line 21\)/,
    );
    expect(report).toMatchObject({ ok: false, status: 'torn', truncated: true });
    expect(
      run('audit', 'verify', file, '--checkpoint', 'audit.cp', '--key', 'log.pub', '--allow-torn-tail').code,
    ).toBe(0);
  });

  it('detects tail truncation: records cut from the end after the checkpoint', () => {
    const file = write('cut.jsonl', lines.slice(0, COUNT - 3));
    expect(run('audit', 'verify', file).code).toBe(0);
    const { human, report } = verify(file);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/does not match checkpoint audit\.cp \(checkpoint-ahead\)/);
    expect(human.stdout).toMatch(/3 records were cut from the end \(tail truncation\)/);
    expect(report).toMatchObject({
      ok: false,
      problem: 'checkpoint-ahead',
      records: COUNT - 3,
      firstBadSeq: COUNT - 3,
    });
  });

  it('detects a full rewrite from an edit onward with fresh hashes', () => {
    const records = lines.map((line) => JSON.parse(line) as AuditRecord);
    const edited = records[6] as AuditRecord;
    const chain = createAuditChain({ seq: 6, prev: edited.prev }, { redact: false });
    const rewritten = records.slice(6).map((record, index) =>
      serializeAuditRecord(
        chain.next({
          type: record.type,
          tenant: record.tenant,
          session: record.session,
          time: Date.parse(record.ts),
          data: index === 0 ? { n: 6, rewritten: true } : record.data,
        }),
      ),
    );
    const file = write('rewritten.jsonl', [...lines.slice(0, 6), ...rewritten]);
    expect(run('audit', 'verify', file).code).toBe(0);
    const { human, report } = verify(file);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/\(checkpoint-mismatch\)/);
    expect(human.stdout).toMatch(/do not hash to the root signed in the checkpoint .* rewritten/);
    expect(report).toMatchObject({
      ok: false,
      problem: 'checkpoint-mismatch',
      checkpoint: { matches: false },
    });
  });

  it('detects a replaced file: another log of the same size, verifying on its own', async () => {
    const sink = new MemoryAuditSink();
    for (let n = 0; n < COUNT; n++) await sink.append(event(n, { n, replaced: true }));
    const file = write('replaced.jsonl', sink.lines());
    expect(run('audit', 'verify', file).code).toBe(0);
    const { human, report } = verify(file);
    expect(human.code).toBe(1);
    expect(report).toMatchObject({ problem: 'checkpoint-mismatch' });
  });

  it('detects a fork: a second log from the same prefix, against the checkpoint and by consistency', async () => {
    const forked = await logLines(COUNT + 4, 12);
    const file = write('fork.jsonl', forked);
    expect(run('audit', 'verify', file).code).toBe(0);
    const { human, report } = verify(file);
    expect(human.code).toBe(1);
    expect(report).toMatchObject({ problem: 'checkpoint-mismatch' });
    expect(run('audit', 'checkpoint', file, '--key', 'log.key', '--out', 'fork.cp').code).toBe(0);
    const consistency = run('audit', 'consistency', 'audit.cp', 'fork.cp', '--key', 'log.pub', '--log', file);
    expect(consistency.code).toBe(1);
    expect(consistency.stdout).toMatch(
      /^INCONSISTENT \(inconsistent\): fork\.cp does not extend audit\.cp: .*a fork/,
    );
    // The honest continuation of the same log is consistent.
    const grown = write('grown.jsonl', await logLines(COUNT + 4));
    expect(run('audit', 'checkpoint', grown, '--key', 'log.key', '--out', 'grown.cp').code).toBe(0);
    expect(run('audit', 'consistency', 'audit.cp', 'grown.cp', '--key', 'log.pub', '--log', grown).code).toBe(
      0,
    );
  });

  it('detects a checkpoint signed by another key', () => {
    expect(
      run('audit', 'checkpoint', 'audit.jsonl', '--key', 'intruder.key', '--out', 'intruder.cp').code,
    ).toBe(0);
    const { human, report } = verify('audit.jsonl', 'intruder.cp');
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(
      /^BAD CHECKPOINT intruder\.cp \(checkpoint-signature\)\nintruder\.cp is not signed by key acme\.example\/audit\+/,
    );
    expect(report).toMatchObject({ ok: false, problem: 'checkpoint-signature' });
  });

  it('detects a checkpoint for a larger size than the log: signed for a longer log, or its size line edited', async () => {
    const longer = write('longer.jsonl', await logLines(COUNT + 5));
    expect(run('audit', 'checkpoint', longer, '--key', 'log.key', '--out', 'longer.cp').code).toBe(0);
    const signed = verify('audit.jsonl', 'longer.cp');
    expect(signed.human.code).toBe(1);
    expect(signed.human.stdout).toMatch(
      /covers 25 records but the log holds 20 intact records: 5 records were cut/,
    );
    expect(signed.report).toMatchObject({ problem: 'checkpoint-ahead' });
    const note = readFileSync(join(scratch.path, 'audit.cp'), 'utf8');
    writeFileSync(join(scratch.path, 'edited.cp'), note.replace(/^(.*)\n20\n/, '$1\n25\n'));
    const edited = verify('audit.jsonl', 'edited.cp');
    expect(edited.human.code).toBe(1);
    expect(edited.human.stdout).toMatch(
      /edited\.cp carries a signature by key .* that does not verify: the text or the signature was altered/,
    );
    expect(edited.report).toMatchObject({ problem: 'checkpoint-signature' });
  });

  it('proves one record to someone without the log, and refuses the proof against another key', () => {
    expect(
      run('audit', 'prove', 'audit.jsonl', '--seq', '11', '--checkpoint', 'audit.cp', '--out', 'proof.json')
        .code,
    ).toBe(0);
    const ok = run('audit', 'verify-proof', 'proof.json', '--key', 'log.pub');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^PROOF OK: Record 11 is included in the tree of 20 records/);
    const foreign = run('audit', 'verify-proof', 'proof.json', '--key', 'intruder.pub');
    expect(foreign.code).toBe(1);
    expect(foreign.stdout).toMatch(/^BAD PROOF \(checkpoint-signature\)/);
  });
});

describe('the tamper bench on a log large enough to verify on two threads (over 4 MiB)', () => {
  const LARGE = 20_000;
  /** A chain of `count` records; from `divergeAt` on, the events differ (fresh hashes). */
  function largeLines(count: number, divergeAt = count): string[] {
    const chain = createAuditChain();
    return Array.from({ length: count }, (_, n) =>
      serializeAuditRecord(
        chain.next(event(n, { n, note: 'x'.repeat(150), ...(n < divergeAt ? {} : { rewritten: true }) })),
      ),
    );
  }
  let large: string[];

  beforeAll(() => {
    large = largeLines(LARGE);
    write('large.jsonl', large);
    expect(run('audit', 'checkpoint', 'large.jsonl', '--key', 'log.key', '--out', 'large.cp').code).toBe(0);
  });

  it('verifies the untouched log and finds each attack with its own message (exit 1)', () => {
    const intact = verify('large.jsonl', 'large.cp');
    expect(intact.human.code).toBe(0);
    expect(intact.report).toMatchObject({ ok: true, records: LARGE, checkpoint: { matches: true } });

    const edited = [...large];
    edited[12_345] = (edited[12_345] as string).replace('"n":12345', '"n":12346');
    const editedReport = verify(write('large-edited.jsonl', edited), 'large.cp');
    expect(editedReport.human.code).toBe(1);
    expect(editedReport.report).toMatchObject({ problem: 'edited', firstBadSeq: 12_345 });

    const cut = verify(write('large-cut.jsonl', large.slice(0, LARGE - 7)), 'large.cp');
    expect(cut.human.code).toBe(1);
    expect(cut.report).toMatchObject({ problem: 'checkpoint-ahead', records: LARGE - 7 });

    const rewritten = verify(write('large-rewritten.jsonl', largeLines(LARGE, 15_000)), 'large.cp');
    expect(rewritten.human.code).toBe(1);
    expect(rewritten.report).toMatchObject({ problem: 'checkpoint-mismatch', records: LARGE });

    const torn = verify(write('large-torn.jsonl', large, '\n{"data":{"n"'), 'large.cp');
    expect(torn.human.code).toBe(1);
    expect(torn.report).toMatchObject({ problem: 'truncated', records: LARGE });
  });
});
