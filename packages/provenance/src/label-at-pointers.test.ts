import { argumentLabels, isLabeled, ProvenanceError } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { labelAtPointers } from './label-at-pointers.js';

describe('labelAtPointers', () => {
  it('wraps the value at each pointer, leaving the caller’s arguments unchanged', () => {
    const args = { to: 'boss@example.com', cc: ['a@example.com', 'b@example.com'], 'a/b': 1 };
    const wrapped = labelAtPointers(
      args,
      { '/to': 'USER_TRUSTED', '/cc/1': 'EXTERNAL_UNTRUSTED', '/a~1b': 'SYSTEM_TRUSTED' },
      ['mcp'],
    );
    expect(isLabeled(wrapped['to'])).toBe(true);
    expect({ ...argumentLabels(wrapped, 'USER_TRUSTED') }).toEqual({
      '/to': 'USER_TRUSTED',
      '/cc/0': 'USER_TRUSTED',
      '/cc/1': 'EXTERNAL_UNTRUSTED',
      '/a~1b': 'SYSTEM_TRUSTED',
    });
    expect(args).toEqual({ to: 'boss@example.com', cc: ['a@example.com', 'b@example.com'], 'a/b': 1 });
  });

  it('keeps the least trusted label where pointers nest, and makes an unknown label untrusted', () => {
    const wrapped = labelAtPointers(
      { cc: ['a'] },
      { '/cc': 'EXTERNAL_UNTRUSTED', '/cc/0': 'SYSTEM_TRUSTED' },
    );
    expect(argumentLabels(wrapped, 'SYSTEM_TRUSTED')?.['/cc/0']).toBe('EXTERNAL_UNTRUSTED');
    expect(argumentLabels(labelAtPointers({ to: 'x' }, { '/to': 'ROOT' }), 'SYSTEM_TRUSTED')?.['/to']).toBe(
      'EXTERNAL_UNTRUSTED',
    );
  });

  it.each([
    ['to', 'starts with "/"'],
    ['/nope', 'no value at this pointer'],
    ['/cc/x', 'no value at this pointer'],
    ['/cc/5', 'no value at this pointer'],
    ['/to/deeper', 'no value at this pointer'],
    ['/t~2o', 'followed by 0 or 1'],
  ])('refuses the pointer %s with PROVENANCE', (pointer, message) => {
    let caught: unknown;
    try {
      labelAtPointers({ to: 'x', cc: ['a'] }, { [pointer]: 'USER_TRUSTED' });
    } catch (error) {
      caught = error;
    }
    expect(ProvenanceError.isInstance(caught)).toBe(true);
    expect((caught as ProvenanceError).code).toBe('PROVENANCE');
    expect((caught as ProvenanceError).message).toContain(message);
    expect((caught as ProvenanceError).details['pointer']).toBe(pointer);
  });
});
