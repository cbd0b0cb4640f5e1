import { AuthorityManager } from '@ape/authority';
import { loadPolicy } from '@ape/policy';
import { type Tool, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UNTRUSTED_WEB } from './__fixtures__/setup.js';
import { type ApeAiSdkOptions, createApeAiSdk } from './index.js';

const base = (): ApeAiSdkOptions => ({
  tenant: 'acme',
  policy: loadPolicy(UNTRUSTED_WEB),
  authority: new AuthorityManager({ tenant: 'acme' }),
});

describe('createApeAiSdk options', () => {
  it.each([
    ['tenant', { tenant: '' }],
    ['policy', { policy: {} }],
    ['authority', { authority: {} }],
    ['provenance', { provenance: 'vibes' }],
    ['dataflowMinLength', { dataflowMinLength: 2 }],
    ['userProvenance', { userProvenance: 'ROOT' }],
    ['onDeny', { onDeny: 'ignore' }],
    ['escalation', { escalation: {} }],
    ['intent', { intent: 'everything' }],
  ])('refuses a malformed %s with CONFIG_INVALID', (field, patch) => {
    expect(() => createApeAiSdk({ ...base(), ...(patch as object) } as ApeAiSdkOptions)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field } }),
    );
  });

  it('refuses missing options with CONFIG_INVALID', () => {
    expect(() => createApeAiSdk(undefined as unknown as ApeAiSdkOptions)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'options' } }),
    );
  });

  it('refuses a lineage that is empty or holds NUL', () => {
    const ape = createApeAiSdk(base());
    for (const lineage of ['', 'a\0b', 42 as unknown as string]) {
      expect(() => ape.thread(lineage)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
  });

  it('returns the same thread for the same lineage until it is ended', async () => {
    const ape = createApeAiSdk(base());
    const thread = ape.thread('x');
    expect(ape.thread('x')).toBe(thread);
    await thread.end();
    expect(ape.thread('x')).not.toBe(thread);
    await ape.close();
  });
});

describe('wrapping tools', () => {
  const echo = tool({ inputSchema: z.object({ text: z.string() }), execute: async ({ text }) => text });

  it('refuses a tool it cannot gate (no execute) with CONFIG_INVALID', () => {
    const thread = createApeAiSdk(base()).thread('w');
    const clientSide = tool({ inputSchema: z.object({ text: z.string() }) }) as unknown as Tool;
    expect(() => thread.tools({ ask_user: clientSide })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'tools.ask_user.execute' } }),
    );
    expect(() => thread.tools(null as unknown as Record<string, never>)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'tools' } }),
    );
  });

  it('refuses a tool name that is not an action id with ACTION_INVALID', () => {
    const thread = createApeAiSdk(base()).thread('w');
    expect(() => thread.tool('rm -rf', echo)).toThrow(expect.objectContaining({ code: 'ACTION_INVALID' }));
  });

  it('refuses an output label that is not a provenance label with CONFIG_INVALID', () => {
    const thread = createApeAiSdk(base()).thread('w');
    expect(() => thread.tools({ echo }, { outputLabels: { echo: 'TRUSTED' as 'USER_TRUSTED' } })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'tools.echo.outputLabel' } }),
    );
  });

  it('keeps the rest of the tool as it was', () => {
    const thread = createApeAiSdk(base()).thread('w');
    const wrapped = thread.tool('echo', { ...echo, description: 'Echo.' });
    expect(wrapped.description).toBe('Echo.');
    expect(wrapped.inputSchema).toBe(echo.inputSchema);
    expect(wrapped.execute).not.toBe(echo.execute);
  });
});

describe('answering approvals', () => {
  const request = { approvalId: 'a1', toolCall: { toolCallId: 'nope', toolName: 'send_email', input: {} } };

  it('refuses to approve a call no escalation waits for with UNAUTHORIZED_ACTION', async () => {
    const thread = createApeAiSdk(base()).thread('q');
    expect(() => thread.approve(request, { approver: 'alice' })).toThrow(
      expect.objectContaining({ code: 'UNAUTHORIZED_ACTION', details: { field: 'toolCallId' } }),
    );
    await expect(thread.deny(request, { approver: 'alice' })).rejects.toMatchObject({
      code: 'UNAUTHORIZED_ACTION',
    });
  });

  it('refuses an answer without an approver with CONFIG_INVALID', () => {
    const thread = createApeAiSdk(base()).thread('q');
    expect(() => thread.approve(request, { approver: '' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'approver' } }),
    );
    expect(() => thread.approve(request, { approver: 'a', reason: 7 as unknown as string })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'reason' } }),
    );
  });
});
