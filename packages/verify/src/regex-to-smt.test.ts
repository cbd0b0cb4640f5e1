import { describe, expect, it } from 'vitest';
import { regexToSmt } from './regex-to-smt.js';
import { smtString } from './smt-text.js';
import { openSession } from './solver.js';

/**
 * Each row: an ECMAScript pattern (the `u`-flag dialect ajv uses) and sample strings. The SMT regex
 * must accept exactly the samples `new RegExp(pattern, 'u').test()` accepts (search semantics).
 */
const TABLE: readonly (readonly [string, readonly string[]])[] = [
  // literals and search semantics
  ['abc', ['abc', 'xxabcxx', 'ab', 'acb', '']],
  ['', ['', 'anything']],
  // anchors
  ['^abc', ['abc', 'abcd', 'xabc']],
  ['abc$', ['abc', 'xabc', 'abcx']],
  ['^abc$', ['abc', 'abcc', ' abc']],
  ['^$', ['', 'a']],
  ['^a|b$', ['a', 'xa', 'b', 'bx', 'ab']],
  // classes, ranges, negated classes
  ['^[abc]$', ['a', 'c', 'd', '', 'ab']],
  ['^[a-f0-9]+$', ['deadbeef', '0af', 'g', 'DEAD', '']],
  ['^[^a-z]$', ['A', '1', 'a', 'z', '\n', '']],
  ['^[-a]$', ['-', 'a', 'b']],
  ['^[a-]$', ['-', 'a', 'b']],
  ['^[]$', ['', 'a', ']']],
  ['^[^]$', ['a', '\n', '', 'ab']],
  ['^[\\d_]+$', ['1_2', 'a', '_']],
  ['^[\\D]$', ['a', '1']],
  ['^[^\\W]$', ['a', '_', '-', '9']],
  ['^[\\s\\S]$', ['a', '\n', ' ', '']],
  ['^[\\b]$', ['\b', 'b', '\\']],
  ['^[\\x41-\\x43]$', ['A', 'C', 'D']],
  ['^[\\]\\[\\-]+$', [']', '[', '-', 'a']],
  // class escapes
  ['^\\d+$', ['0123456789', '12a', '', '٣']],
  ['^\\D+$', ['abc', 'a1']],
  ['^\\w+$', ['azAZ09_', 'a-b', 'é']],
  ['^\\W$', ['-', 'a', ' ']],
  [
    '^\\s$',
    [' ', '\t', '\n', '\v', '\f', '\r', '\u00a0', '\u2003', '\u2028', '\u3000', '\ufeff', 'a', '\u0085'],
  ],
  ['^\\S$', ['a', ' ', '\u00a0']],
  // single-character escapes
  ['^\\t\\n\\r\\f\\v$', ['\t\n\r\f\v', '\t\n\r\f']],
  ['^\\0$', ['\0', '0']],
  ['^\\x41\\u0042\\u{43}$', ['ABC', 'AB']],
  ['^\\u{1F600}$', ['😀', '😁']],
  // a surrogate pair written as two \u escapes is one code point with the u flag
  ['^\\uD83D\\uDE00$', ['😀', '😁', '\uD83D']],
  ['^[\\uD83D\\uDE00-\\uD83D\\uDE02]$', ['😀', '😂', '😃']],
  ['^\\uD83D$', ['\uD83D', '😀']],
  ['^\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\/\\^\\$\\\\$', ['.*+?()[]{}|/^$\\', '.*+?()[]{}|/^$']],
  // dot: any code point but line terminators
  ['^.$', ['a', ' ', '😀', '\n', '\r', '\u2028', '\u2029', '']],
  ['^a.c$', ['abc', 'a.c', 'a\nc', 'ac']],
  // alternation and groups
  ['^(ab|cd)$', ['ab', 'cd', 'abcd', 'a']],
  ['^(?:ab|cd)+$', ['abcdab', 'abc', '']],
  ['^(?<word>[a-z]+)-(?<n>\\d+)$', ['abc-12', 'abc-', '-1']],
  ['^(a|)$', ['a', '', 'b']],
  ['x(a|b(c|d))y', ['xay', 'xbdy', 'xby', 'zzxbcyzz']],
  // quantifiers
  ['^a?b$', ['b', 'ab', 'aab']],
  ['^a*b$', ['b', 'aaab', 'ac']],
  ['^a+b$', ['b', 'ab', 'aaab']],
  ['^a{3}$', ['aaa', 'aa', 'aaaa']],
  ['^a{2,}$', ['a', 'aa', 'aaaaa']],
  ['^a{1,3}$', ['', 'a', 'aaa', 'aaaa']],
  ['^a{0,0}b$', ['b', 'ab']],
  ['^(ab){2}$', ['abab', 'ab', 'ababab']],
  // lazy quantifiers accept the same strings
  ['^a+?$', ['a', 'aaa', '']],
  ['^a*?b$', ['b', 'aab', 'ba']],
  ['^a??b$', ['b', 'ab', 'aab']],
  ['^a{1,2}?$', ['a', 'aa', 'aaa']],
  // unicode literals (astral code points are one character)
  ['^é+$', ['éé', 'e']],
  ['^😀.$', ['😀a', '😀😀', '😀']],
  ['^[😀-😂]$', ['😀', '😁', '😂', '😃']],
  ['^"q"$', ['"q"', 'q']],
  // realistic policy patterns
  ['^[A-Za-z0-9._%+-]+@example\\.com$', ['a.b@example.com', 'a@example.org', '@example.com']],
  ['^/workspace/[^/]+\\.md$', ['/workspace/a.md', '/workspace/a/b.md', '/workspace/.md']],
];

