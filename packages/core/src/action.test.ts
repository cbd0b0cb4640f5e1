import { describe, expect, it } from 'vitest';
import { assertAction, validateAction } from './action.js';
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
