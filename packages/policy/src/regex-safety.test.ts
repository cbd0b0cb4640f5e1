import { describe, expect, it } from 'vitest';
import { unsafePatternReason } from './regex-safety.js';

describe('unsafePatternReason', () => {
  it.each([
    '^T-[0-9]{1,6}$',
    '^/workspace/[^\\0]*$',
    '^(foo|bar)$',
    '^[a-z]+(\\.[a-z]+){0,3}$',
    '^(?:ab)?c+$',
    '[(+*)]+',
  ])('accepts %s', (pattern) => {
    expect(unsafePatternReason(pattern)).toBeUndefined();
  });

  it.each([
    ['^(a+)+$', 'nested quantifiers'],
    ['^(a*)*$', 'nested quantifiers'],
    ['^(a|aa)+$', 'nested quantifiers'],
    ['^((ab)*c)+$', 'nested quantifiers'],
    ['^(\\w+\\s?)*$', 'nested quantifiers'],
    ['^(a+){2,}$', 'nested quantifiers'],
    ['(a)\\1', 'backreferences'],
    ['(?<x>a)\\k<x>', 'backreferences'],
    ['^(?=a)', 'lookaround'],
    ['(?<!a)b', 'lookaround'],
    ['a'.repeat(257), 'longer than'],
  ])('refuses %s', (pattern, reason) => {
    expect(unsafePatternReason(pattern)).toContain(reason);
  });
});
