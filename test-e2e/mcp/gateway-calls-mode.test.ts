import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAuditLog } from '@ape/audit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apeBin,
  childEnv,
  filesystemServer,
  sdk,
  apeProxyTransport,
  filesystemServerCommand,
} from './support.js';

// Issue 14, item 4, done when: through the built `ape mcp proxy` in front of the real
// @modelcontextprotocol/server-filesystem with the official SDK client, a budget of two reads and a
// transition rule forbidding writes after reads survive a denied escalation.

let base: string;
let policy: string;

const budgets = `version: 1
name: budgets
rules:
  - id: reads
    actions: [read_text_file]
    effect: allow
  - id: writes
    actions: [write_file]
    effect: allow
  - id: directories-need-a-human
    actions: [create_directory]
    effect: escalate
tool_transitions:
  read_text_file: [read_text_file, create_directory]
limits:
  - id: two-reads
    actions: [read_text_file]
    max_calls: 2
`;

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'ape-mcp-calls-')));
  for (const name of ['a', 'b', 'c']) writeFileSync(join(base, `${name}.txt`), `${name}\n`);
  policy = join(base, 'budgets.yaml');
  writeFileSync(policy, budgets);
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

interface Record_ {
  readonly type: string;
  readonly session: string;
  readonly data: Record<string, unknown>;
}

function records(audit: string): Record_[] {
  return readFileSync(audit, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

/** Two reads, an escalation denied (the proxy's deny-all: the client cannot elicit), a third read, a write. */
async function attackThroughProxy(name: string, flags: readonly string[]) {
  const { Client } = await sdk.client();
  const audit = join(base, `${name}.jsonl`);
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  await client.connect(
    await apeProxyTransport(['--policy', policy, '--audit', audit, ...flags], filesystemServerCommand(base)),
  );
  const target = join(base, `${name}-written.txt`);
  const directory = join(base, `${name}-directory`);
  try {
    for (const file of ['a', 'b']) {
      const read = await client.callTool({
        name: 'read_text_file',
        arguments: { path: join(base, `${file}.txt`) },
      });
      expect(read.isError).toBeFalsy();
    }
    const escalated = await client.callTool({ name: 'create_directory', arguments: { path: directory } });
    expect(escalated._meta['ape/decision'].code).toBe('ESCALATION_DENIED');
    const third = await client.callTool({ name: 'read_text_file', arguments: { path: join(base, 'c.txt') } });
    const write = await client.callTool({
      name: 'write_file',
      arguments: { path: target, content: 'pwned' },
    });
    return { audit, third, write, target, directory };
  } finally {
    await client.close();
  }
}

function textOf(result: { content: { text?: string }[] }): string {
  return result.content.map((item) => item.text ?? '').join('');
}

describe('ape mcp proxy on calls mode: nothing resets a budget', () => {
  it('--after-denied-escalation continue: the third read and the write after a read are refused, the log names the rules', async () => {
    const { audit, third, write, target, directory } = await attackThroughProxy('continue', [
      '--after-denied-escalation',
      'continue',
    ]);
    expect(third.isError).toBe(true);
    expect(third._meta['ape/decision']).toMatchObject({ code: 'POLICY_DENY', rules: ['two-reads'] });
    expect(textOf(third)).not.toContain('c\n');
    expect(write.isError).toBe(true);
    expect(write._meta['ape/decision']).toMatchObject({
      code: 'POLICY_DENY',
      rules: ['tool_transitions.read_text_file'],
    });
    expect(existsSync(target)).toBe(false);
    expect(existsSync(directory)).toBe(false);
    expect((await verifyAuditLog(audit)).ok).toBe(true);
    const log = records(audit);
    const sessions = log.filter((record) => record.type === 'session.created');
    expect(sessions).toHaveLength(2);
    expect(sessions[1]?.data['lineage']).toBe(sessions[0]?.data['lineage']);
    expect(sessions[1]?.data['continuesSession']).toBe(sessions[0]?.session);
    const denials = log
      .filter((record) => record.type === 'decision.made' && record.data['decision'] === 'DENY')
      .map((record) => [record.session, record.data['action'], record.data['rules']]);
    expect(denials).toEqual([
      [sessions[1]?.session, 'read_text_file', ['two-reads']],
      [sessions[1]?.session, 'write_file', ['tool_transitions.read_text_file']],
    ]);
    expect(log.some((record) => record.type === 'escalation.denied')).toBe(true);
  });

  it('by default every call after the denied escalation is refused, and the log says why', async () => {
    const { audit, third, write, target } = await attackThroughProxy('refuse', []);
    expect(third._meta['ape/decision'].code).toBe('SESSION_ENDED');
    expect(write._meta['ape/decision'].code).toBe('SESSION_ENDED');
    expect(existsSync(target)).toBe(false);
    expect((await verifyAuditLog(audit)).ok).toBe(true);
    const refusals = records(audit)
      .filter((record) => record.data['source'] === 'mcp-gateway')
      .map((record) => [record.data['action'], record.data['code']]);
    expect(refusals).toEqual([
      ['read_text_file', 'SESSION_ENDED'],
      ['write_file', 'SESSION_ENDED'],
    ]);
    expect(records(audit).filter((record) => record.type === 'session.created')).toHaveLength(1);
  });

  it('refuses an unknown --after-denied-escalation with one line and exit 2', () => {
    const run = spawnSync(
      process.execPath,
      [
        apeBin,
        'mcp',
        'proxy',
        '--policy',
        policy,
        '--after-denied-escalation',
        'reset',
        '--',
        process.execPath,
        filesystemServer,
        base,
      ],
      { env: childEnv(), encoding: 'utf8', timeout: 30_000, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^ape: --after-denied-escalation must be refuse or continue, got "reset"\n$/);
  });
});
