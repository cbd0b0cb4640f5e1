import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { verifyAuditLog } from '@ape/audit';
import { startRedisServer, type TestRedisServer } from '@ape/redis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apeBin,
  childEnv,
  filesystemServer,
  root,
  sdk,
  apeProxyTransport,
  filesystemServerCommand,
} from './support.js';

// Issue 19: `ape mcp proxy --redis URL --lineage ID` keeps budgets, the previous action and
// revocations in Redis. Two proxy processes (each in front of the real filesystem server, each with
// its own SDK client) share one lineage on one real redis-server: a budget of two reads and a
// transition rule hold across them, and `ape revoke --tenant` stops both.

const run = promisify(execFile);

let server: TestRedisServer;
let base: string;
let policy: string;

beforeAll(async () => {
  server = await startRedisServer();
  base = realpathSync(mkdtempSync(join(tmpdir(), 'ape-mcp-fleet-')));
  for (const name of ['a', 'b', 'c']) writeFileSync(join(base, `${name}.txt`), `${name}\n`);
  policy = join(base, 'fleet.yaml');
  writeFileSync(
    policy,
    `version: 1
name: fleet
allowed_actions: [read_text_file, write_file, list_allowed_directories]
tool_transitions:
  read_text_file: [read_text_file, list_allowed_directories]
limits:
  - id: two-reads
    actions: [read_text_file]
    max_calls: 2
    scope: lineage
`,
  );
});

afterAll(async () => {
  await server.stop();
  rmSync(base, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: the SDK is loaded by path, without its types
type Client = any;

/** A proxy process in the fleet's lineage, with its own client and audit log. */
async function connect(name: string, prefix: string): Promise<{ client: Client; audit: string }> {
  const { Client } = await sdk.client();
  const audit = join(base, `${name}.jsonl`);
  const client = new Client({ name: `e2e-${name}`, version: '1.0.0' });
  await client.connect(
    await apeProxyTransport(
      ['--policy', policy, '--audit', audit, '--redis', server.url, '--prefix', prefix, '--lineage', 'alice'],
      filesystemServerCommand(base),
    ),
  );
  return { client, audit };
}

function read(client: Client, file: string) {
  return client.callTool({ name: 'read_text_file', arguments: { path: join(base, `${file}.txt`) } });
}

function decisionOf(result: { _meta?: Record<string, unknown> }): Record<string, unknown> | undefined {
  return result._meta?.['ape/decision'] as Record<string, unknown> | undefined;
}

describe('ape mcp proxy --redis --lineage: two proxy processes share budgets, lineage and revocations', () => {
  it('counts a lineage budget and its previous action across both processes, and ape revoke stops both', async () => {
    const first = await connect('first', 'fleet-a:');
    const second = await connect('second', 'fleet-a:');
    const target = join(base, 'written.txt');
    try {
      expect((await read(first.client, 'a')).isError).toBeFalsy();
      expect((await read(second.client, 'b')).isError).toBeFalsy();
      // The budget of two reads is the lineage's, whichever process counted them.
      const third = await read(first.client, 'c');
      expect(third.isError).toBe(true);
      expect(decisionOf(third)).toMatchObject({ code: 'POLICY_DENY', rules: ['two-reads'] });
      // The previous action (a read, run by the other process) forbids a write.
      const write = await second.client.callTool({
        name: 'write_file',
        arguments: { path: target, content: 'pwned' },
      });
      expect(write.isError).toBe(true);
      expect(decisionOf(write)).toMatchObject({
        code: 'POLICY_DENY',
        rules: ['tool_transitions.read_text_file'],
      });
      expect(existsSync(target)).toBe(false);
      // Allowed after a read, so only a revocation can refuse it.
      const listed = await first.client.callTool({ name: 'list_allowed_directories', arguments: {} });
      expect(listed.isError).toBeFalsy();

      await run(
        process.execPath,
        [apeBin, 'revoke', '--tenant', 'default', '--redis', server.url, '--prefix', 'fleet-a:'],
        { env: childEnv(), cwd: root, timeout: 30_000 },
      );
      // Within the feed's staleness bound every process has read the revocation or gone stale.
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      for (const { client } of [first, second]) {
        const refused = await client.callTool({ name: 'list_allowed_directories', arguments: {} });
        expect(refused.isError).toBe(true);
        expect(decisionOf(refused)?.['code']).toMatch(/^(POLICY_DENY|REVOKED|SESSION_ENDED)$/);
      }
    } finally {
      await first.client.close();
      await second.client.close();
    }
    for (const { audit } of [first, second]) expect((await verifyAuditLog(audit)).ok).toBe(true);
    const reasons = readFileSync(first.audit, 'utf8');
    expect(reasons).toContain('two-reads');
    expect(reasons).toContain('REVOKED');
    // Nothing of this fleet lives under another prefix: the budget is keyed by prefix and lineage.
    const other = await connect('other-prefix', 'fleet-b:');
    try {
      expect((await read(other.client, 'a')).isError).toBeFalsy();
    } finally {
      await other.client.close();
    }
  });

  function proxyRefusal(flags: readonly string[]) {
    return spawnSync(
      process.execPath,
      [apeBin, 'mcp', 'proxy', '--policy', policy, ...flags, '--', process.execPath, filesystemServer, base],
      { env: childEnv(), encoding: 'utf8', timeout: 60_000, stdio: ['pipe', 'pipe', 'pipe'] },
    );
  }

  it('refuses an empty --lineage with one line and exit 2', () => {
    const refused = proxyRefusal(['--lineage', '']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^ape: --lineage must not be empty\n$/);
  });

  it('refuses to start, exit 2, when the revocations on --redis cannot be read', async () => {
    const gone = await startRedisServer();
    const url = gone.url;
    await gone.stop();
    const refused = proxyRefusal(['--redis', url]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(
      /^ape: cannot read the revocations on --redis redis:\/\/127\.0\.0\.1:\d+: /,
    );
  });
});
