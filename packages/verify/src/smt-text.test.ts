import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSmtString, readSExpressions, realValue, smtReal, smtString } from './smt-text.js';
import { openSession } from './solver.js';

/** Z3's string alphabet ends at U+2FFFF (its default `encoding`). */
const Z3_MAX_CHAR = 0x2ffff;

describe('smtString', () => {
  it('doubles quotes and writes backslashes, controls and non-ASCII as \\u{..}', () => {
    expect(smtString('')).toBe('""');
    expect(smtString('plain text ~!')).toBe('"plain text ~!"');
    expect(smtString('say "hi"')).toBe('"say ""hi"""');
    expect(smtString('a\\b')).toBe('"a\\u{5c}b"');
    expect(smtString('\n\t\0\u007f')).toBe('"\\u{a}\\u{9}\\u{0}\\u{7f}"');
    expect(smtString('é😀\u202e')).toBe('"\\u{e9}\\u{1f600}\\u{202e}"');
  });

  it('is read back by decodeSmtString for every string in the solver alphabet', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.integer({ min: 0, max: Z3_MAX_CHAR }), { maxLength: 20 })
          .map((codes) => String.fromCodePoint(...codes)),
        (value) => {
          const literal = smtString(value);
          expect(literal.startsWith('"') && literal.endsWith('"')).toBe(true);
          expect(decodeSmtString(literal.slice(1, -1))).toBe(value);
        },
      ),
    );
  });

  it('is read by Z3 as the same string, which comes back unchanged in a model', async () => {
    const session = await openSession('(declare-const tenant String)\n');
    for (const value of [
      'say "hi"',
      'back\\slash',
      '\\u{41}',
      'line\nbreak\ttab\0nul',
      'é😀\u202e\u2028',
      '""',
    ]) {
      const result = await session.check(`(= tenant ${smtString(value)})`, ['tenant']);
      expect(result.answer).toBe('sat');
      expect(result.values.get('tenant')).toEqual({ string: value });
    }
    // A doubled quote is one character: `a"b` has length 3 for Z3.
    const length = await session.check(`(and (= tenant ${smtString('a"b')}) (= (str.len tenant) 3))`, []);
    expect(length.answer).toBe('sat');
    const longer = await session.check(`(and (= tenant ${smtString('a"b')}) (= (str.len tenant) 4))`, []);
    expect(longer.answer).toBe('unsat');
  });
});

describe('decodeSmtString', () => {
  it('reads \\u{..} and \\uXXXX escapes and doubled quotes', () => {
    expect(decodeSmtString('\\u{41}\\u0042""')).toBe('AB"');
    expect(decodeSmtString('\\u{1f600}')).toBe('😀');
  });

  it('keeps a backslash that starts no escape as it is', () => {
    expect(decodeSmtString('a\\b')).toBe('a\\b');
    expect(decodeSmtString('\\u{zz}')).toBe('\\u{zz}');
    expect(decodeSmtString('\\u12')).toBe('\\u12');
    expect(decodeSmtString('end\\')).toBe('end\\');
    expect(decodeSmtString('lone"')).toBe('lone"');
  });
});

describe('smtReal', () => {
  it('writes integers, decimals and negatives as SMT-LIB reals', () => {
    expect(smtReal(0)).toBe('0.0');
    expect(smtReal(42)).toBe('42.0');
    expect(smtReal(2.5)).toBe('2.5');
    expect(smtReal(-3)).toBe('(- 3.0)');
    expect(smtReal(-0.25)).toBe('(- 0.25)');
  });

  it('writes numbers JavaScript prints with an exponent without it', () => {
    expect(smtReal(1e21)).toBe('1000000000000000000000.0');
    expect(smtReal(1e-7)).toBe('0.0000001');
    expect(smtReal(-1e-7)).toBe('(- 0.0000001)');
    expect(smtReal(1.5e-10)).toBe('0.00000000015');
    expect(smtReal(1.2345e25)).toBe('12345000000000000000000000.0');
    expect(smtReal(Number.MAX_VALUE)).toMatch(/^17976931348623157\d{292}\.0$/);
    expect(smtReal(Number.MIN_VALUE)).toBe(`0.${'0'.repeat(323)}5`);
  });

  it('keeps the digits JavaScript prints for any finite number (the value reads back)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = smtReal(value);
        expect(text).toMatch(/^(\(- )?\d+\.\d+\)?$/);
        const negative = text.startsWith('(- ');
        const magnitude = Number(negative ? text.slice(3, -1) : text);
        expect(negative ? -magnitude : magnitude).toBe(value === 0 ? (negative ? -0 : 0) : value);
      }),
    );
  });

  it('is read back by realValue after Z3 evaluates it', async () => {
    const session = await openSession('(declare-const arg_number Real)\n');
    for (const value of [0, 7, -7, 2.5, -0.125, 1e21, 1e-7, 1.5e-10, -2.5e30]) {
      const result = await session.check(`(= arg_number ${smtReal(value)})`, ['arg_number']);
      expect(result.answer).toBe('sat');
      expect(realValue(result.values.get('arg_number')!)).toBeCloseTo(value, 12);
    }
  });
});

describe('readSExpressions', () => {
  it('reads atoms, strings, nested lists and skips comments', () => {
    expect(
      readSExpressions('(define-fun x () String "a""b") ; a comment\n(f (g 1) "\\u{e9}")\natom'),
    ).toEqual([
      ['define-fun', 'x', [], 'String', { string: 'a"b' }],
      ['f', ['g', '1'], { string: 'é' }],
      'atom',
    ]);
  });

  it('refuses unbalanced parentheses either way', () => {
    expect(() => readSExpressions('(a (b)')).toThrow('unbalanced parenthesis in solver output');
    expect(() => readSExpressions('(a))')).toThrow('unbalanced parenthesis in solver output');
  });

  it('reads a string left open to the end of the text', () => {
    expect(readSExpressions('"open')).toEqual([{ string: 'open' }]);
  });
});

describe('realValue', () => {
  it('reads numerals, negations and fractions as Z3 prints them', () => {
    expect(realValue('1.5')).toBe(1.5);
    expect(realValue(['-', '2'])).toBe(-2);
    expect(realValue(['/', '1.0', '4.0'])).toBe(0.25);
    expect(realValue(['-', ['/', '1.0', '2.0']])).toBe(-0.5);
  });

  it('is NaN for anything else (a string literal, an unknown operator, a wrong arity)', () => {
    expect(realValue({ string: '1' })).toBeNaN();
    expect(realValue(['+', '1', '2'])).toBeNaN();
    expect(realValue(['-', '1', '2'])).toBeNaN();
    expect(realValue(['/', '1'])).toBeNaN();
    expect(realValue([])).toBeNaN();
  });
});
