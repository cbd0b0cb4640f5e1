import { AuthorityManager } from '@ape/authority';
import { loadPolicy } from '@ape/policy';
import { tool } from '@openai/agents';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UNTRUSTED_WEB } from './__fixtures__/setup.js';
import { type ApeOpenAIAgentsOptions, createApeOpenAIAgents } from './index.js';

const policy = loadPolicy(UNTRUSTED_WEB);
const authority = new AuthorityManager({ tenant: 'acme' });
const valid: ApeOpenAIAgentsOptions = { tenant: 'acme', policy, authority };

function fieldOf(make: () => unknown): unknown {
  try {
    make();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('createApeOpenAIAgents options', () => {
  it.each([
    ['tenant', { tenant: '' }],
    ['policy', { policy: {} }],
    ['authority', { authority: {} }],
    ['provenance', { provenance: 'taint' }],
    ['dataflowMinLength', { dataflowMinLength: 2 }],
    ['userProvenance', { userProvenance: 'TRUSTED' }],
    ['onDeny', { onDeny: 'log' }],
    ['escalation', { escalation: {} }],
    ['intent', { intent: 'all' }],
  ])('refuses a malformed %s with CONFIG_INVALID naming the field', (field, change) => {
    const error = fieldOf(() => createApeOpenAIAgents({ ...valid, ...change } as ApeOpenAIAgentsOptions));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', details: { field } });
  });

  it('refuses a thread name that is empty with CONFIG_INVALID', () => {
    const ape = createApeOpenAIAgents(valid);
    expect(fieldOf(() => ape.thread(''))).toMatchObject({
      code: 'CONFIG_INVALID',
      details: { field: 'lineage' },
    });
  });

  it('returns the same thread for the same lineage until it is ended', async () => {
    const ape = createApeOpenAIAgents(valid);
    const thread = ape.thread('t');
    expect(ape.thread('t')).toBe(thread);
    await thread.end();
    expect(ape.thread('t')).not.toBe(thread);
  });
});

describe('wrapping tools', () => {
  const ape = createApeOpenAIAgents(valid);
  const thread = ape.thread('wrap');

  it('refuses something that is not a function tool with CONFIG_INVALID', () => {
    expect(fieldOf(() => thread.tool({ type: 'hosted_tool', name: 'x' } as never))).toMatchObject({
      code: 'CONFIG_INVALID',
      details: { field: 'tool' },
    });
    expect(fieldOf(() => thread.tools('x' as never))).toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('refuses a tool name that is not an action id with ACTION_INVALID', () => {
    const bad = tool({
      name: 'a'.repeat(129),
      description: 'x',
      parameters: z.object({}),
      execute: async () => 'x',
    });
    expect(fieldOf(() => thread.tool(bad))).toMatchObject({ code: 'ACTION_INVALID' });
  });

  it('refuses a malformed output label with CONFIG_INVALID', () => {
    const good = tool({
      name: 'read_file',
      description: 'x',
      parameters: z.object({}),
      execute: async () => 'x',
    });
    expect(fieldOf(() => thread.tool(good, { outputLabel: 'TRUSTED' as never }))).toMatchObject({
      code: 'CONFIG_INVALID',
      details: { field: 'tools.read_file.outputLabel' },
    });
  });

  it('keeps the name, description and schema the model sees', () => {
    const good = tool({
      name: 'read_file',
      description: 'Read a file.',
      parameters: z.object({ path: z.string() }),
      execute: async () => 'x',
    });
    const wrapped = thread.tool(good);
    expect(wrapped).not.toBe(good);
    expect([wrapped.name, wrapped.description, wrapped.parameters]).toEqual([
      good.name,
      good.description,
      good.parameters,
    ]);
  });
});
