import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  compileGlob,
  createCoverFinder,
  globToRegExp,
  isActionPattern,
  PatternIndex,
  patternCovers,
  patternMatches,
} from './glob.js';
import { LinearRegExp } from './regex-safety.js';

/** Patterns for the pattern-index properties: exact ids and globs over a small alphabet. */
const indexPattern = fc
  .array(fc.constantFrom('a', 'b', 'ab', '*', '**', 'a*', '*b', 'x'), { minLength: 1, maxLength: 3 })
  .map((pieces) => pieces.join('.'));
/** Action ids over the same alphabet, so that they meet the patterns. */
const indexId = fc
  .array(fc.constantFrom('a', 'b', 'ab', 'x', 'bx'), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join('.'));

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
    // A cached answer is shared between calls, so it must be frozen: a caller cannot change the next answer.
    const answer = index.lookup('net.get') as string[];
    expect(Object.isFrozen(answer)).toBe(true);
    expect(() => answer.push('x')).toThrow(TypeError);
    expect(index.lookup('net.get')).toEqual(['b']);
  });

  it('groups repeated exact patterns in entry order and gives known actions without values an empty list', () => {
    const index = new PatternIndex(
      [
        { pattern: 'fs.read', value: 'b1' },
        { pattern: 'fs.*', value: 'a' },
        { pattern: 'fs.read', value: 'b2' },
        { pattern: 'fs.read', value: 'b1' },
      ],
      (left, right) => left[0]!.localeCompare(right[0]!),
      ['net.get', 'fs.read'],
    );
    expect(index.lookup('fs.read')).toEqual(['a', 'b1', 'b2', 'b1']);
    expect(index.lookup('net.get')).toEqual([]);
    expect(Object.isFrozen(index.lookup('net.get'))).toBe(true);
    expect(new Map(index.exactEntries())).toEqual(
      new Map([
        ['net.get', []],
        ['fs.read', ['a', 'b1', 'b2', 'b1']],
      ]),
    );
  });

  it('looks up what matching every entry one by one finds, for known ids and any other action (property)', () => {
    fc.assert(
      fc.property(
        fc.array(indexPattern, { maxLength: 12 }),
        fc.array(indexId, { maxLength: 8 }),
        fc.array(indexId, { minLength: 1, maxLength: 8 }),
        (patterns, known, probes) => {
          // Values are entry numbers; equal ones never compare equal except for the same entry.
          const entries = patterns.map((text, index) => ({ pattern: text, value: index }));
          const index = new PatternIndex(entries, (left, right) => left - right, known);
          for (const action of [...known, ...probes, ...patterns]) {
            const expected = entries
              .filter((entry) => patternMatches(entry.pattern, action))
              .map((entry) => entry.value);
            expect(index.lookup(action), `${action} in ${JSON.stringify(patterns)}`).toEqual(expected);
          }
          if (entries.length === 0) expect([...index.exactEntries()]).toEqual([]);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('keeps ties in entry order: exact entries first, then globs in the order given (property)', () => {
    fc.assert(
      fc.property(
        fc.array(indexPattern, { minLength: 1, maxLength: 12 }),
        fc.array(indexId, { maxLength: 8 }),
        (patterns, known) => {
          const entries = patterns.map((text, index) => ({ pattern: text, value: index }));
          // Every value compares equal: the order is the index's own.
          const index = new PatternIndex(entries, () => 0, known);
          for (const action of [...known, ...patterns]) {
            const matching = entries.filter((entry) => patternMatches(entry.pattern, action));
            const expected = [
              ...matching.filter((entry) => !entry.pattern.includes('*')),
              ...matching.filter((entry) => entry.pattern.includes('*')),
            ].map((entry) => entry.value);
            expect(index.lookup(action)).toEqual(expected);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('sorts what several globs give an action no exact entry names, answers has(), and says when it is empty', () => {
    const index = new PatternIndex(
      [
        { pattern: 'fs.*', value: 'c' },
        { pattern: '*.read', value: 'a' },
        { pattern: '**', value: 'b' },
      ],
      (left, right) => left.localeCompare(right),
    );
    expect(index.lookup('fs.read')).toEqual(['a', 'b', 'c']);
    expect(index.lookup('fs.read')).toBe(index.lookup('fs.read'));
    expect(index.has('fs.read')).toBe(true);
    expect(index.has('net.get.x')).toBe(true);
    expect(new PatternIndex([{ pattern: 'fs.*', value: 1 }], () => 0).has('net.get')).toBe(false);
    // Without known actions the index holds only its exact patterns.
    expect([...new PatternIndex([{ pattern: 'fs.read', value: 1 }], () => 0).exactEntries()]).toEqual([
      ['fs.read', [1]],
    ]);
    expect(index.isEmpty).toBe(false);
    expect(new PatternIndex([{ pattern: 'fs.read', value: 1 }], () => 0).isEmpty).toBe(false);
    const empty = new PatternIndex<number>([], () => 0, ['fs.read']);
    expect(empty.isEmpty).toBe(true);
    expect(empty.lookup('fs.read')).toEqual([]);
    expect(empty.has('fs.read')).toBe(false);
  });

  it('finds the same first covering item as checking every item with patternCovers', () => {
    const segment = fc.constantFrom('a', 'b', 'ab', '*', '**', 'a*', '*b');
    const pattern = fc.array(segment, { minLength: 1, maxLength: 3 }).map((segments) => segments.join('.'));
    const item = fc.record({ id: fc.nat(), patterns: fc.array(pattern, { minLength: 1, maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), fc.array(pattern, { maxLength: 8 }), (items, inners) => {
        const find = createCoverFinder(items);
        for (const inner of inners) {
          const expected = items.find((candidate) =>
            candidate.patterns.some((outer) => patternCovers(outer, inner)),
          );
          expect(find(inner)).toBe(expected);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('isActionPattern', () => {
  it('accepts exact ids and globs the schema accepts, and nothing else', () => {
    for (const text of ['read_file', 'fs.*', 'net.**', '*_file', 'a:b-c'])
      expect(isActionPattern(text)).toBe(true);
    for (const text of ['', 'rm -rf', 'a***', '.x', 'x'.repeat(129), 5, null]) {
      expect(isActionPattern(text)).toBe(false);
    }
  });
});

describe('action globs on the linear-time engine', () => {
  it('matches a glob that backtracks catastrophically on RegExp against a 110-character id with RE2', () => {
    // Ends with a wildcard, so the literal head and tail (both empty) let every input through to RE2.
    const glob = `${'**a'.repeat(20)}**b**`;
    const linear = vi.spyOn(LinearRegExp.prototype, 'test');
    const matched = patternMatches(glob, 'a'.repeat(110));
    const inputs = linear.mock.calls.map(([input]) => input);
    vi.restoreAllMocks();
    expect(matched).toBe(false);
    expect(inputs).toEqual(['a'.repeat(110)]);
    expect(patternMatches(glob, `${'a'.repeat(20)}b`)).toBe(true);
  });

  it('keeps the glob semantics: * stops at dots, ** crosses them, other characters are literal', () => {
    expect(patternMatches('fs.*', 'fs.read')).toBe(true);
    expect(patternMatches('fs.*', 'fs.read.all')).toBe(false);
    expect(patternMatches('fs.**', 'fs.read.all')).toBe(true);
    expect(patternMatches('a-b:*', 'a-b:c')).toBe(true);
    expect(patternMatches('a.*', 'aXb')).toBe(false);
    expect(patternMatches('(a)*', '(a)x')).toBe(true);
  });

  it('never lets the literal head and tail of a one-wildcard glob overlap', () => {
    expect(compileGlob('a*a').test('a')).toBe(false);
    expect(compileGlob('a*a').test('aa')).toBe(true);
    expect(compileGlob('ab**ba').test('aba')).toBe(false);
    expect(compileGlob('ab**ba').test('abba')).toBe(true);
    expect(compileGlob('a.*.a').test('a.a')).toBe(false);
  });

  it('decides a one-wildcard glob without RE2, and compares the literal head and tail before it otherwise', () => {
    const linear = vi.spyOn(LinearRegExp.prototype, 'test');
    const answers = [
      compileGlob('fs.*').test('fs.read'),
      compileGlob('mail.**').test('mail.send.now'),
      compileGlob('*.read').test('fs.read'),
      compileGlob('a*.*b').test('xa.b'),
      compileGlob('a*.*b').test('ac.b'),
    ];
    const inputs = linear.mock.calls.map(([input]) => input);
    vi.restoreAllMocks();
    expect(answers).toEqual([true, true, true, false, true]);
    expect(inputs).toEqual(['ac.b']);
  });

  it("compileGlob answers as the glob's expression on RE2 for every pattern and input (property)", () => {
    const character = fc.constantFrom(
      'a',
      'b',
      '.',
      '*',
      ':',
      '-',
      '\n',
      '\r',
      '\u2028',
      '\u2029',
      '\ud800',
      '😀',
      'é',
    );
    const piece = fc.constantFrom('a', 'b', '.', ':', '-', '*', '**', 'a.', '.b');
    const pattern = fc
      .array(piece, { minLength: 1, maxLength: 6 })
      .map((pieces) => pieces.join(''))
      .filter((text) => text.includes('*') && !text.includes('***'));
    const input = fc.array(character, { maxLength: 12 }).map((characters) => characters.join(''));
    fc.assert(
      fc.property(pattern, fc.array(input, { minLength: 1, maxLength: 8 }), (glob, inputs) => {
        const compiled = compileGlob(glob);
        const expression = globToRegExp(glob);
        for (const text of inputs)
          expect(compiled.test(text), `${glob} on ${JSON.stringify(text)}`).toBe(expression.test(text));
        // Inputs built from the glob's own text (each wildcard replaced) reach every branch.
        const filled = glob.replaceAll('**', '.a\n').replaceAll('*', 'b');
        expect(compiled.test(filled)).toBe(expression.test(filled));
      }),
      { numRuns: 2000 },
    );
  });
});
