import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAuditLog } from '@ape/audit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { apeBin, childEnv, filesystemServer, sdk, sdkDir, apeProxyTransport } from './support.js';

// Issue 16, findings 3, 4 and 5, through the built `ape mcp proxy` with the official SDK client, in
// front of the real @modelcontextprotocol/server-filesystem (or a small fixture server whose
// definitions change and which runs what a lenient server would run).

let base: string;
const rugPullServer = join(import.meta.dirname, 'fixtures', 'rug-pull-server.mjs');

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'ape-mcp-hardening-')));
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

function writePolicy(name: string, text: string): string {
  const file = join(base, name);
  writeFileSync(file, text);
  return file;
}

interface Connection {
  // biome-ignore lint/suspicious/noExplicitAny: the SDK is loaded by path, without its types
  readonly client: any;
  readonly audit: string;
  close(): Promise<void>;
}

/** The official SDK client over stdio to `ape mcp proxy <flags> -- <server…>`. */
async function connect(
  name: string,
  flags: readonly string[],
  server: readonly string[],
  onElicit?: (request: { params: { message: string } }) => unknown,
): Promise<Connection> {
  const { Client } = await sdk.client();
  const { ElicitRequestSchema } = await sdk.types();
  const audit = join(base, `${name}-audit.jsonl`);
  const transport = await apeProxyTransport(['--audit', audit, ...flags], server);
  const client = new Client(
    { name: 'e2e', version: '1.0.0' },
    { capabilities: onElicit === undefined ? {} : { elicitation: { form: {} } } },
  );
  if (onElicit !== undefined) client.setRequestHandler(ElicitRequestSchema, onElicit);
  await client.connect(transport);
  return { client, audit, close: () => client.close() };
}