async function agreement(pattern: string, samples: readonly string[]) {
  const regex = regexToSmt(pattern);
  expect(regex, `/${pattern}/ is translated`).toBeDefined();
  const session = await openSession('');
  const expected = samples.map((sample) => new RegExp(pattern, 'u').test(sample));
  const claim = samples
    .map((sample, index) => {
      const member = `(str.in_re ${smtString(sample)} ${regex})`;
      return expected[index] ? member : `(not ${member})`;
    })
    .join(' ');
  const { answer } = await session.check(`(and true ${claim})`, []);
  if (answer === 'sat') return [];
  // Something disagrees: name each sample on which Z3 and JavaScript differ.
  const disagreements: string[] = [];
  for (const [index, sample] of samples.entries()) {
    const member = await session.check(`(str.in_re ${smtString(sample)} ${regex})`, []);
    if ((member.answer === 'sat') !== expected[index]) disagreements.push(JSON.stringify(sample));
  }
  return disagreements;
}

describe('regexToSmt: Z3 membership equals JavaScript `test()`', () => {
  for (const [pattern, samples] of TABLE) {
    it(`/${pattern}/ on ${samples.length} samples`, async () => {
      expect(() => new RegExp(pattern, 'u')).not.toThrow();
      expect(await agreement(pattern, samples)).toEqual([]);
    });
  }

  it('the table has every sample class: each pattern has a matching and a non-matching sample', () => {
    for (const [pattern, samples] of TABLE) {
      const results = samples.map((sample) => new RegExp(pattern, 'u').test(sample));
      // The empty pattern matches every string; the empty class none.
      if (pattern === '' || pattern === '^[]$') continue;
      expect(results, `/${pattern}/`).toContain(true);
      expect(results, `/${pattern}/`).toContain(false);
    }
  });
});

describe('regexToSmt: constructs SMT regexes cannot express are refused (undefined), never guessed', () => {
  const refused = [
    ['\\bword\\b', 'word boundary'],
    ['\\Bx', 'non-boundary'],
    ['(a)\\1', 'backreference'],
    ['(?<n>a)\\k<n>', 'named backreference'],
    ['a(?=b)', 'lookahead'],
    ['a(?!b)', 'negative lookahead'],
    ['(?<=a)b', 'lookbehind'],
    ['(?<!a)b', 'negative lookbehind'],
    ['\\p{L}', 'unicode property'],
    ['\\cJ', 'control letter'],
    ['(^a)', 'anchor inside a group'],
    ['(a|^b)', 'anchor inside an alternative of a group'],
    ['(a$)', 'end anchor inside a group'],
    ['a$|b', 'end anchor before a top-level alternative'],
    ['a$b', 'end anchor in the middle'],
    ['a^b', 'start anchor in the middle'],
    ['\\01', 'octal-looking escape'],
    ['[\\01]', 'octal-looking escape in a class'],
  ] as const;
  for (const [pattern, construct] of refused) {
    it(`refuses ${construct}: /${pattern}/`, () => {
      expect(regexToSmt(pattern)).toBeUndefined();
    });
  }

  // Not valid in the `u` dialect: refused rather than read some way JavaScript would not.
  const invalid = [
    '*a',
    'a**',
    'a+*',
    'a?{2}',
    'a{2}{3}',
    'a{,3}',
    'a{3,1}',
    'a{x}',
    '{',
    'a}',
    ']',
    '?',
    '(a',
    'a)',
    '(?x)',
    '\\',
    '\\e',
    '\\xZZ',
    '\\uZZZZ',
    '[a',
    '[\\',
    '[[a]]',
    '[z-a]',
    '[a-\\d]',
  ];
  for (const pattern of invalid) {
    it(`refuses /${pattern}/, which is not a valid u-flag pattern`, () => {
      expect(() => new RegExp(pattern, 'u')).toThrow(SyntaxError);
      expect(regexToSmt(pattern)).toBeUndefined();
    });
  }

  it('spells the translation in SMT-LIB: search semantics add re.all on the unanchored sides', () => {
    expect(regexToSmt('a')).toBe('(re.++ re.all (str.to_re "a") re.all)');
    expect(regexToSmt('^a$')).toBe('(str.to_re "a")');
    expect(regexToSmt('^[^]$')).toBe('(re.diff re.allchar re.none)');
  });
});
