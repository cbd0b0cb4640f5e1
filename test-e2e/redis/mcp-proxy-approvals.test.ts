import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRedisConnection, type PendingApproval, RedisApprovalQueue } from '@ape/redis';
import { startRedisServer, type TestRedisServer } from '@ape/redis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apeBin, childEnv, sdk, apeProxyTransport, filesystemServerCommand } from '../mcp/support.js';

const run = promisify(execFile);

let server: TestRedisServer;
let base: string;
let workspace: string;
let policyFile: string;

beforeAll(async () => {
  server = await startRedisServer();
  base = realpathSync(mkdtempSync(join(tmpdir(), 'ape-mcp-redis-')));
  workspace = join(base, 'workspace');
  mkdirSync(workspace);
  policyFile = join(base, 'policy.yaml');
  writeFileSync(
    policyFile,
    `version: 1
name: fleet-gateway
allowed_actions: [list_allowed_directories]
escalation_required: [create_directory]
`,
  );
});

afterAll(async () => {
  await server.stop();
  rmSync(base, { recursive: true, force: true });
});

/** An MCP client without elicitation, talking to the built `ape mcp proxy --redis`. */
async function connect(audit: string) {
  const { Client } = await sdk.client();
  const transport = await apeProxyTransport(
    ['--policy', policyFile, '--audit', audit, '--redis', server.url],
    filesystemServerCommand(workspace),
  );
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** Waits until the proxy has published its escalation and returns it. */
async function pendingRequest(): Promise<PendingApproval> {
  const connection = createRedisConnection({ url: server.url, timeoutMs: 2_000 });
  try {
    const queue = new RedisApprovalQueue({ connection });
    for (let attempt = 0; attempt < 300; attempt++) {
      const [first] = await queue.list();
      if (first !== undefined) return first;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('no escalation was published');
  } finally {
    await connection.close();
  }
}

describe('ape mcp proxy --redis', () => {
  it('waits for ape approve in another process, then runs the call; ape deny refuses the next one', async () => {
    const audit = join(base, 'audit.jsonl');
    const client = await connect(audit);
    try {
      const approvedCall = client.callTool({
        name: 'create_directory',
        arguments: { path: join(workspace, 'approved') },
      });
      const first = await pendingRequest();
      expect(first).toMatchObject({ tenant: 'default', action: 'create_directory' });
      const approve = await run(
        process.execPath,
        [apeBin, 'approve', first.id, '--redis', server.url, '--approver', 'alice'],
        {
          env: childEnv(),
        },
      );
      expect(approve.stdout).toContain(`approved ${first.id} as alice`);
      const result = await approvedCall;
      expect(result.isError).not.toBe(true);
      expect(existsSync(join(workspace, 'approved'))).toBe(true);

      const deniedCall = client.callTool({
        name: 'create_directory',
        arguments: { path: join(workspace, 'denied') },
      });
      const second = await pendingRequest();
      await run(process.execPath, [apeBin, 'deny', second.id, '--redis', server.url, '--approver', 'bob'], {
        env: childEnv(),
      });
      expect((await deniedCall).isError).toBe(true);
      expect(existsSync(join(workspace, 'denied'))).toBe(false);
    } finally {
      await client.close();
    }
    const log = readFileSync(audit, 'utf8');
    expect(log).toContain('"escalation.approved"');
    expect(log).toContain('"alice"');
    expect(log).toContain('"escalation.denied"');
    expect(log).toContain('"bob"');
  });
});