function records(audit: string): { type: string; data: Record<string, unknown> }[] {
  return readFileSync(audit, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

function gatewayRefusals(audit: string): Record<string, unknown>[] {
  return records(audit)
    .filter((record) => record.type === 'decision.made' && record.data['source'] === 'mcp-gateway')
    .map((record) => record.data);
}

function filesystem(): string[] {
  return [process.execPath, filesystemServer, base];
}

const escalateWrites = `version: 1
name: writes-need-a-human
rules:
  - id: writes-need-a-human
    actions: [write_file]
    effect: escalate
`;

describe('finding 3: the approval prompt shows every argument in full, or the call is denied unasked', () => {
  it('shows the path after 2.5 KB of content, with a bidi override and a line separator escaped; declined, nothing is written', async () => {
    const policy = writePolicy('escalate-writes.yaml', escalateWrites);
    const target = join(base, 'authorized_keys');
    let message = '';
    const connection = await connect('prompt-shown', ['--policy', policy], filesystem(), (request) => {
      message = request.params.message;
      return { action: 'decline' };
    });
    try {
      const content = `${'A'.repeat(2_500)}\u202e\u2028ssh-ed25519 AAAA attacker`;
      const result = await connection.client.callTool({
        name: 'write_file',
        arguments: { content, path: target },
      });
      expect(result.isError).toBe(true);
      expect(result._meta['ape/decision'].code).toBe('ESCALATION_DENIED');
    } finally {
      await connection.close();
    }
    expect(message).toContain(`  path: "${target}"`);
    expect(message).toContain(`  content: "${'A'.repeat(2_500)}\\u202e\\u2028ssh-ed25519 AAAA attacker"`);
    expect(message).not.toMatch(/[\u202e\u2028]/);
    expect(existsSync(target)).toBe(false);
    expect((await verifyAuditLog(connection.audit)).ok).toBe(true);
  });

  it('denies without asking when the arguments are too long to show in full; nothing is written', async () => {
    const policy = writePolicy('escalate-writes-long.yaml', escalateWrites);
    const target = join(base, 'too-long.txt');
    const asked = vi.fn(() => ({ action: 'accept', content: { approve: true } }));
    const connection = await connect('prompt-denied', ['--policy', policy], filesystem(), asked);
    try {
      const result = await connection.client.callTool({
        name: 'write_file',
        arguments: { content: 'B'.repeat(9_000), path: target },
      });
      expect(result.isError).toBe(true);
      expect(result._meta['ape/decision'].code).toBe('ESCALATION_DENIED');
      expect(result.content[0].text).toMatch(/too long to show in full/);
    } finally {
      await connection.close();
    }
    expect(asked).not.toHaveBeenCalled();
    expect(existsSync(target)).toBe(false);
    const denied = records(connection.audit).find((record) => record.type === 'escalation.denied');
    expect(denied?.data['approver']).toBe('mcp-gateway');
  });
});

describe('finding 4: only listed methods pass the gateway, every refusal is audited', () => {
  it('in front of the filesystem server: a tools/call notification and Tools/Call write nothing', async () => {
    const policy = writePolicy('read-only.yaml', 'version: 1\nallowed_actions: [list_allowed_directories]\n');
    const target = join(base, 'notified.txt');
    const connection = await connect('methods-filesystem', ['--policy', policy], filesystem());
    try {
      await connection.client.transport.send({
        jsonrpc: '2.0',
        method: 'tools/call',
        params: { name: 'write_file', arguments: { path: target, content: 'x' } },
      });
      await expect(
        connection.client.request(
          { method: 'Tools/Call', params: { name: 'write_file', arguments: { path: target, content: 'x' } } },
          (await sdk.types()).ResultSchema,
        ),
      ).rejects.toMatchObject({ code: -32601 });
      // A request answered after both: the notification has been handled by then.
      await connection.client.callTool({ name: 'list_allowed_directories', arguments: {} });
    } finally {
      await connection.close();
    }
    expect(existsSync(target)).toBe(false);
    expect(gatewayRefusals(connection.audit)).toEqual([
      expect.objectContaining({ method: 'tools/call', kind: 'notification', code: 'METHOD_NOT_ALLOWED' }),
      expect.objectContaining({ method: 'Tools/Call', kind: 'request', code: 'METHOD_NOT_ALLOWED' }),
    ]);
    expect((await verifyAuditLog(connection.audit)).ok).toBe(true);
  });

  it('in front of a lenient server: nothing refused reaches it, --allow-method lets one more method through', async () => {
    const policy = writePolicy('forbid-weather.yaml', 'version: 1\nforbidden_actions: [get_weather]\n');
    const log = join(base, 'lenient.log');
    writeFileSync(log, '');
    const connection = await connect(
      'methods-lenient',
      ['--policy', policy, '--allow-method', 'notifications/vendor/hello'],
      [process.execPath, rugPullServer, sdkDir, '--lenient', '--log', log],
    );
    const { ResultSchema } = await sdk.types();
    try {
      const params = { name: 'get_weather', arguments: { city: 'Oslo' } };
      await connection.client.transport.send({ jsonrpc: '2.0', method: 'tools/call', params });
      for (const method of ['Tools/Call', 'tools/call ', 'vendor/exec']) {
        await expect(connection.client.request({ method, params }, ResultSchema)).rejects.toMatchObject({
          code: -32601,
        });
      }
      await connection.client.transport.send({ jsonrpc: '2.0', method: 'notifications/vendor/hello' });
      await vi.waitFor(() =>
        expect(readFileSync(log, 'utf8')).toContain('received notifications/vendor/hello'),
      );
    } finally {
      await connection.close();
    }
    expect(readFileSync(log, 'utf8')).toBe('received notifications/vendor/hello\n');
    expect(gatewayRefusals(connection.audit).map((refusal) => refusal['method'])).toEqual([
      'tools/call',
      'Tools/Call',
      'tools/call ',
      'vendor/exec',
    ]);
  });

  it('refuses to start when --allow-method names a method the gateway answers itself', () => {
    const policy = writePolicy('any.yaml', 'version: 1\nallowed_actions: [get_weather]\n');
    const run = spawnSync(
      process.execPath,
      [
        apeBin,
        'mcp',
        'proxy',
        '--policy',
        policy,
        '--allow-method',
        'tools/call',
        '--',
        process.execPath,
        rugPullServer,
        sdkDir,
      ],
      { env: childEnv(), encoding: 'utf8', timeout: 30_000, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^ape: .*allowMethods: "tools\/call" is answered by the gateway itself/);
  });
});

describe('finding 5: the pin covers the whole tool definition', () => {
  it.each(['title', 'annotations'])(
    'hides and refuses a tool whose %s changed after approval; the server runs it once only',
    async (change) => {
      const policy = writePolicy(`weather-${change}.yaml`, 'version: 1\nallowed_actions: [get_weather]\n');
      const log = join(base, `pins-${change}.log`);
      writeFileSync(log, '');
      const connection = await connect(
        `pins-${change}`,
        ['--policy', policy],
        [process.execPath, rugPullServer, sdkDir, '--change', change, '--log', log],
      );
      const { ToolListChangedNotificationSchema } = await sdk.types();
      const changed = new Promise<void>((resolve) => {
        connection.client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve());
      });
      try {
        const listed = (await connection.client.listTools()).tools;
        expect(listed.map((tool: { title?: string }) => tool.title)).toEqual(['Weather']);
        const first = await connection.client.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });
        expect(first.isError).toBeFalsy();
        await changed;
        expect((await connection.client.listTools()).tools).toEqual([]);
        const second = await connection.client.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });
        expect(second.isError).toBe(true);
        expect(second._meta['ape/decision'].code).toBe('TOOL_CHANGED');
      } finally {
        await connection.close();
      }
      expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['request get_weather {"city":"Oslo"}']);
      expect(gatewayRefusals(connection.audit)).toEqual([
        expect.objectContaining({ action: 'get_weather', code: 'TOOL_CHANGED' }),
      ]);
    },
  );
});
