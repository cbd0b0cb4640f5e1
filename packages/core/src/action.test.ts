import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assertAction, isActionId, validateAction } from './action.js';
import { ApeError } from './errors.js';

const hash = 'a'.repeat(64);
const valid = {
  action_id: 'read_file',
  tool_id: 'fs',
  args: { path: '/a' },
  intent_version: hash,
  plan_hash: hash,
  step_index: 0,
};

describe('action schema', () => {
  it('accepts a well-formed action', () => {
    expect(assertAction(valid)).toBe(valid);
  });

  it.each([
    [{ ...valid, step_index: -1 }, '$.step_index'],
    [{ ...valid, step_index: 1.5 }, '$.step_index'],
    [{ ...valid, plan_hash: 'xyz' }, '$.plan_hash'],
    [{ ...valid, intent_version: 'A'.repeat(64) }, '$.intent_version'],
    [{ ...valid, args: 'path=/a' }, '$.args'],
    [{ ...valid, extra: true }, 'unknown key "extra"'],
    [{ ...valid, action_id: 'read file' }, '$.action_id'],
  ])('rejects %o naming the field', (input, expected) => {
    const result = validateAction(input);
    expect(result.ok).toBe(false);
    try {
      assertAction(input);
      expect.unreachable();
    } catch (error) {
      expect(ApeError.isInstance(error) && error.code).toBe('ACTION_INVALID');
      expect((error as Error).message).toContain(expected);
    }
  });
});

describe('isActionId', () => {
  it('accepts exactly the schema pattern of an action id', () => {
    expect(isActionId('read_file')).toBe(true);
    expect(isActionId('github.issues:create-1')).toBe(true);
    expect(isActionId('a'.repeat(128))).toBe(true);
    expect(isActionId('a'.repeat(129))).toBe(false);
    expect(isActionId('-starts-with-dash')).toBe(false);
    expect(isActionId('has space')).toBe(false);
    expect(isActionId('glob*')).toBe(false);
    expect(isActionId('')).toBe(false);
    expect(isActionId(7)).toBe(false);
  });

  it('agrees with validateAction for every generated name', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 140 }), (name) => {
        const action = { ...valid, action_id: name };
        expect(isActionId(name)).toBe(validateAction(action).ok);
      }),
    );
  });
});
