import { describe, expect, it } from 'vitest';
import { parseAssertions } from './assertions.js';

function failure(action: () => unknown): { code: string; message: string; details: Record<string, unknown> } {
  try {
    action();
  } catch (error) {
    return error as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error('expected a PolicyError');
}

describe('parseAssertions refuses each malformed entry with POLICY_INVALID and its path', () => {
  it.each([
    [
      'a list of patterns that is not a list',
      { must_escalate: 'deploy' },
      '$.must_escalate',
      'must be a list of action ids or globs',
    ],
    [
      'never_allow_with that is not a list',
      { never_allow_with: {} },
      '$.never_allow_with',
      'must be a list of { action, provenance }',
    ],
    [
      'an entry that is not a mapping',
      { never_allow_with: ['x'] },
      '$.never_allow_with[0]',
      'must be a mapping { action, provenance }',
    ],
    [
      'an entry that is a list',
      { never_allow_with: [[]] },
      '$.never_allow_with[0]',
      'must be a mapping { action, provenance }',
    ],
    [
      'an unknown key in an entry',
      { never_allow_with: [{ action: 'x', provenance: 'USER_TRUSTED', why: 1 }] },
      '$.never_allow_with[0].why',
      'unknown key "why"',
    ],
    [
      'an entry without an action',
      { never_allow_with: [{ provenance: 'USER_TRUSTED' }] },
      '$.never_allow_with[0].action',
      'not an action id or glob',
    ],
    [
      'an entry without a label',
      { never_allow_with: [{ action: 'x' }] },
      '$.never_allow_with[0].provenance',
      'must be a label or a list of labels',
    ],
    [
      'an empty list of labels',
      { never_allow_with: [{ action: 'x', provenance: [] }] },
      '$.never_allow_with[0].provenance',
      'must be a label or a list of labels',
    ],
    [
      'an unknown label in a list',
      { never_allow_with: [{ action: 'x', provenance: ['USER_TRUSTED', 'ROOT'] }] },
      '$.never_allow_with[0].provenance[1]',
      'unknown provenance label "ROOT"',
    ],
    [
      'an unknown single label',
      { never_allow_with: [{ action: 'x', provenance: 'ROOT' }] },
      '$.never_allow_with[0].provenance',
      'unknown provenance label "ROOT"',
    ],
    ['a value that is not a mapping', null, '$', 'the assertions must be a mapping'],
  ])('refuses %s', (_name, value, path, message) => {
    const error = failure(() => parseAssertions(value, 'checks.yaml'));
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.details['path']).toBe(path);
    expect(error.details['file']).toBe('checks.yaml');
    expect(error.message).toContain(`checks.yaml: ${path}: ${message}`);
    expect(Object.hasOwn(error.details, 'line')).toBe(false);
  });

  it('names the line when given the text the value was read from', () => {
    const text = 'always_deny: [x]\nnever_allow_with:\n  - action: send_email\n    provenance: ROOT\n';
    const error = failure(() =>
      parseAssertions(
        { always_deny: ['x'], never_allow_with: [{ action: 'send_email', provenance: 'ROOT' }] },
        'checks.yaml',
        text,
      ),
    );
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.details['line']).toBe(4);
    expect(error.message).toMatch(/^checks\.yaml:4: \$\.never_allow_with\[0\]\.provenance: /);
  });

  it('has no line when the text cannot be read', () => {
    const error = failure(() => parseAssertions({ always_deny: 5 }, 'checks.yaml', 'always_deny: [\n'));
    expect(error.code).toBe('POLICY_INVALID');
    expect(Object.hasOwn(error.details, 'line')).toBe(false);
  });

  it('accepts a list of labels and missing lists, and freezes the result', () => {
    const parsed = parseAssertions({
      never_allow_with: [{ action: 'pay.*', provenance: ['USER_TRUSTED', 'EXTERNAL_UNTRUSTED'] }],
    });
    expect(parsed).toEqual({
      always_deny: [],
      must_escalate: [],
      never_allow_with: [{ action: 'pay.*', provenance: ['USER_TRUSTED', 'EXTERNAL_UNTRUSTED'] }],
    });
    expect(Object.isFrozen(parsed)).toBe(true);
  });
});
