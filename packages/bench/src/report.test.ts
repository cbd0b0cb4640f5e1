import { describe, expect, it } from 'vitest';
import { formatDuration } from './report.js';

describe('formatDuration', () => {
  it.each([
    [0.25, '250 ns'],
    [3.456, '3.46 µs'],
    [123.4, '123.4 µs'],
    [2_500, '2.50 ms'],
    [125_000, '125.0 ms'],
    [5_480_000, '5.48 s'],
    [-6_754.761, '-6.75 ms'],
    [-0.5, '-500 ns'],
    [Number.NaN, '-'],
  ])('formats %f µs as %s', (microseconds, text) => {
    expect(formatDuration(microseconds)).toBe(text);
  });
});
