import { ApeError } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { createToolRegistry } from './tool-registry.js';
import { defineAgentTool } from './tools/agent-tool.js';

const echo = defineAgentTool({
  id: 'echo',
  description: 'Returns its arguments.',
  argsSchema: { type: 'object' },
  run: (args) => args,
});

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return ApeError.isInstance(error) ? error.code : 'NOT_APE';
  }
  return undefined;
}

describe('createToolRegistry', () => {
  it('finds tools by id and describes them for planners', () => {
    const registry = createToolRegistry([echo]);
    expect(registry.ids).toEqual(['echo']);
    expect(registry.has('echo')).toBe(true);
    expect(registry.get('echo')).toBe(echo);
    expect(registry.describe()).toEqual([
      { id: 'echo', description: 'Returns its arguments.', argsSchema: { type: 'object' } },
    ]);
  });

  it('refuses two tools with one id with ACTION_INVALID', () => {
    expect(codeOf(() => createToolRegistry([echo, echo]))).toBe('ACTION_INVALID');
  });

  it('refuses an unknown tool id with ACTION_INVALID', () => {
    expect(codeOf(() => createToolRegistry([echo]).get('missing'))).toBe('ACTION_INVALID');
  });
});

describe('defineAgentTool', () => {
  it('refuses an empty description with ACTION_INVALID', () => {
    expect(
      codeOf(() =>
        defineAgentTool({ id: 'x', description: ' ', argsSchema: { type: 'object' }, run: () => 1 }),
      ),
    ).toBe('ACTION_INVALID');
  });

  it('refuses an invalid argument schema with ARGS_INVALID', () => {
    expect(
      codeOf(() =>
        defineAgentTool({ id: 'x', description: 'x', argsSchema: { type: 'nonsense' }, run: () => 1 }),
      ),
    ).toBe('ARGS_INVALID');
  });
});
