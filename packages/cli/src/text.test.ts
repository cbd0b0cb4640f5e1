import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTable, oneLine } from './text.js';

describe('oneLine', () => {
  it('joins a multi-line message into one line', () => {
    expect(oneLine('first\n  second\r\nthird')).toBe('first second third');
  });

  it('drops terminal control characters such as ANSI escapes', () => {
    expect(oneLine('bad \u001b[2Jname\u0007')).toBe('bad [2Jname');
  });

  it('cuts very long messages with an ellipsis', () => {
    const text = oneLine('x'.repeat(1000));
    expect(text.length).toBe(400);
    expect(text.endsWith('…')).toBe(true);
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
