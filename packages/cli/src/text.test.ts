import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTable, oneLine } from './text.js';

describe('oneLine', () => {
  it('joins a multi-line message into one line', () => {
    expect(oneLine('first\n  second\r\nthird')).toBe('first second third');
  });

  it('shows terminal control characters such as ANSI escapes as visible escapes', () => {
    expect(oneLine('bad \u001b[2Jname\u0007')).toBe('bad \\x1b[2Jname\\x07');
  });

  it('escapes a bidi override and a zero-width space, which could disguise a file name', () => {
    expect(oneLine('cannot read txt.\u202eexe\u200b')).toBe('cannot read txt.\\u202eexe\\u200b');
  });

  it('cuts very long messages, saying how much is left out', () => {
    expect(oneLine('x'.repeat(1000))).toBe(`${'x'.repeat(400)}… (600 more characters)`);
  });

  it('never returns a line break, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(oneLine(text)).not.toMatch(/[\n\r]/);
      }),
    );
  });
});

describe('formatTable', () => {
  it('pads every column but the last to its widest cell', () => {
    expect(
      formatTable([
        ['A', 'B', 'C'],
        ['long', 'x', 'tail'],
      ]),
    ).toEqual(['A     B  C', 'long  x  tail']);
  });
});
