import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApeError } from './errors.js';
import { createIntent, validateIntent } from './intent.js';

const valid = () => ({
  allowed_actions: ['read_file', 'write_file'],
  forbidden_actions: ['delete_file'],
  escalation_required: ['write_file'],
  scope: 'edit notes in /workspace',
  description: 'a test intent',
});

function failure(input: unknown): { code: string | undefined; message: string } {
  try {
    createIntent(input);
  } catch (error) {
    return { code: ApeError.isInstance(error) ? error.code : undefined, message: (error as Error).message };
  }
  throw new Error('expected createIntent to throw');
}

describe('createIntent', () => {
  it('returns a frozen copy and a sha256 version', () => {
    const intent = createIntent(valid());
    expect(intent.version).toMatch(/^[0-9a-f]{64}$/);
    expect(intent.value).toEqual(valid());
    expect(Object.isFrozen(intent.value)).toBe(true);
    expect(Object.isFrozen(intent.value.allowed_actions)).toBe(true);
  });

  it.each(['allowed_actions', 'forbidden_actions', 'scope'])('requires %s', (field) => {
    const input: Record<string, unknown> = valid();
    delete input[field];
    const { code, message } = failure(input);
    expect(code).toBe('INTENT_INVALID');
    expect(message).toContain(`missing required field "${field}"`);
  });

  it.each([
    ['allowed_actions', 'read_file', '$.allowed_actions'],
    ['allowed_actions', [1], '$.allowed_actions[0]'],
    ['forbidden_actions', {}, '$.forbidden_actions'],
    ['scope', 42, '$.scope'],
    ['scope', '', '$.scope'],
    ['escalation_required', [true], '$.escalation_required[0]'],
    ['description', ['x'], '$.description'],
  ])('rejects a wrong type in %s (%o), naming %s', (field, value, path) => {
    const { code, message } = failure({ ...valid(), [field]: value });
    expect(code).toBe('INTENT_INVALID');
    expect(message).toContain(path);
  });

  it('rejects unknown keys, including prototype keys', () => {
    expect(failure({ ...valid(), extra: 1 }).message).toContain('unknown key "extra"');
    const polluted = JSON.parse(
      '{"allowed_actions":[],"forbidden_actions":[],"scope":"s","__proto__":{"x":1}}',
    );
    const { code, message } = failure(polluted);
    expect(code).toBe('INTENT_INVALID');
    expect(message).toContain('unknown key "__proto__"');
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });

  it.each([' read_file', 'read_file ', 'rеad_file' /* Cyrillic е */, 'a/b', '', 'x'.repeat(129)])(
    'rejects the malformed action id %o',
    (action) => {
      expect(failure({ ...valid(), allowed_actions: [action] }).code).toBe('INTENT_INVALID');
    },
  );

  it('rejects an action that is both allowed and forbidden', () => {
    const { code, message } = failure({ ...valid(), forbidden_actions: ['read_file'] });
    expect(code).toBe('INTENT_INVALID');
    expect(message).toContain('$.allowed_actions[0]');
  });

  it('rejects duplicate entries and non-objects', () => {
    expect(failure({ ...valid(), allowed_actions: ['a', 'a'] }).code).toBe('INTENT_INVALID');
    expect(failure(null).code).toBe('INTENT_INVALID');
    expect(failure([]).code).toBe('INTENT_INVALID');
    expect(failure('intent').code).toBe('INTENT_INVALID');
  });

  it('rejects values that are not JSON (functions, cycles)', () => {
    expect(failure({ ...valid(), scope: () => 's' }).code).toBe('INTENT_INVALID');
    const cyclic: Record<string, unknown> = valid();
    cyclic['description'] = cyclic;
    expect(failure(cyclic).code).toBe('INTENT_INVALID');
  });

  it('is unaffected by later mutation of the caller object', () => {
    const input = valid();
    const intent = createIntent(input);
    const before = intent.version;
    input.allowed_actions.push('delete_everything');
    input.scope = 'changed';
    expect(intent.value.allowed_actions).toEqual(['read_file', 'write_file']);
    expect(intent.value.scope).toBe('edit notes in /workspace');
    expect(createIntent(valid()).version).toBe(before);
    expect(Object.isFrozen(input)).toBe(false);
  });

  it('gives the same version for the same content in another key order', () => {
    const reordered = {
      scope: 'edit notes in /workspace',
      description: 'a test intent',
      escalation_required: ['write_file'],
      forbidden_actions: ['delete_file'],
      allowed_actions: ['read_file', 'write_file'],
    };
    expect(createIntent(reordered).version).toBe(createIntent(valid()).version);
  });

  it('gives different versions for different content (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        (a, b) => {
          fc.pre(a !== b);
          expect(createIntent({ ...valid(), scope: a }).version).not.toBe(
            createIntent({ ...valid(), scope: b }).version,
          );
        },
      ),
    );
  });

  it('validateIntent never throws and lists every problem', () => {
    const result = validateIntent({ allowed_actions: 'x', scope: 3, extra: true });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.length).toBeGreaterThanOrEqual(3);
    fc.assert(fc.property(fc.anything(), (input) => void validateIntent(input)));
  });
});
