import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinearRegExp, literalOf } from './regex-safety.js';

/** Pieces of patterns: literal text, every special character, escapes, anchors, surrogates. */
const PATTERN_PIECES = [
  'a',
  'b',
  'ab',
  '/',
  '-',
  ':',
  ' ',
  '\n',
  '@',
  'é',
  '~',
  '%',
  ',',
  '=',
  '"',
  "'",
  '#',
  '!',
  '&',
  '^',
  '$',
  '.',
  '*',
  '+',
  '?',
  '(',
  ')',
  '[a]',
  '{2}',
  '|',
  '\\.',
  '\\/',
  '\\$',
  '\\^',
  '\\\\',
  '\\*',
  '\\(',
  '\\[',
  '\\]',
  '\\{',
  '\\}',
  '\\|',
  '\\?',
  '\\+',
  '\\d',
  '\\w',
  '\\s',
  '\\n',
  '\\u0041',
  '\\x41',
  '\ud83d\ude00',
  'x',
];
const INPUT_PIECES = [
  'a',
  'b',
  'ab',
  '/',
  '-',
  ':',
  ' ',
  '\n',
  '\r',
  '\u2028',
  '@',
  'é',
  'e\u0301',
  '.',
  '$',
  '^',
  '\\',
  '*',
  '(',
  '[',
  '|',
  '?',
  '+',
  '{',
  '}',
  ']',
  ')',
  '\ud83d',
  '\ude00',
  '\ud83d\ude00',
  'x',
  'A',
  '1',
];

const pattern = fc
  .array(fc.constantFrom(...PATTERN_PIECES), { maxLength: 6 })
  .map((parts) => parts.join(''))
  .filter((source) => {
    try {
      new RegExp(source, 'u');
      new LinearRegExp(source);
      return true;
    } catch {
      return false;
    }
  });
const input = fc.array(fc.constantFrom(...INPUT_PIECES), { maxLength: 8 }).map((parts) => parts.join(''));

describe('literal patterns', () => {
  it('match exactly what RegExp with the u flag matches', () => {
    fc.assert(
      fc.property(pattern, fc.array(input, { minLength: 1, maxLength: 8 }), (source, inputs) => {
        const linear = new LinearRegExp(source);
        const native = new RegExp(source, 'u');
        const literal = literalOf(source);
        for (const text of inputs) {
          // The pattern's own literal text, alone and with neighbours, besides the random inputs.
          for (const candidate of literal === undefined
            ? [text]
            : [text, literal.text, `x${literal.text}`, `${literal.text}x`]) {
            expect(linear.test(candidate), `${JSON.stringify(source)} on ${JSON.stringify(candidate)}`).toBe(
              native.test(candidate),
            );
          }
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('leave any surrogate to RE2, and take the characters around the surrogate range', () => {
    for (const source of ['\ud800', '\udbff', '\udc00', '\udfff', 'a\udfff']) {
      expect(literalOf(source), JSON.stringify(source)).toBeUndefined();
    }
    expect(literalOf('\ud7ff')).toEqual({ anchors: 'none', text: '\ud7ff' });
    expect(literalOf('\ue000')).toEqual({ anchors: 'none', text: '\ue000' });
    expect(literalOf('^\uffff$')).toEqual({ anchors: 'both', text: '\uffff' });
  });

  it('match a pattern anchored at both ends only on the whole input', () => {
    const exact = new LinearRegExp('^main$');
    expect(['main', 'mainx', 'xmain', '', 'Main', 'main\n'].map((input) => exact.test(input))).toEqual([
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(new LinearRegExp('^$').test('')).toBe(true);
    expect(new LinearRegExp('^$').test('a')).toBe(false);
  });

  it('print as the ECMAScript pattern it was written as', () => {
    expect(String(new LinearRegExp('^/workspace/'))).toBe('/^/workspace//u');
    expect(String(new LinearRegExp('a+'))).toBe('/a+/u');
  });

  it('take only patterns made of literal characters, anchored or not', () => {
    expect(literalOf('^/workspace/')).toEqual({ anchors: 'start', text: '/workspace/' });
    expect(literalOf('^https://api\\.example\\.com/')).toEqual({
      anchors: 'start',
      text: 'https://api.example.com/',
    });
    expect(literalOf('\\.pdf$')).toEqual({ anchors: 'end', text: '.pdf' });
    expect(literalOf('^main$')).toEqual({ anchors: 'both', text: 'main' });
    expect(literalOf('secret')).toEqual({ anchors: 'none', text: 'secret' });
    expect(literalOf('a\\$')).toEqual({ anchors: 'none', text: 'a$' });
    expect(literalOf('a\\\\$')).toEqual({ anchors: 'end', text: 'a\\' });
    expect(literalOf('')).toEqual({ anchors: 'none', text: '' });
    for (const source of [
      '^/w/.*',
      'a|b',
      '\\d',
      '[a]',
      'a?',
      '^(a)',
      '\\u0041',
      '\\x41',
      '\ud83d\ude00',
      'a{2}',
      '\\',
    ]) {
      expect(literalOf(source), source).toBeUndefined();
    }
  });
});
