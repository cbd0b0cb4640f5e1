import { spawnSync } from 'node:child_process';
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
import { verifyAuditLog } from '@ape/audit';
import { loadPolicy } from '@ape/policy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apeBin,
  apeMcp,
  childEnv,
  filesystemServer,
  sdk,
  sdkDir,
  apeProxyTransport,
  filesystemServerCommand,
} from './support.js';

let base: string;
let workspace: string;
let outside: string;
let policyFile: string;

function policyText(roots: string): string {
  return `version: 1
name: filesystem-gateway
allowed_actions: [list_allowed_directories]
forbidden_actions: [move_file]
rules:
  - id: read-inside-workspace
    actions: [read_text_file, list_directory]
    effect: allow
    when:
      args:
        type: object
        required: [path]
        properties:
          path: { type: string, x-ape-path: { roots: [${roots}] } }
  - id: write-inside-workspace
    actions: [write_file]
    effect: allow
    when:
      args:
        type: object
        required: [path]
        properties:
          path: { type: string, x-ape-path: { roots: [${roots}] } }
    reason: Writing is allowed inside the workspace only.
  - id: new-directories-need-a-human
    actions: [create_directory]
    effect: escalate
    when:
      args:
        type: object
        required: [path]
        properties:
          path: { type: string, x-ape-path: { roots: [${roots}] } }
`;
}

function textOf(result: { content: { type: string; text?: string }[] }): string {
  return result.content.map((item) => item.text ?? '').join('');
}

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'ape-mcp-e2e-')));
  workspace = join(base, 'workspace');
  outside = join(base, 'outside');
  mkdirSync(workspace);
  mkdirSync(outside);
  writeFileSync(join(workspace, 'notes.md'), 'hello from the workspace\n');
  policyFile = join(base, 'policy.yaml');
  writeFileSync(policyFile, policyText(workspace));
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

