import { describe, expect, it } from 'vitest';
import { CommandFailure } from './command-failure.js';
import { parseJson, parseJsonObject } from './json-input.js';

describe('parseJson', () => {
  it('fails with exit 2 naming the flag on a syntax error', () => {
    expect(() => parseJson('{bad', '--args')).toThrow(CommandFailure);
    try {
      parseJson('{bad', '--args');
    } catch (error) {
      expect((error as CommandFailure).exitCode).toBe(2);
      expect((error as CommandFailure).message).toMatch(/^--args is not valid JSON/);
    }
  });

  it('keeps a "__proto__" key as an own property, never as a prototype', () => {
    const value = parseJsonObject('{"__proto__": {"polluted": true}}', '--args');
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('parseJsonObject', () => {
  it.each(['[]', '1', '"text"', 'null'])('refuses %s with exit 2', (text) => {
    try {
      parseJsonObject(text, '--args');
      expect.unreachable();
    } catch (error) {
      expect((error as CommandFailure).exitCode).toBe(2);
      expect((error as CommandFailure).message).toContain('must be a JSON object');
    }
  });
});
