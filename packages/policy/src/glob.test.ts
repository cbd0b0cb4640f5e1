import { describe, expect, it } from 'vitest';
import { PatternIndex, patternCovers, patternMatches } from './glob.js';

describe('action globs', () => {
  it.each([
    ['fs.*', 'fs.read', true],
    ['fs.*', 'fs.a.b', false],
    ['fs.**', 'fs.a.b', true],
    ['*_file', 'read_file', true],
    ['*_file', 'a.read_file', false],
    ['**', 'a.b.c', true],
    ['*', 'a.b', false],
    ['a.b', 'aXb', false],
    ['a-*', 'a-b', true],
  ])('%s matches %s: %s', (pattern, action, expected) => {
    expect(patternMatches(pattern, action)).toBe(expected);
  });

  it.each([
    ['**', 'fs.*', true],
    ['fs.**', 'fs.*', true],
    ['fs.*', 'fs.read', true],
    ['*', '*_file', true],
    ['fs.*', 'fs.**', false],
    ['a*', '*a', false],
    ['a*b', 'a*', false],
  ])('%s covers %s: %s', (outer, inner, expected) => {
    expect(patternCovers(outer, inner)).toBe(expected);
  });

  it('looks up exact ids and globs in compare order', () => {
    const index = new PatternIndex(
      [
        { pattern: 'fs.read', value: 'c' },
        { pattern: 'fs.*', value: 'a' },
        { pattern: '**', value: 'b' },
      ],
      (left, right) => left.localeCompare(right),
    );
    expect(index.lookup('fs.read')).toEqual(['a', 'b', 'c']);
    expect(index.lookup('fs.write')).toEqual(['a', 'b']);
    expect(index.lookup('net.get')).toEqual(['b']);
    expect(index.lookup('net.get')).toBe(index.lookup('net.get'));
  });
});
