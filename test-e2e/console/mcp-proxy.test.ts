import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdk, apeProxyTransport, filesystemServerCommand } from '../mcp/support.js';

// `ape mcp proxy --console`: the gateway serves the console itself; a tool call the client cannot
// elicit waits there until a person approves it over HTTP, and then reaches the real server.

let base: string;
let workspace: string;
let policyFile: string;

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'ape-console-mcp-')));
  workspace = join(base, 'workspace');
  mkdirSync(workspace);
  policyFile = join(base, 'policy.yaml');
  writeFileSync(
    policyFile,
    `version: 1
name: console-gateway
allowed_actions: [list_allowed_directories]
rules:
  - id: new-directories-need-a-human
    actions: [create_directory]
    effect: escalate
    when:
      args:
        type: object
        required: [path]
        properties:
          path: { type: string, x-ape-path: { roots: [${JSON.stringify(workspace)}] } }
`,
  );
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

describe('ape mcp proxy --console', () => {
  it('serves the console, and an approval there lets the escalated call reach the server', async () => {
    const { Client } = await sdk.client();
    const transport = await apeProxyTransport(
      ['--policy', policyFile, '--audit', join(base, 'audit.jsonl'), '--console', '127.0.0.1:0'],
      filesystemServerCommand(base),
    );
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const client = new Client({ name: 'console-e2e', version: '1.0.0' });
    await client.connect(transport);
    try {
      const directory = join(workspace, 'approved-by-a-person');
      const call = client.callTool({ name: 'create_directory', arguments: { path: directory } });
      await expect
        .poll(() => /sign in as admin with the secret \S+/.test(stderr), { timeout: 30_000 })
        .toBe(true);
      const [, url = '', secret = ''] =
        /console at (http:\/\/\S+): sign in as admin with the secret (\S+)/.exec(stderr) ?? [];
      const origin = url.replace(/\/$/, '');
      const login = await fetch(`${url}login`, {
        method: 'POST',
        body: new URLSearchParams({ name: 'admin', secret }),
        headers: { origin },
        redirect: 'manual',
      });
      expect(login.status).toBe(303);
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      let page = '';
      await expect
        .poll(
          async () => {
            page = await (await fetch(`${url}approvals`, { headers: { cookie } })).text();
            return page.includes('create_directory');
          },
          { timeout: 30_000 },
        )
        .toBe(true);
      expect(page).toContain('approved-by-a-person');
      const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(page)?.[1] ?? '';
      const answer = await fetch(`${url}approvals/answer`, {
        method: 'POST',
        body: new URLSearchParams({
          csrf: field('csrf'),
          id: field('id'),
          argsHash: field('argsHash'),
          decision: 'approve',
        }),
        headers: { origin, cookie },
        redirect: 'manual',
      });
      expect(answer.status).toBe(303);
      const result = (await call) as { isError?: boolean };
      expect(result.isError).not.toBe(true);
      expect(existsSync(directory)).toBe(true);
    } finally {
      await client.close();
    }
  });
});