/** An SDK client talking over stdio to the built `ape mcp proxy` in front of the filesystem server. */
async function connectThroughApeBinary(audit: string) {
  const { Client } = await sdk.client();
  // The server itself would allow the whole base directory: only APE keeps writes in the workspace.
  const transport = await apeProxyTransport(
    ['--policy', policyFile, '--audit', audit],
    filesystemServerCommand(base),
  );
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** An SDK client talking in memory to the library gateway, which talks over stdio to the filesystem server. */
async function connectThroughLibrary(audit: string, onElicit?: () => unknown) {
  const { createMcpGateway } = await apeMcp();
  const { createJsonlFileAuditSink } = await import('@ape/audit');
  const { Client } = await sdk.client();
  const { StdioClientTransport } = await sdk.stdio();
  const { InMemoryTransport } = await sdk.inMemory();
  const { ElicitRequestSchema } = await sdk.types();
  const [up, gatewaySide] = InMemoryTransport.createLinkedPair();
  const gateway = await createMcpGateway({
    policy: loadPolicy(policyFile),
    audit: await createJsonlFileAuditSink(audit),
    transportUp: gatewaySide,
    transportDown: new StdioClientTransport({
      command: process.execPath,
      args: [filesystemServer, base],
      stderr: 'ignore',
    }),
  });
  const client = new Client(
    { name: 'e2e', version: '1.0.0' },
    { capabilities: onElicit === undefined ? {} : { elicitation: { form: {} } } },
  );
  if (onElicit !== undefined) client.setRequestHandler(ElicitRequestSchema, onElicit);
  await client.connect(up);
  return { client, gateway };
}

describe('ape mcp proxy in front of @modelcontextprotocol/server-filesystem', () => {
  it('reads inside the workspace, denies a write outside with the reason, hides and refuses a forbidden tool; the audit log verifies', async () => {
    const audit = join(base, 'proxy-audit.jsonl');
    const { client, transport } = await connectThroughApeBinary(audit);
    try {
      const { tools } = await client.listTools();
      const names = tools.map((tool: { name: string }) => tool.name);
      expect(names).toContain('read_text_file');
      expect(names).toContain('write_file');
      expect(names).not.toContain('move_file');
      expect(names).not.toContain('edit_file');

      const read = await client.callTool({
        name: 'read_text_file',
        arguments: { path: join(workspace, 'notes.md') },
      });
      expect(read.isError).toBeFalsy();
      expect(textOf(read)).toBe('hello from the workspace\n');
      expect(read._meta['ape/provenance']).toBe('EXTERNAL_UNTRUSTED');

      const target = join(outside, 'pwned.txt');
      const write = await client.callTool({ name: 'write_file', arguments: { path: target, content: 'x' } });
      expect(write.isError).toBe(true);
      expect(textOf(write)).toContain('APE refused "write_file"');
      expect(write._meta['ape/decision'].reason).toMatch(/write_file/);
      expect(existsSync(target)).toBe(false);

      const move = await client.callTool({
        name: 'move_file',
        arguments: { source: join(workspace, 'notes.md'), destination: join(outside, 'notes.md') },
      });
      expect(move.isError).toBe(true);
      expect(move._meta['ape/decision'].rules).toContain('forbidden_actions[0]');
      expect(existsSync(join(workspace, 'notes.md'))).toBe(true);
    } finally {
      await client.close();
    }
    expect(transport.pid).toBeNull();
    const verification = await verifyAuditLog(audit);
    expect(verification.ok).toBe(true);
    const log = readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const types = log.map((record) => record.type);
    expect(types).toContain('token.consumed');
    // Calls mode: every call is a step of the session's chain, decided once.
    expect(types.filter((type) => type === 'plan.extended')).toHaveLength(3);
    expect(types).not.toContain('plan.approved');
    const denied = log.filter((record) => record.type === 'decision.made' && record.data.decision === 'DENY');
    expect(denied.map((record) => record.data.action)).toEqual(['write_file', 'move_file']);
    expect(types.at(-1)).toBe('session.terminated');
  });

  it('exits when the downstream server exits mid-session', async () => {
    const weatherPolicy = join(base, 'weather.yaml');
    writeFileSync(weatherPolicy, 'version: 1\nallowed_actions: [get_weather]\n');
    const { Client } = await sdk.client();
    const { StdioClientTransport } = await sdk.stdio();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [
        apeBin,
        'mcp',
        'proxy',
        '--policy',
        weatherPolicy,
        '--',
        process.execPath,
        join(import.meta.dirname, 'fixtures', 'rug-pull-server.mjs'),
        sdkDir,
        '--exit-after-call',
      ],
      env: childEnv(),
      stderr: 'ignore',
    });
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    const closed = new Promise<void>((resolve) => {
      client.onclose = () => resolve();
    });
    await client.connect(transport);
    const first = await client.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });
    expect(first.isError).toBeFalsy();
    // The server exits after its first call: the proxy follows it, which closes the client's pipe.
    await closed;
  });

  it('fails with one line and exit 2 when the server cannot start', () => {
    const run = spawnSync(
      process.execPath,
      [apeBin, 'mcp', 'proxy', '--policy', policyFile, '--', process.execPath, '-e', 'process.exit(0)'],
      { env: childEnv(), encoding: 'utf8', timeout: 20_000, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^ape: .*downstream MCP server/);
  });
});

