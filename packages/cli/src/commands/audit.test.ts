import { createJsonlFileAuditSink } from '@ape/audit';
import { createRuntime } from '@ape/core';
import { createFakeAuthority, createStubPolicy } from '@ape/core/testing';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDirectory, run } from '../__fixtures__/test-io.js';
import { parseCount, summarise } from './audit.js';

let temp: ReturnType<typeof createTempDirectory>;
let log: string;

beforeEach(async () => {
  temp = createTempDirectory();
  log = join(temp.path, 'audit.jsonl');
  const sink = await createJsonlFileAuditSink(log);
  for (let index = 0; index < 6; index++) {
    await sink.append({
      type: index % 3 === 0 ? 'session.created' : 'decision.made',
      tenant: index < 3 ? 'acme' : 'globex',
      session: `s${index < 3 ? 1 : 2}`,
      time: Date.UTC(2026, 0, 1, 0, 0, index),
      data: { index },
    });
  }
  await sink.close();
});
afterEach(() => temp.remove());

function audit(...args: string[]) {
  return run(['audit', ...args], { cwd: temp.path });
}

function tamper(): void {
  const lines = readFileSync(log, 'utf8').split('\n');
  lines[2] = (lines[2] ?? '').replace('"index":2', '"index":7');
  writeFileSync(log, lines.join('\n'));
}

describe('ape audit verify', () => {
  it('exits 0 for an intact log and counts its records', async () => {
    const result = await audit('verify', 'audit.jsonl');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('intact audit.jsonl: 6 records');
  });

  it('exits 1 on tampering, naming the first bad record by seq and line', async () => {
    tamper();
    const result = await audit('verify', 'audit.jsonl');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('TAMPERED audit.jsonl: first bad record at seq 2, line 3');
  });

  it('reports the verification as JSON', async () => {
    tamper();
    const result = await audit('verify', 'audit.jsonl', '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      file: 'audit.jsonl',
      ok: false,
      records: 2,
      firstBadSeq: 2,
      firstBadLine: 3,
      problem: 'edited',
    });
  });

  it('reports a torn last line as TORN and exits 1', async () => {
    writeFileSync(log, `${readFileSync(log, 'utf8')}{"seq":6,"ts`);
    const result = await audit('verify', 'audit.jsonl');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^TORN audit\.jsonl: 6 records intact, then a torn last line \(line 7\)/);
    const json = await audit('verify', 'audit.jsonl', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, status: 'torn', truncated: true, records: 6 });
  });

  it('accepts a torn last line with --allow-torn-tail, with a note', async () => {
    writeFileSync(log, `${readFileSync(log, 'utf8')}{"seq":6,"ts`);
    const result = await audit('verify', 'audit.jsonl', '--allow-torn-tail');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/note: .*torn write/);
    const json = JSON.parse((await audit('verify', 'audit.jsonl', '--allow-torn-tail', '--json')).stdout);
    expect(json).toMatchObject({ ok: true, status: 'torn', allowTornTail: true });
  });

  it('exits 2 and says "not an audit log" for a policy file, not TAMPERED', async () => {
    writeFileSync(join(temp.path, 'policy.yaml'), 'version: 1\nallowed_actions: [read_file]\n');
    const result = await audit('verify', 'policy.yaml');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^ape: policy\.yaml is not an audit log: its first line is not an audit record/,
    );
    writeFileSync(join(temp.path, 'one-line.txt'), 'hello');
    expect((await audit('verify', 'one-line.txt')).stderr).toContain('is not an audit log');
  });

  it('still reports a log whose only record is torn as TORN', async () => {
    writeFileSync(join(temp.path, 'torn.jsonl'), readFileSync(log, 'utf8').slice(0, 40));
    const result = await audit('verify', 'torn.jsonl');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^TORN torn\.jsonl/);
  });

  it('counts a single record in the singular', async () => {
    writeFileSync(join(temp.path, 'one.jsonl'), `${readFileSync(log, 'utf8').split('\n')[0]}\n`);
    const result = await audit('verify', 'one.jsonl');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('intact one.jsonl: 1 record, hash chain verified\n');
  });

  it('names the seq and line of a record that is not JSON, and says it is not a torn write', async () => {
    const lines = readFileSync(log, 'utf8').split('\n');
    lines[3] = 'not json at all';
    writeFileSync(log, lines.join('\n'));
    const result = await audit('verify', 'audit.jsonl');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      [
        'TAMPERED audit.jsonl: first bad record at seq 3, line 4 (malformed)',
        'Line 4 (seq 3) is not JSON; it is not the last line, so this is not a torn write.',
        '3 records before it verified.',
        '',
      ].join('\n'),
    );
  });

  it('exits 2 with one line for a missing log', async () => {
    const result = await audit('verify', 'none.jsonl');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^ape: Cannot read audit log .*none\.jsonl/);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('ape audit show', () => {
  it('verifies and shows the plan.extended records of a calls-mode session', async () => {
    const calls = join(temp.path, 'calls.jsonl');
    const sink = await createJsonlFileAuditSink(calls);
    const runtime = createRuntime({
      tenant: 'acme',
      policy: createStubPolicy({ decisions: { read_file: 'ALLOW' } }),
      authority: createFakeAuthority({ tenant: 'acme' }),
      audit: sink,
      sessionId: 'calls-1',
    });
    await runtime.setIntent(
      { allowed_actions: ['read_file'], forbidden_actions: [], scope: 'audit show test' },
      { provenance: 'USER_TRUSTED' },
    );
    await runtime.call('read_file', () => 'text', { args: { path: '/a' }, provenance: 'USER_TRUSTED' });
    await runtime.terminate();
    await sink.close();
    expect((await audit('verify', 'calls.jsonl')).code).toBe(0);
    const shown = await audit('show', 'calls.jsonl', '--type', 'plan.extended');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`index=0 action=read_file head=${runtime.planHash}`);
  });

  it('prints every record as a table', async () => {
    const result = await audit('show', 'audit.jsonl');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SEQ\s+TIME\s+TENANT\s+SESSION\s+TYPE\s+DATA$/);
    expect(lines).toHaveLength(7);
  });

  it('filters by tenant, session and type', async () => {
    const byTenant = JSON.parse((await audit('show', 'audit.jsonl', '--tenant', 'globex', '--json')).stdout);
    expect(byTenant.records.map((record: { seq: number }) => record.seq)).toEqual([3, 4, 5]);
    const bySession = JSON.parse((await audit('show', 'audit.jsonl', '--session', 's1', '--json')).stdout);
    expect(bySession.records.map((record: { seq: number }) => record.seq)).toEqual([0, 1, 2]);
    const byType = JSON.parse(
      (await audit('show', 'audit.jsonl', '--type', 'session.created', '--json')).stdout,
    );
    expect(byType.records.map((record: { seq: number }) => record.seq)).toEqual([0, 3]);
  });

  it('refuses an unknown --type with exit 2 and the closest event type', async () => {
    const result = await audit('show', 'audit.jsonl', '--type', 'decision.mad');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^ape: --type "decision\.mad" is not an audit event type; did you mean decision\.made\? \(types: session\.created, /,
    );
    const far = await audit('show', 'audit.jsonl', '--type', 'zzz');
    expect(far.code).toBe(2);
    expect(far.stderr).not.toContain('did you mean');
  });

  it('exits 1 and prints no record when the log was tampered with', async () => {
    tamper();
    const result = await audit('show', 'audit.jsonl');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^ape: .*failed verification/);
  });
});

