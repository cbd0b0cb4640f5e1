import { describe, expect, it } from 'vitest';
import type { CliIo } from './io.js';
import { createStyle, shouldUseColor } from './style.js';

function io(isTTY: boolean, env: Record<string, string> = {}): CliIo {
  return { stdout: { write: () => undefined, isTTY }, stderr: { write: () => undefined }, env };
}

describe('shouldUseColor', () => {
  it('colours a terminal', () => {
    expect(shouldUseColor(io(true), true)).toBe(true);
  });

  it('never colours a pipe or a file', () => {
    expect(shouldUseColor(io(false), true)).toBe(false);
  });

  it('respects NO_COLOR when it is set to anything but the empty string', () => {
    expect(shouldUseColor(io(true, { NO_COLOR: '1' }), true)).toBe(false);
    expect(shouldUseColor(io(true, { NO_COLOR: '' }), true)).toBe(true);
  });

  it('respects --no-color and TERM=dumb', () => {
    expect(shouldUseColor(io(true), false)).toBe(false);
    expect(shouldUseColor(io(true, { TERM: 'dumb' }), true)).toBe(false);
  });
});

describe('createStyle', () => {
  it('returns text unchanged when colour is off', () => {
    expect(createStyle(false).red('DENY')).toBe('DENY');
  });

  it('wraps text in ANSI codes when colour is on', () => {
    expect(createStyle(true).green('ALLOW')).toBe('\u001b[32mALLOW\u001b[39m');
  });
});
