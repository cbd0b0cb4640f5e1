import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, sdk, apeProxyTransport, filesystemServerCommand } from './support.js';

// Issue 16, finding 2, through the built `ape mcp proxy` in front of the official filesystem
// server: paths the server reads as another file than the policy does are denied, and the file
// the attacker aimed at is never written.

let base: string;
let home: string;
let workspace: string;
let policyFile: string;

function textOf(result: { content: { type: string; text?: string }[] }): string {
  return result.content.map((item) => item.text ?? '').join('');
}

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'ape-mcp-paths-')));
  // The server's home directory is the allowed base: `~` expands into it.
  home = base;
  workspace = join(base, 'workspace');
  mkdirSync(join(workspace, 'café'), { recursive: true });
  mkdirSync(join(home, '.ssh'));
  policyFile = join(base, 'policy.yaml');
  writeFileSync(
    policyFile,
    `version: 1
name: path-interpretation
allowed_actions: [list_allowed_directories]
rules:
  - id: write-inside-workspace
    actions: [write_file]
    effect: allow
    when:
      args:
        type: object
        required: [path]
        properties:
          path:
            type: string
            x-ape-path: { roots: ["${workspace}"], relativeTo: "${workspace}", exclude: ["${join(workspace, 'café')}"] }
`,
  );
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

async function connect() {
  const { Client } = await sdk.client();
  const transport = await apeProxyTransport(
    ['--policy', policyFile],
    filesystemServerCommand(base),
    childEnv({ HOME: home }),
  );
  const client = new Client({ name: 'e2e-paths', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

describe('ape mcp proxy denies paths the filesystem server reads differently', () => {
  it('denies ~/.ssh/authorized_keys with relativeTo, and an excluded directory spelt in NFD; nothing is written', async () => {
    const client = await connect();
    try {
      const tilde = await client.callTool({
        name: 'write_file',
        arguments: { path: '~/.ssh/authorized_keys', content: 'ssh-ed25519 attacker' },
      });
      expect(tilde.isError).toBe(true);
      expect(textOf(tilde)).toContain('APE refused "write_file"');
      expect(existsSync(join(home, '.ssh', 'authorized_keys'))).toBe(false);

      const decomposed = join(workspace, 'cafe\u0301', 'planted.txt');
      const nfd = await client.callTool({
        name: 'write_file',
        arguments: { path: decomposed, content: 'x' },
      });
      expect(nfd.isError).toBe(true);
      expect(textOf(nfd)).toContain('APE refused "write_file"');
      expect(existsSync(join(workspace, 'café', 'planted.txt'))).toBe(false);
      expect(existsSync(decomposed)).toBe(false);

      // The same proxy still writes an ordinary relative path inside the workspace.
      const ordinary = await client.callTool({
        name: 'write_file',
        arguments: { path: join(workspace, 'ok.txt'), content: 'ok' },
      });
      expect(ordinary.isError).toBeFalsy();
      expect(existsSync(join(workspace, 'ok.txt'))).toBe(true);
    } finally {
      await client.close();
    }
  });
});