describe('ape audit tail', () => {
  it('prints the last ten records by default, or -n of them', async () => {
    const all = JSON.parse((await audit('tail', 'audit.jsonl', '--json')).stdout);
    expect(all.records).toHaveLength(6);
    const two = JSON.parse((await audit('tail', 'audit.jsonl', '-n', '2', '--json')).stdout);
    expect(two.records.map((record: { seq: number }) => record.seq)).toEqual([4, 5]);
    const none = await audit('tail', 'audit.jsonl', '-n', '0');
    expect(none.stdout).toBe('(no records)\n');
  });

  it('exits 2 for a count that is not a non-negative integer', async () => {
    const result = await audit('tail', 'audit.jsonl', '-n', '-3');
    expect(result.code).toBe(2);
    expect(() => parseCount('1.5')).toThrow('non-negative integer');
  });
});

describe('summarise', () => {
  it('puts the telling keys first as key=value pairs', () => {
    expect(
      summarise({
        argsDigest: 'abc',
        rules: ['r1', 'r2'],
        decision: 'DENY',
        action: 'delete_file',
        stepIndex: 1,
      }),
    ).toBe('stepIndex=1 action=delete_file decision=DENY rules=[r1,r2] argsDigest=abc');
  });

  it('shows a calls-mode plan.extended record by index, action and new head', () => {
    expect(summarise({ prev: 'p0', head: 'h1', argsDigest: 'abc', action: 'read_file', index: 0 })).toBe(
      'index=0 action=read_file head=h1 argsDigest=abc prev=p0',
    );
  });

  it('stays on one line, cut to a readable length', () => {
    const text = summarise({ reason: `a\nb ${'x'.repeat(500)}` });
    expect(text).not.toContain('\n');
    expect(text.length).toBeLessThanOrEqual(160);
  });
});
