import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMcpServerConfig } from './server-config.js';

function configFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ape-mcp-config-')), 'mcp.json');
  writeFileSync(file, content);
  return file;
}

describe('readMcpServerConfig', () => {
  it('reads one server entry and resolves its cwd against the file', () => {
    const file = configFile(
      JSON.stringify({
        mcpServers: { files: { command: 'npx', args: ['-y', 'srv'], env: { A: '1' }, cwd: 'sub' } },
      }),
    );
    expect(readMcpServerConfig(file, 'files')).toEqual({
      command: 'npx',
      args: ['-y', 'srv'],
      env: { A: '1' },
      cwd: join(file, '..', 'sub'),
    });
  });

  it.each([
    ['an unreadable file', '/nonexistent/mcp.json', 'files'],
    ['bad JSON', configFile('{'), 'files'],
    ['no mcpServers', configFile('{}'), 'files'],
    ['an unknown server', configFile('{"mcpServers":{}}'), 'files'],
    ['a server without a command', configFile('{"mcpServers":{"files":{"url":"https://x"}}}'), 'files'],
    ['non-string args', configFile('{"mcpServers":{"files":{"command":"x","args":[1]}}}'), 'files'],
  ])('refuses %s with CONFIG_INVALID', (_what, file, name) => {
    expect(() => readMcpServerConfig(file, name)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
