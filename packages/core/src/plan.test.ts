import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApeError, type ApeErrorDetails } from './errors.js';
import { createIntent } from './intent.js';
import { createPlan, validatePlan } from './plan.js';

const intent = createIntent({
  allowed_actions: ['read_file', 'write_file', 'list_dir'],
  forbidden_actions: ['delete_file'],
  scope: 'workspace',
});

const steps = () => [
  { action_id: 'list_dir', args: { path: '/workspace' } },
  { action_id: 'read_file', tool_id: 'fs', args: { path: '/workspace/a.txt' }, description: 'read a' },
];

function failure(
  input: unknown,
  withIntent = true,
): { code?: string; message: string; details: ApeErrorDetails } {
  try {
    createPlan(input, withIntent ? intent : undefined);
  } catch (error) {
    if (!ApeError.isInstance(error)) throw error;
    return { code: error.code, message: error.message, details: error.details };
  }
  throw new Error('expected createPlan to throw');
}

describe('createPlan', () => {
  it('accepts { steps } and a bare array, with the same hash', () => {
    const wrapped = createPlan({ steps: steps() }, intent);
    const bare = createPlan(steps(), intent);
    expect(wrapped.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(bare.hash).toBe(wrapped.hash);
    expect(bare.steps).toEqual(steps());
  });

  it('rejects an empty plan', () => {
    expect(failure({ steps: [] }).code).toBe('PLAN_INVALID');
    expect(failure([]).code).toBe('PLAN_INVALID');
  });

  it('rejects a step outside the intent, naming the step index', () => {
    const { code, message, details } = failure([...steps(), { action_id: 'send_email' }]);
    expect(code).toBe('PLAN_INVALID');
    expect(details['step']).toBe(2);
    expect(message).toContain('step 2');
    expect(message).toContain('send_email');
  });

  it('rejects a forbidden step, naming the step index', () => {
    const { details, message } = failure([{ action_id: 'delete_file' }, ...steps()]);
    expect(details['step']).toBe(0);
    expect(message).toContain('forbidden');
  });

  it.each([
    [{ steps: [{}] }, 'missing required field "action_id"'],
    [{ steps: [{ action_id: 'read_file', extra: 1 }] }, 'unknown key "extra"'],
    [{ steps: [{ action_id: 'read_file' }], owner: 'x' }, 'unknown key "owner"'],
    [{ steps: [{ action_id: 7 }] }, '$.steps[0].action_id'],
    [{ steps: [{ action_id: 'read_file', args: [] }] }, '$.steps[0].args'],
    [{ steps: [{ action_id: 'read_file', description: 1 }] }, '$.steps[0].description'],
    [{ steps: 'read_file' }, '$.steps'],
    [{}, 'missing required field "steps"'],
    [null, '$'],
  ])('rejects the malformed plan %o', (input, expected) => {
    const { code, message } = failure(input, false);
    expect(code).toBe('PLAN_INVALID');
    expect(message).toContain(expected);
  });

  it('is unaffected by later mutation of the caller array', () => {
    const input = steps();
    const plan = createPlan(input, intent);
    const hash = plan.hash;
    input.push({ action_id: 'write_file', args: { path: '/etc/passwd' } });
    (input[0]!.args as Record<string, unknown>)['path'] = '/';
    expect(plan.steps).toHaveLength(2);
    expect(plan.steps[0]!.args).toEqual({ path: '/workspace' });
    expect(createPlan(steps(), intent).hash).toBe(hash);
    expect(Object.isFrozen(plan.steps[0]!.args)).toBe(true);
    expect(() => {
      (plan.steps as unknown as unknown[]).push({});
    }).toThrow(TypeError);
  });

  it('hashes the same content in another key order identically', () => {
    const reordered = [
      { args: { path: '/workspace' }, action_id: 'list_dir' },
      { description: 'read a', args: { path: '/workspace/a.txt' }, tool_id: 'fs', action_id: 'read_file' },
    ];
    expect(createPlan(reordered, intent).hash).toBe(createPlan(steps(), intent).hash);
  });

  it('hashes different step orders differently', () => {
    expect(createPlan([...steps()].reverse(), intent).hash).not.toBe(createPlan(steps(), intent).hash);
  });

  it('validatePlan never throws (property)', () => {
    fc.assert(fc.property(fc.anything(), (input) => void validatePlan(input, intent)));
  });
});
