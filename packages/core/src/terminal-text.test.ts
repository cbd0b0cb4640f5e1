import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApeError } from './errors.js';
import { DEFAULT_TERMINAL_TEXT_LENGTH, escapeTerminalText, quoteTerminalText } from './terminal-text.js';

/** Ranges of code points a terminal or a prompt could act on or hide: what must never get through. */
const DANGEROUS_RANGES: readonly (readonly [number, number])[] = [
  [0x00, 0x1f],
  [0x7f, 0xa0],
  [0xad, 0xad],
  [0x61c, 0x61c],
  [0x115f, 0x1160],
  [0x1680, 0x1680],
  [0x180e, 0x180e],
  [0x2000, 0x200f],
  [0x2028, 0x202f],
  [0x205f, 0x206f],
  [0x3000, 0x3000],
  [0x3164, 0x3164],
  [0xd800, 0xdfff],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
  [0xffa0, 0xffa0],
  [0xfff9, 0xfffb],
  [0xe0000, 0xe0fff],
];

function hasDangerous(text: string): boolean {
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    if (DANGEROUS_RANGES.some(([low, high]) => code >= low && code <= high)) return true;
  }
  return false;
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return ApeError.isInstance(error) ? error.code : 'NOT_AN_APE_ERROR';
  }
  return undefined;
}

describe('escapeTerminalText', () => {
  it.each([
    ['a line break', 'a\nb', 'a\\nb'],
    ['a carriage return', 'a\rb', 'a\\rb'],
    ['a tab', 'a\tb', 'a\\tb'],
    ['an ANSI colour sequence', '\u001b[31mred', '\\x1b[31mred'],
    ['the one-byte CSI', '\u009b2J', '\\x9b2J'],
    ['DEL', 'a\u007fb', 'a\\x7fb'],
    ['a bell', 'ding\u0007', 'ding\\x07'],
    ['a right-to-left override', '\u202eevil', '\\u202eevil'],
    ['a left-to-right embedding', '\u202aevil', '\\u202aevil'],
    ['a right-to-left isolate', '\u2067evil\u2069', '\\u2067evil\\u2069'],
    ['an Arabic letter mark', 'a\u061cb', 'a\\u061cb'],
    ['a line separator', 'a\u2028b', 'a\\u2028b'],
    ['a paragraph separator', 'a\u2029b', 'a\\u2029b'],
    ['a zero-width space', 'ssh\u200bkeys', 'ssh\\u200bkeys'],
    ['a zero-width joiner', 'a\u200db', 'a\\u200db'],
    ['a byte-order mark', '\ufeffa', '\\ufeffa'],
    ['a soft hyphen', 'pass\u00adwd', 'pass\\xadwd'],
    ['a no-break space', 'a\u00a0b', 'a\\xa0b'],
    ['an ideographic space', 'a\u3000b', 'a\\u3000b'],
    ['a Hangul filler', 'a\u3164b', 'a\\u3164b'],
    ['a variation selector', 'a\ufe0fb', 'a\\ufe0fb'],
    ['a tag character', 'a\u{e0041}b', 'a\\u{e0041}b'],
    ['a lone high surrogate', 'a\ud800b', 'a\\ud800b'],
    ['a lone low surrogate', 'a\udc00b', 'a\\udc00b'],
  ])('shows %s as a visible escape', (_name, text, shown) => {
    expect(escapeTerminalText(text)).toBe(shown);
  });

  it('leaves printable text, spaces, quotes, backslashes and astral characters as they are', () => {
    const text = 'C:\\work "dir" ~/.ssh/authorized_keys é 日本 😀';
    expect(escapeTerminalText(text)).toBe(text);
  });

  it('cuts escaped text at maxLength and says how many characters were not shown', () => {
    expect(escapeTerminalText('abcdefghij', { maxLength: 4 })).toBe('abcd… (6 more characters)');
    expect(escapeTerminalText('abcde', { maxLength: 4 })).toBe('abcd… (1 more character)');
    expect(escapeTerminalText('abcd', { maxLength: 4 })).toBe('abcd');
  });

  it('never cuts an escape or a surrogate pair in half, and counts code points', () => {
    expect(escapeTerminalText('ab\u001bcd', { maxLength: 4 })).toBe('ab… (3 more characters)');
    expect(escapeTerminalText('a😀😀', { maxLength: 2 })).toBe('a… (2 more characters)');
  });

  it(`shows ${DEFAULT_TERMINAL_TEXT_LENGTH} characters by default`, () => {
    const shown = escapeTerminalText('x'.repeat(1_000));
    expect(shown).toBe(`${'x'.repeat(DEFAULT_TERMINAL_TEXT_LENGTH)}… (800 more characters)`);
  });

  it('shows everything with maxLength Infinity', () => {
    const text = 'x'.repeat(10_000);
    expect(escapeTerminalText(text, { maxLength: Number.POSITIVE_INFINITY })).toBe(text);
  });

  it.each([0, -1, 1.5, Number.NaN, '10' as unknown as number])(
    'refuses maxLength %s with CONFIG_INVALID',
    (maxLength) => {
      expect(codeOf(() => escapeTerminalText('a', { maxLength }))).toBe('CONFIG_INVALID');
    },
  );

  it('never lets a dangerous character through and keeps the bound (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 120 }),
        fc.integer({ min: 1, max: 200 }),
        (text, max) => {
          const shown = escapeTerminalText(text, { maxLength: max });
          expect(hasDangerous(shown)).toBe(false);
          const body = shown.replace(/… \(\d+ more characters?\)$/, '');
          expect(body.length).toBeLessThanOrEqual(max);
        },
      ),
    );
  });
});

describe('quoteTerminalText', () => {
  it('quotes and escapes quotes and backslashes so the text maps back to one input', () => {
    expect(quoteTerminalText('say "hi"\\n')).toBe('"say \\"hi\\"\\\\n"');
    expect(quoteTerminalText('a\nb')).toBe('"a\\nb"');
  });

  it('puts the cut marker outside the quotes, where no input can put it', () => {
    expect(quoteTerminalText('abcdef', { maxLength: 3 })).toBe('"abc"… (3 more characters)');
    expect(quoteTerminalText('x"… (3 more characters)', { maxLength: 100 })).toBe(
      '"x\\"… (3 more characters)"',
    );
  });

  it('is reversible: JSON reads the quoted text back to the input when nothing is cut (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (text) => {
        const shown = quoteTerminalText(text, { maxLength: Number.POSITIVE_INFINITY });
        const asJson = shown
          .replace(/\\x([0-9a-f]{2})/g, '\\u00$1')
          .replace(/\\u\{([0-9a-f]+)\}/g, (_m, hex) => {
            const code = Number.parseInt(hex, 16) - 0x10000;
            const high = (0xd800 + (code >> 10)).toString(16);
            const low = (0xdc00 + (code & 0x3ff)).toString(16);
            return `\\u${high}\\u${low}`;
          });
        expect(JSON.parse(asJson)).toBe(text);
        expect(hasDangerous(shown)).toBe(false);
      }),
    );
  });
});
