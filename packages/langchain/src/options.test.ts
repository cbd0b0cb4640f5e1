import { AuthorityManager } from '@ape/authority';
import { loadPolicy } from '@ape/policy';
import { describe, expect, it } from 'vitest';
import { setup, UNTRUSTED_WEB } from './__fixtures__/setup.js';
import { type ApeLangChainOptions, approve, createApeLangChain, deny } from './index.js';

const base = (): ApeLangChainOptions => ({
  tenant: 'acme',
  policy: loadPolicy(UNTRUSTED_WEB),
  authority: new AuthorityManager({ tenant: 'acme' }),
});

describe('createApeLangChain options', () => {
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
    ['lineage', { lineage: 'thread-1' }],
  ])('refuses a malformed %s with CONFIG_INVALID', (field, patch) => {
    expect(() => createApeLangChain({ ...base(), ...(patch as object) } as ApeLangChainOptions)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field } }),
    );
  });

  it('refuses missing options with CONFIG_INVALID', () => {
    expect(() => createApeLangChain(undefined as unknown as ApeLangChainOptions)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'options' } }),
    );
  });

  it('refuses a tool name that is not an action id with ACTION_INVALID', () => {
    const ape = createApeLangChain(base());
    expect(() => ape.middleware({ tools: ['has space'] })).toThrow(
      expect.objectContaining({ code: 'ACTION_INVALID' }),
    );
  });

  it('refuses a malformed output label and a non-tool with CONFIG_INVALID', () => {
    const { ape, tools } = setup();
    expect(() => ape.middleware({ tools, outputLabels: { fetch_url: 'TRUST_ME' as never } })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'tools.fetch_url.outputLabel' } }),
    );
    expect(() => ape.wrapTool({} as never)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'tool' } }),
    );
    expect(() => ape.middleware({ tools: [42 as never] })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'tools' } }),
    );
  });
});

describe('approve and deny', () => {
  const escalation = {
    type: 'ape.escalation',
    lineage: 't',
    toolCallId: 'c1',
    action: 'delete_file',
    args: { path: '/a' },
    argsHash: 'h',
    step: 0,
    reason: 'r',
    rules: [],
  } as const;

  it('binds the answer to the call: tool call id, action, argument hash and step', () => {
    expect(approve(escalation, { approver: 'alice' })).toEqual({
      type: 'ape.approval',
      toolCallId: 'c1',
      action: 'delete_file',
      argsHash: 'h',
      step: 0,
      approved: true,
      approver: 'alice',
    });
    expect(deny(escalation, { approver: 'bob', reason: 'no' })).toMatchObject({
      approved: false,
      reason: 'no',
    });
  });

  it('refuses an answer without approver, a non-string reason and a value that is not an escalation', () => {
    expect(() => approve(escalation, { approver: '' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'approver' } }),
    );
    expect(() => approve(escalation, { approver: 'a', reason: 7 as never })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'reason' } }),
    );
    expect(() => deny({ type: 'other' } as never, { approver: 'a' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'escalation' } }),
    );
  });
});
