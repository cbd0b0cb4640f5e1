import { validatePolicy } from '@ape/policy';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { ApeError } from '@ape/core';
import { argsSchemaOf, classifyTool, draftPolicy, scanMcpServerCommand } from './scan.js';

const tool = (name: string, extra: Partial<Tool> = {}): Tool => ({
  name,
  inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  ...extra,
});

describe('classifyTool', () => {
  it('denies destructive names, allows read-only ones, escalates the rest', () => {
    expect(classifyTool(tool('delete_file')).effect).toBe('deny');
    expect(classifyTool(tool('removeUser')).effect).toBe('deny');
    expect(classifyTool(tool('read_text_file')).effect).toBe('allow');
    expect(classifyTool(tool('stamp', { annotations: { readOnlyHint: true } })).effect).toBe('allow');
    expect(classifyTool(tool('write_file')).effect).toBe('escalate');
    expect(classifyTool(tool('get_or_set', { annotations: { readOnlyHint: false } })).effect).toBe(
      'escalate',
    );
  });

  it('skips names that are not action ids', () => {
    expect(classifyTool(tool('read file')).effect).toBe('skip');
  });
});

describe('argsSchemaOf', () => {
  it('keeps only keywords the policy loader accepts', () => {
    expect(
      argsSchemaOf({
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        properties: { path: { type: 'string', pattern: '^(a+)+$', format: 'uri-thing' } },
        required: ['path', 'ghost'],
      }),
    ).toEqual({ type: 'object', properties: { path: { type: 'string' } }, required: ['path'] });
  });
});

describe('draftPolicy', () => {
  it('writes a commented draft that validates', () => {
    const draft = draftPolicy({
      serverInfo: { name: 'files server', version: '1' },
      tools: [tool('read_file'), tool('write_file'), tool('delete_file'), tool('bad name')],
    });
    expect(draft.text.startsWith('# DRAFT POLICY')).toBe(true);
    expect(draft.text).toContain('bad name');
    const validation = validatePolicy({ text: draft.text, format: 'yaml' });
    expect(validation.findings.filter((finding) => finding.severity === 'error')).toEqual([]);
    expect(validation.ok).toBe(true);
    const policy = validation.policy!;
    expect(policy.name).toBe('files-server-draft');
    expect(
      policy.evaluate({ tenant: 't', action: 'read_file', args: { path: '/a' }, provenance: 'USER_TRUSTED' })
        .decision,
    ).toBe('ALLOW');
    expect(
      policy.evaluate({ tenant: 't', action: 'write_file', args: { path: '/a' }, provenance: 'USER_TRUSTED' })
        .decision,
    ).toBe('ESCALATE');
    expect(
      policy.evaluate({
        tenant: 't',
        action: 'delete_file',
        args: { path: '/a' },
        provenance: 'USER_TRUSTED',
      }).decision,
    ).toBe('DENY');
  });
});

describe('scanMcpServerCommand', () => {
  it("quotes the server's stderr when the server fails to start", async () => {
    const failure = await scanMcpServerCommand(
      {
        command: process.execPath,
        args: ['-e', 'process.stderr.write("config.toml: no such file\\n"); process.exit(3)'],
      },
      { timeoutMs: 20_000 },
    ).catch((error: unknown) => error);
    expect(ApeError.isInstance(failure)).toBe(true);
    const error = failure as ApeError;
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toContain("the server's stderr: config.toml: no such file");
    expect(error.details['stderr']).toBe('config.toml: no such file');
  });
});
