import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { compilePolicy } from '@ape/policy';
import { describe, expect, it } from 'vitest';
import { runMcpProxy } from './proxy.js';

const noopServer = fileURLToPath(new URL('./__fixtures__/noop-server.mjs', import.meta.url));
const policy = compilePolicy({ version: 1, allowed_actions: ['noop'] });

function frames(stream: PassThrough): Promise<unknown[]> {
  const messages: unknown[] = [];
  let buffer = '';
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        messages.push(JSON.parse(buffer.slice(0, newline)));
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
      }
      if (messages.length >= 2) resolve(messages);
    });
  });
}

describe('runMcpProxy', () => {
  it('serves MCP on the given streams and ends when the client closes its input', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const answers = frames(stdout);
    const running = runMcpProxy({
      policy,
      server: { command: process.execPath, args: [noopServer] },
      stdin,
      stdout,
    });
    const send = (message: unknown): boolean => stdin.write(`${JSON.stringify(message)}\n`);
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'noop', arguments: {} } });
    const [, call] = await answers;
    expect(call).toMatchObject({ id: 2, result: { content: [{ type: 'text', text: 'done' }] } });
    stdin.end();
    await expect(running).resolves.toBe('closed');
  });

  it('refuses a bad policy file with POLICY_INVALID before starting anything', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ape-mcp-proxy-')), 'policy.yaml');
    writeFileSync(file, 'version: 2\n');
    await expect(
      runMcpProxy({ policy: file, server: { command: process.execPath, args: [noopServer] } }),
    ).rejects.toMatchObject({ code: 'POLICY_INVALID' });
  });

  it('fails with INTERNAL when the server command cannot start', async () => {
    await expect(
      runMcpProxy({
        policy,
        server: { command: join(tmpdir(), 'no-such-mcp-server-command'), args: [] },
        stdin: new PassThrough(),
        stdout: new PassThrough(),
      }),
    ).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
