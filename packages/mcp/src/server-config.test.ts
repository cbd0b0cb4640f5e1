import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMcpServerConfig, serverEnvironment } from './server-config.js';

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
    [
      'args that are not an array',
      configFile('{"mcpServers":{"files":{"command":"x","args":"-y"}}}'),
      'files',
    ],
    ['a JSON null document', configFile('null'), 'files'],
    ['mcpServers as an array', configFile('{"mcpServers":[]}'), 'files'],
    ['an entry that is not an object', configFile('{"mcpServers":{"files":"npx srv"}}'), 'files'],
    [
      'an env that is not an object',
      configFile('{"mcpServers":{"files":{"command":"x","env":["A=1"]}}}'),
      'files',
    ],
    [
      'an env value that is not a string',
      configFile('{"mcpServers":{"files":{"command":"x","env":{"A":1}}}}'),
      'files',
    ],
    ['a cwd that is not a string', configFile('{"mcpServers":{"files":{"command":"x","cwd":1}}}'), 'files'],
    ['a file over 1 MiB', configFile(`{"pad":"${'x'.repeat(1024 * 1024)}"}`), 'files'],
  ])('refuses %s with CONFIG_INVALID', (_what, file, name) => {
    expect(() => readMcpServerConfig(file, name)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('names the file, the field and the servers it knows', () => {
    const file = configFile('{"mcpServers":{"files":{"command":"x"},"web":{"command":"y"}}}');
    expect(() => readMcpServerConfig(file, 'mail')).toThrow(
      expect.objectContaining({
        message: `${file}: mcpServers.mail: no such server (known: files, web).`,
        details: { file, field: 'mcpServers.mail' },
      }),
    );
    expect(readMcpServerConfig(file, 'web')).toEqual({ command: 'y', args: [] });
  });

  it('starts a server with this process environment plus its own env, its own winning', () => {
    const env = serverEnvironment({ command: 'x', args: [], env: { PATH: '/only', APE_TEST_EXTRA: '1' } });
    expect(env['PATH']).toBe('/only');
    expect(env['APE_TEST_EXTRA']).toBe('1');
    expect(env['HOME']).toBe(process.env['HOME']);
    expect(serverEnvironment({ command: 'x', args: [] })['PATH']).toBe(process.env['PATH']);
  });
});
