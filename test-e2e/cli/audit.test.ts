import { createJsonlFileAuditSink } from '@ape/audit';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ape, createScratch, expectNoStackTrace, expectOneLineError } from './run-ape.js';

let scratch: ReturnType<typeof createScratch>;
let lines: string[];

beforeAll(async () => {
  scratch = createScratch();
  const sink = await createJsonlFileAuditSink(join(scratch.path, 'audit.jsonl'));
  const types = [
    'session.created',
    'decision.made',
    'token.issued',
    'tool.executed',
    'session.terminated',
  ] as const;
  for (let index = 0; index < 15; index++) {
    await sink.append({
      type: types[index % types.length] ?? 'decision.made',
      tenant: index % 3 === 0 ? 'globex' : 'acme',
      session: `session-${Math.floor(index / 5)}`,
      time: Date.UTC(2026, 0, 1, 0, 0, index),
      data: { index },
    });
  }
  await sink.close();
  lines = readFileSync(join(scratch.path, 'audit.jsonl'), 'utf8').trimEnd().split('\n');
});
afterAll(() => scratch.remove());

function write(name: string, content: readonly string[], tail = '\n'): string {
  writeFileSync(join(scratch.path, name), content.join('\n') + tail);
  return name;
}

function run(...args: string[]) {
  return ape(args, { cwd: scratch.path });
}

describe('ape audit verify', () => {
  it('exits 0 for an intact log', () => {
    const result = run('audit', 'verify', 'audit.jsonl');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('15 records');
    const json = JSON.parse(run('audit', 'verify', 'audit.jsonl', '--json').stdout);
    expect(json).toMatchObject({ ok: true, records: 15 });
  });

  it('exits 1 on a torn last line (TORN), and 0 with a note under --allow-torn-tail', () => {
    const name = write('torn.jsonl', [...lines, '{"seq":15,"ts":"2026'], '');
    const result = run('audit', 'verify', name);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^TORN torn\.jsonl: 15 records intact/);
    expect(JSON.parse(run('audit', 'verify', name, '--json').stdout)).toMatchObject({
      ok: false,
      status: 'torn',
      truncated: true,
    });
    const allowed = run('audit', 'verify', name, '--allow-torn-tail');
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/torn|truncat/i);
    expect(JSON.parse(run('audit', 'verify', name, '--allow-torn-tail', '--json').stdout)).toMatchObject({
      ok: true,
      status: 'torn',
      truncated: true,
    });
  });

  it.each([
    [
      'an edited record',
      () => lines.map((line, index) => (index === 4 ? line.replace('"index":4', '"index":40') : line)),
      4,
    ],
    ['a dropped record', () => lines.filter((_, index) => index !== 6), 6],
    [
      'two swapped records',
      () => [...lines.slice(0, 8), lines[9] ?? '', lines[8] ?? '', ...lines.slice(10)],
      8,
    ],
    ['a duplicated record', () => [...lines.slice(0, 11), lines[10] ?? '', ...lines.slice(11)], 11],
  ])('exits 1 on %s, naming the first bad record by seq and line', (name, tamper, seq) => {
    const file = write(`${name.replaceAll(' ', '-')}.jsonl`, tamper());
    const result = run('audit', 'verify', file);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('TAMPERED');
    expect(result.stdout).toMatch(/seq \d+, line \d+/);
    expectNoStackTrace(result);
    const json = JSON.parse(run('audit', 'verify', file, '--json').stdout);
    expect(json.ok).toBe(false);
    expect(json.firstBadSeq).toBeLessThanOrEqual(seq);
    expect(typeof json.firstBadLine).toBe('number');
  });

  it('exits 1 on a garbage line in the middle', () => {
    const file = write('garbage.jsonl', [...lines.slice(0, 3), 'not json at all', ...lines.slice(3)]);
    expect(run('audit', 'verify', file).code).toBe(1);
  });
});

describe('ape audit show', () => {
  it('prints every record, filtered by tenant, session or type', () => {
    const all = JSON.parse(run('audit', 'show', 'audit.jsonl', '--json').stdout);
    expect(all.records).toHaveLength(15);
    const globex = JSON.parse(run('audit', 'show', 'audit.jsonl', '--tenant', 'globex', '--json').stdout);
    expect(globex.records.every((record: { tenant: string }) => record.tenant === 'globex')).toBe(true);
    expect(globex.records).toHaveLength(5);
    const session = JSON.parse(
      run('audit', 'show', 'audit.jsonl', '--session', 'session-1', '--json').stdout,
    );
    expect(session.records.map((record: { seq: number }) => record.seq)).toEqual([5, 6, 7, 8, 9]);
    const type = JSON.parse(run('audit', 'show', 'audit.jsonl', '--type', 'token.issued', '--json').stdout);
    expect(type.records.map((record: { seq: number }) => record.seq)).toEqual([2, 7, 12]);
  });

  it('prints a table for people', () => {
    const result = run('audit', 'show', 'audit.jsonl', '--tenant', 'acme');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^SEQ\s+TIME\s+TENANT\s+SESSION\s+TYPE\s+DATA$/m);
    expect(result.stdout).not.toContain('globex');
  });

  it('refuses a tampered log with exit 1 and one line', () => {
    const file = write(
      'show-tampered.jsonl',
      lines.filter((_, index) => index !== 2),
    );
    const result = run('audit', 'show', file);
    expectOneLineError(result, 1);
    expect(result.stdout).toBe('');
  });
});

describe('ape audit tail', () => {
  it('prints the last ten records by default, or -n of them', () => {
    const last = JSON.parse(run('audit', 'tail', 'audit.jsonl', '--json').stdout);
    expect(last.records.map((record: { seq: number }) => record.seq)).toEqual([
      5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    ]);
    const three = JSON.parse(run('audit', 'tail', 'audit.jsonl', '-n', '3', '--json').stdout);
    expect(three.records.map((record: { seq: number }) => record.seq)).toEqual([12, 13, 14]);
    const text = run('audit', 'tail', 'audit.jsonl', '-n', '2');
    expect(text.stdout.trimEnd().split('\n')).toHaveLength(3);
  });
});