describe('the library gateway over the real filesystem server', () => {
  it('runs an escalated call the user approves through elicitation', async () => {
    const audit = join(base, 'approve-audit.jsonl');
    let asked = '';
    const { client, gateway } = await connectThroughLibrary(
      audit,
      (request: { params: { message: string } }) => {
        asked = request.params.message;
        return { action: 'accept', content: { approve: true } };
      },
    );
    const directory = join(workspace, 'approved');
    const result = await client.callTool({ name: 'create_directory', arguments: { path: directory } });
    expect(result.isError).toBeFalsy();
    expect(asked).toContain('create_directory');
    expect(asked).toContain('new-directories-need-a-human');
    expect(existsSync(directory)).toBe(true);
    await client.close();
    await gateway.closed;
    expect((await verifyAuditLog(audit)).ok).toBe(true);
    expect(readFileSync(audit, 'utf8')).toContain('"escalation.approved"');
  });

  it('refuses an escalated call the user declines; the tool never runs', async () => {
    const audit = join(base, 'decline-audit.jsonl');
    const { client, gateway } = await connectThroughLibrary(audit, () => ({ action: 'decline' }));
    const directory = join(workspace, 'declined');
    const result = await client.callTool({ name: 'create_directory', arguments: { path: directory } });
    expect(result.isError).toBe(true);
    expect(result._meta['ape/decision'].code).toBe('ESCALATION_DENIED');
    expect(existsSync(directory)).toBe(false);
    await client.close();
    await gateway.closed;
    expect((await verifyAuditLog(audit)).ok).toBe(true);
    expect(readFileSync(audit, 'utf8')).toContain('"escalation.denied"');
  });

  it('catches a changed tool description (rug pull) and refuses the tool until re-approved', async () => {
    const { createMcpGateway } = await apeMcp();
    const { Client } = await sdk.client();
    const { StdioClientTransport } = await sdk.stdio();
    const { InMemoryTransport } = await sdk.inMemory();
    const [up, gatewaySide] = InMemoryTransport.createLinkedPair();
    const gateway = await createMcpGateway({
      policy: loadPolicy({ text: 'version: 1\nallowed_actions: [get_weather]\n', format: 'yaml' }),
      transportUp: gatewaySide,
      transportDown: new StdioClientTransport({
        command: process.execPath,
        args: [join(import.meta.dirname, 'fixtures', 'rug-pull-server.mjs'), sdkDir],
        stderr: 'ignore',
      }),
    });
    const { ToolListChangedNotificationSchema } = await sdk.types();
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    const changed = new Promise<void>((resolve) => {
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve());
    });
    await client.connect(up);
    try {
      expect((await client.listTools()).tools.map((tool: { name: string }) => tool.name)).toEqual([
        'get_weather',
      ]);
      const first = await client.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });
      expect(first.isError).toBeFalsy();
      await changed;
      expect((await client.listTools()).tools).toEqual([]);
      const second = await client.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });
      expect(second.isError).toBe(true);
      expect(second._meta['ape/decision'].code).toBe('TOOL_CHANGED');
      expect(await gateway.approveTool('get_weather')).toBe(true);
      const third = await client.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });
      expect(third.isError).toBeFalsy();
    } finally {
      await client.close();
      await gateway.closed;
    }
  });
});

describe('ape mcp flags', () => {
  it.each([
    [['mcp', 'proxy', '--policy', 'p.yaml'], /no server to start/],
    [['mcp', 'scan', '--config', 'mcp.json'], /--config and --server go together/],
    [
      ['mcp', 'proxy', '--policy', 'p.yaml', '--config', 'missing.json', '--server', 'files'],
      /missing\.json: \$: cannot read/,
    ],
    [['mcp', 'proxy', '--', 'node'], /--policy/],
  ])('ape %j fails with one line and exit 2', (args, message) => {
    const run = spawnSync(process.execPath, [apeBin, ...args], {
      cwd: base,
      env: childEnv(),
      encoding: 'utf8',
      timeout: 20_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  });
});

describe('ape mcp scan', () => {
  it('drafts a policy from the filesystem server that ape validate accepts', () => {
    const draft = join(base, 'draft.yaml');
    const scan = spawnSync(
      process.execPath,
      [apeBin, 'mcp', 'scan', '--output', draft, '--', process.execPath, filesystemServer, workspace],
      { env: childEnv(), encoding: 'utf8', timeout: 30_000 },
    );
    expect(scan.stderr).toBe('');
    expect(scan.status).toBe(0);
    const text = readFileSync(draft, 'utf8');
    expect(text.startsWith('# DRAFT POLICY')).toBe(true);
    expect(text).toContain('read_text_file.allow');
    expect(text).toContain('write_file.escalate');
    const validate = spawnSync(process.execPath, [apeBin, 'validate', draft], {
      env: childEnv(),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(validate.status).toBe(0);
    expect(validate.stdout).toContain('valid');
  });
});
