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

  it('copies nested schemas keyword by keyword and drops what is not a schema', () => {
    expect(
      argsSchemaOf({
        type: 'object',
        properties: {
          tags: { type: 'array', items: { type: 'string', $comment: 'x' } },
          mode: { anyOf: [{ const: 'a' }, true, 'junk'], not: { enum: ['b'] } },
          any: true,
          broken: null,
        },
        additionalProperties: { type: 'number', examples: [1] },
        oneOf: 'not a list',
        required: ['ghost', 7],
      }),
    ).toEqual({
      type: 'object',
      properties: {
        tags: { type: 'array', items: { type: 'string' } },
        mode: { anyOf: [{ const: 'a' }, true, {}], not: { enum: ['b'] } },
        any: true,
        broken: {},
      },
      additionalProperties: { type: 'number' },
    });
  });

  it('answers an object schema for a boolean schema, an empty one for a missing one, and ignores non-object properties', () => {
    expect(argsSchemaOf(true)).toEqual({ type: 'object' });
    expect(argsSchemaOf(undefined)).toEqual({});
    expect(argsSchemaOf([{ type: 'string' }])).toEqual({});
    expect(argsSchemaOf({ type: 'object', properties: 'path', required: ['path'] })).toEqual({
      type: 'object',
    });
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

describe('draftPolicy names', () => {
  it('names a draft after the server, cleaned, or a default when nothing usable is left', () => {
    const named = (scan: Parameters<typeof draftPolicy>[0], name?: string) =>
      validatePolicy({ text: draftPolicy(scan, name === undefined ? {} : { name }).text, format: 'yaml' })
        .policy?.name;
    expect(named({ serverInfo: undefined, tools: [tool('read_file')] })).toBe('mcp-server-draft');
    expect(named({ serverInfo: undefined, tools: [tool('read_file')] }, '---')).toBe('mcp-server-draft');
    expect(named({ serverInfo: undefined, tools: [tool('read_file')] }, '  my policy! ')).toBe('my-policy-');
  });

  it('escalates a tool annotated destructiveHint, saying so, and drafts no rules for only forbidden tools', () => {
    expect(classifyTool(tool('publish', { annotations: { destructiveHint: true } }))).toEqual({
      name: 'publish',
      effect: 'escalate',
      why: 'may write or act, annotated destructiveHint',
    });
    const draft = draftPolicy({ serverInfo: undefined, tools: [tool('delete_file')] });
    expect(draft.text).toContain('forbidden_actions');
    expect(draft.text).not.toContain('rules:');
    expect(draft.text).toContain('DRAFT generated by "ape mcp scan" from an MCP server\'s tools');
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
