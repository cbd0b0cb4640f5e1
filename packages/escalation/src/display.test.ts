import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasTerminalControl } from './__fixtures__/requests.js';
import { displayText, summariseArguments } from './display.js';

describe('displayText', () => {
  it.each([
    ['a line break', 'a\nb', 'a\\nb'],
    ['a carriage return', 'a\rb', 'a\\rb'],
    ['an ANSI colour sequence', '\u001b[31mred', '\\x1b[31mred'],
    ['the one-byte CSI', '\u009b2J', '\\x9b2J'],
    ['a bell', 'ding\u0007', 'ding\\x07'],
    ['a right-to-left override', '\u202eevil', '\\u202eevil'],
    ['a line separator', 'a\u2028b', 'a\\u2028b'],
  ])('shows %s as a visible escape', (_name, text, shown) => {
    expect(displayText(text, 100)).toBe(shown);
  });

  it('cuts long text, ending with a count of the characters not shown', () => {
    expect(displayText('abcdefghij', 5)).toBe('abcde… (5 more characters)');
    expect(displayText('abcde', 5)).toBe('abcde');
  });

  it('never lets a terminal control character through and respects the length limit (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 1, max: 200 }), (text, max) => {
        const shown = displayText(text, max);
        expect(hasTerminalControl(shown)).toBe(false);
        expect(shown.replace(/… \(\d+ more characters?\)$/, '').length).toBeLessThanOrEqual(max);
      }),
    );
  });
});

describe('summariseArguments', () => {
  it('says "(none)" for no arguments', () => {
    expect(summariseArguments({})).toEqual(['(none)']);
  });

  it('describes each kind of value without expanding nested ones', () => {
    expect(
      summariseArguments({
        s: 'x',
        n: 1.5,
        b: true,
        z: null,
        list: [1],
        object: { k: 1 },
        big: 10n as unknown,
      }),
    ).toEqual([
      's = "x"',
      'n = 1.5',
      'b = true',
      'z = null',
      'list = [array of 1]',
      'object = {object: k}',
      'big = <bigint>',
    ]);
  });

  it('shows at most five keys of a nested object', () => {
    const [line] = summariseArguments({ o: { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 } });
    expect(line).toBe('o = {object: a, b, c, d, e, …}');
  });

  it('reports arguments whose keys cannot be listed', () => {
    const args = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('trap');
        },
      },
    );
    expect(summariseArguments(args)).toEqual(['<unreadable arguments>']);
  });
});
